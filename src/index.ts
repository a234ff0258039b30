// Public library API.
export { kernels, nativeKernels, jsKernels } from './kernels/index.js';
export type { Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions } from './kernels/index.js';
