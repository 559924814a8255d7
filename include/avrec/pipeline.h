// The pipeline as typed stages: plain functions of values, each also usable
// alone, and RunPipeline, which runs them in order keeping data in memory.
//
//   files ──ReadDataset──> Dataset ──Ingest──> Workspace ──LoadDataset──> Dataset
//   Dataset.reviews ──ScoreSentiment──> SentimentResult (cached in the workspace)
//   Dataset.item_table ──BuildItemVectors──> ItemVectors (text embedded, cached)
//   reviews + sentiment + item vectors ──BuildUserProfiles──> Profiles
//   Profiles + ItemVectors ──Rank──> UserRecommendations (streamed) ──> RecommendationWriter
//
// Every subcommand of the avrec executable is a thin call of one or more of
// these. Options come from PipelineConfig, whose Describe() is the one table
// of flags, config keys, help texts, ranges and result effects.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/encoder.h"
#include "avrec/error.h"
#include "avrec/features.h"
#include "avrec/options.h"
#include "avrec/output.h"
#include "avrec/problem.h"
#include "avrec/profile.h"
#include "avrec/recommend.h"
#include "avrec/sentiment.h"
#include "avrec/workspace.h"

namespace avrec {

// ---- options -------------------------------------------------------------------------

// --map and --timestamp-unit, how the columns of a reviews file are read (with
// their config keys reviews.map and reviews.timestamp_unit when `in_config`).
void DescribeReviewColumns(OptionSet* set, bool in_config, std::map<std::string, std::string>* columns,
                           int64_t* timestamp_units);

// Input files of validate, ingest, score, profile and recommend.
struct InputOptions {
  std::string reviews;  // path ("" = none)
  std::string items;    // path ("" = none)
  bool allow_empty_text = false;
  std::map<std::string, std::string> numeric;         // column -> modality (ItemSchemaOptions)
  std::map<std::string, std::string> categorical;     // column -> modality ("" = from prefix)
  std::string tag_separator = "|";                    // one character
  int max_errors = 100;                               // problems printed before only counting
  int64_t max_record_bytes = kDefaultMaxRecordBytes;  // a longer line or record is an error
  std::map<std::string, std::string> review_columns;  // avrec name -> file column (--map user_id=reviewerID)
  std::map<std::string, std::string> item_columns;    // the same for the items file (--items-map)
  int64_t timestamp_units = 1;                        // what a numeric timestamp counts (--timestamp-unit)

  // `with_items`: also the item file and its schema options (score reads only
  // reviews). `lenient_verb`: a verb that reads reviews without a text
  // whether or not --allow-empty-text is given (profile, recommend, report:
  // such a review has no sentiment and weighs by its rating), where the flag
  // is then said to have no effect; empty where it decides (validate, ingest,
  // run's ingest).
  void Describe(OptionSet* set, bool with_items = true, const std::string& lenient_verb = "");
  // How the items file's columns are read: --items-map, --categorical,
  // --numeric, --tag-separator (for a verb that names its items file
  // itself: evaluate); `inert`, when set, says when they go unread.
  void DescribeItemColumns(OptionSet* set, const std::function<std::string()>& inert = {});
  void Validate() const;
  ItemSchemaOptions Schema() const;
  // How to read the reviews file; `allow_empty_text` overrides the option.
  ReviewReadOptions Reviews(bool allow_empty_text) const;
};

// How item vectors are built: feature weights and the item text model.
struct ItemVectorOptions {
  FeatureOptions features;
  std::string text_model = "default";  // an embedding model directory, "default" or "none"
  std::string embedding_cache;         // with files: a workspace used only to cache text embeddings

