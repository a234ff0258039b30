// The public API is what docs/api.md lists: the same value names at run time, the same type names
// in src/index.ts, each with TSDoc at its declaration; internals and test hooks stay out of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.cwd();

interface Documented { values: Set<string>; types: Set<string> }

// Bullets "- `name`..." (values) and "..., `Name` (types)." runs in docs/api.md.
function documented(): Documented {
  const text = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const values = new Set<string>();
  const types = new Set<string>();
  for (const bullet of text.split(/\n(?=- )/).filter((b) => b.startsWith('- '))) {
    const head = bullet.split('\n\n')[0]!.split(' — ')[0]!;
    const target = /\(types?\)/.test(head) ? types : values;
    for (const m of head.matchAll(/`([A-Za-z]\w*)/g)) target.add(m[1]!);
  }
  return { values, types };
}

function indexNames(kind: 'value' | 'type'): Set<string> {
  const src = readFileSync(join(root, 'src', 'index.ts'), 'utf8');
  const out = new Set<string>();
  const re = kind === 'type' ? /export type \{([^}]*)\} from/g : /export \{([^}]*)\} from/g;
  for (const m of src.matchAll(re)) for (const n of m[1]!.split(',').map((s) => s.trim()).filter(Boolean)) out.add(n);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the module exports exactly the values docs/api.md lists', async () => {
  const api = await import(pathToFileURL(join(root, 'dist', 'src', 'index.js')).href) as Record<string, unknown>;
  const { values } = documented();
  assert.ok(values.size >= 20, `docs/api.md lists ${values.size} values`);
  assert.deepEqual(Object.keys(api).sort(), [...values].sort());
  for (const name of values) assert.ok(api[name] !== undefined, `${name} is undefined`);
});

test('src/index.ts exports exactly the types docs/api.md lists', () => {
  const { types } = documented();
  assert.ok(types.has('Encoding') && types.has('BackendReport'));
  assert.deepEqual([...indexNames('type')].sort(), [...types].sort());
});

test('every public name has TSDoc at its declaration', () => {
  const files = sourceFiles(join(root, 'src')).map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n') }));
  const undocumented: string[] = [];
  for (const name of [...indexNames('value'), ...indexNames('type')]) {
    const decl = new RegExp(`^export (declare )?(abstract )?(async )?(function|class|const|interface|type) ${name}\\b`);
    const found = files.flatMap(({ f, lines }) => lines.flatMap((l, i) => (decl.test(l) ? [{ f, before: lines[i - 1] ?? '' }] : [])));
    assert.ok(found.length > 0, `no declaration of ${name} under src/`);
    for (const { f, before } of found) if (!before.trim().endsWith('*/')) undocumented.push(`${name} (${f})`);
  }
  assert.deepEqual(undocumented, []);
});

test('internals and test hooks stay out of the public API; ./internal has the building blocks', async () => {
  const api = await import(pathToFileURL(join(root, 'dist', 'src', 'index.js')).href) as Record<string, unknown>;
  for (const name of ['PythonRandom', 'FeistelPermutation', 'checkRunInputs', 'pythonStrip', 'kernels', 'jsKernels']) {
    assert.equal(api[name], undefined, `${name} is public`);
  }
  const publicTypes = readFileSync(join(root, 'dist', 'src', 'pretrain', 'run.d.ts'), 'utf8')
    + readFileSync(join(root, 'dist', 'src', 'finetune', 'index.d.ts'), 'utf8');
  assert.doesNotMatch(publicTypes, /killInCheckpoint/);
  // ELECTRA_TEST_* switches are read in one testing module only.
  const readers = sourceFiles(join(root, 'src')).filter((f) => /ELECTRA_TEST_/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(readers.map((f) => f.slice(root.length + 1)), [join('src', 'util', 'testing.ts')]);

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string } | string> };
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './internal', './package.json']);
  const internalPath = (pkg.exports['./internal'] as { default: string }).default;
  const internal = await import(pathToFileURL(join(root, internalPath)).href) as Record<string, unknown>;
  for (const name of [...Object.keys(api), 'PythonRandom', 'FeistelPermutation', 'kernels']) {
    assert.ok(internal[name] !== undefined, `electra-ts/internal lacks ${name}`);
  }
});
