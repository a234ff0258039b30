// Placeholder until the elementwise work lands.
#include <napi.h>
namespace electra {
void RegisterElementwise(Napi::Env, Napi::Object) {}
}  // namespace electra
