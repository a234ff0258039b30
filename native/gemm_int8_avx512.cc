// int8 GEMM micro-kernel on VPDPBUSD (AVX512_VNNI): a 12 x 32 tile of int32
// sums, each instruction adding four u8 x s8 products per lane; the
// dequantizing epilogue (gemm_int8.h) in vector code. Compiled with
// -mavx512vnni: gemm_int8.cc calls avx512vnni_ops() only after checking the CPU.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include <cstring>

#include "avx512_lanes.h"
#include "gemm_int8.h"
#include "gemm_int8_avx512_store.h"

namespace electra {
namespace int8 {
namespace {

// quantize_rows (gemm_int8_quant.inc) in explicit vector code, the same
// operations in the same order: min/max, then rne(x * inv) + zp clamped.
void quantize_rows_avx512(const float* src, int64_t lda, int64_t rows, int64_t k, uint8_t* dst, int64_t ld, float* scale,
                          int32_t* zero_point) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = src + i * lda;
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(first_lanes(k - p), x + p);
      lo = _mm512_min_ps(lo, v);
      hi = _mm512_max_ps(hi, v);
    }
    const RowParams rp = row_params(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
    scale[i] = rp.scale;
    zero_point[i] = rp.zero_point;
    const __m512 inv = _mm512_set1_ps(rp.inv);
    const __m512 zp = _mm512_set1_ps(static_cast<float>(rp.zero_point));
    const __m512 top = _mm512_set1_ps(255.0f);
    uint8_t* d = dst + i * ld;
    for (int64_t p = 0; p < k; p += 16) {
      const __mmask16 mask = first_lanes(k - p);
      const __m512 v = _mm512_maskz_loadu_ps(mask, x + p);
      __m512 q = _mm512_add_ps(_mm512_roundscale_ps(_mm512_mul_ps(v, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
      q = _mm512_min_ps(_mm512_max_ps(q, _mm512_setzero_ps()), top);
      _mm_mask_storeu_epi8(d + p, mask, _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(q)));
    }
    for (int64_t p = k; p < ld; ++p) d[p] = 0;
  }
}

// acc += u8 x s8 dot products of 4. As inline assembly: GCC 12 copies the
// accumulator around _mm512_dpbusd_epi32 and spills the tile's 24 of them.
inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %[s8], %[u8], %[acc]" : [acc] "+v"(acc) : [u8] "v"(u8), [s8] "v"(s8));
  return acc;
}

template <int R>
void tile_rows(int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c, int64_t ldc,
               const Epilogue& e) {
  __m512i acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (int64_t t = 0; t < kq; ++t) {
    const __m512i b0 = _mm512_loadu_si512(b + t * 128);
    const __m512i b1 = _mm512_loadu_si512(b + t * 128 + 64);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      int32_t quad;
      std::memcpy(&quad, a + r * lda + 4 * t, 4);
      const __m512i av = _mm512_set1_epi32(quad);
      acc[r][0] = dpbusd(acc[r][0], av, b0);
      acc[r][1] = dpbusd(acc[r][1], av, b1);
    }
  }
  const Columns c0 = columns(e, cols, 0);
  const Columns c1 = columns(e, cols, 1);
  const bool bias = e.bias != nullptr;
  for (int r = 0; r < R; ++r) {
    store(c + r * ldc, c0, acc[r][0], e.row_scale[r], e.row_zero[r], bias);
    store(c + r * ldc + 16, c1, acc[r][1], e.row_scale[r], e.row_zero[r], bias);
  }
}

void tile(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c, int64_t ldc,
          const Epilogue& e) {
  switch (rows) {
#define ELECTRA_INT8_ROWS(R) \
  case R: return tile_rows<R>(cols, kq, a, lda, b, c, ldc, e);
    ELECTRA_INT8_ROWS(1) ELECTRA_INT8_ROWS(2) ELECTRA_INT8_ROWS(3) ELECTRA_INT8_ROWS(4)
    ELECTRA_INT8_ROWS(5) ELECTRA_INT8_ROWS(6) ELECTRA_INT8_ROWS(7) ELECTRA_INT8_ROWS(8)
    ELECTRA_INT8_ROWS(9) ELECTRA_INT8_ROWS(10) ELECTRA_INT8_ROWS(11) ELECTRA_INT8_ROWS(12)
#undef ELECTRA_INT8_ROWS
    default: return;
  }
}

double dot_loop(int64_t iterations) {
  constexpr int kChains = 12;
  __m512i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i x = _mm512_set1_epi8(3);
  const __m512i y = _mm512_set1_epi8(-2);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = dpbusd(acc[i], x, y);
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  volatile int sink = _mm512_reduce_add_epi32(sum);
  (void)sink;
  return static_cast<double>(iterations) * kChains * 64 * 2;
}

const Ops kOps = {"avx512vnni", quantize_rows_avx512, tile, dot_loop, kMR};

}  // namespace

const Ops& avx512vnni_ops() { return kOps; }

}  // namespace int8
}  // namespace electra
