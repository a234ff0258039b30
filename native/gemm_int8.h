// int8 inference GEMM: C = dequant(quant(A) Wq^T) + bias, defined to the bit so
// the VNNI kernel, the AVX2 kernel, the scalar loop and the JS twin
// (src/kernels/js/gemm-int8.ts) agree:
// - A (fp32, m x k, rows contiguous) is quantized per row to u8 with a zero
//   point: lo = min(0, min x), hi = max(0, max x), scale = fl(fl(hi - lo) / 255)
//   (1 when 0), inv = fl(1 / scale), zp = clamp(rne(fl(-lo * inv)), 0, 255),
//   q = clamp(rne(fl(x * inv)) + zp, 0, 255) (rne: round half to even).
// - Weights (int8 per output column j, symmetric, made once in TypeScript:
//   src/kernels/int8.ts) with scale_w[j] and colsum[j] = sum_p wq[p][j].
// - acc = sum_p q[p] wq[p][j] in int32 (exact: any order), then
//   c = fl(fl(fl(scale * scale_w[j]) * fl(acc - zp * colsum[j])) + bias[j]).
// - Optional inference epilogues after that, from the elementwise kernels' own
//   code (so the bits equal the separate passes): c = gelu(c), then c = fl(c + residual).
// Weights layout (int8): ceil(n / 32) panels of 32 columns; for depth quad t
// (depths 4t..4t+3) and column j of panel q, the 4 bytes at ((q * kq + t) * 32 + j) * 4,
// kq = ceil(k / 4), zero-padded. Quantized A rows are u8, zero past k.
#pragma once
#include <cmath>
#include <cstdint>

namespace electra {
namespace int8 {

constexpr int kNR = 32;  // weight panel width
constexpr int kMR = 12;  // rows per micro-tile (VNNI, AVX2 and scalar kernels)
constexpr int kAmxMR = 32;  // rows per AMX block: two 16-row tiles

// Quantizes `rows` rows of k floats (src row stride lda) into u8 rows of ld
// bytes (zero from k to ld), with each row's scale and zero point.
using QuantizeFn = void (*)(const float* src, int64_t lda, int64_t rows, int64_t k, uint8_t* dst, int64_t ld,
                            float* scale, int32_t* zero_point);
// What a tile needs to turn its int32 sums into outputs (gemm_int8.h's
// epilogue); the column arrays start at the tile's first column.
struct Epilogue {
  const float* row_scale;      // per tile row
  const int32_t* row_zero;     // per tile row
  const float* col_scale;      // per column
  const int32_t* col_sum;      // per column
  const float* bias;           // per column, or null
};
// One micro-tile: rows (1..Ops::mr) x cols (1..32) of C from kq depth quads of
// quantized rows (a, row stride lda bytes) and one weight panel (b).
using TileFn = void (*)(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c,
                        int64_t ldc, const Epilogue& e);
// Independent u8 x s8 dot-product rounds for a peak figure; returns integer ops (2 per product).
using DotLoopFn = double (*)(int64_t iterations);

struct Ops {
  const char* name;
  QuantizeFn quantize;
  TileFn tile;
  DotLoopFn dot_loop;
  int mr;  // rows per micro-tile: tile() takes 1..mr rows
};

// Per-row quantization parameters, shared by every ISA (scalar code).
struct RowParams {
  float scale;
  float inv;
  int32_t zero_point;
};

inline float round_even(float x) { return std::nearbyint(x); }  // default rounding mode: to nearest even

inline RowParams row_params(float lo, float hi) {
  float scale = (hi - lo) / 255.0f;
  if (scale == 0.0f) scale = 1.0f;
  const float inv = 1.0f / scale;
  float zp = round_even(-lo * inv);
  zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
  return {scale, inv, static_cast<int32_t>(zp)};
}

// In gemm_int8_avx512.cc (AVX512_VNNI) and gemm_int8_avx2.cc (AVX2).
const Ops& avx512vnni_ops();
const Ops& avx2_ops();
// In gemm_int8_amx.cc (AMX-INT8): whether the CPU has AMX-INT8 and the OS lets
// this process use its tiles (asked once), and the kernel for depths that are a
// multiple of 64 (whole tiles). Its tile reads all 32 rows of the quantized
// block even when fewer are asked for (those sums are discarded), so row
// buffers hold a multiple of kAmxMR rows.
bool amx_usable();
const Ops& amx_ops();

}  // namespace int8
}  // namespace electra
