#include "avrec/parallel.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace avrec {

int ResolveThreads(int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (requested <= 0) return cores;
  const int limit = std::min(kMaxThreads, 8 * cores);
  if (requested > limit) {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      spdlog::warn("--threads {}: using {} (8 per core on this machine's {} cores)", requested, limit, cores);
    });
    return limit;
  }
  return requested;
}

void RunOnThreads(int threads, const std::function<void()>& work) {
  std::exception_ptr failure;
  std::mutex mu;
  auto guarded = [&] {
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(guarded);
  guarded();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}

void ForEachIndex(size_t count, int threads, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  const int workers =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(1, threads)), std::max<size_t>(1, count)));
  RunOnThreads(workers, [&] {
    for (size_t i; (i = next.fetch_add(1)) < count;) task(i);
  });
}

}  // namespace avrec
