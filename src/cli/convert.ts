// `electra convert`: a google-research/electra TF checkpoint -> an HF model folder
// (config.json, model.safetensors, vocab.txt, tokenizer files).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { flagErrorMessage } from './parse-options.js';
import { parseJsonText } from '../util/json.js';
import type { Command } from './commands.js';
import { convertTfCheckpoint } from '../io/tf-electra.js';
import { parseElectraConfig } from '../io/hf-config.js';
import { readVocabFile, writeHfFolder } from '../io/hf-folder.js';
import { resolveTfCheckpointPrefix } from '../io/tf-checkpoint.js';
import { DEFAULT_MAX_SHARD_BYTES } from '../io/sharded.js';
import { UsageError } from '../io/errors.js';

const HELP = `Usage: electra convert --tf-checkpoint PATH --output-dir OUT [options]

Converts a google-research/electra TensorFlow checkpoint (e.g. Google's released
electra_small/base/large) into a HuggingFace model folder that transformers and electra-ts load.

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

const OPTIONS = {
  'tf-checkpoint': { type: 'string' },
  'output-dir': { type: 'string' },
  generator: { type: 'boolean', default: false },
  config: { type: 'string' },
  'num-attention-heads': { type: 'string' },
  'vocab-file': { type: 'string' },
  'no-lower-case': { type: 'boolean', default: false },
  'max-shard-size': { type: 'string' },
  'ignore-unknown': { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`electra convert: ${flagErrorMessage(err as Error, OPTIONS)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const ckptArg = values['tf-checkpoint'];
  const outDir = values['output-dir'];
  if (!ckptArg || !outDir) {
    process.stderr.write(`electra convert: --tf-checkpoint and --output-dir are required\n\n${HELP}`);
    return 2;
  }
  let heads: number | undefined;
  if (values['num-attention-heads'] !== undefined) {
    heads = Number(values['num-attention-heads']);
    if (!Number.isSafeInteger(heads) || heads < 1) throw new UsageError(`--num-attention-heads must be a positive integer`);
  }
  const maxShardBytes = values['max-shard-size'] ? parseSize(values['max-shard-size']) : DEFAULT_MAX_SHARD_BYTES;
  const prefix = resolveTfCheckpointPrefix(ckptArg);
  const config = values.config ? parseElectraConfig(parseJsonText(readFileSync(values.config, 'utf8'), values.config, (m) => new UsageError(m)), values.config) : undefined;
  let vocabPath = values['vocab-file'];
  if (vocabPath && !existsSync(vocabPath)) throw new UsageError(`--vocab-file ${vocabPath} does not exist`);
  if (!vocabPath && existsSync(join(dirname(prefix), 'vocab.txt'))) vocabPath = join(dirname(prefix), 'vocab.txt');

  const role = values.generator ? 'generator' : 'discriminator';
  const result = convertTfCheckpoint(prefix, {
    role,
    ...(config ? { config } : {}),
    ...(heads !== undefined ? { numAttentionHeads: heads } : {}),
    ignoreUnknown: values['ignore-unknown'],
  });
  const folder = result.folder;
  if (vocabPath) {
    folder.vocab = readVocabFile(vocabPath);
    if (folder.vocab.length !== folder.config.vocab_size) {
      throw new UsageError(`${vocabPath} has ${folder.vocab.length} tokens but the checkpoint's vocab_size is ${folder.config.vocab_size}`);
    }
  }
  folder.tokenizer = { do_lower_case: !values['no-lower-case'], extra: {} };
  const written = writeHfFolder(outDir, folder, { maxShardBytes, overwrite: values.overwrite });

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
