// pytorch_model.bin (torch.save's zip format, PyTorch >= 1.6): <archive>/data.pkl is a pickled
// state dict whose tensors reference storages by persistent id ('storage', torch.FloatStorage,
// key, location, numel); storage bytes are the entries <archive>/data/<key>. Only the globals a
// state-dict pickle uses are allowed; anything else is rejected by name before it could run.
import { FormatError } from '../errors.js';
import { decodeToFloat32, dtypeBytes, numel, type NumericDtype } from './dtype.js';
import { PickleError, PyDict, PyGlobal, PyOpaque, PyTuple, unpickle, type PyValue, type UnpicklerHooks } from './pickle.js';
import { ZipReader } from './zip.js';
import { RandomAccessFile } from './files.js';
import type { TensorMap } from './tensor.js';

/** A state dict's pickle holds names and shapes only: a few hundred bytes a tensor. */
const MAX_PICKLE_BYTES = 256 << 20;

const STORAGE_DTYPES: Record<string, NumericDtype> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Callables a state-dict pickle may reduce with. */
const ALLOWED_CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
]);
/** Types that appear only as arguments (of _rebuild_from_type_v2). */
const ALLOWED_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

interface StorageRef {
  key: string;
  dtype: NumericDtype;
  storageClass: string;
  numel: number;
}

interface TensorRef {
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

function isIntList(v: PyValue): v is PyTuple {
  return v instanceof PyTuple && v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);
}

function stateDictHooks(file: string): UnpicklerHooks {
  const fail = (msg: string): never => {
    throw new FormatError(file, msg);
  };
  const asTensor = (v: PyValue, what: string): PyOpaque<TensorRef> => {
    if (v instanceof PyOpaque && v.kind === 'tensor') return v as PyOpaque<TensorRef>;
    return fail(`${what} expects a tensor`);
  };
  return {
    findGlobal(module, name) {
      const qualified = `${module}.${name}`;
      if (module === 'torch' && name in STORAGE_DTYPES) return new PyGlobal(module, name);
      if (ALLOWED_CALLABLES.has(qualified) || ALLOWED_TYPES.has(qualified)) return new PyGlobal(module, name);
      return fail(
        `data.pkl refers to the forbidden global '${qualified}': a state dict may only use tensor storages, ` +
          `collections.OrderedDict and torch's tensor rebuild functions (refusing to load a pickle that could run code)`,
      );
    },
    persistentLoad(pid) {
      if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
        return fail('data.pkl has a persistent id that is not a (storage, type, key, location, numel) record');
      }
      const [, type, key, , count] = pid.items;
      if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
        return fail(`data.pkl has a storage of unsupported type ${type instanceof PyGlobal ? type.qualifiedName : String(type)}`);
      }
      if (typeof key !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        return fail('data.pkl has a malformed storage record');
      }
      const ref: StorageRef = { key, dtype: STORAGE_DTYPES[type.name]!, storageClass: type.name, numel: count };
      return new PyOpaque('storage', ref);
    },
    call(callable, args) {
      if (!(callable instanceof PyGlobal) || !ALLOWED_CALLABLES.has(callable.qualifiedName)) {
        return fail(`data.pkl calls ${callable instanceof PyGlobal ? `'${callable.qualifiedName}'` : 'a non-callable value'}, which is not allowed`);
      }
      switch (callable.qualifiedName) {
        case 'collections.OrderedDict': {
          const d = new PyDict();
          if (args.length === 0) return d;
          const items = args[0];
          if (args.length === 1 && Array.isArray(items)) {
            for (const pair of items) {
              if (!(pair instanceof PyTuple) || pair.items.length !== 2 || typeof pair.items[0] !== 'string') {
                return fail('OrderedDict() items must be (str, value) pairs');
              }
              d.map.set(pair.items[0], pair.items[1]!);
            }
            return d;
          }
          return fail('OrderedDict() called with unexpected arguments');
        }
        case 'torch._utils._rebuild_tensor_v2': {
          const [storage, offset, size, stride] = args;
          if (args.length < 6 || args.length > 7 || !(storage instanceof PyOpaque) || storage.kind !== 'storage' ||
            typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || !isIntList(size!) || !isIntList(stride!) ||
            size.items.length !== stride.items.length) {
            return fail('data.pkl has a malformed _rebuild_tensor_v2 call');
          }
          const ref: TensorRef = {
            storage: storage.value as StorageRef, offset, size: size.items as number[], stride: stride.items as number[],
          };
          return new PyOpaque('tensor', ref);
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return asTensor(args[0]!, callable.name);
        case 'torch._tensor._rebuild_from_type_v2': {
          const [func, type, inner] = args;
          if (!(type instanceof PyGlobal) || !ALLOWED_TYPES.has(type.qualifiedName) || !(inner instanceof PyTuple)) {
            return fail('data.pkl has a _rebuild_from_type_v2 call for a type other than Tensor or Parameter');
          }
          return asTensor(this.call(func!, inner.items), '_rebuild_from_type_v2');
        }
      }
      return fail(`unhandled callable ${callable.qualifiedName}`);
    },
    build(obj, _state) {
      // OrderedDict state is the module `_metadata` (versions); tensor state is Python attributes.
      // Neither carries weights, so both are dropped.
      if (obj instanceof PyDict || (obj instanceof PyOpaque && obj.kind === 'tensor')) return obj;
      return fail('data.pkl sets state on an object that is not a dict or tensor');
    },
  };
}

