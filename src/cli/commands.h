// The subcommands: one options struct per verb (defaults in the struct, the
// library's option structs embedded), which describes its options once
// (`Describe`), and a handler `int RunX(const XOptions&)` returning the exit
// code. Handlers parse nothing themselves and call the library
// (avrec/pipeline.h); they throw avrec::Error for failures, which Main maps
// to exit codes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "avrec/diff.h"
#include "avrec/error.h"
#include "avrec/evaluate.h"
#include "avrec/options.h"
#include "avrec/pipeline.h"
#include "avrec/report.h"

namespace CLI {
class App;
}

namespace avrec::cli {

struct ValidateCommand {
  PipelineConfig config;
  void Describe(OptionSet* s);
};
int RunValidate(const ValidateCommand& o);

struct IngestCommand {
  PipelineConfig config;
  void Describe(OptionSet* s);
};
int RunIngest(const IngestCommand& o);

struct ForgetCommand {
  std::string workspace;
  ForgetIds ids;                               // --user, --review, --item
  std::string user_ids, review_ids, item_ids;  // files of ids, one per line
  bool dry_run = false;
  bool force = false;  // even when more than half of the reviews would go
  void Describe(OptionSet* s);
};
int RunForget(const ForgetCommand& o);

struct TokenizeCommand {
  std::string model;                                  // model directory; empty: the bundled sentiment model
  int max_len = 0;                                    // 0: the model's max_length
  int64_t max_record_bytes = kDefaultMaxRecordBytes;  // a longer line is an error
  void Describe(OptionSet* s);
};
int RunTokenize(const TokenizeCommand& o);

struct ScoreCommand {
  PipelineConfig config;
  void Describe(OptionSet* s);
};
int RunScore(const ScoreCommand& o);

struct EmbedCommand {
  std::string model, input, out;
  std::map<std::string, std::string> columns;  // --map: id=COLUMN,text=COLUMN
  EncoderOptions encoder;
  void Describe(OptionSet* s);
};
int RunEmbed(const EmbedCommand& o);

struct ProfileCommand {
  PipelineConfig config;
  void Describe(OptionSet* s);
};
int RunProfile(const ProfileCommand& o);

struct RecommendCommand {
  PipelineConfig config;
  void Describe(OptionSet* s);
};
int RunRecommend(const RecommendCommand& o);

struct TopKCommand {
  std::string users, items, out;
  int k = 10;
  int threads = 0;
  int block_users = 256;
  void Describe(OptionSet* s);
};
int RunTopK(const TopKCommand& o);

struct SplitCommand {
  std::string reviews, train, test;
  std::string format;  // "": from the extensions
  SplitOptions split;
  bool allow_empty_text = false;
  std::map<std::string, std::string> columns;  // --map
  int64_t timestamp_units = 1;                 // --timestamp-unit
  void Describe(OptionSet* s);
};
int RunSplit(const SplitCommand& o);

struct EvaluateCommand {
  std::string recs, truth, train, items, out, per_user;
  std::string baseline;              // lists to compare against
  int bootstrap = 1000;              // resamples of the change's interval
  std::vector<std::string> fail_if;  // thresholds: exit 1 when one holds
  std::vector<int> ks;
  std::optional<double> min_rating;
  int64_t catalogue_size = 0;
  std::string truth_scores;  // sentiment of held-out reviews without a rating
  double grade_rating_min = 1, grade_rating_max = 5;
  bool no_graded = false;
  std::map<std::string, std::string> columns;  // --map, for --truth and --train
  InputOptions item_input;                     // how --items' columns are read (--items-map, ...)
  int64_t timestamp_units = 1;                 // --timestamp-unit
  void Describe(OptionSet* s);
};
int RunEvaluate(const EvaluateCommand& o);

struct DiffCommand {
  std::string old_path, new_path, out;
  DiffOptions options;
  std::vector<std::string> fail_if;  // thresholds: exit 1 when one holds
  void Describe(OptionSet* s);
};
int RunDiff(const DiffCommand& o);

struct ReportCommand {
  PipelineConfig config;  // workspace or files, scores file
  std::string recs, previous, out, manifest;
  ReportOptions options;
  void Describe(OptionSet* s);
};
int RunReport(const ReportCommand& o);

struct RunCommand {
  std::string config;
  std::string workspace;
  std::string out;
  int threads = -1;              // -1: from the config
  std::vector<std::string> set;  // KEY=VALUE overrides
};
struct RunFiles;
void RegisterRun(CLI::App* app, RunCommand* o);
int RunRun(const RunCommand& o, RunFiles* files);

// What a verb reads and writes ("-": standard input or output): checked for
// closed descriptors before any work, and listed in its run manifest
// (run_manifest.cpp) when it writes one.
struct RunFiles {
  std::vector<std::string> inputs, outputs;
  std::string manifest;         // "": none
  std::string workspace;        // the output that is a workspace (SQLite checks its own), "": none
  std::string workspace_input;  // the input that is a workspace (to read), "": none
  // The inputs read as tables (CSV, TSV, JSON Lines): a name whose extension
  // says no such format is a usage error, before whether the file is there.
  std::vector<std::string> tables;
  bool creates_folders = false;  // run makes its outputs' missing folders
};
// Before any work: no input or output names a closed descriptor, every
// input is there to read (CheckInputFile, Workspace::CheckExists), no two
// outputs (the manifest included) name the same file, and each output file
// can be created where it is named (CheckOutputsCreatable).
void CheckFiles(const RunFiles& files);

// What an output with a single format holds.
enum class SingleFormat { kJsonLines, kJsonObject, kHtml };
// Warns, before any work, when an output that `verb` writes in `format`
// (its only one) is named for another: .csv, .tsv, .json, .jsonl, .ndjson,
// .html or .htm.
void WarnIfNamedForAnotherFormat(const std::string& path, const std::string& verb,
                                 SingleFormat format = SingleFormat::kJsonLines);
RunFiles FilesOf(const ValidateCommand& c);
RunFiles FilesOf(const IngestCommand& c);
RunFiles FilesOf(const ForgetCommand& c);
RunFiles FilesOf(const TokenizeCommand& c);
RunFiles FilesOf(const ScoreCommand& c);
RunFiles FilesOf(const EmbedCommand& c);
RunFiles FilesOf(const ProfileCommand& c);
RunFiles FilesOf(const RecommendCommand& c);
RunFiles FilesOf(const TopKCommand& c);
RunFiles FilesOf(const SplitCommand& c);
RunFiles FilesOf(const EvaluateCommand& c);
RunFiles FilesOf(const DiffCommand& c);
RunFiles FilesOf(const ReportCommand& c);

// Collects the stage events of a run and writes its manifest.
class RunManifest {
 public:
  RunManifest();
  void Observe(const std::string& event, const nlohmann::json& fields);
  // Writes the manifest (atomically) when files.manifest is set. Never
  // throws: a manifest that cannot be written is logged.
  void Write(const RunFiles& files, int exit_code, double seconds) const;

 private:
  std::string started_at_;
  nlohmann::ordered_json stages_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json models_ = nlohmann::ordered_json::object();
  std::string config_hash_;
};

// Every config key any subcommand knows (unknown keys are errors).
std::vector<std::string> AllConfigKeys();

// Entry point of the avrec executable.
int Main(int argc, char** argv);

}  // namespace avrec::cli
