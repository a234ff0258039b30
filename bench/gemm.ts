// Placeholder until the GEMM work lands.
export async function benchGemm(): Promise<Record<string, unknown>> {
  throw new Error('gemm benchmark not implemented yet');
}
