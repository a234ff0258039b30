// A model pre-trained with electra_objective false (a masked LM: pre-training writes generator/
// only) is found under --model-name and fine-tuned from its encoder, with a notice saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsKernels } from '../../src/kernels/index.js';
import { ElectraMaskedLM } from '../../src/model/masked-lm.js';
import { defaultElectraConfig } from '../../src/io/hf-config.js';
import { readHfFolder, writeHfFolder } from '../../src/io/hf-folder.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { resolvePretrainedFolder, runFinetuning } from '../../src/finetune/runner.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir } from '../finetune/fixtures.js';
import { ENCODER, quiet, SIZE, writeGlue, writePretrained } from './fixtures.js';

test('fine-tuning finds a masked-LM model (generator/ without discriminator/) under --model-name, says so, and starts from its encoder', () => {
  const dir = new TempDir('ft-mlm-');
  try {
    writeGlue(dir);
    const lm = new ElectraMaskedLM(jsKernels, ENCODER, { maxBatch: 1, maxSeqLen: 8 });
    lm.params.initialize(5);
    const tensors = new Map(lm.params.hfStateDict('generator').map(({ name, ref }) => [name, { shape: [...ref.shape], data: Float32Array.from(ref.value) }]));
    const generator = join(dir.path, 'models', 'mlm', 'checkpoint-2', 'generator');
    writeHfFolder(generator, { config: defaultElectraConfig({ ...ENCODER, architectures: ['ElectraForMaskedLM'] }), tensors, vocab: bertUncasedVocab() });
    assert.equal(resolvePretrainedFolder(join(dir.path, 'models', 'mlm')), generator);
    // A discriminator, where there is one, is still preferred.
    const disc = writePretrained(dir, 'electra');
    writeHfFolder(join(dir.path, 'models', 'electra', 'checkpoint-3', 'generator'), { config: defaultElectraConfig({ ...ENCODER, architectures: ['ElectraForMaskedLM'] }), tensors, vocab: bertUncasedVocab() });
    assert.equal(resolvePretrainedFolder(join(dir.path, 'models', 'electra')), disc);

    const lines: string[] = [];
    const result = runFinetuning({
      hparams: resolveHparams({ ...SIZE, data_dir: dir.path, model_name: 'mlm', task_names: ['rte'], num_train_epochs: 1, train_batch_size: 8, learning_rate: 1e-9 }).hparams,
      log: (l) => lines.push(l), progressStream: quiet,
    });
    assert.ok(lines.some((l) => l === `fine-tuning from ${generator} (ElectraForMaskedLM: a masked LM, no discriminator; its encoder without the LM head)`), lines.join('\n'));
    // At a negligible learning rate the fine-tuned encoder is the masked LM's.
    const saved = readHfFolder(result.modelDirs[0]!, { validate: false }).tensors;
    for (const name of ['electra.embeddings.word_embeddings.weight', 'electra.encoder.layer.0.attention.self.query.weight']) {
      const a = saved.get(name)!.data;
      const b = tensors.get(name)!.data;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      assert.ok(worst < 1e-6, `${name} moved ${worst} from the masked LM's`);
    }
  } finally {
    dir.remove();
  }
});
