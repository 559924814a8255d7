#include "avrec/json_values.h"

#include <iterator>
#include <limits>
#include <set>
#include <vector>

#include "avrec/error.h"
#include "avrec/json.h"

namespace avrec {

namespace {

// Thrown by LineCursor when a value runs past its bound.
struct ValueTooLong {};

// The bytes of a ByteSource, and where the parser has got to in them.
struct LineCursor {
  ByteSource* src;
  int64_t max_bytes;             // of one value, or one element of the streamed list
  int64_t line = 1, column = 0;  // column: bytes of this line consumed
  int64_t consumed = 0, limit = std::numeric_limits<int64_t>::max();
  int last = -1;         // the byte consumed last
  bool hit_end = false;  // the parser looked past the end of the input

  // The value (or element) now being read starts here.
  void StartValue() { limit = consumed + max_bytes; }
  // Between values: blanks are not kept, so they are not bounded.
  void EndValue() { limit = std::numeric_limits<int64_t>::max(); }
  int Peek() const { return src->Peek(); }
  void Advance() {
    if (++consumed > limit) throw ValueTooLong{};
    last = src->Get();
    if (last == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  }
};

// LineCursor as the input iterator nlohmann's parser reads from; a
// default-constructed one is the end.
class CursorIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  CursorIterator() = default;
  explicit CursorIterator(LineCursor* cursor) : cursor_(cursor) {}
  char operator*() const { return static_cast<char>(cursor_->Peek()); }
  CursorIterator& operator++() {
    cursor_->Advance();
    return *this;
  }
  bool operator==(const CursorIterator& other) const { return AtEnd() == other.AtEnd(); }
  bool operator!=(const CursorIterator& other) const { return !(*this == other); }

 private:
  bool AtEnd() const {
    if (cursor_ == nullptr) return true;
    if (cursor_->Peek() >= 0) return false;
    cursor_->hit_end = true;
    return true;
  }
  LineCursor* cursor_ = nullptr;
};

// SAX events into one top-level value at a time, ParseJson's checks on the
// way, except the elements of the streamed array, which go out one by one.
class ValueBuilder {
 public:
  ValueBuilder(LineCursor& cursor, const std::string& streamed_key,
               const std::function<void(int64_t, int64_t, nlohmann::json&&)>& on_element)
      : cursor_(cursor), streamed_key_(streamed_key), on_element_(on_element) {}

  // Ready for the next top-level value, which starts on `line`.
  void Reset(int64_t line) {
    first_line_ = line;
    top_ = nullptr;
    frames_.clear();
    streamed_ = false;
  }
  nlohmann::json& top() { return top_; }
  bool streamed() const { return streamed_; }

  bool null() { return Put(nullptr); }
  bool boolean(bool b) { return Put(b); }
  bool number_integer(int64_t v) { return Put(v); }
  bool number_unsigned(uint64_t v) { return Put(v); }
  bool number_float(double v, const std::string& /*text*/) { return Put(v); }
  bool string(std::string& s) { return Put(std::move(s)); }
  bool binary(nlohmann::json::binary_t& b) { return Put(nlohmann::json::binary(std::move(b))); }
  bool start_object(size_t /*size*/) { return Open(nlohmann::json::object()); }
  bool start_array(size_t /*size*/) { return Open(nlohmann::json::array()); }
  bool key(std::string& k) {
    if (!frames_.back().keys.insert(k).second) Stop(JsonDuplicateKeyText(k));
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& e) {
    Stop(JsonParseErrorText(e));
    return false;
  }

  // Error(kDataErr) "PATH:LINE: reason" at the cursor.
  [[noreturn]] void Stop(const std::string& reason) const {
    std::string at = cursor_.column > 0 ? "column " + std::to_string(cursor_.column) : "";
    if (first_line_ != cursor_.line) {
      at += (at.empty() ? "" : "; ") + std::string("in the value that starts on line ") + std::to_string(first_line_);
    }
    Fail(ExitCode::kDataErr, cursor_.src->path(), ":", cursor_.line, ": ", reason, at.empty() ? "" : " (" + at + ")");
  }

 private:
  struct Frame {
    nlohmann::json* target;  // nullptr: the streamed array
    std::set<std::string> keys;
  };