export interface TorchStateDict {
  tensors: TensorMap;
  /** The storage dtype of each tensor ('float32', 'float16', ...). */
  dtypes: Map<string, NumericDtype>;
}

function checkSignature(path: string): void {
  const f = new RandomAccessFile(path);
  try {
    const head = f.size >= 4 ? f.read(0, 4, 'the file signature') : new Uint8Array(0);
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return;
    if (head[0] === 0x80) {
      throw new FormatError(path, 'this is the legacy (PyTorch < 1.6) torch.save format, which is not supported; re-save it with a current PyTorch or convert it to safetensors');
    }
    throw new FormatError(path, 'not a PyTorch zip checkpoint (no zip signature)');
  } finally {
    f.close();
  }
}

/** Reads a PyTorch state dict (pytorch_model.bin) into float32 tensors. */
export function readTorchStateDict(path: string, options: { filter?: (name: string) => boolean } = {}): TorchStateDict {
  checkSignature(path);
  const zip = new ZipReader(path);
  try {
    const pkl = [...zip.entries.keys()].filter((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
    if (pkl.length === 0) {
      const script = [...zip.entries.keys()].some((n) => n.endsWith('/constants.pkl'));
      throw new FormatError(path, script ? 'this is a TorchScript archive, not a state dict' : 'no data.pkl in the archive (not a torch.save file)');
    }
    pkl.sort((a, b) => a.length - b.length);
    const pklName = pkl[0]!;
    const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
    const byteorder = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`, undefined, undefined, { maxBytes: 64 })).trim() : 'little';
    if (byteorder !== 'little') throw new FormatError(path, `big-endian checkpoints (byteorder '${byteorder}') are not supported`);

    let root: PyValue;
    try {
      root = unpickle(zip.read(pklName, pklName, undefined, { maxBytes: MAX_PICKLE_BYTES }), stateDictHooks(path));
    } catch (err) {
      if (err instanceof PickleError) throw new FormatError(path, `${pklName}: ${err.message}`);
      throw err;
    }
    if (!(root instanceof PyDict)) throw new FormatError(path, 'data.pkl does not hold a state dict (a dict of tensors)');

    const storageBytes = new Map<string, Uint8Array>();
    const tensors: TensorMap = new Map();
    const dtypes = new Map<string, NumericDtype>();
    for (const [key, value] of root.map) {
      if (typeof key !== 'string') throw new FormatError(path, `state dict key ${String(key)} is not a string`);
      if (!(value instanceof PyOpaque) || value.kind !== 'tensor') {
        throw new FormatError(path, `state dict entry '${key}' is not a tensor`, key);
      }
      if (options.filter && !options.filter(key)) continue;
      const ref = value.value as TensorRef;
      const s = ref.storage;
      let bytes = storageBytes.get(s.key);
      if (!bytes) {
        // Checked against the declared size before the entry is read or inflated.
        const want = s.numel * dtypeBytes[s.dtype];
        const what = `storage data/${s.key} of tensor '${key}' (${s.numel} x ${s.storageClass})`;
        bytes = zip.read(`${prefix}data/${s.key}`, what, key, { expectedBytes: want });
        storageBytes.set(s.key, bytes);
      }
      tensors.set(key, { shape: ref.size.slice(), data: materialize(path, key, ref, bytes) });
      dtypes.set(key, s.dtype);
    }
    return { tensors, dtypes };
  } finally {
    zip.close();
  }
}

/** Copies a (possibly strided) view out of its storage as a contiguous float32 array. */
function materialize(file: string, name: string, ref: TensorRef, storage: Uint8Array): Float32Array {
  const { size, stride, offset } = ref;
  const count = numel(size);
  const elem = dtypeBytes[ref.storage.dtype];
  if (count === 0) return new Float32Array(0);
  let span = 1;
  for (let d = 0; d < size.length; d++) span += (size[d]! - 1) * stride[d]!;
  if (offset + span > ref.storage.numel) {
    throw new FormatError(file, `tensor '${name}' reaches element ${offset + span} of a storage holding ${ref.storage.numel}`, name);
  }
  const window = decodeToFloat32(storage.subarray(offset * elem, (offset + span) * elem), ref.storage.dtype, span);
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d]!;
  }
  if (contiguous) return span === count ? window : window.slice(0, count);
  const out = new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = 0;
    for (let d = 0; d < size.length; d++) src += index[d]! * stride[d]!;
    out[i] = window[src]!;
    for (let d = size.length - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}
