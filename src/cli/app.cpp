// Command-line parsing and dispatch: one CLI11 subcommand per verb, its
// options bound from the verb's OptionSet, the config file applied, the
// handler run and errors mapped to exit codes.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <sstream>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/parallel.h"
#include "avrec/text.h"
#include "avrec/version.h"
#include "avrec/workspace.h"
#include "cli/bind.h"
#include "cli/commands.h"
#include "common/cluster.h"
#include "common/last_words.h"

namespace avrec::cli {

namespace {

// One verb: its CLI11 subcommand, options and how to run it.
struct Verb {
  CLI::App* app = nullptr;
  OptionSet set;
  std::unique_ptr<BoundOptions> bound;
  std::string config_path;
  std::function<int()> run;
  std::function<RunFiles()> files;
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
    CheckArgumentUtf8("--config", v->config_path);
    if (!v->config_path.empty()) v->bound->ApplyConfigFile(v->config_path, AllConfigKeys());
    v->set.Validate([v](const Option& o) { return v->bound->Given(o); });  // every described range
    for (const auto& [o, why] : v->set.Inert([v](const Option& o) { return v->bound->Given(o); })) {
      spdlog::warn("{} has no effect: {}", o->Name(), why);
    }
    const RunFiles files = FilesOf(*command);
    CheckFiles(files);
    return run(*command);
  };
  verb->files = [command] { return FilesOf(*command); };
  verbs->push_back(std::move(verb));
}

void AddVerbs(CLI::App* app, std::vector<std::unique_ptr<Verb>>* verbs) {
  AddVerb<ValidateCommand>(app, verbs, "validate",
                           "Check reviews and items files against the formats and against each other", RunValidate);
  AddVerb<IngestCommand>(app, verbs, "ingest",
                         "Load reviews and items into a workspace (SQLite), transactionally and incrementally",
                         RunIngest);
  AddVerb<ForgetCommand>(app, verbs, "forget",
                         "Remove users, reviews or items from a workspace for good (erasure requests, takedowns); "
                         "later ingests skip them",
                         RunForget);
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
                            "Top-N items per user with reasons, as JSON (content cosine, item-knn, EASE, ALS, hybrid)",
                            RunRecommend);
  AddVerb<SplitCommand>(app, verbs, "split", "Split a reviews file into train and test (temporal, leave-last, random)",
                        RunSplit);
  AddVerb<EvaluateCommand>(app, verbs, "evaluate",
                           "Top-k metrics of recommendations against held-out interactions (one flat JSON object)",
                           RunEvaluate);
  AddVerb<DiffCommand>(app, verbs, "diff",
                       "Compare two recommendation files (night over night): overlap, churn, coverage, drift", RunDiff);
  AddVerb<ReportCommand>(app, verbs, "report",
                         "A self-contained HTML report for analysts: sentiment vs stars, coverage, long tail, "
                         "per-user drill-down, night-over-night changes",
                         RunReport);
  AddVerb<TopKCommand>(app, verbs, "topk", "Exact cosine top-k for vectors you bring (CSV in, JSON Lines out)",
                       RunTopK);
}

std::string SubcommandOf(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!a.empty() && a[0] != '-' && (i == 1 || std::string(argv[i - 1]).rfind("--log-", 0) != 0)) return a;
  }
  return "";
}

