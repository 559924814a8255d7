// Options declared once: every option of every stage is a row of an
// OptionSet that knows its command-line flag, its config-file key, its help
// text, its valid range and whether it changes results. The command line,
// the config file, validation and the config hash all read that one table.
//
// An options struct describes itself (`void Describe(OptionSet*)`, binding
// its fields); `Validate()` then checks every described range, so a library
// caller gets the same checks as the command line.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace avrec {

// How an option appears on the command line.
enum class OptionArity {
  kFlag,     // "--lenient": sets true
  kNegFlag,  // "--no-sentiment": sets false (the config key holds the positive value)
  kValue,    // "--top-n 10"
  kRepeated  // "--k 10 --k 20", "--modality-weight audio=2": each occurrence adds
};

// Whether an option changes what a stage outputs (part of the config hash).
enum class Effect {
  kNone,     // logging, paths of outputs, threads, batch sizes (results do not depend on them)
  kResults,  // changes results: its value enters the config hash
  kContent   // a path whose file content (SHA-256), not its name, enters the hash
};

struct Option {
  std::string flags;  // CLI11 style: "--top-n,-n"; "" = config file only
  std::string key;    // dotted config key: "recommend.top_n"; "" = command line only
  std::string help;
  std::string type_name;  // shown in --help: INT, NUMBER, TEXT, PATH, ...
  OptionArity arity = OptionArity::kValue;
  Effect effect = Effect::kNone;
  // Sets the value from one command-line word (kValue, kRepeated). Throws
  // Error(kUsage) naming the option when the text does not parse.
  std::function<void(const std::string& text)> from_text;
  // Sets the value from a config-file JSON value; relative paths are resolved
  // against base_dir. Throws Error(kUsage) saying what was expected and found.
  std::function<void(const nlohmann::json& value, const std::string& base_dir)> from_json;
  // The current value as JSON (config hash, --help defaults, manifests).
  std::function<nlohmann::json()> to_json;
  // Checks the current value (range, finiteness); empty: always valid.
  // `name`: how to call the option, by where its value came from.
  std::function<void(const std::string& name)> check;
  // Why the value changes nothing under the other options' current values
  // ("it sets item-knn's model, and --algorithm is ease"); empty when it
  // acts. Unset: it always acts.
  std::function<std::string()> inert;

  // The name users know it by: the long flag, else the config key.
  std::string Name() const;
  // Name() and the config key, for messages about a value that may have come
  // from either: "--top-n (config recommend.top_n)".
  std::string BothNames() const;
};

// A closed interval for numeric options; NaN and infinities are never valid.
struct Range {
  double min = -std::numeric_limits<double>::max();
  double max = std::numeric_limits<double>::max();
};

