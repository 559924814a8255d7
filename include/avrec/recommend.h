// The ranking stage: algorithms (sentiment-weighted content profiles and the
// baselines), candidate filtering, exclusion of seen items, cold start and
// explanations. Every algorithm goes through the same selection,
// tie-breaking and output code. Formulas in docs/model.md; output schema in
// docs/recommendations.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "avrec/features.h"
#include "avrec/options.h"
#include "avrec/profile.h"

namespace avrec {

enum class Algorithm { kSentimentContent, kContent, kPopular, kItemKnn, kHybrid, kEase, kAls };
Algorithm ParseAlgorithm(const std::string& s);  // Error(kUsage) if unknown
const char* AlgorithmName(Algorithm a);
// Whether profiles for this algorithm weigh reviews by sentiment.
bool AlgorithmUsesSentiment(Algorithm a);
// Whether it scores by content (profile x item vectors).
bool AlgorithmUsesContent(Algorithm a);

struct RecommendOptions {
  Algorithm algorithm = Algorithm::kSentimentContent;
  int top_n = 10;  // items per user; more than the candidates: all of them
  bool include_seen = false;
  std::vector<std::string> allow;  // non-empty: only these items (ids)
  std::vector<std::string> deny;   // never these items (ids)
  // Item weight: 1 + popularity_weight * log(1 + pop) / log(1 + max pop)
  //                + novelty_weight * novelty / max novelty
  //                + quality_weight * mean preference of the item's reviews
  // (what other users felt about it), clamped at 0.
  double popularity_weight = 0;
  double novelty_weight = 0;
  double quality_weight = 0;
  // Candidates the user is predicted to feel less than this about (mu + b_u
  // + b_i over the reviews' feelings, docs/model.md section 3) rank after
  // every other candidate; unset: none. The biases shrink towards 0 by
  // avoid_shrinkage pseudo-reviews.
  std::optional<double> avoid_below;
  double avoid_shrinkage = 3;
  int knn_neighbors = 50;  // item-knn: neighbours kept per item
  // item-knn: each tag of the items file counts as this many users who
  // reviewed every item carrying it, in the items' similarities (0: tags
  // unused).
  double knn_tag_weight = 0.0;
  double hybrid_content = 0.5;                  // hybrid: share of the content score
  Algorithm hybrid_with = Algorithm::kItemKnn;  // hybrid: the collaborative part (item-knn, ease or als)
  // Collaborative models (docs/model.md): an interaction's value is the mean
  // preference of the user's reviews of the item; a disliked item's (value
  // < 0) is multiplied by negative_weight.
  double negative_weight = 1.0;
  double ease_lambda = 250.0;  // EASE: L2 regularisation
  double ease_dropout = 0.0;   // EASE: + dropout / (1 - dropout) x each item's own X^T X entry as its penalty
  int ease_max_items = 20000;  // EASE: refuse larger catalogues (memory: 2 x items^2 doubles)
  int ease_min_support = 1;    // EASE: items fewer users reviewed are left out of the model (score 0)
  // EASE: weight of the session term (pairs of items one user reviewed close
  // together in time, relative to B's norm; 0: none), and how fast a pair's
  // weight halves with the reviews between its two.
  double ease_session_weight = 0.0;
  double ease_session_half_life = 1.0;
  // EASE: each tag of the items file counts as this many users who reviewed
  // every item carrying it (0: tags unused).
  double ease_tag_weight = 0.0;
  int als_factors = 64;
  int als_iterations = 15;
  int als_cg_steps = 3;  // ALS: conjugate-gradient steps per row and sweep (0: exact solves)
  double als_regularization = 0.1;
  double als_alpha = 10.0;  // ALS: confidence c = 1 + alpha |value|
  // ALS: each tag of the items file is a pseudo-user who reviewed every item
  // carrying it with this value (0: tags unused).
  double als_tag_weight = 0.0;
  uint64_t seed = 42;         // ALS: initial factors
  int shard = 0, shards = 1;  // rank the users of shard `shard` of `shards`
  int threads = 0;            // 0: all cores; results do not depend on it
  int block_users = 256;      // users per block: memory is block_users x candidates floats per thread
  bool explain = true;

