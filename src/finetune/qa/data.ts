// Extractive QA data: SQuAD v1.1/v2.0 JSON and MRQA 2019 jsonl, read as the reference's
// qa_tasks.py does (which questions it keeps for training, and why it drops the others).
import { FormatError } from '../../errors.js';
import { describeJsonError } from '../../util/json.js';
import { pythonSplit } from './answer-text.js';
import { forEachFileLine, lineError, readTextFile, type ChunkedReadOptions } from '../data/text-file.js';
import type { GoldQuestion } from './metrics.js';

export interface QaAnswerSpan {
  text: string;
  /** [start, end) in the context, in UTF-16 units (String#slice positions). */
  start: number;
  end: number;
}

export interface QaExample {
  taskName: string;
  /** Position among the kept examples of the split (the reference's eid). */
  eid: number;
  /** The prediction key: SQuAD's `id`, MRQA's `qid`. */
  id: string;
  question: string;
  context: string;
  /** Gold answer texts as the official evaluation reads them; empty for unanswerable questions. */
  answers: string[];
  isImpossible: boolean;
  /** Training split only: the first gold answer located in the context (null if impossible). */
  answer: QaAnswerSpan | null;
}

export interface QaData {
  examples: QaExample[];
  /** Training questions dropped as the reference drops them (answer outside or not found in the context). */
  failures: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

class Reader {
  constructor(readonly file: string, readonly line?: number) {}

  where(path: string): string {
    return `${this.line === undefined ? this.file : `${this.file}:${this.line}`}: ${path}`;
  }

  fail(path: string, message: string): never {
    throw new FormatError(this.line === undefined ? this.file : `${this.file}:${this.line}`, `${path}: ${message}`);
  }

  object(value: Json | undefined, path: string): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, `expected an object, found ${describe(value)}`);
    return value;
  }

  array(value: Json | undefined, path: string): Json[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, found ${describe(value)}`);
    return value;
  }

  string(value: Json | undefined, path: string): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, found ${describe(value)}`);
    return value;
  }

  integer(value: Json | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.fail(path, `expected a non-negative integer, found ${describe(value)}`);
    return value;
  }

  boolean(value: Json | undefined, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, `expected true or false, found ${describe(value)}`);
    return value;
  }
}

function describe(value: Json | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value).slice(0, 40);
}

/** JSON of a file (or of one jsonl line); a syntax error names the line and column. */
function parseJson(text: string, file: string, line?: number): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    const reason = describeJsonError(text, err as Error);
    // One jsonl line: its line number is the file's, the column is within it.
    throw new FormatError(file, `invalid JSON at ${line === undefined ? reason : reason.replace(/^line 1 /, `line ${line} `)}`);
  }
}

/** The reference's is_whitespace for splitting contexts into words. */
function isContextWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\u202f';
}

