// Snappy block decompression (the raw format LevelDB tables use for compressed blocks):
// a varint uncompressed length, then literals and back-references.

const MAX_BYTES_PER_COPY = 64;
const COPY2_BYTES = 3;

export class SnappyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnappyError';
  }
}

export function snappyUncompress(src: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new SnappyError('bad uncompressed-length varint');
    const b = src[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length > 0xffffffff) throw new SnappyError('uncompressed length too large');
  // The densest element, a 3-byte copy, yields 64 bytes: a larger stated length is a lie, refused
  // before the output is allocated.
  const most = Math.ceil(((src.length - pos) * MAX_BYTES_PER_COPY) / COPY2_BYTES);
  if (length > most) throw new SnappyError(`stated length ${length} is more than ${src.length - pos} compressed bytes can hold (at most ${most})`);
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > src.length) throw new SnappyError('truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > src.length) throw new SnappyError('truncated literal');
      if (op + len > length) throw new SnappyError('literal overflows the stated length');
      out.set(src.subarray(pos, pos + len), op);
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > src.length) throw new SnappyError('truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > src.length) throw new SnappyError('truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > src.length) throw new SnappyError('truncated copy');
      len = (tag >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > op) throw new SnappyError(`copy offset ${offset} is outside the ${op} bytes written`);
    if (op + len > length) throw new SnappyError('copy overflows the stated length');
    // Byte by byte: a copy may overlap its own output (offset < len repeats a pattern).
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== length) throw new SnappyError(`decompressed ${op} bytes but the header says ${length}`);
  return out;
}
