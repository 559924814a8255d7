// Command-line parsing and dispatch: builds one CLI11 subcommand per verb,
// applies the config file, runs the handler and maps errors to exit codes.
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <new>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/version.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

// One verb: its CLI11 subcommand, option table, and how to run it.
struct Verb {
  CLI::App* app = nullptr;
  std::unique_ptr<OptionTable> table;
  std::string config_path;
  std::function<int()> run;
};

template <typename Options>
void AddKeys(void (*reg)(OptionTable*, Options*), std::vector<std::string>* keys) {
  OptionTable t(nullptr);
  Options o;
  reg(&t, &o);
  for (auto& k : t.keys()) keys->push_back(k);
}

// Every config key any verb knows, for CheckConfigKeys.
std::vector<std::string> AllConfigKeys() {
  std::vector<std::string> keys;
  AddKeys<IngestOptions>(RegisterIngest, &keys);
  AddKeys<TokenizeOptions>(RegisterTokenize, &keys);
  AddKeys<ScoreOptions>(RegisterScore, &keys);
  AddKeys<ProfileCmdOptions>(RegisterProfile, &keys);
  AddKeys<RecommendCmdOptions>(RegisterRecommend, &keys);
  return keys;
}

template <typename Options>
Verb& AddVerb(CLI::App* app, std::vector<std::unique_ptr<Verb>>* verbs, const char* name, const char* help,
              void (*reg)(OptionTable*, Options*), int (*run)(const Options&)) {
  auto verb = std::make_unique<Verb>();
  auto options = std::make_shared<Options>();
  verb->app = app->add_subcommand(name, help);
  verb->table = std::make_unique<OptionTable>(verb->app);
  reg(verb->table.get(), options.get());
  verb->app->add_option("--config", verb->config_path,
                        "Pipeline config file (JSON); options given on the command line win");
  Verb* v = verb.get();
  verb->run = [v, options, run]() {
    if (!v->config_path.empty()) {
      Config config = Config::Load(v->config_path);
      CheckConfigKeys(config, AllConfigKeys());
      v->table->Apply(config);
    }
    return run(*options);
  };
  verbs->push_back(std::move(verb));
  return *verbs->back();
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"avrec " AVREC_VERSION
               ": reads what people write about songs and videos and turns it into ranked recommendations.\n"
               "Exit codes: 0 ok, 64 usage, 65 invalid input data, 66 input missing, 70 internal error,\n"
               "73 output cannot be created, 74 I/O error."};
  app.set_version_flag("--version", std::string("avrec ") + AVREC_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough();
  std::string log_level = "info", log_format = "text";
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->envname("AVREC_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "Log format on stderr: text, or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("AVREC_LOG_FORMAT")
      ->capture_default_str();

  std::vector<std::unique_ptr<Verb>> verbs;
  AddVerb<ValidateOptions>(&app, &verbs, "validate",
                           "Check reviews and items files against the formats and against each other",
                           RegisterValidate, RunValidate);
  AddVerb<IngestOptions>(&app, &verbs, "ingest",
                         "Load reviews and items into a workspace (SQLite), transactionally and incrementally",
                         RegisterIngest, RunIngest);
  AddVerb<TokenizeOptions>(&app, &verbs, "tokenize",
                           "Token ids of texts read from stdin, one per line (the model's tokenizer)",
                           RegisterTokenize, RunTokenize);
  AddVerb<ScoreOptions>(&app, &verbs, "score", "Sentiment of every review (BERT through libtorch), cached in a workspace",
                        RegisterScore, RunScore);
  AddVerb<EmbedOptions>(&app, &verbs, "embed", "Text embeddings with a sentence-encoder model (JSON Lines out)",
                        RegisterEmbed, RunEmbed);
  AddVerb<ProfileCmdOptions>(&app, &verbs, "profile",
                             "Each user's preference vector from the items they reviewed, weighted by sentiment",
                             RegisterProfile, RunProfile);
  AddVerb<RecommendCmdOptions>(&app, &verbs, "recommend",
                               "Top-N items per user with reasons (cosine of profiles and item vectors), as JSON",
                               RegisterRecommend, RunRecommend);
  AddVerb<SplitCmdOptions>(&app, &verbs, "split", "Split a reviews file into train and test (temporal, leave-last, random)",
                           RegisterSplit, RunSplit);
  AddVerb<EvaluateCmdOptions>(&app, &verbs, "evaluate",
                              "Top-k metrics of recommendations against held-out interactions (one flat JSON object)",
                              RegisterEvaluate, RunEvaluate);
  AddVerb<TopKCmdOptions>(&app, &verbs, "topk", "Exact cosine top-k for vectors you bring (CSV in, JSON Lines out)",
                          RegisterTopK, RunTopK);

  RunOptions run_options;
  CLI::App* run_app = app.add_subcommand(
      "run", "Run the pipeline (ingest -> score -> profile -> recommend) on a workspace, as a config file says");
  RegisterRun(run_app, &run_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {  // thrown by an option's own parser
    std::fprintf(stderr, "avrec: error: %s\n", e.what());
    return static_cast<int>(e.code());
  }

  try {
    SetupLogging(log_level, log_format == "json" ? LogFormat::kJson : LogFormat::kText);
    InstallSignalCleanup();
    for (auto& v : verbs) {
      if (v->app->parsed()) return v->run();
    }
    if (run_app->parsed()) return RunPipeline(run_options, AllConfigKeys());
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    spdlog::error("out of memory");
    return static_cast<int>(ExitCode::kSoftware);
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return static_cast<int>(ExitCode::kSoftware);
  }
}

}  // namespace avrec::cli
