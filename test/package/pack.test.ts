// The packed tarball: it holds what users need and nothing else, installs into an empty folder
// offline (no devDependencies, so no TypeScript; the native addon builds from the shipped sources)
// and runs a small pipeline and `electra info` there, with the same results as this checkout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.cwd();

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Tokenizes a sentence, writes a tiny random discriminator as an HF folder and runs it.
const pipeline = `
import { BertTokenizer, bertUncasedVocab, writeHfFolder, loadDiscriminator, backendReport } from 'electra-ts';
import { defaultElectraConfig, electraTensorSpec } from 'electra-ts/internal';
const vocab = bertUncasedVocab();
const enc = BertTokenizer.fromVocab(vocab).encode('ELECTRA detects replaced tokens.');
const config = defaultElectraConfig({
  vocab_size: vocab.length, embedding_size: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  intermediate_size: 64, max_position_embeddings: 64,
});
let s = 1;
const tensors = new Map();
for (const { name, shape } of electraTensorSpec(config, 'ElectraForPreTraining')) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = (s / 2 ** 32 - 0.5) * 0.2; }
  tensors.set(name, { shape, data });
}
const dir = process.argv[2];
writeHfFolder(dir, { config, tensors, vocab });
const r = loadDiscriminator(dir).discriminateText('the cat sat on the mat');
console.log(JSON.stringify({ tokens: enc.tokens, offsets: enc.offsets, discTokens: r.tokens, probs: [...r.probs], backend: backendReport().backend }));
`;

interface PipelineOutput { tokens: string[]; offsets: unknown; discTokens: string[]; probs: number[]; backend: string }

test('npm pack ships what users need; the tarball installs offline and runs a pipeline and electra info', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'electra-pack-'));
  try {
    // dist/ is compiled by `npm test`; --ignore-scripts skips `prepare` (tsc) here.
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root).stdout) as
      { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const need of ['package.json', 'README.md', 'LICENSE', 'docs/api.md', 'bin/electra.js', 'binding.gyp',
      'scripts/build-native.mjs', 'native/gemm_simd.inc', 'native/napi_args.h', 'dist/src/index.js', 'dist/src/index.d.ts',
      'dist/src/internal.js', 'dist/src/cli/main.js', 'dist/src/tokenizer/pool-worker.js']) {
      assert.ok(files.includes(need), `the tarball lacks ${need}`);
    }
    const stray = files.filter((f) => /^(test|bench|\.ci|src|dist\/test|dist\/bench|build|node_modules)\//.test(f) || f.endsWith('.map'));
    assert.deepEqual(stray, []);
    assert.ok(readFileSync(join(root, 'LICENSE'), 'utf8').includes('Apache License'));

    // An empty application. Offline npm resolves nothing, so it gets a lockfile made from this
    // checkout's (the runtime packages' exact versions and hashes, all in the npm cache after
    // the checkout's own `npm install`), and the same overrides.
    const app = join(tmp, 'app');
    const tgz = `file:${join(tmp, packed[0]!.filename)}`;
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const appPkg = { name: 'app', version: '1.0.0', private: true, type: 'module', dependencies: { 'electra-ts': tgz }, overrides: pkg['overrides'] };
    const packages: Record<string, unknown> = {
      '': { name: 'app', version: '1.0.0', dependencies: appPkg.dependencies },
      'node_modules/electra-ts': {
        version: pkg['version'], resolved: tgz, hasInstallScript: true, license: pkg['license'],
        dependencies: pkg['dependencies'], bin: pkg['bin'], engines: pkg['engines'],
      },
    };
    // The checkout's lockfile names no download addresses; with none, npm asks for each package's
    // metadata, which the cache may hold in another form than offline npm ci looks for. The
    // registry's tarball address, with the lockfile's hash, is found in the cache as it is.
    const registry = run('npm', ['config', 'get', 'registry'], root).stdout.trim().replace(/\/?$/, '/');
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev) continue;
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const e = entry as { version?: string; resolved?: string; link?: boolean };
      const resolved = e.resolved ?? (e.link || !e.version ? undefined : `${registry}${name}/-/${name.split('/').pop()}-${e.version}.tgz`);
      packages[path] = resolved ? { ...entry, resolved } : entry;
    }
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify(appPkg, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
    run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app, { ...process.env, JOBS: '2' });
    const installed = join(app, 'node_modules', 'electra-ts');
    assert.throws(() => readFileSync(join(installed, 'node_modules', 'typescript', 'package.json')));

    const electra = join(app, 'node_modules', '.bin', 'electra');
    const info = JSON.parse(run(electra, ['info'], app).stdout) as { backend: string; reason: string; arch: string };
    assert.equal(info.arch, process.arch);
    if (process.env['ELECTRA_REQUIRE_NATIVE']) assert.equal(info.backend, 'native', info.reason);
    assert.ok(info.reason.length > 20, info.reason);

    // The installed package computes exactly what this checkout does.
    writeFileSync(join(app, 'pipeline.mjs'), pipeline);
    const here = pipeline
      .replace("from 'electra-ts'", `from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'src', 'index.js')).href)}`)
      .replace("from 'electra-ts/internal'", `from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'src', 'internal.js')).href)}`);
    writeFileSync(join(app, 'pipeline-here.mjs'), here);
    const fromTarball = JSON.parse(run(process.execPath, ['pipeline.mjs', 'model-a'], app).stdout) as PipelineOutput;
    const fromCheckout = JSON.parse(run(process.execPath, ['pipeline-here.mjs', 'model-b'], app, { ...process.env, ELECTRA_BACKEND: info.backend }).stdout) as PipelineOutput;
    // bert-base-uncased's WordPiece split.
    assert.deepEqual(fromTarball.tokens, ['[CLS]', 'elect', '##ra', 'detect', '##s', 'replaced', 'token', '##s', '.', '[SEP]']);
    assert.deepEqual(fromTarball.discTokens, ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '[SEP]']);
    assert.ok(fromTarball.probs.every((p) => p > 0 && p < 1));
    assert.deepEqual(fromTarball, fromCheckout);

    // Without the addon: the JS backend runs, and both `electra info` and the first run say why.
    rmSync(join(installed, 'build', 'Release', 'electra_native.node'));
    const env = { ...process.env };
    delete env['ELECTRA_REQUIRE_NATIVE'];
    const fallback = JSON.parse(run(electra, ['info'], app, env).stdout) as { backend: string; reason: string; nativeError?: string };
    assert.equal(fallback.backend, 'js');
    assert.match(fallback.reason, /native addon could not be loaded/);
    assert.match(fallback.nativeError ?? '', /electra_native\.node is missing/);
    const js = run(process.execPath, ['pipeline.mjs', 'model-c'], app, env);
    assert.match(js.stderr, /using the JS backend .*native addon could not be loaded/);
    const jsOut = JSON.parse(js.stdout) as PipelineOutput;
    assert.equal(jsOut.backend, 'js');
    assert.deepEqual(jsOut.discTokens, fromTarball.discTokens);
    jsOut.probs.forEach((p, i) => assert.ok(Math.abs(p - fromTarball.probs[i]!) < 1e-4, `token ${i}: ${p} vs ${fromTarball.probs[i]}`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
