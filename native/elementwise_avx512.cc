// AVX-512 build of the elementwise kernels (compiled with -mavx512f/vl/bw/dq).
// Everything except elementwise_ops_avx512() is internal; call it only after
// active_isa() reported AVX-512.
// GCC 12 reports false "uninitialized" warnings inside its own AVX-512 headers
// (the _mm512_undefined_* placeholders of cvtps_pd / extract).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "elementwise_isa.h"

namespace electra {
namespace {

struct V {
  using F = __m512;
  using M = __mmask16;
  using I = __m512i;
  struct D {
    __m512d lo, hi;
  };
  static constexpr int64_t W = 16;
  // scalef underflows gracefully to denormals and zero.
  static constexpr float kExpFloor = -150.0f;

  static M tail(int64_t n) { return static_cast<M>((1u << n) - 1u); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(tail(n), p); }
  static void store_n(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, tail(n), v); }
  static F fill_n(F v, int64_t n, float fill) { return _mm512_mask_blend_ps(tail(n), _mm512_set1_ps(fill), v); }

  // Stops GCC from folding a load into a zero-masked arithmetic op
  // (vmulps (mem), z, z{k}{z}), which streams ~3x slower on AMD Zen 4/5.
  static F opaque(F v) {
    __asm__("" : "+v"(v));
    return v;
  }
  static F set(float a) { return _mm512_set1_ps(a); }
  static F zero() { return _mm512_setzero_ps(); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F square_error(F a, F h) { return _mm512_fmsub_ps(a, a, h); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F sqrt(F a) { return _mm512_sqrt_ps(a); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static F select(M m, F t, F f) { return _mm512_mask_blend_ps(m, f, t); }
  static float hsum(F v) { return _mm512_reduce_add_ps(v); }
  static float hmax(F v) { return _mm512_reduce_max_ps(v); }
  static F round(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F ldexp(F p, F n) { return _mm512_scalef_ps(p, n); }
  static F exp_underflow_fix(F e, F) { return e; }

  static I set_i(uint32_t a) { return _mm512_set1_epi32(static_cast<int>(a)); }
  static I iota_i(uint32_t base) {
    return _mm512_add_epi32(set_i(base), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  static I xor_i(I a, I b) { return _mm512_xor_si512(a, b); }
  template <int k>
  static I srl_i(I a) { return _mm512_srli_epi32(a, k); }
  static I mul_i(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static M ge_i(I a, I b) { return _mm512_cmpge_epu32_mask(a, b); }

  static __m512d lo_pd(F v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
  static __m512d hi_pd(F v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  }
  static D dzero() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static D dadd(D a, F v) { return {_mm512_add_pd(a.lo, lo_pd(v)), _mm512_add_pd(a.hi, hi_pd(v))}; }
  static D dadd_sq(D a, F v) {
    const __m512d l = lo_pd(v), h = hi_pd(v);
    return {_mm512_fmadd_pd(l, l, a.lo), _mm512_fmadd_pd(h, h, a.hi)};
  }
  static double dsum(D a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }
  static void add_f64(double* p, F v) {
    _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), lo_pd(v)));
    _mm512_storeu_pd(p + 8, _mm512_add_pd(_mm512_loadu_pd(p + 8), hi_pd(v)));
  }
  static void add_f64_n(double* p, F v, int64_t n) {
    const M m = tail(n);
    const __mmask8 ml = static_cast<__mmask8>(m), mh = static_cast<__mmask8>(m >> 8);
    _mm512_mask_storeu_pd(p, ml, _mm512_add_pd(_mm512_maskz_loadu_pd(ml, p), lo_pd(v)));
    _mm512_mask_storeu_pd(p + 8, mh, _mm512_add_pd(_mm512_maskz_loadu_pd(mh, p + 8), hi_pd(v)));
  }
  static M mask_u8(const uint8_t* p) {
    const I b = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm512_test_epi32_mask(b, b);
  }
  static M mask_u8_n(const uint8_t* p, int64_t n) {
    const I b = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(tail(n), p));
    return _mm512_test_epi32_mask(b, b);
  }
};

#include "elementwise_simd.inc"

}  // namespace

const ElementwiseIsaOps& elementwise_ops_avx512() { return kOps; }

}  // namespace electra
