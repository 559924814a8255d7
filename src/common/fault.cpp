#include "common/fault.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace avrec {

namespace {

struct Plan {
  std::string name;
  long at = 0;
  long passed = 0;
  int signal = SIGKILL;
};

Plan* Armed() {
  static Plan plan;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("AVREC_FAULT");
    if (env == nullptr) return;
    const char* colon = std::strrchr(env, ':');
    if (colon == nullptr) return;
    plan.name.assign(env, static_cast<size_t>(colon - env));
    plan.at = std::strtol(colon + 1, nullptr, 10);
    // AVREC_FAULT_SIGNAL=TERM (or INT, HUP, PIPE): that signal instead, as a
    // scheduler's, a user's or a closed pipe's, which the process may clean up after.
    if (const char* sig = std::getenv("AVREC_FAULT_SIGNAL")) {
      if (std::strcmp(sig, "TERM") == 0) plan.signal = SIGTERM;
      if (std::strcmp(sig, "INT") == 0) plan.signal = SIGINT;
      if (std::strcmp(sig, "HUP") == 0) plan.signal = SIGHUP;
      if (std::strcmp(sig, "PIPE") == 0) plan.signal = SIGPIPE;
    }
    // AVREC_FAULT_RANK=R: only MPI rank R is killed (the others must notice).
    if (const char* only = std::getenv("AVREC_FAULT_RANK")) {
      const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
      if (rank == nullptr) rank = std::getenv("PMIX_RANK");
      if (rank == nullptr || std::strcmp(rank, only) != 0) plan.at = 0;
    }
  });
  return plan.at > 0 ? &plan : nullptr;
}

}  // namespace

void FaultPoint(const char* name) {
  Plan* p = Armed();
  if (p == nullptr || p->name != name) return;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (++p->passed == p->at) std::raise(p->signal);
}

}  // namespace avrec
