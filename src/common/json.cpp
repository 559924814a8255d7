#include "avrec/json.h"

#include <set>
#include <vector>

#include "avrec/text.h"

namespace avrec {

namespace {

struct DepthExceeded {};
struct DuplicateKey {
  std::string key;
};

// A parse error's text without nlohmann's "[json.exception...] " prefix, safe
// to print.
std::string CleanMessage(const std::string& what) {
  std::string m = what;
  if (m.rfind("[json.exception", 0) == 0) {
    const size_t close = m.find("] ");
    if (close != std::string::npos) m = m.substr(close + 2);
  }
  // Quoted for control bytes; nlohmann's own quotes need no escape.
  std::string quoted = EscapeForMessage(m, 200);
  quoted = quoted.substr(1, quoted.size() - 2);
  for (size_t at = quoted.find("\\'"); at != std::string::npos; at = quoted.find("\\'", at + 1)) quoted.erase(at, 1);
  return quoted;
}

}  // namespace

std::string JsonDepthText() { return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"; }

std::string JsonDuplicateKeyText(const std::string& key) {
  return "key " + EscapeForMessage(key, 60) + " appears twice in one object";
}

std::string JsonParseErrorText(const nlohmann::detail::exception& e, bool with_position) {
  std::string m = CleanMessage(e.what());
  if (!with_position && m.rfind("parse error at line ", 0) == 0 && m.find(": ") != std::string::npos) {
    m = m.substr(m.find(": ") + 2);
  }
  if (e.id == 406) return "number out of range (beyond double precision): " + m;
  return "not valid JSON: " + m;
}

bool ParseJson(std::string_view text, nlohmann::json* out, std::string* error) {
  std::vector<std::set<std::string>> keys;  // keys seen per open object
  const nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                                   nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth) throw DepthExceeded{};
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty()) {
      const std::string k = parsed.get<std::string>();
      if (!keys.back().insert(k).second) throw DuplicateKey{k};
    }
    return true;
  };
  try {
    *out = nlohmann::json::parse(text.begin(), text.end(), cb);
    return true;
  } catch (const DepthExceeded&) {
    *error = JsonDepthText();
  } catch (const DuplicateKey& d) {
    *error = JsonDuplicateKeyText(d.key);
  } catch (const nlohmann::json::exception& e) {
    *error = JsonParseErrorText(e, /*with_position=*/true);
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
