// N-API entry points of the elementwise kernels: argument checks, splitting
// into chunks for the thread pool, deterministic combination of reduction
// partials, and dispatch to the scalar / AVX2 / AVX-512 chunk kernels.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu.h"
#include "elementwise_isa.h"
#include "napi_args.h"
#include "pool.h"

namespace electra {
namespace {

// The portable build of elementwise_simd.inc: one lane, plain C++.
namespace scalar_impl {

struct V {
  using F = float;
  using M = bool;
  using I = uint32_t;
  using D = double;
  static constexpr int64_t W = 1;
  static constexpr float kExpFloor = -150.0f;

  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  // With one lane there is never a partial vector; these only satisfy the interface.
  static F load_n(const float* p, int64_t) { return *p; }
  static void store_n(float* p, F v, int64_t) { *p = v; }
  static F fill_n(F v, int64_t, float) { return v; }

  static F opaque(F v) { return v; }
  static F set(float a) { return a; }
  static F zero() { return 0.0f; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  static F div(F a, F b) { return a / b; }
  // Unfused without FMA hardware (float64 emulation costs long latency chains); only
  // square_error must be exact, which the float64 product is.
  static F fma(F a, F b, F c) { return a * b + c; }
  static F fnma(F a, F b, F c) { return c - a * b; }
  static F square_error(F a, F h) { return static_cast<float>(static_cast<double>(a) * a - h); }
  static F max(F a, F b) { return a > b ? a : b; }
  static F min(F a, F b) { return a < b ? a : b; }
  static F abs(F a) { return std::fabs(a); }
  static F sqrt(F a) { return std::sqrt(a); }
  static M lt(F a, F b) { return a < b; }
  static F select(M m, F t, F f) { return m ? t : f; }
  static float hsum(F v) { return v; }
  static float hmax(F v) { return v; }
  // Round to nearest by adding and removing 1.5 * 2^23 (|v| < 2^22 here); nearbyint
  // and ldexp are library calls without SSE4.1.
  static F round(F v) {
    const float shifted = v + 12582912.0f;
    return shifted - 12582912.0f;
  }
  static F pow2(int n) {  // 2^n for n in [-126, 127]
    const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  }
  static F ldexp(F p, F n) {
    int e = static_cast<int>(n);
    if (e < -126) {  // down to -217 for exp(-150): scale in two normal steps
      p *= pow2(-126);
      e += 126;
    }
    return p * pow2(e);
  }
  static F exp_underflow_fix(F e, F) { return e; }

  static I set_i(uint32_t a) { return a; }
  static I iota_i(uint32_t base) { return base; }
  static I xor_i(I a, I b) { return a ^ b; }
  template <int k>
  static I srl_i(I a) { return a >> k; }
  static I mul_i(I a, I b) { return a * b; }
  static M ge_i(I a, I b) { return a >= b; }

  static D dzero() { return 0.0; }
  static D dadd(D a, F v) { return a + v; }
  static D dadd_sq(D a, F v) { return a + static_cast<double>(v) * v; }
  static double dsum(D a) { return a; }
  static void add_f64(double* p, F v) { *p += v; }
  static void add_f64_n(double* p, F v, int64_t) { *p += v; }
  static M mask_u8(const uint8_t* p) { return *p != 0; }
  static M mask_u8_n(const uint8_t* p, int64_t) { return *p != 0; }
};

#include "elementwise_simd.inc"

}  // namespace scalar_impl

const ElementwiseIsaOps& ops() {
  switch (active_isa()) {
#if ELECTRA_X86_SIMD
    case Isa::Avx512: return elementwise_ops_avx512();
    case Isa::Avx2: return elementwise_ops_avx2();
#endif
    default: return elementwise_ops_scalar();
  }
}

// Work per pool task. Chunk boundaries depend only on the shape, never on the
// thread count, so reductions combine the same partials in the same order.
constexpr int64_t kChunk = 32768;
constexpr int64_t kReduceRowChunk = 65536;  // elements per partial in column reductions

// Runs fn(begin, end) over [0, n) in fixed chunks of `chunk`.
template <class Fn>
void for_chunks(int64_t n, int64_t chunk, Fn&& fn) {
  const int64_t tasks = (n + chunk - 1) / chunk;
  if (tasks <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  parallel_for(tasks, [&](int64_t t) { fn(t * chunk, std::min(n, (t + 1) * chunk)); });
}

int64_t rows_per_task(int64_t cols, int64_t elements) { return std::max<int64_t>(1, elements / std::max<int64_t>(1, cols)); }

Napi::Value Undefined(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// Adds per-chunk float64 column partials (chunk-major, `chunks` x `cols`) into out, in chunk order.
void combine_columns(const double* partial, int64_t chunks, int64_t cols, float* out) {
  const int64_t block = 256;
  const int64_t tasks = chunks * cols >= kReduceRowChunk ? (cols + block - 1) / block : 1;
  const int64_t width = tasks == 1 ? cols : block;
  parallel_for(tasks, [&](int64_t t) {
    const int64_t c1 = std::min(cols, (t + 1) * width);
    for (int64_t c = t * width; c < c1; ++c) {
      double total = static_cast<double>(out[c]);
      for (int64_t k = 0; k < chunks; ++k) total += partial[k * cols + c];
      out[c] = static_cast<float>(total);
    }
  });
}

// Scratch reused across calls of the calling thread (the pool runs one job at a time).
std::vector<double>& scratch(size_t size) {
  thread_local std::vector<double> buf;
  if (buf.size() < size) buf.resize(size);
  return buf;
}

Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  Args a(info, "biasAdd");
  const int64_t rows = a.count(3, "rows"), cols = a.count(4, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* x = a.f32(0, "x", n);
  const float* bias = a.f32(1, "bias", cols);
  float* y = a.f32(2, "y", n);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.bias_add(x + r0 * cols, bias, y + r0 * cols, r1 - r0, cols);
  });
  return Undefined(info);
}

// A bf16 output argument: a Uint16Array of at least n elements.
uint16_t* bf16_out(const Args& a, size_t i, const char* name, int64_t n) {
  const auto out = a.u16(i, name);
  a.check_span(name, out.length, 0, n);
  return out.data;
}

// dbias[c] += the column sums of dy [rows, cols]: float64 partials per fixed chunk of rows
// (chunk(r0, r1, acc) adds rows [r0, r1) into acc), combined in chunk order.
template <class Chunk>
void column_sums(int64_t rows, int64_t cols, float* dbias, Chunk&& chunk) {
  const int64_t rpc = rows_per_task(cols, kReduceRowChunk);
  const int64_t chunks = (rows + rpc - 1) / rpc;
  std::vector<double>& partial = scratch(static_cast<size_t>(chunks * cols));
  for_chunks(rows, rpc, [&](int64_t r0, int64_t r1) {
    double* acc = partial.data() + (r0 / rpc) * cols;
    std::fill(acc, acc + cols, 0.0);
    chunk(r0, r1, acc);
  });
  combine_columns(partial.data(), chunks, cols, dbias);
}

Napi::Value BiasBackward(const Napi::CallbackInfo& info) {
  Args a(info, "biasBackward");
  const int64_t rows = a.count(2, "rows"), cols = a.count(3, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* dy = a.f32(0, "dy", n);
  float* dbias = a.f32(1, "dbias", cols);
  if (n == 0) return Undefined(info);
  const auto& k = ops();
  column_sums(rows, cols, dbias, [&](int64_t r0, int64_t r1, double* acc) { k.bias_backward(dy + r0 * cols, acc, r1 - r0, cols); });
  return Undefined(info);
}

// biasBackwardBf16(dy, dbias, rows, cols, dyBf16): biasBackward's sums (the same chunks, so the
// same bits), and dyBf16 = dy rounded to bf16 in the same pass, for the bf16 GEMMs that read dy next.
Napi::Value BiasBackwardBf16(const Napi::CallbackInfo& info) {
  Args a(info, "biasBackwardBf16");
  const int64_t rows = a.count(2, "rows"), cols = a.count(3, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* dy = a.f32(0, "dy", n);
  float* dbias = a.f32(1, "dbias", cols);
  uint16_t* out = bf16_out(a, 4, "dyBf16", n);
  if (n == 0) return Undefined(info);
  const auto& k = ops();
  column_sums(rows, cols, dbias, [&](int64_t r0, int64_t r1, double* acc) {
    k.bias_backward_bf16(dy + r0 * cols, acc, out + r0 * cols, r1 - r0, cols);
  });
  return Undefined(info);
}

// geluBackwardBiasBf16(x, dy, dbias, rows, cols, dyBf16): d = geluBackward(x, dy) never stored in
// fp32: dbias += its column sums (biasBackward's chunks: the same bits) and dyBf16 = d rounded to bf16.
Napi::Value GeluBackwardBiasBf16(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackwardBiasBf16");
  const int64_t rows = a.count(3, "rows"), cols = a.count(4, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* x = a.f32(0, "x", n);
  const float* dy = a.f32(1, "dy", n);
  float* dbias = a.f32(2, "dbias", cols);
  uint16_t* out = bf16_out(a, 5, "dyBf16", n);
  if (n == 0) return Undefined(info);
  const auto& k = ops();
  column_sums(rows, cols, dbias, [&](int64_t r0, int64_t r1, double* acc) {
    thread_local std::vector<float> tmp;
    if (tmp.size() < static_cast<size_t>(8 * cols)) tmp.resize(static_cast<size_t>(8 * cols));
    k.gelu_backward_bias_bf16(x + r0 * cols, dy + r0 * cols, acc, out + r0 * cols, tmp.data(), r1 - r0, cols);
  });
  return Undefined(info);
}

// biasAddBf16(x, bias, out, rows, cols): out = x + bias rounded to bf16 (biasAdd then bf16Round,
// to the bit), for a GEMM output that only bf16 GEMMs read.
Napi::Value BiasAddBf16(const Napi::CallbackInfo& info) {
  Args a(info, "biasAddBf16");
  const int64_t rows = a.count(3, "rows"), cols = a.count(4, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* x = a.f32(0, "x", n);
  const float* bias = a.f32(1, "bias", cols);
  uint16_t* out = bf16_out(a, 2, "out", n);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.bias_add_bf16(x + r0 * cols, bias, out + r0 * cols, r1 - r0, cols);
  });
  return Undefined(info);
}

// biasGeluBf16(x, bias, y, out, rows, cols): y = x + bias (y may alias x), out = gelu(y) rounded
// to bf16 (biasAdd then geluBf16, to the bit) in one pass.
Napi::Value BiasGeluBf16(const Napi::CallbackInfo& info) {
  Args a(info, "biasGeluBf16");
  const int64_t rows = a.count(4, "rows"), cols = a.count(5, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* x = a.f32(0, "x", n);
  const float* bias = a.f32(1, "bias", cols);
  float* y = a.f32(2, "y", n);
  uint16_t* out = bf16_out(a, 3, "out", n);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.bias_gelu_bf16(x + r0 * cols, bias, y + r0 * cols, out + r0 * cols, r1 - r0, cols);
  });
  return Undefined(info);
}

// geluBf16(x, y, n): y = gelu(x) rounded to bf16, for a bf16 GEMM input (no fp32 copy).
Napi::Value GeluBf16(const Napi::CallbackInfo& info) {
  Args a(info, "geluBf16");
  const int64_t n = a.count(2, "n");
  const float* x = a.f32(0, "x", n);
  uint16_t* y = bf16_out(a, 1, "y", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.gelu_bf16(x + b, y + b, e - b); });
  return Undefined(info);
}

Napi::Value Gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu");
  const int64_t n = a.count(2, "n");
  const float* x = a.f32(0, "x", n);
  float* y = a.f32(1, "y", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.gelu(x + b, y + b, e - b); });
  return Undefined(info);
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward");
  const int64_t n = a.count(3, "n");
  const float* x = a.f32(0, "x", n);
  const float* dy = a.f32(1, "dy", n);
  float* dx = a.f32(2, "dx", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.gelu_backward(x + b, dy + b, dx + b, e - b); });
  return Undefined(info);
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm");
  const int64_t rows = a.count(6, "rows"), cols = a.count(7, "cols");
  const double eps = a.finite(8, "eps");
  if (eps < 0) a.fail("eps must be >= 0", true);
  const int64_t n = a.product(rows, cols, "rows * cols");
  if (cols == 0 && rows > 0) a.fail("cols must be positive", true);
  const float* x = a.f32(0, "x", n);
  const float* gamma = a.f32(1, "gamma", cols);
  const float* beta = a.f32(2, "beta", cols);
  float* y = a.f32(3, "y", n);
  float* mean = a.f32(4, "mean", rows);
  float* rstd = a.f32(5, "rstd", rows);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.layer_norm(x + r0 * cols, gamma, beta, y + r0 * cols, mean + r0, rstd + r0, r1 - r0, cols, static_cast<float>(eps));
  });
  return Undefined(info);
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward");
  const int64_t rows = a.count(8, "rows"), cols = a.count(9, "cols");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* dy = a.f32(0, "dy", n);
  const float* x = a.f32(1, "x", n);
  const float* gamma = a.f32(2, "gamma", cols);
  const float* mean = a.f32(3, "mean", rows);
  const float* rstd = a.f32(4, "rstd", rows);
  float* dx = a.f32(5, "dx", n);
  float* dgamma = a.f32(6, "dgamma", cols);
  float* dbeta = a.f32(7, "dbeta", cols);
  if (n == 0) return Undefined(info);
  const int64_t rpc = rows_per_task(cols, kReduceRowChunk);
  const int64_t chunks = (rows + rpc - 1) / rpc;
  const size_t per = static_cast<size_t>(chunks * cols);
  // float64 partials for dgamma and dbeta per chunk, combined in chunk order.
  std::vector<double>& partial = scratch(2 * per);
  double* dgamma_part = partial.data();
  double* dbeta_part = partial.data() + per;
  const auto& k = ops();
  for_chunks(rows, rpc, [&](int64_t r0, int64_t r1) {
    // The kernel accumulates into buffers of the thread running the chunk, which stay in
    // cache from chunk to chunk (a fresh slot per chunk measured ~11% slower); only the
    // finished partials are copied to the chunk's slot.
    thread_local std::vector<double> sums;
    thread_local std::vector<float> work;
    const auto width = static_cast<size_t>(2 * cols);
    if (sums.size() < width) sums.resize(width);
    if (work.size() < width) work.resize(width);
    std::fill(sums.begin(), sums.begin() + 2 * cols, 0.0);
    k.layer_norm_backward(dy + r0 * cols, x + r0 * cols, gamma, mean + r0, rstd + r0, dx + r0 * cols, sums.data(),
                          sums.data() + cols, work.data(), r1 - r0, cols);
    std::copy(sums.begin(), sums.begin() + cols, dgamma_part + (r0 / rpc) * cols);
    std::copy(sums.begin() + cols, sums.begin() + 2 * cols, dbeta_part + (r0 / rpc) * cols);
  });
  combine_columns(dgamma_part, chunks, cols, dgamma);
  combine_columns(dbeta_part, chunks, cols, dbeta);
  return Undefined(info);
}

