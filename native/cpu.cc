#include "cpu.h"

#include <cstdlib>
#include <cstring>

namespace electra {
namespace {

Isa detect() {
#if ELECTRA_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

Isa initial_active() {
  Isa best = detected_isa();
  Isa wanted;
  if (const char* env = std::getenv("ELECTRA_ISA"))
    if (parse_isa(env, &wanted) && wanted <= best) return wanted;
  return best;
}

Isa& active() {
  static Isa value = initial_active();
  return value;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() { return active(); }

bool set_active_isa(Isa isa) {
  if (isa > detected_isa()) return false;
  active() = isa;
  return true;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

bool isa_compiled(Isa isa) {
#if ELECTRA_X86_SIMD
  (void)isa;
  return true;
#else
  return isa == Isa::Scalar;
#endif
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "avx512") == 0) *out = Isa::Avx512;
  else if (std::strcmp(name, "avx2") == 0) *out = Isa::Avx2;
  else if (std::strcmp(name, "scalar") == 0) *out = Isa::Scalar;
  else return false;
  return true;
}

}  // namespace electra