  void Describe(OptionSet* set);
  void Validate() const;
};

// How ingest treats its files (ingest.* in a config file).
struct IngestOptions {
  bool lenient = false;               // skip invalid rows
  bool snapshot = false;              // each file given is complete: what the workspace holds beyond it goes
  double snapshot_max_removed = 0.5;  // a snapshot that would remove more of the reviews is refused
  bool dry_run = false;               // everything read, checked and counted, then rolled back
};

// Everything the pipeline stages read. Groups of options are described
// separately so that each subcommand offers exactly the options it uses.
struct PipelineConfig {
  std::string workspace;  // SQLite workspace ("" = work from files)
  int threads = 0;        // worker threads for every stage; 0: all cores
  InputOptions inputs;
  IngestOptions ingest;
  std::string sentiment_model;  // "" = the bundled default
  EncoderOptions encoder;       // scoring (threads: from `threads`)
  int commit_every = 2048;      // texts scored per committed chunk of the workspace cache
  std::string score_out;        // score: JSON Lines of every review's sentiment
  std::string scores;           // a score output file to use instead of the workspace's scores
  ItemVectorOptions item_vectors;
  ProfileOptions profile;
  std::string profile_out;                   // profile: JSON Lines of user vectors
  std::string profiles_in;                   // recommend: user vectors from this profile file
  RecommendOptions recommend;                // ranking (threads: from `threads`; allow/deny from the files below)
  std::string allow_list, deny_list, users;  // files of item / user ids, one per line
  std::string shard;                         // "K/N": rank only users of shard K of N
  std::string out;                           // recommendations output
  std::string format = "auto";               // auto (from the output's extension), json, jsonl, csv or tsv
  bool spreadsheet_safe = false;             // csv / tsv: ' before a text cell a spreadsheet would run
  std::string created_at;                    // recorded in the header when set
  std::string manifest;                      // run manifest; "": <output>.run.json
  std::string reason_language = "auto";      // explanations: auto (the user's), en or zh
  std::string snippets = "model";            // review snippets in reasons: model, first or none
  bool only_changed = false;                 // recommend: rerank only users whose inputs changed (workspace)
  bool to_workspace = false;                 // recommend: also store the lists in the workspace
  int keep_lists = 7;                        // --to-workspace: lists of this many latest runs are kept

