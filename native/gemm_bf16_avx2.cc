// bf16 GEMM without AVX512_BF16: the bf16 operands are widened to fp32 (a
// 16-bit shift) and multiplied-added with FMA, odd depth first, then even, as
// VDPBF16PS does; each product is exact in fp32, so FMA rounds the same sum
// once. Compiled with -mavx2 -mfma; gemm_bf16.cc checks the CPU first.
#include <immintrin.h>

#include <cstdint>

#include "gemm_bf16.h"

namespace electra {
namespace bf16 {
#include "gemm_bf16_pack.inc"
namespace {

constexpr int kRowsPerPass = 6;

inline __m256i lanes_mask(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 0 ? 0 : n > 8 ? 8 : n)), idx);
}

inline void store(float* c, int64_t n, __m256 s, float alpha, float beta, bool first) {
  if (n <= 0) return;
  const __m256i mask = lanes_mask(n);
  __m256 v = alpha == 1.0f ? s : _mm256_mul_ps(s, _mm256_set1_ps(alpha));
  if (!first) v = _mm256_add_ps(v, _mm256_maskload_ps(c, mask));
  else if (beta != 0.0f) v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c, mask)));
  _mm256_maskstore_ps(c, mask, v);
}

// Up to kRowsPerPass rows x 8 columns (column group g of the panel).
template <int R>
void pass(int64_t g, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
          int64_t ldc, float alpha, float beta, bool first) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  const uint32_t* a32 = reinterpret_cast<const uint32_t*>(a);
  for (int64_t t = 0; t < kp; ++t, a32 += a_ts) {
    const __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + t * 64 + g * 16));
    const __m256 b_even = _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16));
    const __m256 b_odd = _mm256_castsi256_ps(_mm256_and_si256(pairs, high));
    for (int r = 0; r < R; ++r) {
      const __m256i ap = _mm256_set1_epi32(static_cast<int>(a32[r * a_rs]));
      acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(ap, high)), b_odd, acc[r]);
      acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(ap, 16)), b_even, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) store(c + r * ldc + g * 8, cols - g * 8, acc[r], alpha, beta, first);
}

template <int R>
void pass_groups(int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
                 int64_t ldc, float alpha, float beta, bool first) {
  for (int64_t g = 0; g * 8 < cols; ++g) pass<R>(g, cols, kp, a, a_rs, a_ts, b, c, ldc, alpha, beta, first);
}

void tile(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
          int64_t ldc, float alpha, float beta, bool first) {
  for (int r0 = 0; r0 < rows; r0 += kRowsPerPass) {
    const int n = rows - r0 < kRowsPerPass ? rows - r0 : kRowsPerPass;
    const uint16_t* ar = a + 2 * r0 * a_rs;
    float* cr = c + r0 * ldc;
    switch (n) {
      case 1: pass_groups<1>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
      case 2: pass_groups<2>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
      case 3: pass_groups<3>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
      case 4: pass_groups<4>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
      case 5: pass_groups<5>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
      default: pass_groups<6>(cols, kp, ar, a_rs, a_ts, b, cr, ldc, alpha, beta, first); break;
    }
  }
}

// Emulated peak: two FMAs per pair of bf16 products.
double dot_loop(int64_t iterations) {
  constexpr int kChains = 10;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999f);
  const __m256 y = _mm256_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 10
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, sum);
  volatile float sink = out[0] + out[7];
  (void)sink;
  return static_cast<double>(iterations) * kChains * 8 * 2;
}

const Ops kOps = {"avx2-emulated", kMR, convert_rows<float>, convert_pairs<float>, pack_panels<float>, pack_panels16, tile, dot_loop};

}  // namespace

const Ops& avx2_ops() { return kOps; }

}  // namespace bf16
}  // namespace electra
