#include "avrec/problem.h"

namespace avrec {

void ProblemLog::Add(const std::string& path, int64_t line, std::string message) {
  ++count_;
  if (count_ <= max_ && sink_) sink_(Problem{path, line, std::move(message)});
}

void ProblemLog::AddFileProblem(const std::string& path, int64_t line, std::string message) {
  ++file_problems_;
  Add(path, line, std::move(message));
}

}  // namespace avrec
