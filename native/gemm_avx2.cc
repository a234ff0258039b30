// AVX2+FMA build of the GEMM pieces (gemm_simd.inc): a 6x16 micro-kernel.
// Compiled with -mavx2 -mfma: everything is internal except avx2_ops(), which
// gemm.cc calls only after checking the CPU.
#include <immintrin.h>

#include <cstdint>

#include "gemm_ops.h"

namespace electra {
namespace gemm {
namespace {

struct V {
  using F = __m256;
  using Mask = __m256i;  // all-ones lanes are selected
  static constexpr int64_t W = 8;
  static constexpr const char* kName = "avx2";
  // 6 rows x 2 vectors = 12 accumulators, 2 B vectors and a broadcast: 15 of 16 ymm.
  static constexpr int kMR = 6;
  static constexpr int kKC = 256;
  static constexpr int kMC = 144;
  static constexpr int kNC = 4096;
  static constexpr bool kPrefetchPack = false;
  static constexpr bool kPrefetchRowEnd = false;
  static constexpr bool kMaskedLoadsAreCheap = false;

  static Mask mask(int64_t n) {
    const int count = n <= 0 ? 0 : (n >= 8 ? 8 : static_cast<int>(n));
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F zero() { return _mm256_setzero_ps(); }
  static F set(float a) { return _mm256_set1_ps(a); }
  static F broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F load(const float* p) { return _mm256_load_ps(p); }
  static F loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F load_m(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store_m(float* p, Mask m, F v) { _mm256_maskstore_ps(p, m, v); }
  // vmaskmovps stores are slow on AMD: go through memory.
  template <int n>
  static void store_first(float* p, F v) {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int i = 0; i < n; ++i) p[i] = tmp[i];
  }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static float sink(F v) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    return lanes[0] + lanes[7];
  }

  static void transpose(F r[8]) {
    F t[8];
    F s[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // s[4h + c] holds, per 128-bit half, rows 4h..4h+3 of column c (low) and c + 4 (high).
    for (int h = 0; h < 2; ++h) {
      s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
      s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
      s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
      s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
      r[c + 4] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
    }
  }
};

#include "gemm_simd.inc"

}  // namespace

const IsaOps& avx2_ops() { return kOps; }

}  // namespace gemm
}  // namespace electra
