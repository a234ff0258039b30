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

// The epilogue of gemm_bf16.h for one 16-lane vector: c = fl(alpha s), + fl(beta c) (block 0,
// beta != 0) or + c (later blocks). A zero mask neither loads nor stores.
template <bool kScale, int kMode>  // kMode: 0 block 0 with beta == 0, 1 later block, 2 block 0 with beta
inline void store(float* c, __mmask16 mask, __m512 s, __m512 alpha, __m512 beta) {
  __m512 v = kScale ? _mm512_mul_ps(s, alpha) : s;
  if (kMode == 1) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
  if (kMode == 2) v = _mm512_add_ps(v, _mm512_mul_ps(beta, _mm512_maskz_loadu_ps(mask, c)));
  _mm512_mask_storeu_ps(c, mask, v);
}

template <int R, bool kScale, int kMode>
inline void store_rows(const __m512 (&lo)[R], const __m512 (&hi)[R], float* c, int64_t ldc, int64_t cols, float alpha, float beta) {
  const __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) {
    store<kScale, kMode>(c + r * ldc, m0, lo[r], va, vb);
    store<kScale, kMode>(c + r * ldc + 16, m1, hi[r], va, vb);
  }
}

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
  const int mode = !first ? 1 : beta != 0.0f ? 2 : 0;
  if (alpha == 1.0f) {
    if (mode == 0) return store_rows<R, false, 0>(lo, hi, c, ldc, cols, alpha, beta);
    if (mode == 1) return store_rows<R, false, 1>(lo, hi, c, ldc, cols, alpha, beta);
    return store_rows<R, false, 2>(lo, hi, c, ldc, cols, alpha, beta);
  }
  if (mode == 0) return store_rows<R, true, 0>(lo, hi, c, ldc, cols, alpha, beta);
  if (mode == 1) return store_rows<R, true, 1>(lo, hi, c, ldc, cols, alpha, beta);
  store_rows<R, true, 2>(lo, hi, c, ldc, cols, alpha, beta);
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

// Conversion with VCVTNE2PS2BF16 (the rounding of from_float: nearest even, denormal inputs to
// signed zero, NaNs quieted), so the results equal the portable loops' bit for bit.

// Interleaves 16 floats of two rows into 16 bf16 pairs (x0[j], x1[j]).
inline __m512i pairs16(__m512 x0, __m512 x1) {
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  __m512bh h = _mm512_cvtne2ps_pbh(x1, x0);  // elements 0-15 from x0, 16-31 from x1
  return _mm512_permutexvar_epi16(_mm512_load_si512(kInterleave), reinterpret_cast<__m512i&>(h));
}

inline __mmask32 first_halves(int64_t n) { return n >= 32 ? 0xFFFFFFFFu : n <= 0 ? 0u : static_cast<__mmask32>((1u << n) - 1u); }

void convert_rows_fast(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t k, uint16_t* dst, int64_t ld) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* s = src + i * rs;
    uint16_t* d = dst + i * ld;
    for (int64_t p = 0; p < k; p += 32) {
      const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(k - p), s + p);
      const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(k - p - 16), s + p + 16);
      __m512bh h = _mm512_cvtne2ps_pbh(hi, lo);
      _mm512_mask_storeu_epi16(d + p, first_halves(ld - p), reinterpret_cast<__m512i&>(h));
    }
  }
  (void)cs;  // the tiles read no further than k rounded up to a depth pair
}

void convert_pairs_fast(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t k, uint16_t* dst, int64_t width) {
  if (rs != 1) return convert_pairs(src, rs, cs, rows, k, dst, width);
  const int64_t kp = (k + 1) / 2;
  for (int64_t t = 0; t < kp; ++t) {
    const float* r0 = src + (2 * t) * cs;
    const float* r1 = 2 * t + 1 < k ? r0 + cs : nullptr;
    uint16_t* d = dst + t * width * 2;
    for (int64_t i = 0; i < rows; i += 16) {
      const __mmask16 m = first_lanes(rows - i);
      const __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + i);
      const __m512 x1 = r1 ? _mm512_maskz_loadu_ps(m, r1 + i) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi16(d + 2 * i, first_halves(2 * (rows - i)), pairs16(x0, x1));
    }
  }
}

