// The one word scanner (BasicTokenizer.scanWords) against a plain splitter written here from BERT's
// rules: whitespace separates, punctuation and CJK ideographs stand alone, removed characters
// (controls, lone surrogates, marks when stripping accents) are dropped at a word's ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicTokenizer, wordHash } from '../../src/tokenizer/basic.js';
import { isChinese, isPunctuation, isRemoved, isWhitespace, normalizeCodePoint } from '../../src/tokenizer/unicode.js';

interface Word { start: number; end: number; startCp: number; hash: number }

function plainWords(text: string, from: number, n: number, lowerCase: boolean): Word[] {
  const words: Word[] = [];
  let start = -1;
  let end = -1;
  let startCp = 0;
  let cp = 0;
  const close = (): void => {
    if (start >= 0) words.push({ start, end, startCp, hash: wordHash(text, start, end) });
    start = -1;
  };
  for (let i = from; i < n; ) {
    const c = text.codePointAt(i)!;
    // A surrogate pair only when both halves lie inside [from, n).
    const width = c > 0xffff && i + 1 < n ? 2 : 1;
    const point = width === 2 ? c : text.charCodeAt(i);
    const normalized = isRemoved(point) ? '' : normalizeCodePoint(point, lowerCase, lowerCase);
    const single = normalized.length > 0 && [...normalized].length === 1 ? normalized.codePointAt(0)! : -1;
    if (normalized === '') {
      // dropped: inside a word it stays in the span
    } else if (isWhitespace(point) || single >= 0 && isWhitespace(single)) close();
    else if (isChinese(point) || single >= 0 && isPunctuation(single)) {
      close();
      words.push({ start: i, end: i + width, startCp: cp, hash: wordHash(text, i, i + width) });
    } else {
      if (start < 0) {
        start = i;
        startCp = cp;
      }
      end = i + width;
    }
    i += width;
    cp++;
  }
  close();
  return words;
}

function scanned(basic: BasicTokenizer, text: string, from: number, n: number): Word[] {
  const words: Word[] = [];
  basic.scanWords(text, from, n, { word: (start, end, startCp, hash) => words.push({ start, end, startCp, hash }) });
  return words;
}

test('scanWords finds the words, code-point starts and hashes of a plain splitter, lone surrogates included', () => {
  const pieces = ['word', 'Ünïcödé', ' ', '\t', '\u3000', ',', '!', '中', '文', '\u0000', '\u200b', '\u0301', '\ud83d\ude00', '\ud83d', '\ude00', 'x', '42', '\u00ad', 'ﬁ', '\n'];
  let seed = 12345;
  const next = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  for (const lowerCase of [true, false]) {
    const basic = new BasicTokenizer({ lowerCase });
    for (let trial = 0; trial < 400; trial++) {
      let text = '';
      const parts = 1 + next(12);
      for (let p = 0; p < parts; p++) text += pieces[next(pieces.length)];
      const from = next(3) === 0 ? Math.min(text.length, next(4)) : 0;
      const n = next(3) === 0 ? Math.max(from, text.length - next(3)) : text.length;
      assert.deepEqual(scanned(basic, text, from, n), plainWords(text, from, n, lowerCase), JSON.stringify({ text, from, n, lowerCase }));
    }
  }
});

test('forEachWord visits what scanWords finds, from the start of the text', () => {
  const basic = new BasicTokenizer();
  const text = 'Hello, wörld\ud83d 中文 \ud83d\ude00ok\u0000!';
  const visited: number[][] = [];
  basic.forEachWord(text, (s, e, cp) => visited.push([s, e, cp]));
  assert.deepEqual(visited, scanned(basic, text, 0, text.length).map((w) => [w.start, w.end, w.startCp]));
  assert.deepEqual(visited.map(([s, e]) => text.slice(s!, e!)), ['Hello', ',', 'wörld', '中', '文', '\ud83d\ude00ok', '!']);
});
