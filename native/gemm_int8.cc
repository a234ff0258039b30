// int8 inference GEMM driver and N-API bindings (numerics and layouts in
// gemm_int8.h). Tasks over (row block, column block) of C quantize their rows
// of A (once per thread and call) and run the ISA's micro-tile, whose
// epilogue dequantizes and adds the bias. Integer sums are exact, so every
// ISA and thread count gives the same bits.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cpu.h"
#include "elementwise_isa.h"
#include "gemm_int8.h"
#include "lowp_blocks.h"
#include "napi_args.h"
#include "pool.h"

namespace electra {
namespace int8 {
#include "gemm_int8_quant.inc"
namespace {

void scalar_tile(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c,
                 int64_t ldc, const Epilogue& e) {
  for (int r = 0; r < rows; ++r) {
    int32_t acc[kNR] = {};
    const uint8_t* ar = a + r * lda;
    for (int64_t t = 0; t < kq; ++t)
      for (int j = 0; j < kNR; ++j)
        for (int h = 0; h < 4; ++h) acc[j] += static_cast<int32_t>(ar[4 * t + h]) * b[(t * kNR + j) * 4 + h];
    for (int64_t j = 0; j < cols; ++j) {
      const float v = (e.row_scale[r] * e.col_scale[j]) * static_cast<float>(acc[j] - e.row_zero[r] * e.col_sum[j]);
      c[r * ldc + j] = e.bias ? v + e.bias[j] : v;
    }
  }
}

double scalar_dot_loop(int64_t iterations) {
  constexpr int kChains = 8;
  int32_t acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = i;
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 3 + 1;
  int32_t sum = 0;
  for (int32_t v : acc) sum += v;
  volatile int32_t sink = sum;
  (void)sink;
  return static_cast<double>(iterations) * kChains * 2;
}

const Ops kScalarOps = {"scalar", quantize_rows, scalar_tile, scalar_dot_loop, kMR};

bool cpu_has_vnni() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") != 0;
#else
  return false;
#endif
}

// AMX for whole-tile depths unless ELECTRA_AMX=0 or setInt8Amx(false).
std::atomic<bool> amx_enabled{[] {
  const char* env = std::getenv("ELECTRA_AMX");
  return env == nullptr || std::string(env) != "0";
}()};

// VPDPBUSD where the CPU has it and AVX-512 is active; VPMADDWD on AVX2.
const Ops& current_ops() {
#if ELECTRA_X86_SIMD
  static const bool has_vnni = cpu_has_vnni();
  switch (active_isa()) {
    case Isa::Avx512: return has_vnni ? avx512vnni_ops() : avx2_ops();
    case Isa::Avx2: return avx2_ops();
    default: return kScalarOps;
  }
#else
  return kScalarOps;
#endif
}

// The kernel for a depth of kq quads: AMX where it is usable, enabled and the
// depth is whole tiles (16 quads), with AVX-512 active.
const Ops& ops_for(int64_t kq) {
#if ELECTRA_X86_SIMD
  // The CPU and OS checks once per process (this runs on every call); the switch and the ISA can change.
  static const bool amx_available = cpu_has_vnni() && amx_usable();
  if (kq % 16 == 0 && amx_available && amx_enabled.load(std::memory_order_relaxed) && active_isa() == Isa::Avx512)
    return amx_ops();
#else
  (void)kq;
#endif
  return current_ops();
}

using lowp::ceil_div;

// A task's quantized rows and their parameters, reused by the thread's next
// task of the same call when it has the same rows.
struct RowBlock {
  lowp::Buffer<uint8_t> q;
  lowp::Buffer<float> scale;
  lowp::Buffer<int32_t> zero;
  uint64_t call = 0;
  int64_t row = -1;
};
thread_local RowBlock tl_rows;
std::atomic<uint64_t> call_counter{0};

struct Problem {
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const int8_t* w;
  const float* w_scale;
  const int32_t* w_sum;
  const float* bias;
  float* c;
  int64_t ldc;
  const float* residual;  // laid out as c, or null
  bool gelu;
  // LayerNorm of C's rows (ldc == n) into ln_out (laid out as c), or ln_gamma null.
  const float* ln_gamma;
  const float* ln_beta;
  float* ln_out;
  float* ln_mean;  // per row of the call
  float* ln_rstd;
  float ln_eps;
};

// The optional epilogues over a task's finished block of C (still in cache):
// the elementwise kernels' gelu and add, row segment by row segment, then
// their layer_norm over whole rows (tasks then span every column).
void finish_rows(const Problem& pr, int64_t i0, int64_t i1, int64_t j0, int64_t cols) {
  if (!pr.gelu && pr.residual == nullptr && pr.ln_gamma == nullptr) return;
  const ElementwiseIsaOps& ew = elementwise_ops_active();
  for (int64_t i = i0; i < i1; ++i) {
    float* row = pr.c + i * pr.ldc + j0;
    if (pr.gelu) ew.gelu(row, row, cols);
    if (pr.residual != nullptr) ew.add(row, pr.residual + i * pr.ldc + j0, row, cols);
  }
  if (pr.ln_gamma != nullptr)
    ew.layer_norm(pr.c + i0 * pr.ldc, pr.ln_gamma, pr.ln_beta, pr.ln_out + i0 * pr.ldc, pr.ln_mean + i0,
                  pr.ln_rstd + i0, i1 - i0, pr.n, pr.ln_eps);
}

constexpr int64_t kWholeRowsMaxWeightBytes = 384 << 10;

void run(const Problem& pr) {
  if (pr.m == 0 || pr.n == 0) return;
  const int64_t kq = ceil_div(pr.k, 4);
  const Ops& ops = ops_for(kq);
  const int64_t mr = ops.mr;
  // Rows start on a cache line and are not 4 KiB apart (one L1 set for all of a tile's rows).
  int64_t ldq = ceil_div(4 * kq, 64) * 64;
  if (ldq % 4096 == 0) ldq += 64;
  const int64_t panels = ceil_div(pr.n, kNR);
  const int threads = pool_threads();
  int64_t mc, np;
  // Whole rows per task for the LayerNorm, and where all of B stays in L2: then no
  // two threads quantize the same rows.
  if (pr.ln_gamma != nullptr || panels * kq * 4 * kNR <= kWholeRowsMaxWeightBytes) {
    lowp::task_blocks(pr.m, 1, threads, mr, &mc, &np);
    np = panels;
  } else {
    lowp::task_blocks(pr.m, panels, threads, mr, &mc, &np);
  }
  const int64_t col_blocks = ceil_div(panels, np);
  // Row blocks get equal shares of the rows, not whole micro-tiles, and their count times the column
  // blocks' is a multiple of the threads: with m = 256 and 12-row tiles, blocks of whole tiles gave
  // one thread 12 tiles and the other 10 (a partial tile costs about its share of rows).
  int64_t row_blocks = ceil_div(pr.m, mc);
  while ((row_blocks * col_blocks) % threads != 0 && row_blocks < pr.m) ++row_blocks;
  mc = ceil_div(pr.m, row_blocks);
  const uint64_t call = ++call_counter;
  parallel_for(row_blocks * col_blocks, [&](int64_t task) {
    const int64_t block = task / col_blocks;
    const int64_t i0 = block * pr.m / row_blocks, i1 = (block + 1) * pr.m / row_blocks;
    const int64_t q0 = (task % col_blocks) * np, q1 = std::min(panels, q0 + np);
    RowBlock& rb = tl_rows;
    uint8_t* aq = rb.q.get(mc * ldq);
    float* scale = rb.scale.get(mc);
    int32_t* zero = rb.zero.get(mc);
    if (rb.call != call || rb.row != i0) {
      ops.quantize(pr.a + i0 * pr.lda, pr.lda, i1 - i0, pr.k, aq, ldq, scale, zero);
      rb.call = call;
      rb.row = i0;
    }
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t j0 = q * kNR;
      const int64_t cols = std::min<int64_t>(kNR, pr.n - j0);
      const int8_t* wq = pr.w + q * kq * 4 * kNR;
      for (int64_t i = i0; i < i1; i += mr) {
        const Epilogue e = {scale + (i - i0), zero + (i - i0), pr.w_scale + j0, pr.w_sum + j0, pr.bias ? pr.bias + j0 : nullptr};
        ops.tile(static_cast<int>(std::min<int64_t>(mr, i1 - i)), cols, kq, aq + (i - i0) * ldq, ldq, wq,
                 pr.c + i * pr.ldc + j0, pr.ldc, e);
      }
    }
    finish_rows(pr, i0, i1, q0 * kNR, std::min(pr.n, q1 * kNR) - q0 * kNR);
  });
}

// ---------------------------------------------------------------------------
// N-API bindings. The TypeScript wrapper validates with friendlier messages;
// these checks repeat the bounds so no call can touch memory outside its arrays.


// gemmInt8(m, n, k, a, aOffset, lda, weights, weightScale, weightSum, bias | null, c, cOffset, ldc,
//          residual | null (laid out as c), gelu,
//          lnGamma | null, lnBeta, lnOut (laid out as c), lnMean, lnRstd, lnEps)
Napi::Value GemmInt8(const Napi::CallbackInfo& info) {
  Args r(info, "gemmInt8");
  r.expect_count(21);
  Problem pr;
  pr.m = r.count(0, "m");
  pr.n = r.count(1, "n");
  pr.k = r.count(2, "k");
  const auto a = r.floats(3, "a");
  const int64_t a_off = r.count(4, "aOffset");
  pr.lda = r.count(5, "lda");
  const auto w = r.i8(6, "weights");
  const auto w_scale = r.floats(7, "weightScale");
  const auto w_sum = r.i32(8, "weightSum");
  const bool has_bias = !info[9].IsNull() && !info[9].IsUndefined();
  const auto bias = has_bias ? r.floats(9, "bias") : Array<float>{nullptr, 0};
  const auto c = r.floats(10, "c");
  const int64_t c_off = r.count(11, "cOffset");
  pr.ldc = r.count(12, "ldc");
  const bool has_residual = !r.is_null(13);
  const auto residual = has_residual ? r.floats(13, "residual") : Array<float>{nullptr, 0};
  pr.gelu = r.boolean(14, "gelu");
  const int64_t panels = ceil_div(pr.n, kNR);
  r.check_matrix("a", a.length, a_off, pr.m, pr.k, pr.lda, pr.n > 0);
  r.check_matrix("c", c.length, c_off, pr.m, pr.n, pr.ldc, true);
  r.check_span("weights", w.length, 0, panels * ceil_div(pr.k, 4) * 4 * kNR);
  r.check_span("weightScale", w_scale.length, 0, pr.n);
  r.check_span("weightSum", w_sum.length, 0, pr.n);
  if (has_bias) r.check_span("bias", bias.length, 0, pr.n);
  if (has_residual) r.check_matrix("residual", residual.length, c_off, pr.m, pr.n, pr.ldc, true);
  pr.a = a.data + a_off;
  pr.w = w.data;
  pr.w_scale = w_scale.data;
  pr.w_sum = w_sum.data;
  pr.bias = has_bias ? bias.data : nullptr;
  pr.c = c.data + c_off;
  pr.residual = has_residual ? residual.data + c_off : nullptr;
  pr.ln_gamma = nullptr;
  if (!r.is_null(15)) {
    if (pr.ldc != pr.n) r.fail("the layerNorm epilogue needs ldc == n", true);
    pr.ln_gamma = r.f32(15, "lnGamma", pr.n);
    pr.ln_beta = r.f32(16, "lnBeta", pr.n);
    const auto out = r.floats(17, "lnOut");
    r.check_matrix("lnOut", out.length, c_off, pr.m, pr.n, pr.ldc, true);
    pr.ln_out = out.data + c_off;
    pr.ln_mean = r.f32(18, "lnMean", pr.m);
    pr.ln_rstd = r.f32(19, "lnRstd", pr.m);
    pr.ln_eps = static_cast<float>(r.finite(20, "lnEps"));
  }
  run(pr);
  return info.Env().Undefined();
}

// int8PeakGops(seconds) -> { gops, threads, isa }: the dot-product loop of the
// kernel for whole-tile depths on every thread.
Napi::Value Int8PeakGops(const Napi::CallbackInfo& info) {
  Args r(info, "int8PeakGops");
  r.expect_count(1);
  const double seconds = r.number(0, "seconds");
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(info.Env(), "int8PeakGops: seconds must be in (0, 60]");
  const Ops& ops = ops_for(16);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("gops", measure_parallel_flops(ops.dot_loop, seconds) * 1e-9);
  out.Set("threads", pool_threads());
  out.Set("isa", ops.name);
  return out;
}

// The kernel for depths that are a multiple of 64 (every other depth: the AVX-512/AVX2/scalar one).
Napi::Value Int8Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ops_for(16).name); }

// setInt8Amx(enabled) -> whether AMX now runs (false where the CPU or OS lacks it).
Napi::Value SetInt8Amx(const Napi::CallbackInfo& info) {
  Args r(info, "setInt8Amx");
  r.expect_count(1);
  amx_enabled.store(r.boolean(0, "enabled"));
  return Napi::Boolean::New(info.Env(), &ops_for(16) != &current_ops());
}

}  // namespace
}  // namespace int8

void RegisterGemmInt8(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmInt8", Napi::Function::New(env, int8::GemmInt8));
  exports.Set("int8PeakGops", Napi::Function::New(env, int8::Int8PeakGops));
  exports.Set("int8Isa", Napi::Function::New(env, int8::Int8Isa));
  exports.Set("setInt8Amx", Napi::Function::New(env, int8::SetInt8Amx));
}

}  // namespace electra