// Transposes 16 x 16 32-bit words: r[i] element e -> r[e] element i.
inline void transpose16(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
    b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
  }
  // b[4i + c], 128-bit lane L: element 4L + c of rows 4i..4i+3; a 4 x 4 transpose of lanes.
  for (int c = 0; c < 4; ++c) {
    const __m512i s0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0x44), s1 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0xEE);
    const __m512i s2 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0x44), s3 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0xEE);
    r[c] = _mm512_shuffle_i32x4(s0, s2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(s0, s2, 0xDD);
    r[8 + c] = _mm512_shuffle_i32x4(s1, s3, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(s1, s3, 0xDD);
  }
}

// B with contiguous columns (ps == 1, op(B) a transposed matrix): a column's depth pairs are
// adjacent; load(col, t) gives column col's depth pairs t..t+15 as 16 words (zero past k),
// 16 columns of which are transposed into the panel.
template <typename Load>
void pack_column_words(Load load, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst) {
  const int64_t kp = (k + 1) / 2;
  for (int64_t q = q0; q < q1; ++q) {
    const int64_t j0 = q * kNR;
    for (int h = 0; h < 2; ++h) {
      const int64_t cols = std::min<int64_t>(16, n - j0 - 16 * h);
      uint16_t* d = dst + q * kp * 2 * kNR + 32 * h;
      for (int64_t t = 0; t < kp; t += 16) {
        __m512i r[16];
        for (int i = 0; i < 16; ++i) r[i] = i < cols ? load(j0 + 16 * h + i, t) : _mm512_setzero_si512();
        transpose16(r);
        const int64_t count = std::min<int64_t>(16, kp - t);
        for (int e = 0; e < count; ++e) _mm512_storeu_si512(d + (t + e) * 2 * kNR, r[e]);
      }
    }
  }
}

// fp32 columns: 32 floats converted into 16 depth pairs.
void pack_columns(const float* src, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst) {
  pack_column_words([&](int64_t col, int64_t t) {
    const float* c = src + col * js + 2 * t;
    __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(first_lanes(k - 2 * t - 16), c + 16), _mm512_maskz_loadu_ps(first_lanes(k - 2 * t), c));
    return reinterpret_cast<__m512i&>(v);
  }, k, n, q0, q1, dst);
}

// bf16 columns: the depth pairs are already the panel's words.
void pack_columns16_fast(const uint16_t* src, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst) {
  pack_column_words([&](int64_t col, int64_t t) { return _mm512_maskz_loadu_epi16(first_halves(k - 2 * t), src + col * js + 2 * t); },
                    k, n, q0, q1, dst);
}

void pack_panels16_fast(const uint16_t* src, int64_t ps, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst) {
  if (ps == 1 && js != 1) return pack_columns16_fast(src, js, k, n, q0, q1, dst);
  pack_panels16(src, ps, js, k, n, q0, q1, dst);
}

void pack_panels_fast(const float* src, int64_t ps, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst) {
  if (js != 1) {
    if (ps == 1) return pack_columns(src, js, k, n, q0, q1, dst);
    return pack_panels(src, ps, js, k, n, q0, q1, dst);
  }
  const int64_t kp = (k + 1) / 2;
  for (int64_t t = 0; t < kp; ++t) {
    const float* r0 = src + (2 * t) * ps;
    const float* r1 = 2 * t + 1 < k ? r0 + ps : nullptr;
    for (int64_t q = q0; q < q1; ++q) {
      uint16_t* dt = dst + (q * kp + t) * 2 * kNR;
      const int64_t j0 = q * kNR;
      for (int h = 0; h < 2; ++h) {
        const __mmask16 m = first_lanes(n - j0 - 16 * h);
        const __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + j0 + 16 * h);
        const __m512 x1 = r1 ? _mm512_maskz_loadu_ps(m, r1 + j0 + 16 * h) : _mm512_setzero_ps();
        _mm512_storeu_si512(dt + 32 * h, pairs16(x0, x1));
      }
    }
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

const Ops kOps = {"avx512bf16", convert_rows_fast, convert_pairs_fast, pack_panels_fast, pack_panels16_fast, tile, dot_loop};

}  // namespace

const Ops& avx512bf16_ops() { return kOps; }

}  // namespace bf16
}  // namespace electra
