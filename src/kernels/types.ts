// The compute interface every layer is written against. Two implementations:
// `native` (the N-API addon) and `js` (plain TypeScript: portable fallback and
// test oracle). Matrices are row-major Float32Array views.
//
// Conventions:
// - Activation gradients (dx) are overwritten; parameter gradients (dgamma,
//   dbeta, dbias, dTable) are accumulated with +=.
// - Output arrays may alias inputs only where a method says so.

/** C = alpha * op(A) * op(B) + beta * C, with op(A) m x k and op(B) k x n. */
export interface GemmArgs {
  /** When true, A is stored k x m (row stride lda >= m) and used transposed. */
  transA: boolean;
  /** When true, B is stored n x k (row stride ldb >= k) and used transposed. */
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  /** beta = 0 overwrites C without reading it (NaNs in C do not propagate). */
  beta: number;
  a: Float32Array;
  aOffset?: number;
  lda: number;
  b: Float32Array;
  bOffset?: number;
  ldb: number;
  c: Float32Array;
  cOffset?: number;
  ldc: number;
}

/**
 * A two-level batch of GEMMs (batchOuter x batchInner), so attention can work
 * on [batch, seq, heads, headDim] tensors without transposes. Matrix (i, j)
 * of A starts at aOffset + i * strideAOuter + j * strideAInner; likewise B, C.
 */
export interface BatchedGemmArgs extends GemmArgs {
  batchOuter: number;
  batchInner: number;
  strideAOuter: number;
  strideAInner: number;
  strideBOuter: number;
  strideBInner: number;
  strideCOuter: number;
  strideCInner: number;
}

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Divide m and v by (1 - beta^step); the reference ELECTRA optimizer does not. */
  biasCorrection: boolean;
  /** 1-based step number, used for bias correction. */
  step: number;
  /** Per-element 1 = decay, 0 = no decay (LayerNorm weights, biases); null = decay all. */
  decayMask: Uint8Array | null;
}

/** Attention direction: all keys, keys up to the query (left-to-right), or from it on (right-to-left). */
export type CausalMode = 'none' | 'ltr' | 'rtl';

/** The additive score of a key outside the causal band (the reference's attention mask value). */
export const CAUSAL_MASKED_SCORE = -10000;

export interface GemmKernels {
  gemm(args: GemmArgs): void;
  gemmBatched(args: BatchedGemmArgs): void;
  /**
   * Inference self-attention (no dropout, no causal band): for each sequence b and head h,
   * context_bh = softmax(scale * Q_bh K_bh^T + mask[b]) V_bh, where Q_bh, K_bh, V_bh are head h's
   * headDim columns of the q, k and v parts of qkv's rows. The same bits as gemmBatched
   * (Q K^T), softmax (rowsPerMask heads * seqLen) and gemmBatched (P V) of the same backend,
   * without keeping the probabilities.
   */
  attentionContext(args: AttentionContextArgs): void;
}

/** attentionContext's arguments; hidden = heads * headDim. */
export interface AttentionContextArgs {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: number;
  /** [batch * seqLen, 3 * hidden]: q | k | v per row. */
  qkv: Float32Array;
  /** [batch * seqLen, hidden], overwritten. */
  context: Float32Array;
  scale: number;
  /** [batch, seqLen] additive scores per key (0 or -10000), or null. */
  mask: Float32Array | null;
}

/**
 * op(B) (k x n) in bf16, packed once for many gemmBf16Packed calls (the weights,
 * once per update). Layout (native/gemm_bf16.h): ceil(n / 32) panels of 32
 * columns; for depth pair t and column j of panel q, B(2t, 32q + j) then
 * B(2t + 1, 32q + j) at ((q * ceil(k / 2) + t) * 32 + j) * 2, zero-padded.
 */
export interface PackedBf16 {
  readonly data: Uint16Array;
  readonly k: number;
  readonly n: number;
}

/** gemmBf16Packed: C = alpha * op(A) B + beta * C with B pre-packed. */
export interface PackedGemmArgs {
  transA: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** fp32, or bf16 values (a Uint16Array from bf16Round) used as they are. */
  a: Float32Array | Uint16Array;
  aOffset?: number;
  lda: number;
  b: PackedBf16;
  c: Float32Array;
  cOffset?: number;
  ldc: number;
}

