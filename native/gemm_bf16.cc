// bf16 GEMM driver and N-API bindings (numerics and layouts in gemm_bf16.h).
// Per call: B is packed into 32-column panels unless the caller passes a
// pre-packed B (weights, packed once per update): one depth block at a time
// with one thread; with several, whole before the products, or (few rows
// against many columns, as in weight gradients) by each column task for its own
// panels after A is converted whole. Tasks over (row block, column block) of C
// convert their rows of A one depth block at a time and run the ISA's
// micro-tile. Every output takes the fixed depth blocks in order, so the result
// does not depend on the thread count, the split or the ISA.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cpu.h"
#include "gemm_bf16.h"
#include "lowp_blocks.h"
#include "napi_args.h"
#include "pool.h"

namespace electra {
namespace bf16 {
#include "gemm_bf16_pack.inc"
namespace {

// Portable micro-tile: the same sums in the same order as the vector kernels
// (this file is compiled with -ffp-contract=off, so no FMA contraction).
void scalar_tile(int rows, int64_t cols, int64_t kp, const uint16_t* a, int64_t a_rs, int64_t a_ts, const uint16_t* b,
                 float* c, int64_t ldc, float alpha, float beta, bool first) {
  for (int r = 0; r < rows; ++r) {
    float acc[kNR] = {};
    for (int64_t t = 0; t < kp; ++t) {
      const uint16_t* pair = a + 2 * (r * a_rs + t * a_ts);
      const float a0 = to_float(pair[0]);
      const float a1 = to_float(pair[1]);
      const uint16_t* bt = b + t * 2 * kNR;
      for (int j = 0; j < kNR; ++j) {
        acc[j] = acc[j] + a1 * to_float(bt[2 * j + 1]);
        acc[j] = acc[j] + a0 * to_float(bt[2 * j]);
      }
    }
    float* cr = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) {
      const float v = alpha * acc[j];
      cr[j] = !first ? v + cr[j] : beta == 0.0f ? v : v + beta * cr[j];
    }
  }
}

const Ops kScalarOps = {"scalar", kMR, convert_rows<float>, convert_pairs<float>, pack_panels<float>, pack_panels16, scalar_tile, lowp::scalar_fma_loop};

bool cpu_has_bf16() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

#if ELECTRA_X86_SIMD
// Products a second of a kernel's full micro-tile over one depth block, A row-major and B one
// panel slice, all in L1: the rate of the GEMM's inner loop on this core.
double tile_products_per_second(const Ops& ops, double seconds) {
  const int64_t lda = 2 * kBlockPairs;
  std::vector<uint16_t> a(static_cast<size_t>(ops.tile_rows * lda)), b(static_cast<size_t>(kBlockPairs * 2 * kNR));
  std::vector<float> c(static_cast<size_t>(ops.tile_rows * kNR));
  // Ordinary values (no denormals, no overflow), so only the instructions set the pace.
  for (size_t i = 0; i < a.size(); ++i) a[i] = from_float((i % 2 ? -1.0f : 1.0f) * (1.0f + static_cast<float>(i % 7) / 8));
  for (size_t i = 0; i < b.size(); ++i) b[i] = from_float(0.5f + static_cast<float>(i % 5) / 16);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t calls = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 8; ++i)
      ops.tile(ops.tile_rows, kNR, kBlockPairs, a.data(), lda / 2, 1, b.data(), c.data(), kNR, 1.0f, 0.0f, true);
    calls += 8;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(calls) * ops.tile_rows * kNR * kBlockPairs * 2 / elapsed;
}

// The FMA emulation's products with the VDPBF16PS kernel's conversion and packing
// (VCVTNE2PS2BF16: the same bits in several times fewer instructions than the integer rounding),
// for CPUs with avx512_bf16: GEMMs measured 2-7% faster than with avx512_emulated_ops() alone,
// most where A is converted pair-major (the weight gradient).
const Ops& avx512_emulated_with_bf16_conversion() {
  static const Ops ops = [] {
    const Ops& vdp = avx512bf16_ops();
    Ops o = avx512_emulated_ops();
    o.name = "avx512-emulated";
    o.convert = vdp.convert;
    o.convert_pairs = vdp.convert_pairs;
    o.pack_b = vdp.pack_b;
    o.pack_b16 = vdp.pack_b16;
    return o;
  }();
  return ops;
}

// VDPBF16PS or its FMA emulation, whichever does more products a second here: VDPBF16PS runs
// at twice the FMA rate on some CPUs (AMD's) and at half on others (Intel's). Both give the same
// bits, so a choice that noise gets wrong costs only speed. Three alternating rounds of 0.5 ms
// each, the best of each kernel's: a burst of other work on the core then slows both.
const Ops& faster_avx512_kernel() {
  const Ops& vdp = avx512bf16_ops();
  const Ops& emulated = avx512_emulated_with_bf16_conversion();
  double vdp_rate = 0, emulated_rate = 0;
  for (int round = 0; round < 3; ++round) {
    vdp_rate = std::max(vdp_rate, tile_products_per_second(vdp, 0.0005));
    emulated_rate = std::max(emulated_rate, tile_products_per_second(emulated, 0.0005));
  }
  return emulated_rate > vdp_rate ? emulated : vdp;
}
#endif

// The AVX-512 bf16 kernel: measured once (auto), or named by
// ELECTRA_BF16_KERNEL=vdpbf16ps|emulated|emulated-avx512f or setBf16Kernel (tests, benchmarks).
// emulated-avx512f: no AVX512_BF16 instruction at all, as on AVX-512 CPUs without avx512_bf16.
enum class Avx512Kernel { Auto, Vdpbf16ps, Emulated, EmulatedAvx512f };

bool parse_avx512_kernel(const char* name, Avx512Kernel* out) {
  if (std::strcmp(name, "auto") == 0) *out = Avx512Kernel::Auto;
  else if (std::strcmp(name, "vdpbf16ps") == 0) *out = Avx512Kernel::Vdpbf16ps;
  else if (std::strcmp(name, "emulated") == 0) *out = Avx512Kernel::Emulated;
  else if (std::strcmp(name, "emulated-avx512f") == 0) *out = Avx512Kernel::EmulatedAvx512f;
  else return false;
  return true;
}

Avx512Kernel& avx512_kernel_setting() {
  static Avx512Kernel setting = [] {
    Avx512Kernel wanted = Avx512Kernel::Auto;
    if (const char* env = std::getenv("ELECTRA_BF16_KERNEL")) parse_avx512_kernel(env, &wanted);
    return wanted;
  }();
  return setting;
}

// When AVX-512 is active: VDPBF16PS or the AVX-512 FMA emulation per the setting (only the
// emulation, on AVX-512F alone, without avx512_bf16). The AVX2 FMA emulation on AVX2 CPUs (and
// under ELECTRA_ISA=avx2, which tests use to reach it).
const Ops& current_ops() {
#if ELECTRA_X86_SIMD
  static const bool has_bf16 = cpu_has_bf16();
  switch (active_isa()) {
    case Isa::Avx512:
      if (!has_bf16) return avx512_emulated_ops();
      switch (avx512_kernel_setting()) {
        case Avx512Kernel::Vdpbf16ps: return avx512bf16_ops();
        case Avx512Kernel::Emulated: return avx512_emulated_with_bf16_conversion();
        case Avx512Kernel::EmulatedAvx512f: return avx512_emulated_ops();
        default: {
          static const Ops& faster = faster_avx512_kernel();
          return faster;
        }
      }
    case Isa::Avx2: return avx2_ops();
    default: return kScalarOps;
  }
#else
  return kScalarOps;
#endif
}

thread_local lowp::Buffer<uint16_t> tl_a_block;  // a task's rows of A over one depth block
thread_local lowp::Buffer<uint16_t> tl_b_block;  // an unpacked B, whole or one depth block (per thread: batched products run in tasks)
thread_local lowp::Buffer<uint16_t> tl_a_whole;  // A converted whole (several threads, B unpacked, few rows)

using lowp::ceil_div;

struct Problem {
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  const uint16_t* a16;  // A already in bf16 (then a is null), same strides
  int64_t a_rs, a_cs;  // op(A)(i, p) = a[i * a_rs + p * a_cs]
  float* c;
  int64_t ldc;
};

// op(B)(p, j) = data[p * ps + j * js] (fp32, or data16: already bf16), or already in the panel layout (packed).
struct BSource {
  const uint16_t* packed;
  const float* data;
  int64_t ps, js;
  const uint16_t* data16 = nullptr;
  BSource offset(int64_t elements) const {
    BSource b = *this;
    if (b.data) b.data += elements;
    if (b.data16) b.data16 += elements;
    return b;
  }
};

// Source data the next conversion or packing will read, prefetched a few lines at a time between
// micro-tiles (the products hide the memory latency that would otherwise stall the conversion):
// `segments` runs of `bytes` bytes, `stride` bytes apart.
struct Prefetch {
  const char* base = nullptr;
  int64_t stride = 0, segments = 0, lines = 0;
  int64_t segment = 0, line = 0;
  Prefetch() = default;
  Prefetch(const void* at, int64_t stride_bytes, int64_t count, int64_t bytes)
      : base(static_cast<const char*>(at)), stride(stride_bytes), segments(bytes > 0 ? count : 0), lines(ceil_div(bytes, 64)) {}
  int64_t total() const { return segments * lines; }
  void step(int64_t count) {
    for (; count > 0 && segment < segments; --count) {
      __builtin_prefetch(base + segment * stride + line * 64, 0, 3);
      if (++line == lines) line = 0, ++segment;
    }
  }
};

// B's depth rows [d0, d0 + depth) of panels [q0, q1) as a Prefetch.
Prefetch b_source(const BSource& b, int64_t n, int64_t d0, int64_t depth, int64_t q0, int64_t q1) {
  if (depth <= 0) return Prefetch();
  const int64_t size = b.data16 ? 2 : 4, j0 = q0 * kNR, cols = std::min(n - j0, (q1 - q0) * kNR);
  const char* at = b.data16 ? reinterpret_cast<const char*>(b.data16) : reinterpret_cast<const char*>(b.data);
  at += (d0 * b.ps + j0 * b.js) * size;
  if (b.js == 1) return Prefetch(at, b.ps * size, depth, cols * size);  // rows of B contiguous
  if (b.ps == 1) return Prefetch(at, b.js * size, cols, depth * size);  // columns contiguous
  return Prefetch();
}

// B's depth rows [0, k) from b into panels.
void pack_b_all(const Ops& ops, const BSource& b, int64_t k, int64_t n, uint16_t* dst) {
  const int64_t panels = ceil_div(n, kNR);
  const int64_t tasks = std::min<int64_t>(panels, 4 * pool_threads());
  parallel_for(tasks, [&](int64_t t) {
    const int64_t q0 = t * panels / tasks, q1 = (t + 1) * panels / tasks;
    if (b.data16) ops.pack_b16(b.data16, b.ps, b.js, k, n, q0, q1, dst);
    else ops.pack_b(b.data, b.ps, b.js, k, n, q0, q1, dst);
  });
}

int64_t packed_length(int64_t k, int64_t n) { return ceil_div(n, kNR) * ((k + 1) / 2) * 2 * kNR; }

// Panels [q0, q1) of B's depth rows [d0, d0 + depth) into dst (panel q0 first).
void pack_b_part(const Ops& ops, const BSource& b, int64_t n, int64_t d0, int64_t depth, int64_t q0, int64_t q1, uint16_t* dst) {
  const BSource part = b.offset(d0 * b.ps + q0 * kNR * b.js);
  const int64_t cols = std::min(n - q0 * kNR, (q1 - q0) * kNR);
  if (b.data16) ops.pack_b16(part.data16, b.ps, b.js, depth, cols, 0, q1 - q0, dst);
  else ops.pack_b(part.data, b.ps, b.js, depth, cols, 0, q1 - q0, dst);
}

// threads: what the task split plans for (0 inside a task of a batch: one task per block).
void run(const Ops& ops, const Problem& pr, BSource b, int threads) {
  if (pr.m == 0 || pr.n == 0) return;
  if (pr.k == 0) {
    for (int64_t i = 0; i < pr.m; ++i)
      for (int64_t j = 0; j < pr.n; ++j) {
        float& cij = pr.c[i * pr.ldc + j];
        cij = pr.beta == 0.0f ? 0.0f : pr.beta * cij;
      }
    return;
  }
  const int64_t kp = (pr.k + 1) / 2;
  const int64_t depth_blocks = ceil_div(kp, kBlockPairs);
  // A is converted one depth block at a time (the block's scratch stays small whatever k is):
  // row-major when rows of op(A) are contiguous, else pair-major with mc rows per depth pair.
  const bool row_major = pr.a_cs == 1;
  const int64_t lda = 2 * kBlockPairs;  // 512-byte rows: a tile's rows spread over the L1 sets
  const int64_t a_rs = row_major ? lda / 2 : 1;
  const int64_t panels = ceil_div(pr.n, kNR);
  // Several threads with B not packed: one column task a thread, over all rows (see below), when
  // A's re-reads there cost less than packed B's over the row blocks of the usual split (one
  // task a thread re-reads A least; more tasks measured slower for ELECTRA-Small's dW).
  const int64_t mr = ops.tile_rows;
  int64_t mc, np;
  lowp::task_blocks(pr.m, panels, threads, mr, &mc, &np);
  const int64_t col_tasks = std::min<int64_t>(panels, threads);
  const bool column_split = !b.packed && threads > 1 && pr.m * col_tasks < pr.n * ceil_div(pr.m, mc);
  if (column_split) mc = 8 * mr;
  const int64_t a_ts = row_major ? 1 : mc;
  // Rows [i0, i1) of A over the depth block from pair t0 into abf (mc * lda elements).
  auto convert_a = [&](int64_t i0, int64_t i1, int64_t t0, uint16_t* abf) {
    const int64_t depth = std::min(2 * kBlockPairs, pr.k - 2 * t0);
    const int64_t at = i0 * pr.a_rs + 2 * t0 * pr.a_cs;
    if (pr.a16) {
      if (row_major) convert_rows(pr.a16 + at, pr.a_rs, pr.a_cs, i1 - i0, depth, abf, lda);
      else convert_pairs(pr.a16 + at, pr.a_rs, pr.a_cs, i1 - i0, depth, abf, mc);
    } else if (row_major) {
      ops.convert(pr.a + at, pr.a_rs, pr.a_cs, i1 - i0, depth, abf, lda);
    } else {
      ops.convert_pairs(pr.a + at, pr.a_rs, pr.a_cs, i1 - i0, depth, abf, mc);
    }
  };
  // The products of rows [i0, i1) (converted in abf) and panels [q0, q1) over the depth block
  // from pair t0; bblk holds the block of panel qb onwards, panel_pairs depth pairs each.
  // `ahead` (prefetch_lines a micro-tile) is the source of the next conversion or packing.
  auto products = [&](int64_t i0, int64_t i1, int64_t q0, int64_t q1, int64_t t0, const uint16_t* abf, const uint16_t* bblk,
                      int64_t qb, int64_t panel_pairs, Prefetch& ahead, int64_t prefetch_lines) {
    const int64_t pairs = std::min(kBlockPairs, kp - t0);
    for (int64_t q = q0; q < q1; ++q) {
      const uint16_t* bq = bblk + (q - qb) * panel_pairs * 2 * kNR;
      const int64_t cols = std::min<int64_t>(kNR, pr.n - q * kNR);
      for (int64_t i = i0; i < i1; i += mr) {
        ahead.step(prefetch_lines);
        ops.tile(static_cast<int>(std::min(mr, i1 - i)), cols, pairs, abf + 2 * (i - i0) * a_rs, a_rs, a_ts, bq,
                 pr.c + i * pr.ldc + q * kNR, pr.ldc, pr.alpha, pr.beta, t0 == 0);
      }
    }
  };
  const int64_t row_blocks = ceil_div(pr.m, mc);
  const int64_t a_block = mc * lda;
  if (!b.packed && threads > 1) {
    // Several threads, B not packed: each of B and A is re-read by every task of the other's
    // split. Column split: A converted whole first, then each task packs its own panels one depth
    // block at a time, in its own thread, just before their products (still in cache), while the
    // next block's source is prefetched.
    if (column_split) {
      uint16_t* whole_a = tl_a_whole.get(depth_blocks * row_blocks * a_block);
      parallel_for(depth_blocks * row_blocks, [&](int64_t x) {
        const int64_t g = x % row_blocks, i0 = g * mc;
        convert_a(i0, std::min(pr.m, i0 + mc), (x / row_blocks) * kBlockPairs, whole_a + x * a_block);
      });
      parallel_for(col_tasks, [&](int64_t task) {
        const int64_t q0 = task * panels / col_tasks, q1 = (task + 1) * panels / col_tasks;
        uint16_t* bblock = tl_b_block.get((q1 - q0) * kBlockPairs * 2 * kNR);
        for (int64_t d = 0; d < depth_blocks; ++d) {
          const int64_t t0 = d * kBlockPairs, depth = std::min(2 * kBlockPairs, pr.k - 2 * t0);
          pack_b_part(ops, b, pr.n, 2 * t0, depth, q0, q1, bblock);
          const int64_t next = 2 * t0 + depth;
          Prefetch ahead = b_source(b, pr.n, next, std::min(2 * kBlockPairs, pr.k - next), q0, q1);
          const int64_t lines = ceil_div(ahead.total(), ceil_div(pr.m, mr) * (q1 - q0));
          for (int64_t g = 0; g < row_blocks; ++g)
            products(g * mc, std::min(pr.m, (g + 1) * mc), q0, q1, t0, whole_a + (d * row_blocks + g) * a_block, bblock, q0,
                     (depth + 1) / 2, ahead, lines);
        }
      });
      return;
    }
    // Else B packed whole first, then one barrier for all the products (block by block costs
    // two barriers a depth block, and on a shared machine a thread the OS pauses holds up each one).
    uint16_t* whole = tl_b_block.get(packed_length(pr.k, pr.n));
    pack_b_all(ops, b, pr.k, pr.n, whole);
    b.packed = whole;
  }
  const int64_t col_blocks = ceil_div(panels, np);
  const int64_t tasks = row_blocks * col_blocks;
  // Task `task`'s rows of A over the depth block from pair t0, against B's block.
  auto block = [&](int64_t task, int64_t t0, const uint16_t* bblk, int64_t panel_pairs) {
    const int64_t i0 = (task / col_blocks) * mc, i1 = std::min(pr.m, i0 + mc);
    const int64_t q0 = (task % col_blocks) * np, q1 = std::min(panels, q0 + np);
    uint16_t* abf = tl_a_block.get(a_block);
    if (!row_major || pr.a16) {
      Prefetch none;
      convert_a(i0, i1, t0, abf);
      products(i0, i1, q0, q1, t0, abf, bblk, 0, panel_pairs, none, 0);
      return;
    }
    // Row-major fp32 A: each micro-tile's rows converted just before their products, while the
    // next micro-tile's source rows (the next depth block's first after the last) are prefetched
    // across those products (A, read once, would otherwise stall the conversion on memory).
    const int64_t depth = std::min(2 * kBlockPairs, pr.k - 2 * t0);
    const int64_t next_depth = std::min(2 * kBlockPairs, pr.k - 2 * t0 - depth);
    for (int64_t i = i0; i < i1; i += mr) {
      const int64_t rows = std::min(mr, i1 - i);
      uint16_t* at = abf + (i - i0) * lda;
      convert_a(i, i + rows, t0, at);
      const bool last = i + mr >= i1;
      Prefetch ahead = last ? Prefetch(pr.a + i0 * pr.a_rs + 2 * t0 + depth, pr.a_rs * 4, std::min(mr, i1 - i0), next_depth * 4)
                            : Prefetch(pr.a + (i + mr) * pr.a_rs + 2 * t0, pr.a_rs * 4, std::min(mr, i1 - i - mr), depth * 4);
      const int64_t lines = ceil_div(ahead.total(), q1 - q0);
      for (int64_t q = q0; q < q1; ++q) {
        ahead.step(lines);
        ops.tile(static_cast<int>(rows), std::min<int64_t>(kNR, pr.n - q * kNR), std::min(kBlockPairs, kp - t0), at, a_rs, a_ts,
                 bblk + q * panel_pairs * 2 * kNR, pr.c + i * pr.ldc + q * kNR, pr.ldc, pr.alpha, pr.beta, t0 == 0);
      }
    }
  };
  if (b.packed) {
    parallel_for(tasks, [&](int64_t task) {
      for (int64_t t0 = 0; t0 < kp; t0 += kBlockPairs) block(task, t0, b.packed + t0 * 2 * kNR, kp);
    });
    return;
  }
  // One thread (or a task of a batch): B packed one depth block at a time, just before its
  // products, so the block (256 rows of B) is still in cache and the buffer stays small.
  uint16_t* bblock = tl_b_block.get(panels * kBlockPairs * 2 * kNR);
  for (int64_t t0 = 0; t0 < kp; t0 += kBlockPairs) {
    const int64_t depth = std::min(2 * kBlockPairs, pr.k - 2 * t0);
    pack_b_all(ops, b.offset(2 * t0 * b.ps), depth, pr.n, bblock);
    parallel_for(tasks, [&](int64_t task) { block(task, t0, bblock, (depth + 1) / 2); });
  }
}

// ---------------------------------------------------------------------------
// N-API bindings. The TypeScript wrapper validates with friendlier messages;
// these checks repeat the bounds so no call can touch memory outside its arrays.


Problem read_a_c(const Args& r, size_t at, bool trans_a, int64_t m, int64_t n, int64_t k, size_t c_at) {
  Problem pr;
  pr.m = m;
  pr.n = n;
  pr.k = k;
  pr.alpha = static_cast<float>(r.number(at, "alpha"));
  pr.beta = static_cast<float>(r.number(at + 1, "beta"));
  // A is a Float32Array, or a Uint16Array of bf16 values (used as they are).
  const bool a_bf16 = r.is_u16(at + 2);
  const int64_t a_len = a_bf16 ? r.u16(at + 2, "a").length : r.floats(at + 2, "a").length;
  const int64_t a_off = r.count(at + 3, "aOffset");
  const int64_t lda = r.count(at + 4, "lda");
  const auto c = r.floats(c_at, "c");
  const int64_t c_off = r.count(c_at + 1, "cOffset");
  const int64_t ldc = r.count(c_at + 2, "ldc");
  const bool product = m > 0 && n > 0 && k > 0;
  r.check_matrix("a", a_len, a_off, trans_a ? k : m, trans_a ? m : k, lda, product);
  r.check_matrix("c", c.length, c_off, m, n, ldc, true);
  pr.a = a_bf16 ? nullptr : r.floats(at + 2, "a").data + a_off;
  pr.a16 = a_bf16 ? r.u16(at + 2, "a").data + a_off : nullptr;
  pr.a_rs = trans_a ? 1 : lda;
  pr.a_cs = trans_a ? lda : 1;
  pr.c = c.data + c_off;
  pr.ldc = ldc;
  return pr;
}

// The arguments gemmBf16 and gemmBatchedBf16 share (transA ... ldc), A and C checked for one product.
struct PlainCall {
  bool trans_b;
  int64_t m, n, k;
  Problem pr;
  const float* b;
  const uint16_t* b16;  // B already in bf16
  int64_t b_len, b_off, ldb;
  BSource b_at(int64_t offset) const {
    const int64_t at = b_off + offset;
    return BSource{nullptr, b ? b + at : nullptr, trans_b ? 1 : ldb, trans_b ? ldb : 1, b16 ? b16 + at : nullptr};
  }
};

PlainCall read_plain(const Args& r) {
  PlainCall call;
  const bool trans_a = r.boolean(0, "transA");
  call.trans_b = r.boolean(1, "transB");
  call.m = r.count(2, "m");
  call.n = r.count(3, "n");
  call.k = r.count(4, "k");
  call.pr = read_a_c(r, 5, trans_a, call.m, call.n, call.k, 13);
  const bool b_bf16 = r.is_u16(10);
  call.b = b_bf16 ? nullptr : r.floats(10, "b").data;
  call.b16 = b_bf16 ? r.u16(10, "b").data : nullptr;
  call.b_len = r.length(10);
  call.b_off = r.count(11, "bOffset");
  call.ldb = r.count(12, "ldb");
  return call;
}

// gemmBf16(transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  Args r(info, "gemmBf16");
  r.expect_count(16);
  const PlainCall call = read_plain(r);
  const int64_t m = call.m, n = call.n, k = call.k;
  r.check_matrix("b", call.b_len, call.b_off, call.trans_b ? n : k, call.trans_b ? k : n, call.ldb, m > 0 && n > 0 && k > 0);
  run(current_ops(), call.pr, call.b_at(0), pool_threads());
  return info.Env().Undefined();
}

