// The pipeline's stages, each a function of values (pipeline.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/log.h"
#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "avrec/text_features.h"
#include "common/cluster.h"

namespace avrec {

namespace {

void LogItemVectors(const ItemMatrix& m) {
  std::string mods;
  for (const auto& b : m.modalities) {
    mods += (mods.empty() ? "" : ", ") + b.name + " " + std::to_string(b.end - b.begin) + " x" +
            nlohmann::json(b.weight).dump();
  }
  spdlog::info("item vectors: {} x {} ({}); {} imputed with the median", CountOf(m.vectors.rows(), "item"),
               CountOf(m.vectors.cols(), "dimension"), mods, CountOf(m.report.imputed, "missing value"));
  for (const auto& c : m.report.single_item_values) {
    if (c.single == c.values) {
      spdlog::warn(
          "categorical column '{}': no value is shared by two items (an id, a URL or free text?), so it adds "
          "nothing to item vectors: leave it out",
          c.column);
    } else {
      spdlog::info(
          "categorical column '{}': {} of its {} values belong to one item each and get no column (a value "
          "of one item cannot make two items alike)",
          c.column, c.single, c.values);
    }
  }
  for (const auto& c : m.report.constant_columns) {
    spdlog::warn("feature column '{}' has no spread: it contributes nothing", c);
  }
  if (!m.report.zero_items.empty()) {
    spdlog::warn(
        "{} with an all-zero vector (no features, no text), e.g. '{}': the content algorithms rank them by "
        "popularity alone",
        CountOf(static_cast<int64_t>(m.report.zero_items.size()), "item"), m.report.zero_items.front());
  }
}

// Leaves out of `items` those `avrec forget` removed; returns how many.
int64_t DropForgottenItems(const ForgottenIds& forgotten, ItemTable* items) {
  if (forgotten.items.empty()) return 0;
  const size_t before = items->items.size();
  items->items.erase(std::remove_if(items->items.begin(), items->items.end(),
                                    [&](const Item& item) { return forgotten.HasItem(item.item_id); }),
                     items->items.end());
  items->BuildIndex();
  return static_cast<int64_t>(before - items->items.size());
}

void LogIngest(const InputOptions& in, const IngestReport& r, const std::string& workspace, const IngestOptions& opt) {
  const bool dry_run = opt.dry_run;
  const std::string dry = dry_run ? "dry run: " : "";  // what would happen
  if (!in.items.empty()) {
    InfoEvent("ingest_items",
              {{"path", in.items},
               {"added", r.items.added},
               {"updated", r.items.updated},
               {"unchanged", r.items.unchanged},
               {"skipped", r.skipped_items}},
              dry + fmt::format("items: {} added, {} updated, {} unchanged{}", r.items.added, r.items.updated,
                                r.items.unchanged,
                                r.skipped_items > 0 ? fmt::format(", {} invalid skipped", r.skipped_items) : ""));
  }
  if (!in.reviews.empty()) {
    InfoEvent("ingest_reviews",
              {{"path", in.reviews},
               {"added", r.reviews.added},
               {"updated", r.reviews.updated},
               {"unchanged", r.reviews.unchanged},
               {"skipped", r.skipped_reviews},
               {"duplicates", r.duplicates}},
              dry + fmt::format("reviews: {} added, {} updated, {} unchanged{}{}", r.reviews.added, r.reviews.updated,
                                r.reviews.unchanged,
                                r.skipped_reviews > 0 ? fmt::format(", {} invalid skipped", r.skipped_reviews) : "",
                                r.duplicates > 0 ? fmt::format(", {} exact duplicates ignored", r.duplicates) : ""));
    if (r.reviews.reassigned > 0) {
      spdlog::warn(
          "{}: {} of the updated reviews now belong to another user or item ({}; the workspace keeps the new "
          "one): is one review_id used for two reviews, as when two sources number their reviews alike?",
          in.reviews, r.reviews.reassigned, r.reviews.first_reassigned);
    }
  }
  // "1 item and 25 reviews", "25 reviews": only what there was.
  const auto items_and_reviews = [](int64_t items, int64_t reviews) {
    std::string what = items > 0 ? CountOf(items, "item") : "";
    if (reviews > 0) what += (what.empty() ? "" : " and ") + CountOf(reviews, "review");
    return what;
  };
  if (r.forgotten_items + r.forgotten_reviews > 0) {
    InfoEvent("ingest_forgotten", {{"items", r.forgotten_items}, {"reviews", r.forgotten_reviews}},
              dry + items_and_reviews(r.forgotten_items, r.forgotten_reviews) +
                  " not ingested: `avrec forget` removed them (or their users or items)");
  }
  if (r.outside_catalogue > 0) {
    spdlog::warn("{}: --snapshot: {} of items the items file does not hold (such as {}) left out", in.reviews,
                 CountOf(r.outside_catalogue, "review"), EscapeForMessage(r.first_outside));
  }
  const ForgetCounts& gone = r.absent;
  if (opt.snapshot && gone.items + gone.reviews == 0 && r.skipped_items + r.skipped_reviews == 0) {
    spdlog::info("{}--snapshot: nothing to remove: the files hold every {} the workspace held", dry,
                 in.items.empty()     ? "review"
                 : in.reviews.empty() ? "item"
                                      : "item and review");
  } else if (gone.items + gone.reviews > 0) {
    const std::string what = items_and_reviews(gone.items, gone.reviews);
    nlohmann::json fields = RemovedFields(gone);
    fields["items"] = gone.items;
    fields["reviews"] = gone.reviews;
    InfoEvent(
        "ingest_snapshot", fields,
        dry + "--snapshot: " + what + " the files no longer hold removed (in all: " + RemovedWithThem(gone) + ")");
  }
  InfoEvent(
      "stage_end",
      {{"stage", "ingest"},
       {"workspace", workspace},
       {"items", r.total_items},
       {"reviews", r.total_reviews},
       {"dry_run", dry_run}},
      fmt::format(dry_run ? "dry run, nothing changed: workspace {} would hold {} and {}" : "workspace {}: {}, {}",
                  workspace, CountOf(r.total_items, "item"), CountOf(r.total_reviews, "review")));
}

// Says which rating scale the preferences used (the data's lowest and
// highest ratings unless --rating-min / --rating-max give it), and warns
// when it cannot carry a preference: one rating value and no scale given
// (every rating maps to 0), or ratings outside a given scale (clamped).
void LogRatingScale(const std::vector<Review>& reviews, const ProfileOptions& o, const Profiles& p) {
  if (!o.use_rating) return;
  int64_t rated = 0, outside = 0, disliked = 0;
  for (const Review& r : reviews) {
    if (!r.rating) continue;
    ++rated;
    outside += *r.rating < p.rating_min || *r.rating > p.rating_max;
    disliked += ReviewPreference(std::nullopt, p.RatingUnit(*r.rating), o) < 0;
  }
  if (rated == 0) return;
  const bool counts = p.rating_kind == RatingKind::kCounts;
  const char* source = counts ? (o.rating_max ? "counts, --rating-max" : "counts, the data's largest")
                       : o.rating_min && o.rating_max ? "--rating-min / --rating-max"
                       : o.rating_min || o.rating_max ? "one end from the options, the other from the data"
                                                      : "the data's lowest and highest ratings";
  InfoEvent("rating_scale",
            {{"min", p.rating_min},
             {"max", p.rating_max},
             {"kind", counts ? "counts" : "stars"},
             {"ratings", rated},
             {"outside", outside}},
            fmt::format("rating scale {} .. {} ({}): {} ratings{}", p.rating_min, p.rating_max, source, rated,
                        counts ? fmt::format(", each read as log(1 + count) / log(1 + {})", p.rating_max) : ""));
  if (!(p.rating_max > p.rating_min)) {
    spdlog::warn(
        "the rating scale {} .. {} is empty: every rating counts as neutral (0) in the preferences; give "
        "--rating-min and --rating-max (say 1 and 5), or --no-rating",
        p.rating_min, p.rating_max);
  } else if (outside > 0) {
    spdlog::warn("{} of {} ratings lie outside the scale {} .. {} and count as its nearest end", outside, rated,
                 p.rating_min, p.rating_max);
  }
  // Most rated interactions read as dislikes (a negative preference): what a
  // column of counts (plays, views: 1 .. 352698 on Last.fm, most of them far
  // below the middle) gives on a linear scale; it ranks worse than no
  // ratings at all.
  if (p.rating_max > p.rating_min && 2 * disliked > rated) {
    spdlog::warn(
        "{} of {} ratings ({:.0f} %) count as dislikes (a negative preference) on the scale {} .. {}: if the column "
        "holds counts (plays, views) rather than stars, leave it out with --no-rating (every interaction then counts "
        "as liked) or read it with --rating-kind counts (a log scale on which no count is a dislike); if it holds "
        "stars, give the scale with --rating-min and --rating-max",
        disliked, rated, 100.0 * static_cast<double>(disliked) / static_cast<double>(rated), p.rating_min,
        p.rating_max);
  }
}

// With --now and a time decay: reviews later than --now get the weight of a
// review written at --now (their age counts as 0). That is right for a
// replay of a date in the past, and a sign of a mistyped --now otherwise.
void WarnOfReviewsAfterNow(const std::vector<Review>& reviews, const ProfileOptions& o, const Profiles& p) {
  if (o.half_life_days <= 0 || o.now.empty()) return;
  int64_t later = 0, timed = 0;
  for (const Review& r : reviews) {
    if (!r.timestamp) continue;
    ++timed;
    later += *r.timestamp > p.reference_time;
  }
  if (later == 0) return;
  spdlog::warn(
      "{} of {} reviews with a time are later than --now {}: their time decay counts them as written at --now "
      "(weight 1){}",
      later, timed, o.now, later == timed ? "; is --now the date meant?" : "");
}

}  // namespace

ModelManifest LoadTaskModel(const std::string& dir_or_default, const std::string& task) {
  const std::string dir =
      dir_or_default.empty() || dir_or_default == "default" ? DefaultModelDir(task) : dir_or_default;
  ModelManifest m = LoadModelManifest(dir);
  if (m.task != task) {
    Fail(ExitCode::kDataErr, dir, "/avrec-model.json: field 'task': this is an ", m.task, " model; a ", task,
         " model is needed here");
  }
  return m;
}

Dataset ReadDataset(const InputOptions& in, ProblemLog* problems) {
  if (in.reviews.empty()) Fail(ExitCode::kUsage, "give --reviews PATH (and --items PATH), or --workspace");
  Dataset d;
  const bool items_file = !in.items.empty();
  if (items_file) {
    d.item_table = ReadItems(in.items, in.Schema(), problems);
    // Without its header, no item: every review would be reported unknown.
    if (problems->file_problems() > 0) FailOnInvalidRows(*problems, in.items);
  }
  ReviewReadOptions ro = in.Reviews(true);
  if (items_file) ro.unknown_item = [&](const std::string& id) { return d.item_table.WhyUnknown(id); };
  const ReviewStats st = ReadReviews(in.reviews, ro, problems, [&](Review&& r) { d.reviews.push_back(std::move(r)); });
  LogReviewNotes(in.reviews, st);
  FailOnInvalidRows(*problems, "", " (run `avrec validate` for the full list)");
  if (!items_file) {
    d.item_table = ItemsOfReviews(d.reviews);
    spdlog::info("no --items: the catalogue is the {} items the reviews name (ids only: no titles, no features)",
                 d.item_table.items.size());
  }
  return d;
}

Dataset LoadDataset(Workspace* ws) {
  Dataset d;
  ws->InSnapshot([&] {
    d.item_table = ws->LoadItems();
    d.reviews = ws->LoadReviews();
    d.last_run = ws->LastRun();
    d.forgotten = ws->LoadForgotten();
  });
  return d;
}

namespace {

// Runs `body` in a write transaction, committed unless `dry_run`: then it is
// rolled back once `body` has done (and counted) everything, on a copy in
// memory where this process may not write the workspace.
void InTransactionUnlessDryRun(Workspace* ws, bool dry_run, const std::function<void()>& body) {
  struct DryRun {};
  if (dry_run) {
    const std::string why = ws->why_read_only();
    if (const int64_t bytes = ws->CopyIntoMemoryIfReadOnly(); bytes > 0) {
      spdlog::info("{}: {}: the dry run works on a copy of it in memory ({:.1f} MB)", ws->path(), why,
                   static_cast<double>(bytes) / 1e6);
    }
  }
  try {
    ws->InTransaction([&] {
      body();
      if (dry_run) throw DryRun{};
    });
  } catch (const DryRun&) {
  }
}

// One ingest: the items file, then the reviews file, in one transaction.
class Ingester {
 public:
  Ingester(const InputOptions& in, const IngestOptions& opt, Workspace* ws, ProblemLog* problems)
      : in_(in), opt_(opt), ws_(ws), problems_(problems) {}

