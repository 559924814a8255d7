#include "cli/options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "avrec/io.h"

namespace avrec::cli {

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path == "-" || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

Config Config::Load(const std::string& path) {
  Config c;
  c.path = path;
  size_t slash = path.find_last_of('/');
  c.dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string text = ReadFileToString(path);
  try {
    c.root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    Fail(ExitCode::kUsage, path, ": not valid JSON: ", e.what());
  }
  if (!c.root.is_object()) Fail(ExitCode::kUsage, path, ": expected a JSON object at the top level");
  return c;
}

const nlohmann::json* Config::Find(const std::string& key) const {
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

CLI::Option* OptionTable::AddPath(const std::string& flags, const std::string& key, std::string* field,
                                  const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) {
    opt = app_->add_option(flags, *field, help)->capture_default_str()->type_name("PATH");
  }
  if (!key.empty()) {
    entries_.push_back({key,
                        [key, field](const nlohmann::json& v, const std::string& base) {
                          if (!v.is_string()) Fail(ExitCode::kUsage, "config key '", key, "': expected a path string");
                          *field = ResolvePath(base, v.get<std::string>());
                        },
                        opt});
  }
  return opt;
}

CLI::Option* OptionTable::AddFlag(const std::string& flags, const std::string& key, bool* field,
                                  const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) opt = app_->add_flag(flags, *field, help);
  if (!key.empty()) {
    entries_.push_back(
        {key, [key, field](const nlohmann::json& v, const std::string&) { SetFromJson(key, v, field); }, opt});
  }
  return opt;
}

CLI::Option* OptionTable::AddNegFlag(const std::string& flags, const std::string& key, bool* field,
                                     const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) opt = app_->add_flag_callback(flags, [field] { *field = false; }, help);
  if (!key.empty()) {
    entries_.push_back(
        {key, [key, field](const nlohmann::json& v, const std::string&) { SetFromJson(key, v, field); }, opt});
  }
  return opt;
}

CLI::Option* OptionTable::AddNumberMap(const std::string& flags, const std::string& key,
                                       std::map<std::string, double>* field, const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) {
    opt = app_->add_option_function<std::vector<std::string>>(
        flags,
        [field, flags](const std::vector<std::string>& values) {
          for (const auto& v : values) {
            size_t eq = v.find('=');
            char* end = nullptr;
            double x = eq == std::string::npos ? 0 : std::strtod(v.c_str() + eq + 1, &end);
            if (eq == std::string::npos || end == v.c_str() + eq + 1 || *end != '\0' || !std::isfinite(x)) {
              Fail(ExitCode::kUsage, flags, ": expected NAME=NUMBER, got '", v, "'");
            }
            (*field)[v.substr(0, eq)] = x;
          }
        },
        help);
    opt->type_name("NAME=NUMBER");
  }
  if (!key.empty()) {
    entries_.push_back({key,
                        [key, field](const nlohmann::json& v, const std::string&) {
                          if (!v.is_object()) Fail(ExitCode::kUsage, "config key '", key, "': expected an object name -> number");
                          for (auto it = v.begin(); it != v.end(); ++it) {
                            if (!it.value().is_number()) {
                              Fail(ExitCode::kUsage, "config key '", key, ".", it.key(), "': expected a number");
                            }
                            (*field)[it.key()] = it.value().get<double>();
                          }
                        },
                        opt});
  }
  return opt;
}

CLI::Option* OptionTable::AddColumnMap(const std::string& flags, const std::string& key,
                                       std::map<std::string, std::string>* field, const std::string& help) {
  CLI::Option* opt = nullptr;
  if (app_ != nullptr && !flags.empty()) {
    opt = app_->add_option_function<std::vector<std::string>>(
        flags,
        [field](const std::vector<std::string>& values) {
          for (const auto& v : values) {
            size_t eq = v.find('=');
            if (eq == std::string::npos) {
              (*field)[v] = "";
            } else {
              (*field)[v.substr(0, eq)] = v.substr(eq + 1);
            }
          }
        },
        help);
    opt->type_name("COL[=MODALITY]");
  }
  if (!key.empty()) {
    entries_.push_back({key,
                        [key, field](const nlohmann::json& v, const std::string&) {
                          if (v.is_array()) {
                            for (const auto& e : v) {
                              if (!e.is_string()) Fail(ExitCode::kUsage, "config key '", key, "': expected column names");
                              (*field)[e.get<std::string>()] = "";
                            }
                          } else if (v.is_object()) {
                            for (auto it = v.begin(); it != v.end(); ++it) {
                              if (!it.value().is_string()) {
                                Fail(ExitCode::kUsage, "config key '", key, ".", it.key(), "': expected a modality name");
                              }
                              (*field)[it.key()] = it.value().get<std::string>();
                            }
                          } else {
                            Fail(ExitCode::kUsage, "config key '", key,
                                 "': expected a list of columns or an object column -> modality");
                          }
                        },
                        opt});
  }
  return opt;
}

void OptionTable::Apply(const Config& config) const {
  for (const Entry& e : entries_) {
    if (e.cli != nullptr && e.cli->count() > 0) continue;
    const nlohmann::json* v = config.Find(e.key);
    if (v != nullptr) e.set(*v, config.dir);
  }
}

bool OptionTable::Set(const std::string& key, const nlohmann::json& value, const std::string& base_dir) const {
  for (const Entry& e : entries_) {
    if (e.key == key) {
      e.set(value, base_dir);
      return true;
    }
  }
  return false;
}

std::vector<std::string> OptionTable::keys() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.key);
  return out;
}

void CheckConfigKeys(const Config& config, const std::vector<std::string>& known) {
  std::set<std::string> leaves(known.begin(), known.end());
  std::set<std::string> sections;
  for (const auto& k : known) {
    for (size_t dot = k.find('.'); dot != std::string::npos; dot = k.find('.', dot + 1)) sections.insert(k.substr(0, dot));
  }
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& node,
                                                                            const std::string& prefix) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (leaves.count(key) != 0) continue;
      if (it.value().is_object() && sections.count(key) != 0) {
        walk(it.value(), key);
        continue;
      }
      // Suggest the closest known key with the same last part.
      std::string hint;
      std::string last = it.key();
      for (const auto& k : known) {
        if (k.size() >= last.size() && k.compare(k.size() - last.size(), last.size(), last) == 0) {
          hint = " (did you mean '" + k + "'?)";
          break;
        }
      }
      Fail(ExitCode::kUsage, config.path, ": unknown config key '", key, "'", hint);
    }
  };
  walk(config.root, "");
}

}  // namespace avrec::cli
