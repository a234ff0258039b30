// Strict UTF-8 decoding: bytes that are not UTF-8 are an error naming the line and byte,
// not U+FFFD replacement characters slipped into the data.

/** Thrown by decodeUtf8Strict; line and byteOffset locate the first bad byte. */
export class InvalidUtf8Error extends Error {
  constructor(readonly source: string, readonly line: number, readonly byteOffset: number) {
    super(`${source}:${line}: invalid UTF-8 at byte offset ${byteOffset}; expected UTF-8 text (re-save the file as UTF-8)`);
    this.name = 'InvalidUtf8Error';
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
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
    const at = Math.max(0, firstInvalidByte(bytes));
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
    throw new InvalidUtf8Error(source, line, at);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
