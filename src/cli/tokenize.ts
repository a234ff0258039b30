// `electra tokenize`: one JSON object per input line with ids, tokens and offsets.
import type { Command } from './commands.js';
import { booleanFlag, readCommandFlags, requiredString } from './parse-options.js';
import { BertTokenizer } from '../tokenizer/index.js';
import { utf8Lines } from './lines.js';
import { FormatError } from '../errors.js';

const usage = `Usage: electra tokenize --vocab-file vocab.txt [--no-lower-case] [--pair] < input.txt

Reads lines on stdin and writes one JSON object per line:
{"ids":[...],"tokens":[...],"offsets":[[start,end],...]} with [CLS]/[SEP] added and offsets in
characters (code points) of the line.

Options:
  --vocab-file FILE   WordPiece vocab.txt
  --no-lower-case     cased model: no lower-casing, no accent stripping
  --pair              each line is "A<TAB>B", encoded as [CLS] A [SEP] B [SEP] (adds "segmentIds";
                      offsets of B count from the start of B)
`;

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'Tokenize stdin lines to JSON (ids, tokens, offsets)',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'tokenize', usage, required: [['vocab-file']],
      options: { 'vocab-file': { type: 'string' }, 'lower-case': { type: 'boolean', negatable: true }, pair: { type: 'boolean', negatable: true } },
    });
    if (typeof flags === 'number') return flags;
    const tokenizer = BertTokenizer.fromVocabFile(requiredString(flags, 'vocab-file'), { lowerCase: booleanFlag(flags, 'lower-case', true) });
    const pair = booleanFlag(flags, 'pair', false);
    let lineNo = 0;
    let buffered = '';
    for await (const line of utf8Lines(process.stdin as AsyncIterable<Buffer>)) {
      lineNo++;
      let record: object;
      if (pair) {
        const tab = line.indexOf('\t');
        if (tab < 0) throw new FormatError(`stdin line ${lineNo}`, 'expected "A<TAB>B" with --pair');
        const enc = tokenizer.encode(line.slice(0, tab), line.slice(tab + 1));
        record = { ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets, segmentIds: enc.segmentIds };
      } else {
        const enc = tokenizer.encode(line);
        record = { ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets };
      }
      buffered += JSON.stringify(record) + '\n';
      if (buffered.length > 1 << 16) {
        if (!process.stdout.write(buffered)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        buffered = '';
      }
    }
    if (buffered) process.stdout.write(buffered);
    return 0;
  },
};
