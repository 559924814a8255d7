#include "io/json_parser.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "avrec/text.h"

namespace avrec {

bool JsonInput::Refill() {
  if (src_ == nullptr) return false;
  Release();
  const std::string_view w = src_->Window();
  begin_ = p_ = w.data();
  end_ = w.data() + w.size();
  return !w.empty();
}

void JsonInput::Release() {
  if (src_ == nullptr || begin_ == nullptr) return;
  src_->Consume(static_cast<size_t>(p_ - begin_));
  base_ += p_ - begin_;
  begin_ = end_ = p_ = nullptr;
}

namespace {

// Bytes a string holds as they are: not '"', '\\' or a control byte.
constexpr std::array<bool, 256> PlainStringBytes() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 256; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}
constexpr std::array<bool, 256> kPlain = PlainStringBytes();

// A byte's code: 0x0A.
std::string Hex(int c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return buf;
}

// A byte as a message shows it: 'x', or its code when not printable.
std::string Shown(int c) {
  if (c < 0) return "end of input";
  if (c >= 0x20 && c < 0x7F) {
    const char quote = c == '\'' ? '"' : '\'';
    return std::string{quote, static_cast<char>(c), quote};
  }
  return "byte " + Hex(c);
}

class Parser {
 public:
  Parser(JsonInput* in, JsonHandler* h) : in_(*in), h_(h) {}

  void Value(int depth) {
    in_.SkipBlanks();
    const int c = in_.Peek();
    switch (c) {
      case '{':
      case '[':
        if (depth + 1 > kMaxJsonDepth) throw JsonSyntaxError{JsonDepthText(), in_.line(), in_.column()};
        if (c == '{') {
          Object(depth + 1);
        } else {
          Array(depth + 1);
        }
        return;
      case '"':
        h_->String(String());
        return;
      case 't':
        Literal("true");
        h_->Bool(true);
        return;
      case 'f':
        Literal("false");
        h_->Bool(false);
        return;
      case 'n':
        Literal("null");
        h_->Null();
        return;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          Number();
          return;
        }
        Unexpected(c, "a value");
    }
  }

  // A value checked as Value checks it, handed to no one.
  void SkipValue(int depth) {
    JsonHandler* h = h_;
    Discard discard;
    h_ = &discard;
    Value(depth);
    h_ = h;
  }

 private:
  // Takes the values of a member that is skipped.
  class Discard : public JsonHandler {
   public:
    void Null() override {}
    void Bool(bool) override {}
    void Int(int64_t) override {}
    void Uint(uint64_t) override {}
    void Double(double) override {}
    void String(std::string&&) override {}
    void StartObject() override {}
    bool Key(std::string&&) override { return true; }
    void EndObject() override {}
    void StartArray() override {}
    void EndArray() override {}
  };

  // Not JSON at the next byte.
  [[noreturn]] void Fail(const std::string& reason) const {
    throw JsonSyntaxError{"not valid JSON: " + reason, in_.line(), in_.column()};
  }
  [[noreturn]] void Unexpected(int c, const char* expected) const {
    Fail("unexpected " + Shown(c) + "; expected " + expected);
  }

  void Object(int depth) {
    h_->StartObject();
    Items('}', "',' or '}' after an object's member", [&] {
      in_.SkipBlanks();
      if (in_.Peek() != '"') Unexpected(in_.Peek(), "a key (a string in double quotes)");
      const bool wanted = h_->Key(String());
      in_.SkipBlanks();
      if (in_.Peek() != ':') Unexpected(in_.Peek(), "':' after the key");
      in_.Skip();
      if (wanted) {
        Value(depth);
      } else {
        SkipValue(depth);
      }
    });
    h_->EndObject();
  }

  void Array(int depth) {
    h_->StartArray();
    Items(']', "',' or ']' after a list's element", [&] { Value(depth); });
    h_->EndArray();
  }

  // An object's members or a list's elements, from the opening bracket to
  // `close`; `item` reads one.
  template <class Item>
  void Items(char close, const char* expected_after_item, const Item& item) {
    in_.Skip();
    in_.SkipBlanks();
    if (in_.Peek() == close) {
      in_.Skip();
      return;
    }
    for (;;) {
      item();
      in_.SkipBlanks();
      const int c = in_.Peek();
      in_.CheckBound();
      if (c == ',') {
        in_.Skip();
        continue;
      }
      if (c != close) Unexpected(c, expected_after_item);
      in_.Skip();
      return;
    }
  }

