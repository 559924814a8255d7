// Reading a sequence of JSON values from a byte source without holding it:
// one document, JSON Lines, or values one after another. Recommendation
// lists are read this way, a user at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "avrec/io.h"

namespace avrec {

// A top-level value ReadJsonValues read, with the lines it spans.
struct JsonValueRead {
  nlohmann::json value;
  int64_t first_line = 0, last_line = 0;
  // Its member named `streamed_key` was an array, handed out element by
  // element and left out of `value`.
  bool streamed = false;
};

// Reads the JSON values of `src` in turn, without holding the input: one
// document, JSON Lines, or values one after another, each ending its last
// line. ParseJson's checks apply. The member `streamed_key` of a top-level
// object, when it is an array, is not kept: each element goes to
// `on_element(index, line, element)` (the line it starts on) as soon as it
// has been read, so a document whose bulk is one list takes the memory of
// one element at a time. Each top-level value then goes to `on_value`. Throws Error(kDataErr)
// "PATH:LINE: reason" where the text is not valid JSON, a line holds text
// after a value, or a value (an element of the streamed list, or what is
// outside it) runs past `max_value_bytes` (a string that never closes would
// take all memory); whatever the callbacks throw passes through.
// With `keep`, only the members it keeps are read into the values (the
// others are checked as JSON and left null): keep(depth, key) for the member
// `key` of an object `depth` levels into its record (0: the element of the
// streamed list, or the top-level value, is the object).
void ReadJsonValues(ByteSource* src, const std::string& streamed_key,
                    const std::function<void(int64_t, int64_t, nlohmann::json&&)>& on_element,
                    const std::function<void(JsonValueRead&&)>& on_value, size_t max_value_bytes,
                    const std::function<bool(size_t, const std::string&)>& keep = nullptr);

}  // namespace avrec
