// Writes docs/hparams.md from the hparams schemas. Run `npx tsc -p .` first.
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hparamsReference } from '../dist/src/cli/hparams-doc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'docs', 'hparams.md'), hparamsReference());
