// Parameter registry: every parameter is a named slice of one flat arena, with a gradient
// slice at the same offset of a second arena, so the optimizer and gradient clipping each
// work on the whole model in one call.
import { allocFloats, type DType } from './tensor.js';
import { Rng } from './random.js';

/** How a parameter is initialized (mirroring the reference's TF initializers). */
export type Init =
  | { kind: 'truncatedNormal'; std: number }
  /** TF's default for tf.layers.dense without an initializer: U(+-sqrt(6 / (fanIn + fanOut))). */
  | { kind: 'glorotUniform' }
  | { kind: 'zeros' }
  | { kind: 'ones' };

/** Which HuggingFace model a parameter belongs to in an exported checkpoint, and its name there. */
export interface HfName {
  model: 'generator' | 'discriminator';
  name: string;
}

export interface ParamRef {
  /** Unique name within the set. */
  readonly name: string;
  /** [out, in] for linear weights, [rows, dim] for embedding tables, [n] for vectors. */
  readonly shape: readonly number[];
  readonly size: number;
  /** Element offset in the arenas. */
  readonly offset: number;
  readonly init: Init;
  /** Decoupled weight decay applies (false for LayerNorm weights and all biases). */
  readonly decay: boolean;
  /** Names in HuggingFace checkpoints; a shared parameter is written to several models. */
  readonly hfNames: readonly HfName[];
  /** View into the parameter arena (empty until allocate). */
  value: Float32Array;
  /** View into the gradient arena (empty until allocate). */
  grad: Float32Array;
  /** The set it belongs to: its valuesVersion tells derived copies (bf16 packs) when values changed. */
  readonly set: { readonly valuesVersion: number };
}

export interface DeclareOptions {
  /** Defaults to the reference's rule: no decay for names containing LayerNorm or bias. */
  decay?: boolean;
  hfNames?: readonly HfName[];
}

/** The reference's exclude_from_weight_decay = ["LayerNorm", "layer_norm", "bias"], on HF names. */
export function decaysByName(name: string): boolean {
  return !/LayerNorm|layer_norm|bias/.test(name);
}

export class ParameterSet {
  readonly entries: ParamRef[] = [];
  /** Views spanning several consecutive parameters (not entries: nothing is counted twice). */
  private readonly spans: ParamRef[] = [];
  private readonly byName = new Map<string, ParamRef>();
  private total = 0;
  private reusing = false;
  private paramArena: Float32Array | null = null;
  private gradArena: Float32Array | null = null;
  /**
   * Bumped by whatever rewrites parameter values in place (initialize, copyValuesFrom, the
   * optimizer, checkpoint loads): copies derived from the values (a layer's bf16 weight packs)
   * are rebuilt when it moves.
   */
  valuesVersion = 0;

  /** Marks the values as changed (see valuesVersion). */
  valuesChanged(): void {
    this.valuesVersion++;
  }

