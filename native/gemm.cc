// Blocked, multi-threaded single-precision GEMM (C = alpha op(A) op(B) + beta C,
// row-major) and its N-API bindings. Loop structure after Goto/BLIS: a KC x NC
// block of op(B) is packed once and shared by the threads; each task packs an
// MC x KC block of op(A) and runs the ISA's macro-kernel over it. The ISA
// pieces (gemm_avx512.cc, gemm_avx2.cc, or the portable ones below) are picked
// per call from electra::active_isa().
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cpu.h"
#include "gemm_ops.h"
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
                  int64_t ldc, float alpha, float beta) {
  for (int64_t jr = 0; jr < nc; jr += kScalarNR) {
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

double scalar_fma_loop(int64_t iterations) {
  constexpr int kChains = 8;
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999f + 0.001f;
  float sum = 0;
  for (float v : acc) sum += v;
  volatile float sink = sum;
  (void)sink;
  return static_cast<double>(iterations) * kChains * 2;
}

const IsaOps kScalarOps = {
    "scalar", kScalarMR, kScalarNR, /*kc=*/256, /*mc=*/128, /*nc=*/2048,
    scalar_pack<kScalarMR>, scalar_pack<kScalarNR>, scalar_macro, scalar_fma_loop,
};

const IsaOps& current_ops() {
  switch (active_isa()) {
    case Isa::Avx512: return gemm::avx512_ops();
    case Isa::Avx2: return gemm::avx2_ops();
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
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(data_); }

  float* get(int64_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) & ~static_cast<size_t>(63);
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

thread_local Scratch tl_apack;
thread_local Scratch tl_bpack;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into the fewest near-equal blocks of at most `limit`.
int64_t even_block(int64_t total, int64_t limit) { return ceil_div(total, ceil_div(total, limit)); }

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
      ops.pack_b(pr.b + pc * pr.b_rs + jc * pr.b_cs, pr.b_cs, pr.b_rs, nc, kc, bpack);
      for (int64_t ic = 0; ic < pr.m; ic += mc_block) {
        const int64_t mc = std::min(mc_block, pr.m - ic);
        ops.pack_a(pr.a + ic * pr.a_rs + pc * pr.a_cs, pr.a_rs, pr.a_cs, mc, kc, apack);
        ops.macro(mc, nc, kc, apack, bpack, pr.c + ic * pr.ldc + jc, pr.ldc, pr.alpha, beta);
      }
    }
  }
}

// Tasks per thread a parallel phase aims for, so that dynamic claiming can
// even out threads slowed by other work on the machine.
constexpr int64_t kTasksPerThread = 4;

