// `npm run bench -- kernels`: GEMM against the machine's measured fp32 peak, bf16
// GEMM against the bf16 peak, int8 GEMM against fp32 and the int8 peak, and
// the elementwise kernels against a copy kernel, all in one run.
import { benchGemm } from './gemm.js';
import { benchElementwise } from './elementwise.js';
import { benchGemmBf16 } from './gemm-bf16.js';
import { benchGemmInt8 } from './gemm-int8.js';
import { printCpu } from './cpu.js';
import { nativeKernels } from '../src/kernels/index.js';

export async function run(): Promise<void> {
  const cpu = printCpu();
  const gemm = await benchGemm();
  const bf16 = benchGemmBf16(nativeKernels()!, gemm);
  const int8 = benchGemmInt8(nativeKernels()!);
  const elementwise = await benchElementwise();
  console.log(JSON.stringify({ ...cpu, ...gemm, ...bf16, ...int8, ...elementwise }));
}
