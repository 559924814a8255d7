// What the file-reading fuzz targets share: the scratch file each writes its
// input to (one per process, named with the extension its readers go by),
// and the rule every message they see must keep.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace avrec::fuzz {

// $TMPDIR/avrec_fuzz_PID<ext>; `ext` is the same for every call of a target.
inline const std::string& ScratchPath(const char* ext) {
  static const std::string path = [ext] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/avrec_fuzz_" + std::to_string(::getpid()) + ext;
  }();
  return path;
}

// The input as the scratch file's whole content.
inline void WriteScratch(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
}

// Aborts when a message is empty or carries a raw control byte (messages
// escape what they quote).
inline void RequirePrintable(const std::string& message) {
  if (message.empty()) std::abort();
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) std::abort();
  }
}

}  // namespace avrec::fuzz
