#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

namespace {

// Temporary files in flight, removed by the SIGINT/SIGTERM handler: fixed
// slots, so that the handler only calls async-signal-safe unlink().
constexpr int kSlots = 64;
char g_tmp_paths[kSlots][4096];
std::atomic<bool> g_tmp_used[kSlots];

int RegisterTemp(const std::string& path) {
  if (path.size() >= sizeof g_tmp_paths[0]) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_tmp_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_tmp_paths[i], path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void ReleaseTemp(int slot) {
  if (slot >= 0) g_tmp_used[slot].store(false);
}

extern "C" void RemoveTempsAndDie(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_tmp_used[i].load()) ::unlink(g_tmp_paths[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void InstallSignalCleanup() {
  std::signal(SIGINT, RemoveTempsAndDie);
  std::signal(SIGTERM, RemoveTempsAndDie);
  std::signal(SIGHUP, RemoveTempsAndDie);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    is_stdout_ = true;
    f_ = stdout;
    return;
  }
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  slot_ = RegisterTemp(tmp_);
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (f_ == nullptr) {
    ReleaseTemp(slot_);
    Fail(ExitCode::kCantCreate, path_, ": cannot create output: ", std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (is_stdout_ || committed_) return;
  if (f_ != nullptr) std::fclose(f_);
  std::remove(tmp_.c_str());
  ReleaseTemp(slot_);
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
  ReleaseTemp(slot_);
  committed_ = true;
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.Write(bytes);
  f.Commit();
}

}  // namespace avrec