// The reference's additive attention mask value (modeling.attention_layer).
constexpr float kCausalMaskedScore = -10000.0f;

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Args a(info, "softmax");
  const int64_t rows = a.count(2, "rows"), cols = a.count(3, "cols");
  const double scale = a.finite(4, "scale");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* x = a.f32(0, "x", n);
  float* y = a.f32(1, "y", n);
  const float* mask = nullptr;
  int64_t rows_per_mask = 1;
  if (!a.is_null(5)) {
    rows_per_mask = a.count(6, "rowsPerMask");
    if (rows_per_mask < 1) a.fail("rowsPerMask must be >= 1 when a mask is given", true);
    const int64_t mask_rows = (rows + rows_per_mask - 1) / rows_per_mask;
    mask = a.f32(5, "mask", a.product(mask_rows, cols, "mask rows * cols"));
  }
  // Causal attention: 1 left-to-right (query q sees keys <= q), -1 right-to-left (keys >= q).
  const double causal_arg = a.is_null(7) ? 0.0 : a.number(7, "causal");
  if (!(causal_arg == -1.0 || causal_arg == 0.0 || causal_arg == 1.0)) a.fail("causal must be -1, 0 or 1", true);
  const int64_t causal = static_cast<int64_t>(causal_arg);
  const auto& k = ops();
  if (causal == 0) {
    for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
      k.softmax(x + r0 * cols, y + r0 * cols, r0, r1 - r0, cols, static_cast<float>(scale), mask, rows_per_mask);
    });
    return Undefined(info);
  }
  // Row r is query r % cols of its block. A key outside the causal band gets the reference's
  // -10000 instead of the padding mask (its masks multiply: an entry is masked once), so each row
  // runs the vector kernel with its own combined mask.
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    std::vector<float> row_mask(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t q = r % cols;
      const float* mr = mask ? mask + (r / rows_per_mask) * cols : nullptr;
      for (int64_t c = 0; c < cols; ++c) {
        const bool outside = causal > 0 ? c > q : c < q;
        row_mask[c] = outside ? kCausalMaskedScore : (mr ? mr[c] : 0.0f);
      }
      k.softmax(x + r * cols, y + r * cols, 0, 1, cols, static_cast<float>(scale), row_mask.data(), 1);
    }
  });
  return Undefined(info);
}