// gemmBatchedBf16(transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc,
//   batchOuter, batchInner, strideAOuter, strideAInner, strideBOuter, strideBInner, strideCOuter, strideCInner):
// gemmBf16 on every (outer, inner) product, each product one task (its own conversions and packing);
// A and B may be bf16 values, as for gemmBf16.
Napi::Value GemmBatchedBf16(const Napi::CallbackInfo& info) {
  Args r(info, "gemmBatchedBf16");
  r.expect_count(24);
  const PlainCall call = read_plain(r);
  const bool trans_a = r.boolean(0, "transA");
  const int64_t m = call.m, n = call.n, k = call.k;
  const int64_t outer = r.count(16, "batchOuter"), inner = r.count(17, "batchInner");
  const int64_t sa[2] = {r.count(18, "strideAOuter"), r.count(19, "strideAInner")};
  const int64_t sb[2] = {r.count(20, "strideBOuter"), r.count(21, "strideBInner")};
  const int64_t sc[2] = {r.count(22, "strideCOuter"), r.count(23, "strideCInner")};
  if (outer == 0 || inner == 0) return info.Env().Undefined();
  // Strides are counts, so the last product lies furthest into each array: its bounds cover all.
  auto last = [&](const int64_t s[2], const char* what) {
    const int64_t o = r.product(outer - 1, s[0], what), i = r.product(inner - 1, s[1], what);
    if (o > kMaxSafeInteger - i) r.fail(std::string(what) + " is too large", true);
    return o + i;
  };
  const int64_t da = last(sa, "the A batch offset"), db = last(sb, "the B batch offset"), dc = last(sc, "the C batch offset");
  const bool product = m > 0 && n > 0 && k > 0;
  r.check_matrix("a", r.length(7) - da, r.count(8, "aOffset"), trans_a ? k : m, trans_a ? m : k, r.count(9, "lda"), product);
  r.check_matrix("b", call.b_len - db, call.b_off, call.trans_b ? n : k, call.trans_b ? k : n, call.ldb, product);
  r.check_matrix("c", r.length(13) - dc, r.count(14, "cOffset"), m, n, r.count(15, "ldc"), true);
  const Ops& ops = current_ops();
  parallel_for(outer * inner, [&](int64_t item) {
    const int64_t io = item / inner, ii = item % inner;
    Problem pr = call.pr;
    if (pr.a16) pr.a16 += io * sa[0] + ii * sa[1];
    else pr.a += io * sa[0] + ii * sa[1];
    pr.c += io * sc[0] + ii * sc[1];
    run(ops, pr, call.b_at(io * sb[0] + ii * sb[1]), 0);
  });
  return info.Env().Undefined();
}

