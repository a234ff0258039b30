// `npm run bench -- pretrain [--steps N] [--batch B] [--seq S] [--size small|base|large] [--profile]
// [--precision bf16]`:
// seconds per ELECTRA pre-training update, tokens/s, model FLOP utilization (matmul FLOPs of
// generator + discriminator, 3x forward, against the best fp32 peak measured before and after) and peak
// RSS of training; then forward-only discriminator inference (ElectraDiscriminator, no dropout)
// at the same batch and length: tokens/s and MFU. With --profile, where the time of one
// training step and of one int8 inference batch goes, kernel by kernel. With --precision bf16: fp32 and bf16 training in one run,
// each in its own process (so each peak RSS is its own), alternating for --rounds R (default 2),
// keeping each one's fastest median: the bf16 speedup and RSS against fp32, and the speedup in CPU
// time per step (the figure to read on a machine shared with other work, under ELECTRA_THREADS=1).
// Inference also runs with int8 dynamic quantization, on the same weights, alternating with fp32:
// the int8 speedup. With --no-train, inference only (for the larger sizes).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { kernels, PRECISIONS, withPrecision, type Precision } from '../src/kernels/index.js';
import { printCpu } from './cpu.js';
import { discriminatorConfig, resolvePretrainingConfig, type ModelSize } from '../src/model/config.js';
import { ElectraDiscriminator } from '../src/model/discriminator.js';
import { discriminatorForwardFlops, pretrainingStepFlops } from '../src/model/flops.js';
import type { PretrainingInputs } from '../src/model/pretraining-model.js';
import { Rng } from '../src/nn/random.js';
import { BERT_SPECIAL_IDS } from '../src/model/masking.js';
import { Pretrainer } from '../src/pretrain/pretrainer.js';
import { KernelProfiler } from './profile.js';
import { bestPeakGflops, table, timeAlternately } from './util.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Full-length random sequences: [CLS] tokens [SEP] tokens [SEP], two segments. */
function syntheticBatch(batch: number, seqLen: number, vocab: number, rng: Rng): PretrainingInputs {
  const inputIds = new Int32Array(batch * seqLen);
  const segmentIds = new Int32Array(batch * seqLen);
  const inputMask = new Int32Array(batch * seqLen).fill(1);
  const half = seqLen >> 1;
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < seqLen; p++) {
      const i = b * seqLen + p;
      inputIds[i] = p === 0 ? BERT_SPECIAL_IDS.cls : p === half || p === seqLen - 1 ? BERT_SPECIAL_IDS.sep : 1000 + rng.int(vocab - 1000);
      segmentIds[i] = p > half ? 1 : 0;
    }
  }
  return { inputIds, segmentIds, inputMask, batch, seqLen };
}

