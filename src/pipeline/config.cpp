// PipelineConfig: the one table of the pipeline's options.
#include <spdlog/spdlog.h>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/output.h"
#include "avrec/parallel.h"
#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "common/cluster.h"

namespace avrec {

void DescribeReviewColumns(OptionSet* set, bool in_config, std::map<std::string, std::string>* columns,
                           int64_t* timestamp_units) {
  set->AddMapping("--map", in_config ? "reviews.map" : "", columns,
                  "Read file columns under avrec's names: user_id=reviewerID,item_id=asin,text=reviewText,...",
                  Effect::kResults);
  set->AddChoice<int64_t>("--timestamp-unit", in_config ? "reviews.timestamp_unit" : "", timestamp_units,
                          {{"s", 1}, {"ms", 1000}, {"us", 1000000}},
                          "What a numeric timestamp counts since 1970 UTC: s seconds, ms milliseconds, us "
                          "microseconds (ISO 8601 dates are read either way)",
                          Effect::kResults);
}

void InputOptions::Describe(OptionSet* set, bool with_items, const std::string& lenient_verb) {
  const Effect r = Effect::kResults;
  set->AddPath("--reviews", "reviews.path", &reviews,
               "Reviews file: CSV, TSV or JSON Lines, optionally .gz (columns user_id, item_id, text; optional "
               "review_id, rating, timestamp)");
  DescribeReviewColumns(set, true, &review_columns, &timestamp_units);
  if (with_items) {
    set->AddPath("--items", "items.path", &items,
                 "Items file: CSV, TSV or JSON Lines (item_id; optional title, tags, description, kind; feature "
                 "columns named modality.name); recommend's collaborative algorithms run without it, on the items the "
                 "reviews name");
    DescribeItemColumns(set);
    set->AddFlag(
           "--allow-empty-text", "reviews.allow_empty_text", &allow_empty_text,
           "Accept reviews whose text is empty, blank or absent (a file of ratings: no text column); they have no "
           "sentiment",
           r)
        .inert = [lenient_verb] {
      return lenient_verb.empty() ? std::string()
                                  : lenient_verb +
                                        " reads reviews without a text with or without it (they have no sentiment and "
                                        "weigh by their rating); validate and ingest need it";
    };
  }
  set->AddNumber("--max-errors", "max_errors", &max_errors, {0, 1e9}, "Print at most this many input problems");
  set->AddNumber("--max-record-bytes", "max_record_bytes", &max_record_bytes, {1024, 1e12},
                 "Longest line or record accepted in an input file (bytes); longer is an error");
}

void InputOptions::DescribeItemColumns(OptionSet* set, const std::function<std::string()>& inert) {
  const Effect r = Effect::kResults;
  set->AddMapping("--items-map", "items.map", &item_columns,
                  "Read item file columns under avrec's names: item_id=asin,title=name,...", r)
      .inert = inert;
  set->Add("--categorical", "items.categorical", &categorical,
           "Item column holding categories, one-hot encoded (repeatable)", r)
      .inert = inert;
  set->Add("--numeric", "items.numeric", &numeric,
           "Item column without a modality prefix to use as a numeric feature (repeatable)", r)
      .inert = inert;
  set->Add("--tag-separator", "items.tag_separator", &tag_separator, "Separator of tags in a CSV tags field", r).inert =
      inert;
}

void InputOptions::Validate() const {
  ValidateDescribed(*this);
  if (tag_separator.size() != 1) {
    Fail(ExitCode::kUsage, "--tag-separator: expected one character, got '", tag_separator, "'");
  }
  for (const auto& [col, mod] : numeric) {
    if (categorical.count(col) != 0) {
      Fail(ExitCode::kUsage, "--numeric / --categorical: column '", col, "' is declared both numeric and categorical");
    }
  }
}

ItemSchemaOptions InputOptions::Schema() const {
  Validate();
  ItemSchemaOptions s;
  s.numeric = numeric;
  s.categorical = categorical;
  s.tag_separator = tag_separator[0];
  s.max_record_bytes = static_cast<size_t>(max_record_bytes);
  s.columns = item_columns;
  return s;
}

ReviewReadOptions InputOptions::Reviews(bool allow_empty) const {
  ReviewReadOptions r;
  r.allow_empty_text = allow_empty;
  r.max_record_bytes = static_cast<size_t>(max_record_bytes);
  r.columns = review_columns;
  r.timestamp_units_per_second = timestamp_units;
  return r;
}

void ItemVectorOptions::Describe(OptionSet* set) {
  set->Add("--text-model", "features.text_model", &text_model,
           "Embedding model for item titles, tags and descriptions: a directory, 'default' or 'none'",
           Effect::kResults);
  set->Add("--modality-weight", "features.modality_weights", &features.modality_weights,
           "Weight of a modality in item vectors, e.g. audio=1.5 (repeatable; default 1 each)", Effect::kResults);
  set->AddPath("--embedding-cache", "features.embedding_cache", &embedding_cache,
               "With --reviews/--items: a workspace file used only to cache item text embeddings");
}

void ItemVectorOptions::Validate() const {
  for (const auto& [name, w] : features.modality_weights) {
    options_detail::CheckRange("--modality-weight " + name, w, {0, 1e6});
  }
  if (text_model.empty()) Fail(ExitCode::kUsage, "--text-model: expected a directory, 'default' or 'none'");
}

Option& PipelineConfig::DescribeWorkspace(OptionSet* set, const std::string& help) {
  return set->AddPath("--workspace,-w", "workspace", &workspace, help);
}

void PipelineConfig::DescribeThreads(OptionSet* set) {
  set->AddNumber("--threads", "threads", &threads, {0, 2147483647},
                 "Worker threads (0: all cores; more than 8 per core are cut, with a warning); results do not "
                 "depend on it");
}

void PipelineConfig::DescribeIngest(OptionSet* set) {
  set->AddFlag("--lenient", "ingest.lenient", &ingest.lenient,
               "Skip invalid rows (reported as validate does) instead of failing the whole ingest");
  set->AddFlag("--snapshot", "ingest.snapshot", &ingest.snapshot,
               "Each file given is a complete export: reviews (and, with --items, items with their reviews) the "
               "workspace holds and the file does not are removed, in the same transaction");
  set->AddNumber(
         "--snapshot-max-removed", "ingest.snapshot_max_removed", &ingest.snapshot_max_removed, {0, 1},
         "--snapshot: refuse the ingest when it would remove more than this share of the workspace's reviews, or "
         "of its items (a truncated or wrong export)")
      .inert = [this] {
    return ingest.snapshot ? "" : std::string("it bounds what --snapshot removes, and no --snapshot is given");
  };
}

void PipelineConfig::DescribeScore(OptionSet* set) {
  set->AddPath("--model", "score.model", &sentiment_model, "Sentiment model directory (default: the bundled one)");
  encoder.Describe(set, "score");
  set->AddNumber("--commit-every", "score.commit_every", &commit_every, {1, 1e9},
                 "Texts scored per committed chunk of the workspace cache (a killed run resumes after the last)")
      .inert = [this] {
    return workspace.empty() ? std::string(
                                   "it sets how often the workspace's cache is committed, and no --workspace "
                                   "is given")
                             : std::string();
  };
}

void PipelineConfig::DescribeScoreOut(OptionSet* set, const std::string& flag) {
  set->AddPath(flag, "score.out", &score_out, "Write one JSON object per review here (JSON Lines)");
}

void PipelineConfig::DescribeProfileOut(OptionSet* set, const std::string& flag) {
  set->AddPath(flag, "profile.out", &profile_out, "Write one JSON object per user here (JSON Lines)");
}

void PipelineConfig::DescribeModelInputs(OptionSet* set) {
  set->AddPath("--scores", "profile.scores", &scores,
               "Sentiment scores file (the output of `avrec score`); default: the workspace's, or scored now");
  set->AddPath("--model", "score.model", &sentiment_model, "Sentiment model when reviews must be scored now");
  item_vectors.Describe(set);
  profile.Describe(set);
}

void PipelineConfig::DescribeRecommend(OptionSet* set) {
  set->AddPath("--out,-o", "recommend.out", &out,
               "Output file (its extension picks the format: .json, .jsonl, .csv, .tsv; '-' for stdout, JSON); "
               "required");
  set->AddChoice<std::string>(
      "--format", "recommend.format", &format,
      {{"auto", "auto"}, {"json", "json"}, {"jsonl", "jsonl"}, {"csv", "csv"}, {"tsv", "tsv"}},
      "auto (the output's extension: .jsonl or .ndjson, .csv, .tsv; json otherwise), json, jsonl (one user per "
      "line, for large runs), or csv / tsv (one row per user and rank: user_id, rank, item_id, title, score, "
      "cold_start, reason, explanation)",
      Effect::kResults);
  set->AddFlag("--spreadsheet-safe", "recommend.spreadsheet_safe", &spreadsheet_safe,
               "csv / tsv: put a ' before a text cell that begins with = + - @ (a formula to a spreadsheet), so "
               "that a user id or title from the input files is shown, not run",
               Effect::kResults);
  recommend.Describe(set);
  const Effect c = Effect::kContent;
  set->AddPath("--allow-list", "recommend.allow_list", &allow_list, "File of item ids (one per line): only these", c);
  set->AddPath("--deny-list", "recommend.deny_list", &deny_list, "File of item ids (one per line): never these", c);
  set->AddPath("--users", "recommend.users", &users,
               "File of user ids to recommend for even without reviews (cold start)", c);
  set->AddPath("--profiles", "recommend.profiles", &profiles_in,
               "User vectors written by `avrec profile` (instead of building them here)", c);
  set->Add("--shard", "", &shard, "K/N: only users whose stable hash falls in shard K (0-based) of N");
  set->Add("--created-at", "", &created_at,
           "Creation time to record in the header (omitted by default: reproducible output)");
  set->AddChoice<std::string>("--reason-language", "recommend.reason_language", &reason_language,
                              {{"auto", "auto"}, {"en", "en"}, {"zh", "zh"}},
                              "Language of the explanations: auto (the one most of the user's reviews are in), en, zh",
                              Effect::kResults);
  set->AddChoice<std::string>("--snippets", "recommend.snippets", &snippets,
                              {{"model", "model"}, {"first", "first"}, {"none", "none"}},
                              "Review snippets quoted in reasons: model (the sentence the sentiment model finds "
                              "strongest; cached in the workspace), first (the first sentence) or none",
                              Effect::kResults);
  set->AddFlag("--only-changed", "recommend.only_changed", &only_changed,
               "Workspace only: rerank just the users whose inputs changed since the previous --only-changed run "
               "with the same options, copying the others from its output (same bytes as a full run)");
  set->AddFlag("--to-workspace", "recommend.to_workspace", &to_workspace,
               "Also store the lists in the workspace (tables recommendation_lists and recommendations)");
  set->AddNumber("--keep-lists", "recommend.keep_lists", &keep_lists, {0, 1e6},
                 "--to-workspace: keep the lists of this many latest runs")
      .inert = [this] {
    return to_workspace ? "" : std::string("it prunes the lists --to-workspace stores, and no --to-workspace is given");
  };
  // The item features' options (described before) do nothing where no item
  // feature is read.
  for (Option& opt : set->options()) {
    if (opt.Name() != "--text-model" && opt.Name() != "--modality-weight" && opt.Name() != "--embedding-cache") {
      continue;
    }
    opt.inert = [this] {
      const std::string why = WhyItemFeaturesUnread();
      return why.empty() ? why : "it sets the item vectors, and " + why;
    };
  }
  // The profile's sentiment switches (described before) do nothing under an
  // algorithm that reads no sentiment.
  for (Option& opt : set->options()) {
    if (opt.Name() != "--no-sentiment" && opt.Name() != "--sentiment-share") continue;
    opt.inert = [this, own = opt.inert] {
      if (!AlgorithmUsesSentiment(recommend.algorithm)) {
        return std::string("it sets how sentiment weighs reviews, and --algorithm is ") +
               AlgorithmName(recommend.algorithm) + ", which reads no sentiment";
      }
      return own ? own() : std::string();
    };
  }
}

void PipelineConfig::DescribeManifest(OptionSet* set) {
  set->AddPath("--manifest", "manifest", &manifest,
               "Run manifest (JSON: version, config hash, models, inputs with sizes and hashes, stages, exit code); "
               "default: the output's name + .run.json");
}

void PipelineConfig::Describe(OptionSet* set) {
  DescribeWorkspace(set, "Workspace database file");
  DescribeThreads(set);
  inputs.Describe(set);
  DescribeIngest(set);
  DescribeScore(set);
  DescribeScoreOut(set, "--score-out");
  DescribeModelInputs(set);
  DescribeProfileOut(set, "--profile-out");
  DescribeRecommend(set);
  DescribeManifest(set);
}

std::string PipelineConfig::WhyItemFeaturesUnread() const {
  if (AlgorithmUsesContent(recommend.algorithm) || !profile_out.empty() || !profiles_in.empty()) return "";
  return std::string("--algorithm ") + AlgorithmName(recommend.algorithm) + " reads no item features";
}

bool PipelineConfig::ReadsFiles() const {
  const bool files = !inputs.reviews.empty() || !inputs.items.empty();
  if (!files && workspace.empty()) {
    Fail(ExitCode::kUsage, "give --workspace PATH, or --reviews PATH (and --items PATH)");
  }
  if (files && inputs.reviews.empty()) Fail(ExitCode::kUsage, "--items needs --reviews PATH too (or give --workspace)");
  return files;
}

void PipelineConfig::ApplyShard(RecommendOptions* r) const {
  if (shard.empty()) return;
  const size_t slash = shard.find('/');
  int k = -1, n = 0;
  if (slash == std::string::npos || !ParseInt(shard.substr(0, slash), &k) || !ParseInt(shard.substr(slash + 1), &n)) {
    Fail(ExitCode::kUsage, "--shard: expected K/N, e.g. 0/4, got '", shard, "'");
  }
  r->shard = k;
  r->shards = n;
}

void PipelineConfig::Validate() const {
  ValidateDescribed(*this);
  inputs.Validate();
  encoder.Validate();
  item_vectors.Validate();
  profile.Validate();
  RecommendOptions r = recommend;
  r.threads = threads;
  ApplyShard(&r);
  r.Validate();
  const bool tracked = only_changed || to_workspace;
  if (tracked && workspace.empty()) Fail(ExitCode::kUsage, "--only-changed and --to-workspace need --workspace");
  if (tracked && Cluster::Get().distributed()) {
    Fail(ExitCode::kUsage, "--only-changed and --to-workspace do not run under mpirun yet (docs/scale.md)");
  }
  if (only_changed) {
    const RecommendationFormat f = ParseRecommendationFormat(RecommendFormat());
    if (f != RecommendationFormat::kJson && f != RecommendationFormat::kJsonl) {
      Fail(ExitCode::kUsage, "--only-changed needs --format json or jsonl (it copies lists from the previous output)");
    }
  }
}

EncoderOptions PipelineConfig::EncoderWithThreads() const {
  EncoderOptions e = encoder;
  e.threads = threads;
  return e;
}

namespace {

// The recommendations' format an output's extension names ("" for none).
std::string FormatOfExtension(const std::string& path) {
  const std::string ext = DataExtension(path);
  if (ext == "jsonl" || ext == "ndjson") return "jsonl";
  return ext == "json" || ext == "csv" || ext == "tsv" ? ext : "";
}

}  // namespace

std::string PipelineConfig::RecommendFormat() const {
  if (format != "auto") return format;
  const std::string named = out == "-" ? "" : FormatOfExtension(out);
  return named.empty() ? "json" : named;
}

void PipelineConfig::WarnOfFormatAgainstExtension() const {
  const std::string named = FormatOfExtension(out);
  if (format != "auto" && !named.empty() && named != format) {
    spdlog::warn("{}: written as {} (--format {}), though its extension says {}", out, format, format, named);
  }
}

std::string PipelineConfig::RecommendConfigHash() const {
  PipelineConfig copy = *this;
  copy.format = RecommendFormat();  // "auto" hashes as what it resolves to
  OptionSet set;
  copy.inputs.Describe(&set);
  copy.DescribeModelInputs(&set);
  copy.DescribeRecommend(&set);
  return set.Hash();
}

}  // namespace avrec