void PrintUsageErrorJson(const std::string& run_id, const std::string& subcommand, const std::string& what) {
  nlohmann::ordered_json j = {{"ts", LogTimestamp()}, {"level", "error"},         {"event", "usage_error"},
                              {"run_id", run_id},     {"subcommand", subcommand}, {"exit_code", 64},
                              {"msg", what}};
  std::fprintf(stderr, "%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int Dispatch(const std::vector<std::unique_ptr<Verb>>& verbs, CLI::App* run_app, const RunCommand& run,
             RunFiles* files) {
  for (const auto& v : verbs) {
    if (!v->app->parsed()) continue;
    *files = v->files();  // known before the run, written after
    return v->run();
  }
  if (run_app->parsed()) return RunRun(run, files);
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace

std::vector<std::string> AllConfigKeys() {
  PipelineConfig c;
  OptionSet set;
  c.Describe(&set);
  return set.keys();
}

// "rank 2 of 4: " in messages of a distributed run.
std::string RankPrefix() {
  const Cluster& c = Cluster::Get();
  return c.distributed() ? "rank " + std::to_string(c.rank()) + " of " + std::to_string(c.size()) + ": " : "";
}

// An option's value from the environment when the command line does not
// give it. CLI11's envname would name the option in an error, which the
// command line did not hold; at 3 a.m. the variable set in a crontab is what
// needs to be named.
void FromEnvironment(const CLI::Option* option, const char* name, const std::vector<std::string>& choices,
                     std::string* value) {
  const char* env = std::getenv(name);
  if (option->count() > 0 || env == nullptr || *env == '\0') return;
  if (std::find(choices.begin(), choices.end(), env) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    Fail(ExitCode::kUsage, name, " (environment): expected one of ", list, ", found '", env, "'");
  }
  *value = env;
}

namespace {

// For CLI11's "The following argument(s) were not expected: ARGS": the first
// of ARGS that is an option neither `sub` nor `app` has, named, with the one
// meant when it is a near misspelling of theirs or another verb's word for
// it: "unknown option '--topn' (did you mean '--top-n'?)", "unknown option
// '--k' (did you mean '--top-n'?)" (evaluate, topk and diff say --k). Empty
// when every one of ARGS is a stray value.
std::string UnknownOption(const CLI::App& app, const CLI::App& sub, const std::string& what) {
  const size_t colon = what.find(": ");
  if (colon == std::string::npos) return "";
  std::vector<std::string> names;
  for (const CLI::App* a : {&sub, &app}) {
    for (const CLI::Option* o : a->get_options()) {
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
    }
  }
  std::string unknown;
  std::istringstream args(what.substr(colon + 2));
  for (std::string a; args >> a;) {
    a = a.substr(0, a.find('='));
    if (a.rfind("--", 0) == 0 && a.size() > 2 && std::find(names.begin(), names.end(), a) == names.end()) {
      unknown = a;  // CLI11 lists them last first: keep the first given
    }
  }
  if (unknown.empty()) return "";
  // Words one verb or another tool uses for the same thing.
  static const std::vector<std::vector<std::string>> kSynonyms = {
      {"--top-n", "--k", "--topn", "--top-k", "--topk", "--n"}, {"--out", "--output"}};
  std::string meant;
  for (const std::vector<std::string>& same : kSynonyms) {
    if (std::find(same.begin(), same.end(), unknown) == same.end()) continue;
    for (const std::string& theirs : same) {
      if (meant.empty() && std::find(names.begin(), names.end(), theirs) != names.end()) meant = theirs;
    }
  }
  if (meant.empty()) {
    // Compared without the dashes every name shares: "--bogus" is not near "--out".
    std::vector<std::string> bare;
    for (const std::string& n : names) bare.push_back(n.substr(2));
    const std::string near = NearestName(unknown.substr(2), bare);
    if (!near.empty()) meant = "--" + near;
  }
  return "unknown option " + EscapeForMessage(unknown, 40) +
         (meant.empty() ? std::string(" (not one of `avrec ") + sub.get_name() + "`'s)"
                        : " (did you mean '" + meant + "'?)");
}

// The first of `args` that looks like an option (--name, --name=value)
// and is none of `app`'s own: empty when there is none.
std::string FirstForeignOption(const CLI::App& app, const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a.rfind("--", 0) != 0 || a.size() == 2) continue;
    const std::string name = a.substr(2, a.find('=') - 2);
    bool own = false;
    for (const CLI::Option* o : app.get_options()) own = own || o->check_lname(name);
    if (!own) return a.substr(0, a.find('='));
  }
  return "";
}

}  // namespace