  IngestReport Run() {
    InTransactionUnlessDryRun(ws_, opt_.dry_run, [&] {
      // What `avrec forget` removed stays out, whatever the export still holds.
      forgotten_ = ws_->LoadForgotten();
      reviews_before_ = opt_.snapshot ? ws_->CountReviews() : 0;
      items_before_ = opt_.snapshot ? ws_->CountItems() : 0;
      if (!in_.items.empty()) Items();
      if (!in_.reviews.empty()) Reviews();
      rep_.total_items = ws_->CountItems();
      rep_.total_reviews = ws_->CountReviews();
    });
    PrintUnreportedCount(*problems_);
    return rep_;
  }

 private:
  // --lenient skips invalid rows, never a file whose header cannot be read,
  // nor one whose every row is invalid (another catalogue's reviews): each
  // ingested nothing and said exit 0.
  void AbortIfInvalid(const std::string& path, int64_t valid, int64_t invalid) {
    const bool unreadable = problems_->file_problems() > file_problems_;
    file_problems_ = problems_->file_problems();
    const std::string unchanged = "; nothing was ingested and the workspace is unchanged";
    if (!opt_.lenient) {
      FailOnInvalidRows(*problems_, path, unchanged + (unreadable ? "" : " (use --lenient to skip invalid rows)"));
    } else if (unreadable || (valid == 0 && invalid > 0)) {
      PrintUnreportedCount(*problems_);
      Fail(ExitCode::kDataErr, path,
           unreadable ? ": no row can be read: the problem with its header is above"
                      : ": all " + std::to_string(invalid) + " rows are invalid (the first are above)",
           unchanged, " (--lenient skips invalid rows, not a file ", unreadable ? "it cannot read)" : "of them)");
    }
  }

