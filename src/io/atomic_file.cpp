#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    is_stdout_ = true;
    f_ = stdout;
    return;
  }
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (f_ == nullptr) {
    Fail(ExitCode::kCantCreate, path_, ": cannot create output: ", std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (is_stdout_ || committed_) return;
  if (f_ != nullptr) std::fclose(f_);
  std::remove(tmp_.c_str());
}

void AtomicFile::Write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) {
    Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
  }
}

void AtomicFile::Commit() {
  if (committed_) return;
  if (is_stdout_) {
    std::fflush(stdout);
    committed_ = true;
    return;
  }
  if (std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0) {
    Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
  }
  if (std::fclose(f_) != 0) {
    f_ = nullptr;
    Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
  }
  f_ = nullptr;
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    Fail(ExitCode::kCantCreate, path_, ": cannot rename ", tmp_, " into place: ", std::strerror(errno));
  }
  committed_ = true;
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.Write(bytes);
  f.Commit();
}

}  // namespace avrec
