#include "cli/bind.h"

#include <sys/stat.h>

#include <cstdlib>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/text.h"

namespace avrec::cli {

// A value from the command line must be UTF-8: options and paths are written
// into JSON (output headers, run manifests, the workspace's record of a run),
// which holds nothing else. A file named in another encoding used to fail as
// an internal error after the work was done.
void CheckArgumentUtf8(const std::string& name, const std::string& v) {
  size_t bad = 0;
  if (!IsValidUtf8(v, &bad)) {
    Fail(ExitCode::kUsage, name, ": ", EscapeForMessage(v, 60), " is not valid UTF-8 (byte ", bad + 1,
         "); avrec records its options in JSON, which holds only UTF-8: rename the file, or link to it under a "
         "UTF-8 name");
  }
}

BoundOptions::BoundOptions(CLI::App* app, const OptionSet* set) : set_(set) {
  std::map<std::string, CLI::Option*> by_flags;
  for (const Option& o : set->options()) {
    if (o.flags.empty()) continue;
    if (auto it = by_flags.find(o.flags); it != by_flags.end()) {
      // The same flag for several rows (one option serving two stages).
      cli_[&o] = it->second;
      continue;
    }
    const Option* row = &o;
    // Every row with this flag receives the value.
    const auto rows = [set, flags = o.flags] {
      std::vector<const Option*> out;
      for (const Option& r : set->options()) {
        if (r.flags == flags) out.push_back(&r);
      }
      return out;
    };
    CLI::Option* opt = nullptr;
    switch (o.arity) {
      case OptionArity::kFlag:
      case OptionArity::kNegFlag: {
        const bool value = o.arity == OptionArity::kFlag;
        opt = app->add_flag_callback(
            o.flags,
            [rows, value] {
              for (const Option* r : rows()) r->from_json(nlohmann::json(value), "");
            },
            o.help);
        break;
      }
      case OptionArity::kValue:
        opt = app->add_option_function<std::string>(
            o.flags,
            [rows, name = o.Name()](const std::string& v) {
              CheckArgumentUtf8(name, v);
              for (const Option* r : rows()) r->from_text(v);
            },
            o.help);
        break;
      case OptionArity::kRepeated:
        opt = app->add_option_function<std::vector<std::string>>(
            o.flags,
            [rows, name = o.Name()](const std::vector<std::string>& vs) {
              for (const auto& v : vs) CheckArgumentUtf8(name, v);
              for (const Option* r : rows()) {
                for (const auto& v : vs) r->from_text(v);
              }
            },
            o.help);
        opt->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        break;
    }
    if (o.arity == OptionArity::kValue || o.arity == OptionArity::kRepeated) {
      opt->type_name(o.type_name);
      const nlohmann::json def = o.to_json();
      const bool empty = def.is_null() || (def.is_string() && def.get<std::string>().empty()) ||
                         ((def.is_array() || def.is_object()) && def.empty());
      if (!empty) opt->default_str(def.is_string() ? def.get<std::string>() : def.dump());
    }
    by_flags[o.flags] = opt;
    cli_[row] = opt;
  }
}

bool BoundOptions::Given(const Option& o) const {
  auto it = cli_.find(&o);
  return it != cli_.end() && it->second->count() > 0;
}

void BoundOptions::ApplyConfigFile(const std::string& path, const std::vector<std::string>& known) const {
  ConfigFile config = ConfigFile::Load(path);
  CheckConfigKeys(config.root, path, known);
  set_->ApplyConfig(config.root, config.dir, [this](const Option& o) { return Given(o); });
}

ConfigFile ConfigFile::Load(const std::string& path) {
  ConfigFile c;
  // A descriptor's name (/dev/stdin, /dev/fd/N, /proc/self/fd/N) stands for
  // the file it is open on, whose folder is its own.
  std::string named = path;
  if (path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0) {
    char* real = ::realpath(path.c_str(), nullptr);
    named = real != nullptr ? real : "";
    std::free(real);
  }
  struct stat st;
  const bool regular = !named.empty() && ::stat(named.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  const size_t slash = named.find_last_of('/');
  c.dir = slash == std::string::npos || !regular ? "." : named.substr(0, slash == 0 ? 1 : slash);
  c.root = ParseJsonDocument(ReadFileToString(path, kMaxSmallFileBytes, ExitCode::kUsage), path, ExitCode::kUsage);
  if (!c.root.is_object()) Fail(ExitCode::kUsage, path, ": expected a JSON object at the top level");
  return c;
}

}  // namespace avrec::cli
