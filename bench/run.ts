// `npm run bench -- <suite>`: runs one benchmark suite.
const suites: Record<string, () => Promise<void>> = {
  kernels: async () => (await import('./kernels.js')).run(),
  'bf16-curve': async () => (await import('./bf16-curve.js')).run(),
  'demo-step': async () => (await import('./demo-step.js')).run(),
  dataset: async () => (await import('./dataset.js')).run(),
  'dataset-formats': async () => (await import('./dataset-formats.js')).run(),
  tokenizer: async () => (await import('./tokenizer.js')).run(),
  pretrain: async () => (await import('./pretrain.js')).run(),
  finetune: async () => (await import('./finetune.js')).run(),
  'finetune-int8': async () => (await import('./finetune-int8.js')).run(),
  serve: async () => (await import('./serve.js')).run(),
};

const name = process.argv[2];
const suite = name ? suites[name] : undefined;
if (!suite) {
  console.error(`usage: npm run bench -- <${Object.keys(suites).join('|')}>`);
  process.exit(2);
}
await suite();
