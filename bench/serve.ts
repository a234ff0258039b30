// `npm run bench -- serve [--seconds S] [--rounds R] [--clients N] [--layers L]`: load test of `electra serve`
// on loopback. An ELECTRA-small-shaped discriminator (random weights, BERT's uncased vocabulary)
// is served twice, one request at a time (--batch-size 1) and with dynamic batching (--batch-size
// 16, 5 ms wait), side by side; concurrent clients post Brown-corpus sentences for S seconds per
// setting, in R interleaved slices. Prints
// throughput and p50/p99 latency per setting and the batching speed-up at N clients, then one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHfFolder } from '../src/io/hf-folder.js';
import { kernels } from '../src/kernels/index.js';
import type { ElectraConfig } from '../src/model/config.js';
import { ElectraDiscriminator } from '../src/model/discriminator.js';
import { hfFolderFor } from '../src/pretrain/hf-weights.js';
import { bertUncasedVocab } from '../src/tokenizer/bert-vocab.js';
import { readCorpus } from '../src/data/corpora.js';
import { table } from './util.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** CPU model and the AVX-512 flags that matter to the kernels (Linux /proc/cpuinfo). */
function cpuLine(): string {
  let flags: string[] = [];
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = (/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/);
  } catch { /* not Linux: flags unknown */ }
  const has = (f: string): string => `${f}=${flags.includes(f) ? 'yes' : 'no'}`;
  return `CPU: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; ${['avx512f', 'avx512_bf16', 'avx512_vnni'].map(has).join(' ')}`;
}

interface Phase {
  setting: string;
  clients: number;
  seconds: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function startServe(modelDir: string, batch: number, waitMs: number): Promise<{ child: ChildProcess; url: string }> {
  const cli = join(import.meta.dirname, '..', '..', 'bin', 'electra.js');
  const child = spawn(process.execPath, [cli, 'serve', '--model', modelDir, '--port', '0', '--batch-size', String(batch), '--max-wait-ms', String(waitMs)],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: string) => {
      stderr += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`electra serve exited: ${stderr}`)));
  });
  return { child, url };
}

async function stopServe(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** `clients` loops posting texts until `seconds` have passed; adds every request's latency to `latencies`. */
async function load(url: string, texts: string[], clients: number, seconds: number, latencies: number[]): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const text = texts[next++ % texts.length]!;
      const t0 = performance.now();
      const res = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify({ text }), headers: { 'content-type': 'application/json' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(performance.now() - t0);
    }
  }));
  return (performance.now() - start) / 1000;
}

function phase(setting: string, clients: number, seconds: number, latencies: number[]): Phase {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { setting, clients, seconds, requests: sorted.length, perSecond: sorted.length / seconds, p50Ms: q(0.5), p99Ms: q(0.99) };
}

export async function run(): Promise<void> {
  const seconds = Number(arg('seconds', '12'));
  const rounds = Number(arg('rounds', '3'));
  const clients = Number(arg('clients', '16'));
  const layers = Number(arg('layers', '12'));
  console.log(cpuLine());
  console.log(`backend ${kernels().name} (${kernels().isa}, ${kernels().threads} threads)`);
  const vocab = bertUncasedVocab();
  const config: ElectraConfig = {
    vocab_size: vocab.length, embedding_size: 128, hidden_size: 256, num_hidden_layers: layers, num_attention_heads: 4, intermediate_size: 1024,
    hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 512, type_vocab_size: 2,
    initializer_range: 0.02, layer_norm_eps: 1e-12,
  };
  const model = new ElectraDiscriminator(kernels(), config, { maxBatch: 1, maxSeqLen: 8 });
  model.params.initialize(1);
  const dir = mkdtempSync(join(tmpdir(), 'electra-bench-serve-'));
  try {
    const modelDir = join(dir, 'discriminator');
    writeHfFolder(modelDir, hfFolderFor(model.params, config, 'discriminator', vocab, true));
    // Sentences of 8 to 40 words from the Brown corpus (about 10 to 60 tokens).
    const texts = readCorpus('brown', 40).flatMap((d) => d.lines).filter((l) => { const n = l.split(' ').length; return n >= 8 && n <= 40; }).slice(0, 2000);
    console.log(`ELECTRA-small-shaped discriminator (${layers} layers x 256), ${texts.length} Brown sentences, ${seconds} s per setting in ${rounds} slices, loopback\n`);

    // Both servers run side by side; the settings take turns in short slices, so that a change in
    // the machine's load during the run falls on all of them alike.
    const settings = [['one at a time', 1, 0], ['dynamic batching', 16, 5]] as const;
    const servers = await Promise.all(settings.map(([, batch, wait]) => startServe(modelDir, batch, wait)));
    const phases: Phase[] = [];
    try {
      const runs = settings.flatMap(([setting], s) => [clients, 1].map((n) => ({ setting, server: servers[s]!, clients: n, seconds: 0, latencies: [] as number[] })));
      for (const r of runs) await load(r.server.url, texts, r.clients, 0.5, []); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (const r of runs) r.seconds += await load(r.server.url, texts, r.clients, seconds / rounds, r.latencies);
      }
      for (const r of runs) phases.push(phase(r.setting, r.clients, r.seconds, r.latencies));
    } finally {
      await Promise.all(servers.map((x) => stopServe(x.child)));
    }
    console.log(table(phases.map((p) => ({
      setting: p.setting, clients: p.clients, requests: p.requests, 'req/s': Number(p.perSecond.toFixed(1)),
      'p50 ms': Number(p.p50Ms.toFixed(1)), 'p99 ms': Number(p.p99Ms.toFixed(1)),
    }))));
    const at = (setting: string, n: number): Phase => phases.find((p) => p.setting === setting && p.clients === n)!;
    const speedup = at('dynamic batching', clients).perSecond / at('one at a time', clients).perSecond;
    const overSingle = at('dynamic batching', clients).perSecond / at('one at a time', 1).perSecond;
    console.log(`\ndynamic batching at ${clients} clients: ${speedup.toFixed(2)}x the throughput of one-at-a-time serving at ${clients} clients`
      + ` (${overSingle.toFixed(2)}x a single client's); target >= 1.5x: ${speedup >= 1.5 ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify({
      bench: 'serve', cpu: cpus()[0]?.model, layers, clients, seconds, rounds,
      phases: phases.map((p) => ({ ...p, perSecond: Number(p.perSecond.toFixed(2)), p50Ms: Number(p.p50Ms.toFixed(2)), p99Ms: Number(p.p99Ms.toFixed(2)), seconds: Number(p.seconds.toFixed(2)) })),
      batchingSpeedup: Number(speedup.toFixed(3)), overSingleClient: Number(overSingle.toFixed(3)),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
