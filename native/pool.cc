#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace electra {
namespace {

// A spin-wait hint: lets the sibling hyperthread run and saves power.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

thread_local bool in_task = false;

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    start(threads);
  }

  void run(int64_t ntasks, const std::function<void(int64_t)>& fn) {
    if (ntasks <= 0) return;
    if (workers_.empty() || ntasks == 1 || in_task) {
      for (int64_t t = 0; t < ntasks; ++t) fn(t);
      return;
    }
    std::lock_guard<std::mutex> serial(run_mutex_);
    job_ = &fn;
    ntasks_ = ntasks;
    next_.store(0, std::memory_order_relaxed);
    const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
    state_.store(gen << kGenShift, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(mutex_);
      generation_.store(gen, std::memory_order_release);
    }
    cv_.notify_all();
    work();
    // Close the job, then wait only for workers that joined it: a worker the OS has not
    // scheduled yet (a busy machine) finds the job closed and skips it, so it cannot stall us.
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    for (int spins = 0; (state_.load(std::memory_order_acquire) & kActiveMask) != 0; ++spins) {
      if (spins < 1000) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    job_ = nullptr;
  }

  // Registers this worker in job `gen` unless that job is closed or superseded.
  bool join(uint64_t gen) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((s >> kGenShift) != gen || (s & kClosed) != 0) return false;
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    }
  }

 private:
  void start(int threads) {
    if (threads < 1) threads = 1;
    quit_ = false;
    // Each worker starts from the generation current now: reading it inside the
    // new thread could miss a job posted before the thread got to run.
    const uint64_t start_generation = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, start_generation] { loop(start_generation); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mutex_);
      quit_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  void work() {
    in_task = true;
    for (;;) {
      int64_t t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks_) break;
      (*job_)(t);
    }
    in_task = false;
  }

  void loop(uint64_t seen) {
    for (;;) {
      // Spin briefly: kernels arrive in quick succession during training.
      bool woke = false;
      for (int i = 0; i < 20000; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen) { woke = true; break; }
        cpu_relax();
      }
      if (!woke) {
        std::unique_lock<std::mutex> lk(mutex_);
        cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      if (quit_) return;
      if (!join(seen)) continue;
      work();
      state_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  // Job state word: generation << kGenShift | closed flag | number of workers inside the job.
  static constexpr int kGenShift = 17;
  static constexpr uint64_t kClosed = uint64_t{1} << 16;
  static constexpr uint64_t kActiveMask = kClosed - 1;
  std::atomic<uint64_t> state_{0};
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t ntasks_ = 0;
  bool quit_ = false;
};

int default_threads() {
  if (const char* env = std::getenv("ELECTRA_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

Pool& pool() {
  static Pool instance(default_threads());
  return instance;
}

}  // namespace

int pool_threads() { return pool().threads(); }

void set_pool_threads(int n) { pool().resize(n <= 0 ? default_threads() : n); }

void parallel_for(int64_t ntasks, const std::function<void(int64_t)>& fn) { pool().run(ntasks, fn); }

double measure_parallel_flops(double (*loop)(int64_t iterations), double seconds) {
  const int threads = pool_threads();
  std::vector<double> rate(static_cast<size_t>(threads), 0.0);
  std::atomic<int> arrived{0};
  // One task per thread: each waits for all to arrive (a thread inside a task
  // cannot claim another), so the loops overlap in time.
  parallel_for(threads, [&](int64_t t) {
    arrived.fetch_add(1);
    while (arrived.load() < threads) std::this_thread::yield();
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    double flops = 0;
    double elapsed = 0;
    do {
      flops += loop(int64_t{1} << 16);
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds);
    rate[static_cast<size_t>(t)] = flops / elapsed;
  });
  double total = 0;
  for (double r : rate) total += r;
  return total;
}

}  // namespace electra