/** gemmBf16's arguments: GemmArgs whose A and B may be bf16 bit patterns. */
export interface Bf16GemmArgs extends Omit<GemmArgs, 'a' | 'b'> {
  a: Float32Array | Uint16Array;
  b: Float32Array | Uint16Array;
}

/** gemmBatchedBf16's arguments: BatchedGemmArgs whose A and B may be bf16 bit patterns. */
export interface Bf16BatchedGemmArgs extends Omit<BatchedGemmArgs, 'a' | 'b'> {
  a: Float32Array | Uint16Array;
  b: Float32Array | Uint16Array;
}

/**
 * GEMM on bf16 inputs with fp32 sums, defined to the bit so every backend and
 * instruction set agrees (native/gemm_bf16.h): A and B rounded to bf16 (round
 * to nearest even, denormals to zero); depth in blocks of 256; within a block
 * each output sums the depth pairs in order, odd product first, each addition
 * rounded to fp32; block 0 gives c = fl(alpha s) or fl(fl(alpha s) + fl(beta c)),
 * later blocks c = fl(fl(alpha s) + c).
 */
export interface Bf16Kernels {
  /** A and B may also be bf16 values (Uint16Arrays from bf16Round), used as they are. */
  gemmBf16(args: Bf16GemmArgs): void;
  /**
   * out[i] = x[i] rounded to bf16 as the GEMMs round their inputs (bit patterns), for
   * activations that only feed bf16 GEMMs: half the memory, the same results.
   */
  bf16Round(x: Float32Array, out: Uint16Array, n: number, xOffset?: number, outOffset?: number): void;
  /** Packs op(B) (k x n; B stored n x k when transB) into `out` (or a new array). */
  packBf16(b: Float32Array, transB: boolean, k: number, n: number, ldb: number, bOffset?: number, out?: PackedBf16): PackedBf16;
  gemmBf16Packed(args: PackedGemmArgs): void;
  /** gemmBatched with these numerics: every product of the batch as gemmBf16 computes it (A, B may be bf16 values). */
  gemmBatchedBf16(args: Bf16BatchedGemmArgs): void;
}

/**
 * A Linear weight W [n = out, k = in] quantized for gemmInt8 (src/kernels/int8.ts): int8 per
 * output column j with scale[j], colSum[j] = sum of column j's int8 values, in 32-column panels
 * of depth quads: W[j][p] of panel floor(j / 32) at ((floor(j / 32) * ceil(k / 4) + floor(p / 4)) * 32 + j % 32) * 4 + p % 4.
 */
export interface PackedInt8 {
  readonly data: Int8Array;
  readonly scale: Float32Array;
  readonly colSum: Int32Array;
  readonly k: number;
  readonly n: number;
}

/**
 * gemmInt8: C = dequant(quant(A) Wq^T) + bias, A m x k rows contiguous; then, for inference
 * layers, optionally C = gelu(C) and C = C + residual, with the bits of the separate gelu and add kernels.
 */
export interface Int8GemmArgs {
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  aOffset?: number;
  lda: number;
  b: PackedInt8;
  bias: Float32Array | null;
  c: Float32Array;
  cOffset?: number;
  ldc: number;
  /** Applied after the bias: C = gelu(C) (before any residual). */
  gelu?: boolean;
  /** Added last: C[i][j] += residual[cOffset + i * ldc + j] (laid out as C; distinct from C or the same array and offset). */
  residual?: Float32Array | null;
  /**
   * After every other epilogue, the layerNorm kernel over C's rows (needs ldc = n), with the
   * bits of a separate layerNorm call: out (laid out as C, distinct from C) = LN(C), mean[i] and
   * rstd[i] per row i of this call.
   */
  layerNorm?: Int8LayerNormEpilogue | null;
}

export interface Int8LayerNormEpilogue {
  gamma: Float32Array;
  beta: Float32Array;
  out: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
  eps: number;
}

