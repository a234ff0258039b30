// bf16 GEMM micro-kernel for AVX-512 on FMA instead of VDPBF16PS: each bf16
// value widened to fp32 (a 16-bit shift, or a mask for the odd half of a
// pair) and multiplied-added with one FMA per product, odd depth first, then
// even, as VDPBF16PS does; a bf16 x bf16 product is exact in fp32, so each
// FMA rounds the same sum once. On CPUs whose VDPBF16PS runs at half the FMA
// rate (Intel's) this does twice the products per instruction slot; the
// driver measures both where the CPU has both. Compiled with AVX-512F/BW/VL
// and FMA, without -mavx512bf16: gemm_bf16.cc checks the CPU first.
//
// A 12 x 32 tile: 24 accumulators, the four widened B vectors, the mask and a
// broadcast (of 32 registers). Each call first widens its rows of A (one depth
// block) into a stack buffer, so the inner loop broadcasts A from memory and
// its only other work is widening B: 4 operations a depth pair for 48 FMAs.
// Measured on a 2-core Xeon (avx512_bf16) under load, one thread: 0.93x the
// fp32 GEMM's rate on a forward shape, 1.3x VDPBF16PS's.
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

constexpr int kTileRows = 12;

// from_float on 16 lanes with integer operations: the bf16 bits in each lane's low half.
inline __m512i round_to_bf16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i high = _mm512_srli_epi32(u, 16);
  const __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb), 16);
  // Zero exponent (zeros, denormals): the signed zero.
  const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7F800000));
  r = _mm512_mask_and_epi32(r, tiny, high, _mm512_set1_epi32(0x8000));
  // NaN: quieted, its payload's top bits kept.
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
  return _mm512_mask_or_epi32(r, nan, high, _mm512_set1_epi32(0x40));
}

// The rounding gemm_bf16_avx512.inc's conversion and packing take (see there).
inline __m512i bf16_pack32(__m512 lo, __m512 hi) {
  alignas(64) static const uint16_t kLowHalves[32] = {0,  2,  4,  6,  8,  10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
                                                      32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62};
  return _mm512_permutex2var_epi16(round_to_bf16(lo), _mm512_load_si512(kLowHalves), round_to_bf16(hi));
}

inline __m512i bf16_pairs16(__m512 x0, __m512 x1) {
  return _mm512_or_si512(round_to_bf16(x0), _mm512_slli_epi32(round_to_bf16(x1), 16));
}

}  // namespace
#include "gemm_bf16_avx512.inc"
namespace {

// Where a depth block of A's pairs lies once widened (floats: odd value of row r, depth pair t at
// t * kPair + r * kRow, even value kEven further), one layout per layout of A in gemm_bf16.h, so
// that widening needs no transpose: row-major (a_ts == 1) keeps each row's pairs contiguous,
// pair-major (a_rs == 1) each pair's rows.
struct RowMajorWide {
  static constexpr int64_t kRow = kBlockPairs, kPair = 1, kEven = kTileRows * kBlockPairs;
};
struct PairMajorWide {
  static constexpr int64_t kRow = 1, kPair = 32, kEven = 16;
};
constexpr int64_t kWideFloats = std::max(2 * kTileRows * kBlockPairs, 32 * kBlockPairs);

// Widens `pairs` (<= kBlockPairs, the most a tile takes) depth pairs of R rows (pair of row r,
// depth pair t at word r * a_rs + t * a_ts of a32) into `wide`.
template <int R>
void widen_a(RowMajorWide, const uint32_t* a32, int64_t a_rs, int64_t a_ts, int64_t pairs, float* wide) {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int r = 0; r < R; ++r) {
    for (int64_t t = 0; t < pairs; t += 16) {
      // Stores whole vectors: t + 16 <= kBlockPairs, the row's slot, and lanes past `pairs` go unread.
      const __m512i w = _mm512_maskz_loadu_epi32(first_lanes(pairs - t), a32 + r * a_rs + t * a_ts);
      float* at = wide + r * RowMajorWide::kRow + t;
      _mm512_store_ps(at, _mm512_castsi512_ps(_mm512_and_si512(w, high)));
      _mm512_store_ps(at + RowMajorWide::kEven, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
    }
  }
}

template <int R>
void widen_a(PairMajorWide, const uint32_t* a32, int64_t a_rs, int64_t a_ts, int64_t pairs, float* wide) {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int64_t t = 0; t < pairs; ++t) {
    const __m512i w = _mm512_maskz_loadu_epi32(first_lanes(R), a32 + t * a_ts);
    float* at = wide + t * PairMajorWide::kPair;
    _mm512_store_ps(at, _mm512_castsi512_ps(_mm512_and_si512(w, high)));
    _mm512_store_ps(at + PairMajorWide::kEven, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
  }
  (void)a_rs;  // 1
}

template <int R, class Wide>
void tile_rows(int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
               int64_t ldc, float alpha, float beta, bool first) {
  alignas(64) float wide[kWideFloats];
  widen_a<R>(Wide(), reinterpret_cast<const uint32_t*>(a), a_rs, a_ts, kp, wide);
  __m512 lo[R], hi[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    lo[r] = hi[r] = _mm512_setzero_ps();
    // C's lines fetched for writing while the products run (the stores would otherwise miss).
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_ET0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_ET0);
  }
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const float* w = wide;
  for (int64_t t = 0; t < kp; ++t, b += 2 * kNR, w += Wide::kPair) {
    const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 32);
    const __m512 b0_odd = _mm512_castsi512_ps(_mm512_and_si512(b0, high));
    const __m512 b1_odd = _mm512_castsi512_ps(_mm512_and_si512(b1, high));
    const __m512 b0_even = _mm512_castsi512_ps(_mm512_slli_epi32(b0, 16));
    const __m512 b1_even = _mm512_castsi512_ps(_mm512_slli_epi32(b1, 16));
    // Every row's odd product before any even one: each accumulator still takes odd, then even.
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 odd = _mm512_set1_ps(w[r * Wide::kRow]);
      lo[r] = _mm512_fmadd_ps(odd, b0_odd, lo[r]);
      hi[r] = _mm512_fmadd_ps(odd, b1_odd, hi[r]);
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 even = _mm512_set1_ps(w[Wide::kEven + r * Wide::kRow]);
      lo[r] = _mm512_fmadd_ps(even, b0_even, lo[r]);
      hi[r] = _mm512_fmadd_ps(even, b1_even, hi[r]);
    }
  }
  store_tile<R>(lo, hi, c, ldc, cols, alpha, beta, first);
}

