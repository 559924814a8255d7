// run: the whole pipeline on a workspace, driven by a config file.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "cli/commands.h"

namespace avrec::cli {

namespace {

void MakeParentDirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) Fail(ExitCode::kCantCreate, parent.string(), ": cannot create folder: ", ec.message());
}

}  // namespace

void RegisterRun(CLI::App* app, RunOptions* o) {
  app->add_option("--config", o->config, "Pipeline config file (JSON)")->required()->type_name("PATH");
  app->add_option("--workspace,-w", o->workspace, "Workspace database file (overrides the config)")
      ->type_name("PATH");
  app->add_option("--set", o->set,
                  "Override any config key: --set score.batch_size=64 (value parsed as JSON, else taken as text)")
      ->type_name("KEY=VALUE");
}

int RunPipeline(const RunOptions& o, const std::vector<std::string>& all_keys) {
  Config config = Config::Load(o.config);
  CheckConfigKeys(config, all_keys);

  IngestOptions ingest;
  OptionTable ingest_table(nullptr);
  RegisterIngest(&ingest_table, &ingest);
  ingest_table.Apply(config);

  for (const std::string& kv : o.set) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) Fail(ExitCode::kUsage, "--set ", kv, ": expected KEY=VALUE");
    std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    if (!ingest_table.Set(key, value, ".")) Fail(ExitCode::kUsage, "--set ", key, ": unknown config key");
  }
  if (!o.workspace.empty()) ingest.workspace = o.workspace;
  if (ingest.workspace.empty()) Fail(ExitCode::kUsage, o.config, ": no workspace (set \"workspace\" or --workspace)");
  MakeParentDirs(ingest.workspace);

  spdlog::info("stage 1/4: ingest");
  int rc = RunIngest(ingest);
  if (rc != 0) return rc;
  spdlog::warn("stages score, profile and recommend are not implemented yet: the pipeline stops after ingest");
  spdlog::info("workspace: {}", ingest.workspace);
  return 0;
}

}  // namespace avrec::cli
