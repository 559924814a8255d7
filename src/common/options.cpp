#include "avrec/options.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/text.h"

namespace avrec {

std::string JsonValueInWords(const nlohmann::json& v) {
  if (v.is_string()) return "the text " + EscapeForMessage(v.get<std::string>(), 60);
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return "the number " + v.dump();
  if (v.is_null()) return "null";
  if (v.is_array()) return "a list";
  return "an object";
}

namespace options_detail {

namespace {

// The name of one entry of a map-valued option, for messages: from
// "--modality-weight (config features.modality_weights)" and "audio",
// "--modality-weight audio (config features.modality_weights.audio)".
std::string EntryName(const std::string& name, const std::string& entry) {
  const std::string config = " (config ";
  const size_t at = name.find(config);
  if (at == std::string::npos || name.back() != ')') return name + "." + entry;
  return name.substr(0, at) + " " + entry + name.substr(at, name.size() - 1 - at) + "." + entry + ")";
}

[[noreturn]] void Expected(const std::string& name, const char* what, const nlohmann::json& v) {
  Fail(ExitCode::kUsage, name, ": expected ", what, ", found ", JsonValueInWords(v));
}

[[noreturn]] void ExpectedText(const std::string& name, const char* what, const std::string& t) {
  Fail(ExitCode::kUsage, name, ": expected ", what, ", got ", EscapeForMessage(t, 60));
}

template <typename Int>
Int ParseInteger(const std::string& name, const std::string& text) {
  std::string_view s = Trim(text);
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    Fail(ExitCode::kUsage, name, ": expected an integer from ", std::numeric_limits<Int>::min(), " to ",
         std::numeric_limits<Int>::max(), ", got ", EscapeForMessage(text, 60));
  }
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) ExpectedText(name, "an integer", text);
  return v;
}

template <typename Int>
Int JsonInteger(const std::string& name, const nlohmann::json& v) {
  if (!v.is_number_integer()) Expected(name, "an integer", v);
  const bool fits =
      v.is_number_unsigned()
          ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<Int>::max())
          : (v.get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<Int>::min()) &&
             (std::is_unsigned_v<Int> ? v.get<int64_t>() >= 0
                                      : v.get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<Int>::max())));
  if (!fits) {
    Fail(ExitCode::kUsage, name, ": expected an integer from ", std::numeric_limits<Int>::min(), " to ",
         std::numeric_limits<Int>::max(), ", found ", JsonValueInWords(v));
  }
  return v.get<Int>();
}

double ParseNumber(const std::string& name, const std::string& text) {
  double x = 0;
  if (!ParseFiniteDouble(text, &x)) ExpectedText(name, "a finite number", text);
  return x;
}

double JsonNumber(const std::string& name, const nlohmann::json& v) {
  if (!v.is_number()) Expected(name, "a number", v);
  double x = v.get<double>();
  if (!std::isfinite(x)) Expected(name, "a finite number", v);
  return x;
}

std::pair<std::string, std::string> SplitAssignment(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) return {text, std::string()};
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

namespace {

// 1000, 0.5, 1e+308: integral values without ".0".
std::string Number(double x) {
  if (std::isfinite(x) && std::fabs(x) < 1e15 && x == std::floor(x)) return std::to_string(static_cast<int64_t>(x));
  return nlohmann::json(x).dump();
}

// "NAME: expected a number from 1 to 10, got GOT" (or "at least 0", "at
// most 5").
[[noreturn]] void OutOfRange(const std::string& name, Range range, const std::string& got) {
  std::string want;
  if (range.min > -std::numeric_limits<double>::max() && range.max < std::numeric_limits<double>::max()) {
    want = "a number from " + Number(range.min) + " to " + Number(range.max);
  } else if (range.min > -std::numeric_limits<double>::max()) {
    want = "at least " + Number(range.min);
  } else {
    want = "at most " + Number(range.max);
  }
  Fail(ExitCode::kUsage, name, ": expected ", want, ", got ", got);
}

}  // namespace

void CheckRange(const std::string& name, double value, Range range) {
  if (!std::isfinite(value)) Fail(ExitCode::kUsage, name, ": expected a finite number, got ", value);
  if (value < range.min || value > range.max) OutOfRange(name, range, Number(value));
}