/**
 * Dynamic-quantization GEMM for inference, defined to the bit (native/gemm_int8.h): each row of
 * A quantized to u8 with its own scale and zero point at run time, int32 sums against int8
 * weights, then c = fl(fl(fl(scale_a scale_w) fl(acc - zp colSum)) + bias).
 */
export interface Int8Kernels {
  gemmInt8(args: Int8GemmArgs): void;
}

export interface ElementwiseKernels {
  /** y[r, c] = x[r, c] + bias[c]. y may alias x. */
  biasAdd(x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** dbias[c] += sum over r of dy[r, c]. */
  biasBackward(dy: Float32Array, dbias: Float32Array, rows: number, cols: number): void;
  /** y = x * Phi(x), exact (erf) GELU. y may alias x. */
  gelu(x: Float32Array, y: Float32Array, n: number): void;
  /**
   * y = gelu(x) rounded to bf16 as the bf16 GEMMs round their inputs (bf16Round(gelu(x)) to the
   * bit), for a GEMM input: no fp32 copy, half the memory traffic.
   */
  geluBf16(x: Float32Array, y: Uint16Array, n: number): void;
  /**
   * biasBackward (the same sums, to the bit), and dyBf16 = dy rounded to bf16 as bf16Round does,
   * in the same pass: the bf16 GEMMs that read dy next take the bf16 copy.
   */
  biasBackwardBf16(dy: Float32Array, dbias: Float32Array, rows: number, cols: number, dyBf16: Uint16Array): void;
  /**
   * d = geluBackward(x, dy), never stored in fp32: dbias += its column sums (biasBackward's, to
   * the bit) and dyBf16 = d rounded to bf16 (geluBackward then biasBackwardBf16, in one pass).
   */
  geluBackwardBiasBf16(x: Float32Array, dy: Float32Array, dbias: Float32Array, rows: number, cols: number, dyBf16: Uint16Array): void;
  /** out = x + bias rounded to bf16 (biasAdd then bf16Round, to the bit): a GEMM output only bf16 GEMMs read. */
  biasAddBf16(x: Float32Array, bias: Float32Array, out: Uint16Array, rows: number, cols: number): void;
  /** y = x + bias (y may alias x), then out = geluBf16(y), in one pass (the bits of the two kernels). */
  biasGeluBf16(x: Float32Array, bias: Float32Array, y: Float32Array, out: Uint16Array, rows: number, cols: number): void;
  /** softmaxBackward's dx rounded to bf16 (softmaxBackward then bf16Round, to the bit): score gradients for bf16 GEMMs. */
  softmaxBackwardBf16(y: Float32Array, dy: Float32Array, dx: Uint16Array, rows: number, cols: number, scale: number): void;
  /** dropout's y rounded to bf16 (dropout then bf16Round, to the bit): dropped probabilities for bf16 GEMMs. */
  dropoutBf16(x: Float32Array, y: Uint16Array, n: number, p: number, seed: number, counterOffset: number): void;
  /**
   * The pre-pass of sampleGumbelMax (src/model/masking.ts), for each row of logits [rows, cols]:
   * argmax[r] (the first largest), and in column order the candidates (columns[r * capacity + j],
   * their uniforms' 24-bit numerators in numerators[..]) that the exact loop might evaluate: its
   * pruning with the backend's own logs and a threshold lowered by 1e-9, so the list holds every
   * column the exact loop evaluates. counts[r] = the number listed, or -1 past capacity.
   */
  gumbelCandidates(
    logits: Float32Array, rows: number, cols: number, invTemperature: number, seed: number, rowOffset: number,
    disallow: Int32Array | null, argmax: Int32Array, counts: Int32Array, columns: Int32Array, numerators: Int32Array, capacity: number,
  ): void;
  /** dx = dy * d gelu(x) / dx. dx may alias dy. */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  /** Row-wise LayerNorm; saves mean[r] and rstd[r] = 1/sqrt(var + eps) for backward. y may alias x. */
  layerNorm(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number,
  ): void;
  /** dx overwritten; dgamma, dbeta accumulated. */
  layerNormBackward(
    dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number,
  ): void;
  /**
   * y[r, :] = softmax(scale * x[r, :] + mask[floor(r / rowsPerMask), :]).
   * mask (additive, e.g. 0 or -10000) may be null. y may alias x.
   * Causal mode (attention scores [.., query, key] with cols keys per query): row r is query
   * q = r % cols; with 'ltr' keys c > q, with 'rtl' keys c < q get CAUSAL_MASKED_SCORE in place of
   * the mask value (the reference multiplies its 0/1 masks, so an entry is masked once).
   */
  softmax(
    x: Float32Array, y: Float32Array, rows: number, cols: number, scale: number,
    mask: Float32Array | null, rowsPerMask: number, causal?: CausalMode,
  ): void;
  /** dx = scale * y * (dy - sum(dy * y)) per row. dx may alias dy. */
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number, scale: number): void;
  /**
   * y[i] = keep(i) ? x[i] / (1 - p) : 0 where keep(i) = dropoutUniform(seed, counterOffset + i) >= p
   * (see rng.ts, identical in both backends). p = 0 copies. y may alias x.
   */
  dropout(x: Float32Array, y: Float32Array, n: number, p: number, seed: number, counterOffset: number): void;
  /** dx = the same mask and scale applied to dy. dx may alias dy. */
  dropoutBackward(dy: Float32Array, dx: Float32Array, n: number, p: number, seed: number, counterOffset: number): void;
  /** out = a + b. out may alias a or b. */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** y += alpha * x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;
  /** x *= alpha. */
  scale(x: Float32Array, alpha: number, n: number): void;
  /** out[i, :] = table[ids[i], :]. Throws on an id outside [0, table rows). */
  embeddingGather(table: Float32Array, ids: Int32Array, out: Float32Array, count: number, dim: number): void;
  /** dTable[ids[i], :] += dOut[i, :]. */
  embeddingScatterAdd(dOut: Float32Array, ids: Int32Array, dTable: Float32Array, count: number, dim: number): void;
  /**
   * Softmax cross-entropy per row. Rows with labels[r] < 0 are skipped (loss 0, gradient 0).
   * Returns sum_r w_r * loss_r (w_r = weights[r], or 1). When dlogits is given it receives
   * gradScale * w_r * (softmax(logits[r]) - onehot(labels[r])); dlogits may alias logits.
   */
  softmaxCrossEntropy(
    logits: Float32Array, labels: Int32Array, weights: Float32Array | null, dlogits: Float32Array | null,
    rows: number, cols: number, gradScale: number,
  ): number;
  /**
   * Sigmoid cross-entropy with targets z in [0, 1]:
   * loss_i = max(x, 0) - x * z + log(1 + exp(-|x|)). Returns sum_i w_i * loss_i.
   * dlogits (may alias logits) receives gradScale * w_i * (sigmoid(x_i) - z_i).
   */
  sigmoidCrossEntropy(
    logits: Float32Array, labels: Float32Array, weights: Float32Array | null, dlogits: Float32Array | null,
    n: number, gradScale: number,
  ): number;
  /**
   * Decoupled-weight-decay Adam over a whole arena:
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; u = m' / (sqrt(v') + eps) (+ wd * p where decayed);
   * p -= lr * u, with m', v' bias-corrected only when asked.
   */
  adamw(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number, opts: AdamWOptions): void;
  /** Sum of squares, accumulated in float64. */
  sumSquares(x: Float32Array, n: number): number;
  /**
   * Global-norm clipping of one gradient arena: norm = sqrt(sum g^2); when norm > maxNorm,
   * g *= maxNorm / norm. Returns the norm before clipping.
   */
  clipByGlobalNorm(grads: Float32Array, n: number, maxNorm: number): number;
}

export interface Kernels extends GemmKernels, Bf16Kernels, Int8Kernels, ElementwiseKernels {
  readonly name: 'native' | 'js';
  /** The instruction set in use ('js' for the JS backend). */
  readonly isa: string;
  /** Threads the backend computes with. */
  readonly threads: number;
  /**
   * In a view made by withPrecision (src/kernels/precision.ts): 'bf16', gemm rounds its inputs
   * to bf16; 'int8', Linear layers run forward through gemmInt8 (inference only).
   */
  readonly precision: 'fp32' | 'bf16' | 'int8';
}
