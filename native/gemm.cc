// Placeholder until the gemm work lands.
#include <napi.h>
namespace electra {
void RegisterGemm(Napi::Env, Napi::Object) {}
}  // namespace electra