  /** Registers a parameter; its views become valid after allocate(). */
  declare(name: string, shape: readonly number[], init: Init, opts: DeclareOptions = {}): ParamRef {
    if (this.paramArena) throw new Error(`declare(${name}) after allocate()`);
    const existing = this.byName.get(name);
    if (existing && this.reusing) {
      if (existing.shape.length !== shape.length || existing.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`reused parameter ${name} is [${existing.shape.join(', ')}], not [${shape.join(', ')}]`);
      }
      (existing.hfNames as HfName[]).push(...(opts.hfNames ?? []).filter((h) => !existing.hfNames.some((e) => e.model === h.model && e.name === h.name)));
      return existing;
    }
    if (existing) throw new Error(`duplicate parameter ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const ref: ParamRef = {
      name,
      shape: [...shape],
      size,
      offset: this.total,
      init,
      decay: opts.decay ?? decaysByName(name),
      hfNames: [...(opts.hfNames ?? [])],
      value: new Float32Array(0),
      grad: new Float32Array(0),
      set: this,
    };
    this.total += size;
    this.entries.push(ref);
    this.byName.set(name, ref);
    return ref;
  }

  /**
   * Runs `declare` calls that return the parameter already declared under the same name (TF's
   * variable-scope reuse), adding their HF names to it: layers built in `build` share its weights.
   */
  reuse<T>(build: () => T): T {
    this.reusing = true;
    try {
      return build();
    } finally {
      this.reusing = false;
    }
  }

  get size(): number {
    return this.total;
  }

  get(name: string): ParamRef {
    const ref = this.byName.get(name);
    if (!ref) throw new Error(`unknown parameter ${name}`);
    return ref;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Allocates both arenas (zeroed) and points every ParamRef at its slices. With `shareWith`, a set
   * of the same layout, the arenas are that set's: a model rebuilt at a larger activation shape keeps
   * its parameters without a copy.
   */
  allocate(dtype: DType = 'float32', shareWith?: ParameterSet): void {
    if (this.paramArena) throw new Error('allocate() called twice');
    if (shareWith) {
      const same = shareWith.total === this.total && shareWith.entries.length === this.entries.length
        && shareWith.entries.every((e, i) => e.name === this.entries[i]!.name && e.offset === this.entries[i]!.offset);
      if (!same) throw new Error('allocate: the shared parameter set has another layout');
    }
    this.paramArena = shareWith ? shareWith.params : allocFloats(this.total, dtype);
    this.gradArena = shareWith ? shareWith.grads : allocFloats(this.total, dtype);
    for (const ref of [...this.entries, ...this.spans]) {
      ref.value = this.paramArena.subarray(ref.offset, ref.offset + ref.size);
      ref.grad = this.gradArena.subarray(ref.offset, ref.offset + ref.size);
    }
  }

  /**
   * One view over parameters declared back to back (e.g. the query, key and value weights
   * as a single [3H, H] matrix, so they run as one GEMM). Its views are set by allocate().
   */
  span(name: string, parts: readonly ParamRef[], shape: readonly number[]): ParamRef {
    if (this.paramArena) throw new Error(`span(${name}) after allocate()`);
    let offset = parts[0]!.offset;
    for (const part of parts) {
      if (part.offset !== offset) throw new Error(`span(${name}): ${part.name} is not contiguous with the previous part`);
      offset += part.size;
    }
    const size = offset - parts[0]!.offset;
    if (shape.reduce((a, b) => a * b, 1) !== size) throw new Error(`span(${name}): shape does not cover ${size} elements`);
    const ref: ParamRef = {
      name, shape: [...shape], size, offset: parts[0]!.offset, init: parts[0]!.init, decay: parts[0]!.decay, hfNames: [],
      value: new Float32Array(0), grad: new Float32Array(0), set: this,
    };
    this.spans.push(ref);
    return ref;
  }

  get params(): Float32Array {
    if (!this.paramArena) throw new Error('parameters not allocated');
    return this.paramArena;
  }

  get grads(): Float32Array {
    if (!this.gradArena) throw new Error('parameters not allocated');
    return this.gradArena;
  }

  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** Fills every parameter from its initializer, one seeded stream per parameter (order-independent). */
  initialize(seed: number): void {
    this.valuesChanged();
    const master = new Rng(seed);
    for (const ref of this.entries) {
      const rng = new Rng(master.fork());
      const v = ref.value;
      switch (ref.init.kind) {
        case 'zeros':
          v.fill(0);
          break;
        case 'ones':
          v.fill(1);
          break;
        case 'truncatedNormal':
          for (let i = 0; i < v.length; i++) v[i] = rng.truncatedNormal(ref.init.std);
          break;
        case 'glorotUniform': {
          if (ref.shape.length !== 2) throw new Error(`glorotUniform needs a matrix: ${ref.name}`);
          const limit = Math.sqrt(6 / (ref.shape[0]! + ref.shape[1]!));
          for (let i = 0; i < v.length; i++) v[i] = (rng.uniform() * 2 - 1) * limit;
          break;
        }
      }
    }
  }

  /** Per-element decay mask for AdamW: 1 where the parameter decays. */
  decayMask(): Uint8Array {
    const mask = new Uint8Array(this.total);
    for (const ref of this.entries) if (ref.decay) mask.fill(1, ref.offset, ref.offset + ref.size);
    return mask;
  }

  /** The parameters a HuggingFace model checkpoint holds, with their names there. */
  hfStateDict(model: HfName['model']): { name: string; ref: ParamRef }[] {
    const out: { name: string; ref: ParamRef }[] = [];
    for (const ref of this.entries) for (const h of ref.hfNames) if (h.model === model) out.push({ name: h.name, ref });
    return out;
  }

  /** Copies parameter values from another set with the same layout (e.g. float32 -> float64 copy). */
  copyValuesFrom(other: ParameterSet): void {
    if (other.total !== this.total || other.entries.length !== this.entries.length) {
      throw new Error('copyValuesFrom: layouts differ');
    }
    this.params.set(other.params);
    this.valuesChanged();
  }
}

/** Where a module's parameters go: its canonical name prefix and its HF name prefix per model. */
export class Scope {
  constructor(
    /** Canonical name prefix in the ParameterSet (unique across the whole set). */
    readonly name: string,
    /** Name prefix inside the HF checkpoints. */
    readonly hfName: string,
    /** The HF models that hold these parameters. */
    readonly models: readonly HfName['model'][],
  ) {}

  child(suffix: string): Scope {
    return new Scope(join(this.name, suffix), join(this.hfName, suffix), this.models);
  }

  /** This scope's name in each of its HF models (for a parameter declared at this scope). */
  hfNames(): HfName[] {
    return this.models.map((model) => ({ model, name: this.hfName }));
  }
}

function join(a: string, b: string): string {
  return a === '' ? b : `${a}.${b}`;
}
