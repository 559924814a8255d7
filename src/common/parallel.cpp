#include "avrec/parallel.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "avrec/options.h"
#include "avrec/text.h"

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

namespace {

// A cgroup's memory limit from its file ("max", or a number of bytes), or 0.
double CgroupLimit(const char* path) {
  std::ifstream f(path);
  std::string text;
  if (!(f >> text)) return 0;
  double v = 0;
  return ParseFiniteDouble(text, &v) && v > 0 ? v : 0;
}

}  // namespace

double MemoryBytes() {
  const int64_t mb = WholeNumberFromEnv("AVREC_MEMORY_MB", 0, 1, int64_t{1} << 40, "MiB from 1 to 2^40");
  if (mb > 0) return static_cast<double>(mb) * 1048576.0;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  double bytes = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0;
  for (const char* limit : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const double v = CgroupLimit(limit);
    if (v > 0 && (bytes == 0 || v < bytes)) bytes = v;
  }
  return bytes;
}

std::string MemoryText(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", bytes >= 1e9 ? bytes / 1e9 : bytes / 1e6, bytes >= 1e9 ? "GB" : "MB");
  return buf;
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
