// Argument reading for the low-precision kernels' N-API entry points: typed
// values with errors naming the argument, and bounds checks so no call can
// touch memory outside its arrays.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace electra {
namespace napi_checks {

template <typename T>
struct Array {
  T* data;
  int64_t length;
};

class Reader {
 public:
  Reader(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), fn_(fn) {
    if (info.Length() < count)
      throw Napi::TypeError::New(env(), fn_ + ": expected " + std::to_string(count) + " arguments, got " +
                                            std::to_string(info.Length()));
  }

  Napi::Env env() const { return info_.Env(); }

  bool boolean(size_t i, const char* name) const {
    if (!info_[i].IsBoolean()) throw Napi::TypeError::New(env(), fn_ + ": " + name + " must be a boolean");
    return info_[i].As<Napi::Boolean>().Value();
  }

  double number(size_t i, const char* name) const {
    if (!info_[i].IsNumber()) throw Napi::TypeError::New(env(), fn_ + ": " + name + " must be a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  int64_t count(size_t i, const char* name) const {
    const double v = number(i, name);
    if (!(v >= 0) || v > 9007199254740991.0 || std::floor(v) != v)
      throw Napi::RangeError::New(env(), fn_ + ": " + name + " must be a non-negative integer");
    return static_cast<int64_t>(v);
  }

  Array<float> floats(size_t i, const char* name) const { return typed<float>(i, name, napi_float32_array, "Float32Array"); }
  Array<uint16_t> u16(size_t i, const char* name) const { return typed<uint16_t>(i, name, napi_uint16_array, "Uint16Array"); }
  Array<int8_t> i8(size_t i, const char* name) const { return typed<int8_t>(i, name, napi_int8_array, "Int8Array"); }
  Array<int32_t> i32(size_t i, const char* name) const { return typed<int32_t>(i, name, napi_int32_array, "Int32Array"); }

  // Throws unless rows x cols (row stride ld) at off lies inside length elements.
  void check_matrix(const char* name, int64_t length, int64_t off, int64_t rows, int64_t cols, int64_t ld,
                    bool touched) const {
    if (ld < cols)
      throw Napi::RangeError::New(env(), fn_ + ": the leading dimension of " + name + " is smaller than its rows");
    if (!touched || rows == 0 || cols == 0) return;
    check_span(name, length, off, (rows - 1) * ld + cols);
  }

  void check_span(const char* name, int64_t length, int64_t off, int64_t count) const {
    if (off + count > length)
      throw Napi::RangeError::New(env(), fn_ + ": " + name + " is too small: needs " + std::to_string(off + count) +
                                             " elements, has " + std::to_string(length));
  }

 private:
  template <typename T>
  Array<T> typed(size_t i, const char* name, napi_typedarray_type type, const char* type_name) const {
    const Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
      throw Napi::TypeError::New(env(), fn_ + ": " + name + " must be a " + type_name);
    auto arr = v.As<Napi::TypedArrayOf<T>>();
    return {arr.Data(), static_cast<int64_t>(arr.ElementLength())};
  }

  const Napi::CallbackInfo& info_;
  std::string fn_;
};

}  // namespace napi_checks
}  // namespace electra
