// Logging (spdlog, to stderr) and progress reporting shared by every stage.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "avrec/problem.h"

namespace avrec {

enum class LogFormat { kText, kJson };

// Configures the default spdlog logger: stderr, `level` (trace, debug, info,
// warn, error, critical, off), text or JSON lines. Throws Error(kUsage) for an
// unknown level. Call once, from main, before any other thread starts.
void SetupLogging(const std::string& level, LogFormat format);
LogFormat CurrentLogFormat();

// Who is logging: a run id (unique per invocation) and the subcommand. Every
// JSON log line carries both. Call from main before logging.
void SetLogContext(const std::string& run_id, const std::string& subcommand);
const std::string& RunId();
// The current UTC time as the logs write it: 2026-11-30T01:30:00.123Z.
std::string LogTimestamp();
// A new run id: UTC time and process id, e.g. "20261130T013000Z-4711".
std::string NewRunId();

// A structured event: with --log-format json one line
// {"ts", "level", "event", "run_id", "subcommand", <fields>..., "msg"};
// in text logs just the message. `event` is a stable name (stage_end,
// run_end, progress, ...); `fields` a JSON object of facts (counts, seconds,
// paths, rates). Plain spdlog messages are events named "message".
void LogEvent(int level, const std::string& event, const nlohmann::json& fields, const std::string& message);
inline void InfoEvent(const std::string& event, const nlohmann::json& fields, const std::string& message) {
  LogEvent(2, event, fields, message);  // spdlog::level::info
}

// Receives every LogEvent (event name and fields), whatever the log level:
// main uses it to collect the stages for the run manifest. Set once, from
// main, before other threads start; empty: none.
void SetEventObserver(std::function<void(const std::string& event, const nlohmann::json& fields)> observer);

// Prints one input problem to stderr: "PATH:LINE: message" in text mode, a
// JSON object with file, line and msg in JSON mode.
void PrintProblem(const Problem& p);

// Logs how many problems the log counted beyond those it printed, if any,
// and, where the command has the option, that --max-errors shows more.
void PrintUnreportedCount(const ProblemLog& problems, bool max_errors_option = true);

// When `problems` holds any: PrintUnreportedCount, then Error(kDataErr)
// "WHAT: N invalid row(s)" followed by `then` (no "WHAT: " when empty), or
// first "no row can be read: the problem with its header is above" where one of
// them is a file problem. Returns when it holds none.
void FailOnInvalidRows(const ProblemLog& problems, const std::string& what, const std::string& then = "",
                       bool max_errors_option = true);

// Progress on stderr (done/total, rate, ETA). A one-line bar when stderr is a
// terminal and logs are text; otherwise (a nightly job's log file) a
// "progress" event every `every` (10 s). Nothing for work done within half a
// second. The rate and ETA count from the first tick, so work before it (a
// model trained before the first user is ranked) does not stretch the ETA;
// until a second tick there is none. Not thread-safe: tick from one thread.
// A count of bytes (Unit::kBytes) is shown in MB, and its event says
// "unit": "bytes"; a total of 0 or less is unknown.
class Progress {
 public:
  enum class Unit { kItems, kBytes };
  Progress(std::string label, int64_t total, std::chrono::milliseconds every = std::chrono::seconds(10),
           Unit unit = Unit::kItems);
  ~Progress();
  void Tick(int64_t n = 1);
  void Set(int64_t done) { Tick(done - done_); }
  // Where a file's reader is: `done` of `total` (0 or less: unknown).
  void Set(int64_t done, int64_t total) {
    total_ = total;
    Set(done);
  }
  void Finish();

 private:
  void Draw(bool final);
  void Report();
  double Rate() const;                 // per second since the first tick; 0 before a second
  std::string Amount(double n) const;  // "1234", or "12.3 MB"

  std::string label_;
  Unit unit_;
  int64_t total_, done_ = 0;
  int64_t done_at_first_tick_ = -1;
  bool enabled_, events_, drawn_ = false, finished_ = false;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point start_, last_draw_, first_tick_;
};

}  // namespace avrec
