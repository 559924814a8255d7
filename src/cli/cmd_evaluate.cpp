// split and evaluate.
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "avrec/data.h"
#include "avrec/diff.h"
#include "avrec/evaluate.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/log.h"
#include "avrec/numeric.h"
#include "avrec/text.h"
#include "cli/commands.h"

namespace avrec::cli {

void SplitCommand::Describe(OptionSet* s) {
  s->AddPath("--reviews", "", &reviews, "Reviews file to split (CSV, TSV or JSON Lines)");
  split.Describe(s);
  s->AddPath("--train", "", &train, "Train output (format from the extension)");
  s->AddPath("--test", "", &test, "Test output (format from the extension)");
  s->AddFlag("--allow-empty-text", "", &allow_empty_text,
             "Accept reviews with an empty text, or without one (a file of ratings: no text column)");
  DescribeReviewColumns(s, false, &columns, &timestamp_units);
  s->Add("--format", "", &format, "Output format: csv, tsv or jsonl (default: from the extension)");
}

int RunSplit(const SplitCommand& o) {
  if (o.reviews.empty() || o.train.empty() || o.test.empty()) {
    Fail(ExitCode::kUsage, "split: give --reviews, --train and --test");
  }
  const SplitOptions& so = o.split;
  so.Validate();
  ProblemLog problems(100, PrintProblem);
  std::vector<Review> reviews;
  ReviewReadOptions ro;
  ro.allow_empty_text = o.allow_empty_text;
  ro.columns = o.columns;
  ro.timestamp_units_per_second = o.timestamp_units;
  LogReviewNotes(o.reviews,
                 ReadReviews(o.reviews, ro, &problems, [&](Review&& r) { reviews.push_back(std::move(r)); }));
  FailOnInvalidRows(problems, o.reviews, "", /*max_errors_option=*/false);
  if (reviews.empty()) {
    Fail(ExitCode::kDataErr, o.reviews, ": no reviews to split (an empty or header-only file?); nothing was written");
  }
  SplitResult s = SplitReviews(reviews, so);
  std::vector<const Review*> train, test;
  for (size_t i = 0; i < reviews.size(); ++i) (s.is_test[i] ? test : train).push_back(&reviews[i]);
  const TableFormat train_format = OutputFormat(o.train, o.format), test_format = OutputFormat(o.test, o.format);
  AtomicFile train_file(o.train), test_file(o.test);
  WriteReviewsTo(&train_file, train_format, train);
  WriteReviewsTo(&test_file, test_format, test);
  CommitTogether(&train_file, &test_file);
  spdlog::info("split ({}): {} train, {} test reviews{}", SplitMethodName(so.method), train.size(), test.size(),
               so.method == SplitMethod::kTemporal ? fmt::format(" (cut at {})", s.cut_time) : "");
  if (s.untimed > 0)
    spdlog::warn("{} without a timestamp (temporal: train; leave-last: ordered first)", CountOf(s.untimed, "review"));
  if (test.empty()) {
    spdlog::warn("{}: no review went to test ({}): nothing to evaluate on", o.test,
                 so.method == SplitMethod::kTemporal ? "none is later than the cut"
                                                     : "every user has a single review, which stays in train");
  }
  spdlog::info("{} and {} only in test (cold for any model trained on train)",
               CountOf(static_cast<int64_t>(s.test_only_users.size()), "user"),
               CountOf(static_cast<int64_t>(s.test_only_items.size()), "item"));
  return 0;
}

void EvaluateCommand::Describe(OptionSet* s) {
  s->AddPath("--recs", "", &recs, "Recommendations (avrec's JSON, JSON Lines, CSV or TSV output)");
  s->AddPath("--truth", "", &truth, "Held-out interactions: CSV, TSV or JSON Lines with user_id, item_id[, rating]");
  s->AddNumber("--k", "", &ks, {1, 2147483647}, "Cut-off (repeatable: --k 10 --k 20)");
  s->AddNumber("--relevant-min-rating", "", &min_rating, {-1e15, 1e15},
               "Only truth rows rated at least this are relevant (default: every row)");
  s->AddPath("--train", "", &train, "Training interactions (user_id, item_id): for novelty and arp");
  s->AddPath("--items", "", &items, "Items file: catalogue size (coverage) and item vectors (ild)");
  item_input.DescribeItemColumns(s, [this] {
    return items.empty() ? std::string("it reads --items' columns, and no --items is given") : std::string();
  });
  s->AddNumber("--catalogue-size", "", &catalogue_size, {0, 9e18},
               "Catalogue size for coverage (default: the items file's)");
  s->AddPath("--out,-o", "", &out, "Also write the metrics object here");
  s->AddPath("--per-user", "", &per_user, "Write the metrics of every evaluated user here (JSON Lines)");
  const auto grades = [this] {
    return no_graded ? std::string("it grades the held-out items, and --no-graded is given") : std::string();
  };
  s->AddPath("--truth-scores", "", &truth_scores,
             "Sentiment of the held-out reviews (`avrec score` output): grades reviews without a rating")
      .inert = grades;
  s->AddNumber("--grade-rating-min", "", &grade_rating_min, {-1e15, 1e15},
               "Lowest rating of the scale the grades map from (docs/metrics.md)")
      .inert = grades;
  s->AddNumber("--grade-rating-max", "", &grade_rating_max, {-1e15, 1e15}, "Highest rating of that scale").inert =
      grades;
  s->AddFlag("--no-graded", "", &no_graded, "Leave out ndcg_graded, disliked and pairwise_auc");
  s->AddPath("--baseline", "", &baseline,
             "Recommendations to compare with (last night's, another algorithm's): each metric's baseline value "
             "and change, with a 95 % paired bootstrap interval over users");
  s->AddNumber("--bootstrap", "", &bootstrap, {0, 1000000}, "Resamples of the change's interval (0: no interval)")
      .inert = [this] {
    return baseline.empty() ? std::string(
                                  "it sets the interval of the change from --baseline, and no --baseline is "
                                  "given")
                            : std::string();
  };
  Option& gates = s->Add("--fail-if", "", &fail_if,
                         "Exit 1 when a field of the printed object passes a threshold, e.g. ndcg@10<0.2 or "
                         "ndcg@10.change_high<0 (repeatable)");
  gates.check = [this](const std::string&) {  // a malformed threshold fails before any work
    for (const auto& t : fail_if) ParseThreshold(t);
  };
  DescribeReviewColumns(s, false, &columns, &timestamp_units);
}

namespace {

// One held-out (or training) row.
struct TruthRow {
  std::string user, item, review_id;
  std::optional<double> rating;
  std::optional<int64_t> timestamp;
};

// Rows of a (user_id, item_id[, rating, review_id, timestamp]) table, its
// columns renamed and its timestamps read as --map and --timestamp-unit say.
void ReadPairs(const std::string& path, const EvaluateCommand& o, const std::function<void(const TruthRow&)>& fn) {
  ProblemLog problems(100, PrintProblem);
  TableReader t(path, &problems, kDefaultMaxRecordBytes, o.columns);
  // A header under other names (MovieLens's userId, movieId) is one
  // problem with the --map that reads it, not one per row.
  static const std::vector<ColumnAliases> known = [] {
    std::vector<ColumnAliases> k;
    for (const ColumnAliases& a : ReviewColumnAliases()) {
      if (std::string_view(a.ours) != "text") k.push_back(a);
    }
    return k;
  }();
  if (t.header_ok() && !HeaderHasColumns(t, {"user_id", "item_id"}, known, "--map", &problems)) {
    FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
  }
  int64_t unread_times = 0;
  Row row;
  while (t.Next(&row)) {
    TruthRow r;
    if (!CellAsId(row.at(t.column("user_id")), &r.user) || r.user.empty() ||
        !CellAsId(row.at(t.column("item_id")), &r.item) || r.item.empty()) {
      problems.Add(path, row.line, "expected non-empty user_id and item_id");
      continue;
    }
    const std::string rating_problem = ReadRatingCell(row.at(t.column("rating")), &r.rating);
    if (!rating_problem.empty()) {
      problems.Add(path, row.line, rating_problem);
      continue;
    }
    CellAsId(row.at(t.column("review_id")), &r.review_id);
    int64_t ts;
    const Cell& tc = row.at(t.column("timestamp"));
    if ((tc.kind == Cell::Kind::kText || tc.kind == Cell::Kind::kNumber) &&
        ParseTimestamp(tc.text, &ts, o.timestamp_units)) {
      r.timestamp = ts;
    } else if (!CellIsBlank(tc) && !CellIsMissingMarker(tc)) {
      ++unread_times;
    }
    fn(r);
  }
  FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
  if (unread_times > 0) {
    spdlog::warn(
        "{}: {} neither Unix {} nor ISO 8601 (wrong --timestamp-unit?); where a user reviewed an item twice, "
        "those rows count by file order",
        path, CountOf(unread_times, "timestamp"), TimestampUnitName(o.timestamp_units));
  }
}

// The gain of every held-out (user, item): from the rating, else from the
// review's sentiment (--truth-scores); when a user reviewed an item more
// than once, the latest review counts (by timestamp, then file order).
void GradeTruth(const std::vector<TruthRow>& rows, const EvaluateCommand& o, EvaluationInputs* in) {
  std::unordered_map<std::string, Sentiment> scores;
  if (!o.truth_scores.empty()) scores = ReadScoresFile(o.truth_scores);
  std::unordered_map<std::string, std::unordered_map<std::string, std::pair<int64_t, size_t>>> latest;
  int64_t rated = 0, outside = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const TruthRow& r = rows[k];
    int grade = -1;
    if (r.rating) {
      grade = GradeOfRating(*r.rating, o.grade_rating_min, o.grade_rating_max);
      ++rated;
      outside += *r.rating < o.grade_rating_min || *r.rating > o.grade_rating_max;
    } else if (auto s = scores.find(r.review_id); s != scores.end()) {
      grade = GradeOfSentiment(s->second.score);
    }
    if (grade < 0) continue;  // no rating, no score: no gain
    const std::pair<int64_t, size_t> when{r.timestamp.value_or(std::numeric_limits<int64_t>::min()), k};
    auto& seen = latest[r.user];
    auto it = seen.find(r.item);
    if (it != seen.end() && it->second > when) continue;
    seen[r.item] = when;
    in->gains[r.user][r.item] = grade;
  }
  // A scale of another size (ratings of 1..10 read on 1..5) grades every
  // high rating as the top and many low ones as liked: say so.
  if (outside > 0) {
    spdlog::warn(
        "{}: {} of {} ratings lie outside the grade scale {} .. {} and grade as its nearest end (another scale? "
        "give --grade-rating-min and --grade-rating-max; counts such as plays have no grades: give --no-graded)",
        o.truth, outside, rated, o.grade_rating_min, o.grade_rating_max);
  }
}

// A list that names an item twice comes from a writer with a bug (avrec's
// never do); each item counts once, at its first rank, and the run says so.
void WarnOfRepeatedItems(const std::string& path,
                         const std::unordered_map<std::string, std::vector<std::string>>& recs) {
  int64_t lists = 0;
  std::string example;
  for (const auto& [user, items] : recs) {
    if (DistinctInOrder(items).size() == items.size()) continue;
    ++lists;
    if (example.empty() || user < example) example = user;
  }
  if (lists > 0) {
    spdlog::warn(
        "{}: {} of {} lists name an item more than once (user {}, for one); each item counts once, at its "
        "first rank",
        path, lists, recs.size(), EscapeForMessage(example));
  }
}

// Scores of 0 with exit 0 are what a CI job sees when the lists and the
// truth spell their ids differently (case, a prefix, another catalogue's
// ids): said when not one user of the truth has a list, or when not one
// listed item is among the truth's items, with an id from each side.
void WarnOfIdsThatNeverMeet(const EvaluateCommand& o, const EvaluationInputs& in, const std::vector<TruthRow>& truth) {
  if (truth.empty() || in.recs.empty()) return;
  if (std::none_of(truth.begin(), truth.end(), [&in](const TruthRow& t) { return in.recs.count(t.user) != 0; })) {
    const std::string* least = &in.recs.begin()->first;
    for (const auto& [user, items] : in.recs) least = std::min(least, &user, [](auto* x, auto* y) { return *x < *y; });
    spdlog::warn(
        "{}: no user here has a list in {} (user {} there, {} here, for example): are the user ids "
        "written the same way in both?",
        o.truth, o.recs, EscapeForMessage(*least), EscapeForMessage(truth.front().user));
    return;
  }
  std::unordered_set<std::string> truth_items;
  for (const TruthRow& t : truth) truth_items.insert(t.item);
  const std::string* least = nullptr;  // the example: the least listed id
  for (const auto& [user, items] : in.recs) {
    for (const std::string& i : items) {
      if (truth_items.count(i) != 0) return;
      if (least == nullptr || i < *least) least = &i;
    }
  }
  if (least == nullptr) return;
  spdlog::warn(
      "{}: not one item listed in {} is among its items (item {} there, {} here, for example): are the "
      "item ids written the same way in both?",
      o.truth, o.recs, EscapeForMessage(*least), EscapeForMessage(truth.front().item));
}

// A metric's value as printed: six decimals, or null when no user has one.
nlohmann::json MetricJson(double v) {
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(RoundDecimals(v, 6));
}

// The seed of --baseline's resamples: fixed, so a night's intervals are
// the same bytes on every rerun.
constexpr uint64_t kBootstrapSeed = 42;

// The change of the first k's ndcg (or of the first metric) in a line of
// the log, the rest being in the printed object.
void LogChanges(const EvaluateCommand& o, const std::vector<MetricChange>& changes) {
  const MetricChange* shown = nullptr;
  for (const MetricChange& c : changes) {
    if (shown == nullptr || (c.name.rfind("ndcg@", 0) == 0 && shown->name.rfind("ndcg@", 0) != 0)) shown = &c;
  }
  if (shown == nullptr) return;
  const auto number = [](double v) { return std::isnan(v) ? std::string("null") : fmt::format("{:+.4f}", v); };
  spdlog::info("evaluate: against {}: {} {}{} ({} users in both){}", o.baseline, shown->name, number(shown->change),
               std::isnan(shown->low)
                   ? std::string()
                   : fmt::format(", 95 % interval {} .. {}", number(shown->low), number(shown->high)),
               shown->users, changes.size() > 1 ? "; every metric's change is in the printed object" : "");
}

// The metrics an evaluation prints only with more than lists and truth:
// what each needs, and whether this run's options give it.
struct MetricSource {
  const char* metric;
  const char* needs;
  bool (*given)(const EvaluateCommand& o);
};
constexpr MetricSource kMetricSources[] = {
    {"coverage", "--items or --catalogue-size",
     [](const EvaluateCommand& o) { return !o.items.empty() || o.catalogue_size > 0; }},
    {"novelty", "--train", [](const EvaluateCommand& o) { return !o.train.empty(); }},
    {"arp", "--train", [](const EvaluateCommand& o) { return !o.train.empty(); }},
    {"ild", "--items with features", [](const EvaluateCommand& o) { return !o.items.empty(); }},
};
constexpr const char* kGradedMetrics[] = {"ndcg_graded",         "disliked", "pairwise_auc", "users_graded",
                                          "users_with_disliked", "users_auc"};

// The metric a summary field is of: "ild@10.change" -> "ild".
std::string MetricOfField(const std::string& field) { return field.substr(0, field.find_first_of("@.")); }

// --fail-if's word on a field the summary lacks: a metric's .baseline and
// .change are there only with --baseline, .change_low and .change_high only
// with --bootstrap above 0 too; coverage, novelty, arp and ild with the
// inputs they are computed from, the graded metrics with grades.
std::string GateFieldHint(const nlohmann::ordered_json& summary, const std::string& field) {
  const size_t dot = field.rfind('.');
  if (dot != std::string::npos && summary.contains(field.substr(0, dot))) {
    const std::string suffix = field.substr(dot);
    if (suffix == ".baseline" || suffix == ".change") return "; a metric's " + suffix + " comes with --baseline";
    if (suffix == ".change_low" || suffix == ".change_high") {
      return "; a metric's " + suffix + " comes with --baseline and --bootstrap above 0";
    }
  }
  const std::string metric = MetricOfField(field);
  for (auto it = summary.begin(); it != summary.end(); ++it) {
    if (MetricOfField(it.key()) == metric) return "";  // there, at another k: no misspelling of the metric
  }
  for (const MetricSource& m : kMetricSources) {
    if (metric == m.metric) return "; " + metric + " comes with " + m.needs;
  }
  for (const char* graded : kGradedMetrics) {
    if (metric == graded) {
      return "; " + metric + " comes with grades: ratings in --truth, or --truth-scores (and no --no-graded)";
    }
  }
  return "";
}

// --fail-if's fields, checked before any file is read against every field
// the printed object can hold with these options: a misspelt one, or one
// of a metric an input that is not given would compute, is a usage error
// at once. (One the data leaves out, ild@10 of items without features or
// disliked@10 without ratings, is known only once they are read.)
void CheckGateFields(const EvaluateCommand& o, const std::vector<int>& ks) {
  if (o.fail_if.empty()) return;
  nlohmann::ordered_json fields;
  for (const std::string& name : EvaluationFieldNames(ks)) {
    const std::string metric = MetricOfField(name);
    if (std::any_of(std::begin(kMetricSources), std::end(kMetricSources),
                    [&](const MetricSource& m) { return metric == m.metric && !m.given(o); }) ||
        (o.no_graded &&
         std::find(std::begin(kGradedMetrics), std::end(kGradedMetrics), metric) != std::end(kGradedMetrics))) {
      continue;
    }
    fields[name] = nullptr;
    if (o.baseline.empty() || name.rfind("users_", 0) == 0) continue;
    std::vector<std::string> suffixes = {".baseline", ".change"};
    if (o.bootstrap > 0) suffixes.insert(suffixes.end(), {".change_low", ".change_high"});
    for (const std::string& suffix : suffixes) fields[name + suffix] = nullptr;
  }
  CheckThresholdFields(fields, o.fail_if, GateFieldHint);
}

// What evaluate reads, in the order it reads it: the baseline's lists first
// (a broken file fails before the work; they wait in `baseline_recs` for
// their turn), the lists, the held-out rows, the training rows, the items.
struct EvaluateReading {
  EvaluateReading() = default;
  EvaluateReading(const EvaluateReading&) = delete;  // in.item_vectors points into it
  EvaluateReading& operator=(const EvaluateReading&) = delete;

