// int8 GEMM on AMX (TDPBUSD): a 32 x 32 block of C from four 16 x 16 int32
// tiles, each instruction adding 16 x 16 dot products of 64 u8 x s8 pairs. The
// weight panels' layout (gemm_int8.h: per depth quad, 32 columns of 4 bytes)
// is already the B tile's: 16 quads of one 16-column half, row stride 128
// bytes. Integer sums are exact, so the VNNI epilogue (shared header) gives
// the VNNI kernel's bits. Compiled with -mamx-tile -mamx-int8; gemm_int8.cc
// calls amx_ops() only after amx_usable().
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "gemm_int8.h"
#include "gemm_int8_avx512_store.h"

namespace electra {
namespace int8 {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
};
static_assert(sizeof(TileConfig) == 64, "the tile configuration is 64 bytes");

bool cpu_has_amx_int8() {
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
  const bool tile = (edx >> 24) & 1, int8 = (edx >> 25) & 1;
  return tile && int8;
#else
  return false;
#endif
}

// Linux hands out the 8 KiB tile state only on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it TDPBUSD faults.
bool os_grants_tiles() {
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
}

// Every tile 16 rows x 64 bytes: tiles 0-3 the sums, 4-5 the A rows, 6-7 the B halves.
thread_local bool tl_configured = false;
void configure_tiles() {
  TileConfig cfg = {};
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.bytes_per_row[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
  tl_configured = true;
}

template <int R>
void block(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c, int64_t ldc,
           const Epilogue& e) {
  static_assert(R == 16 || R == 32, "one or two row tiles");
  if (!tl_configured) configure_tiles();
  _tile_zero(0);
  _tile_zero(1);
  if (R == 32) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int64_t t = 0; t < kq; t += 16) {
    _tile_loadd(4, a + 4 * t, lda);
    _tile_loadd(6, b + t * 4 * kNR, 4 * kNR);
    _tile_loadd(7, b + t * 4 * kNR + 64, 4 * kNR);
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    if (R == 32) {
      _tile_loadd(5, a + 16 * lda + 4 * t, lda);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  }
  alignas(64) int32_t acc[R][kNR];
  _tile_stored(0, &acc[0][0], kNR * 4);
  _tile_stored(1, &acc[0][16], kNR * 4);
  if (R == 32) {
    _tile_stored(2, &acc[16][0], kNR * 4);
    _tile_stored(3, &acc[16][16], kNR * 4);
  }
  const Columns c0 = columns(e, cols, 0);
  const Columns c1 = columns(e, cols, 1);
  const bool bias = e.bias != nullptr;
  for (int r = 0; r < rows; ++r) {
    store(c + r * ldc, c0, _mm512_load_si512(&acc[r][0]), e.row_scale[r], e.row_zero[r], bias);
    store(c + r * ldc + 16, c1, _mm512_load_si512(&acc[r][16]), e.row_scale[r], e.row_zero[r], bias);
  }
}

void tile(int rows, int64_t cols, int64_t kq, const uint8_t* a, int64_t lda, const int8_t* b, float* c, int64_t ldc,
          const Epilogue& e) {
  if (rows <= 16) return block<16>(rows, cols, kq, a, lda, b, c, ldc, e);
  block<32>(rows, cols, kq, a, lda, b, c, ldc, e);
}

// Four independent accumulator tiles, each round 4 x 16 x 16 x 64 products.
double dot_loop(int64_t iterations) {
  if (!tl_configured) configure_tiles();
  alignas(64) static const uint8_t ones[16 * 64] = {};
  _tile_loadd(4, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t it = 0; it < iterations; ++it) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 6);
    _tile_dpbusd(2, 4, 6);
    _tile_dpbusd(3, 4, 6);
  }
  alignas(64) int32_t sink[16 * 16];
  _tile_stored(0, sink, 64);
  volatile int32_t keep = sink[0];
  (void)keep;
  return static_cast<double>(iterations) * 4 * 16 * 16 * 64 * 2;
}

}  // namespace

bool amx_usable() {
  static const bool usable = cpu_has_amx_int8() && os_grants_tiles();
  return usable;
}

const Ops& amx_ops() {
  static const Ops ops = {"avx512amx", avx512vnni_ops().quantize, tile, dot_loop, kAmxMR};
  return ops;
}

}  // namespace int8
}  // namespace electra
