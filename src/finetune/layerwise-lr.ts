// Layer-wise learning-rate decay from parameter names, as the reference's _get_layer_lrs:
// embeddings (and embeddings_project) depth 0, encoder layer i depth i + 1, task head n + 2;
// lr = base * decay^(n + 2 - depth). The head sits at n + 2 because of a pooler the reference
// once had, so the top layer gets decay^2 (issue #51); `fixTop` puts the head at n + 1.

export interface LayerwiseLrOptions {
  /** Encoder layers of the model. */
  numLayers: number;
  /** layerwise_lr_decay; a value <= 0 disables the decay (every scale is 1). */
  decay: number;
  /** layerwise_lr_decay_fix_top: head at depth n + 1 so the top layer gets decay^1. */
  fixTop?: boolean;
}

const EMBEDDINGS = /(?:^|\.)embeddings(?:_project)?\./;
const ENCODER_LAYER = /(?:^|\.)encoder\.layer\.(\d+)\./;
const BACKBONE_PREFIX = /^electra\./;

/** Depth of a parameter given its HuggingFace-style name (e.g. electra.encoder.layer.3.output.dense.weight). */
export function layerDepth(name: string, numLayers: number, fixTop = false): number {
  if (EMBEDDINGS.test(name)) return 0;
  const layer = ENCODER_LAYER.exec(name);
  if (layer) {
    const i = Number(layer[1]);
    if (i >= numLayers) throw new Error(`parameter ${name}: layer ${i} but the model has ${numLayers} layers`);
    return i + 1;
  }
  if (BACKBONE_PREFIX.test(name)) throw new Error(`parameter ${name}: no layer-wise learning rate for this part of the encoder`);
  return fixTop ? numLayers + 1 : numLayers + 2;
}

/** The factor on the base learning rate for a parameter. */
export function layerwiseLrScale(name: string, opts: LayerwiseLrOptions): number {
  if (!(opts.decay > 0)) return 1;
  const top = opts.fixTop ? opts.numLayers + 1 : opts.numLayers + 2;
  return opts.decay ** (top - layerDepth(name, opts.numLayers, opts.fixTop));
}

/** Scales for many parameters, in order. */
export function layerwiseLrScales(names: readonly string[], opts: LayerwiseLrOptions): number[] {
  return names.map((n) => layerwiseLrScale(n, opts));
}
