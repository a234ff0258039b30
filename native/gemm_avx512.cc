// AVX-512 GEMM pieces: packing, a 14x32 register-blocked micro-kernel and the
// FMA loop for the peak figure. Compiled with -mavx512*: everything is internal
// except avx512_ops(), which gemm.cc calls only after checking the CPU.

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

// 14 rows x 2 vectors = 28 accumulators, 2 B vectors and a broadcast: 31 of 32
// zmm registers. Two FMA pipes with latency 4 need >= 8 independent chains.
constexpr int kMR = 14;
constexpr int kNR = 32;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Mask selecting the first n lanes (n clamped to [0, 16]).
inline __mmask16 first_lanes(int64_t n) {
  if (n >= 16) return 0xFFFF;
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1u);
}

// In-register transpose of a 16x16 block: r[i] lane j becomes r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
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

// Stores the first W - 16g lanes of v at d. When W is not a multiple of 16 a
// full-vector store spills into the next depth row, which is written
// afterwards (masked stores cost several times more), so only a panel's last
// row needs an exact store.
template <int W>
inline void store_lanes(float* d, int g, __m512 v, bool last_row) {
  constexpr int kTail = W % 16;
  if (kTail == 0 || g < W / 16 || !last_row) _mm512_storeu_ps(d + 16 * g, v);
  else _mm512_mask_storeu_ps(d + 16 * g, first_lanes(kTail), v);
}

// See PackFn. Writes nothing outside its panels.
template <int W>
void pack_panels(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, float* dst) {
  constexpr int kGroups = (W + 15) / 16;
  for (int64_t r0 = 0; r0 < rows; r0 += W, dst += W * depth) {
    const int64_t w = min64(W, rows - r0);
    const float* s = src + r0 * rs;
    if (rs == 1) {
      // Panel rows are contiguous in the source: copy W floats per depth step.
      __mmask16 masks[kGroups];
      for (int g = 0; g < kGroups; ++g) masks[g] = first_lanes(w - 16 * g);
      const bool next_panel = r0 + W < rows;
      for (int64_t p = 0; p < depth; ++p) {
        const float* sp = s + p * cs;
        float* d = dst + p * W;
        // The source is usually cold and strided; fetch the next panel's row ahead.
        if (next_panel) {
          _mm_prefetch(reinterpret_cast<const char*>(sp + W), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(sp + 2 * W - 1), _MM_HINT_T0);
        }
#pragma GCC unroll 4
        for (int g = 0; g < kGroups; ++g)
          store_lanes<W>(d, g, _mm512_maskz_loadu_ps(masks[g], sp + 16 * g), p == depth - 1);
      }
    } else if (cs == 1) {
      // Depth is contiguous in the source: transpose 16x16 blocks.
      for (int64_t p0 = 0; p0 < depth; p0 += 16) {
        const int64_t pc = min64(16, depth - p0);
        const __mmask16 pm = first_lanes(pc);
        for (int g = 0; g < kGroups; ++g) {
          __m512 v[16];
          for (int i = 0; i < 16; ++i) {
            const int64_t row = 16 * g + i;
            v[i] = row < w ? _mm512_maskz_loadu_ps(pm, s + row * rs + p0) : _mm512_setzero_ps();
            // Fetch the same columns of the next panel: the rows are far apart,
            // so the hardware prefetchers see short streams.
            if (row < W && r0 + W + row < rows)
              _mm_prefetch(reinterpret_cast<const char*>(s + (W + row) * rs + p0), _MM_HINT_T0);
          }
          transpose16(v);
          for (int64_t q = 0; q < pc; ++q) store_lanes<W>(dst + (p0 + q) * W, g, v[q], p0 + q == depth - 1);
        }
      }
    } else {
      for (int64_t p = 0; p < depth; ++p)
        for (int i = 0; i < W; ++i) dst[p * W + i] = i < w ? s[i * rs + p * cs] : 0.0f;
    }
  }
}

// C[R x ncols] = alpha * sum_p a[p][0..R) b[p][0..32) + beta * C, ncols <= 32.
template <int R>
inline void micro_kernel(int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c,
                         int64_t ldc, int64_t ncols, float alpha, float beta) {
  __m512 acc0[R];
  __m512 acc1[R];
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
    // Prefetch the C tile for writing; it is needed once the loop ends.
    __builtin_prefetch(c + r * ldc, 1, 3);
    __builtin_prefetch(c + r * ldc + (ncols - 1), 1, 3);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(pb);
    const __m512 b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(pa[r]);
      acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
    }
    pa += kMR;
    pb += kNR;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  if (ncols == kNR) {
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      float* cr = c + r * ldc;
      __m512 v0 = _mm512_mul_ps(va, acc0[r]);
      __m512 v1 = _mm512_mul_ps(va, acc1[r]);
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), v1);
      }
      _mm512_storeu_ps(cr, v0);
      _mm512_storeu_ps(cr + 16, v1);
    }
  } else {
    const __mmask16 m0 = first_lanes(ncols);
    const __mmask16 m1 = first_lanes(ncols - 16);
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      float* cr = c + r * ldc;
      __m512 v0 = _mm512_mul_ps(va, acc0[r]);
      __m512 v1 = _mm512_mul_ps(va, acc1[r]);
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
      }
      _mm512_mask_storeu_ps(cr, m0, v0);
      _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
  }
}

// Picks the kernel instantiation for a tile of `rows` (1..kMR) rows.
template <int R>
inline void tile(int64_t rows, int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                 int64_t ncols, float alpha, float beta) {
  if (rows == R) {
    micro_kernel<R>(kc, pa, pb, c, ldc, ncols, alpha, beta);
  } else if constexpr (R > 1) {
    tile<R - 1>(rows, kc, pa, pb, c, ldc, ncols, alpha, beta);
  }
}

void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const float* apack, const float* bpack, float* c,
                  int64_t ldc, float alpha, float beta, const Prefetch& next) {
  const int64_t tiles = ((nc + kNR - 1) / kNR) * ((mc + kMR - 1) / kMR);
  int64_t tile_index = 0;
  // Column panels outside, row panels inside: the B micro-panel stays in L1
  // while the A block streams from L2.
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const float* pb = bpack + jr * kc;
    const int64_t ncols = min64(kNR, nc - jr);
    for (int64_t ir = 0; ir < mc; ir += kMR) {
      prefetch_share(next, tile_index++, tiles);
      tile<kMR>(min64(kMR, mc - ir), kc, apack + ir * kc, pb, c + ir * ldc + jr, ldc, ncols, alpha, beta);
    }
  }
}

double fma_loop(int64_t iterations) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  // acc <- acc * x + y converges to y / (1 - x): no overflow, no denormals.
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

const IsaOps kOps = {
    "avx512", kMR, kNR, /*kc=*/256, /*mc=*/168, /*nc=*/4096,
    pack_panels<kMR>, pack_panels<kNR>, macro_kernel, fma_loop,
};

}  // namespace

const IsaOps& avx512_ops() { return kOps; }

}  // namespace gemm
}  // namespace electra
