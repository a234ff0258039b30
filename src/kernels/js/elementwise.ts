import type { ElementwiseKernels } from '../types.js';
// Placeholder until the elementwise work lands.
export const jsElementwise = {} as ElementwiseKernels;
