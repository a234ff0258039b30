// The HF `tokenizers` binding set up as BERT's tokenizer: the reference the tests compare against.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, bertProcessing } from 'tokenizers';
import { bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { readCorpus } from '../../src/data/corpora.js';

export interface ModeOptions {
  lowerCase: boolean;
  stripAccents?: boolean;
}

/** HF's BertTokenizer pipeline over vocab.txt at vocabPath. */
export async function hfBert(vocabPath: string, mode: ModeOptions, vocab: readonly string[]): Promise<Tokenizer> {
  const model = await WordPiece.fromFile(vocabPath, { unkToken: '[UNK]' });
  const tokenizer = new Tokenizer(model);
  const normalizerOptions = mode.stripAccents === undefined
    ? { lowercase: mode.lowerCase }
    : { lowercase: mode.lowerCase, stripAccents: mode.stripAccents };
  tokenizer.setNormalizer(bertNormalizer(normalizerOptions));
  tokenizer.setPreTokenizer(bertPreTokenizer());
  tokenizer.setPostProcessor(bertProcessing(['[SEP]', vocab.indexOf('[SEP]')], ['[CLS]', vocab.indexOf('[CLS]')]));
  return tokenizer;
}

let bertVocabPath: string | undefined;
/** bert-base-uncased's vocab.txt written to a temporary file (once per process). */
export function bertVocabFile(): string {
  if (!bertVocabPath) {
    bertVocabPath = join(mkdtempSync(join(tmpdir(), 'electra-tok-')), 'vocab.txt');
    writeFileSync(bertVocabPath, bertUncasedVocabText());
  }
  return bertVocabPath;
}

/** Every line of the Brown corpus (words joined by spaces) and of the State of the Union addresses. */
let lines: string[] | undefined;
export function corpusLines(): string[] {
  if (!lines) {
    lines = [];
    for (const name of ['brown', 'sotu'] as const) for (const doc of readCorpus(name)) lines.push(...doc.lines);
  }
  return lines;
}

/** Strings meant to break tokenizers: accents, CJK, emoji, zero-width and control characters, ... */
export const adversarialStrings: string[] = [
  '', ' ', '\t\n\r', '   leading and trailing   ', 'a\u00a0b\u3000c\u2028d\u2029e\u0085f',
  'Héllo Wörld! Ça va? Ñandú, naïve café, façade, Ångström, Øresund, Łódź, İstanbul, ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ',
  'e\u0301 a\u0300\u0316b \u0301start mid\u0301dle end\u0301 \u0301\u0302\u0303 o\u0308\u0304',
  'ǅemal ǈ ǋ Ǆ ß ẞ ﬁ ﬂ ﬀ ﬃ Ⅻ ⅻ ① ＡＢＣ ａｂｃ ０１２',
  '日本語のテキスト、中文文本。한국어 텍스트 𠀀𠀁 𪜀 豈 更 丽 ⺀ ⼀',
  'emoji 😀😃 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ #️⃣ ©® ™',
  'zero\u200bwidth\u200cjoin\u200dner\ufeffbom \u2060word\u2061joiner \u00adsoft\u00adhyphen',
  'ctrl\u0000nul\u0001\u0002\u0007bell\u001b[0mesc\u007fdel\u0080\u009f c1 \ufffdreplacement',
  'lone \ud800 high, lone \udc00 low, reversed \udc00\ud800 pair, ok \ud83d\ude00',
  'x'.repeat(100), 'y'.repeat(101), 'é'.repeat(100), 'e\u0301'.repeat(101), '😀'.repeat(101),
  'supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic',
  '"quotes" \'single\' «guillemets» „low“ ‚x‘ — – ‐ … · • ¿¡ ‽ ※ § ¶ † ‡ ‰',
  '$100.00 5% @user #tag a&b a*b (paren) [bracket] {brace} <angle> a|b a\\b a/b a~b a^b a`b a_b',
  'U.S.A. e.g. i.e. don\'t can\'t won\'t rock\'n\'roll 3.14159 1,000,000 10:30am 2020-01-01',
  'Ελληνικά Русский текст עברית العربية हिन्दी বাংলা தமிழ் ไทย ქართული Հայերեն ትግርኛ',
  'ع\u064eر\u064eب\u0650ي\u0651 \u0915\u094d\u0937 \u0e01\u0e34\u0e19 Tiếng Việt có dấu',
  '\u1fef\u1fed\u1fee \u037e \u0387 \u2126 \u212b \u212a \u2000\u2001 \u2329\u232a \uff01\uff1f',
  'mixed日本english中文text한국어words', 'a\u0000b\u200bc\u00add', '\u200b', '\u0301', '😀', '.', '...', '!!!???',
  'The quick brown fox jumps over the lazy dog.\nTHE QUICK BROWN FOX\tJUMPS OVER THE LAZY DOG!',
];