// softmaxBackwardBf16(y, dy, dx, rows, cols, scale): softmaxBackward's output rounded to bf16
// (softmaxBackward then bf16Round, to the bit), for score gradients that only bf16 GEMMs read.
Napi::Value SoftmaxBackwardBf16(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackwardBf16");
  const int64_t rows = a.count(3, "rows"), cols = a.count(4, "cols");
  const double scale = a.finite(5, "scale");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* y = a.f32(0, "y", n);
  const float* dy = a.f32(1, "dy", n);
  uint16_t* dx = bf16_out(a, 2, "dx", n);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> tmp;
    if (tmp.size() < static_cast<size_t>(cols)) tmp.resize(static_cast<size_t>(cols));
    k.softmax_backward_bf16(y + r0 * cols, dy + r0 * cols, dx + r0 * cols, tmp.data(), r1 - r0, cols,
                            static_cast<float>(scale));
  });
  return Undefined(info);
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward");
  const int64_t rows = a.count(3, "rows"), cols = a.count(4, "cols");
  const double scale = a.finite(5, "scale");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* y = a.f32(0, "y", n);
  const float* dy = a.f32(1, "dy", n);
  float* dx = a.f32(2, "dx", n);
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.softmax_backward(y + r0 * cols, dy + r0 * cols, dx + r0 * cols, r1 - r0, cols, static_cast<float>(scale));
  });
  return Undefined(info);
}

