// DEV ONLY (not committed): naive kernels to develop against until the kernel branches land.
import type { Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions } from '../../src/kernels/index.js';
import { dropoutUniform } from '../../src/kernels/rng.js';
import { jsKernels } from '../../src/kernels/index.js';

function gemm(g: GemmArgs, ao = g.aOffset ?? 0, bo = g.bOffset ?? 0, co = g.cOffset ?? 0): void {
  const { m, n, k, a, b, c, lda, ldb, ldc, alpha, beta } = g;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) {
      const av = g.transA ? a[ao + p * lda + i]! : a[ao + i * lda + p]!;
      const bv = g.transB ? b[bo + j * ldb + p]! : b[bo + p * ldb + j]!;
      s += av * bv;
    }
    c[co + i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[co + i * ldc + j]!);
  }
}
function erf(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let term = ax, sum = ax;
    for (let n = 1; n < 80; n++) { term *= -ax * ax / n; sum += term / (2 * n + 1); if (Math.abs(term) < 1e-17) break; }
    r = sum * 2 / Math.sqrt(Math.PI);
  } else {
    // erfc continued fraction, evaluated bottom-up
    let f = ax;
    for (let n = 60; n >= 1; n--) f = ax + (n / 2) / f;
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}
const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
const dgelu = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

export const naiveKernels: Kernels = {
  name: 'js', isa: 'naive', threads: 1,
  gemm: (g) => jsKernels.gemm(g),
  gemmBatched: (g) => jsKernels.gemmBatched(g),
  biasAdd(x, bias, y, rows, cols) { for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c]! + bias[c]!; },
  biasBackward(dy, db, rows, cols) { for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) db[c] += dy[r * cols + c]!; },
  gelu(x, y, n) { for (let i = 0; i < n; i++) y[i] = gelu(x[i]!); },
  geluBackward(x, dy, dx, n) { for (let i = 0; i < n; i++) dx[i] = dy[i]! * dgelu(x[i]!); },
  layerNorm(x, g, b, y, mean, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      let mu = 0; for (let c = 0; c < cols; c++) mu += x[r * cols + c]!; mu /= cols;
      let v = 0; for (let c = 0; c < cols; c++) { const d = x[r * cols + c]! - mu; v += d * d; } v /= cols;
      const rs = 1 / Math.sqrt(v + eps); mean[r] = mu; rstd[r] = rs;
      for (let c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c]! - mu) * rs * g[c]! + b[c]!;
    }
  },
  layerNormBackward(dy, x, g, mean, rstd, dx, dg, db, rows, cols) {
    for (let r = 0; r < rows; r++) {
      let s1 = 0, s2 = 0;
      for (let c = 0; c < cols; c++) {
        const xh = (x[r * cols + c]! - mean[r]!) * rstd[r]!; const d = dy[r * cols + c]! * g[c]!;
        s1 += d; s2 += d * xh; dg[c] += dy[r * cols + c]! * xh; db[c] += dy[r * cols + c]!;
      }
      for (let c = 0; c < cols; c++) {
        const xh = (x[r * cols + c]! - mean[r]!) * rstd[r]!; const d = dy[r * cols + c]! * g[c]!;
        dx[r * cols + c] = rstd[r]! * (d - s1 / cols - xh * s2 / cols);
      }
    }
  },
  softmax(x, y, rows, cols, scale, mask, rpm) {
    for (let r = 0; r < rows; r++) {
      let mx = -Infinity; const mr = Math.floor(r / rpm);
      for (let c = 0; c < cols; c++) { const v = scale * x[r * cols + c]! + (mask ? mask[mr * cols + c]! : 0); y[r * cols + c] = v; mx = Math.max(mx, v); }
      let s = 0; for (let c = 0; c < cols; c++) { const e = Math.exp(y[r * cols + c]! - mx); y[r * cols + c] = e; s += e; }
      for (let c = 0; c < cols; c++) y[r * cols + c] = y[r * cols + c]! / s;
    }
  },
  softmaxBackward(y, dy, dx, rows, cols, scale) {
    for (let r = 0; r < rows; r++) {
      let s = 0; for (let c = 0; c < cols; c++) s += dy[r * cols + c]! * y[r * cols + c]!;
      for (let c = 0; c < cols; c++) dx[r * cols + c] = scale * y[r * cols + c]! * (dy[r * cols + c]! - s);
    }
  },
  dropout(x, y, n, p, seed, off) { for (let i = 0; i < n; i++) y[i] = p === 0 ? x[i]! : dropoutUniform(seed, off + i) >= p ? x[i]! / (1 - p) : 0; },
  dropoutBackward(dy, dx, n, p, seed, off) { for (let i = 0; i < n; i++) dx[i] = p === 0 ? dy[i]! : dropoutUniform(seed, off + i) >= p ? dy[i]! / (1 - p) : 0; },
  add(a, b, out, n) { for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!; },
  axpy(alpha, x, y, n) { for (let i = 0; i < n; i++) y[i] += alpha * x[i]!; },
  scale(x, alpha, n) { for (let i = 0; i < n; i++) x[i] *= alpha; },
  embeddingGather(t, ids, out, count, dim) { for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) out[i * dim + d] = t[ids[i]! * dim + d]!; },
  embeddingScatterAdd(dOut, ids, dT, count, dim) { for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) dT[ids[i]! * dim + d] += dOut[i * dim + d]!; },
  softmaxCrossEntropy(logits, labels, w, dl, rows, cols, gs) {
    let tot = 0;
    for (let r = 0; r < rows; r++) {
      const lab = labels[r]!; const wr = w ? w[r]! : 1;
      if (lab < 0) { if (dl) for (let c = 0; c < cols; c++) dl[r * cols + c] = 0; continue; }
      let mx = -Infinity; for (let c = 0; c < cols; c++) mx = Math.max(mx, logits[r * cols + c]!);
      let s = 0; for (let c = 0; c < cols; c++) s += Math.exp(logits[r * cols + c]! - mx);
      const lse = mx + Math.log(s); tot += wr * (lse - logits[r * cols + lab]!);
      if (dl) for (let c = 0; c < cols; c++) dl[r * cols + c] = gs * wr * (Math.exp(logits[r * cols + c]! - lse) - (c === lab ? 1 : 0));
    }
    return tot;
  },
  sigmoidCrossEntropy(x, z, w, dl, n, gs) {
    let tot = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!; const wi = w ? w[i]! : 1;
      tot += wi * (Math.max(xi, 0) - xi * z[i]! + Math.log1p(Math.exp(-Math.abs(xi))));
      if (dl) dl[i] = gs * wi * (1 / (1 + Math.exp(-xi)) - z[i]!);
    }
    return tot;
  },
  adamw(p, g, m, v, n, o: AdamWOptions) {
    for (let i = 0; i < n; i++) {
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!; v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! * g[i]!;
      let u = m[i]! / (Math.sqrt(v[i]!) + o.eps); if (!o.decayMask || o.decayMask[i]) u += o.weightDecay * p[i]!;
      p[i] -= o.lr * u;
    }
  },
  sumSquares(x, n) { let s = 0; for (let i = 0; i < n; i++) s += x[i]! * x[i]!; return s; },
  clipByGlobalNorm(g, n, mx) { let s = 0; for (let i = 0; i < n; i++) s += g[i]! * g[i]!; const norm = Math.sqrt(s); if (norm > mx) for (let i = 0; i < n; i++) g[i] *= mx / norm; return norm; },
};
