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
  const std::string quoted = EscapeForMessage(m, 200);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

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
    *error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  } catch (const DuplicateKey& d) {
    *error = "key " + EscapeForMessage(d.key, 60) + " appears twice in one object";
  } catch (const nlohmann::json::out_of_range& e) {
    *error = "number out of range (beyond double precision): " + CleanMessage(e.what());
  } catch (const nlohmann::json::exception& e) {
    *error = "not valid JSON: " + CleanMessage(e.what());
  }
  *out = nullptr;
  return false;
}

nlohmann::json ParseJsonDocument(std::string_view text, const std::string& path, ExitCode code) {
  nlohmann::json j;
  std::string error;
  if (!ParseJson(text, &j, &error)) Fail(code, path, ": ", error);
  return j;
}

}  // namespace avrec