void CheckIntegerText(const std::string& name, const std::string& text, Range range) {
  std::string_view s = Trim(text);
  const size_t digits_from = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (s.size() == digits_from) return;
  for (size_t i = digits_from; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return;  // not an integer: the parser says so
  }
  const double value = std::strtod(std::string(s).c_str(), nullptr);
  if (value < range.min || value > range.max) OutOfRange(name, range, EscapeForMessage(text, 60));
}

void CheckIntegerJson(const std::string& name, const nlohmann::json& v, Range range) {
  if (v.is_number()) CheckRange(name, v.get<double>(), range);
}

void BadChoice(const std::string& name, const std::string& got, const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  Fail(ExitCode::kUsage, name, ": expected ", list, ", got ", EscapeForMessage(got, 60));
}

nlohmann::json StringJson(const std::string& s) { return nlohmann::json(s); }

std::string JsonString(const std::string& name, const nlohmann::json& v) {
  if (!v.is_string()) Expected(name, "a text value", v);
  return v.get<std::string>();
}

// ---- per type ------------------------------------------------------------------

template <>
void FromText<bool>(const std::string& name, const std::string& t, bool* f) {
  if (t == "true" || t == "1") {
    *f = true;
  } else if (t == "false" || t == "0") {
    *f = false;
  } else {
    ExpectedText(name, "true or false", t);
  }
}
template <>
void FromJson<bool>(const std::string& name, const nlohmann::json& v, bool* f) {
  if (!v.is_boolean()) Expected(name, "true or false", v);
  *f = v.get<bool>();
}
template <>
nlohmann::json ToJson<bool>(const bool& f) {
  return f;
}
template <>
const char* TypeName<bool>() {
  return "BOOL";
}

template <>
void FromText<int>(const std::string& name, const std::string& t, int* f) {
  *f = ParseInteger<int>(name, t);
}
template <>
void FromJson<int>(const std::string& name, const nlohmann::json& v, int* f) {
  *f = JsonInteger<int>(name, v);
}
template <>
nlohmann::json ToJson<int>(const int& f) {
  return f;
}
template <>
const char* TypeName<int>() {
  return "INT";
}

template <>
void FromText<int64_t>(const std::string& name, const std::string& t, int64_t* f) {
  *f = ParseInteger<int64_t>(name, t);
}
template <>
void FromJson<int64_t>(const std::string& name, const nlohmann::json& v, int64_t* f) {
  *f = JsonInteger<int64_t>(name, v);
}
template <>
nlohmann::json ToJson<int64_t>(const int64_t& f) {
  return f;
}
template <>
const char* TypeName<int64_t>() {
  return "INT";
}

template <>
void FromText<uint64_t>(const std::string& name, const std::string& t, uint64_t* f) {
  *f = ParseInteger<uint64_t>(name, t);
}
template <>
void FromJson<uint64_t>(const std::string& name, const nlohmann::json& v, uint64_t* f) {
  *f = JsonInteger<uint64_t>(name, v);
}
template <>
nlohmann::json ToJson<uint64_t>(const uint64_t& f) {
  return f;
}
template <>
const char* TypeName<uint64_t>() {
  return "UINT";
}

template <>
void FromText<double>(const std::string& name, const std::string& t, double* f) {
  *f = ParseNumber(name, t);
}
template <>
void FromJson<double>(const std::string& name, const nlohmann::json& v, double* f) {
  *f = JsonNumber(name, v);
}
template <>
nlohmann::json ToJson<double>(const double& f) {
  return f;
}
template <>
const char* TypeName<double>() {
  return "NUMBER";
}

template <>
void FromText<std::optional<double>>(const std::string& name, const std::string& t, std::optional<double>* f) {
  *f = ParseNumber(name, t);
}
template <>
void FromJson<std::optional<double>>(const std::string& name, const nlohmann::json& v, std::optional<double>* f) {
  if (v.is_null()) {
    f->reset();
  } else {
    *f = JsonNumber(name, v);
  }
}
template <>
nlohmann::json ToJson<std::optional<double>>(const std::optional<double>& f) {
  return f ? nlohmann::json(*f) : nlohmann::json(nullptr);
}
template <>
const char* TypeName<std::optional<double>>() {
  return "NUMBER";
}

