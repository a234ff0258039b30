// N-API entry point: runtime information plus the kernels registered by each file.
#include <napi.h>

#include "cpu.h"
#include "pool.h"

namespace electra {
void RegisterGemm(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);
void RegisterGemmBf16(Napi::Env env, Napi::Object exports);
void RegisterGemmInt8(Napi::Env env, Napi::Object exports);
}  // namespace electra

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("isa", electra::isa_name(electra::active_isa()));
  out.Set("detectedIsa", electra::isa_name(electra::detected_isa()));
  out.Set("threads", electra::pool_threads());
  // Instruction sets this build has kernels for (only "scalar" off x86-64).
  Napi::Array compiled = Napi::Array::New(env);
  for (electra::Isa isa : {electra::Isa::Scalar, electra::Isa::Avx2, electra::Isa::Avx512})
    if (electra::isa_compiled(isa)) compiled.Set(compiled.Length(), electra::isa_name(isa));
  out.Set("compiledIsas", compiled);
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  electra::set_pool_threads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), electra::pool_threads());
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  electra::Isa isa;
  if (!electra::parse_isa(name.c_str(), &isa))
    throw Napi::Error::New(info.Env(), "unknown instruction set '" + name + "' (expected scalar, avx2 or avx512)");
  if (!electra::set_active_isa(isa))
    throw Napi::Error::New(info.Env(), "this CPU does not support " + name);
  return Napi::String::New(info.Env(), electra::isa_name(electra::active_isa()));
}

// Bytes between the last 64-byte boundary and a typed array's first element: large V8
// buffers start 16 bytes past a cache line, so every full AVX-512 vector of theirs
// straddles two lines; JS uses this to start its tensors on a line (src/nn/tensor.ts).
Napi::Value CacheLineOffset(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(info.Env(), "cacheLineOffset: expected a typed array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  const auto address = reinterpret_cast<uintptr_t>(static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset());
  return Napi::Number::New(info.Env(), static_cast<double>(address % 64));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("cacheLineOffset", Napi::Function::New(env, CacheLineOffset));
  electra::RegisterGemm(env, exports);
  electra::RegisterElementwise(env, exports);
  electra::RegisterGemmBf16(env, exports);
  electra::RegisterGemmInt8(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(electra_native, Init)