// The options of one stage or subcommand. Holds pointers to the fields it
// describes: the options struct must outlive the set. Not thread-safe.
class OptionSet {
 public:
  // Typed options. Supported T: bool, int, int64_t, uint64_t, double,
  // std::string, std::optional<double>, std::vector<int>,
  // std::vector<std::string>, std::map<std::string, double> ("NAME=NUMBER"),
  // std::map<std::string, std::string> ("COL[=MODALITY]").
  template <typename T>
  Option& Add(const std::string& flags, const std::string& key, T* field, const std::string& help,
              Effect effect = Effect::kNone);
  // A number within `range` (checked by Validate, named in messages).
  template <typename T>
  Option& AddNumber(const std::string& flags, const std::string& key, T* field, Range range, const std::string& help,
                    Effect effect = Effect::kNone);
  // A file path; relative paths in a config file are relative to its folder.
  Option& AddPath(const std::string& flags, const std::string& key, std::string* field, const std::string& help,
                  Effect effect = Effect::kNone);
  // A switch: --flag sets true; in the config, true or false.
  Option& AddFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help,
                  Effect effect = Effect::kNone);
  // A negative switch: --no-x sets false; in the config the key holds the
  // positive value.
  Option& AddNegFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help,
                     Effect effect = Effect::kNone);
  // A renaming "a=b,c=d" (several per word, and repeatable); in the config an
  // object {"a": "b"}.
  Option& AddMapping(const std::string& flags, const std::string& key, std::map<std::string, std::string>* field,
                     const std::string& help, Effect effect = Effect::kNone);
  // One of named values, e.g. precision auto|fp32|bf16.
  template <typename E>
  Option& AddChoice(const std::string& flags, const std::string& key, E* field,
                    std::vector<std::pair<std::string, E>> names, const std::string& help,
                    Effect effect = Effect::kNone);

  // Appends every option of `other` (which must outlive this set).
  void Merge(const OptionSet& other);

  // Sets every option whose key the config holds, except those in `skip`
  // (options given on the command line win). Throws Error(kUsage).
  void ApplyConfig(const nlohmann::json& root, const std::string& base_dir,
                   const std::function<bool(const Option&)>& skip = {}) const;
  // Sets every option with this key (several stages may share one, e.g.
  // "threads"). Returns false when no option has it.
  bool Set(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const;
  // Also sets one entry of an option whose value is a map, keyed past the
  // option's key: "features.modality_weights.audio" sets the entry "audio"
  // and keeps the others; an entry name may hold dots (a column
  // "visual.colour" of "items.categorical").
  bool SetKeyOrEntry(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const;
  // Throws Error(kUsage) for the first option whose value is out of range,
  // naming it by its flag when `from_command_line` says it was given there,
  // else by flag and config key (the value may have come from either).
  void Validate(const std::function<bool(const Option&)>& from_command_line = {}) const;
  // Each option `given` (on the command line) whose `inert` says it changes
  // nothing under the others' values (an option of another algorithm, or of
  // a switch left off), with why; one per name. A config file may hold
  // every algorithm's settings; a command line names what it means.
  std::vector<std::pair<const Option*, std::string>> Inert(const std::function<bool(const Option&)>& given) const;

  // {name: value} of every option with Effect kResults or kContent (files by
  // content), keys sorted: what the config hash covers.
  nlohmann::json ResultsJson() const;
  // First 16 hex digits of SHA-256 of ResultsJson().dump().
  std::string Hash() const;

  std::vector<std::string> keys() const;
  const std::vector<Option>& options() const { return options_; }
  std::vector<Option>& options() { return options_; }

 private:
  Option& Push(Option o);
  std::vector<Option> options_;
};

// Checks every range `options.Describe(&set, args...)` declares (on a copy:
// describing binds fields). Throws Error(kUsage) naming the option.
template <typename T, typename... Args>
void ValidateDescribed(const T& options, Args&&... describe_args) {
  T copy = options;
  OptionSet set;
  copy.Describe(&set, std::forward<Args>(describe_args)...);
  set.Validate();
}

// The value at a dotted key ("score.batch_size") of a JSON object, or null.
const nlohmann::json* FindConfigKey(const nlohmann::json& root, const std::string& key);

// Throws Error(kUsage) naming the first key of `root` (read from `path`) that
// is not in `known`, with the closest known key as a hint; an object where a
// known key expects a value (or the reverse) is named as such.
void CheckConfigKeys(const nlohmann::json& root, const std::string& path, const std::vector<std::string>& known);

// How a JSON value reads in a message: the text 'abc', the number 3, true,
// null, a list, an object.
std::string JsonValueInWords(const nlohmann::json& v);

// `path` resolved against `base_dir` (unchanged when absolute, empty or "-").
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// ---- template definitions -------------------------------------------------------

namespace options_detail {
// Parsers and formatters per type (defined in options.cpp).
template <typename T>
void FromText(const std::string& name, const std::string& text, T* field);
template <typename T>
void FromJson(const std::string& name, const nlohmann::json& v, T* field);
template <typename T>
nlohmann::json ToJson(const T& field);
template <typename T>
const char* TypeName();
template <typename T>
inline constexpr bool kRepeated = false;
template <>
inline constexpr bool kRepeated<std::vector<int>> = true;
template <>
inline constexpr bool kRepeated<std::vector<std::string>> = true;
template <>
inline constexpr bool kRepeated<std::map<std::string, double>> = true;
template <>
inline constexpr bool kRepeated<std::map<std::string, std::string>> = true;
void CheckRange(const std::string& name, double value, Range range);
// Throw Error(kUsage) when `text` (an integer) or `v` (a number) is outside
// `range`; anything else passes.
void CheckIntegerText(const std::string& name, const std::string& text, Range range);
void CheckIntegerJson(const std::string& name, const nlohmann::json& v, Range range);
[[noreturn]] void BadChoice(const std::string& name, const std::string& got, const std::vector<std::string>& names);
nlohmann::json StringJson(const std::string& s);
std::string JsonString(const std::string& name, const nlohmann::json& v);
}  // namespace options_detail

template <typename T>
Option& OptionSet::Add(const std::string& flags, const std::string& key, T* field, const std::string& help,
                       Effect effect) {
  Option o;
  o.flags = flags;
  o.key = key;
  o.help = help;
  o.type_name = options_detail::TypeName<T>();
  o.arity = options_detail::kRepeated<T> ? OptionArity::kRepeated : OptionArity::kValue;
  o.effect = effect;
  Option& added = Push(std::move(o));
  const std::string name = added.Name(), both = added.BothNames();
  added.from_text = [name, field](const std::string& t) { options_detail::FromText(name, t, field); };
  added.from_json = [both, field](const nlohmann::json& v, const std::string&) {
    options_detail::FromJson(both, v, field);
  };
  added.to_json = [field] { return options_detail::ToJson(*field); };
  return added;
}

template <typename T>
Option& OptionSet::AddNumber(const std::string& flags, const std::string& key, T* field, Range range,
                             const std::string& help, Effect effect) {
  Option& o = Add(flags, key, field, help, effect);
  const std::string name = o.BothNames();  // a config value
  if constexpr (std::is_integral_v<T> || std::is_same_v<T, std::vector<int>>) {
    // A value the type cannot hold is out of the option's range too: say that
    // range, not the type's.
    o.from_text = [short_name = o.Name(), range, parse = o.from_text](const std::string& t) {
      try {
        parse(t);
      } catch (...) {
        options_detail::CheckIntegerText(short_name, t, range);
        throw;
      }
    };
    o.from_json = [name, range, parse = o.from_json](const nlohmann::json& v, const std::string& base_dir) {
      try {
        parse(v, base_dir);
      } catch (...) {
        for (const auto& e : v.is_array() ? v : nlohmann::json::array({v})) {
          options_detail::CheckIntegerJson(name, e, range);
        }
        throw;
      }
    };
  }
  o.check = [field, range](const std::string& name) {
    if constexpr (std::is_same_v<T, std::optional<double>>) {
      if (field->has_value()) options_detail::CheckRange(name, **field, range);
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
      for (int v : *field) options_detail::CheckRange(name, v, range);
    } else {
      options_detail::CheckRange(name, static_cast<double>(*field), range);
    }
  };
  return o;
}

template <typename E>
Option& OptionSet::AddChoice(const std::string& flags, const std::string& key, E* field,
                             std::vector<std::pair<std::string, E>> names, const std::string& help, Effect effect) {
  Option o;
  o.flags = flags;
  o.key = key;
  o.help = help;
  o.effect = effect;
  std::string choices;
  for (const auto& [n, v] : names) choices += (choices.empty() ? "" : "|") + n;
  o.type_name = choices;
  Option& added = Push(std::move(o));
  const std::string name = added.Name(), both = added.BothNames();
  auto set = [field, names](const std::string& name, const std::string& t) {
    for (const auto& [n, v] : names) {
      if (n == t) {
        *field = v;
        return;
      }
    }
    std::vector<std::string> all;
    for (const auto& [n, v] : names) all.push_back(n);
    options_detail::BadChoice(name, t, all);
  };
  added.from_text = [name, set](const std::string& t) { set(name, t); };
  added.from_json = [both, set](const nlohmann::json& v, const std::string&) {
    set(both, options_detail::JsonString(both, v));
  };
  added.to_json = [field, names] {
    for (const auto& [n, v] : names) {
      if (v == *field) return options_detail::StringJson(n);
    }
    return options_detail::StringJson("?");
  };
  return added;
}

// The whole number in environment variable `name`, or `fallback` when it is
// unset or empty. Anything else but a whole number from `lo` to `hi` is
// Error(kUsage): "NAME: expected a whole number of <what>, found '30s'".
int64_t WholeNumberFromEnv(const char* name, int64_t fallback, int64_t lo, int64_t hi, const std::string& what);

}  // namespace avrec
