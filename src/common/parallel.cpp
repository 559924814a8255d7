#include "avrec/parallel.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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

}  // namespace avrec
