// The subcommands: one options struct per verb (defaults in the struct), a
// registration function that puts its flags and config keys in an
// OptionTable, and a handler `int RunX(const XOptions&)` returning the exit
// code. Handlers throw avrec::Error for failures; Main maps them to exit codes.
#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/features.h"
#include "avrec/profile.h"
#include "avrec/sentiment.h"
#include "cli/options.h"

namespace avrec::cli {

// Input files shared by validate, ingest and run.
struct InputOptions {
  std::string reviews;  // path, may be empty
  std::string items;    // path, may be empty
  bool allow_empty_text = false;
  ItemSchemaOptions schema;
  std::string tag_separator = "|";
  int max_errors = 100;

  ItemSchemaOptions Schema() const;
};
void RegisterInputs(OptionTable* t, InputOptions* o);

struct ValidateOptions {
  InputOptions in;
};
void RegisterValidate(OptionTable* t, ValidateOptions* o);
int RunValidate(const ValidateOptions& o);

struct IngestOptions {
  InputOptions in;
  std::string workspace;
  bool lenient = false;
};
void RegisterIngest(OptionTable* t, IngestOptions* o);
int RunIngest(const IngestOptions& o);

struct TokenizeOptions {
  std::string model;  // model directory; empty: the bundled sentiment model
  int max_len = 0;    // 0: the model's max_length
};
void RegisterTokenize(OptionTable* t, TokenizeOptions* o);
int RunTokenize(const TokenizeOptions& o);

// Flags shared by score and embed (see EncoderOptions).
struct EncoderFlags {
  std::string precision = "auto";
  int batch_size = 64;
  int max_batch_tokens = 1024;
  std::string long_text = "model";
  int threads = 0;
};

struct ScoreOptions {
  std::string model;
  std::string reviews;
  std::string out;
  std::string workspace;
  EncoderFlags encoder;
  int max_errors = 100;
};
void RegisterScore(OptionTable* t, ScoreOptions* o);
int RunScore(const ScoreOptions& o);

struct EmbedOptions {
  std::string model, input, out;
  EncoderFlags encoder;
};
void RegisterEmbed(OptionTable* t, EmbedOptions* o);
int RunEmbed(const EmbedOptions& o);

// What profile and recommend read: files or a workspace, sentiment, the
// item text model, and the profile weighting.
struct ModelInputOptions {
  InputOptions in;
  std::string workspace;
  std::string scores;
  std::string sentiment_model;
  std::string text_model = "default";
  std::string embedding_cache;
  FeatureOptions features;
  ProfileOptions profile;
  std::string now;
  double rating_min = std::nan(""), rating_max = std::nan("");
  int threads = 0;

  ProfileOptions Profile(const struct LoadedData& d) const;
};
void RegisterModelInputs(OptionTable* t, ModelInputOptions* o);

struct LoadedData {
  ItemTable item_table;
  std::vector<Review> reviews;
  std::unordered_map<std::string, Sentiment> sentiment;
  ItemMatrix items;
  std::string sentiment_model, sentiment_sha256;
  std::string embedding_model, embedding_sha256;
  std::optional<int64_t> profile_now;
};
LoadedData LoadModelInputs(const ModelInputOptions& o, bool need_sentiment);

struct ProfileCmdOptions {
  ModelInputOptions inputs;
  std::string out;
};
void RegisterProfile(OptionTable* t, ProfileCmdOptions* o);
int RunProfile(const ProfileCmdOptions& o);

struct RecommendCmdOptions {
  ModelInputOptions inputs;
  std::string out;
  std::string format = "json";
  int top_n = 10;
  std::string algorithm = "sentiment-content";
  bool include_seen = false;
  std::string allow_list, deny_list, users;
  std::string shard;
  int block_users = 256;
  double popularity_weight = 0, novelty_weight = 0, quality_weight = 0;
  int knn_neighbors = 50;
  double hybrid_content = 0.5;
  bool explain = true;
  std::string created_at;
};
void RegisterRecommend(OptionTable* t, RecommendCmdOptions* o);
int RunRecommend(const RecommendCmdOptions& o);

struct TopKCmdOptions {
  std::string users, items, out;
  int k = 10;
  int threads = 0;
  int block_users = 256;
};
void RegisterTopK(OptionTable* t, TopKCmdOptions* o);
int RunTopK(const TopKCmdOptions& o);

struct SplitCmdOptions {
  std::string reviews, train, test;
  std::string method = "leave-last";
  double quantile = 0.8;
  int last = 1;
  double fraction = 0.2;
  uint64_t seed = 42;
  bool allow_empty_text = false;
};
void RegisterSplit(OptionTable* t, SplitCmdOptions* o);
int RunSplit(const SplitCmdOptions& o);

struct EvaluateCmdOptions {
  std::string recs, truth, train, items, out, per_user;
  std::vector<int> ks;
  double min_rating = std::nan("");
  int64_t catalogue_size = 0;
};
void RegisterEvaluate(OptionTable* t, EvaluateCmdOptions* o);
int RunEvaluate(const EvaluateCmdOptions& o);

struct RunOptions {
  std::string config;
  std::string workspace;
  std::string out;
  int threads = -1;  // -1: from the config
  std::vector<std::string> set;  // KEY=VALUE overrides
};
void RegisterRun(CLI::App* app, RunOptions* o);
// `all_keys`: every config key any stage knows (unknown keys are errors).
int RunPipeline(const RunOptions& o, const std::vector<std::string>& all_keys);

// Entry point of the avrec executable.
int Main(int argc, char** argv);

}  // namespace avrec::cli
