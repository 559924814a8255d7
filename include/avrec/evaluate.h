// Offline evaluation: train/test splits and top-k metrics, with the
// definitions of docs/metrics.md (the RecBole / Microsoft Recommenders
// conventions).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "avrec/data.h"
#include "avrec/features.h"
#include "avrec/options.h"

namespace avrec {

// ---- splits -----------------------------------------------------------------------

// temporal: one global time cut; leave-last: each user's last N reviews;
// user-temporal: each user's latest share (--fraction) of reviews; random:
// a share of each user's reviews, drawn.
enum class SplitMethod { kTemporal, kLeaveLast, kUserTemporal, kRandom };
SplitMethod ParseSplitMethod(const std::string& s);  // Error(kUsage) if unknown
const char* SplitMethodName(SplitMethod m);

struct SplitOptions {
  SplitMethod method = SplitMethod::kLeaveLast;
  double quantile = 0.8;  // temporal: reviews at or before this time quantile train
  int last = 1;           // leave-last: each user's last N reviews test
  double fraction = 0.2;  // random: share of each user's reviews to test
  uint64_t seed = 42;     // random

  void Describe(OptionSet* set);
  void Validate() const;  // Error(kUsage) naming the option
};

struct SplitResult {
  std::vector<bool> is_test;  // per review, input order
  int64_t untimed = 0;        // reviews without a timestamp (kept in train)
  int64_t cut_time = 0;       // temporal: the cut
  std::vector<std::string> test_only_users, test_only_items;
};

// Assigns each review to train or test. Deterministic for the same inputs and
// seed (random: each user's reviews shuffled by a generator seeded with seed
// and the user's stable hash).
SplitResult SplitReviews(const std::vector<Review>& reviews, const SplitOptions& options);

// ---- metrics --------------------------------------------------------------------

// One user's metrics at one k, by name, in name order (as --per-user writes
// them). A dozen entries kept flat: a map per user and k took a kilobyte, a
// gigabyte for a million users evaluated.
class MetricValues {
 public:
  // The value of `name`, added (as NaN) when new. Names are kept as views:
  // give string literals.
  double& operator[](std::string_view name);
  // The value of `name`; Error(kSoftware) when it was never set.
  double at(std::string_view name) const;
  // The value of `name`, or null when it was never set.
  const double* find(std::string_view name) const;
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

 private:
  std::vector<std::pair<std::string_view, double>> values_;  // by name
};

struct UserMetrics {
  std::string user_id;
  bool has_list = false;
  // Per k, in the order of the ks given: precision, recall, ndcg, map, mrr,
  // hit, novelty, arp, ild (NaN when undefined for this user).
  std::vector<MetricValues> at_k;
};

struct EvaluationInputs {
  // Ranked lists: user -> item ids, best first.
  std::unordered_map<std::string, std::vector<std::string>> recs;
  // Relevant items per user (after the rating filter).
  std::unordered_map<std::string, std::unordered_set<std::string>> relevant;
  // Training interactions: item -> distinct users; and the number of users.
  std::unordered_map<std::string, int64_t> train_popularity;
  int64_t train_users = 0;
  // Catalogue size for coverage (0: unknown, coverage omitted).
  int64_t catalogue_size = 0;
  // Item vectors for ild (may be null).
  const ItemMatrix* item_vectors = nullptr;
  // Graded relevance of each user's held-out items, 0..3 (GradeOfRating,
  // GradeOfSentiment); empty: the graded metrics are left out.
  std::unordered_map<std::string, std::unordered_map<std::string, int>> gains;
};

// The gain of a held-out item from its rating on the scale [min, max],
// mapped to 1..5 stars: 1-2 stars -> 0, 3 -> 1, 4 -> 2, 5 -> 3 (halves to the
// nearer grade, .5 up).
int GradeOfRating(double rating, double min, double max);
// The gain from a review's sentiment score when it has no rating:
// < -0.33 -> 0, <= 0.33 -> 1, <= 0.8 -> 2, else 3.
int GradeOfSentiment(double score);

struct EvaluationResult {
  std::vector<int> ks;
  // Flat: "precision@10", ..., "users_evaluated".
  std::vector<std::pair<std::string, double>> summary;
  std::vector<UserMetrics> per_user;  // evaluated users, sorted by user_id
};

EvaluationResult Evaluate(const EvaluationInputs& in, const std::vector<int>& ks);
// Every field Evaluate's summary can hold for `ks`, in its order: those it
// holds when a catalogue, training rows, item vectors and grades are all
// given (what --fail-if may name).
std::vector<std::string> EvaluationFieldNames(const std::vector<int>& ks);

// One metric of two evaluations against the same truth (this run and a
// baseline: last night's lists, another algorithm's).
struct MetricChange {
  std::string name;  // as in the summary: "ndcg@10", "pairwise_auc", "coverage@10"
  double baseline = std::numeric_limits<double>::quiet_NaN();  // the baseline's summary value
  // This run minus the baseline: for a per-user metric, the mean of the
  // users' differences over the users both give a value (NaN when none);
  // for a run-wide one (coverage), the difference of the two values.
  double change = std::numeric_limits<double>::quiet_NaN();
  // The 95 % paired bootstrap interval of the change (percentiles of the
  // mean difference over users drawn with replacement); NaN for a run-wide
  // metric, without resamples, or with no user.
  double low = std::numeric_limits<double>::quiet_NaN(), high = std::numeric_limits<double>::quiet_NaN();
  int64_t users = 0;  // users with a value in both (0 for a run-wide metric)
};

// Each summary metric of `current` against `baseline` (both from Evaluate,
// with the same ks; users are matched by id). Deterministic for a seed: the
// same resamples serve every metric, drawn from a 64-bit Mersenne Twister.
std::vector<MetricChange> CompareEvaluations(const EvaluationResult& current, const EvaluationResult& baseline,
                                             int resamples, uint64_t seed);

// A list as Evaluate scores it: each item once, at its first rank.
std::vector<std::string> DistinctInOrder(const std::vector<std::string>& list);

// Graded and preference-aware metrics of one list (docs/metrics.md), exposed
// for tests. `list_gains[i]`: the gain of the item at rank i + 1 (-1 when the
// user has no held-out review of it); `all_gains`: the gains of all the
// user's held-out items. NaN when the user is not evaluated (no positive
// gain; no disliked item).
double GradedNdcgAtK(const std::vector<int>& list_gains, const std::vector<int>& all_gains, int k);
double DislikedAtK(const std::vector<int>& list_gains, int k);
// `list`: the user's ranked items (no duplicates); `gains`: their held-out
// items' gains. NaN when the user has no liked (gain >= 2) or no disliked
// (gain 0) item.
double PairwiseAuc(const std::vector<std::string>& list, const std::unordered_map<std::string, int>& gains);

// Single-list metrics (exposed for tests). `rel[i]` is 1 when the item at
// position i+1 is relevant; `n_relevant` = |R|.
double PrecisionAtK(const std::vector<int>& rel, int k);
double RecallAtK(const std::vector<int>& rel, int k, int n_relevant);
double NdcgAtK(const std::vector<int>& rel, int k, int n_relevant);
double MapAtK(const std::vector<int>& rel, int k, int n_relevant);
double MrrAtK(const std::vector<int>& rel, int k);
double HitAtK(const std::vector<int>& rel, int k);

}  // namespace avrec
