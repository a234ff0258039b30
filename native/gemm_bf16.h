// bf16 GEMM: inputs rounded to bf16 (round to nearest even, fp32 denormals
// flushed to zero), products summed in fp32. The result is defined exactly,
// so the VDPBF16PS kernel, the emulated kernels and the JS twin agree bit for
// bit (src/kernels/js/gemm-bf16.ts spells out the same definition):
// - depth is split into blocks of kBf16BlockDepth from 0; within a block each
//   output starts at +0 and takes the depth pairs (2t, 2t+1) in order, adding
//   the odd product first, then the even one, each addition rounded to fp32
//   (VDPBF16PS's order; a bf16 x bf16 product is exact in fp32). A missing
//   odd depth counts as 0.
// - block 0: c = fl(alpha s) (beta == 0, C not read) or fl(fl(alpha s) + fl(beta c));
//   later blocks: c = fl(fl(alpha s) + c).
// VDPBF16PS also flushes denormal results; the emulation does not, so the two
// could differ only where a partial sum falls below 2^-126.
//
// Operand layouts (uint16 bf16 elements), shared by every ISA:
// - A, as a task converts its rows: row-major (rows of `ld` elements, zero
//   past k) when rows of op(A) are contiguous in memory, else pair-major (the
//   pair (A(i, 2t), A(i, 2t + 1)) of the task's row i at (t * width + i) * 2),
//   made by interleaving two contiguous source rows. Kernels address the pair
//   of tile row r and depth pair t as 32-bit word r * row_stride + t * pair_stride.
// - B: ceil(n / 32) panels of 32 columns; panel q holds, for depth pair t and
//   column j, B(2t, 32q + j) then B(2t + 1, 32q + j) at ((q * kp + t) * 32 + j) * 2,
//   where kp = ceil(k / 2); zero past n and past k.
#pragma once
#include <cstdint>
#include <cstring>

namespace electra {
namespace bf16 {

constexpr int kNR = 32;               // B panel width (two 16-lane vectors)
constexpr int kMR = 14;               // rows per micro-tile, most kernels (Ops::tile_rows: each one's)
constexpr int64_t kBlockPairs = 128;  // depth pairs per block (kBf16BlockDepth = 256)

// fp32 -> bf16 with round to nearest even; denormals flush to signed zero and
// NaNs stay quiet NaNs (VCVTNEPS2BF16's rules).
inline uint16_t from_float(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Converts rows x k of X (X(i, p) = src[i * rs + p * cs], cs == 1) into dst
// rows of ld elements, zero from k at least to the end of k's depth pair (row-major).
using ConvertFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t k, uint16_t* dst, int64_t ld);
// The same rows pair-major, `width` (>= rows) rows per depth pair (the second layout above).
using ConvertPairsFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t k, uint16_t* dst, int64_t width);
// Packs panels [q0, q1) of B (B(p, j) = src[p * ps + j * js], k x n) into the
// panel layout above, dst pointing at panel 0.
using PackFn = void (*)(const float* src, int64_t ps, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst);
// The same from bf16 values (a Uint16Array operand).
using Pack16Fn = void (*)(const uint16_t* src, int64_t ps, int64_t js, int64_t k, int64_t n, int64_t q0, int64_t q1, uint16_t* dst);
// One micro-tile: rows (1..Ops::tile_rows) x cols (1..32) of C from kp (<= kBlockPairs) depth pairs of A
// (pair of row r, depth pair t at 32-bit word r * a_rs + t * a_ts of a: a_ts == 1 when
// row-major, a_rs == 1 when pair-major) and one B panel slice (b); `first` selects the
// block-0 epilogue.
using TileFn = void (*)(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b,
                        float* c, int64_t ldc, float alpha, float beta, bool first);
// Independent dot-product rounds for the peak figure; returns flops (2 per bf16 product).
using DotLoopFn = double (*)(int64_t iterations);

struct Ops {
  const char* name;
  int tile_rows;  // rows per micro-tile, the most `tile` takes
  ConvertFn convert;
  ConvertPairsFn convert_pairs;
  PackFn pack_b;
  Pack16Fn pack_b16;
  TileFn tile;
  DotLoopFn dot_loop;
};

// In gemm_bf16_avx512.cc (needs avx512_bf16), gemm_bf16_avx512_emulated.cc (AVX-512F/BW/VL + FMA)
// and gemm_bf16_avx2.cc (AVX2 + FMA).
const Ops& avx512bf16_ops();
const Ops& avx512_emulated_ops();
const Ops& avx2_ops();

}  // namespace bf16
}  // namespace electra