  // Where the next value goes: null when it is a streamed element.
  nlohmann::json* Slot() {
    if (frames_.empty()) return &top_;
    nlohmann::json* t = frames_.back().target;
    if (t == nullptr) return nullptr;
    if (t->is_object()) return &(*t)[key_];
    t->push_back(nullptr);
    return &t->back();
  }

  bool Put(nlohmann::json&& v) {
    nlohmann::json* slot = Slot();
    if (slot == nullptr) {
      on_element_(next_element_++, cursor_.line, std::move(v));
      cursor_.StartValue();
    } else {
      *slot = std::move(v);
    }
    return true;
  }

  bool Open(nlohmann::json&& container) {
    if (static_cast<int>(frames_.size()) > kMaxJsonDepth) Stop(JsonDepthText());
    if (frames_.size() == 1 && top_.is_object() && container.is_array() && key_ == streamed_key_ &&
        !streamed_key_.empty()) {
      streamed_ = true;
      next_element_ = 0;
      cursor_.StartValue();
      frames_.push_back(Frame{nullptr, {}});
      return true;
    }
    nlohmann::json* slot = Slot();
    if (slot == nullptr) {
      element_ = std::move(container);
      element_line_ = cursor_.line;
      slot = &element_;
    } else {
      *slot = std::move(container);
    }
    frames_.push_back(Frame{slot, {}});
    return true;
  }

  bool Close() {
    const bool element = frames_.back().target == &element_, list = frames_.back().target == nullptr;
    frames_.pop_back();
    if (element) on_element_(next_element_++, element_line_, std::move(element_));
    // The next element, or what follows the list, is bounded on its own.
    if (element || list) cursor_.StartValue();
    return true;
  }

  LineCursor& cursor_;
  const std::string& streamed_key_;
  const std::function<void(int64_t, int64_t, nlohmann::json&&)>& on_element_;
  nlohmann::json top_, element_;
  std::vector<Frame> frames_;
  std::string key_;
  bool streamed_ = false;
  int64_t next_element_ = 0, element_line_ = 0, first_line_ = 0;
};

}  // namespace

void ReadJsonValues(ByteSource* src, const std::string& streamed_key,
                    const std::function<void(int64_t, int64_t, nlohmann::json&&)>& on_element,
                    const std::function<void(JsonValueRead&&)>& on_value, size_t max_value_bytes) {
  LineCursor cursor{src, static_cast<int64_t>(max_value_bytes)};
  ValueBuilder builder(cursor, streamed_key, on_element);
  const auto blank = [](int c) { return c == ' ' || c == '\t' || c == '\r'; };
  for (;;) {
    while (blank(cursor.Peek()) || cursor.Peek() == '\n') cursor.Advance();
    if (cursor.Peek() < 0) return;
    JsonValueRead read;
    read.first_line = cursor.line;
    builder.Reset(read.first_line);
    cursor.StartValue();
    cursor.hit_end = false;
    try {
      nlohmann::json::sax_parse(CursorIterator(&cursor), CursorIterator(), &builder,
                                nlohmann::json::input_format_t::json, /*strict=*/false);
    } catch (const ValueTooLong&) {
      builder.Stop("a JSON value longer than " + std::to_string(max_value_bytes) +
                   " bytes (a string or list that never closes, or binary data?)");
    }
    cursor.EndValue();
    // A number is only known to end at the byte after it, which the parser
    // has taken unless the input ended there: a line end ends its line, a
    // blank is followed by the usual check, anything else is text after it.
    const bool took_next = builder.top().is_number() && !cursor.hit_end;
    read.last_line = took_next && cursor.last == '\n' ? cursor.line - 1 : cursor.line;
    if (!(took_next && cursor.last == '\n')) {
      if (took_next && !blank(cursor.last)) builder.Stop("text after the JSON value that ends on this line");
      while (blank(cursor.Peek())) cursor.Advance();
      if (cursor.Peek() >= 0 && cursor.Peek() != '\n') {
        cursor.Advance();
        builder.Stop("text after the JSON value that ends on this line");
      }
    }
    read.value = std::move(builder.top());
    read.streamed = builder.streamed();
    on_value(std::move(read));
  }
}

}  // namespace avrec
