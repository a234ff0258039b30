// The HTTP endpoint: answers under concurrent load equal answers one at a time, concurrent
// requests share batches, bad requests get a 4xx without disturbing the others, and SIGTERM lets
// the requests already received finish. Servers bind 127.0.0.1 on port 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadDiscriminator, loadMaskedLM } from '../../src/pretrain/load.js';
import { discriminatorPredictor, fillMaskPredictor, runByLength, type ReplacedTokenResult } from '../../src/pretrain/predictor.js';
import { startServer } from '../../src/serve/server.js';
import { cliPath } from '../pretrain/fixtures.js';
import { writeTinyModels } from '../pretrain/tiny-models.js';

const models = writeTinyModels('serve');
after(() => models.cleanup());

const WORDS = ['the', 'big', 'cat', 'sees', 'a', 'dog', 'near', 'river', 'old', 'farmer', 'feeds', 'horse'];
/** Texts of 1 to 20 words. */
const texts = Array.from({ length: 32 }, (_, i) => Array.from({ length: 1 + ((i * 7) % 20) }, (_, j) => WORDS[(i + j * 5) % WORDS.length]).join(' '));

async function post(url: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

function assertSameResult(got: ReplacedTokenResult, expected: ReplacedTokenResult, what: string): void {
  assert.deepEqual(got.tokens, expected.tokens, what);
  got.probs.forEach((p, i) => assert.ok(Math.abs(p - expected.probs[i]!) < 1e-5, `${what}: token ${i}: ${p} vs ${expected.probs[i]}`));
}

test('under concurrent load: the answers one at a time; bad requests get 4xx and disturb nothing', async () => {
  const predictor = discriminatorPredictor(loadDiscriminator(models.discriminatorDir, { maxBatch: 8 }));
  const alone = texts.map((t) => predictor.run([predictor.prepare(t)])[0]!);
  const server = await startServer(predictor, { maxWaitMs: 5, maxBodyBytes: 4096 });
  try {
    const tooLong = new Array(45).fill('dog').join(' ');
    const requests = texts.map((text) => post(server.url, JSON.stringify({ text })));
    const bad = [
      post(server.url, '{"text": "a dog"'),
      post(server.url, JSON.stringify({ text: tooLong })),
      post(server.url, JSON.stringify({ txt: 'a dog' })),
      post(server.url, JSON.stringify({ text: 'x'.repeat(5000) })),
      post(server.url, JSON.stringify({ inputs: ['a dog', { text: tooLong }] })),
    ];
    const [good, refused] = await Promise.all([Promise.all(requests), Promise.all(bad)]);
    good.forEach((r, i) => {
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assertSameResult(r.json as ReplacedTokenResult, alone[i]!, `text ${i}`);
    });
    assert.deepEqual(refused.map((r) => r.status), [400, 400, 400, 413, 400]);
    assert.match((refused[0]!.json as { error: string }).error, /invalid JSON/);
    assert.match((refused[1]!.json as { error: string }).error, /47 tokens; the model takes at most 40/);
    assert.match((refused[2]!.json as { error: string }).error, /"text"/);
    assert.match((refused[4]!.json as { error: string }).error, /^inputs\[1\]: /);
    assert.equal(server.stats.inputs, 32, 'refused requests never reach a batch');

    // Several inputs in one request; the routes.
    const many = await post(server.url, JSON.stringify({ inputs: [texts[3], { text: texts[5] }] }));
    assert.equal(many.status, 200);
    const results = (many.json as { results: ReplacedTokenResult[] }).results;
    assertSameResult(results[0]!, alone[3]!, 'inputs[0]');
    assertSameResult(results[1]!, alone[5]!, 'inputs[1]');
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: 'ok', task: 'replaced-token-detection', inFlight: 1, queued: 0 });
    assert.equal((await fetch(`${server.url}/nothing`)).status, 404);
    assert.equal((await fetch(`${server.url}/predict`)).status, 405);
  } finally {
    await server.close();
  }
});

test('concurrent requests share a batch (dynamic batching); fill-mask serves HF pipeline records', async () => {
  const lm = loadMaskedLM(models.generatorDir);
  const predictor = fillMaskPredictor(lm, { topK: 3 });
  // A long wait: the batch runs only when all four are queued, so one batch answers them all.
  const server = await startServer(predictor, { maxBatch: 4, maxWaitMs: 60_000 });
  try {
    const inputs = ['a [MASK] dog', 'the big [MASK] sees a dog .', 'the [MASK] farmer feeds the [MASK]', '[MASK]'];
    const answers = await Promise.all(inputs.map((text) => post(server.url, JSON.stringify({ text }))));
    assert.equal(server.stats.batches, 1);
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      const expected = lm.fillMask(inputs[i]!, { topK: 3 });
      assert.deepEqual(JSON.parse(JSON.stringify(a.json)).length, expected.length);
      const flat = (x: unknown): number[] => (x as { token?: number }[]).flatMap((c) => (Array.isArray(c) ? flat(c) : [c.token!]));
      assert.deepEqual(flat(a.json), flat(expected), `input ${i}`);
    });
    assert.equal((await post(server.url, JSON.stringify({ text: 'no mask' }))).status, 400);
  } finally {
    await server.close();
  }
});

test('SIGTERM: the requests already received are answered, then the server exits 0', async () => {
  const child = spawn(process.execPath, [cliPath, 'serve', '--model', models.discriminatorDir, '--port', '0', '--max-wait-ms', '10000', '--batch-size', '8'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
    // Two requests wait in the queue (a 10 s batching wait); SIGTERM must answer them now.
    const pending = [post(url, JSON.stringify({ text: texts[1] })), post(url, JSON.stringify({ text: texts[2] }))];
    for (let i = 0; i < 200; i++) {
      const h = (await (await fetch(`${url}/health`)).json()) as { queued: number };
      if (h.queued === 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const answers = await Promise.all(pending);
    const predictor = discriminatorPredictor(loadDiscriminator(models.discriminatorDir));
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      assertSameResult(a.json as ReplacedTokenResult, predictor.run([predictor.prepare(texts[i + 1])])[0]!, `request ${i}`);
    });
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM: answering the requests received/);
    assert.match(stderr, /stopped after \d+ requests \(2 inputs in 1 batches\)/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('runByLength: the cheapest split by length (padded tokens + 32 a pass), at most maxBatch, results in input order', () => {
  const lengths = [50, 3, 48, 4, 5, 49, 3, 21, 3, 3];
  const groups: number[][] = [];
  const out = runByLength(lengths, (n) => n, 4, (group) => {
    groups.push(group);
    return group.map((n) => n * 10);
  });
  assert.deepEqual(out, lengths.map((n) => n * 10));
  // Sorted 3 3 3 3 4 5 21 48 49 50: [3 3 3 3] [4 5] [21 48 49 50] costs 3 x 32 + 12 + 10 + 200 = 318;
  // every other split costs more (e.g. [3 3 3 3] [4 5 21] [48 49 50]: 3 x 32 + 12 + 63 + 150 = 321,
  // [3 3 3] [3 4 5] [21 48 49 50]: 3 x 32 + 9 + 15 + 200 = 320).
  assert.deepEqual(groups, [[3, 3, 3, 3], [4, 5], [21, 48, 49, 50]]);
  // Equal lengths: full batches.
  const equal: number[] = [];
  runByLength(new Array<number>(9).fill(7), (n) => n, 4, (g) => { equal.push(g.length); return g; });
  assert.deepEqual(equal.sort(), [1, 4, 4]);
});
