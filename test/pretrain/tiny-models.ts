// Tiny randomly initialized HF model folders (an ElectraForPreTraining and an ElectraForMaskedLM
// over the tiny vocabulary), written by the tests, for the inference, CLI and server tests.
import { join } from 'node:path';
import { writeHfFolder } from '../../src/io/hf-folder.js';
import { jsKernels } from '../../src/kernels/index.js';
import type { ElectraConfig } from '../../src/model/config.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';
import { ElectraMaskedLM } from '../../src/model/masked-lm.js';
import { hfFolderFor } from '../../src/pretrain/hf-weights.js';
import { randomArray } from '../helpers.js';
import { tempDir, tinyVocab } from './fixtures.js';

/** Hidden 16 over embeddings 8 (so embeddings_project runs), 2 layers of 2 heads, 40 positions. */
export function tinyModelConfig(vocabSize: number, extra: Partial<ElectraConfig> = {}): ElectraConfig {
  return {
    vocab_size: vocabSize, embedding_size: 8, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24,
    hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 40, type_vocab_size: 2,
    initializer_range: 0.02, layer_norm_eps: 1e-12, ...extra,
  };
}

export interface TinyModels {
  dir: string;
  vocab: string[];
  discriminatorDir: string;
  generatorDir: string;
  cleanup: () => void;
}

/** <dir>/discriminator and <dir>/generator (generatorExtra: its own sizes) with random weights (every tensor, biases and LayerNorms too). */
export function writeTinyModels(prefix: string, extra: Partial<ElectraConfig> = {}, generatorExtra: Partial<ElectraConfig> = {}): TinyModels {
  const t = tempDir(prefix);
  const vocab = tinyVocab();
  const config = tinyModelConfig(vocab.length, extra);
  const genConfig = { ...config, ...generatorExtra };
  const disc = new ElectraDiscriminator(jsKernels, config, { maxBatch: 1, maxSeqLen: 4 });
  const gen = new ElectraMaskedLM(jsKernels, genConfig, { maxBatch: 1, maxSeqLen: 4 });
  // Large enough weights that the outputs differ visibly from token to token.
  disc.params.params.set(randomArray(disc.params.size, 11, 0.3));
  gen.params.params.set(randomArray(gen.params.size, 12, 0.3));
  // A pre-trained pair shares one embedding module.
  for (const ref of gen.params.entries) {
    const shared = ref.name.startsWith('electra.embeddings.') ? disc.params.get(ref.name).value : null;
    if (shared?.length === ref.size) ref.value.set(shared);
  }
  const discriminatorDir = join(t.dir, 'discriminator');
  const generatorDir = join(t.dir, 'generator');
  writeHfFolder(discriminatorDir, hfFolderFor(disc.params, config, 'discriminator', vocab, true));
  writeHfFolder(generatorDir, hfFolderFor(gen.params, genConfig, 'generator', vocab, true));
  return { dir: t.dir, vocab, discriminatorDir, generatorDir, cleanup: t.cleanup };
}