template <class Wide>
void tile_layout(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
                 int64_t ldc, float alpha, float beta, bool first) {
  switch (rows) {
#define ELECTRA_BF16_ROWS(R) \
  case R: return tile_rows<R, Wide>(cols, kp, a, a_rs, a_ts, b, c, ldc, alpha, beta, first);
    ELECTRA_BF16_ROWS(1) ELECTRA_BF16_ROWS(2) ELECTRA_BF16_ROWS(3) ELECTRA_BF16_ROWS(4)
    ELECTRA_BF16_ROWS(5) ELECTRA_BF16_ROWS(6) ELECTRA_BF16_ROWS(7) ELECTRA_BF16_ROWS(8)
    ELECTRA_BF16_ROWS(9) ELECTRA_BF16_ROWS(10) ELECTRA_BF16_ROWS(11) ELECTRA_BF16_ROWS(12)
#undef ELECTRA_BF16_ROWS
    default: return;
  }
}

void tile(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b, float* c,
          int64_t ldc, float alpha, float beta, bool first) {
  // More rows than a tile holds (the driver asks for at most kTileRows) in slices of kTileRows.
  for (int r0 = 0; r0 < rows; r0 += kTileRows) {
    const int n = std::min(kTileRows, rows - r0);
    const uint16_t* ar = a + 2 * r0 * a_rs;
    if (a_ts == 1) tile_layout<RowMajorWide>(n, cols, kp, ar, a_rs, a_ts, b, c + r0 * ldc, ldc, alpha, beta, first);
    else tile_layout<PairMajorWide>(n, cols, kp, ar, a_rs, a_ts, b, c + r0 * ldc, ldc, alpha, beta, first);
  }
}

// The emulated peak: 12 independent FMA chains (latency x pipes), each FMA one bf16 product a lane.
double dot_loop(int64_t iterations) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f);
  const __m512 y = _mm512_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return static_cast<double>(iterations) * kChains * 16 * 2;
}

const Ops kOps = {"avx512f-emulated", kTileRows, convert_rows_fast, convert_pairs_fast, pack_panels_fast, pack_panels16_fast, tile, dot_loop};

}  // namespace

const Ops& avx512_emulated_ops() { return kOps; }

}  // namespace bf16
}  // namespace electra
