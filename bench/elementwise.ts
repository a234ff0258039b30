// Placeholder until the elementwise work lands.
export async function benchElementwise(): Promise<Record<string, unknown>> {
  throw new Error('elementwise benchmark not implemented yet');
}
