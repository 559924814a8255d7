// profile, recommend and topk.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "avrec/numeric.h"
#include "avrec/encoder.h"
#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/parallel.h"
#include "avrec/recommend.h"
#include "avrec/text_features.h"
#include "avrec/workspace.h"
#include "avrec/version.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

std::vector<std::string> ReadIdList(const std::string& path) {
  ByteSource src(path);
  LineReader lines(&src);
  std::vector<std::string> out;
  std::string line;
  while (lines.Next(&line)) {
    std::string_view id = Trim(line);
    if (!id.empty() && id[0] != '#') out.emplace_back(id);
  }
  return out;
}

}  // namespace

void RegisterModelInputs(OptionTable* t, ModelInputOptions* o) {
  RegisterInputs(t, &o->in);
  t->AddPath("--workspace,-w", "workspace", &o->workspace,
             "Workspace with ingested reviews, items and sentiment (instead of --reviews/--items files)");
  t->AddPath("--scores", "profile.scores", &o->scores,
             "Sentiment scores file (the output of `avrec score`); default: the workspace's, or scored now");
  t->AddPath("--model", "score.model", &o->sentiment_model, "Sentiment model when reviews must be scored now");
  t->AddPath("--embedding-cache", "features.embedding_cache", &o->embedding_cache,
             "With --reviews/--items: a workspace file used only to cache item text embeddings");
  t->Add("--text-model", "features.text_model", &o->text_model,
         "Embedding model for item titles, tags and descriptions: a directory, 'default' or 'none'");
  t->AddNumberMap("--modality-weight", "features.modality_weights", &o->features.modality_weights,
                  "Weight of a modality in item vectors, e.g. audio=1.5 (repeatable; default 1 each)");
  t->AddNegFlag("--no-sentiment", "profile.use_sentiment", &o->profile.use_sentiment,
                "Profiles ignore sentiment (weights from ratings, else uniform)");
  t->AddNegFlag("--no-rating", "profile.use_rating", &o->profile.use_rating, "Profiles ignore ratings");
  t->Add("--sentiment-share", "profile.sentiment_share", &o->profile.sentiment_share,
         "Share of sentiment in a review's weight when its rating is known too (the rest is the rating)");
  t->Add("--interaction-weight", "profile.interaction_weight", &o->profile.interaction_weight,
         "beta in [0, 1]: a review's weight is beta + (1 - beta) x preference (0: negative reviews repel)");
  t->Add("--half-life-days", "profile.half_life_days", &o->profile.half_life_days,
         "Time decay of review weights (0: none)");
  t->Add("--now", "profile.now", &o->now, "Reference time of the decay (Unix seconds or ISO 8601; default: the latest review)");
  t->Add("--rating-min", "profile.rating_min", &o->rating_min, "Lowest rating of the scale (default: the data's)");
  t->Add("--rating-max", "profile.rating_max", &o->rating_max, "Highest rating of the scale (default: the data's)");
  t->Add("--min-history", "profile.min_history", &o->profile.min_history,
         "Fewer usable reviews than this: the user is cold-start");
  t->Add("--threads", "threads", &o->threads, "Worker threads (0: all cores); output does not depend on it");
}

