// Replacing checkpoint-N: a kill at any file-system step leaves a complete checkpoint N after the
// next start's clean-up (issue 14, item 6). A child process writes checkpoint-5 twice and kills
// itself just before its K-th rename or delete, for every K until it gets through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints, removeStaleCheckpointFiles, STATE_FILE } from '../../src/io/checkpoint-folders.js';
import { scratchDir } from './util.js';

const module = new URL('../../src/io/checkpoint-folders.js', import.meta.url).href;

/** Writes checkpoint-5 ('old'), then again ('new') with a kill before the K-th rename/rm of the second write. */
function childScript(dir: string, killAt: number): string {
  return `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const { writeCheckpointFolder } = await import(${JSON.stringify(module)});
    const write = (text) => writeCheckpointFolder(${JSON.stringify(dir)}, {
      step: 5, state: { text }, keep: 0,
      build: (staging) => fs.writeFileSync(staging + '/weights.txt', text),
    });
    write('old');
    let calls = 0;
    for (const name of ['renameSync', 'rmSync']) {
      const original = fs[name];
      fs[name] = (...args) => {
        if (++calls === ${killAt}) process.kill(process.pid, 'SIGKILL');
        return original(...args);
      };
    }
    syncBuiltinESMExports();
    write('new');
    process.stdout.write('done after ' + calls + ' calls');`;
}

test('a kill at any step of replacing checkpoint-5 leaves a complete checkpoint-5', () => {
  let finished = false;
  for (let k = 1; k <= 20 && !finished; k++) {
    const dir = join(scratchDir('ckpt-swap'), 'model');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', childScript(dir, k)], { encoding: 'utf8' });
    finished = r.status === 0;
    if (!finished) assert.equal(r.signal, 'SIGKILL', `child failed: ${r.stderr}`);
    removeStaleCheckpointFiles(dir); // what the next run does first
    const found = listCheckpoints(dir);
    assert.deepEqual(found.map((c) => c.step), [5], `kill before operation ${k}: checkpoints ${JSON.stringify(found)}`);
    const text = readFileSync(join(dir, 'checkpoint-5', 'weights.txt'), 'utf8');
    assert.ok(text === 'old' || text === 'new', text);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'checkpoint-5', STATE_FILE), 'utf8')), { text }, `kill before operation ${k}: a mixed checkpoint`);
    assert.deepEqual(readdirSync(dir), ['checkpoint-5'], `kill before operation ${k}: leftovers`);
    if (finished) assert.equal(text, 'new');
  }
  assert.ok(finished, 'the second write never completed');
});