  void Items() {
    items_ = ReadItems(in_.items, in_.Schema(), problems_);
    AbortIfInvalid(in_.items, static_cast<int64_t>(items_.items.size()), items_.invalid);
    rep_.skipped_items = items_.invalid;
    rep_.forgotten_items = DropForgottenItems(forgotten_, &items_);
    const int64_t run = ws_->BeginRun("items", in_.items);
    rep_.items = ws_->UpsertItems(items_);
    ws_->FinishRun(run, rep_.items, rep_.skipped_items);
    if (MayRemoveAbsent(in_.items, items_.invalid)) {
      std::vector<std::string> absent;
      for (std::string& id : ws_->ItemIds()) {
        if (items_.Find(id) < 0) absent.push_back(std::move(id));
      }
      RemoveAbsent("items", in_.items, std::move(absent));
      catalogue_ = true;
    }
  }

  void Reviews() {
    const std::vector<std::string> ids = ws_->ItemIds();
    if (ids.empty() && in_.items.empty()) {
      Fail(ExitCode::kUsage,
           "ingest: the workspace has no items yet, so no review could name one: give --items PATH "
           "too (a ratings file without an items file is ranked by `avrec recommend --reviews PATH` with ease, "
           "als, item-knn or popular)");
    }
    const std::unordered_set<std::string> known(ids.begin(), ids.end());
    // A snapshot's items file is the catalogue: a review of an item it does
    // not hold is left out and counted, not an error night after night.
    const auto outside = [&](const std::string& id) {
      return catalogue_ && known.count(id) == 0 && !forgotten_.HasItem(id);
    };
    ReviewReadOptions ro = in_.Reviews(in_.allow_empty_text);
    const int64_t run = ws_->BeginRun("reviews", in_.reviews);
    std::unique_ptr<IdLookalikes> lookalikes;  // of the workspace's items, at the first unknown id
    ro.unknown_item = [&](const std::string& id) {
      if (known.count(id) != 0 || forgotten_.HasItem(id) || outside(id)) return std::string();
      if (!lookalikes) lookalikes = std::make_unique<IdLookalikes>(ids);
      return items_.WhyUnknown(id, "the workspace's items", lookalikes.get());
    };
    Progress progress("ingest", 0, std::chrono::seconds(10), Progress::Unit::kBytes);
    ro.on_bytes = [&](int64_t read, int64_t size) { progress.Set(read, size); };
    // --snapshot: the file's review ids, hashed (a collision can only keep
    // a review, never remove one).
    std::unordered_set<uint64_t> seen;
    const ReviewStats st = ReadReviews(in_.reviews, ro, problems_, [&](Review&& r) {
      if (opt_.snapshot) seen.insert(Fnv1a64(r.review_id));
      if (forgotten_.Skips(r)) {
        ++rep_.forgotten_reviews;
      } else if (outside(r.item_id)) {
        if (rep_.outside_catalogue++ == 0) rep_.first_outside = r.item_id;
      } else if (problems_->count() == 0 || opt_.lenient) {
        ws_->UpsertReview(r, &rep_.reviews);
      }
    });
    progress.Finish();
    AbortIfInvalid(in_.reviews, st.valid, st.invalid);
    rep_.skipped_reviews = st.invalid;
    rep_.duplicates = st.duplicates;
    LogReviewNotes(in_.reviews, st);
    ws_->FinishRun(run, rep_.reviews, rep_.skipped_reviews);
    if (MayRemoveAbsent(in_.reviews, st.invalid)) {
      RemoveAbsent("reviews", in_.reviews,
                   ws_->ReviewIds([&](const std::string& id) { return seen.count(Fnv1a64(id)) == 0; }));
    }
  }

