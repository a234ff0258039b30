// `electra serve`: the model behind an HTTP JSON endpoint, with dynamic batching.
import type { Command } from './commands.js';
import { MODEL_RUN_OPTIONS, modelRunFlags } from './predict.js';
import { intFlag, readCommandFlags, requiredString, stringFlag } from './parse-options.js';
import { openPredictor, PREDICTOR_KINDS } from '../serve/predictors.js';
import { startServer } from '../serve/server.js';

const usage = `Usage: electra serve --model DIR [--port P] [--host 127.0.0.1] [--kind KIND] [options]

Serves a model over HTTP (JSON):
  POST /predict  an input as \`electra predict\` / \`electra fill-mask\` read it ({"text": ...},
                 {"question": ..., "context": ...}, ...) -> the prediction, as they write it;
                 {"inputs": [...]} -> {"results": [...]}
  GET  /health   {"status": "ok", "task": ..., "inFlight": N, "queued": N}
Concurrent requests run together (dynamic batching): up to --batch-size inputs, the first waiting
at most --max-wait-ms for others. Bad JSON, a model input that is too long (without --truncation)
or a missing [MASK] get 400; a body over --max-body-bytes gets 413. SIGTERM or Ctrl-C stops
accepting connections, answers the requests already received, then exits (0, or 130 for Ctrl-C).

  --model DIR            a model folder, a checkpoint or a pre-training model dir
  --kind KIND            ${PREDICTOR_KINDS.map((k) => `${k.name}: ${k.summary}`).join('\n                         ')}
                         (default: the first the folder holds, in this order)
  --port P               default 8080 (0: any free port; the address is printed on stderr)
  --host H               default 127.0.0.1 (loopback only)
  --batch-size N         inputs run together at most (default 16)
  --max-wait-ms MS       how long the first input of a batch waits for more (default 5)
  --max-body-bytes N     largest request body (default 1048576)
  --truncation STRATEGY  cut inputs that are too long: longest_first, only_first, only_second
  --top-k K              fill-mask candidates per [MASK] (default 5)
  --task NAME            the task of a fine-tuned folder that holds several
  --quantize int8        run the dense layers in int8 (dynamic quantization)
`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a model over HTTP (JSON) with dynamic batching',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'serve', usage, required: [['model']],
      options: {
        ...MODEL_RUN_OPTIONS, kind: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
        'max-wait-ms': { type: 'string' }, 'max-body-bytes': { type: 'string' }, 'top-k': { type: 'string' }, task: { type: 'string' },
      },
    });
    if (typeof flags === 'number') return flags;
    const port = intFlag(flags, 'port', { min: 0, max: 65535 }) ?? 8080;
    const host = stringFlag(flags, 'host') ?? '127.0.0.1';
    const maxWaitMs = intFlag(flags, 'max-wait-ms', { min: 0, max: 10_000 }) ?? 5;
    const maxBodyBytes = intFlag(flags, 'max-body-bytes', { min: 64, max: 1 << 30 }) ?? 1 << 20;
    const topK = intFlag(flags, 'top-k', { min: 1, max: 1000 });
    const kind = stringFlag(flags, 'kind');
    const task = stringFlag(flags, 'task');
    const run = modelRunFlags(flags);
    const { kind: opened, predictor } = openPredictor(requiredString(flags, 'model'), {
      ...run, maxBatch: run.maxBatch ?? 16, ...(topK ? { topK } : {}), ...(kind ? { kinds: [kind] } : {}),
      ...(task === undefined ? {} : { task }),
    });
    const server = await startServer(predictor, { port, host, maxWaitMs, maxBodyBytes });
    process.stderr.write(`electra serve: ${opened} (${predictor.task}) listening on ${server.url} (batch ${predictor.maxBatch}, wait ${maxWaitMs} ms)\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    process.stderr.write(`electra serve: ${signal}: answering the requests received, then stopping\n`);
    await server.close();
    process.stderr.write(`electra serve: stopped after ${server.stats.requests} requests (${server.stats.inputs} inputs in ${server.stats.batches} batches)\n`);
    return signal === 'SIGINT' ? 130 : 0;
  },
};