// bf16PackB(transB, k, n, b, bOffset, ldb, out, outOffset): op(B) (k x n) into the panel layout.
Napi::Value Bf16PackB(const Napi::CallbackInfo& info) {
  Args r(info, "bf16PackB");
  r.expect_count(8);
  const bool trans_b = r.boolean(0, "transB");
  const int64_t k = r.count(1, "k"), n = r.count(2, "n");
  const auto b = r.floats(3, "b");
  const int64_t b_off = r.count(4, "bOffset");
  const int64_t ldb = r.count(5, "ldb");
  const auto out = r.u16(6, "out");
  const int64_t out_off = r.count(7, "outOffset");
  r.check_matrix("b", b.length, b_off, trans_b ? n : k, trans_b ? k : n, ldb, k > 0 && n > 0);
  r.check_span("out", out.length, out_off, packed_length(k, n));
  if (k > 0 && n > 0) pack_b_all(current_ops(), BSource{nullptr, b.data + b_off, trans_b ? 1 : ldb, trans_b ? ldb : 1}, k, n, out.data + out_off);
  return info.Env().Undefined();
}

// gemmBf16Packed(transA, m, n, k, alpha, beta, a, aOffset, lda, packed, packedOffset, c, cOffset, ldc)
Napi::Value GemmBf16Packed(const Napi::CallbackInfo& info) {
  Args r(info, "gemmBf16Packed");
  r.expect_count(14);
  const bool trans_a = r.boolean(0, "transA");
  const int64_t m = r.count(1, "m"), n = r.count(2, "n"), k = r.count(3, "k");
  const Problem pr = read_a_c(r, 4, trans_a, m, n, k, 11);
  const auto packed = r.u16(9, "packed");
  const int64_t p_off = r.count(10, "packedOffset");
  r.check_span("packed", packed.length, p_off, packed_length(k, n));
  run(current_ops(), pr, BSource{packed.data + p_off, nullptr, 0, 0}, pool_threads());
  return info.Env().Undefined();
}

