// Loading a build's tokenizer module (the default: BERT WordPiece), in the main thread and in workers.
import type {
  CreatePretrainingTokenizer, PretrainingTokenizer, PretrainingVocabulary, ShareTokenizer, TokenizerSettings,
} from './build-job.js';

export interface TokenizerModule {
  createPretrainingTokenizer: CreatePretrainingTokenizer;
  shareTokenizer?: ShareTokenizer;
}

/** Imports a tokenizer module and checks that it exports createPretrainingTokenizer. */
export async function loadTokenizerModule(moduleUrl: string): Promise<TokenizerModule> {
  const mod = (await import(moduleUrl)) as Partial<TokenizerModule>;
  const create = mod.createPretrainingTokenizer;
  if (typeof create !== 'function') throw new Error(`${moduleUrl} does not export createPretrainingTokenizer`);
  return { ...mod, createPretrainingTokenizer: create };
}

/** Creates a module's tokenizer. */
export async function createTokenizer(moduleUrl: string, settings: TokenizerSettings): Promise<PretrainingTokenizer> {
  return (await loadTokenizerModule(moduleUrl)).createPretrainingTokenizer(settings);
}

/** The vocabulary facts of a tokenizer. */
export function vocabularyOf(tokenizer: PretrainingTokenizer): PretrainingVocabulary {
  return { tokens: tokenizer.vocab.tokens, clsId: tokenizer.clsId, sepId: tokenizer.sepId };
}
