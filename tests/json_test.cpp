// avrec's JSON parser (ParseJson, ReadJsonValues): the values it builds
// against nlohmann's own parser, the texts it refuses and where it says they
// break, strings across the reader's windows, members left out.
#include "avrec/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json_values.h"
#include "test_util.h"

namespace avrec {
namespace {

nlohmann::json Parsed(const std::string& text) {
  nlohmann::json j;
  std::string error;
  EXPECT_TRUE(ParseJson(text, &j, &error)) << text << ": " << error;
  return j;
}

std::string ErrorOf(const std::string& text) {
  nlohmann::json j;
  std::string error;
  EXPECT_FALSE(ParseJson(text, &j, &error)) << text;
  EXPECT_TRUE(j.is_null());
  return error;
}

TEST(Json, ValuesAreNlohmannsValues) {
  const std::vector<std::string> texts = {"0",
                                          "-0",
                                          "1",
                                          "-1",
                                          "3.25",
                                          "-2.5e3",
                                          "1E+2",
                                          "6.02e-23",
                                          "0.1e-400",
                                          "18446744073709551615",  // the largest unsigned: an integer
                                          "18446744073709551616",  // one more: a double
                                          "-9223372036854775808",  // the smallest signed: an integer
                                          "-9223372036854775809",  // one less: a double
                                          "123456789012345678901234567890.5",
                                          "true",
                                          "false",
                                          "null",
                                          "\"\"",
                                          "\"plain\"",
                                          "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"",
                                          "\"\\u0041\\u00e9\\u4e2d\\ud83d\\ude00\"",
                                          "\"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x8e\xb5\"",
                                          "[]",
                                          "{}",
                                          " \t\r\n[ 1 , [ ] , { } ]\n ",
                                          "{\"a\": {\"b\": [1, {\"c\": null}]}, \"d\": \"e\"}",
                                          "[1,2,3,4,5,6,7,8,9,10]",
                                          "\xef\xbb\xbf{\"after a byte-order mark\": 1}"};
  for (const std::string& t : texts) {
    const nlohmann::json ours = Parsed(t), theirs = nlohmann::json::parse(t);
    EXPECT_EQ(ours, theirs) << t;
    EXPECT_EQ(ours.type(), theirs.type()) << t;  // unsigned, signed or double, as nlohmann reads it
    EXPECT_EQ(ours.dump(), theirs.dump()) << t;
  }
  // Nesting: 64 levels are read, 65 are not.
  EXPECT_EQ(Parsed(std::string(64, '[') + std::string(64, ']')).dump(), std::string(64, '[') + std::string(64, ']'));
  EXPECT_EQ(ErrorOf(std::string(65, '[') + std::string(65, ']')), JsonDepthText() + " (column 65)");
}

TEST(Json, RefusedTextsSayWhatAndWhere) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not valid JSON: unexpected end of input; expected a value (column 1)"},
      {"   ", "not valid JSON: unexpected end of input; expected a value (column 4)"},
      {"[1,2,]", "not valid JSON: unexpected ']'; expected a value (column 6)"},
      {"[1 2]", "not valid JSON: unexpected '2'; expected ',' or ']' after a list's element (column 4)"},
      {"{\"a\" 1}", "not valid JSON: unexpected '1'; expected ':' after the key (column 6)"},
      {"{\"a\":1,}", "not valid JSON: unexpected '}'; expected a key (a string in double quotes) (column 8)"},
      {"{a:1}", "not valid JSON: unexpected 'a'; expected a key (a string in double quotes) (column 2)"},
      {"{'a':1}", "not valid JSON: unexpected \"'\"; expected a key (a string in double quotes) (column 2)"},
      {"{\"a\":1 \"b\":2}", "not valid JSON: unexpected '\"'; expected ',' or '}' after an object's member (column 8)"},
      {"tru", "not valid JSON: invalid literal: expected 'true' (column 4)"},
      {"nul!", "not valid JSON: invalid literal: expected 'null' (column 4)"},
      {"NaN", "not valid JSON: unexpected 'N'; expected a value (column 1)"},
      {"01", "not valid JSON: invalid number: a leading zero (column 2)"},
      {"-", "not valid JSON: invalid number: expected a digit after '-' (column 2)"},
      {"1.", "not valid JSON: invalid number: expected a digit after '.' (column 3)"},
      {"1e+", "not valid JSON: invalid number: expected a digit in the exponent (column 4)"},
      {".5", "not valid JSON: unexpected '.'; expected a value (column 1)"},
      {"1e999", "number out of range (beyond double precision): '1e999' (column 1)"},
      {"-1e999", "number out of range (beyond double precision): '-1e999' (column 1)"},
      {"[1] [2]", "not valid JSON: text after the JSON value (column 5)"},
      {"\"abc", "not valid JSON: unexpected end of input in a string (a quote that never closes?) (column 5)"},
      {"\"a\nb\"",
       "not valid JSON: a line end in a string (a quote that never closes, or write it as \\n) (line 1, column 3)"},
      {std::string("\"a\x01\""), "not valid JSON: control byte 0x01 in a string (write it as a \\u escape) (column 3)"},
      {"\"\\x\"", "not valid JSON: invalid escape in a string: '\\' followed by 'x' (column 3)"},
      {"\"\\u12G4\"", "not valid JSON: invalid \\u escape in a string: expected four hex digits (column 6)"},
      {"\"\\ud800\"", "not valid JSON: invalid \\u escape in a string: a high surrogate without a low one (column 8)"},
      {"\"\\ud800\\u0041\"",
       "not valid JSON: invalid \\u escape in a string: a high surrogate without a low one (column 14)"},
      {"\"\\udc00\"", "not valid JSON: invalid \\u escape in a string: a low surrogate without a high one (column 8)"},
      {"\"ok \xff\"", "not valid JSON: invalid UTF-8 in a string (byte 4 of the string) (column 1)"},
      {"\"\xe4\xb8\"", "not valid JSON: invalid UTF-8 in a string (byte 1 of the string) (column 1)"},
      {"\"\xed\xa0\x80\"",
       "not valid JSON: invalid UTF-8 in a string (byte 1 of the string) (column 1)"},  // a surrogate
      {"{}\xef\xbb\xbf", "not valid JSON: text after the JSON value (column 3)"},       // a BOM, not at the start
      {"{\"a\":1,\"a\":2}", "key 'a' appears twice in one object (column 11)"},
      {"{\n  \"a\": [1,\n  2,,\n]}", "not valid JSON: unexpected ','; expected a value (line 3, column 5)"},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(ErrorOf(text), expected) << text;
  // A NUL byte ends nothing (nlohmann's parser took one for the end of the input).
  EXPECT_EQ(ErrorOf(std::string("[1]\0junk", 8)), "not valid JSON: text after the JSON value (column 4)");
  EXPECT_EQ(ErrorOf(std::string("[1,\0]", 5)), "not valid JSON: unexpected byte 0x00; expected a value (column 4)");
  // The messages carry no raw control bytes: a control byte is shown by its code.
  EXPECT_EQ(ErrorOf(std::string("\x07")), "not valid JSON: unexpected byte 0x07; expected a value (column 1)");
}

// ReadJsonValues reads a file in windows (64 KiB); a value is read the same
// whichever of its bytes falls at a window's edge.
TEST(Json, StringsAndNumbersAcrossTheReadersWindows) {
  test::TempDir dir;
  for (size_t pad : {size_t{65536 - 12}, size_t{65536 - 11}, size_t{65536 - 10}, size_t{65536 - 9}, size_t{65536 - 8},
                     size_t{65536 - 7}, size_t{65536 - 6}, size_t{65536 - 5}}) {
    // A long string with an escape, a surrogate pair and a three-byte
    // character near the edge, then a number and a literal across it.
    const std::string s =
        "\"" + std::string(pad, 'x') + "\\n\\ud83d\\ude00\xe4\xb8\xad" + std::string(70000, 'y') + "\"";
    const std::string text = "[" + s + ", 123456.75, true]\n{\"k\": -42}\n";
    test::WriteFile(dir / "w.jsonl", text);
    std::vector<nlohmann::json> values;
    ByteSource src(dir / "w.jsonl");
    ReadJsonValues(
        &src, "", [](int64_t, int64_t, nlohmann::json&&) {},
        [&](JsonValueRead&& v) { values.push_back(std::move(v.value)); }, 1 << 20);
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(values[0], nlohmann::json::parse("[" + s + ", 123456.75, true]")) << pad;
    EXPECT_EQ(values[1], nlohmann::json::parse("{\"k\": -42}"));
  }
  // A broken character cut by the window's edge is still found.
  const std::string bad = "[\"" + std::string(65536 - 3, 'x') + "\xe4\xb8\"]\n";
  test::WriteFile(dir / "bad.jsonl", bad);
  ByteSource src(dir / "bad.jsonl");
  try {
    ReadJsonValues(
        &src, "", [](int64_t, int64_t, nlohmann::json&&) {}, [](JsonValueRead&&) {}, 1 << 20);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir / "bad.jsonl:1: not valid JSON: invalid UTF-8 in a string (byte 65534 of the string) (column 2)");
  }
}