// The product spread over the pool. Per (column block, depth block): the B
// block is packed by all threads into one shared buffer, then tasks compute
// row blocks. With many row blocks each task packs its own A block (kept in
// L2); with few, A is packed once into a shared buffer too and the tasks split
// the columns as well, so no thread packs the same data twice.
void gemm_parallel(const IsaOps& ops, const Problem& pr, int threads) {
  if (pr.m == 0 || pr.n == 0) return;
  if (pr.k == 0) return scale_c(pr);
  const int64_t mr = ops.mr;
  const int64_t nr = ops.nr;
  const int64_t kc_block = even_block(pr.k, ops.kc);
  const int64_t nc_block = round_up(even_block(pr.n, ops.nc), nr);
  const int64_t min_tasks = kTasksPerThread * threads;

  // Row blocks: near-equal runs of whole MR panels, at most ops.mc rows.
  const int64_t row_panels = ceil_div(pr.m, mr);
  const int64_t row_blocks = ceil_div(row_panels, std::max<int64_t>(1, ops.mc / mr));
  const bool shared_a = row_blocks < min_tasks;
  const int64_t max_block_rows = ceil_div(row_panels, row_blocks) * mr;

  float* bpack = tl_bpack.get(nc_block * kc_block);
  float* shared_apack = shared_a ? tl_apack.get(row_panels * mr * kc_block) : nullptr;
  const int64_t a_pack_tasks = shared_a ? std::min(row_panels, min_tasks) : 0;

  for (int64_t jc = 0; jc < pr.n; jc += nc_block) {
    const int64_t nc = std::min(nc_block, pr.n - jc);
    const int64_t col_panels = ceil_div(nc, nr);
    const int64_t col_splits = shared_a ? std::min(col_panels, ceil_div(min_tasks, row_blocks)) : 1;
    const int64_t b_pack_tasks = std::min(col_panels, min_tasks);
    for (int64_t pc = 0; pc < pr.k; pc += kc_block) {
      const int64_t kc = std::min(kc_block, pr.k - pc);
      const float beta = pc == 0 ? pr.beta : 1.0f;
      const float* asrc = pr.a + pc * pr.a_cs;
      const float* bsrc = pr.b + pc * pr.b_rs + jc * pr.b_cs;
      // Pack tasks write disjoint whole panels (PackFn writes nothing past its panels).
      parallel_for(b_pack_tasks + a_pack_tasks, [&](int64_t t) {
        if (t < b_pack_tasks) {
          const int64_t j0 = (t * col_panels / b_pack_tasks) * nr;
          const int64_t j1 = std::min(nc, ((t + 1) * col_panels / b_pack_tasks) * nr);
          if (j1 > j0) ops.pack_b(bsrc + j0 * pr.b_cs, pr.b_cs, pr.b_rs, j1 - j0, kc, bpack + j0 * kc);
        } else {
          t -= b_pack_tasks;
          const int64_t i0 = (t * row_panels / a_pack_tasks) * mr;
          const int64_t i1 = std::min(pr.m, ((t + 1) * row_panels / a_pack_tasks) * mr);
          if (i1 > i0) ops.pack_a(asrc + i0 * pr.a_rs, pr.a_rs, pr.a_cs, i1 - i0, kc, shared_apack + i0 * kc);
        }
      });
      parallel_for(row_blocks * col_splits, [&](int64_t t) {
        const int64_t rb = t / col_splits;
        const int64_t cb = t % col_splits;
        const int64_t i0 = (rb * row_panels / row_blocks) * mr;
        const int64_t i1 = std::min(pr.m, ((rb + 1) * row_panels / row_blocks) * mr);
        const int64_t j0 = (cb * col_panels / col_splits) * nr;
        const int64_t j1 = std::min(nc, ((cb + 1) * col_panels / col_splits) * nr);
        if (i1 <= i0 || j1 <= j0) return;
        const float* apack = shared_apack + i0 * kc;
        if (!shared_a) {
          float* own = tl_apack.get(max_block_rows * kc_block);
          ops.pack_a(asrc + i0 * pr.a_rs, pr.a_rs, pr.a_cs, i1 - i0, kc, own);
          apack = own;
        }
        ops.macro(i1 - i0, j1 - j0, kc, apack, bpack + j0 * kc, pr.c + i0 * pr.ldc + jc + j0, pr.ldc, pr.alpha,
                  beta);
      });
    }
  }
}

// Below this many multiply-adds, waking the pool costs more than it saves.
constexpr int64_t kParallelMinMacs = int64_t{1} << 18;

void gemm_auto(const IsaOps& ops, const Problem& pr) {
  const int threads = pool_threads();
  if (threads > 1 && pr.m * pr.n * pr.k >= kParallelMinMacs) gemm_parallel(ops, pr, threads);
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

// ---------------------------------------------------------------------------
// Peak: every pool thread runs the ISA's FMA loop for `seconds`.

double measure_peak_gflops(const IsaOps& ops, double seconds) {
  const int threads = pool_threads();
  std::vector<double> rate(static_cast<size_t>(threads), 0.0);
  std::atomic<int> arrived{0};
  // One task per thread: each waits for all to arrive (a thread inside a task
  // cannot claim another), so the loops overlap in time.
  parallel_for(threads, [&](int64_t t) {
    arrived.fetch_add(1);
    while (arrived.load() < threads) std::this_thread::yield();
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    double flops = 0;
    double elapsed = 0;
    do {
      flops += ops.fma_loop(int64_t{1} << 16);
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds);
    rate[static_cast<size_t>(t)] = flops / elapsed;
  });
  double total = 0;
  for (double r : rate) total += r;
  return total * 1e-9;
}

// ---------------------------------------------------------------------------
// N-API bindings. The TypeScript wrapper validates with friendlier messages;
// these checks repeat the bounds so no call can touch memory outside its arrays.

constexpr double kMaxSafeInteger = 9007199254740991.0;

struct F32Arg {
  float* data;
  int64_t length;
};

class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info), env_(info.Env()) {}

  Napi::Env env() const { return env_; }

  void expect_count(size_t n, const char* fn) const {
    if (info_.Length() < n)
      throw Napi::TypeError::New(env_, std::string(fn) + ": expected " + std::to_string(n) + " arguments, got " +
                                           std::to_string(info_.Length()));
  }

  bool boolean(size_t i, const char* name) const {
    if (!info_[i].IsBoolean()) throw Napi::TypeError::New(env_, std::string(name) + " must be a boolean");
    return info_[i].As<Napi::Boolean>().Value();
  }

  double number(size_t i, const char* name) const {
    if (!info_[i].IsNumber()) throw Napi::TypeError::New(env_, std::string(name) + " must be a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  // A non-negative integer no larger than Number.MAX_SAFE_INTEGER.
  int64_t count(size_t i, const char* name) const {
    const double v = number(i, name);
    if (!(v >= 0) || v > kMaxSafeInteger || std::floor(v) != v)
      throw Napi::RangeError::New(env_, std::string(name) + " must be a non-negative integer, got " +
                                            info_[i].ToString().Utf8Value());
    return static_cast<int64_t>(v);
  }

  F32Arg f32(size_t i, const char* name) const {
    const Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env_, std::string(name) + " must be a Float32Array");
    Napi::Float32Array arr = v.As<Napi::Float32Array>();
    return {arr.Data(), static_cast<int64_t>(arr.ElementLength())};
  }

 private:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
};