  EvaluationInputs in;
  std::unordered_map<std::string, std::vector<std::string>> baseline_recs;
  std::vector<TruthRow> truth;
  int64_t truth_rows = 0, filtered = 0, unrated = 0;  // filtered: by --relevant-min-rating; unrated: of them
  ItemMatrix vectors;                                 // in.item_vectors points here
};

void ReadEvaluationInputs(const EvaluateCommand& o, EvaluateReading* read) {
  EvaluationInputs& in = read->in;
  if (!o.baseline.empty()) {
    read->baseline_recs = ReadRecommendationLists(o.baseline).Items();
    WarnOfRepeatedItems(o.baseline, read->baseline_recs);
  }
  in.recs = ReadRecommendationLists(o.recs).Items();
  WarnOfRepeatedItems(o.recs, in.recs);
  ReadPairs(o.truth, o, [&](const TruthRow& r) {
    ++read->truth_rows;
    read->truth.push_back(r);
    if (o.min_rating && (!r.rating || *r.rating < *o.min_rating)) {
      ++read->filtered;
      read->unrated += !r.rating;
      in.relevant[r.user];  // the user exists, but this row is not relevant
      return;
    }
    in.relevant[r.user].insert(r.item);
  });
  if (!o.no_graded) GradeTruth(read->truth, o, &in);
  if (!o.train.empty()) {
    std::unordered_map<std::string, std::unordered_set<std::string>> users_of;
    std::unordered_set<std::string> users;
    ReadPairs(o.train, o, [&](const TruthRow& r) {
      users_of[r.item].insert(r.user);
      users.insert(r.user);
    });
    for (const auto& [i, us] : users_of) in.train_popularity[i] = static_cast<int64_t>(us.size());
    in.train_users = static_cast<int64_t>(users.size());
  }
  if (o.items.empty() && o.catalogue_size <= 0) {
    spdlog::info("coverage@k: not computed, the catalogue's size is unknown: give --items or --catalogue-size{}",
                 in.train_popularity.empty()
                     ? std::string()
                     : fmt::format(" (the train file names {} items: the catalogue of a run without --items)",
                                   in.train_popularity.size()));
  }
  if (!o.items.empty()) {
    ProblemLog problems(100, PrintProblem);
    ItemTable t = ReadItems(o.items, o.item_input.Schema(), &problems);
    FailOnInvalidRows(problems, o.items, "", /*max_errors_option=*/false);
    read->vectors = BuildItemMatrix(t, {}, nullptr);
    in.catalogue_size = static_cast<int64_t>(t.items.size());
    if (read->vectors.vectors.cols() > 0) in.item_vectors = &read->vectors;
  }
  if (o.catalogue_size > 0) in.catalogue_size = o.catalogue_size;
}

// The summary object: every metric, and with a baseline its value there,
// the change and (with --bootstrap) the change's interval.
nlohmann::ordered_json SummaryJson(const EvaluateCommand& o, const EvaluationResult& r, const EvaluationResult* base) {
  nlohmann::ordered_json summary;
  const auto put = [&summary](const std::string& key, double v) { summary[key] = MetricJson(v); };
  for (const auto& [k, v] : r.summary) {
    if (k.rfind("users_", 0) == 0) {
      summary[k] = static_cast<int64_t>(v);
    } else {
      put(k, v);
    }
  }
  if (base == nullptr) return summary;
  const std::vector<MetricChange> changes = CompareEvaluations(r, *base, o.bootstrap, kBootstrapSeed);
  for (const MetricChange& c : changes) {
    put(c.name + ".baseline", c.baseline);
    put(c.name + ".change", c.change);
    if (c.users > 0 && o.bootstrap > 0) {
      put(c.name + ".change_low", c.low);
      put(c.name + ".change_high", c.high);
    }
  }
  LogChanges(o, changes);
  return summary;
}

// One line per user: the summary's metrics (no novelty and arp without
// --train, no ild without --items; pairwise_auc, which no k cuts, once) but
// coverage. With a baseline, each user's line holds the baseline's values
// too, under "METRIC@K.baseline" (the same users, in the same id order).
void WritePerUser(const std::string& path, const std::vector<int>& ks, const EvaluationResult& r,
                  const EvaluationResult& base) {
  AtomicFile f(path);
  std::unordered_set<std::string> shown;
  for (const auto& [key, v] : r.summary) shown.insert(key);
  const auto values = [&ks, &shown](const UserMetrics& um, const std::string& suffix, nlohmann::ordered_json* j) {
    (*j)["has_list" + suffix] = um.has_list;
    for (size_t q = 0; q < ks.size(); ++q) {
      for (const auto& [name, v] : um.at_k[q]) {
        std::string key = std::string(name) + "@" + std::to_string(ks[q]);
        if (name == "pairwise_auc") key = q == 0 ? "pairwise_auc" : "";
        if (shown.count(key) == 0) continue;
        (*j)[key + suffix] = MetricJson(v);
      }
    }
  };
  size_t b = 0;
  for (const auto& um : r.per_user) {
    nlohmann::ordered_json j;
    j["user_id"] = um.user_id;
    values(um, "", &j);
    while (b < base.per_user.size() && base.per_user[b].user_id < um.user_id) ++b;
    if (b < base.per_user.size() && base.per_user[b].user_id == um.user_id) values(base.per_user[b], ".baseline", &j);
    f.Write(j.dump() + "\n");
  }
  f.Commit();
}

// How many users were evaluated, and a warning when none could be.
void LogEvaluated(const EvaluateCommand& o, const EvaluateReading& read, const EvaluationResult& r) {
  size_t relevant_users = 0, relevant_missing = 0;
  for (const auto& um : r.per_user) {
    // As users_evaluated: the users with a relevant item (precision defined).
    const bool relevant = !um.at_k.empty() && !std::isnan(um.at_k[0].at("precision"));
    relevant_users += relevant;
    relevant_missing += relevant && !um.has_list;
  }
  WarnOfIdsThatNeverMeet(o, read.in, read.truth);
  spdlog::info("evaluate: {} users evaluated ({} without a recommendation list, counted as 0){}; {} truth rows{}",
               relevant_users, relevant_missing,
               r.per_user.size() > relevant_users
                   ? fmt::format(", {} more with only graded reviews", r.per_user.size() - relevant_users)
                   : "",
               read.truth_rows,
               read.filtered > 0 ? fmt::format(", {} below --relevant-min-rating", read.filtered) : "");
  // A row without a rating cannot pass --relevant-min-rating: say so, or a
  // truth file without ratings reads as one where every rating was low.
  if (read.unrated > 0) {
    spdlog::warn("{}: {} of {} truth rows have no rating, and --relevant-min-rating counts none of them relevant{}",
                 o.truth, read.unrated, read.truth_rows,
                 read.unrated == read.truth_rows ? " (no rating column? --map rating=COLUMN reads one)" : "");
  }
  if (relevant_users == 0) {
    spdlog::warn("evaluate: no user has a relevant held-out item{}: the accuracy metrics are null",
                 read.filtered == 0                ? ""
                 : read.unrated == read.truth_rows ? " (no truth row has a rating for --relevant-min-rating)"
                                                   : " (every truth row is below --relevant-min-rating)");
  }
}

}  // namespace

