// Running one piece of work on several threads.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace avrec {

// The most worker threads ever started, whatever is asked: a bound on
// memory, since every worker holds its own buffers.
constexpr int kMaxThreads = 1024;

// Worker threads for a request: `requested`, or every core when it is 0 (or
// less); never more than 8 per core (more only adds memory and contention),
// with a warning when the request is cut.
int ResolveThreads(int requested);

// The memory avrec may take, in bytes: $AVREC_MEMORY_MB when set (a share
// of a machine other jobs run on), else the machine's physical memory or its
// container's limit (cgroup memory.max), whichever is lower; 0 when unknown.
// The guards against inputs that would outgrow it (an items table, item
// vectors) measure against it, so that such a run stops with a message
// instead of being killed by the kernel. A malformed $AVREC_MEMORY_MB is
// Error(kUsage).
double MemoryBytes();
// Bytes for a message: "32.0 MB", "28.8 GB".
std::string MemoryText(double bytes);

// Runs `work` on `threads` threads (the calling thread is one of them) and
// waits for all. `work` pulls its own tasks (e.g. from an atomic counter). If
// any call throws, the first exception caught is rethrown once all finished.
void RunOnThreads(int threads, const std::function<void()>& work);

// Runs task(0) .. task(count - 1) on up to `threads` threads (never more
// than there are tasks), each index once, taken in order from a shared
// counter; waits for all and rethrows as RunOnThreads does.
void ForEachIndex(size_t count, int threads, const std::function<void(size_t)>& task);

}  // namespace avrec
