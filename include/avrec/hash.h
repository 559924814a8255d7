// Content hashes: SHA-256 (model checksums, stable ids, config hashes) and a
// fast 64-bit hash for sharding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avrec {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Lower-case hex SHA-256 of a file's bytes. Throws Error(kNoInput/kIoErr).
std::string Sha256File(const std::string& path);

// FNV-1a 64-bit: stable across platforms and versions (used for --shard).
inline uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace avrec
