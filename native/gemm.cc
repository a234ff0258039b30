// Blocked, multi-threaded single-precision GEMM (C = alpha op(A) op(B) + beta C,
// row-major) and its N-API bindings. Loop structure after Goto/BLIS: packed
// MR-row panels of op(A) and NR-column panels of op(B), KC deep, feed the
// ISA's macro-kernel. On several threads one operand is packed up front and
// shared, and each task owns a block of C over the whole depth (see
// gemm_blocked); matrix-vector shapes skip packing (gemv). The ISA pieces
// (gemm_avx512.cc, gemm_avx2.cc, or the portable ones below) are picked per
// call from electra::active_isa().
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu.h"
#include "elementwise_isa.h"
#include "gemm_ops.h"
#include "napi_args.h"
#include "lowp_blocks.h"
#include "pool.h"

namespace electra {
namespace {

using gemm::IsaOps;

// ---------------------------------------------------------------------------
// Portable pieces (the "scalar" ISA): plain loops the compiler may vectorise
// for the baseline target.

constexpr int kScalarMR = 4;
constexpr int kScalarNR = 16;

template <int W>
void scalar_pack(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, float* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += W, dst += W * depth) {
    const int64_t w = std::min<int64_t>(W, rows - r0);
    const float* s = src + r0 * rs;
    for (int64_t p = 0; p < depth; ++p) {
      for (int64_t i = 0; i < w; ++i) dst[p * W + i] = s[i * rs + p * cs];
      for (int64_t i = w; i < W; ++i) dst[p * W + i] = 0.0f;
    }
  }
}

void scalar_macro(int64_t mc, int64_t nc, int64_t kc, const float* apack, const float* bpack, float* c,
                  int64_t ldc, float alpha, float beta, const gemm::Prefetch& next) {
  const int64_t panels = (nc + kScalarNR - 1) / kScalarNR;
  for (int64_t jr = 0; jr < nc; jr += kScalarNR) {
    gemm::prefetch_share(next, jr / kScalarNR, panels);
    const int64_t ncols = std::min<int64_t>(kScalarNR, nc - jr);
    for (int64_t ir = 0; ir < mc; ir += kScalarMR) {
      const int64_t nrows = std::min<int64_t>(kScalarMR, mc - ir);
      const float* pa = apack + ir * kc;
      const float* pb = bpack + jr * kc;
      float acc[kScalarMR][kScalarNR] = {};
      for (int64_t p = 0; p < kc; ++p) {
        for (int r = 0; r < kScalarMR; ++r) {
          const float a = pa[p * kScalarMR + r];
          for (int j = 0; j < kScalarNR; ++j) acc[r][j] += a * pb[p * kScalarNR + j];
        }
      }
      for (int64_t r = 0; r < nrows; ++r) {
        float* cr = c + (ir + r) * ldc + jr;
        for (int64_t j = 0; j < ncols; ++j)
          cr[j] = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * cr[j];
      }
    }
  }
}

const IsaOps kScalarOps = {
    "scalar", kScalarMR, kScalarNR, /*kc=*/256, /*mc=*/128, /*nc=*/2048,
    scalar_pack<kScalarMR>, scalar_pack<kScalarNR>, scalar_macro, lowp::scalar_fma_loop,
};

const IsaOps& current_ops() {
  switch (active_isa()) {
#if ELECTRA_X86_SIMD
    case Isa::Avx512: return gemm::avx512_ops();
    case Isa::Avx2: return gemm::avx2_ops();
#endif
    default: return kScalarOps;
  }
}

// ---------------------------------------------------------------------------
// Driver.

// One GEMM with op() folded into strides: op(A)(i, p) = a[i * a_rs + p * a_cs],
// op(B)(p, j) = b[p * b_rs + j * b_cs].
struct Problem {
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t a_rs, a_cs;
  const float* b;
  int64_t b_rs, b_cs;
  float* c;
  int64_t ldc;
};

// 64-byte aligned, grow-only scratch owned by one thread.
using Scratch = lowp::Buffer<float>;

thread_local Scratch tl_apack;
thread_local Scratch tl_bpack;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into the fewest near-equal blocks of at most `limit`.
int64_t even_block(int64_t total, int64_t limit) { return ceil_div(total, ceil_div(total, limit)); }

// Part `part` of `parts` near-equal runs of the region's rows.
gemm::Region slice(const gemm::Region& r, int64_t part, int64_t parts) {
  const int64_t r0 = part * r.rows / parts;
  const int64_t r1 = (part + 1) * r.rows / parts;
  return {r.base + r0 * r.stride, r1 - r0, r.cols, r.stride};
}

// The source regions of the op(A) rows [i0, i1) and op(B) columns [j0, j1)
// over depths [p0, p0 + depth): what pack_a / pack_b read for that block.
gemm::Region a_source(const Problem& pr, int64_t i0, int64_t i1, int64_t p0, int64_t depth) {
  if (i1 <= i0 || depth <= 0) return {};
  return gemm::pack_source(pr.a + i0 * pr.a_rs + p0 * pr.a_cs, pr.a_rs, pr.a_cs, i1 - i0, depth);
}
gemm::Region b_source(const Problem& pr, int64_t j0, int64_t j1, int64_t p0, int64_t depth) {
  if (j1 <= j0 || depth <= 0) return {};
  return gemm::pack_source(pr.b + p0 * pr.b_rs + j0 * pr.b_cs, pr.b_cs, pr.b_rs, j1 - j0, depth);
}

// C = beta * C (beta == 0 writes zeros without reading): the k == 0 case.
void scale_c(const Problem& pr) {
  for (int64_t i = 0; i < pr.m; ++i) {
    float* cr = pr.c + i * pr.ldc;
    if (pr.beta == 0.0f) std::fill(cr, cr + pr.n, 0.0f);
    else for (int64_t j = 0; j < pr.n; ++j) cr[j] *= pr.beta;
  }
}

// The whole product on the calling thread.
void gemm_serial(const IsaOps& ops, const Problem& pr) {
  if (pr.m == 0 || pr.n == 0) return;
  if (pr.k == 0) return scale_c(pr);
  const int64_t kc_block = even_block(pr.k, ops.kc);
  const int64_t nc_block = std::min<int64_t>(round_up(pr.n, ops.nr), ops.nc);
  const int64_t mc_block = std::min<int64_t>(round_up(pr.m, ops.mr), ops.mc);
  float* bpack = tl_bpack.get(nc_block * kc_block);
  float* apack = tl_apack.get(mc_block * kc_block);
  for (int64_t jc = 0; jc < pr.n; jc += nc_block) {
    const int64_t nc = std::min(nc_block, pr.n - jc);
    for (int64_t pc = 0; pc < pr.k; pc += kc_block) {
      const int64_t kc = std::min(kc_block, pr.k - pc);
      const float beta = pc == 0 ? pr.beta : 1.0f;
      // The block after this (jc, pc) one, whose sources the last row block prefetches.
      const bool last_depth = pc + kc_block >= pr.k;
      const int64_t next_pc = last_depth ? 0 : pc + kc_block;
      const int64_t next_jc = last_depth ? jc + nc_block : jc;
      const int64_t next_kc = std::min(kc_block, pr.k - next_pc);
      ops.pack_b(pr.b + pc * pr.b_rs + jc * pr.b_cs, pr.b_cs, pr.b_rs, nc, kc, bpack);
      for (int64_t ic = 0; ic < pr.m; ic += mc_block) {
        const int64_t mc = std::min(mc_block, pr.m - ic);
        ops.pack_a(pr.a + ic * pr.a_rs + pc * pr.a_cs, pr.a_rs, pr.a_cs, mc, kc, apack);
        gemm::Prefetch next;
        if (ic + mc < pr.m) {
          next.regions[0] = a_source(pr, ic + mc, std::min(pr.m, ic + mc + mc_block), pc, kc);
        } else if (next_jc < pr.n) {
          next.regions[0] = b_source(pr, next_jc, std::min(pr.n, next_jc + nc_block), next_pc, next_kc);
          next.regions[1] = a_source(pr, 0, std::min(pr.m, mc_block), next_pc, next_kc);
        }
        ops.macro(mc, nc, kc, apack, bpack, pr.c + ic * pr.ldc + jc, pr.ldc, pr.alpha, beta, next);
      }
    }
  }
}

// Tasks per thread a parallel phase aims for, so that dynamic claiming can
// even out threads slowed by other work on the machine.
constexpr int64_t kTasksPerThread = 4;

// Largest operand block the blocked driver packs up front to share (floats;
// 8 MiB). Adjustable so tests can reach the multi-block paths with small shapes.
constexpr int64_t kDefaultSharedPackFloats = int64_t{2} << 20;
int64_t shared_pack_floats = kDefaultSharedPackFloats;

// Largest per-depth-block B a column task packs for itself (floats): it is
// re-read for every row block, so it should stay in L2.
constexpr int64_t kOwnBlockFloats = int64_t{128} << 10;

// How many times less shared data column tasks must re-read than row tasks
// to be chosen.
constexpr int64_t kColumnTaskAdvantage = 3;

// Splits `panels` whole panels into task blocks: at most `max_panels` per
// task, at least `min_tasks` tasks where there are enough panels, and a
// multiple of `threads` so equal tasks finish together.
int64_t task_count(int64_t panels, int64_t max_panels, int64_t min_tasks, int threads) {
  int64_t tasks = std::max(ceil_div(panels, std::max<int64_t>(1, max_panels)), min_tasks);
  tasks = round_up(tasks, threads);
  return std::min(tasks, panels);
}

// Start (in elements) of block `b` of `blocks` near-equal runs of whole panels.
int64_t block_start(int64_t b, int64_t blocks, int64_t panels, int64_t width, int64_t limit) {
  return std::min(limit, (b * panels / blocks) * width);
}

// Packs `count` rows of an operand (row stride rs, depth stride cs, as PackFn reads
// them) for every depth block into dst, depth block q at q * block_floats, in tasks
// over depth blocks and runs of whole panels of `width`: the shared pack of
// gemm_blocked, for op(B) columns or op(A) rows alike.
void pack_all_depths(gemm::PackFn pack, const float* src, int64_t rs, int64_t cs, int64_t count, int64_t width, int64_t k,
                     int64_t kc_block, int64_t min_tasks, int64_t block_floats, float* dst) {
  const int64_t depth_blocks = ceil_div(k, kc_block);
  const int64_t panels = ceil_div(count, width);
  const int64_t chunks = std::min(panels, ceil_div(min_tasks, depth_blocks));
  parallel_for(depth_blocks * chunks, [&](int64_t t) {
    const int64_t q = t / chunks;
    const int64_t ch = t % chunks;
    const int64_t pc = q * kc_block;
    const int64_t kc = std::min(kc_block, k - pc);
    const int64_t r0 = block_start(ch, chunks, panels, width, count);
    const int64_t r1 = block_start(ch + 1, chunks, panels, width, count);
    if (r1 > r0) pack(src + pc * cs + r0 * rs, rs, cs, r1 - r0, kc, dst + q * block_floats + r0 * kc);
  });
}

// The product spread over the pool, in two phases per column (or row) block
// and no barrier inside the depth loop. One operand is packed up front for
// the whole depth into a shared buffer (all threads pack, in tasks); then each
// task owns a block of rows (or columns) of C over the whole depth: it packs
// its own block of the other operand one depth block at a time, keeps its C
// block in cache across depth blocks, and prefetches the source of its next
// pack while it computes. Rows or columns: whichever re-reads less of the
// shared operand (each task streams all of it).
void gemm_blocked(const IsaOps& ops, const Problem& pr, int threads) {
  if (pr.m == 0 || pr.n == 0) return;
  if (pr.k == 0) return scale_c(pr);
  const int64_t mr = ops.mr;
  const int64_t nr = ops.nr;
  const int64_t kc_block = even_block(pr.k, ops.kc);
  const int64_t depth_blocks = ceil_div(pr.k, kc_block);
  const int64_t min_tasks = kTasksPerThread * threads;
  const int64_t row_panels = ceil_div(pr.m, mr);
  const int64_t col_panels = ceil_div(pr.n, nr);

  const int64_t row_tasks = task_count(row_panels, ops.mc / mr, min_tasks, threads);
  const int64_t col_tasks =
      task_count(col_panels, std::max<int64_t>(1, kOwnBlockFloats / kc_block / nr), min_tasks, threads);
  // Column tasks only when they re-read several times less: row tasks keep
  // their own A block in L2 and stream B, which measured faster otherwise.
  const bool rows_enough = row_tasks >= threads;
  const bool cols_enough = col_tasks >= threads;
  const bool by_rows = rows_enough && cols_enough ? row_tasks * pr.n <= kColumnTaskAdvantage * col_tasks * pr.m
                                                  : rows_enough || (!cols_enough && row_tasks >= col_tasks);

  auto beta_at = [&](int64_t pc) { return pc == 0 ? pr.beta : 1.0f; };

  if (by_rows) {
    // Shared: op(B) for all depths, `nc_block` columns at a time.
    const int64_t nc_cap = std::max<int64_t>(nr, (shared_pack_floats / pr.k) / nr * nr);
    const int64_t nc_block = round_up(even_block(pr.n, std::min<int64_t>(ops.nc, nc_cap)), nr);
    const int64_t block_floats = round_up(std::min(nc_block, pr.n), nr) * kc_block;
    float* bpack = tl_bpack.get(depth_blocks * block_floats);
    const int64_t max_rows = ceil_div(row_panels, row_tasks) * mr;
    for (int64_t jc = 0; jc < pr.n; jc += nc_block) {
      const int64_t nc = std::min(nc_block, pr.n - jc);
      pack_all_depths(ops.pack_b, pr.b + jc * pr.b_cs, pr.b_cs, pr.b_rs, nc, nr, pr.k, kc_block, min_tasks, block_floats,
                      bpack);
      const bool last_jc = jc + nc_block >= pr.n;
      parallel_for(row_tasks, [&](int64_t t) {
        const int64_t i0 = block_start(t, row_tasks, row_panels, mr, pr.m);
        const int64_t i1 = block_start(t + 1, row_tasks, row_panels, mr, pr.m);
        if (i1 <= i0) return;
        float* apack = tl_apack.get(max_rows * kc_block);
        for (int64_t pc = 0; pc < pr.k; pc += kc_block) {
          const int64_t kc = std::min(kc_block, pr.k - pc);
          ops.pack_a(pr.a + i0 * pr.a_rs + pc * pr.a_cs, pr.a_rs, pr.a_cs, i1 - i0, kc, apack);
          // Next pack: this block's next depth, else the block this thread likely takes next.
          gemm::Prefetch next;
          if (pc + kc_block < pr.k) {
            next.regions[0] = a_source(pr, i0, i1, pc + kc_block, std::min(kc_block, pr.k - pc - kc_block));
          } else if (t + threads < row_tasks) {
            next.regions[0] = a_source(pr, block_start(t + threads, row_tasks, row_panels, mr, pr.m),
                                       block_start(t + threads + 1, row_tasks, row_panels, mr, pr.m), 0,
                                       std::min(kc_block, pr.k));
          } else if (!last_jc) {
            // Share of the next column block's B, which all threads pack next.
            const int64_t jn = jc + nc_block;
            next.regions[0] = slice(b_source(pr, jn, std::min(pr.n, jn + nc_block), 0, std::min(kc_block, pr.k)),
                                    t % threads, threads);
          }
          ops.macro(i1 - i0, nc, kc, apack, bpack + (pc / kc_block) * block_floats, pr.c + i0 * pr.ldc + jc,
                    pr.ldc, pr.alpha, beta_at(pc), next);
        }
      });
    }
    return;
  }

  // Shared: op(A) for all depths, `mc_shared` rows at a time; tasks own columns.
  const int64_t mc_cap = std::max<int64_t>(mr, (shared_pack_floats / pr.k) / mr * mr);
  const int64_t mc_shared = round_up(even_block(pr.m, mc_cap), mr);
  const int64_t block_floats = round_up(std::min(mc_shared, pr.m), mr) * kc_block;
  float* apack = tl_apack.get(depth_blocks * block_floats);
  const int64_t max_cols = ceil_div(col_panels, col_tasks) * nr;
  for (int64_t ic = 0; ic < pr.m; ic += mc_shared) {
    const int64_t mc = std::min(mc_shared, pr.m - ic);
    const int64_t panels = ceil_div(mc, mr);
    pack_all_depths(ops.pack_a, pr.a + ic * pr.a_rs, pr.a_rs, pr.a_cs, mc, mr, pr.k, kc_block, min_tasks, block_floats,
                    apack);
    // Row sub-blocks of at most ops.mc rows, so the A block a macro call re-reads stays in L2.
    const int64_t sub_blocks = ceil_div(panels, std::max<int64_t>(1, ops.mc / mr));
    const bool last_ic = ic + mc_shared >= pr.m;
    parallel_for(col_tasks, [&](int64_t t) {
      const int64_t j0 = block_start(t, col_tasks, col_panels, nr, pr.n);
      const int64_t j1 = block_start(t + 1, col_tasks, col_panels, nr, pr.n);
      if (j1 <= j0) return;
      float* own = tl_bpack.get(max_cols * kc_block);
      for (int64_t pc = 0; pc < pr.k; pc += kc_block) {
        const int64_t kc = std::min(kc_block, pr.k - pc);
        ops.pack_b(pr.b + pc * pr.b_rs + j0 * pr.b_cs, pr.b_cs, pr.b_rs, j1 - j0, kc, own);
        gemm::Region next_region;
        if (pc + kc_block < pr.k) {
          next_region = b_source(pr, j0, j1, pc + kc_block, std::min(kc_block, pr.k - pc - kc_block));
        } else if (t + threads < col_tasks) {
          next_region = b_source(pr, block_start(t + threads, col_tasks, col_panels, nr, pr.n),
                                 block_start(t + threads + 1, col_tasks, col_panels, nr, pr.n), 0,
                                 std::min(kc_block, pr.k));
        } else if (!last_ic) {
          const int64_t in = ic + mc_shared;
          next_region = slice(a_source(pr, in, std::min(pr.m, in + mc_shared), 0, std::min(kc_block, pr.k)),
                              t % threads, threads);
        }
        const float* ablock = apack + (pc / kc_block) * block_floats;
        for (int64_t sb = 0; sb < sub_blocks; ++sb) {
          const int64_t r0 = block_start(sb, sub_blocks, panels, mr, mc);
          const int64_t r1 = block_start(sb + 1, sub_blocks, panels, mr, mc);
          gemm::Prefetch next;
          next.regions[0] = slice(next_region, sb, sub_blocks);
          ops.macro(r1 - r0, j1 - j0, kc, ablock + r0 * kc, own, pr.c + (ic + r0) * pr.ldc + j0, pr.ldc, pr.alpha,
                    beta_at(pc), next);
        }
      }
    });
  }
}

// Below this many multiply-adds (about 10 us on one core), waking the pool
// costs more than it saves.
constexpr int64_t kParallelMinMacs = int64_t{1} << 20;

// Rows of C a matrix-vector task handles: its slice of C stays in L1.
constexpr int64_t kGemvRows = 1024;

// Matrix-vector product (n == 1): C[i] = alpha * sum_p op(A)(i, p) x[p] + beta * C[i].
// Packing into NR-wide panels would pad the single column to NR and waste
// nearly all the arithmetic; these loops are memory-bound instead. The fixed
// 16-lane accumulator arrays let the compiler vectorise without reassociating.
void gemv(const Problem& pr) {
  if (pr.m == 0) return;
  if (pr.k == 0) return scale_c(pr);
  std::vector<float> x(static_cast<size_t>(pr.k));
  for (int64_t p = 0; p < pr.k; ++p) x[p] = pr.b[p * pr.b_rs];
  auto finish = [&](int64_t i, float dot) {
    float& ci = pr.c[i * pr.ldc];
    ci = pr.beta == 0.0f ? pr.alpha * dot : pr.alpha * dot + pr.beta * ci;
  };
  auto rows = [&](int64_t i0, int64_t i1) {
    if (pr.a_cs == 1) {
      // Rows of op(A) are contiguous: one dot product per row.
      constexpr int kLanes = 16;
      const int64_t body = pr.k / kLanes * kLanes;
      for (int64_t i = i0; i < i1; ++i) {
        const float* ai = pr.a + i * pr.a_rs;
        float acc[kLanes] = {};
        for (int64_t p = 0; p < body; p += kLanes)
          for (int l = 0; l < kLanes; ++l) acc[l] += ai[p + l] * x[p + l];
        float dot = 0.0f;
        for (int l = 0; l < kLanes; ++l) dot += acc[l];
        for (int64_t p = body; p < pr.k; ++p) dot += ai[p] * x[p];
        finish(i, dot);
      }
    } else {
      // Columns of op(A) are contiguous (a_rs == 1, or a general stride):
      // accumulate x[p] times column p into a block of C.
      float acc[kGemvRows];
      const int64_t len = i1 - i0;
      std::fill(acc, acc + len, 0.0f);
      for (int64_t p = 0; p < pr.k; ++p) {
        const float* ap = pr.a + p * pr.a_cs + i0 * pr.a_rs;
        const float xp = x[p];
        if (pr.a_rs == 1) for (int64_t i = 0; i < len; ++i) acc[i] += ap[i] * xp;
        else for (int64_t i = 0; i < len; ++i) acc[i] += ap[i * pr.a_rs] * xp;
      }
      for (int64_t i = 0; i < len; ++i) finish(i0 + i, acc[i]);
    }
  };
  const int64_t blocks = ceil_div(pr.m, kGemvRows);
  auto block = [&](int64_t b) { rows(b * kGemvRows, std::min(pr.m, (b + 1) * kGemvRows)); };
  if (pool_threads() > 1 && blocks > 1 && pr.m * pr.k >= kParallelMinMacs) parallel_for(blocks, block);
  else for (int64_t b = 0; b < blocks; ++b) block(b);
}

// The same product with C transposed: C^T = op(B)^T op(A)^T, so a single
// row of C becomes a single column.
Problem transposed(const Problem& pr) {
  Problem t = pr;
  t.m = pr.n;
  t.n = pr.m;
  t.a = pr.b;
  t.a_rs = pr.b_cs;
  t.a_cs = pr.b_rs;
  t.b = pr.a;
  t.b_rs = pr.a_cs;
  t.b_cs = pr.a_rs;
  // C^T(j, i) = C(i, j): rows of C^T are 1 apart only when C has one row.
  t.ldc = 1;
  return t;
}

// Depth per chunk when a product splits its depth (see gemm_split_depth).
constexpr int64_t kSplitDepth = 2048;
constexpr int64_t kMaxDepthChunks = 8;
// Bound on the scratch the chunks after the first write (floats; 16 MiB).
constexpr int64_t kMaxSplitFloats = int64_t{1} << 22;
thread_local Scratch tl_split;

// A power of two, so that 2, 4 or 8 threads get equal shares.
int64_t depth_chunks(const Problem& pr) {
  const int64_t most = std::min({kMaxDepthChunks, pr.k / kSplitDepth, 1 + kMaxSplitFloats / std::max<int64_t>(1, pr.m * pr.n)});
  int64_t chunks = 1;
  while (chunks * 2 <= most) chunks *= 2;
  return chunks;
}

// Weight-gradient shapes (C = hidden x hidden, depth = tokens) give threads
// little of C to share and a long depth: split the depth instead.
bool splits_depth(const Problem& pr) {
  return pr.m > 0 && pr.n > 0 && pr.k >= 4 * std::max(pr.m, pr.n) && depth_chunks(pr) >= 2;
}

// The depth in fixed chunks, each a serial product on one thread: chunk 0
// into C (with beta), the others into scratch, then added to C in chunk
// order. The chunks depend on the shape only, so the result does not depend
// on the thread count.
void gemm_split_depth(const IsaOps& ops, const Problem& pr) {
  const int64_t chunks = depth_chunks(pr);
  const int64_t mn = pr.m * pr.n;
  float* partial = tl_split.get((chunks - 1) * mn);
  auto chunk_problem = [&](int64_t q) {
    const int64_t p0 = q * pr.k / chunks, p1 = (q + 1) * pr.k / chunks;
    Problem sub = pr;
    sub.k = p1 - p0;
    sub.a = pr.a + p0 * pr.a_cs;
    sub.b = pr.b + p0 * pr.b_rs;
    if (q > 0) {
      sub.beta = 0.0f;
      sub.c = partial + (q - 1) * mn;
      sub.ldc = pr.n;
    }
    return sub;
  };
  auto run_chunk = [&](int64_t q) { gemm_serial(ops, chunk_problem(q)); };
  const bool pooled = pool_threads() > 1;
  if (pooled) parallel_for(chunks, run_chunk);
  else for (int64_t q = 0; q < chunks; ++q) run_chunk(q);
  constexpr int64_t kRowsPerTask = 16;
  auto add_rows = [&](int64_t t) {
    const int64_t i1 = std::min(pr.m, (t + 1) * kRowsPerTask);
    for (int64_t i = t * kRowsPerTask; i < i1; ++i) {
      float* ci = pr.c + i * pr.ldc;
      for (int64_t q = 1; q < chunks; ++q) {
        const float* pi = partial + (q - 1) * mn + i * pr.n;
        for (int64_t j = 0; j < pr.n; ++j) ci[j] += pi[j];
      }
    }
  };
  const int64_t tasks = ceil_div(pr.m, kRowsPerTask);
  if (pooled) parallel_for(tasks, add_rows);
  else for (int64_t t = 0; t < tasks; ++t) add_rows(t);
}

void gemm_auto(const IsaOps& ops, const Problem& pr) {
  if (pr.n == 1) return gemv(pr);
  if (pr.m == 1) return gemv(transposed(pr));
  if (splits_depth(pr)) return gemm_split_depth(ops, pr);
  const int threads = pool_threads();
  if (threads > 1 && pr.m * pr.n * pr.k >= kParallelMinMacs) gemm_blocked(ops, pr, threads);
  else gemm_serial(ops, pr);
}

struct BatchStrides {
  int64_t outer, inner;
  int64_t a_outer, a_inner, b_outer, b_inner, c_outer, c_inner;
};

void gemm_batched(const IsaOps& ops, const Problem& base, const BatchStrides& bs) {
  const int64_t entries = bs.outer * bs.inner;
  if (entries == 0) return;
  auto entry = [&](int64_t e) {
    const int64_t io = e / bs.inner;
    const int64_t ii = e % bs.inner;
    Problem pr = base;
    pr.a += io * bs.a_outer + ii * bs.a_inner;
    pr.b += io * bs.b_outer + ii * bs.b_inner;
    pr.c += io * bs.c_outer + ii * bs.c_inner;
    return pr;
  };
  const int threads = pool_threads();
  // Whole entries per task when they divide evenly enough among the threads:
  // no synchronisation inside a product, and small products stay cheap.
  if (threads > 1 && entries >= threads && (entries >= 4 * threads || entries % threads == 0)) {
    parallel_for(entries, [&](int64_t e) { gemm_serial(ops, entry(e)); });
  } else {
    for (int64_t e = 0; e < entries; ++e) gemm_auto(ops, entry(e));
  }
}

// Inference self-attention without dropout, one (sequence, head) per task:
// scores = Q K^T into the thread's own S x S block, the elementwise softmax
// (scale, the sequence's mask row) on it in place, then context = P V. The
// same gemm_serial products and softmax rows as gemmBatched + softmax +
// gemmBatched, so the same bits, with the scores kept in cache and one pass
// over the pool instead of three.
struct AttentionShape {
  int64_t batch, heads, seq, head_dim;
  const float* qkv;  // [batch * seq, 3 * heads * head_dim]: q | k | v per row
  float* context;    // [batch * seq, heads * head_dim]
  float scale;
  const float* mask;  // [batch, seq] additive, or null
};

thread_local Scratch tl_scores;

void attention_context(const IsaOps& ops, const AttentionShape& at) {
  const int64_t S = at.seq, dh = at.head_dim, H = at.heads * dh, W = 3 * H;
  const ElementwiseIsaOps& ew = elementwise_ops_active();
  auto entry = [&](int64_t e) {
    const int64_t b = e / at.heads, h = e % at.heads;
    float* scores = tl_scores.get(S * S);
    const float* q = at.qkv + b * S * W + h * dh;
    Problem pr;
    pr.m = S;
    pr.n = S;
    pr.k = dh;
    pr.alpha = 1.0f;
    pr.beta = 0.0f;
    pr.a = q;
    pr.a_rs = W;
    pr.a_cs = 1;
    pr.b = q + H;  // K^T: op(B)(p, j) = k[j * W + p]
    pr.b_rs = 1;
    pr.b_cs = W;
    pr.c = scores;
    pr.ldc = S;
    gemm_serial(ops, pr);
    ew.softmax(scores, scores, 0, S, S, at.scale, at.mask ? at.mask + b * S : nullptr, S);
    pr.n = dh;
    pr.k = S;
    pr.a = scores;
    pr.a_rs = S;
    pr.b = q + 2 * H;
    pr.b_rs = W;
    pr.b_cs = 1;
    pr.c = at.context + b * S * H + h * dh;
    pr.ldc = H;
    gemm_serial(ops, pr);
  };
  const int64_t entries = at.batch * at.heads;
  if (pool_threads() > 1 && entries > 1) parallel_for(entries, entry);
  else for (int64_t e = 0; e < entries; ++e) entry(e);
}

// attentionContext(batch, heads, seq, headDim, qkv, context, scale, mask | null)
Napi::Value AttentionContext(const Napi::CallbackInfo& info) {
  Args args(info, "attentionContext");
  args.expect_count(8);
  AttentionShape at;
  at.batch = args.count(0, "batch");
  at.heads = args.count(1, "heads");
  at.seq = args.count(2, "seqLen");
  at.head_dim = args.count(3, "headDim");
  const int64_t tokens = args.product(at.batch, at.seq, "batch * seqLen");
  const int64_t hidden = args.product(at.heads, at.head_dim, "heads * headDim");
  at.qkv = args.f32(4, "qkv", args.product(tokens, args.product(3, hidden, "3 * hidden"), "qkv size"));
  at.context = args.f32(5, "context", args.product(tokens, hidden, "context size"));
  at.scale = static_cast<float>(args.finite(6, "scale"));
  at.mask = args.f32_or_null(7, "mask", tokens);
  if (tokens > 0 && hidden > 0) attention_context(current_ops(), at);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------
// Peak: every pool thread runs the ISA's FMA loop (measure_parallel_flops, pool.cc).

// ---------------------------------------------------------------------------
// N-API bindings. The TypeScript wrapper validates with friendlier messages;
// these checks repeat the bounds so no call can touch memory outside its arrays.

struct F32Arg {
  float* data;
  int64_t length;
};

F32Arg f32_arg(const Args& args, size_t i, const char* name) { return {args.f32(i, name), args.length(i)}; }

// Throws unless every element of `rows` x `cols` matrices (row stride ld) at
// off + io * outer_stride + ii * inner_stride lies inside the array.
void check_matrix(const Args& args, const char* name, const F32Arg& arr, int64_t off, int64_t rows, int64_t cols,
                  int64_t ld, const int64_t batch[2], const int64_t strides[2], bool touched) {
  if (ld < cols)
    args.fail(std::string("leading dimension of ") + name + " (" + std::to_string(ld) +
                  ") is smaller than its row length " + std::to_string(cols), true);
  if (!touched || rows == 0 || cols == 0 || batch[0] == 0 || batch[1] == 0) return;
  const __int128 last = static_cast<__int128>(off) + static_cast<__int128>(batch[0] - 1) * strides[0] +
                        static_cast<__int128>(batch[1] - 1) * strides[1] + static_cast<__int128>(rows - 1) * ld +
                        (cols - 1);
  if (last >= arr.length)
    args.fail(std::string(name) + " is too small: the last element touched is at index " +
                  std::to_string(static_cast<long long>(last)) + " but its length is " + std::to_string(arr.length),
              true);
}

// Reads the 16 arguments shared by gemm and gemmBatched:
// (transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc).
Problem read_problem(const Args& args, const int64_t batch[2], const int64_t sa[2], const int64_t sb[2],
                     const int64_t sc[2]) {
  const bool trans_a = args.boolean(0, "transA");
  const bool trans_b = args.boolean(1, "transB");
  const int64_t m = args.count(2, "m");
  const int64_t n = args.count(3, "n");
  const int64_t k = args.count(4, "k");
  const double alpha = args.number(5, "alpha");
  const double beta = args.number(6, "beta");
  const F32Arg a = f32_arg(args, 7, "a");
  const int64_t a_off = args.count(8, "aOffset");
  const int64_t lda = args.count(9, "lda");
  const F32Arg b = f32_arg(args, 10, "b");
  const int64_t b_off = args.count(11, "bOffset");
  const int64_t ldb = args.count(12, "ldb");
  const F32Arg c = f32_arg(args, 13, "c");
  const int64_t c_off = args.count(14, "cOffset");
  const int64_t ldc = args.count(15, "ldc");
  const bool product = m > 0 && n > 0 && k > 0;
  check_matrix(args, "a", a, a_off, trans_a ? k : m, trans_a ? m : k, lda, batch, sa, product);
  check_matrix(args, "b", b, b_off, trans_b ? n : k, trans_b ? k : n, ldb, batch, sb, product);
  check_matrix(args, "c", c, c_off, m, n, ldc, batch, sc, true);
  Problem pr;
  pr.m = m;
  pr.n = n;
  pr.k = k;
  pr.alpha = static_cast<float>(alpha);
  pr.beta = static_cast<float>(beta);
  pr.a = a.data + a_off;
  pr.a_rs = trans_a ? 1 : lda;
  pr.a_cs = trans_a ? lda : 1;
  pr.b = b.data + b_off;
  pr.b_rs = trans_b ? 1 : ldb;
  pr.b_cs = trans_b ? ldb : 1;
  pr.c = c.data + c_off;
  pr.ldc = ldc;
  return pr;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args args(info, "gemm");
  args.expect_count(16);
  const int64_t single[2] = {1, 1};
  const int64_t zero[2] = {0, 0};
  const Problem pr = read_problem(args, single, zero, zero, zero);
  gemm_auto(current_ops(), pr);
  return info.Env().Undefined();
}

// gemm's 16 arguments, then (batchOuter, batchInner, strideAOuter, strideAInner,
// strideBOuter, strideBInner, strideCOuter, strideCInner).
Napi::Value GemmBatched(const Napi::CallbackInfo& info) {
  Args args(info, "gemmBatched");
  args.expect_count(24);
  BatchStrides bs;
  bs.outer = args.count(16, "batchOuter");
  bs.inner = args.count(17, "batchInner");
  bs.a_outer = args.count(18, "strideAOuter");
  bs.a_inner = args.count(19, "strideAInner");
  bs.b_outer = args.count(20, "strideBOuter");
  bs.b_inner = args.count(21, "strideBInner");
  bs.c_outer = args.count(22, "strideCOuter");
  bs.c_inner = args.count(23, "strideCInner");
  const int64_t batch[2] = {bs.outer, bs.inner};
  const int64_t sa[2] = {bs.a_outer, bs.a_inner};
  const int64_t sb[2] = {bs.b_outer, bs.b_inner};
  const int64_t sc[2] = {bs.c_outer, bs.c_inner};
  const Problem pr = read_problem(args, batch, sa, sb, sc);
  gemm_batched(current_ops(), pr, bs);
  return info.Env().Undefined();
}

// peakGflops(seconds) -> { gflops, threads, isa }.
Napi::Value PeakGflops(const Napi::CallbackInfo& info) {
  Args args(info, "peakGflops");
  args.expect_count(1);
  const double seconds = args.number(0, "seconds");
  if (!(seconds > 0 && seconds <= 60))
    throw Napi::RangeError::New(info.Env(), "peakGflops: seconds must be in (0, 60]");
  const IsaOps& ops = current_ops();
  const double gflops = measure_parallel_flops(ops.fma_loop, seconds) * 1e-9;
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("gflops", gflops);
  out.Set("threads", pool_threads());
  out.Set("isa", ops.name);
  return out;
}

// setGemmSharedPackLimit(floats) -> the previous limit; 0 restores the default.
// For tests: a small limit splits shared packs into several blocks.
Napi::Value SetGemmSharedPackLimit(const Napi::CallbackInfo& info) {
  Args args(info, "setGemmSharedPackLimit");
  args.expect_count(1);
  const int64_t floats = args.count(0, "floats");
  const int64_t before = shared_pack_floats;
  shared_pack_floats = floats == 0 ? kDefaultSharedPackFloats : floats;
  return Napi::Number::New(info.Env(), static_cast<double>(before));
}

// gemmConfig() -> the blocking the active instruction set uses (for tests and benches).
Napi::Value GemmConfig(const Napi::CallbackInfo& info) {
  const IsaOps& ops = current_ops();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("isa", ops.name);
  out.Set("mr", ops.mr);
  out.Set("nr", ops.nr);
  out.Set("kc", ops.kc);
  out.Set("mc", ops.mc);
  out.Set("nc", ops.nc);
  return out;
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("gemmBatched", Napi::Function::New(env, GemmBatched));
  exports.Set("attentionContext", Napi::Function::New(env, AttentionContext));
  exports.Set("peakGflops", Napi::Function::New(env, PeakGflops));
  exports.Set("gemmConfig", Napi::Function::New(env, GemmConfig));
  exports.Set("setGemmSharedPackLimit", Napi::Function::New(env, SetGemmSharedPackLimit));
}

}  // namespace electra