int RunEvaluate(const EvaluateCommand& o) {
  if (o.recs.empty() || o.truth.empty()) Fail(ExitCode::kUsage, "evaluate: give --recs and --truth");
  if (!o.no_graded && !(o.grade_rating_min < o.grade_rating_max)) {
    Fail(ExitCode::kUsage, "--grade-rating-min ", o.grade_rating_min, " / --grade-rating-max ", o.grade_rating_max,
         ": expected the lowest rating below the highest");
  }
  const std::vector<int> ks = o.ks.empty() ? std::vector<int>{10} : o.ks;
  CheckGateFields(o, ks);
  if (!o.out.empty()) WarnIfNamedForAnotherFormat(o.out, "evaluate", SingleFormat::kJsonObject);
  if (!o.per_user.empty()) WarnIfNamedForAnotherFormat(o.per_user, "evaluate --per-user");
  EvaluateReading read;
  ReadEvaluationInputs(o, &read);
  const EvaluationResult r = Evaluate(read.in, ks);
  EvaluationResult base;
  if (!o.baseline.empty()) {
    std::swap(read.in.recs, read.baseline_recs);
    base = Evaluate(read.in, ks);
    std::swap(read.in.recs, read.baseline_recs);
  }
  const nlohmann::ordered_json summary = SummaryJson(o, r, o.baseline.empty() ? nullptr : &base);
  // Checked before anything is written: a gate naming no field of the
  // object is a usage error, and leaves no output.
  const int failed = FailedThresholds("evaluate", summary, o.fail_if, GateFieldHint);
  const std::string text = summary.dump(2) + "\n";
  WriteStdout(text);
  if (!o.out.empty()) WriteFileAtomically(o.out, text);
  if (!o.per_user.empty()) WritePerUser(o.per_user, ks, r, base);
  LogEvaluated(o, read, r);
  return failed > 0 ? 1 : 0;
}

}  // namespace avrec::cli
