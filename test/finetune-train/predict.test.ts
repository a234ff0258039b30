// Fine-tuned models behind `electra predict` and `electra serve`: the predictor's batched answers
// equal FinetunedModel's one at a time, records are read by the task's kind (offsets in code
// points), the task is picked by name, too-long sentence inputs are refused unless truncation is
// asked, and --quantize int8 gives the int8 model's answers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { jsKernels } from '../../src/kernels/index.js';
import { FinetunedModel, loadFinetuned } from '../../src/finetune/inference.js';
import { finetunedPredictor } from '../../src/finetune/predictor.js';
import { headSpecsOf, saveFinetunedModel, type SavedTask } from '../../src/finetune/model/checkpoint.js';
import { openPredictor } from '../../src/serve/predictors.js';
import { startServer } from '../../src/serve/server.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { InputError } from '../../src/errors.js';
import { TempDir } from '../finetune/fixtures.js';
import { cliPath } from '../pretrain/fixtures.js';
import { randomModel, saved, TASKS } from './fixtures.js';

const MC: SavedTask = { name: 'swag', kind: 'multiple_choice', style: 'hf', labels: null, numChoices: 3 };

const dir = new TempDir('ft-predict-');
after(() => dir.remove());
saveFinetunedModel(dir.path, randomModel(headSpecsOf([...TASKS, MC]), 11), { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved([...TASKS, MC]) });
const PASSAGE = 'The river flows through the old city of Avalon. It was named by Marta in 1810. Boats carry grain and wool to the sea every spring, and fishermen mend their nets on the stones of the harbour wall.';

const close = (a: number, b: number, tol = 1e-5): boolean => Math.abs(a - b) <= tol;

test('finetunedPredictor: batched answers equal the model one input at a time, for every kind of task', () => {
  const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
  const batched = FinetunedModel.load(dir.path, { kernels: jsKernels, maxBatch: 3 });
  const run = (task: string, records: unknown[]): unknown[] => {
    const predictor = finetunedPredictor(batched, { task });
    return predictor.run(records.map((r) => predictor.prepare(r)));
  };

  const pairs: [string, string | null][] = [['a man plays a guitar .', 'someone plays music .'], ['the cat sat', null], ['old boats carry grain to the sea every spring', 'grain'], ['wool', null], ['a b c d e f g', 'h']];
  const records = pairs.map(([a, b]) => (b === null ? a : { text: a, text_pair: b }));
  const classes = run('rte', records) as { label: string; score: number; probabilities: Record<string, number> }[];
  const scores = run('sts', records) as { score: number }[];
  pairs.forEach(([a, b], i) => {
    const one = api.classify(a, b);
    assert.equal(classes[i]!.label, one.label);
    assert.ok(close(classes[i]!.probabilities['entailment']!, one.probabilities['entailment']!), `input ${i}`);
    assert.ok(close(scores[i]!.score, api.score(a, b)), `score ${i}`);
  });
  assert.notEqual(classes[0]!.score, classes[1]!.score, 'the inputs matter');

  // Tagging: text with offsets (code points: the emoji is one), or pre-split words without.
  const text = '  The  unbelievably 😀old   man\tsat ';
  const [fromText, fromWords] = run('pos', [{ text }, { words: ['The', 'old', 'man'] }]) as { tags: { word: string; tag: string; score: number; start?: number; end?: number }[] }[];
  assert.deepEqual(fromText!.tags.map((t) => t.word), ['The', 'unbelievably', '😀old', 'man', 'sat']);
  for (const t of fromText!.tags) assert.equal([...text].slice(t.start!, t.end!).join(''), t.word);
  assert.deepEqual(fromText!.tags.map((t) => [t.start, t.end]), [[2, 5], [7, 19], [20, 24], [27, 30], [31, 34]]);
  assert.deepEqual(fromText!.tags.map((t) => t.tag), api.tag(text).map((t) => t.tag));
  assert.equal(fromWords!.tags[0]!.start, undefined);
  assert.deepEqual(fromWords!.tags.map((t) => [t.tag, t.score]), api.tag(['The', 'old', 'man']).map((t) => [t.tag, t.score]));

  // QA over several windows: the answer is the passage's text at its offsets.
  const context = `😀 ${PASSAGE}`;
  const answers = run('squad', [{ question: 'Who named the river?', context }, { question: 'What do boats carry?', context: PASSAGE }]) as { text: string; start: number; end: number; probability: number }[];
  const one = api.answer('Who named the river?', context);
  assert.equal(answers[0]!.text, one.text);
  assert.ok(close(answers[0]!.probability, one.probability));
  assert.ok(one.text.length > 0);
  assert.equal([...context].slice(answers[0]!.start, answers[0]!.end).join(''), answers[0]!.text);
  assert.equal(answers[1]!.text, api.answer('What do boats carry?', PASSAGE).text);

  const questions = [
    { context: 'The farmer feeds the horse.', question: 'The horse', choices: ['eats hay', 'flies away', 'reads a book'] },
    { context: 'Boats carry grain to the sea.', choices: ['in spring', 'on the river', 'never'] },
  ];
  const chosen = run('swag', questions) as { choice: number; probabilities: number[] }[];
  questions.forEach((q, i) => {
    const alone = api.choose(q.context, q.choices, q.question ? { question: q.question } : {});
    assert.equal(chosen[i]!.choice, alone.choice);
    chosen[i]!.probabilities.forEach((p, j) => assert.ok(close(p, alone.probabilities[j]!), `question ${i} choice ${j}`));
  });
  assert.throws(() => finetunedPredictor(batched, { task: 'swag' }).prepare({ context: 'x', choices: ['a', 'b'] }), /takes 3 choices, got 2/);
});