// CLI11's parse error, as avrec words its own: a subcommand that does not
// exist is named as such (CLI11 said "A subcommand is required"), a verb's
// option given with no verb as such, a misspelt subcommand or option with
// the one meant, and the help to read is the subcommand's.
std::string UsageErrorText(CLI::App& app, const std::string& subcommand, const CLI::ParseError& e,
                           const std::vector<std::string>& args) {
  std::vector<std::string> subcommands;
  std::string names;
  for (const CLI::App* s : app.get_subcommands([](CLI::App*) { return true; })) {
    subcommands.push_back(s->get_name());
    names += (names.empty() ? "" : ", ") + s->get_name();
  }
  const bool known = std::find(subcommands.begin(), subcommands.end(), subcommand) != subcommands.end();
  const std::string what = e.what();
  const bool global = what.rfind("--log-", 0) == 0;  // --log-level, --log-format: avrec's own options
  if (known && e.get_exit_code() == static_cast<int>(CLI::ExitCodes::ExtrasError)) {
    const std::string meant = UnknownOption(app, *app.get_subcommand(subcommand), what);
    if (!meant.empty()) return meant + "; see `avrec " + subcommand + " --help`";
  }
  // Before the first word that is no option's value (none, or one taken
  // for the verb: `avrec --out x recommend`), an option none of avrec's own.
  const auto first_word = subcommand.empty() ? args.end() : std::find(args.begin(), args.end(), subcommand);
  const std::string foreign = known ? "" : FirstForeignOption(app, std::vector<std::string>(args.begin(), first_word));
  if (!foreign.empty()) {
    std::vector<std::string> having;  // the verbs that have it
    for (const std::string& verb : subcommands) {
      if (FirstForeignOption(*app.get_subcommand(verb), {foreign}).empty()) having.push_back(verb);
    }
    if (having.empty()) {
      return "unknown option " + EscapeForMessage(foreign, 40) + " (no subcommand has it; subcommands: " + names +
             "); see `avrec --help`";
    }
    std::string list;
    for (const std::string& verb : having) list += (list.empty() ? "" : ", ") + verb;
    return "option " + EscapeForMessage(foreign, 40) + " with no subcommand: it is an option of " + list +
           ", and follows the subcommand, as in `avrec " + having.front() + " " + foreign + " ...`; see `avrec " +
           having.front() + " --help`";
  }
  if (!global && !known) {
    const std::string meant = subcommand.empty() ? "" : NearestName(subcommand, subcommands);
    return (subcommand.empty() ? std::string("a subcommand is required ")
                               : "unknown subcommand " + EscapeForMessage(subcommand, 40) + " ") +
           (meant.empty() ? "(" : "(did you mean '" + meant + "'? ") + "subcommands: " + names +
           "); see `avrec --help`";
  }
  return what + "; see `avrec " + (global || !known ? "" : subcommand + " ") + "--help`";
}