  // Whether --snapshot may remove what `path` lacks: not when --lenient
  // skipped rows of it, whose ids are unknown (said in a warning).
  bool MayRemoveAbsent(const std::string& path, int64_t skipped) const {
    if (!opt_.snapshot) return false;
    if (skipped > 0) {
      spdlog::warn("{}: --snapshot removes nothing this time: --lenient skipped {} of it, whose ids are not known",
                   path, CountOf(skipped, "row"));
    }
    return skipped == 0;
  }

  // --snapshot: removes what the workspace holds of `kind` ("items" or
  // "reviews") and `path` does not, as forget removes it but not
  // remembered, in a run of its own ('snapshot-items' or 'snapshot-reviews',
  // `updated` the items or reviews removed). Error(kDataErr) when this
  // ingest's removals reach more than --snapshot-max-removed of the reviews
  // or of the items there were (a truncated export, another catalogue's; a
  // catalogue's items nobody reviewed take no review with them).
  void RemoveAbsent(const std::string& kind, const std::string& path, std::vector<std::string> absent) {
    if (absent.empty()) return;
    const int64_t run = ws_->BeginRun("snapshot-" + kind, path);
    ForgetIds ids;
    (kind == "items" ? ids.items : ids.reviews) = std::move(absent);
    const ForgetCounts c = ws_->Forget(ids, run, /*remember_ids=*/false);
    const ForgetCounts& sum = rep_.absent += c;
    const auto refuse_above = [&](int64_t removed, int64_t before, const char* what) {
      if (static_cast<double>(removed) <= opt_.snapshot_max_removed * static_cast<double>(before)) return;
      Fail(ExitCode::kDataErr, path, ": --snapshot would remove ", removed, " of the workspace's ", before, " ", what,
           ", more than --snapshot-max-removed ", opt_.snapshot_max_removed,
           " of them (a truncated export? another one?): nothing was ingested and the workspace is unchanged");
    };
    refuse_above(sum.reviews_removed, reviews_before_, "reviews");
    refuse_above(sum.items, items_before_, "items");
    UpsertCounts removed;
    removed.updated = kind == "items" ? c.items : c.reviews_removed;
    ws_->FinishRun(run, removed, 0);
  }