/** UTF-16 position of every code point index (and of the end). */
function codePointToUnit(text: string): number[] {
  const map: number[] = [];
  for (let i = 0; i < text.length; i++) {
    map.push(i);
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  map.push(text.length);
  return map;
}

/** Words split at the reference's whitespace and, per code point, the word it belongs to (the previous word on whitespace). */
function splitContext(context: string): { words: string[]; wordOfChar: number[] } {
  const words: string[] = [];
  const wordOfChar: number[] = [];
  let prevWhitespace = true;
  for (const c of context) {
    if (isContextWhitespace(c)) prevWhitespace = true;
    else {
      if (prevWhitespace) words.push(c);
      else words[words.length - 1] += c;
      prevWhitespace = false;
    }
    wordOfChar.push(words.length - 1);
  }
  return { words, wordOfChar };
}

interface RawQuestion {
  id: string;
  question: string;
  answers: string[];
  isImpossible: boolean;
  /** First answer: its text and start in code points (SQuAD answer_start, MRQA char_spans[0][0]). */
  first: { text: string; startCp: number } | null;
  path: string;
}

export interface QaReadOptions {
  taskName: string;
  split: string;
  /** SQuAD 2.0: read is_impossible for training questions. */
  v2?: boolean;
}

/**
 * Adds a paragraph's questions. On the training split each answerable question's first answer
 * is located; as in the reference, a question is dropped when its answer runs past the context
 * or its whitespace-normalised text is not inside the words it covers.
 */
function addParagraph(
  out: QaData, context: string, questions: readonly RawQuestion[], opts: QaReadOptions, where: (path: string) => string,
): void {
  const training = opts.split === 'train';
  const { words, wordOfChar } = training ? splitContext(context) : { words: [], wordOfChar: [] };
  const toUnit = training ? codePointToUnit(context) : [];
  for (const q of questions) {
    let answer: QaAnswerSpan | null = null;
    const isImpossible = training ? q.isImpossible : opts.v2 === true && q.answers.length === 0;
    if (training && !q.isImpossible) {
      if (!q.first) throw new FormatError(where(q.path), 'an answerable training question needs at least one answer');
      const { text, startCp } = q.first;
      const lengthCp = [...text].length;
      const lastCp = startCp + lengthCp - 1;
      if (lengthCp === 0 || lastCp >= wordOfChar.length) {
        out.failures.push(`${where(q.path)}: answer ${JSON.stringify(text)} at ${startCp} runs past the end of the context; question skipped`);
        continue;
      }
      const startWord = wordOfChar[startCp]!;
      const endWord = wordOfChar[lastCp]!;
      const actual = words.slice(Math.max(0, startWord), endWord + 1).join(' ').toLowerCase();
      const cleaned = pythonSplit(text).join(' ').toLowerCase();
      if (!actual.includes(cleaned)) {
        out.failures.push(`${where(q.path)}: could not find answer ${JSON.stringify(cleaned)} in ${JSON.stringify(actual)}; question skipped`);
        continue;
      }
      answer = { text, start: toUnit[startCp]!, end: toUnit[startCp + lengthCp]! };
    }
    out.examples.push({
      taskName: opts.taskName, eid: out.examples.length, id: q.id, question: q.question, context,
      answers: q.answers, isImpossible, answer,
    });
  }
}

/** SQuAD v1.1 or v2.0 JSON ({version, data: [{title, paragraphs: [{context, qas}]}]}). */
export function readSquad(file: string, opts: QaReadOptions): QaData {
  const r = new Reader(file);
  const root = r.object(parseJson(readTextFile(file), file), 'top level');
  const data = r.array(root.data, 'data');
  const out: QaData = { examples: [], failures: [] };
  data.forEach((articleJson, a) => {
    const article = r.object(articleJson, `data[${a}]`);
    r.array(article.paragraphs, `data[${a}].paragraphs`).forEach((paragraphJson, p) => {
      const path = `data[${a}].paragraphs[${p}]`;
      const paragraph = r.object(paragraphJson, path);
      const context = r.string(paragraph.context, `${path}.context`);
      const questions = r.array(paragraph.qas, `${path}.qas`).map((qaJson, k): RawQuestion => {
        const qpath = `${path}.qas[${k}]`;
        const qa = r.object(qaJson, qpath);
        // Scoring reads every question's answers (an empty list for unanswerable ones); test sets may lack them.
        const answersJson = qa.answers === undefined && opts.split.includes('test') ? [] : qa.answers;
        const answers = r.array(answersJson, `${qpath}.answers`).map((aJson, j) => {
          const ans = r.object(aJson, `${qpath}.answers[${j}]`);
          return { text: r.string(ans.text, `${qpath}.answers[${j}].text`), start: ans.answer_start };
        });
        const isImpossible = opts.v2 && opts.split === 'train' ? r.boolean(qa.is_impossible, `${qpath}.is_impossible`) : false;
        const first = answers[0]
          ? { text: answers[0].text, startCp: r.integer(answers[0].start, `${qpath}.answers[0].answer_start`) }
          : null;
        return {
          id: r.string(qa.id, `${qpath}.id`), question: r.string(qa.question, `${qpath}.question`),
          answers: answers.map((x) => x.text), isImpossible, first, path: qpath,
        };
      });
      addParagraph(out, context, questions, opts, (x) => r.where(x));
    });
  });
  return out;
}

/**
 * MRQA 2019 jsonl: a header line ({"header": ...}), then one paragraph per line
 * ({context, qas: [{qid, question, answers, detected_answers: [{text, char_spans}]}]}).
 */
export function readMrqa(file: string, opts: QaReadOptions, read: ChunkedReadOptions = {}): QaData {
  const out: QaData = { examples: [], failures: [] };
  forEachFileLine(file, (text, line) => {
    if (text.trim() === '') return;
    const r = new Reader(file, line);
    const paragraph = r.object(parseJson(text.trim(), file, line), 'line');
    if ('header' in paragraph) return;
    const context = r.string(paragraph.context, 'context');
    const questions = r.array(paragraph.qas, 'qas').map((qaJson, k): RawQuestion => {
      const qpath = `qas[${k}]`;
      const qa = r.object(qaJson, qpath);
      const answers = r.array(qa.answers, `${qpath}.answers`).map((a, j) => r.string(a, `${qpath}.answers[${j}]`));
      let first: RawQuestion['first'] = null;
      if (opts.split === 'train') {
        const detected = r.array(qa.detected_answers, `${qpath}.detected_answers`);
        if (detected.length > 0) {
          const d = r.object(detected[0], `${qpath}.detected_answers[0]`);
          const spans = r.array(d.char_spans, `${qpath}.detected_answers[0].char_spans`);
          const span = r.array(spans[0], `${qpath}.detected_answers[0].char_spans[0]`);
          first = { text: r.string(d.text, `${qpath}.detected_answers[0].text`), startCp: r.integer(span[0], `${qpath}.detected_answers[0].char_spans[0][0]`) };
        }
      }
      return {
        id: r.string(qa.qid, `${qpath}.qid`), question: r.string(qa.question, `${qpath}.question`),
        answers, isImpossible: false, first, path: qpath,
      };
    });
    addParagraph(out, context, questions, opts, (x) => r.where(x));
  }, read);
  return out;
}

/** The evaluation's gold questions (id and answer texts) of read examples. */
export function goldQuestions(examples: readonly QaExample[]): GoldQuestion[] {
  return examples.map((e) => ({ id: e.id, answers: e.answers }));
}
