// AVX-512 build of the GEMM pieces (gemm_simd.inc): a 14x32 micro-kernel.
// Compiled with -mavx512*: everything is internal except avx512_ops(), which
// gemm.cc calls only after checking the CPU.

// GCC 12 warns about the deliberately undefined pass-through operand inside
// its own AVX-512 intrinsics (_mm512_undefined_ps); the warning is spurious.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "gemm_ops.h"

namespace electra {
namespace gemm {
namespace {

struct V {
  using F = __m512;
  using Mask = __mmask16;
  static constexpr int64_t W = 16;
  static constexpr const char* kName = "avx512";
  // 14 rows x 2 vectors = 28 accumulators, 2 B vectors and a broadcast: 31 of 32
  // zmm registers. Two FMA pipes with latency 4 need >= 8 independent chains.
  static constexpr int kMR = 14;
  static constexpr int kKC = 256;
  static constexpr int kMC = 168;
  static constexpr int kNC = 4096;
  static constexpr bool kPrefetchPack = true;
  static constexpr bool kPrefetchRowEnd = true;
  static constexpr bool kMaskedLoadsAreCheap = true;

  static Mask mask(int64_t n) {
    if (n >= 16) return 0xFFFF;
    if (n <= 0) return 0;
    return static_cast<Mask>((1u << n) - 1u);
  }
  static F zero() { return _mm512_setzero_ps(); }
  static F set(float a) { return _mm512_set1_ps(a); }
  static F broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static F load(const float* p) { return _mm512_load_ps(p); }
  static F loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_m(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store_m(float* p, Mask m, F v) { _mm512_mask_storeu_ps(p, m, v); }
  template <int n>
  static void store_first(float* p, F v) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static float sink(F v) { return _mm512_reduce_add_ps(v); }

  static void transpose(F r[16]) {
    F t[16];
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // After this, r[4g + c] holds, in 128-bit lane l, rows 4g..4g+3 of column 4l + c.
    for (int g = 0; g < 4; ++g) {
      const __m512d t0 = _mm512_castps_pd(t[4 * g]);
      const __m512d t1 = _mm512_castps_pd(t[4 * g + 1]);
      const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]);
      const __m512d t3 = _mm512_castps_pd(t[4 * g + 3]);
      r[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
      r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
      r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
      r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    // A 4x4 transpose of 128-bit lanes for each c.
    for (int c = 0; c < 4; ++c) {
      const __m512 u0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);
      const __m512 u1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
      const __m512 u2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
      const __m512 u3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
      t[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
      t[4 + c] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
      t[8 + c] = _mm512_shuffle_f32x4(u1, u3, 0x88);
      t[12 + c] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
  }
};

#include "gemm_simd.inc"

}  // namespace

const IsaOps& avx512_ops() { return kOps; }

}  // namespace gemm
}  // namespace electra