// The same integer steps as rng.ts mix32.
uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// ECMAScript ToUint32 for an integral double.
uint32_t to_uint32(double d) {
  double m = std::fmod(d, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<uint32_t>(m);
}

// The uniform below which the Gumbel noise -log(-log(u + 1e-9) + 1e-9) is certainly under d, at
// steps of 1/8 from lo (the value at the step's lower end: the bound only ever prunes less); no
// uniform (< 1) reaches noise hi, and below lo every uniform may.
struct NoiseTable {
  static constexpr double lo = -4, hi = 17, step = 0.125;
  double values[static_cast<int>((hi - lo) / step) + 1];
  NoiseTable() {
    for (int k = 0; k * step + lo <= hi; ++k) {
      const double d = lo + k * step;
      values[k] = std::exp(-(std::exp(-d) - 1e-9)) - 1e-9 - 1e-12 - 1e-9;
    }
  }
  double at(double d) const { return values[static_cast<int>((d - lo) / step)]; }
};
const NoiseTable kNoiseTable;

// gumbelCandidates(logits, rows, cols, invTemperature, seed, rowOffset, disallow, argmax, counts,
// columns, numerators, capacity): the pre-pass of masking.ts's sampleGumbelMax. Per row: the
// argmax; then as candidates the argmax column, and in order every column whose uniform
// (numerator * 2^-24, the same xorshift stream) passes the exact loop's bound and its own (its noise
// must exceed best - logit / T), both kept below the exact values by a margin of 1e-9 (native and
// V8 logs differ by ulps, ~1e-15). So every column that can win the row is listed, and masking.ts
// finishes each row with V8's logs on the candidates only. A row with more than `capacity`
// candidates gets count -1 (then the exact loop runs over the whole row).
Napi::Value GumbelCandidates(const Napi::CallbackInfo& info) {
  Args a(info, "gumbelCandidates");
  a.expect_count(12);
  const int64_t rows = a.count(1, "rows"), cols = a.count(2, "cols");
  const double inv_t = a.finite(3, "invTemperature");
  const double seed = a.finite(4, "seed");
  if (seed != std::floor(seed)) a.fail("seed must be an integer", true);
  const int64_t row_offset = a.count(5, "rowOffset");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* logits = a.f32(0, "logits", n);
  const int32_t* disallow = a.is_null(6) ? nullptr : a.i32(6, "disallow", rows);
  int32_t* argmax = a.i32(7, "argmax", rows);
  int32_t* counts = a.i32(8, "counts", rows);
  const int64_t capacity = a.count(11, "capacity");
  int32_t* columns = a.i32(9, "columns", a.product(rows, capacity, "rows * capacity"));
  int32_t* numerators = a.i32(10, "numerators", rows * capacity);
  const uint32_t key = mix32(to_uint32(seed) ^ 0x9e3779b9u);
  constexpr double kMargin = 1e-9;
  constexpr double kInf = __builtin_inf();
  // Rows in groups of kGroup scanned side by side: each row's xorshift steps form one dependency
  // chain, so interleaving rows keeps the core busy. A padding or overflowed row gets threshold
  // +inf (every uniform is <= it).
  constexpr int kGroup = 4;
  parallel_for((rows + kGroup - 1) / kGroup, [&](int64_t t) {
    const int64_t r0 = t * kGroup;
    uint32_t state[kGroup];
    double threshold[kGroup], best[kGroup], max_scaled[kGroup];
    int64_t count[kGroup], banned[kGroup];
    for (int q = 0; q < kGroup; ++q) {
      const int64_t r = r0 + q;
      count[q] = 0;
      best[q] = -kInf;
      if (r >= rows) {
        threshold[q] = kInf;
        state[q] = 1;
        banned[q] = -1;
        max_scaled[q] = 0;
        continue;
      }
      const float* lr = logits + r * cols;
      float top = -__builtin_inff();
      int64_t top_index = 0;
      for (int64_t i = 0; i < cols; ++i) {
        if (lr[i] > top) {
          top = lr[i];
          top_index = i;
        }
      }
      argmax[r] = static_cast<int32_t>(top_index);
      max_scaled[q] = static_cast<double>(top) * inv_t;
      banned[q] = disallow ? disallow[r] : -1;
      threshold[q] = -1;
      state[q] = mix32(key ^ (static_cast<uint32_t>(r + row_offset + 1) * 0x9e3779b1u)) | 1u;
      // The argmax column is listed first and its value sets the first threshold: from -inf, a
      // peaked row would list every column up to its peak.
      if (capacity == 0) continue;
      uint32_t x = state[q];
      for (int64_t i = 0; i <= top_index; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
      }
      const uint32_t num = x >> 8;
      columns[r * capacity] = static_cast<int32_t>(top_index);
      numerators[r * capacity] = static_cast<int32_t>(num);
      count[q] = 1;
      const double scaled = top_index == banned[q] ? static_cast<double>(top) * inv_t - 1000 : static_cast<double>(top) * inv_t;
      const double v = scaled + -std::log(-std::log(num * 5.9604644775390625e-8 + 1e-9) + 1e-9);
      if (v > -kInf) {
        best[q] = v;
        threshold[q] = std::exp(-(std::exp(-(best[q] - max_scaled[q])) - 1e-9)) - 1e-9 - 1e-12 - kMargin;
      }
    }
    for (int64_t i = 0; i < cols; ++i) {
      for (int q = 0; q < kGroup; ++q) {
        uint32_t x = state[q];
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        state[q] = x;
        const uint32_t num = x >> 8;
        const double u = num * 5.9604644775390625e-8;
        if (__builtin_expect(u <= threshold[q], 1)) continue;  // !(u <= t), as the exact loop: a NaN threshold prunes nothing
        const int64_t r = r0 + q;
        const float x_i = logits[r * cols + i];
        const double scaled = i == banned[q] ? x_i * inv_t - 1000 : x_i * inv_t;
        // This column's own bound: it can beat best only if its noise exceeds d = best - scaled
        // (a NaN d prunes nothing).
        const double d = best[q] - scaled;
        if (d >= kNoiseTable.hi) continue;
        if (d >= kNoiseTable.lo && u <= kNoiseTable.at(d)) continue;
        if (count[q] == capacity) {
          count[q] = -1;
          threshold[q] = kInf;
          continue;
        }
        columns[r * capacity + count[q]] = static_cast<int32_t>(i);
        numerators[r * capacity + count[q]] = static_cast<int32_t>(num);
        ++count[q];
        const double v = scaled + -std::log(-std::log(u + 1e-9) + 1e-9);
        if (v > best[q]) {
          best[q] = v;
          threshold[q] = std::exp(-(std::exp(-(best[q] - max_scaled[q])) - 1e-9)) - 1e-9 - 1e-12 - kMargin;
        }
      }
    }
    for (int q = 0; q < kGroup && r0 + q < rows; ++q) counts[r0 + q] = static_cast<int32_t>(count[q]);
  });
  return Undefined(info);
}

// p, seed and counterOffset (arguments 3 to 5) of a dropout call as the kernels' step (counter of element 0).
DropoutStep dropout_step(const Args& a) {
  const double p = a.finite(3, "p");
  if (!(p >= 0 && p < 1)) a.fail("p must be in [0, 1), got " + std::to_string(p), true);
  const double seed = a.finite(4, "seed");
  if (seed != std::floor(seed)) a.fail("seed must be an integer", true);
  const int64_t offset = a.count(5, "counterOffset");
  DropoutStep step;
  step.key = mix32(to_uint32(seed) ^ 0x9e3779b9u);
  step.threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  step.scale = static_cast<float>(1.0 / (1.0 - p));
  step.counter = to_uint32(static_cast<double>(offset));
  return step;
}

constexpr char kDropout[] = "dropout";
constexpr char kDropoutBackward[] = "dropoutBackward";

// dropout(x, y, n, p, seed, counterOffset); dropoutBackward applies the same mask to dy.
template <const char* kName>
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Args a(info, kName);
  const int64_t n = a.count(2, "n");
  const DropoutStep step = dropout_step(a);
  const float* x = a.f32(0, "x", n);
  float* y = a.f32(1, "y", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) {
    DropoutStep s = step;
    s.counter += static_cast<uint32_t>(b);
    k.dropout(x + b, y + b, e - b, s);
  });
  return Undefined(info);
}

