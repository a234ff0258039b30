// Multiple-choice files: JSON lines, one question a line (SWAG, HellaSwag, ARC, RACE and the like
// converted to it):
//   {"id": "q1", "context": "A man sits on a roof.", "question": "He", "choices": ["starts pulling up roofing.", "is ..."], "label": 0}
// context: the first segment; question (optional): the start of the second segment, put before
// every choice (SWAG's sent2); choices: 2 or more strings, as many on every line; label: the index
// of the right choice (absent in unlabelled test files); id (optional): a string or number,
// default the line number. Blank lines are skipped.
import { forEachFileLine, pyIndex, lineError, type ChunkedReadOptions } from '../data/text-file.js';

export interface ChoiceExample {
  taskName: string;
  eid: number;
  id: string;
  context: string;
  question: string;
  choices: string[];
  /** The right choice, or null where the file gives none. */
  label: number | null;
  /** 1-based line in its file. */
  line: number;
}

export interface ChoiceReadOptions {
  taskName: string;
  /** Whether every line needs a label. */
  labelled: boolean;
}

/** The examples of a JSON-lines file; anything malformed is an error naming file:line and the field. */
export function readChoiceFile(file: string, opts: ChoiceReadOptions, read: ChunkedReadOptions = {}): ChoiceExample[] {
  const examples: ChoiceExample[] = [];
  forEachFileLine(file, (text, line) => {
    if (text.trim() === '') return;
    const bad = (what: string): never => {
      throw lineError(file, line, what);
    };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return bad(`not JSON (${(err as Error).message}); expected one {"context", "choices", "label"} object a line`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('expected a JSON object {"context", "choices", "label"}');
    const o = value as Record<string, unknown>;
    if (typeof o.context !== 'string') bad('"context" must be a string');
    if (o.question !== undefined && typeof o.question !== 'string') bad('"question" must be a string when given');
    if (!Array.isArray(o.choices) || o.choices.length < 2 || !o.choices.every((c) => typeof c === 'string')) {
      bad('"choices" must be a list of 2 or more strings');
    }
    const choices = o.choices as string[];
    const first = pyIndex(examples, 0);
    if (first && first.choices.length !== choices.length) {
      bad(`${choices.length} choices, but line ${first.line} has ${first.choices.length}: every question needs as many`);
    }
    let label: number | null = null;
    if (o.label !== undefined && o.label !== null) {
      if (!(Number.isInteger(o.label) && (o.label as number) >= 0 && (o.label as number) < choices.length)) {
        bad(`"label" must be the index of the right choice, an integer in [0, ${choices.length}), got ${JSON.stringify(o.label)}`);
      }
      label = o.label as number;
    } else if (opts.labelled) bad('"label" is missing (the index of the right choice)');
    if (o.id !== undefined && typeof o.id !== 'string' && typeof o.id !== 'number') bad('"id" must be a string or a number when given');
    examples.push({
      taskName: opts.taskName, eid: examples.length, id: o.id === undefined ? String(line) : String(o.id),
      context: o.context as string, question: (o.question as string | undefined) ?? '', choices, label, line,
    });
  }, read);
  return examples;
}