template <>
void FromText<std::string>(const std::string&, const std::string& t, std::string* f) {
  *f = t;
}
template <>
void FromJson<std::string>(const std::string& name, const nlohmann::json& v, std::string* f) {
  *f = JsonString(name, v);
}
template <>
nlohmann::json ToJson<std::string>(const std::string& f) {
  return f;
}
template <>
const char* TypeName<std::string>() {
  return "TEXT";
}

template <>
void FromText<std::vector<int>>(const std::string& name, const std::string& t, std::vector<int>* f) {
  f->push_back(ParseInteger<int>(name, t));
}
template <>
void FromJson<std::vector<int>>(const std::string& name, const nlohmann::json& v, std::vector<int>* f) {
  f->clear();
  if (!v.is_array()) {
    f->push_back(JsonInteger<int>(name, v));
    return;
  }
  for (const auto& e : v) f->push_back(JsonInteger<int>(name, e));
}
template <>
nlohmann::json ToJson<std::vector<int>>(const std::vector<int>& f) {
  return f;
}
template <>
const char* TypeName<std::vector<int>>() {
  return "INT";
}

template <>
void FromText<std::vector<std::string>>(const std::string&, const std::string& t, std::vector<std::string>* f) {
  f->push_back(t);
}
template <>
void FromJson<std::vector<std::string>>(const std::string& name, const nlohmann::json& v, std::vector<std::string>* f) {
  f->clear();
  if (!v.is_array()) Expected(name, "a list of text values", v);
  for (const auto& e : v) f->push_back(JsonString(name, e));
}
template <>
nlohmann::json ToJson<std::vector<std::string>>(const std::vector<std::string>& f) {
  return f;
}
template <>
const char* TypeName<std::vector<std::string>>() {
  return "TEXT";
}

template <>
void FromText<std::map<std::string, double>>(const std::string& name, const std::string& t,
                                             std::map<std::string, double>* f) {
  auto [k, v] = SplitAssignment(t);
  double x = 0;
  if (t.find('=') == std::string::npos || k.empty() || !ParseFiniteDouble(v, &x)) {
    ExpectedText(name, "NAME=NUMBER", t);
  }
  (*f)[k] = x;
}
template <>
void FromJson<std::map<std::string, double>>(const std::string& name, const nlohmann::json& v,
                                             std::map<std::string, double>* f) {
  if (!v.is_object()) Expected(name, "an object {\"NAME\": NUMBER}", v);
  for (auto it = v.begin(); it != v.end(); ++it) (*f)[it.key()] = JsonNumber(EntryName(name, it.key()), it.value());
}
template <>
nlohmann::json ToJson<std::map<std::string, double>>(const std::map<std::string, double>& f) {
  return f;
}
template <>
const char* TypeName<std::map<std::string, double>>() {
  return "NAME=NUMBER";
}

template <>
void FromText<std::map<std::string, std::string>>(const std::string& name, const std::string& t,
                                                  std::map<std::string, std::string>* f) {
  auto [k, v] = SplitAssignment(t);
  if (k.empty()) ExpectedText(name, "COLUMN or COLUMN=MODALITY", t);
  (*f)[k] = v;
}
template <>
void FromJson<std::map<std::string, std::string>>(const std::string& name, const nlohmann::json& v,
                                                  std::map<std::string, std::string>* f) {
  if (v.is_array()) {
    for (const auto& e : v) (*f)[JsonString(name, e)] = "";
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) (*f)[it.key()] = JsonString(EntryName(name, it.key()), it.value());
  } else {
    Expected(name, "a list of columns or an object {\"COLUMN\": \"MODALITY\"}", v);
  }
}
template <>
nlohmann::json ToJson<std::map<std::string, std::string>>(const std::map<std::string, std::string>& f) {
  return f;
}
template <>
const char* TypeName<std::map<std::string, std::string>>() {
  return "COL[=MODALITY]";
}

}  // namespace options_detail

std::string Option::BothNames() const {
  const std::string name = Name();
  return key.empty() || key == name ? name : name + " (config " + key + ")";
}