// dropoutBf16(x, y, n, p, seed, counterOffset): dropout's output rounded to bf16 (dropout then
// bf16Round, to the bit), for probabilities that only bf16 GEMMs read.
Napi::Value DropoutBf16(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutBf16");
  const int64_t n = a.count(2, "n");
  const DropoutStep step = dropout_step(a);
  const float* x = a.f32(0, "x", n);
  uint16_t* y = bf16_out(a, 1, "y", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) {
    DropoutStep s = step;
    s.counter += static_cast<uint32_t>(b);
    k.dropout_bf16(x + b, y + b, e - b, s);
  });
  return Undefined(info);
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  Args a(info, "add");
  const int64_t n = a.count(3, "n");
  const float* x = a.f32(0, "a", n);
  const float* y = a.f32(1, "b", n);
  float* out = a.f32(2, "out", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.add(x + b, y + b, out + b, e - b); });
  return Undefined(info);
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy");
  const float alpha = static_cast<float>(a.number(0, "alpha"));
  const int64_t n = a.count(3, "n");
  const float* x = a.f32(1, "x", n);
  float* y = a.f32(2, "y", n);
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.axpy(alpha, x + b, y + b, e - b); });
  return Undefined(info);
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale");
  const int64_t n = a.count(2, "n");
  float* x = a.f32(0, "x", n);
  const float alpha = static_cast<float>(a.number(1, "alpha"));
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.scale(x + b, alpha, e - b); });
  return Undefined(info);
}