LoadedData LoadModelInputs(const ModelInputOptions& o, bool need_sentiment) {
  LoadedData d;
  const bool files = !o.in.reviews.empty() || !o.in.items.empty();
  if (files && (o.in.reviews.empty() || o.in.items.empty())) {
    Fail(ExitCode::kUsage, "give both --reviews and --items, or --workspace");
  }
  if (!files && o.workspace.empty()) Fail(ExitCode::kUsage, "give --workspace PATH, or --reviews and --items");
  if (o.profile.interaction_weight < 0 || o.profile.interaction_weight > 1) {
    Fail(ExitCode::kUsage, "--interaction-weight: expected a number in [0, 1]");
  }
  if (o.profile.sentiment_share < 0 || o.profile.sentiment_share > 1) {
    Fail(ExitCode::kUsage, "--sentiment-share: expected a number in [0, 1]");
  }
  if (!o.now.empty()) {
    int64_t t;
    if (!ParseTimestamp(o.now, &t)) Fail(ExitCode::kUsage, "--now: expected Unix seconds or ISO 8601, got '", o.now, "'");
    d.profile_now = t;
  }
  std::unique_ptr<Workspace> ws;
  if (files) {
    ProblemLog problems(static_cast<size_t>(std::max(0, o.in.max_errors)), PrintProblem);
    d.item_table = ReadItems(o.in.items, o.in.Schema(), &problems);
    ReviewReadOptions ro;
    ro.allow_empty_text = true;
    ro.known_item = [&](const std::string& id) { return d.item_table.Find(id) >= 0; };
    ReadReviews(o.in.reviews, ro, &problems, [&](Review&& r) { d.reviews.push_back(std::move(r)); });
    if (problems.count() > 0) {
      Fail(ExitCode::kDataErr, problems.count(), " invalid input rows (run `avrec validate` for the full list)");
    }
  } else {
    ws = Workspace::Open(o.workspace, false);
    d.item_table = ws->LoadItems();
    d.reviews = ws->LoadReviews();
  }
  spdlog::info("inputs: {} items, {} reviews", d.item_table.items.size(), d.reviews.size());

  // Sentiment: a scores file, the workspace's latest scores, or scored now.
  if (need_sentiment) {
    if (!o.scores.empty()) {
      d.sentiment = ReadScoresFile(o.scores);
    } else if (ws) {
      d.sentiment = LoadWorkspaceSentiment(ws.get(), nullptr);
      d.sentiment_model = ws->GetMeta("sentiment.model");
      d.sentiment_sha256 = ws->GetMeta("sentiment.result_key").substr(0, 64);
    }
    size_t missing = 0;
    for (const Review& r : d.reviews) missing += d.sentiment.count(r.review_id) == 0;
    if (missing > 0) {
      if (!o.scores.empty()) {
        Fail(ExitCode::kDataErr, o.scores, ": no score for ", missing, " of the reviews (score them again)");
      }
      spdlog::info("scoring {} reviews without a sentiment score", missing);
      ModelManifest m = LoadModelManifest(o.sentiment_model.empty() ? DefaultModelDir("sentiment") : o.sentiment_model);
      EncoderOptions eo;
      eo.threads = o.threads;
      TextEncoder encoder(m, eo);
      SentimentScorer scorer(&encoder);
      SentimentStats st;
      std::vector<Sentiment> s = scorer.Score(d.reviews, ws.get(), &st);
      for (size_t i = 0; i < d.reviews.size(); ++i) d.sentiment[d.reviews[i].review_id] = s[i];
      d.sentiment_model = m.name;
      d.sentiment_sha256 = m.sha256;
    }
  }

  // Text modality.
  RowMatrix text;
  const RowMatrix* text_ptr = nullptr;
  if (o.text_model != "none") {
    ModelManifest m = LoadModelManifest(o.text_model == "default" || o.text_model.empty() ? DefaultModelDir("embedding")
                                                                                           : o.text_model);
    if (m.task != "embedding") Fail(ExitCode::kUsage, "--text-model: ", m.dir, " is not an embedding model");
    EncoderOptions eo;
    eo.threads = o.threads;
    TextEncoder encoder(m, eo);
    int64_t reused = 0;
    std::unique_ptr<Workspace> cache;
    if (!ws && !o.embedding_cache.empty()) cache = Workspace::Open(o.embedding_cache, /*create=*/true);
    text = EmbedItemTexts(d.item_table, encoder, ws ? ws.get() : cache.get(), &reused);
    text_ptr = &text;
    d.embedding_model = m.name;
    d.embedding_sha256 = m.sha256;
    spdlog::info("text modality: {} item texts embedded by {} ({} from the workspace cache)",
                 d.item_table.items.size(), m.name, reused);
  } else {
    spdlog::info("text modality: skipped (--text-model none)");
  }
  d.items = BuildItemMatrix(d.item_table, o.features, text_ptr);
  const FeatureReport& rep = d.items.report;
  std::string mods;
  for (const auto& b : d.items.modalities) {
    mods += (mods.empty() ? "" : ", ") + b.name + " " + std::to_string(b.end - b.begin) + " x" +
            nlohmann::json(b.weight).dump();
  }
  spdlog::info("item vectors: {} items x {} dimensions ({}); {} missing values imputed with the median",
               d.items.ids.size(), d.items.vectors.cols(), mods, rep.imputed);
  for (const auto& c : rep.constant_columns) spdlog::warn("feature column '{}' has no spread: it contributes nothing", c);
  if (!rep.zero_items.empty()) {
    spdlog::warn("{} items have an all-zero vector (no features, no text), e.g. '{}': only popularity can rank them",
                 rep.zero_items.size(), rep.zero_items.front());
  }
  return d;
}

ProfileOptions ModelInputOptions::Profile(const LoadedData& d) const {
  ProfileOptions p = profile;
  p.now = d.profile_now;
  if (!std::isnan(rating_min)) p.rating_min = rating_min;
  if (!std::isnan(rating_max)) p.rating_max = rating_max;
  return p;
}

void RegisterProfile(OptionTable* t, ProfileCmdOptions* o) {
  RegisterModelInputs(t, &o->inputs);
  t->AddPath("--out", "profile.out", &o->out, "Write one JSON object per user here (JSON Lines)");
}

