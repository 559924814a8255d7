// Problems with input files, as `validate` prints them: PATH:LINE: message.
// A ProblemLog collects them (leveldb's log reader Reporter pattern): bad
// records are reported and counted, and the caller decides whether they are
// fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace avrec {

// One problem with an input file, as validate prints it: PATH:LINE: message.
struct Problem {
  std::string path;
  int64_t line = 0;  // 0: the file as a whole
  std::string message;
};

// Collects problems. The sink sees the first `max_reported` of them, in the
// order found; the rest are only counted. Not thread-safe.
class ProblemLog {
 public:
  using Sink = std::function<void(const Problem&)>;
  ProblemLog(size_t max_reported, Sink sink) : max_(max_reported), sink_(std::move(sink)) {}
  void Add(const std::string& path, int64_t line, std::string message);
  // A problem that leaves no row of the file readable (its header: empty,
  // lacking a required column, names that are not UTF-8 or repeat): counted
  // as one problem and as a file problem, which no leniency skips.
  void AddFileProblem(const std::string& path, int64_t line, std::string message);
  size_t count() const { return count_; }
  size_t file_problems() const { return file_problems_; }
  size_t unreported() const { return count_ > max_ ? count_ - max_ : 0; }

 private:
  size_t max_;
  Sink sink_;
  size_t count_ = 0;
  size_t file_problems_ = 0;
};

}  // namespace avrec