// Table rows are visited in id order, which hardware prefetchers cannot predict:
// fetch the next row's lines while the current one is processed.
void prefetch_span(const float* p, int64_t n, int write) {
  for (int64_t i = 0; i < n; i += 16) {
    if (write) __builtin_prefetch(p + i, 1, 3);
    else __builtin_prefetch(p + i, 0, 3);
  }
}

// Checks every id against the table's row count before anything is written.
void check_ids(const Args& a, const int32_t* ids, int64_t count, int64_t table_rows) {
  for (int64_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= table_rows)
      a.fail("ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is outside [0, " + std::to_string(table_rows) + ")", true);
  }
}

Napi::Value EmbeddingGather(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingGather");
  const int64_t count = a.count(3, "count"), dim = a.count(4, "dim");
  const int64_t n = a.product(count, dim, "count * dim");
  const float* table = a.f32(0, "table", 0);
  const int32_t* ids = a.i32(1, "ids", count);
  float* out = a.f32(2, "out", n);
  if (n == 0) return Undefined(info);
  check_ids(a, ids, count, a.length(0) / dim);
  for_chunks(count, rows_per_task(dim, kChunk), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      if (i + 1 < r1) prefetch_span(table + static_cast<int64_t>(ids[i + 1]) * dim, dim, 0);
      std::memcpy(out + i * dim, table + static_cast<int64_t>(ids[i]) * dim, static_cast<size_t>(dim) * sizeof(float));
    }
  });
  return Undefined(info);
}

