// Pieces the GEMM drivers (gemm.cc, gemm_bf16.cc, gemm_int8.cc) share: an
// aligned grow-only buffer, the split of C into tasks, the portable peak loop.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <new>

namespace electra {
namespace lowp {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// 64-byte aligned, grow-only.
template <typename T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }
  T* get(int64_t elements) {
    if (elements > capacity_) {
      std::free(data_);
      const size_t bytes = (static_cast<size_t>(elements) * sizeof(T) + 63) & ~static_cast<size_t>(63);
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = elements;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  int64_t capacity_ = 0;
};

// Rows (a multiple of mr) and panels per task: at most 96 rows x 16 panels
// (the B block of one depth block stays in L2; one panel's slice in L1),
// fewer when that leaves too few tasks (4 per thread) for the threads.
inline void task_blocks(int64_t m, int64_t panels, int threads, int64_t mr, int64_t* rows, int64_t* cols) {
  int64_t mc = 8 * mr, np = 16;
  const int64_t want = 4 * static_cast<int64_t>(threads);
  while (ceil_div(m, mc) * ceil_div(panels, np) < want && mc > mr) mc -= mr;
  while (ceil_div(m, mc) * ceil_div(panels, np) < want && np > 1) np /= 2;
  *rows = mc;
  *cols = np;
}

// Portable peak loop: `iterations` rounds of 8 independent multiply-adds;
// returns the flops done (2 per multiply-add).
inline double scalar_fma_loop(int64_t iterations) {
  constexpr int kChains = 8;
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999f + 0.001f;
  float sum = 0;
  for (float v : acc) sum += v;
  volatile float sink = sum;
  (void)sink;
  return static_cast<double>(iterations) * kChains * 2;
}

}  // namespace lowp
}  // namespace electra
