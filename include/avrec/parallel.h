// Running one piece of work on several threads.
#pragma once

#include <functional>

namespace avrec {

// `requested` threads, or every core when it is 0 (or less).
int ResolveThreads(int requested);

// Runs `work` on `threads` threads (the calling thread is one of them) and
// waits for all. `work` pulls its own tasks (e.g. from an atomic counter). If
// any call throws, the first exception caught is rethrown once all finished.
void RunOnThreads(int threads, const std::function<void()>& work);

}  // namespace avrec
