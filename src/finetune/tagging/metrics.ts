// Sequence-tagging metrics (the reference's tagging_metrics.py and tagging_utils.py): span
// extraction from BIO/BIOES tags, BIOES re-encoding, entity-level precision/recall/F1 and
// token accuracy.
import { prefixed, type MetricList, type Scorer } from '../scorer.js';

/** An entity: first and last token (inclusive) and its type. */
export type Span = [start: number, end: number, type: string];

function splitTag(tag: string): [prefix: string | null, type: string] {
  if (tag === 'O') return [null, 'O'];
  const dash = tag.indexOf('-');
  if (dash <= 0 || dash === tag.length - 1) throw new Error(`tag '${tag}' is neither 'O' nor PREFIX-TYPE (e.g. B-NP)`);
  return [tag.slice(0, dash), tag.slice(tag.lastIndexOf('-') + 1)];
}

/**
 * Entities in a tag sequence, as the reference's get_span_labels reads them: a span starts at
 * B-/S- or at any tag after O, ends before the next B-/S-/O, and takes the type of its last tag
 * (so I-NP I-VP is one VP span, and an I- without a B- opens a span).
 */
export function getSpanLabels(tags: readonly string[]): Span[] {
  const spans: Span[] = [];
  let last = 'O';
  let start = -1;
  tags.forEach((tag, i) => {
    const [prefix] = splitTag(tag);
    if ((prefix === 'S' || prefix === 'B' || tag === 'O') && last !== 'O') spans.push([start, i - 1, splitTag(last)[1]]);
    if (prefix === 'B' || prefix === 'S' || last === 'O') start = i;
    last = tag;
  });
  if (tags.length > 0 && tags[tags.length - 1] !== 'O') spans.push([start, tags.length - 1, splitTag(tags[tags.length - 1]!)[1]]);
  return spans;
}

/** Tags for spans in an encoding such as 'BIOES' or 'BIO' (I- inside, B- first, E- last, S- single). */
export function getTags(spans: readonly Span[], length: number, encoding: string): string[] {
  const tags = new Array<string>(length).fill('O');
  for (const [s, e, t] of spans) {
    for (let i = s; i <= e; i++) tags[i] = 'I-' + t;
    if (encoding.includes('E')) tags[e] = 'E-' + t;
    if (encoding.includes('B')) tags[s] = 'B-' + t;
    if (encoding.includes('S') && s === e) tags[s] = 'S-' + t;
  }
  return tags;
}

/** BIO (or IOB1) chunk tags re-encoded as BIOES, as the reference prepares CoNLL chunking. */
export function toBioes(tags: readonly string[]): string[] {
  return getTags(getSpanLabels(tags), tags.length, 'BIOES');
}

/** One sentence's result: gold and predicted label ids per word, and the summed loss. */
export interface TaggingResult {
  labels: readonly number[];
  predictions: readonly number[];
  loss: number;
}

abstract class WordLevelScorer implements Scorer<TaggingResult> {
  protected readonly labels: (readonly number[])[] = [];
  protected readonly predictions: (readonly number[])[] = [];
  private totalLoss = 0;
  private totalWords = 0;

  update(result: TaggingResult): void {
    if (result.labels.length !== result.predictions.length) {
      throw new Error(`tagging scorer: ${result.labels.length} gold labels but ${result.predictions.length} predictions`);
    }
    this.labels.push(result.labels);
    this.predictions.push(result.predictions);
    // The reference adds each loss twice (a slip); the mean per word is reported here.
    this.totalLoss += result.loss;
    this.totalWords += result.labels.length;
  }

  getLoss(): number {
    return this.totalLoss / Math.max(1, this.totalWords);
  }

  getResults(prefix = ''): MetricList {
    return prefixed([...this.metrics(), ['loss', this.getLoss()]], prefix);
  }

  protected abstract metrics(): MetricList;
}

/** accuracy over words, loss (token-level tasks such as part-of-speech tagging). */
export class TokenAccuracyScorer extends WordLevelScorer {
  protected metrics(): MetricList {
    let correct = 0;
    let count = 0;
    this.labels.forEach((labels, s) => {
      const preds = this.predictions[s]!;
      for (let i = 0; i < labels.length; i++) {
        count++;
        if (labels[i] === preds[i]) correct++;
      }
    });
    if (count === 0) throw new Error('tagging scorer: no words to score');
    return [['accuracy', (100 * correct) / count]];
  }
}

/** Entity-level precision, recall, f1 (percent), loss, as conlleval counts chunks. */
export class EntityLevelF1Scorer extends WordLevelScorer {
  /** `labelNames[id]` is the tag of label id. */
  constructor(private readonly labelNames: readonly string[]) {
    super();
  }

  protected metrics(): MetricList {
    let correct = 0;
    let predicted = 0;
    let gold = 0;
    const key = (s: Span): string => `${s[0]}\u0000${s[1]}\u0000${s[2]}`;
    this.labels.forEach((labels, s) => {
      const goldSpans = new Set(getSpanLabels(labels.map((id) => this.name(id))).map(key));
      const predSpans = new Set(getSpanLabels(this.predictions[s]!.map((id) => this.name(id))).map(key));
      for (const k of predSpans) if (goldSpans.has(k)) correct++;
      gold += goldSpans.size;
      predicted += predSpans.size;
    });
    if (correct === 0) return [['precision', 0], ['recall', 0], ['f1', 0]];
    const p = (100 * correct) / predicted;
    const r = (100 * correct) / gold;
    return [['precision', p], ['recall', r], ['f1', (2 * p * r) / (p + r)]];
  }

  private name(id: number): string {
    const tag = this.labelNames[id];
    if (tag === undefined) throw new Error(`tagging scorer: label id ${id} is outside the ${this.labelNames.length} labels`);
    return tag;
  }
}
