// The progress bar: redraws in place on a terminal, one final line elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/util/progress.js';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { isTTY: boolean; text: () => string };
  stream.isTTY = isTTY;
  stream.text = () => chunks.join('');
  return stream;
}

test('off a terminal: nothing until finish, then one line with the totals', () => {
  const out = sink(false);
  const p = new Progress({ label: 'reading', total: 3 * 2 ** 20, unit: 'bytes', stream: out, intervalMs: 0 });
  for (let i = 1; i <= 3; i++) p.update(i * 2 ** 20);
  assert.equal(out.text(), '');
  p.finish('done');
  p.finish('twice');
  const lines = out.text().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^reading \[#+\] 100\.0% 3\.0MiB\/3\.0MiB .* done$/);
});

test('on a terminal: redraws with carriage returns, bar grows, counts without a total', () => {
  const out = sink(true);
  const p = new Progress({ label: 'words', total: 10, stream: out, intervalMs: 0 });
  p.update(5);
  p.advance(5);
  p.finish();
  const text = out.text();
  assert.ok(text.startsWith('\rwords ['));
  assert.match(text, /50\.0% 5\/10/);
  assert.match(text, /100\.0% 10\/10 .*\n$/);
  const open = sink(false);
  const q = new Progress({ label: 'lines', stream: open });
  q.update(12345);
  q.finish();
  assert.match(open.text(), /^lines: 12\.3k /);
});

test('a resumed job: the bar starts at `start`, rate and ETA count this run only, the note follows the bar', async () => {
  const out = sink(true);
  const p = new Progress({ label: 'pre-training', total: 1000, start: 900, stream: out, intervalMs: 0 });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  p.update(950, 'loss 1.2345');
  const line = out.text();
  assert.match(line, /95\.0% 950\/1000/);
  // 50 steps in at least 1 s: at most 50/s (counting from 0 would claim 950 steps, ~950/s).
  const rate = Number(/ (\d+)\/s/.exec(line)![1]);
  assert.ok(rate <= 50, line);
  // Half of this run's work is left, so the ETA is the time spent so far (>= 1 s); from 0 it would be 5% of it.
  const eta = Number(/ eta (\d+)s loss 1\.2345/.exec(line)![1]);
  assert.ok(eta >= 1, line);
  p.finish();
  // The final line keeps the last note.
  assert.match(out.text(), /\r[^\r]*95\.0% 950\/1000 [^\r]* loss 1\.2345\x1b\[K\n$/);
});