std::string Option::Name() const {
  // The longest "--" flag, else the config key.
  std::string best;
  size_t start = 0;
  while (start <= flags.size()) {
    size_t comma = flags.find(',', start);
    std::string f = flags.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (f.rfind("--", 0) == 0 && f.size() > best.size()) best = f;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return best.empty() ? key : best;
}

Option& OptionSet::Push(Option o) {
  options_.push_back(std::move(o));
  return options_.back();
}

Option& OptionSet::AddPath(const std::string& flags, const std::string& key, std::string* field,
                           const std::string& help, Effect effect) {
  Option& o = Add(flags, key, field, help, effect);
  o.type_name = "PATH";
  const std::string name = o.BothNames();
  o.from_json = [name, field](const nlohmann::json& v, const std::string& base) {
    *field = ResolvePath(base, options_detail::JsonString(name, v));
  };
  return o;
}

Option& OptionSet::AddFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help,
                           Effect effect) {
  Option& o = Add(flags, key, field, help, effect);
  o.arity = OptionArity::kFlag;
  return o;
}

Option& OptionSet::AddNegFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help,
                              Effect effect) {
  Option& o = Add(flags, key, field, help, effect);
  o.arity = OptionArity::kNegFlag;
  return o;
}

Option& OptionSet::AddMapping(const std::string& flags, const std::string& key,
                              std::map<std::string, std::string>* field, const std::string& help, Effect effect) {
  Option& o = Add(flags, key, field, help, effect);
  o.type_name = "NAME=COLUMN[,...]";
  const std::string name = o.Name();
  o.from_text = [name, field](const std::string& text) {
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = text.find(',', start);
      const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      const size_t eq = part.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
        Fail(ExitCode::kUsage, name, ": expected NAME=COLUMN[,NAME=COLUMN...], got ", EscapeForMessage(text, 60));
      }
      (*field)[part.substr(0, eq)] = part.substr(eq + 1);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  };
  o.from_json = [both = o.BothNames(), field](const nlohmann::json& v, const std::string&) {
    if (!v.is_object()) options_detail::FromJson(both, v, field);  // names what was expected
    for (auto it = v.begin(); it != v.end(); ++it) {
      (*field)[it.key()] = options_detail::JsonString(options_detail::EntryName(both, it.key()), it.value());
    }
  };
  return o;
}

void OptionSet::Merge(const OptionSet& other) {
  for (const Option& o : other.options_) options_.push_back(o);
}

void OptionSet::ApplyConfig(const nlohmann::json& root, const std::string& base_dir,
                            const std::function<bool(const Option&)>& skip) const {
  for (const Option& o : options_) {
    if (o.key.empty() || (skip && skip(o))) continue;
    const nlohmann::json* v = FindConfigKey(root, o.key);
    if (v != nullptr) o.from_json(*v, base_dir);
  }
}