  void Literal(const char* word) {
    for (const char* w = word; *w != '\0'; ++w) {
      if (in_.Peek() != *w) Fail("invalid literal: expected '" + std::string(word) + "'");
      in_.Skip();
    }
  }

  // Four hex digits of a \u escape.
  unsigned Hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const int c = in_.Peek();
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) Fail("invalid \\u escape in a string: expected four hex digits");
      in_.Skip();
      v = v * 16 + static_cast<unsigned>(d);
    }
    return v;
  }

  void Escape(std::string* out) {
    const int c = in_.Peek();
    char plain = 0;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        plain = static_cast<char>(c);
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u':
        break;
      default:
        Fail("invalid escape in a string: '\\' followed by " + Shown(c));
    }
    in_.Skip();
    if (c != 'u') {
      out->push_back(plain);
      return;
    }
    unsigned cp = Hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) Fail("invalid \\u escape in a string: a low surrogate without a high one");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (in_.Peek() != '\\') Fail("invalid \\u escape in a string: a high surrogate without a low one");
      in_.Skip();
      if (in_.Peek() != 'u') Fail("invalid \\u escape in a string: a high surrogate without a low one");
      in_.Skip();
      const unsigned lo = Hex4();
      if (lo < 0xDC00 || lo > 0xDFFF) Fail("invalid \\u escape in a string: a high surrogate without a low one");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    AppendUtf8(cp, out);
  }

  // A string from its opening quote; the bytes between escapes are copied by
  // runs and checked as UTF-8 once, at the end (an escape writes whole
  // characters, so it can neither complete nor break a sequence).
  std::string String() {
    const int64_t line = in_.line(), column = in_.column();
    in_.Skip();
    std::string out;
    bool ascii = true;
    for (;;) {
      const std::string_view run = in_.Run();
      if (run.empty()) Fail("unexpected end of input in a string (a quote that never closes?)");
      size_t n = 0;
      unsigned char high = 0;
      while (n < run.size() && kPlain[static_cast<unsigned char>(run[n])]) high |= static_cast<unsigned char>(run[n++]);
      ascii = ascii && high < 0x80;
      out.append(run.data(), n);
      in_.Take(n);
      in_.CheckBound();
      if (n == run.size()) continue;
      const int c = static_cast<unsigned char>(run[n]);
      if (c == '"') {
        in_.Take(1);
        break;
      }
      if (c == '\\') {
        in_.Take(1);
        Escape(&out);
        continue;
      }
      Fail(c == '\n' ? std::string("a line end in a string (a quote that never closes, or write it as \\n)")
                     : "control byte " + Hex(c) + " in a string (write it as a \\u escape)");
    }
    size_t bad = 0;
    if (!ascii && !IsValidUtf8(out, &bad)) {
      throw JsonSyntaxError{
          "not valid JSON: invalid UTF-8 in a string (byte " + std::to_string(bad + 1) + " of the string)", line,
          column};
    }
    return out;
  }

  // RFC 8259's number, given to the handler as an unsigned or signed
  // integer when it is one and fits, as a double otherwise.
  void Number() {
    const int64_t line = in_.line(), column = in_.column();
    text_.clear();
    const auto digits = [&]() {
      size_t n = 0;
      for (int c = in_.Peek(); c >= '0' && c <= '9'; c = in_.Peek(), ++n) {
        text_.push_back(static_cast<char>(c));
        in_.Skip();
        if ((n & 0xFFF) == 0xFFF) in_.CheckBound();
      }
      return n;
    };
    bool integer = true;
    if (in_.Peek() == '-') {
      text_.push_back('-');
      in_.Skip();
    }
    if (in_.Peek() == '0') {
      text_.push_back('0');
      in_.Skip();
      if (in_.Peek() >= '0' && in_.Peek() <= '9') Fail("invalid number: a leading zero");
    } else if (digits() == 0) {
      Fail("invalid number: expected a digit after '-'");
    }
    if (in_.Peek() == '.') {
      integer = false;
      text_.push_back('.');
      in_.Skip();
      if (digits() == 0) Fail("invalid number: expected a digit after '.'");
    }
    if (in_.Peek() == 'e' || in_.Peek() == 'E') {
      integer = false;
      text_.push_back('e');
      in_.Skip();
      if (in_.Peek() == '+' || in_.Peek() == '-') {
        text_.push_back(static_cast<char>(in_.Peek()));
        in_.Skip();
      }
      if (digits() == 0) Fail("invalid number: expected a digit in the exponent");
    }
    in_.CheckBound();
    const char* first = text_.data();
    const char* last = first + text_.size();
    if (integer) {
      if (text_[0] == '-') {
        int64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc()) {
          h_->Int(v);
          return;
        }
      } else {
        uint64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc()) {
          h_->Uint(v);
          return;
        }
      }
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    // Out of range is either side: a value that rounds to zero is read as
    // strtod reads it; one beyond double's range is an error.
    if (r.ec == std::errc::result_out_of_range) d = std::strtod(text_.c_str(), nullptr);
    if (!std::isfinite(d)) {
      throw JsonSyntaxError{"number out of range (beyond double precision): " + EscapeForMessage(text_, 40), line,
                            column};
    }
    h_->Double(d);
  }

  JsonInput& in_;
  JsonHandler* h_;
  std::string text_;  // of the number being read
};

}  // namespace

