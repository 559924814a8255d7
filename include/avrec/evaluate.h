// Offline evaluation: train/test splits and top-k metrics, with the
// definitions of docs/metrics.md (the RecBole / Microsoft Recommenders
// conventions).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "avrec/data.h"
#include "avrec/features.h"
#include "avrec/options.h"

namespace avrec {

// ---- splits -----------------------------------------------------------------------

enum class SplitMethod { kTemporal, kLeaveLast, kRandom };
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

struct UserMetrics {
  std::string user_id;
  bool has_list = false;
  // Per k, in the order of the ks given: precision, recall, ndcg, map, mrr,
  // hit, novelty, arp, ild (NaN when undefined for this user).
  std::vector<std::map<std::string, double>> at_k;
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
};

struct EvaluationResult {
  std::vector<int> ks;
  // Flat: "precision@10", ..., "users_evaluated".
  std::vector<std::pair<std::string, double>> summary;
  std::vector<UserMetrics> per_user;  // evaluated users, sorted by user_id
};

EvaluationResult Evaluate(const EvaluationInputs& in, const std::vector<int>& ks);

// Single-list metrics (exposed for tests). `rel[i]` is 1 when the item at
// position i+1 is relevant; `n_relevant` = |R|.
double PrecisionAtK(const std::vector<int>& rel, int k);
double RecallAtK(const std::vector<int>& rel, int k, int n_relevant);
double NdcgAtK(const std::vector<int>& rel, int k, int n_relevant);
double MapAtK(const std::vector<int>& rel, int k, int n_relevant);
double MrrAtK(const std::vector<int>& rel, int k);
double HitAtK(const std::vector<int>& rel, int k);

}  // namespace avrec
