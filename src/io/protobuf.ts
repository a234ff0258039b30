// Just enough protobuf wire-format decoding for TensorBundle's protos: fields by number,
// varints (as bigint, to keep int64 exact), length-delimited bytes and fixed32/fixed64.

export type ProtoField =
  | { wire: 0; value: bigint }
  | { wire: 1; value: bigint }
  | { wire: 2; value: Uint8Array }
  | { wire: 5; value: number };

export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoError';
  }
}

/** Reads an unsigned LEB128 varint (at most 10 bytes) at `pos`; returns [value, next position]. */
export function readVarint(bytes: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new ProtoError('truncated varint');
    const b = bytes[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), pos];
    shift += 7n;
  }
  throw new ProtoError('varint longer than 10 bytes');
}

/** Decodes one message into its fields, grouped by field number in wire order. */
export function decodeMessage(bytes: Uint8Array): Map<number, ProtoField[]> {
  const fields = new Map<number, ProtoField[]>();
  let pos = 0;
  while (pos < bytes.length) {
    const [tag, p1] = readVarint(bytes, pos);
    pos = p1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw new ProtoError('field number 0');
    let value: ProtoField;
    if (wire === 0) {
      const [v, p2] = readVarint(bytes, pos);
      pos = p2;
      value = { wire: 0, value: v };
    } else if (wire === 1) {
      if (pos + 8 > bytes.length) throw new ProtoError('truncated fixed64');
      value = { wire: 1, value: new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getBigUint64(0, true) };
      pos += 8;
    } else if (wire === 2) {
      const [len, p2] = readVarint(bytes, pos);
      if (len > BigInt(bytes.length - p2)) throw new ProtoError(`field ${field}: length ${len} runs past the message`);
      value = { wire: 2, value: bytes.subarray(p2, p2 + Number(len)) };
      pos = p2 + Number(len);
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) throw new ProtoError('truncated fixed32');
      value = { wire: 5, value: new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true) };
      pos += 4;
    } else {
      throw new ProtoError(`unsupported wire type ${wire} for field ${field}`);
    }
    let list = fields.get(field);
    if (!list) fields.set(field, (list = []));
    list.push(value);
  }
  return fields;
}

function last(fields: Map<number, ProtoField[]>, n: number): ProtoField | undefined {
  const list = fields.get(n);
  return list?.[list.length - 1];
}

/** A scalar integer field (last occurrence wins, as in protobuf), as a signed 64-bit value. */
export function intField(fields: Map<number, ProtoField[]>, n: number, fallback = 0n): bigint {
  const f = last(fields, n);
  if (!f) return fallback;
  if (f.wire === 0 || f.wire === 1) return BigInt.asIntN(64, f.value);
  if (f.wire === 5) return BigInt(f.value);
  throw new ProtoError(`field ${n} should be an integer`);
}

export function fixed32Field(fields: Map<number, ProtoField[]>, n: number): number | undefined {
  const f = last(fields, n);
  if (!f) return undefined;
  if (f.wire !== 5) throw new ProtoError(`field ${n} should be fixed32`);
  return f.value;
}

export function bytesFields(fields: Map<number, ProtoField[]>, n: number): Uint8Array[] {
  return (fields.get(n) ?? []).map((f) => {
    if (f.wire !== 2) throw new ProtoError(`field ${n} should be length-delimited`);
    return f.value;
  });
}

export function messageField(fields: Map<number, ProtoField[]>, n: number): Map<number, ProtoField[]> | undefined {
  const list = bytesFields(fields, n);
  if (list.length === 0) return undefined;
  // Repeated occurrences of an embedded message merge; a single one is the common case.
  const merged = new Map<number, ProtoField[]>();
  for (const b of list) for (const [k, v] of decodeMessage(b)) merged.set(k, [...(merged.get(k) ?? []), ...v]);
  return merged;
}