Napi::Value EmbeddingScatterAdd(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingScatterAdd");
  const int64_t count = a.count(3, "count"), dim = a.count(4, "dim");
  const int64_t n = a.product(count, dim, "count * dim");
  const float* dout = a.f32(0, "dOut", n);
  const int32_t* ids = a.i32(1, "ids", count);
  float* dtable = a.f32(2, "dTable", 0);
  if (n == 0) return Undefined(info);
  check_ids(a, ids, count, a.length(2) / dim);
  // Tasks own disjoint (id class, column block) pairs: each adds its rows in index
  // order, so repeated ids never race and the sums do not depend on the split.
  // Column blocks stay >= 256 floats (contiguous 1 KB runs); id classes (id mod
  // classes) supply the rest of the parallelism.
  int64_t blocks = 1, classes = 1;
  if (n >= kChunk) {
    const int64_t want = 4 * static_cast<int64_t>(pool_threads());
    blocks = std::min<int64_t>(want, std::max<int64_t>(1, dim / 256));
    classes = (want + blocks - 1) / blocks;
  }
  const int64_t width = (dim + blocks - 1) / blocks;
  const auto& k = ops();
  parallel_for(blocks * classes, [&](int64_t t) {
    const int64_t cls = t / blocks, c0 = (t % blocks) * width, c1 = std::min(dim, c0 + width);
    if (c0 >= c1) return;
    auto next_of = [&](int64_t from) {
      while (from < count && ids[from] % classes != cls) ++from;
      return from;
    };
    for (int64_t i = next_of(0); i < count;) {
      const int64_t next = next_of(i + 1);
      if (next < count) {
        prefetch_span(dtable + static_cast<int64_t>(ids[next]) * dim + c0, c1 - c0, 1);
        prefetch_span(dout + next * dim + c0, c1 - c0, 0);
      }
      k.axpy(1.0f, dout + i * dim + c0, dtable + static_cast<int64_t>(ids[i]) * dim + c0, c1 - c0);
      i = next;
    }
  });
  return Undefined(info);
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxCrossEntropy");
  const int64_t rows = a.count(4, "rows"), cols = a.count(5, "cols");
  const double grad_scale = a.finite(6, "gradScale");
  const int64_t n = a.product(rows, cols, "rows * cols");
  const float* logits = a.f32(0, "logits", n);
  const int32_t* labels = a.i32(1, "labels", rows);
  const float* weights = a.f32_or_null(2, "weights", rows);
  float* dlogits = a.f32_or_null(3, "dlogits", n);
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] >= cols)
      a.fail("labels[" + std::to_string(r) + "] = " + std::to_string(labels[r]) + " is not below cols = " + std::to_string(cols), true);
  }
  std::vector<double> row_loss(static_cast<size_t>(rows));
  const auto& k = ops();
  for_chunks(rows, rows_per_task(cols, kChunk), [&](int64_t r0, int64_t r1) {
    k.softmax_xent(logits + r0 * cols, labels + r0, weights ? weights + r0 : nullptr, dlogits ? dlogits + r0 * cols : nullptr,
                   r1 - r0, cols, static_cast<float>(grad_scale), row_loss.data() + r0);
  });
  double total = 0;
  for (double l : row_loss) total += l;
  return Napi::Number::New(info.Env(), total);
}

Napi::Value SigmoidCrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "sigmoidCrossEntropy");
  const int64_t n = a.count(4, "n");
  const double grad_scale = a.finite(5, "gradScale");
  const float* logits = a.f32(0, "logits", n);
  const float* labels = a.f32(1, "labels", n);
  const float* weights = a.f32_or_null(2, "weights", n);
  float* dlogits = a.f32_or_null(3, "dlogits", n);
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks));
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) {
    partial[b / kChunk] = k.sigmoid_xent(logits + b, labels + b, weights ? weights + b : nullptr, dlogits ? dlogits + b : nullptr,
                                         e - b, static_cast<float>(grad_scale));
  });
  double total = 0;
  for (double p : partial) total += p;
  return Napi::Number::New(info.Env(), total);
}

