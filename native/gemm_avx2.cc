// AVX2+FMA GEMM pieces: packing, a 6x16 register-blocked micro-kernel and the
// FMA loop for the peak figure. Compiled with -mavx2 -mfma: everything is
// internal except avx2_ops(), which gemm.cc calls only after checking the CPU.
#include <immintrin.h>

#include <cstdint>

#include "gemm_ops.h"

namespace electra {
namespace gemm {
namespace {

// 6 rows x 2 vectors = 12 accumulators, 2 B vectors and a broadcast: 15 of 16 ymm.
constexpr int kMR = 6;
constexpr int kNR = 16;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Lane mask (all ones in the first n lanes, n clamped to [0, 8]) for maskload/maskstore.
inline __m256i first_lanes(int64_t n) {
  const int count = n <= 0 ? 0 : (n >= 8 ? 8 : static_cast<int>(n));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// In-register transpose of an 8x8 block: r[i] lane j becomes r[j] lane i.
inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  __m256 s[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // s[4h + c] holds, per 128-bit half, rows 4h..4h+3 of column c (low) and c + 4 (high).
  for (int h = 0; h < 2; ++h) {
    s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
    r[c + 4] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
  }
}

// Stores the first W - 8g lanes of v at d. Full-vector stores spill into the
// next depth row, which is written afterwards; only a panel's last row needs
// an exact store (vmaskmovps stores are slow on AMD, so go through memory).
template <int W>
inline void store_lanes(float* d, int g, __m256 v, bool last_row) {
  constexpr int kTail = W % 8;
  if (kTail == 0 || g < W / 8 || !last_row) {
    _mm256_storeu_ps(d + 8 * g, v);
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int i = 0; i < kTail; ++i) d[8 * g + i] = tmp[i];
  }
}

// See PackFn. Writes nothing outside its panels.
template <int W>
void pack_panels(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, float* dst) {
  constexpr int kGroups = (W + 7) / 8;
  for (int64_t r0 = 0; r0 < rows; r0 += W, dst += W * depth) {
    const int64_t w = min64(W, rows - r0);
    const float* s = src + r0 * rs;
    if (rs == 1) {
      __m256i masks[kGroups];
      for (int g = 0; g < kGroups; ++g) masks[g] = first_lanes(w - 8 * g);
      for (int64_t p = 0; p < depth; ++p) {
        const float* sp = s + p * cs;
        float* d = dst + p * W;
        for (int g = 0; g < kGroups; ++g) store_lanes<W>(d, g, _mm256_maskload_ps(sp + 8 * g, masks[g]), p == depth - 1);
      }
    } else if (cs == 1) {
      for (int64_t p0 = 0; p0 < depth; p0 += 8) {
        const int64_t pc = min64(8, depth - p0);
        const __m256i pm = first_lanes(pc);
        for (int g = 0; g < kGroups; ++g) {
          __m256 v[8];
          for (int i = 0; i < 8; ++i) {
            const int64_t row = 8 * g + i;
            if (row >= w) v[i] = _mm256_setzero_ps();
            else if (pc == 8) v[i] = _mm256_loadu_ps(s + row * rs + p0);
            else v[i] = _mm256_maskload_ps(s + row * rs + p0, pm);
          }
          transpose8(v);
          for (int64_t q = 0; q < pc; ++q) store_lanes<W>(dst + (p0 + q) * W, g, v[q], p0 + q == depth - 1);
        }
      }
    } else {
      for (int64_t p = 0; p < depth; ++p)
        for (int i = 0; i < W; ++i) dst[p * W + i] = i < w ? s[i * rs + p * cs] : 0.0f;
    }
  }
}

template <int R>
inline void micro_kernel(int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c,
                         int64_t ldc, int64_t ncols, float alpha, float beta) {
  __m256 acc0[R];
  __m256 acc1[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm256_setzero_ps();
    acc1[r] = _mm256_setzero_ps();
    __builtin_prefetch(c + r * ldc, 1, 3);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(pb);
    const __m256 b1 = _mm256_load_ps(pb + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(pa + r);
      acc0[r] = _mm256_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(a, b1, acc1[r]);
    }
    pa += kMR;
    pb += kNR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  if (ncols == kNR) {
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      float* cr = c + r * ldc;
      __m256 v0 = _mm256_mul_ps(va, acc0[r]);
      __m256 v1 = _mm256_mul_ps(va, acc1[r]);
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);
        v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);
      }
      _mm256_storeu_ps(cr, v0);
      _mm256_storeu_ps(cr + 8, v1);
    }
  } else {
    const __m256i m0 = first_lanes(ncols);
    const __m256i m1 = first_lanes(ncols - 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      float* cr = c + r * ldc;
      __m256 v0 = _mm256_mul_ps(va, acc0[r]);
      __m256 v1 = _mm256_mul_ps(va, acc1[r]);
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), v0);
        v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), v1);
      }
      _mm256_maskstore_ps(cr, m0, v0);
      _mm256_maskstore_ps(cr + 8, m1, v1);
    }
  }
}

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
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999f);
  const __m256 y = _mm256_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0] + lanes[7];
  (void)sink;
  return static_cast<double>(iterations) * kChains * 8 * 2;
}

const IsaOps kOps = {
    "avx2", kMR, kNR, /*kc=*/256, /*mc=*/144, /*nc=*/4096,
    pack_panels<kMR>, pack_panels<kNR>, macro_kernel, fma_loop,
};

}  // namespace

const IsaOps& avx2_ops() { return kOps; }

}  // namespace gemm
}  // namespace electra
