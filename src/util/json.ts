// JSON.parse with errors a user can act on: the source, the line and column, what went wrong.
// V8's messages give an offset for some mistakes and none for others ("Unexpected token"), so on
// failure a small scanner finds where the text stops being JSON.

/** Line and column (1-based, in UTF-16 units) of a string offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

class JsonScanError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/** Offset and reason of the first JSON syntax error in `text` (RFC 8259), or null if it is valid. */
export function findJsonError(text: string): { offset: number; reason: string } | null {
  let i = 0;
  const fail = (reason: string): never => {
    throw new JsonScanError(i, i >= text.length ? 'the text ends early (unclosed object, array or string?)' : reason);
  };
  const found = (): string => (i >= text.length ? 'the end' : JSON.stringify(text[i]));
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${JSON.stringify(/^\w+/.exec(text.slice(i))?.[0] ?? text[i])} (strings need double quotes)`);
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('a control character (e.g. a raw newline or tab) inside a string: write it as \\n or \\t');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a \\u escape needs 4 hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`invalid escape \\${e ?? ''} in a string`);
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') fail(`unexpected ${found()}`);
    i += m![0].length;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a "quoted" property name, found ${found()}${text[i] === '}' ? ' (a trailing comma?)' : ''}`);
        string();
        space();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${found()}`);
        i++;
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after a property value, found ${found()}`);
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ',') {
          i++;
          space();
          if (text[i] === ']') fail('a trailing comma before \']\'');
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${found()}`);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === "'") fail('strings and names need double quotes, not single quotes');
    fail(`expected a value, found ${found()}`);
  };
  try {
    if (text.trim() === '') return { offset: 0, reason: 'the text is empty' };
    value();
    space();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
    return null;
  } catch (err) {
    if (err instanceof JsonScanError) return { offset: err.offset, reason: err.message };
    throw err;
  }
}

/** Why `text` is not JSON: "line L column C: <reason>" (V8's own message where the scanner finds no fault). */
export function describeJsonError(text: string, err: Error): string {
  const found = findJsonError(text);
  if (!found) return err.message;
  const { line, column } = lineColumn(text, found.offset);
  return `line ${line} column ${column}: ${found.reason}`;
}

/**
 * JSON.parse; on a syntax error throws makeError("<source>: invalid JSON at line L column C: <reason>").
 * A leading byte-order mark is skipped.
 */
export function parseJsonText<E extends Error>(text: string, source: string, makeError: (message: string) => E): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (err) {
    throw makeError(`${source}: invalid JSON at ${describeJsonError(body, err as Error)}`);
  }
  // JSON.parse turns 1e400 into Infinity, which later reads as null: name the literal instead.
  // Only a long exponent or a 309-digit run can overflow, so most texts skip the scan.
  if (/[eE]\+?\d{3}|\d{309}/.test(body)) {
    const big = findOutOfRangeNumber(body);
    if (big) {
      const { line, column } = lineColumn(body, big.offset);
      throw makeError(`${source}: line ${line} column ${column}: the number ${big.literal} is too large for a 64-bit float (at most about 1.8e308)`);
    }
  }
  return value;
}

/** The first number literal of valid JSON `text` that overflows a double, with its offset. */
export function findOutOfRangeNumber(text: string): { offset: number; literal: string } | null {
  const numberAt = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      // Skip the string (escapes included).
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      numberAt.lastIndex = i;
      const m = numberAt.exec(text);
      const literal = m ? m[0] : c;
      if (m && !Number.isFinite(Number(literal))) return { offset: i, literal };
      i += Math.max(1, literal.length);
    } else i++;
  }
  return null;
}