void ParseJsonValue(JsonInput* in, JsonHandler* h) { Parser(in, h).Value(0); }

bool JsonDomBuilder::Key(std::string&& k) {
  nlohmann::json& object = *stack_.back();
  if (stack_.size() == 1) top_member_streamed_ = !streamed_key_.empty() && k == streamed_key_;
  auto [it, added] = object.get_ref<nlohmann::json::object_t&>().try_emplace(std::move(k));
  if (!added) throw JsonSyntaxError{JsonDuplicateKeyText(it->first), in_->line(), in_->column()};
  member_ = &it->second;
  if (!keep_) return true;
  // Inside an element of the streamed list, the element is the record.
  const size_t base = stack_.size() >= 3 && stack_[1] == nullptr ? 2 : 0;
  return keep_(stack_.size() - 1 - base, it->first);
}

void JsonDomBuilder::StartArray() {
  if (stack_.size() == 1 && top_member_streamed_ && top_.is_object()) {
    // The streamed list: its elements go out, its key leaves the value at
    // the end (TakeValue), so a repeat of the key is still caught.
    streamed_ = true;
    next_element_ = 0;
    in_->StartValue();
    stack_.push_back(nullptr);
    return;
  }
  Open(nlohmann::json::array());
}

nlohmann::json JsonDomBuilder::TakeValue() {
  if (streamed_) top_.erase(streamed_key_);
  return std::move(top_);
}

nlohmann::json* JsonDomBuilder::Slot() {
  if (stack_.empty()) return &top_;
  nlohmann::json* c = stack_.back();
  if (c == nullptr) return nullptr;
  if (c->is_object()) return member_;
  c->push_back(nullptr);
  return &c->back();
}

void JsonDomBuilder::Put(nlohmann::json&& v) {
  nlohmann::json* slot = Slot();
  if (slot != nullptr) {
    *slot = std::move(v);
    return;
  }
  on_element_(next_element_++, in_->line(), std::move(v));
  in_->StartValue();
}

void JsonDomBuilder::Open(nlohmann::json&& container) {
  nlohmann::json* slot = Slot();
  if (slot == nullptr) {  // an element of the streamed list
    element_ = std::move(container);
    element_line_ = in_->line();
    slot = &element_;
  } else {
    *slot = std::move(container);
  }
  stack_.push_back(slot);
}

void JsonDomBuilder::Close() {
  const nlohmann::json* closed = stack_.back();
  stack_.pop_back();
  if (closed == &element_) on_element_(next_element_++, element_line_, std::move(element_));
  // The next element, or what follows the list, is bounded on its own.
  if (closed == &element_ || closed == nullptr) in_->StartValue();
}

}  // namespace avrec
