#include "avrec/json.h"

#include "avrec/text.h"
#include "io/json_parser.h"

namespace avrec {

std::string JsonDepthText() { return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"; }

std::string JsonDuplicateKeyText(const std::string& key) {
  return "key " + EscapeForMessage(key, 60) + " appears twice in one object";
}

bool ParseJson(std::string_view text, nlohmann::json* out, std::string* error) {
  JsonInput in(text);
  // A byte-order mark before the text is passed over (RFC 8259 allows it; a
  // file's own is dropped by ByteSource).
  if (text.substr(0, 3) == "\xEF\xBB\xBF") in.Take(3);
  JsonDomBuilder builder(&in);
  try {
    ParseJsonValue(&in, &builder);
    in.SkipBlanks();
    if (in.Peek() >= 0) throw JsonSyntaxError{"not valid JSON: text after the JSON value", in.line(), in.column()};
    *out = builder.TakeValue();
    return true;
  } catch (const JsonSyntaxError& e) {
    // A line of JSON Lines names its line itself; a document's error says where in it.
    const bool lines = text.find('\n') != std::string_view::npos;
    *error = e.reason + " (" + (lines ? "line " + std::to_string(e.line) + ", " : "") + "column " +
             std::to_string(e.column) + ")";
  }
  *out = nullptr;
  return false;
}

nlohmann::json ParseJsonDocument(std::string_view text, const std::string& path, ExitCode code) {
  nlohmann::json j;
  std::string error;
  if (Trim(text).empty()) Fail(code, path, ": the file is empty (expected a JSON document)");
  if (!ParseJson(text, &j, &error)) Fail(code, path, ": ", error);
  return j;
}

}  // namespace avrec
