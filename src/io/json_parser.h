// avrec's JSON parser: one value at a time from a string or a ByteSource,
// as events to a handler. nlohmann::json keeps the values; its own parser
// reads a byte at a time through two buffers and ran at about 30 MB/s on a
// night's recommendation lists, slower than Python's json module. This one
// scans strings by runs and checks them as UTF-8 in one pass.
//
// The grammar is RFC 8259's: no comments, no trailing commas, no NaN. Strings
// must be valid UTF-8 (escapes included: a lone surrogate is an error),
// numbers within the range of a double, nesting at most kMaxJsonDepth deep.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "avrec/io.h"
#include "avrec/json.h"

namespace avrec {

// Where a JSON text breaks: the reason in words and the byte it broke at
// (line and column from 1; the column counts bytes).
struct JsonSyntaxError {
  std::string reason;
  int64_t line = 0, column = 0;
};

// The bytes a parser reads: a whole string, or a ByteSource window by
// window. Tracks lines (JSON has line ends only between tokens) and bounds
// the bytes one value may take.
class JsonInput {
 public:
  explicit JsonInput(std::string_view text) : p_(text.data()), begin_(p_), end_(p_ + text.size()) {}
  explicit JsonInput(ByteSource* src) : src_(src) {}
  ~JsonInput() { Release(); }
  JsonInput(const JsonInput&) = delete;
  JsonInput& operator=(const JsonInput&) = delete;

  // The next byte without consuming it; -1 at the end of input.
  int Peek() {
    if (p_ == end_ && !Refill()) return -1;
    return static_cast<unsigned char>(*p_);
  }
  // Consumes the byte Peek() returned.
  void Skip() {
    if (*p_ == '\n') {
      ++line_;
      line_start_ = offset() + 1;
    }
    ++p_;
  }
  // The buffered bytes from the next one on (empty at the end of input);
  // Take(n) consumes n of them, none a line end.
  std::string_view Run() {
    if (p_ == end_ && !Refill()) return {};
    return {p_, static_cast<size_t>(end_ - p_)};
  }
  void Take(size_t n) { p_ += n; }
  // Skips JSON's blanks (space, tab, carriage return), and line ends unless
  // `line_ends` is false.
  void SkipBlanks(bool line_ends = true) {
    for (int c = Peek(); c == ' ' || c == '\t' || c == '\r' || (c == '\n' && line_ends); c = Peek()) Skip();
  }

  int64_t offset() const { return base_ + (p_ - begin_); }
  int64_t line() const { return line_; }
  int64_t column() const { return offset() - line_start_ + 1; }  // of the next byte

  // The value read from here on may take `max_bytes` bytes; past them
  // CheckBound throws JsonSyntaxError (a string that never closes would
  // otherwise take all memory).
  void StartValue(int64_t max_bytes) {
    max_bytes_ = max_bytes;
    StartValue();
  }
  void StartValue() { limit_ = max_bytes_ >= INT64_MAX - offset() ? INT64_MAX : offset() + max_bytes_; }
  void EndValue() { limit_ = INT64_MAX; }
  void CheckBound() const {
    if (offset() > limit_) {
      throw JsonSyntaxError{"a JSON value longer than " + std::to_string(max_bytes_) +
                                " bytes (a string or list that never closes, or binary data?)",
                            line_, column()};
    }
  }

 private:
  bool Refill();
  void Release();

  ByteSource* src_ = nullptr;
  const char* p_ = nullptr;
  const char* begin_ = nullptr;  // of the window
  const char* end_ = nullptr;
  int64_t base_ = 0;  // offset of begin_
  int64_t line_ = 1, line_start_ = 0;
  int64_t limit_ = INT64_MAX, max_bytes_ = INT64_MAX;
};

// What a parser hands its values to. Key returns false to have the member's
// value checked and skipped instead of handed out (a reader that needs only
// some fields of a large record).
class JsonHandler {
 public:
  virtual ~JsonHandler() = default;
  virtual void Null() = 0;
  virtual void Bool(bool b) = 0;
  virtual void Int(int64_t v) = 0;
  virtual void Uint(uint64_t v) = 0;
  virtual void Double(double v) = 0;
  virtual void String(std::string&& s) = 0;
  virtual void StartObject() = 0;
  virtual bool Key(std::string&& k) = 0;
  virtual void EndObject() = 0;
  virtual void StartArray() = 0;
  virtual void EndArray() = 0;
};

// Reads one JSON value from `in` (blanks before it are skipped, nothing
// after it is read) into `h`. Throws JsonSyntaxError where the text is not
// valid JSON; whatever `h` throws passes through.
void ParseJsonValue(JsonInput* in, JsonHandler* h);

// A handler building an nlohmann::json, rejecting a key repeated within an
// object (JsonSyntaxError at the key). With a `streamed_key`, the member of
// that name of a top-level object, when it is a list, is not kept: each of
// its elements goes to `on_element(index, line it starts on, element)` as
// soon as it has been read, and the input's bound starts again for the next
// (JsonInput::StartValue).
class JsonDomBuilder : public JsonHandler {
 public:
  using ElementFn = std::function<void(int64_t, int64_t, nlohmann::json&&)>;
  // Whether to keep the member `key` of an object `depth` levels into a
  // record (0: the record, an element of the streamed list or a top-level
  // value, is the object); a member not kept is checked as JSON and left
  // null. Null: every member is kept.
  using KeepFn = std::function<bool(size_t depth, const std::string& key)>;
  explicit JsonDomBuilder(JsonInput* in, std::string streamed_key = "", ElementFn on_element = nullptr,
                          KeepFn keep = nullptr)
      : in_(in), streamed_key_(std::move(streamed_key)), on_element_(std::move(on_element)), keep_(std::move(keep)) {}
  // The value read; with its streamed list's key taken out.
  nlohmann::json TakeValue();
  bool streamed() const { return streamed_; }  // the last value had its list handed out
  void Reset() {
    top_ = nullptr;
    stack_.clear();
    streamed_ = false;
  }

  void Null() override { Put(nullptr); }
  void Bool(bool b) override { Put(b); }
  void Int(int64_t v) override { Put(v); }
  void Uint(uint64_t v) override { Put(v); }
  void Double(double v) override { Put(v); }
  void String(std::string&& s) override { Put(std::move(s)); }
  void StartObject() override { Open(nlohmann::json::object()); }
  bool Key(std::string&& k) override;
  void EndObject() override { Close(); }
  void StartArray() override;
  void EndArray() override { Close(); }

 private:
  nlohmann::json* Slot();  // where the next value goes; null: an element of the streamed list
  void Put(nlohmann::json&& v);
  void Open(nlohmann::json&& container);
  void Close();

  JsonInput* in_;
  std::string streamed_key_;
  ElementFn on_element_;
  KeepFn keep_;
  nlohmann::json top_, element_;
  std::vector<nlohmann::json*> stack_;  // the open containers; null: the streamed list
  nlohmann::json* member_ = nullptr;    // an object's member whose key came last
  bool streamed_ = false, top_member_streamed_ = false;
  int64_t next_element_ = 0, element_line_ = 0;
};

}  // namespace avrec