  // Config section "recommend" (allow/deny lists, shards and threads are the
  // caller's to declare: files, --shard K/N and --threads in the pipeline).
  void Describe(OptionSet* set);
  // Throws Error(kUsage) naming the option.
  void Validate() const;
};

struct Reason {
  // "similar_to", "modality", "co_reviewed_with", "learned_from", "tagged_like"
  // (learned_from for an item nobody reviewed, scored through its tags),
  // "popular", "predicted_dislike" (--avoid-below: listed only because
  // nothing else was left)
  std::string kind;
  std::string item_id;    // similar_to, co_reviewed_with, learned_from, tagged_like
  std::string review_id;  // similar_to
  std::string modality;   // modality
  double value = 0;       // contribution, similarity, reviewer count or predicted feeling
  // similar_to: how much the review lifts this item above the average
  // catalogue item (what sets it apart; reasons are chosen by it).
  std::optional<double> lift;
  std::optional<double> sentiment, rating;
  std::optional<double> below;        // predicted_dislike: the --avoid-below threshold
  double preference = 0;              // similar_to: the review's preference p_k
  std::vector<std::string> features;  // modality: the columns that agree most, best first
  // learned_from, tagged_like and co_reviewed_with, with a tag term
  // (--ease-tag-weight, --als-tag-weight, --knn-tag-weight): the tags the
  // cited item shares with the recommended one (case-folded names, at most
  // 3, in name order).
  std::vector<std::string> tags;
  // Filled for people to read (output stage): the title of item_id and, for
  // similar_to, the review's sentence with the strongest sentiment.
  std::string title, snippet;
};

struct RecommendedItem {
  std::string item_id;
  int rank = 0;
  double score = 0;
  std::vector<Reason> reasons;
  std::string title;        // output stage
  std::string explanation;  // output stage: one sentence in the user's language
};

struct UserRecommendations {
  std::string user_id;
  bool cold_start = false;
  int history = 0;  // reviews of catalogue items
  // A list ranked by the profile alone (content algorithms, and hybrid where
  // its collaborative part is silent): the profile's net share
  // (Profiles::net_share), how much of its reviews' weight survives the
  // dislikes; 1 for the others.
  double net_share = 1;
  std::vector<RecommendedItem> items;
  std::string language;  // output stage: "en" or "zh", of the explanations
  // Every score at or below zero (nothing the user liked resembles these
  // items), or a net share below kLowNetShare (output stage sets the reason).
  bool low_confidence = false;
  std::string low_confidence_reason;
};

// Inputs of one ranking run; both must outlive the call.
struct RecommendInputs {
  const ItemMatrix* items = nullptr;
  // Every user to rank, with their history. Build them with the algorithm's
  // profile options (ProfileOptionsFor): content algorithms rank by their
  // vectors; every algorithm uses the histories (exclusion, popularity, kNN).
  const Profiles* profiles = nullptr;
  // When set (one flag per profile user): rank only the users flagged; the
  // others are skipped as if outside the shard (incremental runs).
  const std::vector<char>* only = nullptr;
};

// The profile options an algorithm uses: sentiment off where it takes none.
ProfileOptions ProfileOptionsFor(Algorithm a, ProfileOptions profile);

struct RecommendStats {
  int64_t users = 0, cold_start = 0, items = 0, candidates = 0;
  int64_t avoided = 0;  // (user, candidate) pairs predicted below --avoid-below
};

// Computes recommendations for every user of the shard, in output order
// ((stable hash, user_id) ascending), calling sink for each from the calling
// thread. Throws Error(kUsage) for invalid options.
RecommendStats Recommend(const RecommendInputs& in, const RecommendOptions& options,
                         const std::function<void(const UserRecommendations&)>& sink);

}  // namespace avrec
