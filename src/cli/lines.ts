// Lines of stdin for the line-oriented commands (tokenize, predict, fill-mask).
import { FormatError } from '../errors.js';
import { decodeUtf8Strict, InvalidUtf8Error } from '../util/text.js';

/**
 * The lines of a byte stream ('\n' or '\r\n' endings), each decoded as strict UTF-8, yielded as
 * the lines complete in each chunk read (so a caller can batch what has arrived and answer at once).
 */
export async function* utf8LineChunks(input: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  const decode = (bytes: Buffer): string => {
    lineNo++;
    const line = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
    try {
      return decodeUtf8Strict(line, 'stdin');
    } catch (err) {
      if (err instanceof InvalidUtf8Error) throw new FormatError(`stdin line ${lineNo}`, `invalid UTF-8 at byte ${err.byteOffset} of the line; expected UTF-8 text`);
      throw err;
    }
  };
  for await (const chunk of input) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a, start)) {
      lines.push(decode(pending.subarray(start, nl)));
      start = nl + 1;
    }
    pending = pending.subarray(start);
    if (lines.length > 0) yield lines;
  }
  if (pending.length > 0) yield [decode(pending)];
}

/** The lines of a byte stream one by one (see utf8LineChunks). */
export async function* utf8Lines(input: AsyncIterable<Buffer>): AsyncGenerator<string> {
  for await (const lines of utf8LineChunks(input)) yield* lines;
}
