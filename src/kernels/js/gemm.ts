import type { GemmKernels } from '../types.js';
// Placeholder until the GEMM work lands.
export const jsGemm: GemmKernels = {
  gemm() { throw new Error('gemm: not implemented yet'); },
  gemmBatched() { throw new Error('gemmBatched: not implemented yet'); },
};
