import type { Kernels } from '../types.js';
import { jsGemm } from './gemm.js';
import { jsElementwise } from './elementwise.js';
import { jsGemmBf16 } from './gemm-bf16.js';
import { jsGemmInt8 } from './gemm-int8.js';

export const jsKernels: Kernels = {
  name: 'js',
  isa: 'js',
  threads: 1,
  precision: 'fp32',
  ...jsGemm,
  ...jsGemmBf16,
  ...jsGemmInt8,
  ...jsElementwise,
};
