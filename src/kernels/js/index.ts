import type { Kernels } from '../types.js';
import { jsGemm } from './gemm.js';
import { jsElementwise } from './elementwise.js';

export const jsKernels: Kernels = {
  name: 'js',
  isa: 'js',
  threads: 1,
  ...jsGemm,
  ...jsElementwise,
};
