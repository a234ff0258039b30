// `npm run bench -- kernels`: GEMM against the machine's measured fp32 peak, and
// the elementwise kernels against a copy kernel, all in one run.
import { benchGemm } from './gemm.js';
import { benchElementwise } from './elementwise.js';

export async function run(): Promise<void> {
  const gemm = await benchGemm();
  const elementwise = await benchElementwise();
  console.log(JSON.stringify({ ...gemm, ...elementwise }));
}
