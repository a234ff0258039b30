// Child process of the tokenizer bench: HF `tokenizers` throughput, run apart so that the Rust
// thread-pool settings (RAYON_NUM_THREADS) take effect before the library starts.
import { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { benchTexts } from './tokenizer-texts.js';

export interface HfFigures {
  tokens: number;
  idsTokensPerSec: number;
  offsetsTokensPerSec: number;
}

async function main(): Promise<void> {
  const [vocabPath, passesArg] = process.argv.slice(2);
  if (!vocabPath) throw new Error('usage: tokenizer-hf.js VOCAB [PASSES]');
  const passes = Number(passesArg ?? 2);
  const texts = benchTexts();
  const tokenizer = new Tokenizer(await WordPiece.fromFile(vocabPath, { unkToken: '[UNK]' }));
  tokenizer.setNormalizer(bertNormalizer({ lowercase: true }));
  tokenizer.setPreTokenizer(bertPreTokenizer());
  // One pass over the corpus in batches (as a user would feed encodeBatch), reading back the
  // ids, and optionally the offsets, into JavaScript.
  const pass = async (withOffsets: boolean): Promise<number> => {
    let tokens = 0;
    for (let from = 0; from < texts.length; from += 4096) {
      const encodings = await tokenizer.encodeBatch(texts.slice(from, from + 4096), { addSpecialTokens: false });
      for (const e of encodings) {
        tokens += e.getIds().length;
        if (withOffsets) e.getOffsets();
      }
    }
    return tokens;
  };
  // Warm-up on a slice: HF keeps no word cache, so this only settles the JIT and thread pool.
  for (let from = 0; from < 8192; from += 4096) await tokenizer.encodeBatch(texts.slice(from, from + 4096), { addSpecialTokens: false });
  let tokens = 0;
  const best = { ids: Infinity, offsets: Infinity };
  for (let p = 0; p < passes; p++) {
    let t0 = performance.now();
    tokens = await pass(false);
    best.ids = Math.min(best.ids, performance.now() - t0);
    t0 = performance.now();
    await pass(true);
    best.offsets = Math.min(best.offsets, performance.now() - t0);
  }
  const figures: HfFigures = { tokens, idsTokensPerSec: tokens / (best.ids / 1000), offsetsTokensPerSec: tokens / (best.offsets / 1000) };
  process.stdout.write(JSON.stringify(figures) + '\n');
}

await main();