// A reader that needs a few fields of large records leaves the others out;
// they are still checked as JSON.
TEST(Json, MembersLeftOutAreCheckedNotKept) {
  test::TempDir dir;
  const auto keep = [](size_t depth, const std::string& key) { return !(depth == 1 && key == "words"); };
  const auto read = [&](const std::string& text) {
    test::WriteFile(dir / "k.json", text);
    std::vector<std::string> seen;
    ByteSource src(dir / "k.json");
    ReadJsonValues(
        &src, "users", [&](int64_t i, int64_t, nlohmann::json&& e) { seen.push_back(std::to_string(i) + e.dump()); },
        [&](JsonValueRead&& v) { seen.push_back(v.value.dump()); }, 1 << 20, keep);
    return seen;
  };
  // depth counts from the record: the list's element in a document, the value in JSON Lines.
  EXPECT_EQ(read("{\"words\": 1, \"users\": [{\"a\": {\"words\": [1, {\"x\": 2}], \"n\": 3}, \"words\": 4}]}\n"
                 "{\"a\": {\"words\": \"w\", \"n\": 5}}\n"),
            (std::vector<std::string>{"0{\"a\":{\"n\":3,\"words\":null},\"words\":4}", "{\"words\":1}",
                                      "{\"a\":{\"n\":5,\"words\":null}}"}));
  for (const std::string& broken :
       {std::string("{\"a\": {\"words\": [1, }}\n"), std::string("{\"a\": {\"words\": \"\xff\"}}\n"),
        std::string("{\"a\": {\"words\": ") + std::string(70, '[') + "}}\n",
        std::string("{\"a\": {\"words\": 1, \"words\": 2}}\n")}) {
    EXPECT_THROW(read(broken), Error) << broken;
  }
}

}  // namespace
}  // namespace avrec