int RunProfile(const ProfileCmdOptions& o) {
  if (o.out.empty()) Fail(ExitCode::kUsage, "profile: --out PATH is required");
  LoadedData d = LoadModelInputs(o.inputs, o.inputs.profile.use_sentiment);
  Profiles p = BuildProfiles(d.reviews, o.inputs.profile.use_sentiment ? &d.sentiment : nullptr, d.items,
                             o.inputs.Profile(d));
  AtomicFile out(o.out);
  nlohmann::ordered_json header;
  header["columns"] = d.items.column_names;
  out.Write(nlohmann::ordered_json{{"header", header}}.dump() + "\n");
  int64_t cold = 0;
  for (size_t u = 0; u < p.users.size(); ++u) {
    nlohmann::ordered_json j;
    j["user_id"] = p.users[u];
    j["cold_start"] = static_cast<bool>(p.cold_start[u]);
    j["reviews"] = p.history[u].size();
    std::vector<double> v(static_cast<size_t>(p.vectors.cols()));
    for (Eigen::Index k = 0; k < p.vectors.cols(); ++k) v[static_cast<size_t>(k)] = RoundDecimals(p.vectors(static_cast<Eigen::Index>(u), k), 6);
    j["vector"] = v;
    out.Write(j.dump() + "\n");
    cold += p.cold_start[u];
  }
  out.Commit();
  spdlog::info("profile: {} users ({} cold-start) -> {}", p.users.size(), cold, o.out);
  return 0;
}

void RegisterRecommend(OptionTable* t, RecommendCmdOptions* o) {
  RegisterModelInputs(t, &o->inputs);
  t->AddPath("--out,-o", "recommend.out", &o->out, "Output file (JSON, or JSON Lines with --format jsonl); required");
  t->Add("--format", "recommend.format", &o->format, "json or jsonl (one user per line, for large runs)");
  t->Add("--top-n,-n", "recommend.top_n", &o->top_n, "Items per user");
  t->Add("--algorithm", "recommend.algorithm", &o->algorithm,
         "sentiment-content, content, popular, item-knn or hybrid");
  t->AddFlag("--include-seen", "recommend.include_seen", &o->include_seen, "Keep items the user already reviewed");
  t->AddPath("--allow-list", "recommend.allow_list", &o->allow_list, "File of item ids (one per line): only these");
  t->AddPath("--deny-list", "recommend.deny_list", &o->deny_list, "File of item ids (one per line): never these");
  t->AddPath("--users", "recommend.users", &o->users,
             "File of user ids to recommend for even without reviews (cold start)");
  t->Add("--shard", "", &o->shard, "K/N: only users whose stable hash falls in shard K (0-based) of N");
  t->Add("--block-users", "recommend.block_users", &o->block_users, "Users scored per block (memory: this x items floats per thread)");
  t->Add("--popularity-weight", "recommend.popularity_weight", &o->popularity_weight,
         "Item weight term: + this x log(1 + reviewers) / log(1 + most reviewers)");
  t->Add("--novelty-weight", "recommend.novelty_weight", &o->novelty_weight,
         "Item weight term: + this x novelty / largest novelty");
  t->Add("--quality-weight", "recommend.quality_weight", &o->quality_weight,
         "Item weight term: + this x the mean preference (sentiment and/or rating) of the item's reviews");
  t->Add("--knn-neighbors", "recommend.knn_neighbors", &o->knn_neighbors, "item-knn: neighbours kept per item");
  t->Add("--hybrid-content", "recommend.hybrid_content", &o->hybrid_content,
         "hybrid: share of the sentiment-content score (the rest is item-knn)");
  t->AddNegFlag("--no-explain", "recommend.explain", &o->explain, "Leave out the reasons");
  t->Add("--created-at", "", &o->created_at, "Creation time to record in the header (omitted by default: reproducible output)");
}