test('finetunedPredictor: the task by name, records checked by kind, too-long sentences refused unless truncation is asked', () => {
  const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
  assert.throws(() => finetunedPredictor(api), /holds several tasks: rte \(classification\), sts \(regression\), pos \(tagging\), squad \(qa\), swag \(multiple_choice\); name one/);
  assert.throws(() => finetunedPredictor(api, { task: 'mnli' }), /has no task 'mnli'; it has rte \(classification\)/);
  const qa = finetunedPredictor(api, { task: 'squad' });
  assert.equal(qa.task, 'question-answering (squad)');
  assert.throws(() => qa.prepare({ text: 'x' }), (err) => err instanceof InputError && /"question"/.test(err.message));
  assert.throws(() => finetunedPredictor(api, { task: 'pos' }).prepare({ words: ['a', 3] }), /"words" must be a list of strings/);

  const long = new Array(40).fill('dog').join(' ');
  const refuse = finetunedPredictor(api, { task: 'rte' });
  assert.throws(() => refuse.prepare(long), (err) => err instanceof InputError && /has 42 tokens; the model takes at most 32 for task rte \(its max_seq_length\)/.test(err.message));
  const cut = finetunedPredictor(api, { task: 'rte', truncation: 'longest_first' });
  const [r] = cut.run([cut.prepare(long)]) as { probabilities: Record<string, number> }[];
  assert.ok(close(r!.probabilities['entailment']!, api.classify(long).probabilities['entailment']!), 'cut as classify cuts');
  assert.throws(() => finetunedPredictor(api, { task: 'rte', truncation: 'only_second' }).prepare(long), InputError);
});

function electra(args: string[], input: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('electra predict --task on a fine-tuned folder: one JSON line per input; --quantize int8 gives the int8 model\'s answers', () => {
  const lines = ['{"text": "The old man sat"}', 'a dog ran', '{"words": ["The", "river"]}'];
  const r = electra(['predict', '--model', dir.path, '--task', 'pos', '--batch-size', '2'], lines.join('\n') + '\n');
  assert.equal(r.code, 0, r.err);
  const api = loadFinetuned(dir.path);
  const out = r.out.trim().split('\n').map((l) => JSON.parse(l) as { tags: { tag: string; score: number }[] });
  assert.deepEqual(out.map((o) => o.tags.map((t) => t.tag)), [api.tag('The old man sat'), api.tag('a dog ran'), api.tag(['The', 'river'])].map((t) => t.map((x) => x.tag)));
  assert.match(r.err, /token-classification \(pos\)/);

  const missing = electra(['predict', '--model', dir.path], 'a\n');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /holds several tasks: rte \(classification\), sts \(regression\), pos \(tagging\), squad \(qa\)/);
  const tooLong = electra(['predict', '--model', dir.path, '--task', 'rte'], `x\n${new Array(40).fill('dog').join(' ')}\n`);
  assert.equal(tooLong.code, 2);
  assert.match(tooLong.err, /stdin line 2: the input has 42 tokens; the model takes at most 32/);
  assert.equal(tooLong.out.trim().split('\n').length, 1, 'the line before is answered');

  const texts = ['the farmer feeds the horse', 'grain and wool', 'a man plays a guitar'];
  const q = electra(['predict', '--model', dir.path, '--task', 'rte', '--quantize', 'int8'], texts.join('\n'));
  assert.equal(q.code, 0, q.err);
  const int8 = loadFinetuned(dir.path, { quantize: 'int8' });
  const fp32 = loadFinetuned(dir.path);
  const got = q.out.trim().split('\n').map((l) => (JSON.parse(l) as { probabilities: Record<string, number> }).probabilities['entailment']!);
  texts.forEach((t, i) => assert.ok(close(got[i]!, int8.classify(t).probabilities['entailment']!, 1e-6), `input ${i}`));
  assert.ok(texts.some((t, i) => got[i] !== fp32.classify(t).probabilities['entailment']), 'int8 answers differ from fp32 somewhere');
});

test('electra serve: a fine-tuned folder is served (openPredictor finds it); a bad record gets 400', async () => {
  const { kind, predictor } = openPredictor(dir.path, { task: 'squad', kernels: jsKernels });
  assert.equal(kind, 'finetuned');
  assert.throws(() => openPredictor(dir.path, { kinds: ['finetuned'] }), /holds several tasks/);
  const server = await startServer(predictor, { port: 0, maxWaitMs: 5 });
  try {
    const post = async (body: unknown): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    const [a, b, bad] = await Promise.all([
      post({ question: 'Who named the river?', context: PASSAGE }),
      post({ inputs: [{ question: 'What do boats carry?', context: PASSAGE }] }),
      post({ text: 'no question' }),
    ]);
    const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
    assert.equal(a.status, 200);
    assert.equal((a.json as { text: string }).text, api.answer('Who named the river?', PASSAGE).text);
    assert.equal((b.json as { results: { text: string }[] }).results[0]!.text, api.answer('What do boats carry?', PASSAGE).text);
    assert.equal(bad.status, 400);
  } finally {
    await server.close();
  }
});
