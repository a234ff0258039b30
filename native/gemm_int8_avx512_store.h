// The int8 GEMM's dequantizing epilogue (gemm_int8.h) on one 16-column group
// of int32 sums, shared by the VNNI and AMX kernels so both give the same bits.
// Include only from files compiled with AVX-512.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "avx512_lanes.h"
#include "gemm_int8.h"

namespace electra {
namespace int8 {
namespace {

// One 16-column group's epilogue inputs, loaded once per tile.
struct Columns {
  __mmask16 mask;
  __m512i sum;
  __m512 scale;
  __m512 bias;
};

inline Columns columns(const Epilogue& e, int64_t cols, int g) {
  const __mmask16 mask = first_lanes(cols - 16 * g);
  return {mask, _mm512_maskz_loadu_epi32(mask, e.col_sum + 16 * g), _mm512_maskz_loadu_ps(mask, e.col_scale + 16 * g),
          e.bias ? _mm512_maskz_loadu_ps(mask, e.bias + 16 * g) : _mm512_setzero_ps()};
}

inline void store(float* c, const Columns& col, __m512i acc, float row_scale, int32_t row_zero, bool bias) {
  if (col.mask == 0) return;
  const __m512i centered = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(row_zero), col.sum));
  const __m512 s = _mm512_mul_ps(_mm512_set1_ps(row_scale), col.scale);
  __m512 v = _mm512_mul_ps(s, _mm512_cvtepi32_ps(centered));
  if (bias) v = _mm512_add_ps(v, col.bias);
  _mm512_mask_storeu_ps(c, col.mask, v);
}

}  // namespace
}  // namespace int8
}  // namespace electra
