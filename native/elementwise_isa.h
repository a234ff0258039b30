// Single-threaded elementwise kernels over one chunk, one table per instruction
// set. elementwise.cc validates arguments, splits work into chunks for the
// thread pool and combines reduction partials; the tables do the arithmetic.
// Only plain declarations here: this header is included by translation units
// compiled with AVX-512 / AVX2 flags, so it must not define inline code.
#pragma once
#include <cstdint>

namespace electra {

struct AdamWStep {
  float lr, beta1, beta2, eps, weight_decay;
  // 1 - beta1 and 1 - beta2 rounded from float64 (1 - 0.999f would be off by 1e-5 relative).
  float one_minus_beta1, one_minus_beta2;
  // Bias-correction factors for m and v (1 when bias correction is off).
  float m_scale, v_scale;
};

struct DropoutStep {
  uint32_t key;        // seedKey(seed) of rng.ts
  uint32_t counter;    // counter of the chunk's first element (wraps mod 2^32)
  uint32_t threshold;  // keep when (mix32(key ^ counter) >> 8) >= threshold, i.e. uniform >= p
  float scale;         // 1 / (1 - p)
};

struct ElementwiseIsaOps {
  void (*bias_add)(const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
  // acc[c] += sum over the chunk's rows of dy[r, c] (float64 partials).
  void (*bias_backward)(const float* dy, double* acc, int64_t rows, int64_t cols);
  void (*gelu)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n);
  void (*layer_norm)(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                     float* rstd, int64_t rows, int64_t cols, float eps);
  // dx written; dgamma_acc[c], dbeta_acc[c] accumulate float64 partials over the chunk's rows;
  // scratch holds 2 * cols floats for the kernel's own use.
  void (*layer_norm_backward)(const float* dy, const float* x, const float* gamma, const float* mean,
                              const float* rstd, float* dx, double* dgamma_acc, double* dbeta_acc,
                              float* scratch, int64_t rows, int64_t cols);
  // Rows [row0, row0 + rows) of the whole tensor (row0 picks the mask rows).
  void (*softmax)(const float* x, float* y, int64_t row0, int64_t rows, int64_t cols, float scale,
                  const float* mask, int64_t rows_per_mask);
  void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                           float scale);
  void (*dropout)(const float* x, float* y, int64_t n, DropoutStep step);
  void (*add)(const float* a, const float* b, float* out, int64_t n);
  void (*axpy)(float alpha, const float* x, float* y, int64_t n);
  void (*scale)(float* x, float alpha, int64_t n);
  // Writes w_r * loss_r (0 for skipped rows) into row_loss; labels already validated.
  void (*softmax_xent)(const float* logits, const int32_t* labels, const float* weights, float* dlogits,
                       int64_t rows, int64_t cols, float grad_scale, double* row_loss);
  // Returns sum_i w_i * loss_i over the chunk.
  double (*sigmoid_xent)(const float* logits, const float* labels, const float* weights, float* dlogits,
                         int64_t n, float grad_scale);
  void (*adamw)(float* params, const float* grads, float* m, float* v, const uint8_t* decay_mask,
                int64_t n, AdamWStep step);
  double (*sum_squares)(const float* x, int64_t n);
  // y = gelu(x) rounded to bf16 (the bf16 GEMMs' rounding), for a GEMM input.
  void (*gelu_bf16)(const float* x, uint16_t* y, int64_t n);
  // bias_backward, and dy_bf16 = dy rounded to bf16 over the same rows.
  void (*bias_backward_bf16)(const float* dy, double* acc, uint16_t* dy_bf16, int64_t rows, int64_t cols);
  // out = x + bias rounded to bf16.
  void (*bias_add_bf16)(const float* x, const float* bias, uint16_t* out, int64_t rows, int64_t cols);
  // y = x + bias (y may alias x); out = gelu(y) rounded to bf16.
  void (*bias_gelu_bf16)(const float* x, const float* bias, float* y, uint16_t* out, int64_t rows, int64_t cols);
  // dropout with its output rounded to bf16.
  void (*dropout_bf16)(const float* x, uint16_t* y, int64_t n, DropoutStep step);
  // softmax_backward with its output rounded to bf16; tmp holds cols floats.
  void (*softmax_backward_bf16)(const float* y, const float* dy, uint16_t* dx, float* tmp, int64_t rows, int64_t cols,
                                float scale);
  // d = gelu_backward(x, dy): acc += its column sums (as bias_backward), out = d rounded to bf16;
  // tmp holds 8 * cols floats.
  void (*gelu_backward_bias_bf16)(const float* x, const float* dy, double* acc, uint16_t* out, float* tmp, int64_t rows,
                                  int64_t cols);
};

const ElementwiseIsaOps& elementwise_ops_scalar();
// Call only after active_isa() confirmed the instruction set.
const ElementwiseIsaOps& elementwise_ops_avx2();
const ElementwiseIsaOps& elementwise_ops_avx512();
// The table elementwise.cc's kernels use (active_isa()), for GEMM epilogues that must give the same bits.
const ElementwiseIsaOps& elementwise_ops_active();

}  // namespace electra
