// Puts an OptionSet on a CLI11 subcommand: one CLI11 option per row (values
// parsed by the row itself, so the command line and the config file accept
// and reject the same things), and applies a config file under the rule
// command line > config file > default.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "avrec/options.h"

namespace avrec::cli {

class BoundOptions {
 public:
  // Adds every row of `set` that has flags to `app`. `set` must outlive this.
  BoundOptions(CLI::App* app, const OptionSet* set);

  // Whether the row was given on the command line.
  bool Given(const Option& o) const;
  // Applies the config file at `path` to every row not given on the command
  // line. Unknown keys (not in `known`) are errors: Error(kUsage).
  void ApplyConfigFile(const std::string& path, const std::vector<std::string>& known) const;

 private:
  const OptionSet* set_;
  std::map<const Option*, CLI::Option*> cli_;
};

// A config file: the parsed JSON object and the folder relative paths start
// from: the file's own (that of the file /dev/stdin or /dev/fd/N is open
// on), or the current one when the config is not a regular file
// (`--config -`, a pipe, `--config <(...)`). Throws Error(kNoInput) when missing, Error(kUsage) when
// not a JSON object (with the line and column of a syntax error).
struct ConfigFile {
  nlohmann::json root;
  std::string dir;
  static ConfigFile Load(const std::string& path);
};

// Fails (usage) unless `value`, given on the command line for `name`, is
// UTF-8: avrec writes its options and paths into JSON.
void CheckArgumentUtf8(const std::string& name, const std::string& value);

}  // namespace avrec::cli