export async function run(): Promise<void> {
  const precision = arg('precision', 'fp32') as Precision;
  if (!PRECISIONS.includes(precision)) throw new Error(`--precision must be one of ${PRECISIONS.join(', ')}, got ${precision}`);
  const single = process.argv.includes('--single');
  if (precision !== 'fp32' && !single) return compare(precision);
  const steps = Number(arg('steps', '5'));
  const batch = Number(arg('batch', '32'));
  const seqLen = Number(arg('seq', '128'));
  const size = arg('size', 'small') as ModelSize;
  const profile = process.argv.includes('--profile');
  if (!single) printCpu();
  const base = kernels();
  const profiler = new KernelProfiler(base);
  const k = profile ? profiler.kernels : base;
  const config = resolvePretrainingConfig({ model_size: size, max_seq_length: seqLen, train_batch_size: batch, num_warmup_steps: 1 });
  const train = !process.argv.includes('--no-train');
  const trainer = train ? new Pretrainer(k, config, { maxBatch: batch, maxSeqLen: seqLen, seed: 1, precision }) : null;
  const rng = new Rng(2);
  const data = Array.from({ length: 2 }, () => syntheticBatch(batch, seqLen, config.vocab_size, rng));

  const peakBefore = bestPeakGflops(0, 1);
  trainer?.trainStep(data[0]!); // warm-up: first-touch of every buffer
  profiler.reset();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let predictions = 0;
  for (let i = 0; trainer && i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = trainer.trainStep(data[i % data.length]!);
    const c = process.cpuUsage(c0);
    times.push((performance.now() - t0) / 1000);
    cpuTimes.push((c.user + c.system) / 1e6);
    predictions += r.metrics.predictions;
  }
  const median = trainer ? medianOf(times) : NaN;
  const cpuMedian = trainer ? medianOf(cpuTimes) : NaN;
  const flops = trainer
    ? pretrainingStepFlops(trainer.model.generatorConfig, trainer.model.discriminatorConfig, batch, seqLen, predictions / steps)
    : { total: NaN };
  // Training's own peak RSS, read before the inference model adds its buffers.
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  const stepStats = profile ? profiler.report() : [];

  // Forward-only inference with the discriminator alone, as the library's ElectraDiscriminator runs it.
  const discConfig = discriminatorConfig(config);
  const discriminator = new ElectraDiscriminator(base, discConfig, { maxBatch: batch, maxSeqLen: seqLen });
  discriminator.params.initialize(3);
  const inferBatch = data[0]!;
  const infer = (): void => {
    discriminator.forward(inferBatch.inputIds, inferBatch.segmentIds, inferBatch.inputMask, batch, seqLen);
  };
  // The same inference with int8 dynamic quantization (loadDiscriminator's quantize: "int8"),
  // on the same weights, timed alternately with fp32 so that both see the same machine load.
  const quantized = new ElectraDiscriminator(withPrecision(base, 'int8'), discConfig, { maxBatch: batch, maxSeqLen: seqLen });
  quantized.params.copyValuesFrom(discriminator.params);
  const inferInt8 = (): void => {
    quantized.forward(inferBatch.inputIds, inferBatch.segmentIds, inferBatch.inputMask, batch, seqLen);
  };
  const loadBeforeInference = loadavg()[0]!;
  // (The int8 model quantizes its weights in its warm-up run.)
  const [inferMedian, int8Median] = timeAlternately(Math.max(steps, 3), infer, inferInt8);
  const inferFlops = discriminatorForwardFlops(discConfig, batch, seqLen);

  const peak = bestPeakGflops(peakBefore);
  const achieved = flops.total / median / 1e9;
  const inferAchieved = inferFlops / inferMedian / 1e9;
  const result = {
    backend: `${base.name}/${base.isa}/${base.threads} threads`,
    model: `ELECTRA-${size}`,
    precision,
    batch,
    seqLen,
    params: trainer?.model.params.size ?? NaN,
    secondsPerStep: +median.toFixed(3),
    // CPU seconds of all threads (the pool's waits included): with ELECTRA_THREADS=1 on a machine
    // shared with other work, the step's own compute, whatever share of the core it got.
    cpuSecondsPerStep: +cpuMedian.toFixed(3),
    tokensPerSecond: Math.round((batch * seqLen) / median),
    stepGflop: +(flops.total / 1e9).toFixed(1),
    achievedGflops: +achieved.toFixed(1),
    peakGflops: +peak.toFixed(1),
    mfu: +(achieved / peak).toFixed(3),
    peakRssMiB: Math.round(rssMiB),
    inferSecondsPerBatch: +inferMedian.toFixed(3),
    inferTokensPerSecond: Math.round((batch * seqLen) / inferMedian),
    inferGflop: +(inferFlops / 1e9).toFixed(1),
    inferMfu: +(inferAchieved / peak).toFixed(3),
    int8InferSecondsPerBatch: +int8Median.toFixed(3),
    int8InferTokensPerSecond: Math.round((batch * seqLen) / int8Median),
    int8InferSpeedup: +(inferMedian / int8Median).toFixed(2),
    loadAverageAtInference: +loadBeforeInference.toFixed(2),
  };
  console.log(`ELECTRA-${size} ${precision} pre-training on ${result.backend}, batch ${batch} x seq ${seqLen}, measured peak ${result.peakGflops} GFLOP/s`);
  console.log(table([
    {
      workload: 'training (gen + disc)', 's/batch': result.secondsPerStep, 'tokens/s': result.tokensPerSecond,
      GFLOP: result.stepGflop, MFU: result.mfu,
    },
    {
      workload: 'inference (disc forward)', 's/batch': result.inferSecondsPerBatch, 'tokens/s': result.inferTokensPerSecond,
      GFLOP: result.inferGflop, MFU: result.inferMfu,
    },
    {
      workload: 'inference, int8', 's/batch': result.int8InferSecondsPerBatch, 'tokens/s': result.int8InferTokensPerSecond,
      GFLOP: result.inferGflop, MFU: '',
    },
  ]));
  console.log(`int8 inference: ${result.int8InferSpeedup}x the fp32 tokens/s (medians of alternating runs; load average ${result.loadAverageAtInference})`);
  console.log(`peak RSS of training: ${result.peakRssMiB} MiB`);
  if (profile) printInferenceProfile(base, discConfig, discriminator, inferBatch, Math.max(steps, 3));
  if (profile && trainer) {
    const stats = stepStats;
    const kernelMs = stats.reduce((s, x) => s + x.ms, 0) / steps;
    console.log(`per step: ${(median * 1000).toFixed(0)} ms, kernels ${kernelMs.toFixed(0)} ms, JS outside kernels ${(median * 1000 - kernelMs).toFixed(0)} ms`);
    for (const s of stats.slice(0, 30)) {
      const gflops = s.flops > 0 ? ` ${(s.flops / (s.ms / 1000) / 1e9).toFixed(1)} GFLOP/s` : '';
      console.log(`${(s.ms / steps).toFixed(1).padStart(8)} ms  ${String(s.calls / steps).padStart(5)} calls  ${s.name}${gflops}`);
    }
  }
  console.log(JSON.stringify(result));
}