// adamw(params, grads, m, v, n, lr, beta1, beta2, eps, weightDecay, biasCorrection, step, decayMask)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Args a(info, "adamw");
  const int64_t n = a.count(4, "n");
  float* params = a.f32(0, "params", n);
  const float* grads = a.f32(1, "grads", n);
  float* m = a.f32(2, "m", n);
  float* v = a.f32(3, "v", n);
  const double lr = a.finite(5, "lr"), beta1 = a.finite(6, "beta1"), beta2 = a.finite(7, "beta2");
  const double eps = a.finite(8, "eps"), wd = a.finite(9, "weightDecay");
  const bool bias_correction = a.boolean(10, "biasCorrection");
  const uint8_t* decay_mask = a.u8_or_null(12, "decayMask", n);
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) a.fail("beta1 and beta2 must be in [0, 1)", true);
  AdamWStep s{static_cast<float>(lr), static_cast<float>(beta1), static_cast<float>(beta2), static_cast<float>(eps),
              static_cast<float>(wd), static_cast<float>(1.0 - beta1), static_cast<float>(1.0 - beta2), 1.0f, 1.0f};
  if (bias_correction) {
    const int64_t step = a.count(11, "step");
    if (step < 1) a.fail("step must be >= 1 with bias correction", true);
    s.m_scale = static_cast<float>(1.0 / (1.0 - std::pow(beta1, static_cast<double>(step))));
    s.v_scale = static_cast<float>(1.0 / (1.0 - std::pow(beta2, static_cast<double>(step))));
  }
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) {
    k.adamw(params + b, grads + b, m + b, v + b, decay_mask ? decay_mask + b : nullptr, e - b, s);
  });
  return Undefined(info);
}

double sum_squares_chunked(const float* x, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks));
  const auto& k = ops();
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { partial[b / kChunk] = k.sum_squares(x + b, e - b); });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares");
  const int64_t n = a.count(1, "n");
  const float* x = a.f32(0, "x", n);
  return Napi::Number::New(info.Env(), sum_squares_chunked(x, n));
}

Napi::Value ClipByGlobalNorm(const Napi::CallbackInfo& info) {
  Args a(info, "clipByGlobalNorm");
  const int64_t n = a.count(1, "n");
  float* g = a.f32(0, "grads", n);
  const double max_norm = a.finite(2, "maxNorm");
  if (max_norm < 0) a.fail("maxNorm must be >= 0", true);
  const double norm = std::sqrt(sum_squares_chunked(g, n));
  if (norm > max_norm) {
    const float factor = static_cast<float>(max_norm / norm);
    const auto& k = ops();
    for_chunks(n, kChunk, [&](int64_t b, int64_t e) { k.scale(g + b, factor, e - b); });
  }
  return Napi::Number::New(info.Env(), norm);
}

// Plain multi-threaded copy: the bandwidth baseline of the elementwise benchmark.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Args a(info, "copy");
  const int64_t n = a.count(2, "n");
  const float* src = a.f32(0, "src", n);
  float* dst = a.f32(1, "dst", n);
  for_chunks(n, kChunk, [&](int64_t b, int64_t e) { std::memmove(dst + b, src + b, static_cast<size_t>(e - b) * sizeof(float)); });
  return Undefined(info);
}

}  // namespace

const ElementwiseIsaOps& elementwise_ops_scalar() { return scalar_impl::kOps; }
const ElementwiseIsaOps& elementwise_ops_active() { return ops(); }

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("biasAdd", Napi::Function::New(env, BiasAdd));
  exports.Set("biasBackward", Napi::Function::New(env, BiasBackward));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward));
  exports.Set("geluBf16", Napi::Function::New(env, GeluBf16));
  exports.Set("biasBackwardBf16", Napi::Function::New(env, BiasBackwardBf16));
  exports.Set("biasAddBf16", Napi::Function::New(env, BiasAddBf16));
  exports.Set("biasGeluBf16", Napi::Function::New(env, BiasGeluBf16));
  exports.Set("dropoutBf16", Napi::Function::New(env, DropoutBf16));
  exports.Set("gumbelCandidates", Napi::Function::New(env, GumbelCandidates));
  exports.Set("geluBackwardBiasBf16", Napi::Function::New(env, GeluBackwardBiasBf16));
  exports.Set("softmaxBackwardBf16", Napi::Function::New(env, SoftmaxBackwardBf16));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
  exports.Set("dropout", Napi::Function::New(env, Dropout<kDropout>));
  exports.Set("dropoutBackward", Napi::Function::New(env, Dropout<kDropoutBackward>));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("scale", Napi::Function::New(env, Scale));
  exports.Set("embeddingGather", Napi::Function::New(env, EmbeddingGather));
  exports.Set("embeddingScatterAdd", Napi::Function::New(env, EmbeddingScatterAdd));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy));
  exports.Set("sigmoidCrossEntropy", Napi::Function::New(env, SigmoidCrossEntropy));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares));
  exports.Set("clipByGlobalNorm", Napi::Function::New(env, ClipByGlobalNorm));
  exports.Set("copy", Napi::Function::New(env, Copy));
}

}  // namespace electra
