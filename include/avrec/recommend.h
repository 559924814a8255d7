// The recommendation stage: algorithms (sentiment-weighted content profiles
// and the baselines), exclusion, cold start, explanations, and the output
// writers. Every algorithm goes through the same selection, tie-breaking and
// output code. Formulas in docs/model.md; output schema in
// docs/recommendations.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/features.h"
#include "avrec/profile.h"
#include "avrec/rank.h"
#include "avrec/sentiment.h"

namespace avrec {

enum class Algorithm { kSentimentContent, kContent, kPopular, kItemKnn, kHybrid };
Algorithm ParseAlgorithm(const std::string& s);  // Error(kUsage) if unknown
const char* AlgorithmName(Algorithm a);

struct RecommendOptions {
  Algorithm algorithm = Algorithm::kSentimentContent;
  int top_n = 10;
  bool include_seen = false;
  std::vector<std::string> allow;  // non-empty: only these items
  std::vector<std::string> deny;   // never these items
  // Item weight: 1 + popularity_weight * log(1 + pop) / log(1 + max pop)
  //                + novelty_weight * novelty / max novelty.
  double popularity_weight = 0;
  double novelty_weight = 0;
  // + quality_weight * mean preference (sentiment and/or rating) of the
  // item's reviews: what other users felt about it.
  double quality_weight = 0;
  int knn_neighbors = 50;        // item-knn: neighbours kept per item
  double hybrid_content = 0.5;   // hybrid: share of the content score
  int shard = 0, shards = 1;     // process users of shard `shard` of `shards`
  int threads = 1;
  int block_users = 256;
  bool explain = true;
  ProfileOptions profile;        // content algorithms
};

struct Reason {
  std::string kind;        // "similar_to", "modality", "co_reviewed_with", "popular"
  std::string item_id;     // similar_to, co_reviewed_with
  std::string review_id;   // similar_to
  std::string modality;    // modality
  double value = 0;        // contribution, similarity or reviewer count
  std::optional<double> sentiment, rating;
};

struct RecommendedItem {
  std::string item_id;
  int rank = 0;
  double score = 0;
  std::vector<Reason> reasons;
};

struct UserRecommendations {
  std::string user_id;
  bool cold_start = false;
  int history = 0;  // reviews of catalogue items
  std::vector<RecommendedItem> items;
};

// Inputs of one run. `sentiment` may be null unless the algorithm needs it.
struct RecommendInputs {
  const ItemMatrix* items = nullptr;
  const ItemTable* item_table = nullptr;   // titles (may be null)
  const std::vector<Review>* reviews = nullptr;
  const std::unordered_map<std::string, Sentiment>* sentiment = nullptr;
  std::vector<std::string> extra_users;    // users to include even without reviews
};

struct RecommendStats {
  int64_t users = 0, cold_start = 0, items = 0, candidates = 0;
};

// Computes recommendations for every user of the shard, in output order
// ((stable hash, user_id) ascending), calling sink for each.
RecommendStats Recommend(const RecommendInputs& in, const RecommendOptions& options,
                         const std::function<void(const UserRecommendations&)>& sink);

// ---- output -----------------------------------------------------------------------

struct OutputHeader {
  std::string algorithm;
  int top_n = 0;
  std::string config_hash;
  std::string sentiment_model, sentiment_sha256;
  std::string embedding_model, embedding_sha256;
  std::string created_at;  // empty: omitted (reproducible output)
  int shard = 0, shards = 1;
};

// Writes recommendations as JSON ({"header": ..., "users": [...]}) or JSON
// Lines (a header line {"header": ...} first in shard 0 only, then one user
// per line), atomically.
class RecommendationWriter {
 public:
  RecommendationWriter(const std::string& path, bool jsonl, const OutputHeader& header);
  ~RecommendationWriter();
  void Add(const UserRecommendations& u);
  void Commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string UserJson(const UserRecommendations& u, int indent);

}  // namespace avrec