// Throws unless every element of `rows` x `cols` matrices (row stride ld) at
// off + io * outer_stride + ii * inner_stride lies inside the array.
void check_matrix(Napi::Env env, const char* name, const F32Arg& arr, int64_t off, int64_t rows, int64_t cols,
                  int64_t ld, const int64_t batch[2], const int64_t strides[2], bool touched) {
  if (ld < cols)
    throw Napi::RangeError::New(env, std::string("leading dimension of ") + name + " (" + std::to_string(ld) +
                                         ") is smaller than its row length " + std::to_string(cols));
  if (!touched || rows == 0 || cols == 0 || batch[0] == 0 || batch[1] == 0) return;
  const __int128 last = static_cast<__int128>(off) + static_cast<__int128>(batch[0] - 1) * strides[0] +
                        static_cast<__int128>(batch[1] - 1) * strides[1] + static_cast<__int128>(rows - 1) * ld +
                        (cols - 1);
  if (last >= arr.length)
    throw Napi::RangeError::New(env, std::string(name) + " is too small: the last element touched is at index " +
                                         std::to_string(static_cast<long long>(last)) + " but its length is " +
                                         std::to_string(arr.length));
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
  const F32Arg a = args.f32(7, "a");
  const int64_t a_off = args.count(8, "aOffset");
  const int64_t lda = args.count(9, "lda");
  const F32Arg b = args.f32(10, "b");
  const int64_t b_off = args.count(11, "bOffset");
  const int64_t ldb = args.count(12, "ldb");
  const F32Arg c = args.f32(13, "c");
  const int64_t c_off = args.count(14, "cOffset");
  const int64_t ldc = args.count(15, "ldc");
  const bool product = m > 0 && n > 0 && k > 0;
  check_matrix(args.env(), "a", a, a_off, trans_a ? k : m, trans_a ? m : k, lda, batch, sa, product);
  check_matrix(args.env(), "b", b, b_off, trans_b ? n : k, trans_b ? k : n, ldb, batch, sb, product);
  check_matrix(args.env(), "c", c, c_off, m, n, ldc, batch, sc, true);
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
  Args args(info);
  args.expect_count(16, "gemm");
  const int64_t single[2] = {1, 1};
  const int64_t zero[2] = {0, 0};
  const Problem pr = read_problem(args, single, zero, zero, zero);
  gemm_auto(current_ops(), pr);
  return info.Env().Undefined();
}

// gemm's 16 arguments, then (batchOuter, batchInner, strideAOuter, strideAInner,
// strideBOuter, strideBInner, strideCOuter, strideCInner).
Napi::Value GemmBatched(const Napi::CallbackInfo& info) {
  Args args(info);
  args.expect_count(24, "gemmBatched");
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
  Args args(info);
  args.expect_count(1, "peakGflops");
  const double seconds = args.number(0, "seconds");
  if (!(seconds > 0 && seconds <= 60))
    throw Napi::RangeError::New(info.Env(), "peakGflops: seconds must be in (0, 60]");
  const IsaOps& ops = current_ops();
  const double gflops = measure_peak_gflops(ops, seconds);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("gflops", gflops);
  out.Set("threads", pool_threads());
  out.Set("isa", ops.name);
  return out;
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
  exports.Set("peakGflops", Napi::Function::New(env, PeakGflops));
  exports.Set("gemmConfig", Napi::Function::New(env, GemmConfig));
}

}  // namespace electra