bool OptionSet::Set(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const {
  bool found = false;
  for (const Option& o : options_) {
    if (o.key == key) {
      o.from_json(value, base_dir);
      found = true;
    }
  }
  return found;
}

bool OptionSet::SetKeyOrEntry(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const {
  if (Set(key, value, base_dir)) return true;
  bool found = false;
  for (const Option& o : options_) {
    if (o.key.empty() || key.size() <= o.key.size() + 1 || key.compare(0, o.key.size(), o.key) != 0 ||
        key[o.key.size()] != '.' || !o.to_json().is_object()) {
      continue;
    }
    o.from_json(nlohmann::json{{key.substr(o.key.size() + 1), value}}, base_dir);
    found = true;
  }
  return found;
}

void OptionSet::Validate(const std::function<bool(const Option&)>& from_command_line) const {
  for (const Option& o : options_) {
    if (o.check) o.check(from_command_line && from_command_line(o) ? o.Name() : o.BothNames());
  }
}

std::vector<std::pair<const Option*, std::string>> OptionSet::Inert(
    const std::function<bool(const Option&)>& given) const {
  std::vector<std::pair<const Option*, std::string>> out;
  std::set<std::string> named;
  for (const Option& o : options_) {
    if (!o.inert || !given(o) || named.count(o.Name()) != 0) continue;
    std::string why = o.inert();
    if (why.empty()) continue;
    named.insert(o.Name());
    out.emplace_back(&o, std::move(why));
  }
  return out;
}

nlohmann::json OptionSet::ResultsJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (const Option& o : options_) {
    if (o.effect == Effect::kNone) continue;
    const std::string name = o.key.empty() ? o.Name() : o.key;
    nlohmann::json v = o.to_json();
    if (o.effect == Effect::kContent && v.is_string() && !v.get<std::string>().empty()) {
      v = "sha256:" + Sha256File(v.get<std::string>());
    }
    out[name] = std::move(v);
  }
  return out;
}

std::string OptionSet::Hash() const { return Sha256Hex(ResultsJson().dump()).substr(0, 16); }

std::vector<std::string> OptionSet::keys() const {
  std::vector<std::string> out;
  for (const Option& o : options_) {
    if (!o.key.empty()) out.push_back(o.key);
  }
  return out;
}

const nlohmann::json* FindConfigKey(const nlohmann::json& root, const std::string& key) {
  const nlohmann::json* node = &root;
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

namespace {

// The known key nearest `key`, when it is near enough to be a misspelling
// (IsNearMisspelling of the longer name's last part: 'a' suggests nothing,
// where it once suggested 'reviews.map').
std::string Suggest(const std::string& key, const std::vector<std::string>& known) {
  if (key.size() > 256) return "";  // longer than any key could be; the distances would take long
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max(), best_len = 0;
  const std::string last = key.substr(key.find_last_of('.') + 1);
  for (const auto& k : known) {
    const std::string k_last = k.substr(k.find_last_of('.') + 1);
    size_t d = std::min(EditDistance(key, k), EditDistance(last, k_last) + 1);
    if (d < best_d) {
      best_d = d;
      best = k;
      best_len = std::max(last.size(), k_last.size());
    }
  }
  return IsNearMisspelling(best_d, best_len) ? " (did you mean '" + best + "'?)" : "";
}

}  // namespace

void CheckConfigKeys(const nlohmann::json& root, const std::string& path, const std::vector<std::string>& known) {
  std::set<std::string> leaves(known.begin(), known.end());
  std::map<std::string, std::vector<std::string>> sections;  // section -> its direct children
  for (const auto& k : known) {
    for (size_t dot = k.find('.'); dot != std::string::npos; dot = k.find('.', dot + 1)) {
      size_t next = k.find('.', dot + 1);
      sections[k.substr(0, dot)].push_back(k.substr(dot + 1, next == std::string::npos ? next : next - dot - 1));
    }
  }
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& node,
                                                                            const std::string& prefix) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (leaves.count(key) != 0) continue;
      auto sec = sections.find(key);
      if (sec != sections.end()) {
        if (!it.value().is_object()) {
          std::set<std::string> children(sec->second.begin(), sec->second.end());
          std::string list;
          for (const auto& c : children) list += (list.empty() ? "" : ", ") + c;
          Fail(ExitCode::kUsage, path, ": config key '", key, "': expected an object (keys ", list, "), found ",
               JsonValueInWords(it.value()));
        }
        walk(it.value(), key);
        continue;
      }
      // What it may have meant: a key, or a section beside it ('recomend').
      std::vector<std::string> names = known;
      for (const auto& section : sections) {
        const size_t dot = section.first.rfind('.');
        if ((dot == std::string::npos ? "" : section.first.substr(0, dot)) == prefix) names.push_back(section.first);
      }
      Fail(ExitCode::kUsage, path, ": unknown config key ", EscapeForMessage(key, 80), Suggest(key, names));
    }
  };
  if (!root.is_object()) Fail(ExitCode::kUsage, path, ": expected a JSON object at the top level");
  walk(root, "");
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path == "-" || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

int64_t WholeNumberFromEnv(const char* name, int64_t fallback, int64_t lo, int64_t hi, const std::string& what) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || v < lo || v > hi) {
    Fail(ExitCode::kUsage, name, ": expected a whole number of ", what, ", found ", EscapeForMessage(env));
  }
  return v;
}

}  // namespace avrec
