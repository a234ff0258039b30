// Builds the native addon during `npm install`. A failed build is not fatal:
// the package then runs on the JS backend and says so when it loads.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const failureNote = join(root, 'build', 'native-build-failed.txt');
if (process.env.ELECTRA_SKIP_NATIVE) {
  console.log('electra-ts: ELECTRA_SKIP_NATIVE is set; not building the native addon');
  process.exit(0);
}
const gypJs = process.env.npm_config_node_gyp;
const [cmd, args] = gypJs && existsSync(gypJs)
  ? [process.execPath, [gypJs, 'rebuild']]
  : ['node-gyp', ['rebuild']];
const jobs = process.env.JOBS ?? 'max';
const result = spawnSync(cmd, [...args, `--jobs=${jobs}`], { cwd: root, stdio: 'inherit', env: process.env });
if (result.status === 0) {
  rmSync(failureNote, { force: true });
  process.exit(0);
}
const why = result.error ? result.error.message : `node-gyp exited with status ${result.status}`;
mkdirSync(dirname(failureNote), { recursive: true });
writeFileSync(failureNote, why + '\n');
console.warn(`electra-ts: the native addon did not build (${why}); the JS backend will be used.`);
process.exit(0);
