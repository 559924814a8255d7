// Errors inside avrec: one exception type carrying the exit code that the
// command line maps it to (sysexits.h values, documented in README.md).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace avrec {

enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,       // EX_USAGE: bad command line or config
  kDataErr = 65,     // EX_DATAERR: input data invalid
  kNoInput = 66,     // EX_NOINPUT: input file missing or unreadable
  kSoftware = 70,    // EX_SOFTWARE: internal error (a bug)
  kCantCreate = 73,  // EX_CANTCREAT: output cannot be created
  kIoErr = 74,       // EX_IOERR: I/O error while reading or writing
  kTempFail = 75,    // EX_TEMPFAIL: another process holds the workspace, or an input changed while read; retry later
};

// The one exception type thrown by the library. what() is a complete message a
// user can act on (which file, line, field, what was expected).
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Builds a message from streamable parts: Fail(ExitCode::kDataErr, path, ":", line, ": bad").
template <typename... Parts>
[[noreturn]] void Fail(ExitCode code, const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(code, os.str());
}

}  // namespace avrec

// Internal invariant: a failure is a bug in avrec (exit 70), reported with the
// expression and where it was checked.
#define AVREC_CHECK(cond, ...)                                                                                     \
  do {                                                                                                             \
    if (!(cond)) {                                                                                                 \
      ::avrec::Fail(::avrec::ExitCode::kSoftware, "internal error: check '", #cond, "' failed at ", __FILE__, ":", \
                    __LINE__, ": ", ##__VA_ARGS__);                                                                \
    }                                                                                                              \
  } while (0)
