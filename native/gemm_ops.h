// The per-instruction-set pieces of the blocked GEMM. The driver (gemm.cc,
// compiled for the baseline ISA) owns loops, blocking and threads; each ISA
// file supplies packing, the macro-kernel and an FMA loop for the peak figure.
// Only plain data and function pointers cross this boundary, so no inline or
// template code compiled with -mavx512* can be picked up by generic callers.
#pragma once
#include <cstdint>

namespace electra {
namespace gemm {

// Packs a rows x depth view X (element (r, p) at src[r * rs + p * cs]) into
// ceil(rows / W) panels of W * depth floats: panel q holds dst[q*W*depth + p*W + i]
// = X(q*W + i, p). Rows past `rows` in the last panel are zero. Writes nothing
// outside its panels, so threads may pack neighbouring panels concurrently.
using PackFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, float* dst);

// A rows x cols block of floats, rows `stride` floats apart: source data a
// later pack will read. Empty when rows == 0.
struct Region {
  const float* base = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t stride = 0;
};

// What a macro-kernel prefetches while it computes, so that the next pack
// reads from cache rather than memory (packing is otherwise latency-bound on
// cold, strided sources).
struct Prefetch {
  Region regions[2];
};

// The region a PackFn call with these arguments reads (see PackFn); empty for
// a source strided in both directions.
inline Region pack_source(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth) {
  if (cs == 1) return {src, rows, depth, rs};
  if (rs == 1) return {src, depth, rows, cs};
  return {};
}

namespace {
// Issues part `part` of `parts` equal shares of the prefetches covering
// `next` (one per 64-byte line, plus each row's last float). Internal linkage:
// every ISA file compiles its own copy with its own flags.
inline void prefetch_share(const Prefetch& next, int64_t part, int64_t parts) {
  for (const Region& r : next.regions) {
    if (r.rows <= 0 || r.cols <= 0) continue;
    const int64_t per_row = (r.cols + 15) / 16 + 1;
    const int64_t total = r.rows * per_row;
    const int64_t end = (part + 1) * total / parts;
    for (int64_t i = part * total / parts; i < end; ++i) {
      const int64_t row = i / per_row;
      const int64_t j = i - row * per_row;
      const int64_t col = j == per_row - 1 ? r.cols - 1 : 16 * j;
      __builtin_prefetch(r.base + row * r.stride + col, 0, 2);
    }
  }
}
}  // namespace

// C[mc x nc] (row stride ldc) = alpha * Apack * Bpack + beta * C, where Apack
// holds ceil(mc/MR) panels of MR*kc (from pack_a) and Bpack ceil(nc/NR) panels
// of NR*kc (from pack_b). beta == 0 never reads C. Prefetches `next` on the way.
using MacroFn = void (*)(int64_t mc, int64_t nc, int64_t kc, const float* apack, const float* bpack,
                         float* c, int64_t ldc, float alpha, float beta, const Prefetch& next);

// Runs `iterations` rounds of independent vector FMAs; returns the floating-point
// operations performed (2 per multiply-add lane).
using FmaLoopFn = double (*)(int64_t iterations);

struct IsaOps {
  const char* name;
  int mr;  // micro-tile rows (A panel width)
  int nr;  // micro-tile columns (B panel width)
  int kc;  // depth block
  int mc;  // largest row block per task (A block kept in L2)
  int nc;  // largest column block (shared packed B)
  PackFn pack_a;
  PackFn pack_b;
  MacroFn macro;
  FmaLoopFn fma_loop;
};

// Defined in gemm_avx512.cc / gemm_avx2.cc; call only when the CPU supports them.
const IsaOps& avx512_ops();
const IsaOps& avx2_ops();

}  // namespace gemm
}  // namespace electra