namespace {

const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"},
                               kLogFormats = {"text", "json"};

// --log-level and --log-format, on the top-level command.
struct LogSettings {
  std::string level = "info", format = "text";
  const CLI::Option* level_option = nullptr;
  const CLI::Option* format_option = nullptr;
};

void AddLogOptions(CLI::App* app, LogSettings* log) {
  log->level_option =
      app->add_option("--log-level", log->level,
                      "Log level: trace, debug, info, warn, error, critical, off (env: AVREC_LOG_LEVEL)")
          ->check(CLI::IsMember(kLogLevels))
          ->capture_default_str();
  log->format_option =
      app->add_option("--log-format", log->format,
                      "Log format on stderr: text, or json (one object per line) (env: AVREC_LOG_FORMAT)")
          ->check(CLI::IsMember(kLogFormats))
          ->capture_default_str();
}

// A log option as the command line or the environment gives it, read
// before parsing so that a usage error is reported as the caller asked:
// `fallback` when it is absent or not one of `allowed`.
std::string PreParsedLogOption(int argc, char** argv, const std::string& name, const char* env,
                               const std::vector<std::string>& allowed, const std::string& fallback) {
  std::string value;
  for (int i = 1; i < argc && value.empty(); ++i) {
    const std::string a = argv[i];
    if (a == name && i + 1 < argc) value = argv[i + 1];
    if (a.rfind(name + "=", 0) == 0) value = a.substr(name.size() + 1);
  }
  if (value.empty() && std::getenv(env) != nullptr) value = std::getenv(env);
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end() ? value : fallback;
}

// A usage error found while parsing ends the run as every run ends: the
// error, then `run_end` with its exit code (logged at info, as always).
void PrintUsageError(int argc, char** argv, const std::string& run_id, const std::string& subcommand,
                     const std::string& what, int code) {
  const std::string format = PreParsedLogOption(argc, argv, "--log-format", "AVREC_LOG_FORMAT", kLogFormats, "text");
  if (format == "json") {
    PrintUsageErrorJson(run_id, subcommand, what);
  } else {
    std::fprintf(stderr, "avrec: error: %s\n", EscapeControls(what).c_str());
  }
  SetupLogging(PreParsedLogOption(argc, argv, "--log-level", "AVREC_LOG_LEVEL", kLogLevels, "info"),
               format == "json" ? LogFormat::kJson : LogFormat::kText);
  SetLogContext(run_id, subcommand);
  LogEvent(spdlog::level::info, "run_end", {{"exit_code", code}, {"seconds", 0.0}},
           "done: exit " + std::to_string(code) + " after 0.000 s");
}

// Parses the command line, then the log settings the environment gives.
// Returns the exit code when parsing ends the run (--help, --version, a
// usage error), nothing when a verb is to run.
std::optional<int> ParseCommandLine(CLI::App* app, int argc, char** argv, LogSettings* log, const std::string& run_id,
                                    const std::string& subcommand) {
  try {
    app->parse(argc, argv);
    FromEnvironment(log->level_option, "AVREC_LOG_LEVEL", kLogLevels, &log->level);
    FromEnvironment(log->format_option, "AVREC_LOG_FORMAT", kLogFormats, &log->format);
    return std::nullopt;
  } catch (const CLI::Success& e) {  // --help, --version
    const int rc = app->exit(e);
    try {
      CheckStdoutWritten();
    } catch (const Error& lost) {
      std::fprintf(stderr, "avrec: error: %s\n", EscapeControls(lost.what()).c_str());
      return static_cast<int>(lost.code());
    }
    return rc;
  } catch (const CLI::ParseError& e) {
    PrintUsageError(argc, argv, run_id, subcommand,
                    UsageErrorText(*app, subcommand, e, std::vector<std::string>(argv + 1, argv + argc)),
                    static_cast<int>(ExitCode::kUsage));
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {  // thrown by an option's own parser
    PrintUsageError(argc, argv, run_id, subcommand, e.what(), static_cast<int>(e.code()));
    return static_cast<int>(e.code());
  }
}

// Sets up logging, signal clean-up and the cluster, runs the verb the command
// line chose and maps what it throws to an exit code; a failed rank of a
// distributed run ends them all.
int RunChosenVerb(const std::vector<std::unique_ptr<Verb>>& verbs, CLI::App* run_app, const RunCommand& run,
                  const LogSettings& log, RunFiles* files) {
  const Cluster& cluster = Cluster::Get();
  int code = static_cast<int>(ExitCode::kSoftware);
  try {
    SetupLogging(log.level, log.format == "json" ? LogFormat::kJson : LogFormat::kText);
    InstallSignalCleanup();
    BusyTimeoutMs();  // a malformed $AVREC_BUSY_TIMEOUT_MS is a usage error before any work
    MemoryBytes();    // and so is a malformed $AVREC_MEMORY_MB
    Cluster::Init();  // mpirun: join the world; rank 0 reports, the others only warn
    if (!cluster.root()) spdlog::set_level(std::max(spdlog::get_level(), spdlog::level::warn));
    if (cluster.root()) PrepareSignalLastWords();  // a killed run's log still says how it ended
    code = Dispatch(verbs, run_app, run, files);
    if (code == 0) CheckStdoutWritten();  // what a verb printed may not have arrived
  } catch (const Error& e) {
    spdlog::error("{}{}", RankPrefix(), e.what());
    code = static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    spdlog::error("{}out of memory", RankPrefix());
  } catch (const std::exception& e) {
    spdlog::error("{}internal error: {}", RankPrefix(), e.what());
  }
  if (cluster.distributed() && code != 0) {
    // One rank failed: end them all (nothing is written: rank 0 writes last).
    spdlog::error("{}ending all {} ranks of the run (exit {})", RankPrefix(), cluster.size(), code);
    cluster.Abort(code);
  }
  Cluster::Finalize();
  return code;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"avrec " AVREC_VERSION
               ": reads what people write about songs and videos and turns it into ranked recommendations.\n"
               "Exit codes: 0 ok, 64 usage, 65 invalid input data, 66 input missing, 70 internal error,\n"
               "73 output cannot be created, 74 I/O error, 75 workspace locked by another writer or an input\n"
               "still being written (retry).",
               "avrec"};  // "Usage: avrec ...", not the path the binary was run by
  app.set_version_flag("--version", std::string("avrec ") + AVREC_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough();
  LogSettings log;
  AddLogOptions(&app, &log);
  std::vector<std::unique_ptr<Verb>> verbs;
  AddVerbs(&app, &verbs);
  RunCommand run;
  CLI::App* run_app = app.add_subcommand(
      "run", "Run the pipeline (ingest -> score -> profile -> recommend) on a workspace, as a config file says");
  RegisterRun(run_app, &run);

  const std::string run_id = NewRunId(), subcommand = SubcommandOf(argc, argv);
  if (const auto done = ParseCommandLine(&app, argc, argv, &log, run_id, subcommand)) return *done;

  SetLogContext(run_id, subcommand);
  const auto t0 = std::chrono::steady_clock::now();
  RunManifest manifest;
  RunFiles files;
  SetEventObserver([&manifest](const std::string& e, const nlohmann::json& f) { manifest.Observe(e, f); });
  const int code = RunChosenVerb(verbs, run_app, run, log, &files);
  if (!Cluster::Get().root()) return code;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RetireSignalLastWords();
  // The manifest before the last line, so that a warning of its own (its
  // folder gone) does not follow "done".
  manifest.Write(files, code, secs);
  LogEvent(spdlog::level::info, "run_end", {{"exit_code", code}, {"seconds", std::round(secs * 1000) / 1000}},
           "done: exit " + std::to_string(code) + " after " + std::to_string(secs).substr(0, 5) + " s");
  return code;
}

}  // namespace avrec::cli
