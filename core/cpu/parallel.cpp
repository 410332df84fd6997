#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>

#include "core/check.h"

namespace heed {
namespace {

thread_local bool t_in_parallel = false;

// How long an idle thread spins before it sleeps. A training step runs a few
// hundred kernels with serial gaps (autograd, small ops) of tens of µs
// between them: a worker that slept through every gap paid a futex wake per
// kernel, and a woken worker is often placed on its waker's core for a
// while (2 threads measured 1.6× one instead of 1.9×).
int64_t spin_micros() {
  static const int64_t us = [] {
    const char* env = std::getenv("HEED_SPIN_US");
    return env ? std::max<int64_t>(0, std::atoll(env)) : int64_t(500);
  }();
  return us;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins while `waiting()` and the spin budget lasts; false if it ran out.
template <typename Pred>
bool spin_while(Pred&& waiting) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::microseconds(spin_micros());
  for (int i = 1; waiting(); ++i) {
    cpu_relax();
    if (i % 64 == 0 && clock::now() >= deadline) return false;
  }
  return true;
}

// One parallel_for call. Workers take a shared reference to the job they
// woke for, so a late worker can only ever see its own (finished) job.
struct Job {
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t begin = 0, end = 0, chunk = 1;
  int chunks = 0;
  std::atomic<int> next{0};
  std::atomic<int> remaining{0};
  std::mutex error_mu;
  std::exception_ptr error;

  // Returns true when this call finished the job's last chunk.
  bool work() {
    bool finished_last = false;
    bool was_parallel = t_in_parallel;
    t_in_parallel = true;
    for (;;) {
      int c = next.fetch_add(1);
      if (c >= chunks) break;
      int64_t lo = begin + int64_t(c) * chunk;
      int64_t hi = std::min(end, lo + chunk);
      try {
        (*fn)(lo, hi);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
      }
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) finished_last = true;
    }
    t_in_parallel = was_parallel;
    return finished_last;
  }
};

// Workers sleep on a condition variable between jobs, after a short spin.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stop_workers(); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int threads) {
    stop_workers();
    stop_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void run(int64_t begin, int64_t end, int64_t chunk, int chunks,
           const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> run_lock(run_mu_);  // one job at a time
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->begin = begin;
    job->end = end;
    job->chunk = chunk;
    job->chunks = chunks;
    job->remaining.store(chunks);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_work_.notify_all();
    job->work();
    // Wait for the workers' chunks: spin, then sleep.
    if (!spin_while([&] { return job->remaining.load(std::memory_order_acquire) > 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_done_.wait(lock, [&] { return job->remaining.load() == 0; });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_.reset();
    }
    if (job->error) std::rethrow_exception(job->error);
  }

 private:
  void worker_loop() {
    uint64_t seen = generation_.load();
    for (;;) {
      // Spin through the short gaps between kernels, then sleep.
      spin_while([&] { return generation_.load(std::memory_order_acquire) == seen && !stop_; });
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] { return generation_.load() != seen || stop_; });
        if (stop_) return;
        seen = generation_.load();
        job = job_;
      }
      if (job && job->work()) {
        std::lock_guard<std::mutex> lock(mu_);
        cv_done_.notify_all();
      }
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex run_mu_, mu_;
  std::condition_variable cv_work_, cv_done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::shared_ptr<Job> job_;
};

int default_threads() {
  if (const char* env = std::getenv("HEED_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? int(hc) : 1;
}

// Debian's OpenBLAS falls back to generic kernels on CPUs it does not know;
// the fix (OPENBLAS_CORETYPE) must be in the environment before start-up.
void warn_if_generic_blas() {
  std::string core = openblas_get_corename();
  if (core == "Prescott" && !std::getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma")) {
    std::fprintf(stderr,
                 "heed: OpenBLAS chose its generic '%s' kernels for this CPU; GEMMs run 3-4x "
                 "slower. Set OPENBLAS_CORETYPE=%s before starting (scripts/env.sh does).\n",
                 core.c_str(), __builtin_cpu_supports("avx512bw") ? "SkylakeX" : "Haswell");
  }
}

ThreadPool& pool() {
  // Leaked on purpose: no join at static destruction time.
  static ThreadPool* p = [] {
    warn_if_generic_blas();
    openblas_set_num_threads(1);  // GEMMs are split over our pool (gemm.cpp)
    return new ThreadPool(default_threads());
  }();
  return *p;
}

}  // namespace

int get_num_threads() {
  return pool().size();
}

void set_num_threads(int n) {
  HEED_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  HEED_CHECK(!t_in_parallel, "set_num_threads: cannot be called inside parallel_for");
  pool().resize(n);
}

bool in_parallel_region() {
  return t_in_parallel;
}

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  int64_t n = end - begin;
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  ThreadPool& p = pool();
  int threads = p.size();
  if (threads == 1 || t_in_parallel || n <= grain) {
    fn(begin, end);
    return;
  }
  int chunks = int(std::min<int64_t>(threads, (n + grain - 1) / grain));
  int64_t chunk = (n + chunks - 1) / chunks;
  chunks = int((n + chunk - 1) / chunk);
  p.run(begin, end, chunk, chunks, fn);
}

}  // namespace heed
