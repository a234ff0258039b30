// `electra convert`: a google-research/electra TF checkpoint -> an HF model folder
// (config.json, model.safetensors, vocab.txt, tokenizer files).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { booleanFlag, intFlag, readCommandFlags, requiredString, stringFlag, type FlagOptions } from './parse-options.js';
import { parseJsonText } from '../util/json.js';
import type { Command } from './commands.js';
import { convertTfCheckpoint } from '../io/tf-electra.js';
import { parseElectraConfig } from '../io/hf-config.js';
import { readVocabFile, writeHfFolder } from '../io/hf-folder.js';
import { resolveTfCheckpointPrefix } from '../io/tf-checkpoint.js';
import { DEFAULT_MAX_SHARD_BYTES } from '../io/sharded.js';
import { UsageError } from '../errors.js';
import { electraToTfVariables } from '../io/tf-electra.js';
import { writeTfCheckpoint, type TfWriteTensor } from '../io/tf-checkpoint-writer.js';
import { readPretrainedFolders } from '../pretrain/load.js';
import { checkOutputFolder } from '../io/files.js';

const HELP = `Usage: electra convert --tf-checkpoint PATH --output-dir OUT [options]
       electra convert --to tf --model PATH --output-dir OUT [--name model.ckpt]

Converts a google-research/electra TensorFlow checkpoint (e.g. Google's released
electra_small/base/large) into a HuggingFace model folder that transformers and electra-ts load.
With --to tf, the reverse: writes a TF checkpoint (OUT/model.ckpt.index, .data-00000-of-00001 and
OUT/checkpoint) in the reference's variable names, which its run_finetuning.py and
run_pretraining.py restore as init_checkpoint (model weights only; no optimizer slots).

  --to tf                   write a TF checkpoint instead of an HF folder
  --model PATH              (--to tf) an HF folder (ElectraForPreTraining, ElectraForMaskedLM or
                            ElectraModel), a folder with discriminator/ and generator/ (one of
                            our checkpoints), or a pre-training model dir (its newest checkpoint)
  --name NAME               (--to tf) checkpoint prefix inside OUT (default model.ckpt)

  --tf-checkpoint PATH      checkpoint prefix (model.ckpt), its .index file, or its folder
  --output-dir OUT          folder to write (config.json, model.safetensors, vocab.txt, ...)
  --generator               export the generator (ElectraForMaskedLM) instead of the
                            discriminator (ElectraForPreTraining)
  --config FILE             an HF config.json to use instead of inferring one from the shapes
  --num-attention-heads N   head count when inferring (default: hidden_size / 64, as the reference)
  --vocab-file FILE         vocab.txt to include (default: vocab.txt beside the checkpoint, if any)
  --no-lower-case           the vocabulary is cased (tokenizer_config do_lower_case false)
  --max-shard-size SIZE     shard model.safetensors above SIZE (e.g. 2GB, 500MB; default 5GB)
  --ignore-unknown          skip variables that are not part of an ELECTRA model
  --overwrite               replace a model already in OUT
`;

