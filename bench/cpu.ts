// The CPU a benchmark ran on: model and the flags the low-precision kernels depend on.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export function cpuDescription(): { model: string; flags: string } {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the model from os.cpus(), no flags.
  }
  const model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const have = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/));
  const flags = ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'avx_vnni']
    .map((f) => `${f}${have.has(f) ? '+' : '-'}`).join(' ');
  return { model, flags };
}

export function printCpu(): Record<string, string> {
  const { model, flags } = cpuDescription();
  console.log(`CPU: ${model}; ${flags}`);
  return { cpu_model: model, cpu_flags: flags };
}
