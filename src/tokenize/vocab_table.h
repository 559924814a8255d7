// An open-addressing hash table from token strings to ids, looked up by
// string_view without allocating (the WordPiece inner loop).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "avrec/hash.h"

namespace avrec {

class VocabTable {
 public:
  // Adds or replaces `key`.
  void Put(std::string_view key, int32_t id) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    size_t i = Slot(key);
    if (slots_[i].id < 0) {
      slots_[i] = {static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), id};
      arena_.append(key);
      ++count_;
      if (key.size() > max_key_bytes_) max_key_bytes_ = key.size();
    } else {
      slots_[i].id = id;
    }
  }
  // Id of `key`, or -1.
  int32_t Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    return slots_[Slot(key)].id;
  }
  size_t max_key_bytes() const { return max_key_bytes_; }
  size_t size() const { return count_; }

 private:
  struct Entry {
    uint32_t offset = 0, length = 0;
    int32_t id = -1;
  };
  size_t Slot(std::string_view key) const {
    size_t mask = slots_.size() - 1;
    size_t i = Fnv1a64(key) & mask;
    while (slots_[i].id >= 0 && std::string_view(arena_.data() + slots_[i].offset, slots_[i].length) != key) {
      i = (i + 1) & mask;
    }
    return i;
  }
  void Grow() {
    std::vector<Entry> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Entry{});
    for (const Entry& e : old) {
      if (e.id < 0) continue;
      size_t i = Slot(std::string_view(arena_.data() + e.offset, e.length));
      slots_[i] = e;
    }
  }

  std::vector<Entry> slots_;
  std::string arena_;
  size_t count_ = 0;
  size_t max_key_bytes_ = 0;
};

}  // namespace avrec
