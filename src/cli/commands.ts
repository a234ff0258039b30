// The CLI's command table; each command lives in its own module.
import { convertCommand } from './convert.js';
import { buildPretrainingDatasetCommand } from './build-pretraining-dataset.js';
import { buildOpenWebTextCommand } from './build-openwebtext.js';
import { corpusCommand } from './corpus.js';
import { pretrainCommand } from './pretrain.js';
import { finetuneCommand } from './finetune.js';
import { demoCommand } from './demo.js';
import { tokenizeCommand } from './tokenize.js';
import { vocabCommand } from './vocab.js';
import { fillMaskCommand, predictCommand } from './predict.js';
import { serveCommand } from './serve.js';

export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Command[] = [
  tokenizeCommand,
  vocabCommand,
  corpusCommand,
  buildPretrainingDatasetCommand,
  buildOpenWebTextCommand,
  convertCommand,
  pretrainCommand,
  finetuneCommand,
  predictCommand,
  fillMaskCommand,
  serveCommand,
  demoCommand,
];
