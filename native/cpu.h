// Instruction-set selection for the kernels' runtime dispatch.
#pragma once

namespace electra {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// ELECTRA_X86_SIMD (set by binding.gyp on x86-64) means the AVX2 and AVX-512
// kernels are compiled in; elsewhere only the portable C++ kernels are.
#ifndef ELECTRA_X86_SIMD
#define ELECTRA_X86_SIMD 0
#endif

// Whether this build contains kernels for `isa`.
bool isa_compiled(Isa isa);
// The best instruction set this CPU supports and this build contains.
Isa detected_isa();
// The instruction set kernels dispatch to now (detected, or lowered by
// ELECTRA_ISA=scalar|avx2|avx512 or set_active_isa, never above detected).
Isa active_isa();
// Returns false when the CPU lacks the requested instruction set.
bool set_active_isa(Isa isa);
const char* isa_name(Isa isa);
bool parse_isa(const char* name, Isa* out);

}  // namespace electra
