// Logging (spdlog, to stderr) and progress reporting shared by every stage.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "avrec/problem.h"

namespace avrec {

enum class LogFormat { kText, kJson };

// Configures the default spdlog logger: stderr, `level` (trace, debug, info,
// warn, error, critical, off), text or JSON lines. Throws Error(kUsage) for an
// unknown level. Call once, from main, before any other thread starts.
void SetupLogging(const std::string& level, LogFormat format);
LogFormat CurrentLogFormat();

// Prints one input problem to stderr: "PATH:LINE: message" in text mode, a
// JSON object with file, line and msg in JSON mode.
void PrintProblem(const Problem& p);

// A one-line progress bar on stderr (done/total, rate, ETA). It draws only when
// stderr is a terminal, logs are text and at info level or finer, and the work
// has run for more than half a second. Not thread-safe: tick from one thread.
class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  void Tick(int64_t n = 1);
  void Set(int64_t done) { Tick(done - done_); }
  void Finish();

 private:
  void Draw(bool final);

  std::string label_;
  int64_t total_, done_ = 0;
  bool enabled_, drawn_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace avrec
