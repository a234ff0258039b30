// Strict UTF-8 decoding: bytes that are not UTF-8 are an error naming the line and byte,
// not U+FFFD replacement characters slipped into the data.

/** Thrown by decodeUtf8Strict; line and byteOffset locate the first bad byte. */
export class InvalidUtf8Error extends Error {
  constructor(readonly source: string, readonly line: number, readonly byteOffset: number) {
    super(`${source}:${line}: invalid UTF-8 at byte offset ${byteOffset}; expected UTF-8 text (re-save the file as UTF-8)`);
    this.name = 'InvalidUtf8Error';
  }
}

/** Index of the first byte that breaks strict UTF-8 (no overlongs, surrogates or > U+10FFFF), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = i + k < n ? bytes[i + k]! : -1;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

const strict = new TextDecoder('utf-8', { fatal: true });

/** The text of UTF-8 bytes (a leading byte-order mark dropped); invalid bytes throw InvalidUtf8Error. */
export function decodeUtf8Strict(bytes: Uint8Array, source: string): string {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    const at = Math.max(0, firstInvalidUtf8(bytes));
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
    throw new InvalidUtf8Error(source, line, at);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
