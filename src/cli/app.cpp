// Command-line parsing and dispatch: one CLI11 subcommand per verb, its
// options bound from the verb's OptionSet, the config file applied, the
// handler run and errors mapped to exit codes.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <new>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/version.h"
#include "cli/bind.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

// One verb: its CLI11 subcommand, options and how to run it.
struct Verb {
  CLI::App* app = nullptr;
  OptionSet set;
  std::unique_ptr<BoundOptions> bound;
  std::string config_path;
  std::function<int()> run;
};

template <typename Command>
void AddVerb(CLI::App* app, std::vector<std::unique_ptr<Verb>>* verbs, const char* name, const char* help,
             int (*run)(const Command&)) {
  auto verb = std::make_unique<Verb>();
  auto command = std::make_shared<Command>();
  verb->app = app->add_subcommand(name, help);
  command->Describe(&verb->set);
  verb->bound = std::make_unique<BoundOptions>(verb->app, &verb->set);
  verb->app->add_option("--config", verb->config_path,
                        "Pipeline config file (JSON); options given on the command line win");
  Verb* v = verb.get();
  verb->run = [v, command, run]() {
    if (!v->config_path.empty()) v->bound->ApplyConfigFile(v->config_path, AllConfigKeys());
    return run(*command);
  };
  verbs->push_back(std::move(verb));
}

void AddVerbs(CLI::App* app, std::vector<std::unique_ptr<Verb>>* verbs) {
  AddVerb<ValidateCommand>(app, verbs, "validate",
                           "Check reviews and items files against the formats and against each other", RunValidate);
  AddVerb<IngestCommand>(app, verbs, "ingest",
                         "Load reviews and items into a workspace (SQLite), transactionally and incrementally",
                         RunIngest);
  AddVerb<TokenizeCommand>(app, verbs, "tokenize",
                           "Token ids of texts read from stdin, one per line (the model's tokenizer)", RunTokenize);
  AddVerb<ScoreCommand>(app, verbs, "score", "Sentiment of every review (BERT through libtorch), cached in a workspace",
                        RunScore);
  AddVerb<EmbedCommand>(app, verbs, "embed", "Text embeddings with a sentence-encoder model (JSON Lines out)",
                        RunEmbed);
  AddVerb<ProfileCommand>(app, verbs, "profile",
                          "Each user's preference vector from the items they reviewed, weighted by sentiment",
                          RunProfile);
  AddVerb<RecommendCommand>(app, verbs, "recommend",
                            "Top-N items per user with reasons (cosine of profiles and item vectors), as JSON",
                            RunRecommend);
  AddVerb<SplitCommand>(app, verbs, "split", "Split a reviews file into train and test (temporal, leave-last, random)",
                        RunSplit);
  AddVerb<EvaluateCommand>(app, verbs, "evaluate",
                           "Top-k metrics of recommendations against held-out interactions (one flat JSON object)",
                           RunEvaluate);
  AddVerb<DiffCommand>(app, verbs, "diff",
                       "Compare two recommendation files (night over night): overlap, churn, coverage, drift",
                       RunDiff);
  AddVerb<TopKCommand>(app, verbs, "topk", "Exact cosine top-k for vectors you bring (CSV in, JSON Lines out)",
                       RunTopK);
}

int Dispatch(const std::vector<std::unique_ptr<Verb>>& verbs, CLI::App* run_app, const RunCommand& run) {
  for (const auto& v : verbs) {
    if (v->app->parsed()) return v->run();
  }
  if (run_app->parsed()) return RunRun(run);
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace

std::vector<std::string> AllConfigKeys() {
  PipelineConfig c;
  OptionSet set;
  c.Describe(&set);
  return set.keys();
}

int Main(int argc, char** argv) {
  CLI::App app{"avrec " AVREC_VERSION
               ": reads what people write about songs and videos and turns it into ranked recommendations.\n"
               "Exit codes: 0 ok, 64 usage, 65 invalid input data, 66 input missing, 70 internal error,\n"
               "73 output cannot be created, 74 I/O error, 75 workspace locked by another writer (retry)."};
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
  AddVerbs(&app, &verbs);
  RunCommand run;
  CLI::App* run_app = app.add_subcommand(
      "run", "Run the pipeline (ingest -> score -> profile -> recommend) on a workspace, as a config file says");
  RegisterRun(run_app, &run);

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
    return Dispatch(verbs, run_app, run);
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