/** Where an int8 inference batch spends its time, kernel by kernel (GEMMs by shape). */
function printInferenceProfile(
  base: ReturnType<typeof kernels>, discConfig: ReturnType<typeof discriminatorConfig>, source: ElectraDiscriminator,
  inputs: PretrainingInputs, runs: number,
): void {
  const profiler = new KernelProfiler(withPrecision(base, 'int8'));
  const { batch, seqLen } = inputs;
  const model = new ElectraDiscriminator(profiler.kernels, discConfig, { maxBatch: batch, maxSeqLen: seqLen });
  model.params.copyValuesFrom(source.params);
  const forward = (): void => {
    model.forward(inputs.inputIds, inputs.segmentIds, inputs.inputMask, batch, seqLen);
  };
  forward(); // quantizes the weights
  profiler.reset();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) forward();
  const ms = (performance.now() - t0) / runs;
  const stats = profiler.report();
  const kernelMs = stats.reduce((s, x) => s + x.ms, 0) / runs;
  console.log(`int8 inference per batch: ${ms.toFixed(0)} ms, kernels ${kernelMs.toFixed(0)} ms, JS outside kernels ${(ms - kernelMs).toFixed(0)} ms`);
  for (const s of stats.slice(0, 20)) {
    const rate = s.flops > 0 ? ` ${(s.flops / (s.ms / 1000) / 1e9).toFixed(1)} G(FL)OP/s` : '';
    console.log(`${(s.ms / runs).toFixed(1).padStart(8)} ms  ${String(s.calls / runs).padStart(5)} calls  ${s.name}${rate}`);
  }
}

/** fp32 against `precision`, each in a child process, alternating; the fastest median of each. */
function compare(precision: Precision): void {
  const cpu = printCpu();
  const rounds = Number(arg('rounds', '2'));
  const script = fileURLToPath(new URL('./run.js', import.meta.url));
  const passed = process.argv.slice(3).filter((a, i, all) => a !== '--precision' && all[i - 1] !== '--precision');
  const best = new Map<Precision, Record<string, number | string>>();
  const results: Record<string, number | string>[] = [];
  const loadAtStart = loadavg()[0]!;
  for (let r = 0; r < rounds; r++) {
    for (const p of ['fp32', precision] as const) {
      const child = spawnSync(process.execPath, [script, 'pretrain', ...passed, '--precision', p, '--single'], { encoding: 'utf8' });
      process.stdout.write(child.stdout);
      if (child.status !== 0) throw new Error(`the ${p} run failed: ${child.stderr}`);
      const lines = child.stdout.trim().split('\n');
      const result = JSON.parse(lines[lines.length - 1]!) as Record<string, number | string>;
      results.push(result);
      const before = best.get(p);
      if (!before || Number(result.secondsPerStep) < Number(before.secondsPerStep)) best.set(p, result);
    }
  }
  const fp32 = best.get('fp32')!;
  const low = best.get(precision)!;
  const speedup = +(Number(fp32.secondsPerStep) / Number(low.secondsPerStep)).toFixed(2);
  const bestCpu = (p: Precision): number => Math.min(...results.filter((r) => r.precision === p).map((r) => Number(r.cpuSecondsPerStep)));
  const cpuSpeedup = +(bestCpu('fp32') / bestCpu(precision)).toFixed(2);
  const summary = {
    ...cpu,
    loadAverageAtStart: +loadAtStart.toFixed(2),
    loadAverageAtEnd: +loadavg()[0]!.toFixed(2),
    fp32SecondsPerStep: fp32.secondsPerStep,
    [`${precision}SecondsPerStep`]: low.secondsPerStep,
    [`${precision}StepSpeedup`]: speedup,
    fp32CpuSecondsPerStep: bestCpu('fp32'),
    [`${precision}CpuSecondsPerStep`]: bestCpu(precision),
    [`${precision}CpuTimeSpeedup`]: cpuSpeedup,
    fp32PeakRssMiB: fp32.peakRssMiB,
    [`${precision}PeakRssMiB`]: low.peakRssMiB,
  };
  console.log(`best of ${rounds} rounds: ${precision} step ${low.secondsPerStep} s vs fp32 ${fp32.secondsPerStep} s ` +
    `(${speedup}x); CPU time per step ${bestCpu(precision)} vs ${bestCpu('fp32')} s (${cpuSpeedup}x); peak RSS ${low.peakRssMiB} vs ${fp32.peakRssMiB} MiB`);
  console.log(JSON.stringify(summary));
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