/** "5GB", "500MB", "2GiB", "1000" -> bytes (GB/MB/KB decimal as transformers; GiB/MiB/KiB binary). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad size '${text}' (examples: 5GB, 500MB, 2GiB, 1000000)`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const scale: Record<string, number> = {
    B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40,
  };
  const bytes = Math.floor(Number(m[1]) * scale[unit]!);
  if (!(bytes > 0)) throw new UsageError(`size must be positive: '${text}'`);
  return bytes;
}

const OPTIONS: FlagOptions = {
  'tf-checkpoint': { type: 'string' },
  'output-dir': { type: 'string' },
  generator: { type: 'boolean' },
  config: { type: 'string' },
  'num-attention-heads': { type: 'string' },
  'vocab-file': { type: 'string' },
  'lower-case': { type: 'boolean', negatable: true },
  'max-shard-size': { type: 'string' },
  'ignore-unknown': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  to: { type: 'string' },
  model: { type: 'string' },
  name: { type: 'string' },
};

/** `--to tf`: HF folders -> a TF checkpoint in the reference's names. */
function convertToTf(flags: Exclude<ReturnType<typeof readCommandFlags>, number>): number {
  const modelPath = requiredString(flags, 'model');
  const outDir = requiredString(flags, 'output-dir');
  const name = stringFlag(flags, 'name') ?? 'model.ckpt';
  if (!/^[^/\\]+$/.test(name)) throw new UsageError(`--name must be a file name prefix such as model.ckpt, got '${name}'`);
  if (existsSync(join(outDir, `${name}.index`)) && !booleanFlag(flags, 'overwrite', false)) {
    throw new UsageError(`${join(outDir, `${name}.index`)} exists; pass --overwrite to replace it`);
  }
  const folders = readPretrainedFolders(modelPath);
  const variables: Map<string, TfWriteTensor> = electraToTfVariables(folders);
  if (folders.step !== null) variables.set('global_step', { shape: [], int64: BigInt(folders.step) });
  const written = writeTfCheckpoint(outDir, name, variables);
  const roles = [folders.discriminator ? 'discriminator' : '', folders.generator ? 'generator' : ''].filter((r) => r).join(' and ');
  process.stdout.write(`read ${folders.dir} (${roles})\n  wrote ${variables.size} variables in the reference's names\nwrote ${outDir}: ${written.join(', ')}\n`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  // The direction decides which flags are required (named with the usage when missing).
  const toTf = argv.some((a, i) => a === '--to=tf' || (a === '--to' && argv[i + 1] === 'tf'));
  const flags = readCommandFlags(argv, {
    command: 'convert', usage: HELP, options: OPTIONS, required: [toTf ? ['model', 'output-dir'] : ['tf-checkpoint', 'output-dir']],
  });
  if (typeof flags === 'number') return flags;
  const to = stringFlag(flags, 'to') ?? 'hf';
  if (to === 'tf') return convertToTf(flags);
  if (to !== 'hf') throw new UsageError(`--to must be hf or tf, got '${to}'`);
  const ckptArg = requiredString(flags, 'tf-checkpoint');
  const outDir = requiredString(flags, 'output-dir');
  checkOutputFolder(outDir, '--output-dir');
  const heads = intFlag(flags, 'num-attention-heads', { min: 1 });
  const shardSize = stringFlag(flags, 'max-shard-size');
  const maxShardBytes = shardSize ? parseSize(shardSize) : DEFAULT_MAX_SHARD_BYTES;
  const prefix = resolveTfCheckpointPrefix(ckptArg);
  const configPath = stringFlag(flags, 'config');
  const config = configPath ? parseElectraConfig(parseJsonText(readFileSync(configPath, 'utf8'), configPath, (m) => new UsageError(m)), configPath) : undefined;
  let vocabPath = stringFlag(flags, 'vocab-file');
  if (vocabPath && !existsSync(vocabPath)) throw new UsageError(`--vocab-file ${vocabPath} does not exist`);
  if (!vocabPath && existsSync(join(dirname(prefix), 'vocab.txt'))) vocabPath = join(dirname(prefix), 'vocab.txt');

  const role = booleanFlag(flags, 'generator', false) ? 'generator' : 'discriminator';
  const result = convertTfCheckpoint(prefix, {
    role,
    ...(config ? { config } : {}),
    ...(heads !== undefined ? { numAttentionHeads: heads } : {}),
    ignoreUnknown: booleanFlag(flags, 'ignore-unknown', false),
  });
  const folder = result.folder;
  if (vocabPath) {
    folder.vocab = readVocabFile(vocabPath);
    if (folder.vocab.length !== folder.config.vocab_size) {
      throw new UsageError(`${vocabPath} has ${folder.vocab.length} tokens but the checkpoint's vocab_size is ${folder.config.vocab_size}`);
    }
  }
  folder.tokenizer = { do_lower_case: booleanFlag(flags, 'lower-case', true), extra: {} };
  const written = writeHfFolder(outDir, folder, { maxShardBytes, overwrite: booleanFlag(flags, 'overwrite', false) });

  const out = process.stdout;
  out.write(`read ${prefix} (${result.mapped.size + result.skipped.size} variables)\n`);
  for (const note of result.notes) out.write(`  ${note}\n`);
  const reasons = new Map<string, number>();
  for (const why of result.skipped.values()) reasons.set(why, (reasons.get(why) ?? 0) + 1);
  out.write(`  converted ${result.mapped.size} tensors to ${folder.config.architectures[0]}; skipped ${[...reasons].map(([r, n]) => `${n} (${r})`).join(', ') || 'none'}\n`);
  if (!vocabPath) out.write('  no vocab.txt found beside the checkpoint and no --vocab-file given: the folder has no tokenizer vocabulary\n');
  out.write(`wrote ${outDir}: ${written.join(', ')}\n`);
  return 0;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Convert a google-research/electra TF checkpoint into a HuggingFace model folder',
  run,
};