// bf16Round(x, xOffset, out, outOffset, n): out[i] = x[i] rounded to bf16 (the GEMMs' rounding), so
// an activation that only feeds GEMMs can be kept in half the memory.
Napi::Value Bf16Round(const Napi::CallbackInfo& info) {
  Args r(info, "bf16Round");
  r.expect_count(5);
  const auto x = r.floats(0, "x");
  const int64_t x_off = r.count(1, "xOffset");
  const auto out = r.u16(2, "out");
  const int64_t out_off = r.count(3, "outOffset");
  const int64_t n = r.count(4, "n");
  r.check_span("x", x.length, x_off, n);
  r.check_span("out", out.length, out_off, n);
  const Ops& ops = current_ops();
  constexpr int64_t kChunk = 1 << 14;  // even, so only the last chunk can end on an odd count
  const float* src = x.data + x_off;
  uint16_t* dst = out.data + out_off;
  parallel_for(ceil_div(n, kChunk), [&](int64_t c) {
    const int64_t p = c * kChunk, len = std::min(kChunk, n - p), even = len & ~int64_t{1};
    if (even > 0) ops.convert(src + p, even, 1, 1, even, dst + p, even);
    if (len > even) dst[p + even] = from_float(src[p + even]);
  });
  return info.Env().Undefined();
}

