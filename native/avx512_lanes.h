// Lane masks for AVX-512 code; include only from files compiled with -mavx512f.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace electra {
namespace {

// Mask selecting the first n lanes of 16 (n clamped to [0, 16]).
inline __mmask16 first_lanes(int64_t n) {
  if (n >= 16) return 0xFFFF;
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1u);
}

}  // namespace
}  // namespace electra
