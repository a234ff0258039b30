// AVX2 + FMA build of the elementwise kernels. Everything except
// elementwise_ops_avx2() is internal; call it only after active_isa() reported
// AVX2 or better.
#include <immintrin.h>

#include <cstdint>

#include "elementwise_isa.h"

namespace electra {
namespace {

struct V {
  using F = __m256;
  using M = __m256;  // all-ones lanes are true
  using I = __m256i;
  struct D {
    __m256d lo, hi;
  };
  static constexpr int64_t W = 8;
  // 2^n is built from exponent bits, valid down to n = -126; exp_underflow_fix zeroes below.
  static constexpr float kExpFloor = -87.3f;

  static I tail(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F load_n(const float* p, int64_t n) { return _mm256_maskload_ps(p, tail(n)); }
  static void store_n(float* p, F v, int64_t n) { _mm256_maskstore_ps(p, tail(n), v); }
  static F fill_n(F v, int64_t n, float fill) {
    return _mm256_blendv_ps(_mm256_set1_ps(fill), v, _mm256_castsi256_ps(tail(n)));
  }

  static F opaque(F v) { return v; }
  static F set(float a) { return _mm256_set1_ps(a); }
  static F zero() { return _mm256_setzero_ps(); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static F square_error(F a, F h) { return _mm256_fmsub_ps(a, a, h); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F abs(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static F sqrt(F a) { return _mm256_sqrt_ps(a); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F select(M m, F t, F f) { return _mm256_blendv_ps(f, t, m); }
  static float hsum(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(F v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static F round(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F ldexp(F p, F n) {
    const I bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  }
  static F exp_underflow_fix(F e, F z) { return _mm256_andnot_ps(lt(z, set(kExpFloor)), e); }

  static I set_i(uint32_t a) { return _mm256_set1_epi32(static_cast<int>(a)); }
  static I iota_i(uint32_t base) { return _mm256_add_epi32(set_i(base), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static I xor_i(I a, I b) { return _mm256_xor_si256(a, b); }
  template <int k>
  static I srl_i(I a) { return _mm256_srli_epi32(a, k); }
  static I mul_i(I a, I b) { return _mm256_mullo_epi32(a, b); }
  // Operands are below 2^31 here (24-bit values), so a signed compare is exact.
  static M ge_i(I a, I b) {
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpgt_epi32(b, a), _mm256_set1_epi32(-1)));
  }

  static __m256d lo_pd(F v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
  static __m256d hi_pd(F v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
  static D dzero() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static D dadd(D a, F v) { return {_mm256_add_pd(a.lo, lo_pd(v)), _mm256_add_pd(a.hi, hi_pd(v))}; }
  static D dadd_sq(D a, F v) {
    const __m256d l = lo_pd(v), h = hi_pd(v);
    return {_mm256_fmadd_pd(l, l, a.lo), _mm256_fmadd_pd(h, h, a.hi)};
  }
  static double dsum(D a) {
    const __m256d s = _mm256_add_pd(a.lo, a.hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    t = _mm_add_sd(t, _mm_unpackhi_pd(t, t));
    return _mm_cvtsd_f64(t);
  }
  static void add_f64(double* p, F v) {
    _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), lo_pd(v)));
    _mm256_storeu_pd(p + 4, _mm256_add_pd(_mm256_loadu_pd(p + 4), hi_pd(v)));
  }
  static void add_f64_n(double* p, F v, int64_t n) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    for (int64_t k = 0; k < n; ++k) p[k] += static_cast<double>(lanes[k]);
  }
  static M mask_u8(const uint8_t* p) {
    const I b = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, _mm256_setzero_si256()));
  }
  static M mask_u8_n(const uint8_t* p, int64_t n) {
    alignas(8) uint8_t bytes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = 0; k < n; ++k) bytes[k] = p[k];
    return mask_u8(bytes);
  }
};

#include "elementwise_simd.inc"

}  // namespace

const ElementwiseIsaOps& elementwise_ops_avx2() { return kOps; }

}  // namespace electra
