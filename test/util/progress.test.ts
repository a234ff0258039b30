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
