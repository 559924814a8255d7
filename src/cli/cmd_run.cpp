// run: the whole pipeline on a workspace, driven by a config file.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <set>

#include "avrec/io.h"
#include "avrec/json.h"
#include "cli/bind.h"
#include "cli/commands.h"
#include "common/cluster.h"

namespace avrec::cli {

void RegisterRun(CLI::App* app, RunCommand* o) {
  app->add_option("--config", o->config, "Pipeline config file (JSON)")->required()->type_name("PATH");
  app->add_option("--workspace,-w", o->workspace, "Workspace database file (overrides the config)")->type_name("PATH");
  app->add_option("--out,-o", o->out, "Recommendations output file (overrides recommend.out)")->type_name("PATH");
  app->add_option("--threads", o->threads, "Worker threads (overrides threads; 0: all cores)")
      ->check(CLI::Range(0, 2147483647));
  app->add_option("--set", o->set,
                  "Override any config key: --set score.batch_size=64, or one entry of a map: --set "
                  "features.modality_weights.audio=2 (value parsed as JSON, else taken as text)")
      ->type_name("KEY=VALUE");
}

int RunRun(const RunCommand& o, RunFiles* files) {
  CheckArgumentUtf8("--config", o.config);
  CheckArgumentUtf8("--workspace", o.workspace);
  CheckArgumentUtf8("--out", o.out);
  for (const std::string& kv : o.set) CheckArgumentUtf8("--set", kv);
  const ConfigFile file = ConfigFile::Load(o.config);
  CheckConfigKeys(file.root, o.config, AllConfigKeys());
  PipelineConfig c;
  OptionSet set;
  c.Describe(&set);
  set.ApplyConfig(file.root, file.dir);
  std::set<std::string> set_keys;
  for (const std::string& kv : o.set) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) Fail(ExitCode::kUsage, "--set ", kv, ": expected KEY=VALUE");
    const std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value;
    std::string error;
    if (!ParseJson(text, &value, &error)) value = text;
    // Checked as the config file's keys are: a section named alone, or a
    // mistyped key, is told apart and answered with the keys it may mean.
    nlohmann::json as_config = nlohmann::json::object();
    nlohmann::json* at = &as_config;
    for (size_t start = 0, dot = 0; dot != std::string::npos; start = dot + 1) {
      dot = key.find('.', start);
      at = &(*at)[key.substr(start, dot == std::string::npos ? dot : dot - start)];
    }
    *at = value;
    CheckConfigKeys(as_config, "--set", AllConfigKeys());
    if (!set.SetKeyOrEntry(key, value, ".")) Fail(ExitCode::kUsage, "--set ", key, ": unknown config key");
    set_keys.insert(key);
  }
  for (const auto& [opt, why] : set.Inert([&](const Option& x) { return set_keys.count(x.key) != 0; })) {
    spdlog::warn("--set {} has no effect: {}", opt->key, why);
  }
  if (!o.workspace.empty()) c.workspace = o.workspace;
  if (o.threads >= 0) c.threads = o.threads;
  if (!o.out.empty()) c.out = o.out;
  if (c.workspace.empty()) Fail(ExitCode::kUsage, o.config, ": no workspace (set \"workspace\" or --workspace)");
  if (c.out.empty()) Fail(ExitCode::kUsage, o.config, ": no output (set recommend.out or --out)");
  files->inputs = {c.inputs.reviews, c.inputs.items};
  files->tables = files->inputs;
  files->outputs = {c.workspace, c.out};
  files->workspace = c.workspace;
  files->creates_folders = true;
  if (!c.profile_out.empty()) files->outputs.push_back(c.profile_out);
  files->manifest = c.manifest.empty() ? c.out + ".run.json" : c.manifest;
  CheckFiles(*files);
  RunPipeline(c);
  // The last line on stdout: where the ranked JSON is (for shell scripts).
  if (Cluster::Get().root()) std::printf("%s\n", c.out.c_str());
  return 0;
}

}  // namespace avrec::cli
