// Keeps README.md honest: every `electra` command it shows exists with the flags it shows, the
// hparams it shows resolve (and the fine-tuning ones describe the model the pre-training ones
// train), the npm scripts and bench suites exist, and the TypeScript examples compile and run, in
// order, in one folder, on their small inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands } from '../src/cli/commands.js';
import { parsePretrainingHparams } from '../src/pretrain/hparams.js';
import { resolveHparams } from '../src/finetune/hparams.js';
import { modelConfigFromHparams } from '../src/finetune/model/checkpoint.js';
import { discriminatorConfig } from '../src/model/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'electra.js');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  lang: string;
  body: string;
}

function codeBlocks(): Block[] {
  return [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/**
 * The logical lines of a plain code block: `\` continuations joined, a single-quoted argument that
 * spans lines kept whole, heredoc bodies (`cat > FILE <<'END'` ... `END`) taken out into `files`.
 */
function shellLines(body: string, files: Map<string, string>): string[] {
  const out: string[] = [];
  const lines = body.split('\n');
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^cat > (\S+) <<'(\w+)'$/.exec(line.trim());
    if (current === '' && heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      files.set(heredoc[1]!, lines.slice(i + 1, end).join('\n'));
      i = end;
      continue;
    }
    current += (current === '' ? '' : ' ') + line.trim().replace(/\\$/, '').trim();
    const quotes = (current.match(/'/g) ?? []).length;
    if (line.trimEnd().endsWith('\\') || quotes % 2 === 1) continue;
    if (current !== '') out.push(current);
    current = '';
  }
  return out;
}

/** Files the README writes with heredocs (e.g. an hparams file), by name. */
const heredocFiles = new Map<string, string>();

/** `electra ...` commands: lines of plain code blocks and backticked spans in the text and tables. */
function electraCommands(): string[] {
  const out: string[] = [];
  for (const b of codeBlocks()) {
    if (b.lang !== '') continue;
    for (const line of shellLines(b.body, heredocFiles)) if (/^(npx )?electra /.test(line)) out.push(line.replace(/^npx /, ''));
  }
  const prose = readme.replace(/^```\w*\n[\s\S]*?^```$/gm, '');
  for (const m of prose.matchAll(/`((?:npx )?electra [a-z][^`]*)`/g)) out.push(m[1]!.replace(/^npx /, '').replace(/\\\|/g, '|'));
  return out;
}

/** Splits a shell line into words, honouring single quotes (the README's JSON). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2]!);
  return words;
}

test('the README starts with the title and the two commands', () => {
  assert.ok(readme.startsWith('# electra-ts\n\n```\nnpm install && npm start\nnpm install && npm test\n```\n'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
  assert.equal(pkg.scripts['start'], 'node bin/electra.js demo');
  assert.match(pkg.scripts['test']!, /run-tests\.mjs/);
  // The report inlines Chart.js from node_modules: it must be a dependency, not a dev one.
  assert.ok(pkg.dependencies['chart.js']);
});

test('every electra command in the README exists and accepts the flags shown', () => {
  const shown = electraCommands();
  assert.ok(shown.length >= 15, `found ${shown.length} commands`);
  const names = new Set([...commands.map((c) => c.name), 'info']);
  const helps = new Map<string, string>();
  for (const line of shown) {
    const words = shellWords(line);
    const name = words[1]!;
    assert.ok(names.has(name), `README shows 'electra ${name}', which the CLI does not have`);
    const flags = words.filter((w) => /^--[a-z]/.test(w)).map((w) => w.split('=')[0]!);
    if (name === 'info') {
      assert.deepEqual(flags, [], 'info takes no flags');
      continue;
    }
    if (!helps.has(name)) {
      const r = spawnSync(process.execPath, [cli, name, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `electra ${name} --help: ${r.stderr}`);
      helps.set(name, r.stdout);
    }
    for (const flag of flags) {
      assert.ok(new RegExp(`${flag}(?![a-z-])`).test(helps.get(name)!), `electra ${name} --help does not list ${flag} (README: ${line.slice(0, 80)})`);
    }
  }
  const info = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
  assert.equal(info.status, 0);
  assert.match(info.stdout, /"backend"/);
});

test('the hparams the README passes resolve, and its fine-tuning run fits its pre-trained model', () => {
  const hparamsOf = (cmd: string): string[] => electraCommands().filter((l) => l.startsWith(`electra ${cmd} `))
    .map((l) => shellWords(l)).flatMap((w) => (w.includes('--hparams') ? [w[w.indexOf('--hparams') + 1]!] : []))
    .map((arg) => {
      if (arg.trim().startsWith('{')) return arg;
      const file = heredocFiles.get(arg);
      assert.ok(file !== undefined, `--hparams ${arg}: the README shows no such file`);
      return file;
    });
  const pre = hparamsOf('pretrain');
  const fine = hparamsOf('finetune');
  assert.ok(pre.length >= 2 && fine.length >= 3, `${pre.length} pretrain and ${fine.length} finetune hparams`);
  const pretrained = pre.map((json) => parsePretrainingHparams(json, 'data', 'electra-tiny').hparams);
  const finetuning = fine.map((json) => resolveHparams({ ...JSON.parse(json) as object, data_dir: 'data', model_name: 'm' }).hparams);
  // The stage-by-stage session fine-tunes the model it pre-trained: the shapes must agree.
  assert.deepEqual(modelConfigFromHparams(finetuning[0]!), discriminatorConfig(pretrained[0]!));
});

test('the shell lines of the README that are not electra commands run', () => {
  // Inside the package, so that import('electra-ts') resolves to this build.
  const dir = join(root, `.readme-test-shell-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const files = new Map<string, string>();
    const lines = codeBlocks().filter((b) => b.lang === '').flatMap((b) => shellLines(b.body, files));
    const other = lines.filter((l) => !/^(npx )?electra |^npm /.test(l));
    assert.deepEqual(other.map((l) => l.split(' ')[0]), ['mkdir', 'node'], 'the README shows only these other commands');
    for (const line of other) {
      const r = spawnSync('bash', ['-c', line], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `${line}: ${r.stderr}`);
    }
    // The node one-liner writes BERT's uncased vocabulary.
    assert.equal(readFileSync(join(dir, 'data', 'vocab.txt'), 'utf8').split('\n').length, 30523);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every JavaScript example in the README is run by a test', () => {
  const js = [...readme.matchAll(/(<!-- readme-example: ([\w-]+) -->\n)?```js\n/g)];
  const sources = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(root, 'test', f), 'utf8'));
  for (const m of js) {
    assert.ok(m[2], 'a js example without a <!-- readme-example: NAME --> marker naming the test that runs it');
    assert.ok(sources.some((src) => src.includes(`readme-example: ${m[2]}`)), `no test runs the README example '${m[2]}'`);
  }
});

test('npm scripts and bench suites shown in the README exist', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const usage = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'run.js')], { encoding: 'utf8' }).stderr;
  let benches = 0;
  for (const b of codeBlocks()) {
    for (const line of b.body.split('\n').map((l) => l.trim())) {
      const run = /^npm run (\w+)(?: -- (\w+))?/.exec(line);
      if (run) {
        assert.ok(pkg.scripts[run[1]!], `npm run ${run[1]}`);
        if (run[1] === 'bench') {
          benches++;
          assert.ok(usage.includes(run[2]!), `bench suite ${run[2]} (usage: ${usage.trim()})`);
        }
      }
    }
  }
  assert.ok(benches >= 4);
});

test('the README library examples compile and run in order', () => {
  const examples = codeBlocks().filter((b) => b.lang === 'ts');
  assert.ok(examples.length >= 5);
  // Inside the package (no package.json of their own), so `import ... from 'electra-ts'` resolves to
  // this build by self-reference, and the package's "type": "module" makes them ES modules.
  const dir = join(root, `.readme-test-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true,
        types: ['node'], skipLibCheck: true, outDir: 'out', rootDir: '.',
      },
      include: ['*.ts'],
    }));
    examples.forEach((b, i) => writeFileSync(join(dir, `example${i + 1}.ts`), b.body));
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, `the README examples do not compile:\n${tsc.stdout}${tsc.stderr}`);
    examples.forEach((b, i) => {
      const started = performance.now();
      const r = spawnSync(process.execPath, [join(dir, 'out', `example${i + 1}.js`)], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
      assert.equal(r.status, 0, `example ${i + 1} failed:\n${b.body}\n${r.stdout}\n${r.stderr}`);
      assert.notEqual(r.stdout.trim(), '', `example ${i + 1} prints its result`);
      process.stdout.write(`# README example ${i + 1}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's own-data examples run: files written, each fine-tuning summarised and finished", () => {
  const blocks = [...readme.matchAll(/<!-- readme-run: own-data -->\n```\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.ok(blocks.length >= 4, `${blocks.length} own-data blocks`);
  const dir = join(root, `.readme-test-own-data-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    for (const body of blocks) {
      const files = new Map<string, string>();
      const lines = shellLines(body, files);
      for (const [name, text] of files) {
        mkdirSync(join(dir, dirname(name)), { recursive: true });
        writeFileSync(join(dir, name), text + '\n');
      }
      assert.ok(lines.length === 1 && lines[0]!.startsWith('npx electra finetune '), `one electra finetune command a block: ${lines.join(' | ')}`);
      const args = shellWords(lines[0]!).slice(2);
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
      assert.equal(r.status, 0, `${lines[0]!.slice(0, 120)}: ${r.stderr.slice(-2000)}`);
      const task = (JSON.parse(args[args.indexOf('--hparams') + 1]!) as { task_names: string[] }).task_names[0]!;
      assert.match(r.stderr, new RegExp(`^${task} train: \\d+ examples`, 'm'), 'the summary before training');
      assert.match(r.stderr, new RegExp(`^${task} dev: \\d+ examples`, 'm'));
      assert.match(r.stderr, /^training for \d+ steps/m);
    }
    // Then the fine-tuned models answer `electra predict` ("Using a model"): one JSON line per input.
    const predicts = [...readme.matchAll(/<!-- readme-run: own-data-predict -->\n```\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    assert.equal(predicts.length, 1);
    const files = new Map<string, string>();
    const lines = shellLines(predicts[0]!, files);
    assert.equal(lines.length, 4);
    for (const line of lines) {
      const words = shellWords(line);
      // Stdin from a heredoc, or --input: a fine-tuning file (a CSV with a header, a row a line here).
      const inputFile = words.includes('--input') ? words[words.indexOf('--input') + 1]! : null;
      const input = inputFile === null ? files.get(words[words.indexOf('<') + 1]!)! : '';
      const args = words.slice(2, words.indexOf(inputFile === null ? '<' : '>'));
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, input: input + '\n', encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `${line}: ${r.stderr.slice(-2000)}`);
      const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const examples = inputFile === null ? input.split('\n').length : readFileSync(join(dir, inputFile), 'utf8').trim().split('\n').length - 1;
      assert.equal(out.length, examples, line);
      for (const o of out) {
        if (line.includes('reviews')) assert.ok(['pos', 'neg'].includes(o['label'] as string) && Math.abs((o['probabilities'] as { pos: number; neg: number }).pos + (o['probabilities'] as { neg: number }).neg - 1) < 1e-6);
        else if (line.includes('pos_model')) assert.ok((o['tags'] as { tag: string }[]).every((t) => ['DT', 'NN', 'VBD', 'IN', '.'].includes(t.tag)));
        else assert.ok('The cat sat on the mat in the sun.'.includes(o['text'] as string), JSON.stringify(o));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
