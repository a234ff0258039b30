// The in-memory form every reader produces: float32 data in row-major order with its shape.

/** A float32 tensor: row-major data and its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Tensors by parameter name (HF Electra names once mapped). Insertion order is kept. */
export type TensorMap = Map<string, Tensor>;

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** [rows, cols] -> [cols, rows]: TF kernels are [in, out], PyTorch Linear weights [out, in]. */
export function transpose2d(t: Tensor): Tensor {
  if (t.shape.length !== 2) throw new RangeError(`transpose2d needs a 2-D tensor, got ${shapeString(t.shape)}`);
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  const src = t.data;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c]!;
  }
  return { shape: [cols, rows], data: out };
}
