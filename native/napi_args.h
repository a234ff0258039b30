// Argument access for the N-API entry points, with errors that name the
// function, the argument and what was expected ("gelu: x must be a Float32Array").
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace electra {

constexpr double kMaxSafeInteger = 9007199254740991.0;

// A typed array argument with its length, for callers that check spans themselves.
template <typename T>
struct Array {
  T* data;
  int64_t length;
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  Napi::Env env() const { return info_.Env(); }

  [[noreturn]] void fail(const std::string& msg, bool range = false) const {
    const std::string text = std::string(fn_) + ": " + msg;
    if (range) throw Napi::RangeError::New(env(), text);
    throw Napi::TypeError::New(env(), text);
  }

  void expect_count(size_t n) const {
    if (info_.Length() < n)
      fail("expected " + std::to_string(n) + " arguments, got " + std::to_string(info_.Length()));
  }

  double number(size_t i, const char* name) const {
    if (i >= info_.Length() || !info_[i].IsNumber()) fail(std::string(name) + " must be a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  double finite(size_t i, const char* name) const {
    const double d = number(i, name);
    if (!std::isfinite(d)) fail(std::string(name) + " must be finite, got " + info_[i].ToString().Utf8Value(), true);
    return d;
  }

  // A non-negative integer no larger than Number.MAX_SAFE_INTEGER (counts, shapes, offsets).
  int64_t count(size_t i, const char* name) const {
    const double d = number(i, name);
    if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d)
      fail(std::string(name) + " must be a non-negative integer, got " + info_[i].ToString().Utf8Value(), true);
    return static_cast<int64_t>(d);
  }

  bool boolean(size_t i, const char* name) const {
    if (i >= info_.Length() || !info_[i].IsBoolean()) fail(std::string(name) + " must be a boolean");
    return info_[i].As<Napi::Boolean>().Value();
  }

  bool is_null(size_t i) const { return i >= info_.Length() || info_[i].IsNull() || info_[i].IsUndefined(); }

  // Typed arrays of at least `need` elements.
  float* f32(size_t i, const char* name, int64_t need = 0) const {
    return typed<float>(i, name, need, napi_float32_array, "Float32Array");
  }
  float* f32_or_null(size_t i, const char* name, int64_t need) const { return is_null(i) ? nullptr : f32(i, name, need); }
  int32_t* i32(size_t i, const char* name, int64_t need) const {
    return typed<int32_t>(i, name, need, napi_int32_array, "Int32Array");
  }
  uint8_t* u8_or_null(size_t i, const char* name, int64_t need) const {
    return is_null(i) ? nullptr : typed<uint8_t>(i, name, need, napi_uint8_array, "Uint8Array");
  }
  bool is_u16(size_t i) const {
    return i < info_.Length() && info_[i].IsTypedArray() && info_[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  }
  // Length of a typed array argument already checked by f32/i32.
  int64_t length(size_t i) const { return static_cast<int64_t>(info_[i].As<Napi::TypedArray>().ElementLength()); }

  // Typed arrays with their lengths (bounds checked by check_matrix / check_span).
  Array<float> floats(size_t i, const char* name) const { return array<float>(i, name, napi_float32_array, "Float32Array"); }
  Array<uint16_t> u16(size_t i, const char* name) const { return array<uint16_t>(i, name, napi_uint16_array, "Uint16Array"); }
  Array<int8_t> i8(size_t i, const char* name) const { return array<int8_t>(i, name, napi_int8_array, "Int8Array"); }
  Array<int32_t> i32(size_t i, const char* name) const { return array<int32_t>(i, name, napi_int32_array, "Int32Array"); }

  // Throws unless rows x cols (row stride ld) at off lies inside length elements.
  void check_matrix(const char* name, int64_t length, int64_t off, int64_t rows, int64_t cols, int64_t ld,
                    bool touched) const {
    if (ld < cols) fail(std::string("the leading dimension of ") + name + " is smaller than its rows", true);
    if (!touched || rows == 0 || cols == 0) return;
    check_span(name, length, off, (rows - 1) * ld + cols);
  }

  void check_span(const char* name, int64_t length, int64_t off, int64_t count) const {
    if (off + count > length)
      fail(std::string(name) + " is too small: needs " + std::to_string(off + count) + " elements, has " +
               std::to_string(length),
           true);
  }

  int64_t product(int64_t a, int64_t b, const char* what) const {
    int64_t out;
    if (__builtin_mul_overflow(a, b, &out) || out > static_cast<int64_t>(kMaxSafeInteger))
      fail(std::string(what) + " is too large", true);
    return out;
  }

 private:
  template <class T>
  Array<T> array(size_t i, const char* name, napi_typedarray_type type, const char* type_name) const {
    T* data = typed<T>(i, name, 0, type, type_name);
    return {data, length(i)};
  }

  template <class T>
  T* typed(size_t i, const char* name, int64_t need, napi_typedarray_type type, const char* type_name) const {
    if (i >= info_.Length() || !info_[i].IsTypedArray() || info_[i].As<Napi::TypedArray>().TypedArrayType() != type)
      fail(std::string(name) + " must be a " + type_name);
    Napi::TypedArrayOf<T> arr = info_[i].As<Napi::TypedArrayOf<T>>();
    if (static_cast<int64_t>(arr.ElementLength()) < need)
      fail(std::string(name) + " has " + std::to_string(arr.ElementLength()) + " elements, needs at least " +
               std::to_string(need),
           true);
    return arr.Data();
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

}  // namespace electra