namespace {

std::string ConfigHash(const RecommendCmdOptions& o) {
  nlohmann::ordered_json j;
  j["algorithm"] = o.algorithm;
  j["top_n"] = o.top_n;
  j["include_seen"] = o.include_seen;
  j["popularity_weight"] = o.popularity_weight;
  j["novelty_weight"] = o.novelty_weight;
  j["quality_weight"] = o.quality_weight;
  j["knn_neighbors"] = o.knn_neighbors;
  j["hybrid_content"] = o.hybrid_content;
  j["modality_weights"] = o.inputs.features.modality_weights;
  j["text_model"] = o.inputs.text_model;
  j["use_sentiment"] = o.inputs.profile.use_sentiment;
  j["use_rating"] = o.inputs.profile.use_rating;
  j["sentiment_share"] = o.inputs.profile.sentiment_share;
  j["half_life_days"] = o.inputs.profile.half_life_days;
  j["interaction_weight"] = o.inputs.profile.interaction_weight;
  j["now"] = o.inputs.now;
  j["min_history"] = o.inputs.profile.min_history;
  j["rating_scale"] = {std::isnan(o.inputs.rating_min) ? -1e300 : o.inputs.rating_min,
                       std::isnan(o.inputs.rating_max) ? -1e300 : o.inputs.rating_max};
  j["allow_list"] = o.allow_list.empty() ? "" : Sha256File(o.allow_list);
  j["deny_list"] = o.deny_list.empty() ? "" : Sha256File(o.deny_list);
  return Sha256Hex(j.dump()).substr(0, 16);
}

}  // namespace

int RunRecommend(const RecommendCmdOptions& o) {
  if (o.out.empty()) Fail(ExitCode::kUsage, "recommend: --out PATH is required");
  if (o.format != "json" && o.format != "jsonl") Fail(ExitCode::kUsage, "--format: expected json or jsonl");
  const auto t0 = std::chrono::steady_clock::now();
  RecommendOptions ro;
  ro.algorithm = ParseAlgorithm(o.algorithm);
  ro.top_n = o.top_n;
  ro.include_seen = o.include_seen;
  if (!o.allow_list.empty()) ro.allow = ReadIdList(o.allow_list);
  if (!o.deny_list.empty()) ro.deny = ReadIdList(o.deny_list);
  if (!o.shard.empty()) {
    size_t slash = o.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      ro.shard = std::stoi(o.shard.substr(0, slash));
      ro.shards = std::stoi(o.shard.substr(slash + 1));
    } catch (const std::exception&) {
      Fail(ExitCode::kUsage, "--shard: expected K/N, e.g. 0/4, got '", o.shard, "'");
    }
  }
  if (ro.shards < 1 || ro.shard < 0 || ro.shard >= ro.shards) {
    Fail(ExitCode::kUsage, "--shard: expected K/N with 0 <= K < N, got '", o.shard, "'");
  }
  if (o.top_n < 1) Fail(ExitCode::kUsage, "--top-n: expected at least 1");
  ro.popularity_weight = o.popularity_weight;
  ro.novelty_weight = o.novelty_weight;
  ro.quality_weight = o.quality_weight;
  ro.knn_neighbors = o.knn_neighbors;
  ro.hybrid_content = o.hybrid_content;
  ro.explain = o.explain;
  ro.block_users = o.block_users;
  ro.threads = ResolveThreads(o.inputs.threads);
  if (o.hybrid_content < 0 || o.hybrid_content > 1) Fail(ExitCode::kUsage, "--hybrid-content: expected a number in [0, 1]");
  const bool needs_sentiment = (ro.algorithm == Algorithm::kSentimentContent || ro.algorithm == Algorithm::kHybrid) &&
                               o.inputs.profile.use_sentiment;
  LoadedData d = LoadModelInputs(o.inputs, needs_sentiment);
  ro.profile = o.inputs.Profile(d);
  if (!needs_sentiment) ro.profile.use_sentiment = false;

  RecommendInputs in;
  in.items = &d.items;
  in.item_table = &d.item_table;
  in.reviews = &d.reviews;
  in.sentiment = needs_sentiment ? &d.sentiment : nullptr;
  if (!o.users.empty()) in.extra_users = ReadIdList(o.users);

  OutputHeader h;
  h.algorithm = AlgorithmName(ro.algorithm);
  h.top_n = ro.top_n;
  h.config_hash = ConfigHash(o);
  if (needs_sentiment) {
    h.sentiment_model = d.sentiment_model.empty() ? "from " + o.inputs.scores : d.sentiment_model;
    h.sentiment_sha256 = d.sentiment_sha256;
  }
  h.embedding_model = d.embedding_model;
  h.embedding_sha256 = d.embedding_sha256;
  h.created_at = o.created_at;
  h.shard = ro.shard;
  h.shards = ro.shards;
  RecommendationWriter writer(o.out, o.format == "jsonl", h);
  Progress progress("recommend", 0);
  RecommendStats st = Recommend(in, ro, [&](const UserRecommendations& u) {
    writer.Add(u);
    progress.Tick();
  });
  progress.Finish();
  writer.Commit();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("recommend ({}): {} users ({} cold-start), top {} of {} candidate items; {:.1f} s", h.algorithm,
               st.users, st.cold_start, ro.top_n, st.candidates, secs);
  spdlog::info("recommendations written to {}", o.out);
  return 0;
}

}  // namespace avrec::cli
