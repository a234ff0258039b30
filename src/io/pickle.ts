// A restricted unpickler for the binary pickle protocols (2 to 5). It builds plain values
// (None, bool, int, float, str, bytes, tuple, list, dict) itself and never imports or calls
// anything: GLOBAL, REDUCE, BUILD and persistent ids are handed to hooks that decide what is
// allowed. Opcodes that create arbitrary objects (INST, OBJ, NEWOBJ, EXT*) are rejected.

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict with str/int/bool/None keys, in insertion order. */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
}

/** A global (module.name) that the hooks allowed; what it means is up to them. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object made by a hook (a tensor, a storage reference...). */
export class PyOpaque<T = unknown> {
  constructor(readonly kind: string, readonly value: T) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue = PyKey | Uint8Array | PyTuple | PyValue[] | PyDict | PyGlobal | PyOpaque;

export interface UnpicklerHooks {
  /** GLOBAL / STACK_GLOBAL: return the value standing for module.name, or throw to forbid it. */
  findGlobal(module: string, name: string): PyValue;
  /** REDUCE: apply `callable` to `args`. */
  call(callable: PyValue, args: PyValue[]): PyValue;
  /** BINPERSID / PERSID: resolve an out-of-band reference. */
  persistentLoad(pid: PyValue): PyValue;
  /** BUILD: set `state` on `obj`; returns the (possibly new) object. */
  build(obj: PyValue, state: PyValue): PyValue;
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

function isKey(v: PyValue): v is PyKey {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** Two's-complement little-endian integer of `bytes` (LONG1/LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Unpickles `data` with the given hooks. Errors are PickleErrors naming the opcode and offset. */
export function unpickle(data: Uint8Array, hooks: UnpicklerHooks): PyValue {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let stack: StackItem[] = [];
  const metastack: StackItem[][] = [];
  const memo = new Map<number, PyValue>();
  let opPos = 0;

  const fail = (msg: string): never => {
    throw new PickleError(`${msg} (at byte ${opPos})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) fail(`truncated pickle: ${n} more bytes needed`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = data.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = (): number => { need(1); return data[pos++]!; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = (): number => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) fail(`length ${v} exceeds the pickle's size`);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: unterminated line');
    const s = new TextDecoder('latin1').decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const bytes = take(n);
    try {
      return utf8.decode(bytes);
    } catch {
      return fail('invalid UTF-8 in a string');
    }
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) return fail('stack underflow');
    if (v === MARK) return fail('unexpected MARK on the stack');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined) return fail('stack underflow');
    if (v === MARK) return fail('unexpected MARK on the stack');
    return v;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return fail('no MARK to pop to');
    stack = prev;
    if (items.some((v) => v === MARK)) fail('nested MARK');
    return items as PyValue[];
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (!isKey(k)) fail('dict key must be a str, int, bool or None');
      (dict as PyDict).map.set(k as PyKey, items[i + 1]!);
    }
  };
  const appendItems = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) fail('APPEND(S) on something that is not a list');
    (list as PyValue[]).push(...items);
  };
  const memoGet = (idx: number): PyValue => {
    if (!memo.has(idx)) fail(`memo key ${idx} is not defined`);
    return memo.get(idx)!;
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v < 2 || v > 5) fail(`pickle protocol ${v} is not supported (2 to 5 are)`);
        break;
      }
      case 0x95: u64(); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        const result = pop();
        return result;
      }
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x47: { need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x55: stack.push(new TextDecoder('latin1').decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x54: { // BINSTRING
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(new TextDecoder('latin1').decode(take(n)));
        break;
      }
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PyTuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PyTuple([a, b, c])); break; }
      case 0x74: { const t = new PyTuple(popMark()); stack.push(t); break; } // TUPLE (popMark swaps `stack`)
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { const l = popMark(); stack.push(l); break; } // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(hooks.findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!(args instanceof PyTuple)) fail('REDUCE arguments must be a tuple');
        stack.push(hooks.call(callable, (args as PyTuple).items));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = pop();
        stack.push(hooks.build(obj, state));
        break;
      }
      case 0x51: stack.push(hooks.persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(hooks.persistentLoad(line())); break; // PERSID
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: { // PUT
        const idx = Number.parseInt(line(), 10);
        if (!Number.isSafeInteger(idx)) fail('bad PUT index');
        memo.set(idx, top());
        break;
      }
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(Number.parseInt(line(), 10))); break; // GET
      default: {
        const name = OPCODE_NAMES[op];
        fail(name ? `pickle opcode ${name} is not allowed` : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}
