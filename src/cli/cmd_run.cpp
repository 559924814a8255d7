// run: the whole pipeline on a workspace, driven by a config file.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

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
  app->add_option("--out,-o", o->out, "Recommendations output file (overrides recommend.out)")->type_name("PATH");
  app->add_option("--threads", o->threads, "Worker threads (overrides threads; 0: all cores)");
  app->add_option("--set", o->set,
                  "Override any config key: --set score.batch_size=64 (value parsed as JSON, else taken as text)")
      ->type_name("KEY=VALUE");
}

int RunPipeline(const RunOptions& o, const std::vector<std::string>& all_keys) {
  Config config = Config::Load(o.config);
  CheckConfigKeys(config, all_keys);

  IngestOptions ingest;
  ScoreOptions score;
  ProfileCmdOptions profile;
  RecommendCmdOptions recommend;
  OptionTable ingest_t(nullptr), score_t(nullptr), profile_t(nullptr), recommend_t(nullptr);
  RegisterIngest(&ingest_t, &ingest);
  RegisterScore(&score_t, &score);
  RegisterProfile(&profile_t, &profile);
  RegisterRecommend(&recommend_t, &recommend);
  const std::vector<const OptionTable*> tables = {&ingest_t, &score_t, &profile_t, &recommend_t};
  for (const OptionTable* t : tables) t->Apply(config);

  for (const std::string& kv : o.set) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) Fail(ExitCode::kUsage, "--set ", kv, ": expected KEY=VALUE");
    std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    bool known = false;
    for (const OptionTable* t : tables) known |= t->Set(key, value, ".");
    if (!known) Fail(ExitCode::kUsage, "--set ", key, ": unknown config key");
  }
  if (!o.workspace.empty()) {
    ingest.workspace = score.workspace = recommend.inputs.workspace = profile.inputs.workspace = o.workspace;
  }
  if (o.threads >= 0) {
    score.encoder.threads = recommend.inputs.threads = profile.inputs.threads = o.threads;
  }
  if (!o.out.empty()) recommend.out = o.out;
  if (ingest.workspace.empty()) Fail(ExitCode::kUsage, o.config, ": no workspace (set \"workspace\" or --workspace)");
  if (recommend.out.empty()) Fail(ExitCode::kUsage, o.config, ": no output (set recommend.out or --out)");
  MakeParentDirs(ingest.workspace);
  MakeParentDirs(recommend.out);
  // The stages after ingest read the workspace, not the files.
  score.reviews.clear();
  recommend.inputs.in.reviews.clear();
  recommend.inputs.in.items.clear();
  profile.inputs.in.reviews.clear();
  profile.inputs.in.items.clear();

  spdlog::info("stage 1/4: ingest");
  if (int rc = RunIngest(ingest); rc != 0) return rc;
  spdlog::info("stage 2/4: score");
  score.out.clear();  // scores live in the workspace
  if (int rc = RunScore(score); rc != 0) return rc;
  if (!profile.out.empty()) {
    spdlog::info("stage 3/4: profile -> {}", profile.out);
    MakeParentDirs(profile.out);
    if (int rc = RunProfile(profile); rc != 0) return rc;
  } else {
    spdlog::info("stage 3/4: profile (built by recommend; set profile.out to write them)");
  }
  spdlog::info("stage 4/4: recommend");
  if (int rc = RunRecommend(recommend); rc != 0) return rc;
  // The last line on stdout: where the ranked JSON is (for shell scripts).
  std::printf("%s\n", recommend.out.c_str());
  return 0;
}

}  // namespace avrec::cli
