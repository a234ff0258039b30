// int8 GEMM without VNNI: u8 and s8 widened to int16 and multiplied-added
// in pairs with VPMADDWD (exact, unlike VPMADDUBSW, whose int16 sums
// saturate), so the int32 sums equal the VNNI kernel's. Compiled with -mavx2.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm_int8.h"

namespace electra {
namespace int8 {
#include "gemm_int8_quant.inc"
namespace {

// One row: 8 groups of 4 columns, each accumulating (depth 0+1, depth 2+3) per column.
void tile(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c, int64_t ldc,
          const Epilogue& e) {
  for (int r = 0; r < rows; ++r) {
    __m256i acc[8];
    for (int g = 0; g < 8; ++g) acc[g] = _mm256_setzero_si256();
    const uint8_t* ar = a + r * lda;
    for (int64_t t = 0; t < kq; ++t) {
      int32_t quad;
      std::memcpy(&quad, ar + 4 * t, 4);
      const __m256i a16 = _mm256_cvtepu8_epi16(_mm_set1_epi32(quad));
      const int8_t* bt = b + t * 128;
      for (int g = 0; g < 8; ++g) {
        const __m256i b16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bt + 16 * g)));
        acc[g] = _mm256_add_epi32(acc[g], _mm256_madd_epi16(b16, a16));
      }
    }
    alignas(32) int32_t lanes[8][8];
    for (int g = 0; g < 8; ++g) _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[g]), acc[g]);
    float* cr = c + r * ldc;
    const float row_scale = e.row_scale[r];
    const int32_t row_zero = e.row_zero[r];
    for (int64_t j = 0; j < cols; ++j) {
      const int32_t* l = lanes[j / 4] + 2 * (j % 4);
      const int32_t sum = l[0] + l[1];
      const float v = (row_scale * e.col_scale[j]) * static_cast<float>(sum - row_zero * e.col_sum[j]);
      cr[j] = e.bias ? v + e.bias[j] : v;
    }
  }
}

double dot_loop(int64_t iterations) {
  constexpr int kChains = 8;
  __m256i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_epi32(i);
  const __m256i x = _mm256_set1_epi16(3);
  const __m256i y = _mm256_set1_epi16(-2);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 8
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x, y));
  }
  alignas(32) int32_t out[8];
  __m256i sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_epi32(sum, acc[i]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), sum);
  volatile int sink = out[0] + out[7];
  (void)sink;
  return static_cast<double>(iterations) * kChains * 16 * 2;
}

const Ops kOps = {"avx2", quantize_rows, tile, dot_loop, kMR};

}  // namespace

const Ops& avx2_ops() { return kOps; }

}  // namespace int8
}  // namespace electra
