// Options that can be given on the command line or in the pipeline config
// file (JSON), the command line winning. Each subcommand registers its options
// once, in a table that knows both the flag and the config key.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "avrec/error.h"

namespace avrec::cli {

// A parsed pipeline config file. Relative paths in it are relative to the
// folder that holds it.
struct Config {
  std::string path;
  std::string dir;
  nlohmann::json root = nlohmann::json::object();

  // Throws Error(kNoInput) if missing, Error(kUsage) if not a JSON object.
  static Config Load(const std::string& path);
  // The value at a dotted key ("score.batch_size"), or nullptr.
  const nlohmann::json* Find(const std::string& key) const;
};

// The options of one subcommand.
class OptionTable {
 public:
  // `app` may be null: the table then only knows config keys (used to check a
  // config file for unknown keys).
  explicit OptionTable(CLI::App* app) : app_(app) {}

  // A value option: flag (e.g. "--batch-size"), config key (e.g.
  // "score.batch_size", "" for command line only), the field holding the
  // default and receiving the value.
  template <typename T>
  CLI::Option* Add(const std::string& flags, const std::string& key, T* field, const std::string& help);
  // A path: relative paths from the config file are resolved against its folder.
  CLI::Option* AddPath(const std::string& flags, const std::string& key, std::string* field, const std::string& help);
  // A boolean switch ("--lenient"); in the config, true or false.
  CLI::Option* AddFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help);
  // A switch that sets `field` to false ("--no-sentiment"); in the config the
  // key holds the positive value (true or false).
  CLI::Option* AddNegFlag(const std::string& flags, const std::string& key, bool* field, const std::string& help);
  // Name -> number map: on the command line repeated "NAME=NUMBER"; in the
  // config an object {"NAME": NUMBER}.
  CLI::Option* AddNumberMap(const std::string& flags, const std::string& key, std::map<std::string, double>* field,
                            const std::string& help);
  // Column -> modality map: on the command line repeated "COL" or
  // "COL=MODALITY"; in the config an object {"COL": "MODALITY"} or a list.
  CLI::Option* AddColumnMap(const std::string& flags, const std::string& key, std::map<std::string, std::string>* field,
                            const std::string& help);

  // Fills every option not given on the command line from the config.
  void Apply(const Config& config) const;
  // Sets one option by key from a JSON value (for `run --set key=value`).
  // Returns false if the key is unknown.
  bool Set(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const;
  std::vector<std::string> keys() const;

 private:
  struct Entry {
    std::string key;
    std::function<void(const nlohmann::json&, const std::string& base_dir)> set;
    CLI::Option* cli = nullptr;
  };
  template <typename T>
  static void SetFromJson(const std::string& key, const nlohmann::json& v, T* field);

  CLI::App* app_;
  std::vector<Entry> entries_;
};

// Throws Error(kUsage) naming the first key of `config` that no subcommand
// knows (`known` lists every valid dotted key).
void CheckConfigKeys(const Config& config, const std::vector<std::string>& known);

std::string ResolvePath(const std::string& base_dir, const std::string& path);

// ---- template definitions ------------------------------------------------------

template <typename T>
void OptionTable::SetFromJson(const std::string& key, const nlohmann::json& v, T* field) {
  bool ok;
  if constexpr (std::is_same_v<T, bool>) {
    ok = v.is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    ok = v.is_number_integer();
  } else if constexpr (std::is_floating_point_v<T>) {
    ok = v.is_number();
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = v.is_string();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_string(); });
  } else if constexpr (std::is_same_v<T, std::vector<int>>) {
    ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_number_integer(); });
  } else {
    static_assert(sizeof(T) == 0, "unsupported option type");
  }
  if (!ok) Fail(ExitCode::kUsage, "config key '", key, "': unexpected value ", v.dump());
  *field = v.get<T>();
}

template <typename T>
CLI::Option* OptionTable::Add(const std::string& flags, const std::string& key, T* field, const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) {
    opt = app_->add_option(flags, *field, help)->capture_default_str();
  }
  if (!key.empty()) {
    entries_.push_back({key, [key, field](const nlohmann::json& v, const std::string&) { SetFromJson(key, v, field); },
                        opt});
  }
  return opt;
}

}  // namespace avrec::cli