  Option& DescribeWorkspace(OptionSet* set, const std::string& help);
  void DescribeThreads(OptionSet* set);
  void DescribeIngest(OptionSet* set);
  void DescribeScore(OptionSet* set);  // model, encoder settings
  void DescribeScoreOut(OptionSet* set, const std::string& flag);
  void DescribeProfileOut(OptionSet* set, const std::string& flag);
  void DescribeModelInputs(OptionSet* set);  // scores file, model, item vectors, profile options
  void DescribeRecommend(OptionSet* set);    // recommend.* and the output
  void DescribeManifest(OptionSet* set);
  // Every option of every stage (what `run` reads from its config file).
  void Describe(OptionSet* set);
  // Throws Error(kUsage) naming the option for any value out of range, and
  // for options that cannot work together (--shard past its count,
  // --only-changed without a workspace): before any work.
  void Validate() const;
  // --shard K/N into r->shard and r->shards; Error(kUsage) when malformed.
  void ApplyShard(RecommendOptions* r) const;
  // Whether the data comes from --reviews and --items (true) or the
  // workspace (false); Error(kUsage) when neither is given, or --items
  // without --reviews. Called before any work.
  bool ReadsFiles() const;
  // Why the run reads no item features, so that its item vectors are built
  // without embedding item texts ("--algorithm ease reads no item
  // features"); empty when it reads them: a content algorithm (content,
  // sentiment-content, hybrid), or a profile written or read.
  std::string WhyItemFeaturesUnread() const;
  // The hash of every option that changes the recommendations (their values,
  // list files by content): header.config_hash.
  std::string RecommendConfigHash() const;
  // The recommendations' format: `format`, or for "auto" the one the
  // output's extension names (.jsonl or .ndjson, .csv, .tsv; json otherwise).
  std::string RecommendFormat() const;
  // Warns when --format names one format and the output's extension another.
  void WarnOfFormatAgainstExtension() const;
  // The encoder settings with `threads` applied.
  EncoderOptions EncoderWithThreads() const;
  // The key of recommend --only-changed's saved state: the options that
  // change the recommendations other than the input files, and the shard.
  std::string IncrementalKey() const;
};

// ---- data passed between stages ------------------------------------------------------

struct Dataset {
  ItemTable item_table;
  std::vector<Review> reviews;  // file order, or review_id order from a workspace
  int64_t last_run = 0;         // from a workspace: the latest run the data includes
  ForgottenIds forgotten;       // from a workspace: what `avrec forget` removed
};

struct SentimentResult {
  std::vector<Sentiment> per_review;  // aligned with the reviews scored (ScoreSentiment only)
  std::unordered_map<std::string, Sentiment> by_review;
  std::vector<std::string> labels;       // the model's labels
  std::string model_name, model_sha256;  // provenance; model_name "from PATH" for a scores file
  SentimentStats stats;
  Precision precision = Precision::kFloat32;
  LongTextPolicy long_text = LongTextPolicy::kHeadTail;
  int max_length = 0;
};

struct ItemVectors {
  ItemMatrix matrix;
  std::string model_name, model_sha256;  // the text model; empty when text is not used
  int64_t reused = 0;                    // embeddings taken from the cache
};

struct IngestReport {
  UpsertCounts items, reviews;
  int64_t skipped_items = 0, skipped_reviews = 0, duplicates = 0;
  int64_t forgotten_items = 0, forgotten_reviews = 0;  // skipped: `avrec forget` removed them
  int64_t total_items = 0, total_reviews = 0;          // in the workspace afterwards
  ForgetCounts absent;                                 // --snapshot: what the files no longer hold, removed
  int64_t outside_catalogue = 0;                       // --snapshot: reviews of items the items file lacks, left out
  std::string first_outside;                           // the first such item
};

// ---- stages ----------------------------------------------------------------------------

// forget: removes users, reviews and items from a workspace in one
// transaction (Workspace::Forget), then copies the log into the workspace
// file and empties it, so that what was removed is in neither file.
// `dry_run`: the same counts, the transaction rolled back.
struct ForgetReport {
  ForgetCounts counts;
  int64_t run = 0;        // the forget run's id (0: dry run)
  bool log_kept = false;  // a reader's open transaction held part of the log back
};
// `check`, when set, sees the counts and the reviews there were before the
// transaction commits, and throws to roll it back.
using ForgetCheck = std::function<void(const ForgetCounts& counts, int64_t reviews_before)>;
ForgetReport ForgetFromWorkspace(const ForgetIds& ids, bool dry_run, Workspace* ws, const ForgetCheck& check = {});

// What a removal took with it, in words, "25 reviews, 0 stored lists and 23
// cached sentiment scores" (with ", 1 cached item text embedding" before
// the last when items were removed), and as the JSON event's fields.
std::string RemovedWithThem(const ForgetCounts& c);
nlohmann::json RemovedFields(const ForgetCounts& c);

// The manifest of the model in `dir_or_default` ("" or "default": the
// bundled model for the task). Throws Error(kDataErr) when it is a model for
// another task.
ModelManifest LoadTaskModel(const std::string& dir_or_default, const std::string& task);

// Reads and validates the input files. Problems go to `problems`; any problem
// is fatal: Error(kDataErr).
Dataset ReadDataset(const InputOptions& in, ProblemLog* problems);
// Every item and review of a workspace, read as one snapshot.
Dataset LoadDataset(Workspace* ws);

// Upserts the input files into the workspace in one transaction. Invalid rows
// fail the whole ingest (Error(kDataErr), workspace unchanged) unless
// `lenient`, which skips and counts them. With `snapshot`, the items and
// reviews the workspace holds and a file given does not are removed in the
// same transaction, as forget removes them but not remembered (they may come
// back); more than `snapshot_max_removed` of the reviews is Error(kDataErr).
IngestReport Ingest(const InputOptions& in, const IngestOptions& opt, Workspace* ws, ProblemLog* problems);

// Runs the sentiment model over every review (distinct texts once; with a
// workspace, cached results are reused and new ones stored in chunks).
SentimentResult ScoreSentiment(const std::vector<Review>& reviews, const std::string& model_dir,
                               const EncoderOptions& encoder, Workspace* cache, int commit_every = 2048);
// The workspace's scores under its current sentiment key (last score run).
SentimentResult LoadSentiment(Workspace* ws);
// A score output file (`avrec score --out`) for `reviews`: Error(kDataErr)
// when the file scored another text under a review's id (the review was
// edited since; its score would be stale).
SentimentResult ReadSentimentFile(const std::string& path, const std::vector<Review>& reviews);

// The sentiment profiles need: from `scores_file` if given (every review must
// be in it), else the workspace's, and reviews still without a score are
// scored now with `model_dir`.
SentimentResult ResolveSentiment(const std::vector<Review>& reviews, const std::string& scores_file,
                                 const std::string& model_dir, const EncoderOptions& encoder, Workspace* ws);

// Item vectors: features per docs/model.md, text embedded with the text
// model (cached in `cache` when given). With `unread` (why the run reads no
// item features: PipelineConfig::WhyItemFeaturesUnread), no text is
// embedded and the features are not reported on.
ItemVectors BuildItemVectors(const ItemTable& items, const ItemVectorOptions& options, int threads, Workspace* cache,
                             const std::string& unread = "");

// One profile per user of `reviews` (plus `extra_users`, cold). With
// `from_file`, users found there take its vectors and cold-start flags (their
// histories still come from the reviews). Throws Error(kDataErr) when the
// file's columns differ from the item vectors'.
Profiles BuildUserProfiles(const std::vector<Review>& reviews, const SentimentResult* sentiment,
                           const ItemVectors& items, const ProfileOptions& options,
                           const std::vector<std::string>& extra_users = {}, const ProfileFile* from_file = nullptr);

// Ranks every user (or those `only` flags) and hands each list to `sink` in
// output order.
RecommendStats Rank(const ItemVectors& items, const Profiles& profiles, const RecommendOptions& options,
                    const std::function<void(const UserRecommendations&)>& sink,
                    const std::vector<char>* only = nullptr);

// ---- whole stages as the command line runs them ----------------------------------------

// What `profile` and `recommend` load: data, sentiment (when the profile
// options use it), item vectors.
struct ModelInputs {
  Dataset data;
  SentimentResult sentiment;
  bool has_sentiment = false;
  ItemVectors items;
};
ModelInputs LoadModelInputs(const PipelineConfig& config, bool need_sentiment, ProblemLog* problems);

// profile: builds every user's profile and writes config.profile_out;
// returns the number of users.
int64_t ProfileStage(const PipelineConfig& config, const ModelInputs& inputs);

// recommend: ranks and writes config.out; returns the counts. With
// config.only_changed, users whose inputs did not change since the previous
// such run on the workspace are copied from its output (docs/nightly.md);
// with config.to_workspace the lists are also stored there. `ws`: the
// workspace when the caller has it open (else opened here when needed).
RecommendStats RecommendStage(const PipelineConfig& config, const ModelInputs& inputs, Workspace* ws = nullptr);

struct PipelineReport {
  IngestReport ingest;
  SentimentStats sentiment;
  RecommendStats recommend;
  int64_t profiles = 0;
};

// ingest -> score -> profile (written when profile_out is set) -> recommend,
// on config.workspace, data kept in memory between stages. Needs
// config.workspace and config.out.
PipelineReport RunPipeline(const PipelineConfig& config);

// Reads a file of ids, one per line ('#' comments and blank lines skipped).
std::vector<std::string> ReadIdList(const std::string& path);

}  // namespace avrec
