// `npm run bench -- tokenizer`: tokens per second on Brown + SOTU for this tokenizer on one
// thread, this tokenizer on all cores (TokenizerPool), and HF `tokenizers` on one thread
// (RAYON_NUM_THREADS=1) and on all cores (encodeBatch's default thread pool), all in this run.
// Two workloads: ids only, and ids with character offsets read back into JavaScript.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer, TokenizerPool, bertUncasedVocab, bertUncasedVocabText } from '../src/tokenizer/index.js';
import { table } from './util.js';
import { benchTexts } from './tokenizer-texts.js';
import type { HfFigures } from './tokenizer-hf.js';

// Timed passes over the whole corpus (best kept); HF is slow, so it gets fewer.
const PASSES = 3;
const HF_PASSES = 2;

function hf(vocabPath: string, env: NodeJS.ProcessEnv): HfFigures {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'tokenizer-hf.js');
  const r = spawnSync(process.execPath, [script, vocabPath, String(HF_PASSES)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`HF bench child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as HfFigures;
}

async function best(passes: number, fn: () => unknown): Promise<number> {
  await fn(); // warm-up: fills the word caches and lets the JIT settle
  let bestMs = Infinity;
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    await fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return bestMs;
}

export async function run(): Promise<void> {
  const texts = benchTexts();
  const chars = texts.reduce((s, t) => s + t.length, 0);
  const vocabPath = join(mkdtempSync(join(tmpdir(), 'electra-bench-')), 'vocab.txt');
  writeFileSync(vocabPath, bertUncasedVocabText());
  const cores = availableParallelism();
  const loadBefore = loadavg()[0]!; // other work on the machine skews wall-clock figures: report it

  const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab());
  let tokens = 0;
  for (const t of texts) tokens += tokenizer.encodeIds(t).length;
  const oneIdsMs = await best(PASSES, () => {
    const ids: number[] = [];
    for (const t of texts) {
      ids.length = 0;
      tokenizer.encodeIdsInto(t, ids);
    }
  });
  const oneOffsetsMs = await best(PASSES, () => {
    for (const t of texts) tokenizer.pieces(t);
  });

  const pool = new TokenizerPool(bertUncasedVocab(), { threads: cores });
  const poolIdsMs = await best(PASSES, () => pool.encodeBatch(texts));
  const poolOffsetsMs = await best(PASSES, () => pool.encodeBatch(texts, { withOffsets: true }));
  const poolTokens = (await pool.encodeBatch(texts)).ids.length;
  await pool.close();

  const hfOne = hf(vocabPath, { ...process.env, RAYON_NUM_THREADS: '1', RAYON_RS_NUM_CPUS: '1', TOKENIZERS_PARALLELISM: 'false' });
  const hfAll = hf(vocabPath, { ...process.env, TOKENIZERS_PARALLELISM: 'true' });
  if (hfOne.tokens !== tokens || hfAll.tokens !== tokens || poolTokens !== tokens) {
    throw new Error(`token counts differ: ours ${tokens}, pool ${poolTokens}, HF ${hfOne.tokens}/${hfAll.tokens}`);
  }

  const rate = (ms: number): number => tokens / (ms / 1000);
  const figures = {
    suite: 'tokenizer',
    texts: texts.length,
    chars,
    tokens,
    cores,
    load_avg_1m: [loadBefore, loadavg()[0]!],
    ours_1t_ids: rate(oneIdsMs),
    ours_1t_offsets: rate(oneOffsetsMs),
    ours_pool_ids: rate(poolIdsMs),
    ours_pool_offsets: rate(poolOffsetsMs),
    hf_1t_ids: hfOne.idsTokensPerSec,
    hf_1t_offsets: hfOne.offsetsTokensPerSec,
    hf_batch_ids: hfAll.idsTokensPerSec,
    hf_batch_offsets: hfAll.offsetsTokensPerSec,
    ratio_1t_ids: rate(oneIdsMs) / hfOne.idsTokensPerSec,
    ratio_1t_offsets: rate(oneOffsetsMs) / hfOne.offsetsTokensPerSec,
    ratio_all_ids: rate(poolIdsMs) / hfAll.idsTokensPerSec,
    ratio_all_offsets: rate(poolOffsetsMs) / hfAll.offsetsTokensPerSec,
  };
  const M = (v: number): number => v / 1e6;
  console.log(`Brown + SOTU: ${texts.length} lines, ${chars} characters, ${tokens} WordPiece tokens (bert-base-uncased vocab), ${cores} cores, load average ${figures.load_avg_1m.map((l) => l.toFixed(1)).join(' -> ')}`);
  console.log(table([
    { tokenizer: 'electra-ts', threads: '1', 'ids Mtok/s': M(figures.ours_1t_ids), 'ids+offsets Mtok/s': M(figures.ours_1t_offsets), 'x HF (ids)': figures.ratio_1t_ids, 'x HF (offsets)': figures.ratio_1t_offsets },
    { tokenizer: 'HF tokenizers', threads: '1', 'ids Mtok/s': M(figures.hf_1t_ids), 'ids+offsets Mtok/s': M(figures.hf_1t_offsets), 'x HF (ids)': 1, 'x HF (offsets)': 1 },
    { tokenizer: 'electra-ts pool', threads: String(cores), 'ids Mtok/s': M(figures.ours_pool_ids), 'ids+offsets Mtok/s': M(figures.ours_pool_offsets), 'x HF (ids)': figures.ratio_all_ids, 'x HF (offsets)': figures.ratio_all_offsets },
    { tokenizer: 'HF encodeBatch', threads: 'all', 'ids Mtok/s': M(figures.hf_batch_ids), 'ids+offsets Mtok/s': M(figures.hf_batch_offsets), 'x HF (ids)': 1, 'x HF (offsets)': 1 },
  ]));
  console.log(JSON.stringify(figures));
}
