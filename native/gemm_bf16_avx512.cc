// bf16 GEMM micro-kernel on VDPBF16PS (AVX512_BF16): a 14 x 32 tile, 28 fp32
// accumulators (31 registers with the two B vectors and the broadcast), each
// instruction adding two bf16 products per lane. Compiled with -mavx512bf16:
// gemm_bf16.cc calls avx512bf16_ops() only after checking the CPU.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "avx512_lanes.h"

#include "gemm_bf16.h"

namespace electra {
namespace bf16 {
#include "gemm_bf16_pack.inc"
namespace {

inline __m512bh as_bh(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

// The rounding of from_float with VCVTNE2PS2BF16 (nearest even, denormal inputs to signed zero,
// NaNs quieted), for the conversion and packing in gemm_bf16_avx512.inc.
inline __m512i bf16_pack32(__m512 lo, __m512 hi) {
  __m512bh h = _mm512_cvtne2ps_pbh(hi, lo);  // elements 0-15 from lo, 16-31 from hi
  return reinterpret_cast<__m512i&>(h);
}

inline __m512i bf16_pairs16(__m512 x0, __m512 x1) {
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  return _mm512_permutexvar_epi16(_mm512_load_si512(kInterleave), bf16_pack32(x0, x1));
}

}  // namespace
#include "gemm_bf16_avx512.inc"
namespace {

template <int R>
void tile_rows(int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
               int64_t ldc, float alpha, float beta, bool first) {
  __m512 lo[R], hi[R];
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) {
    lo[r] = hi[r] = _mm512_setzero_ps();
    // C's lines fetched for writing while the products run (the stores would otherwise miss).
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_ET0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_ET0);
  }
  const uint32_t* a32 = reinterpret_cast<const uint32_t*>(a);
  for (int64_t t = 0; t < kp; ++t, a32 += a_ts) {
    const __m512bh b0 = as_bh(_mm512_loadu_si512(b + t * 64));
    const __m512bh b1 = as_bh(_mm512_loadu_si512(b + t * 64 + 32));
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      const __m512bh av = as_bh(_mm512_set1_epi32(static_cast<int>(a32[r * a_rs])));
      lo[r] = _mm512_dpbf16_ps(lo[r], av, b0);
      hi[r] = _mm512_dpbf16_ps(hi[r], av, b1);
    }
  }
  store_tile<R>(lo, hi, c, ldc, cols, alpha, beta, first);
}

void tile(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
          int64_t ldc, float alpha, float beta, bool first) {
  switch (rows) {
#define ELECTRA_BF16_ROWS(R) \
  case R: return tile_rows<R>(cols, kp, a, a_rs, a_ts, b, c, ldc, alpha, beta, first);
    ELECTRA_BF16_ROWS(1) ELECTRA_BF16_ROWS(2) ELECTRA_BF16_ROWS(3) ELECTRA_BF16_ROWS(4)
    ELECTRA_BF16_ROWS(5) ELECTRA_BF16_ROWS(6) ELECTRA_BF16_ROWS(7) ELECTRA_BF16_ROWS(8)
    ELECTRA_BF16_ROWS(9) ELECTRA_BF16_ROWS(10) ELECTRA_BF16_ROWS(11) ELECTRA_BF16_ROWS(12)
    ELECTRA_BF16_ROWS(13) ELECTRA_BF16_ROWS(14)
#undef ELECTRA_BF16_ROWS
    default: return;
  }
}

// The bf16 peak: 12 independent VDPBF16PS chains (latency x pipes), each
// instruction 16 lanes x 2 products x 2 flops. Tiny operands keep the sums finite.
double dot_loop(int64_t iterations) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh x = as_bh(_mm512_set1_epi16(0x3A83));  // ~1e-3
  const __m512bh y = as_bh(_mm512_set1_epi16(0x3A83));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return static_cast<double>(iterations) * kChains * 16 * 4;
}

const Ops kOps = {"avx512bf16", kMR, convert_rows_fast, convert_pairs_fast, pack_panels_fast, pack_panels16_fast, tile, dot_loop};

}  // namespace

const Ops& avx512bf16_ops() { return kOps; }

}  // namespace bf16
}  // namespace electra