  const InputOptions& in_;
  const IngestOptions& opt_;
  Workspace* ws_;
  ProblemLog* problems_;
  IngestReport rep_;
  ForgottenIds forgotten_;
  ItemTable items_;  // of this ingest: a review of an item on a skipped row says so
  int64_t reviews_before_ = 0, items_before_ = 0;
  size_t file_problems_ = 0;
  bool catalogue_ = false;  // --snapshot removed the items the items file lacks
};

}  // namespace

IngestReport Ingest(const InputOptions& in, const IngestOptions& opt, Workspace* ws, ProblemLog* problems) {
  if (in.reviews.empty() && in.items.empty()) Fail(ExitCode::kUsage, "ingest: give --reviews PATH and/or --items PATH");
  IngestReport rep = Ingester(in, opt, ws, problems).Run();
  if (!opt.dry_run) ws->Persist();  // a new workspace of a dry run is removed with `ws`
  LogIngest(in, rep, ws->path(), opt);
  return rep;
}

std::string RemovedWithThem(const ForgetCounts& c) {
  std::vector<std::string> parts = {CountOf(c.reviews_removed, "review"), CountOf(c.lists_removed, "stored list"),
                                    CountOf(c.scores_removed, "cached sentiment score")};
  if (c.items > 0) parts.push_back(CountOf(c.embeddings_removed, "cached item text embedding"));
  std::string s;
  for (size_t k = 0; k < parts.size(); ++k) s += (k == 0 ? "" : k + 1 == parts.size() ? " and " : ", ") + parts[k];
  return s;
}

nlohmann::json RemovedFields(const ForgetCounts& c) {
  return {{"reviews_removed", c.reviews_removed},
          {"lists_removed", c.lists_removed},
          {"scores_removed", c.scores_removed},
          {"embeddings_removed", c.embeddings_removed}};
}

ForgetReport ForgetFromWorkspace(const ForgetIds& ids, bool dry_run, Workspace* ws, const ForgetCheck& check) {
  ForgetReport rep;
  InTransactionUnlessDryRun(ws, dry_run, [&] {
    const int64_t before = ws->CountReviews();
    const int64_t run = ws->BeginRun("forget", "avrec forget");
    rep.counts = ws->Forget(ids, run);
    if (check) check(rep.counts, before);
    const ForgetCounts& c = rep.counts;
    UpsertCounts removed;  // runs.updated: the reviews and items removed
    removed.updated = c.reviews_removed + c.items;
    ws->FinishRun(run, removed, c.not_found());
    if (!dry_run) rep.run = run;
  });
  if (!dry_run) rep.log_kept = !ws->CheckpointAndTruncateLog();
  return rep;
}

SentimentResult ScoreSentiment(const std::vector<Review>& reviews, const std::string& model_dir,
                               const EncoderOptions& encoder_options, Workspace* cache, int commit_every) {
  const auto t0 = std::chrono::steady_clock::now();
  const ModelManifest m = LoadTaskModel(model_dir, "sentiment");
  TextEncoder encoder(m, encoder_options, ModelLoad::kOnFirstRun);  // not loaded when no text needs the model
  SentimentScorer scorer(&encoder, static_cast<size_t>(std::max(1, commit_every)));
  // Under mpirun every rank scores its share; rank 0 alone uses the cache.
  if (!Cluster::Get().root()) cache = nullptr;
  SentimentResult r;
  r.per_review = scorer.Score(reviews, cache, &r.stats);
  if (cache != nullptr) cache->Persist();
  for (size_t i = 0; i < reviews.size(); ++i) r.by_review[reviews[i].review_id] = r.per_review[i];
  r.labels = m.labels;
  r.model_name = m.name;
  r.model_sha256 = m.sha256;
  r.precision = encoder.precision();
  r.long_text = encoder.long_text();
  r.max_length = encoder.manifest().max_length;
  const SentimentStats& st = r.stats;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  InfoEvent("stage_end",
            {{"stage", "score"},
             {"reviews", reviews.size()},
             {"distinct_texts", st.distinct},
             {"scored", st.scored},
             {"reused", st.cached},
             {"empty", st.empty},
             {"long_texts", st.long_texts},
             {"model", m.name},
             {"model_sha256", m.sha256},
             {"precision", PrecisionName(r.precision)},
             {"seconds", std::round(secs * 100) / 100},
             {"texts_per_second", secs > 0 ? std::round(static_cast<double>(st.scored) / secs * 10) / 10 : 0.0}},
            fmt::format("score: {} ({}): {} scored by {} ({}){}, {} empty (neutral), {} longer than {} tokens ({}); "
                        "{:.1f} s",
                        CountOf(static_cast<int64_t>(reviews.size()), "review"), CountOf(st.distinct, "distinct text"),
                        st.scored, m.name, PrecisionName(r.precision),
                        cache == nullptr ? "" : fmt::format(", {} reused from the workspace cache", st.cached),
                        st.empty, st.long_texts, r.max_length, LongTextPolicyName(r.long_text), secs));
  return r;
}

SentimentResult LoadSentiment(Workspace* ws) {
  SentimentResult r;
  std::string key;
  r.by_review = LoadWorkspaceSentiment(ws, &key);
  r.model_name = ws->GetMeta("sentiment.model");
  r.model_sha256 = key.substr(0, 64);
  return r;
}

SentimentResult ReadSentimentFile(const std::string& path, const std::vector<Review>& reviews) {
  SentimentResult r;
  std::unordered_map<std::string, std::string> text_keys;
  r.by_review = ReadScoresFile(path, &text_keys);
  r.model_name = "from " + path;
  int64_t changed = 0;
  const Review* example = nullptr;
  for (const Review& rv : reviews) {
    auto it = text_keys.find(rv.review_id);
    if (it == text_keys.end() || it->second == TextKey(rv.text)) continue;
    if (changed++ == 0) example = &rv;
  }
  if (changed > 0) {
    Fail(ExitCode::kDataErr, path, ": ", changed, changed == 1 ? " review has" : " reviews have",
         " another text than the one scored, e.g. review_id ", EscapeForMessage(example->review_id, 60),
         " (edited since `avrec score` ran?); score them again");
  }
  return r;
}

SentimentResult ResolveSentiment(const std::vector<Review>& reviews, const std::string& scores_file,
                                 const std::string& model_dir, const EncoderOptions& encoder, Workspace* ws) {
  SentimentResult r;
  if (!scores_file.empty()) {
    r = ReadSentimentFile(scores_file, reviews);
  } else if (ws != nullptr) {
    r = LoadSentiment(ws);
  }
  size_t missing = 0;
  for (const Review& rv : reviews) missing += r.by_review.count(rv.review_id) == 0;
  if (missing == 0) return r;
  if (!scores_file.empty()) {
    Fail(ExitCode::kDataErr, scores_file, ": no score for ", missing, " of the reviews (score them again)");
  }
  spdlog::info("scoring {} reviews without a sentiment score", missing);
  SentimentResult now = ScoreSentiment(reviews, model_dir, encoder, ws);
  now.per_review.clear();
  return now;
}

ItemVectors BuildItemVectors(const ItemTable& items, const ItemVectorOptions& o, int threads, Workspace* cache,
                             const std::string& unread) {
  o.Validate();
  ItemVectors v;
  if (!unread.empty()) {
    spdlog::info("item features: not read ({}), so no item text is embedded", unread);
    v.matrix = BuildItemMatrix(items, o.features, nullptr);
    return v;
  }
  RowMatrix text;
  const RowMatrix* text_ptr = nullptr;
  if (items.from_reviews) {
    spdlog::info("text modality: skipped (no items file, so no item texts)");
  } else if (o.text_model != "none") {
    const ModelManifest m = LoadTaskModel(o.text_model, "embedding");
    EncoderOptions eo;
    eo.threads = threads;
    // Under mpirun rank 0 embeds (and caches) and sends the vectors to the
    // others, so every rank ranks with the same bytes.
    const Cluster& cluster = Cluster::Get();
    if (cluster.root()) {
      TextEncoder encoder(m, eo, ModelLoad::kOnFirstRun);  // not loaded when every text is cached
      text = EmbedItemTexts(items, encoder, cache, &v.reused);
      if (cache != nullptr) cache->Persist();
    }
    if (cluster.distributed()) {
      std::string message;
      if (cluster.root()) {
        PackU64(&message, static_cast<uint64_t>(text.cols()));
        PackU64(&message, static_cast<uint64_t>(v.reused));
        PackFloats(&message, text.data(), static_cast<size_t>(text.size()));
      }
      Unpacker in(cluster.Broadcast(message));
      if (!cluster.root()) {
        const auto cols = static_cast<Eigen::Index>(in.U64());
        v.reused = static_cast<int64_t>(in.U64());
        text.resize(static_cast<Eigen::Index>(items.items.size()), cols);
        in.Floats(text.data(), static_cast<size_t>(text.size()));
      }
    }
    text_ptr = &text;
    v.model_name = m.name;
    v.model_sha256 = m.sha256;
    InfoEvent("text_embedded",
              {{"items", items.items.size()}, {"reused", v.reused}, {"model", m.name}, {"model_sha256", m.sha256}},
              fmt::format("text modality: {} item texts embedded by {} ({} from the workspace cache)",
                          items.items.size(), m.name, v.reused));
  } else {
    spdlog::info("text modality: skipped (--text-model none)");
  }
  v.matrix = BuildItemMatrix(items, o.features, text_ptr);
  if (!items.from_reviews) LogItemVectors(v.matrix);
  return v;
}

Profiles BuildUserProfiles(const std::vector<Review>& reviews, const SentimentResult* sentiment,
                           const ItemVectors& items, const ProfileOptions& options,
                           const std::vector<std::string>& extra_users, const ProfileFile* from_file) {
  ReviewScores scores;
  if (options.use_sentiment) {
    AVREC_CHECK(sentiment != nullptr, "sentiment weighting without scores");
    scores = SentimentScores(sentiment->by_review);
  }
  std::vector<std::string> extra = extra_users;
  if (from_file != nullptr) {
    if (from_file->columns != items.matrix.column_names) {
      Fail(ExitCode::kDataErr, "--profiles: the profiles were built on other item vectors (", from_file->columns.size(),
           " columns, these items have ", items.matrix.column_names.size(),
           "); build them again with `avrec profile` on the same items and options");
    }
    extra.insert(extra.end(), from_file->users.begin(), from_file->users.end());
  }
  Profiles p = BuildProfiles(reviews, options.use_sentiment ? &scores : nullptr, items.matrix, options, extra);
  LogRatingScale(reviews, options, p);
  WarnOfReviewsAfterNow(reviews, options, p);
  if (from_file == nullptr) return p;
  int64_t replaced = 0;
  for (size_t k = 0; k < from_file->users.size(); ++k) {
    const int u = p.Find(from_file->users[k]);
    p.vectors.row(u) = from_file->vectors.row(static_cast<Eigen::Index>(k));
    p.cold_start[static_cast<size_t>(u)] = from_file->cold_start[k];
    p.net_share[static_cast<size_t>(u)] = from_file->net_share[k];
    ++replaced;
  }
  spdlog::info("profiles: {} users from the profiles file, {} built from their reviews", replaced,
               static_cast<int64_t>(p.users.size()) - replaced);
  return p;
}

RecommendStats Rank(const ItemVectors& items, const Profiles& profiles, const RecommendOptions& options,
                    const std::function<void(const UserRecommendations&)>& sink, const std::vector<char>* only) {
  RecommendInputs in;
  in.items = &items.matrix;
  in.profiles = &profiles;
  in.only = only;
  return Recommend(in, options, sink);
}

}  // namespace avrec