// bf16PeakGflops(seconds) -> { gflops, threads, isa }: the dot-product loop on every thread.
Napi::Value Bf16PeakGflops(const Napi::CallbackInfo& info) {
  Args r(info, "bf16PeakGflops");
  r.expect_count(1);
  const double seconds = r.number(0, "seconds");
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(info.Env(), "bf16PeakGflops: seconds must be in (0, 60]");
  const Ops& ops = current_ops();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("gflops", measure_parallel_flops(ops.dot_loop, seconds) * 1e-9);
  out.Set("threads", pool_threads());
  out.Set("isa", ops.name);
  return out;
}

Napi::Value Bf16Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), current_ops().name); }

// setBf16Kernel("auto" | "vdpbf16ps" | "emulated" | "emulated-avx512f") -> the bf16 kernel that
// runs now (bf16Isa()): which kernel AVX-512 uses, as ELECTRA_BF16_KERNEL sets it at start.
Napi::Value SetBf16Kernel(const Napi::CallbackInfo& info) {
  Args r(info, "setBf16Kernel");
  r.expect_count(1);
  if (!info[0].IsString())
    throw Napi::TypeError::New(info.Env(), "setBf16Kernel: expected 'auto', 'vdpbf16ps', 'emulated' or 'emulated-avx512f'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  Avx512Kernel kernel;
  if (!parse_avx512_kernel(name.c_str(), &kernel))
    throw Napi::Error::New(info.Env(), "setBf16Kernel: unknown kernel '" + name + "' (expected auto, vdpbf16ps, emulated or emulated-avx512f)");
  if (kernel == Avx512Kernel::Vdpbf16ps && !(detected_isa() == Isa::Avx512 && cpu_has_bf16()))
    throw Napi::Error::New(info.Env(), "setBf16Kernel: this CPU does not support VDPBF16PS (avx512_bf16)");
  if ((kernel == Avx512Kernel::Emulated || kernel == Avx512Kernel::EmulatedAvx512f) && detected_isa() != Isa::Avx512)
    throw Napi::Error::New(info.Env(), "setBf16Kernel: the emulated kernel needs AVX-512");
  avx512_kernel_setting() = kernel;
  return Napi::String::New(info.Env(), current_ops().name);
}

const char* avx512_kernel_name(Avx512Kernel kernel) {
  switch (kernel) {
    case Avx512Kernel::Vdpbf16ps: return "vdpbf16ps";
    case Avx512Kernel::Emulated: return "emulated";
    case Avx512Kernel::EmulatedAvx512f: return "emulated-avx512f";
    default: return "auto";
  }
}

// bf16KernelSetting() -> what setBf16Kernel (or ELECTRA_BF16_KERNEL) last set, so a caller can restore it.
Napi::Value Bf16KernelSetting(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), avx512_kernel_name(avx512_kernel_setting()));
}

}  // namespace
}  // namespace bf16

void RegisterGemmBf16(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmBf16", Napi::Function::New(env, bf16::GemmBf16));
  exports.Set("bf16PackB", Napi::Function::New(env, bf16::Bf16PackB));
  exports.Set("gemmBf16Packed", Napi::Function::New(env, bf16::GemmBf16Packed));
  exports.Set("gemmBatchedBf16", Napi::Function::New(env, bf16::GemmBatchedBf16));
  exports.Set("bf16Round", Napi::Function::New(env, bf16::Bf16Round));
  exports.Set("bf16PeakGflops", Napi::Function::New(env, bf16::Bf16PeakGflops));
  exports.Set("bf16Isa", Napi::Function::New(env, bf16::Bf16Isa));
  exports.Set("setBf16Kernel", Napi::Function::New(env, bf16::SetBf16Kernel));
  exports.Set("bf16KernelSetting", Napi::Function::New(env, bf16::Bf16KernelSetting));
}

}  // namespace electra
