// User preference vectors: a weighted sum of the (unit) vectors of the items
// a user reviewed, the weight combining sentiment, rating and time decay.
// The formula is written down in docs/model.md. Pure arithmetic: no model
// runtime, no database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/features.h"
#include "avrec/options.h"

namespace avrec {

// What a rating column holds: stars (a scale, read linearly) or counts
// (plays, views, clicks: read on a log scale, never a dislike).
enum class RatingKind { kStars, kCounts };

struct ProfileOptions {
  bool use_sentiment = true;
  bool use_rating = true;
  double sentiment_share = 0.5;  // alpha: weight of sentiment when both are known, in [0, 1]
  double half_life_days = 0;     // time decay; 0: none
  // Recency decay within a user's history: a review's weight halves every
  // this many of the user's reviews that came after it; 0: none.
  double half_life_reviews = 0;
  // beta in [0, 1]: every review also counts as an interaction:
  // p <- beta + (1 - beta) p. 0 (default): pure preference, negative reviews
  // repel; 0.5: (1 + p) / 2, negative reviews only weigh less.
  double interaction_weight = 0;
  std::string now;  // reference time of the decay (Unix seconds or ISO 8601); "": the latest review
  std::optional<double> rating_min, rating_max;  // rating scale; default: from the data
  RatingKind rating_kind = RatingKind::kStars;
  int min_history = 1;  // fewer usable reviews: cold start

  // Config section "profile"; every option changes results.
  void Describe(OptionSet* set);
  // Throws Error(kUsage) naming the option (ranges, now, rating_min < rating_max,
  // no rating_min for counts).
  void Validate() const;
  // `now` in Unix seconds, or nullopt when empty. Throws Error(kUsage).
  std::optional<int64_t> NowSeconds() const;
};

// Sentiment score in [-1, 1] of each review, by review_id.
using ReviewScores = std::unordered_map<std::string, double>;

// One review as it enters a profile.
struct Interaction {
  int item = -1;  // row in the item matrix
  std::string review_id;
  double weight = 0;      // w_k = d_k p_k of docs/model.md
  double preference = 0;  // p_k, before time decay
  double feeling = 1;     // p_k before the interaction weight beta: sentiment and/or rating; 1 when neither
  double decay = 1;       // d_k: time and recency decay
  std::optional<double> sentiment;
  std::optional<double> rating;
  std::optional<int64_t> timestamp;
};

struct Profiles {
  std::vector<std::string> users;  // in output order: (stable hash, user_id) ascending
  RowMatrix vectors;               // size users x d (d = item matrix columns), unit rows (zero for cold start)
  std::vector<std::vector<Interaction>> history;  // per user, by item row then review id
  std::vector<bool> cold_start;
  // |P_u| / |sum_k |w_k| X^_k| (docs/model.md): 1 when no review pulls
  // against another, near 0 when what the user disliked cancels what they
  // liked and the profile's direction rests on the small difference.
  std::vector<double> net_share;
  // Reviews of items missing from the catalogue (skipped), and the rating
  // scale used.
  int64_t unknown_items = 0;
  double rating_min = 0, rating_max = 0;
  RatingKind rating_kind = RatingKind::kStars;
  int64_t reference_time = 0;

  // A rating on the scale above as the preferences read it: stars linearly
  // from rating_min .. rating_max to [-1, 1]; counts as log(1 + c) /
  // log(1 + rating_max), in [0, 1] (rating_min is 0). Clamped; 0 when the
  // scale is empty.
  double RatingUnit(double rating) const;

  int Find(const std::string& user_id) const;  // row of a user, or -1
};

// Stable 64-bit hash of a user id (FNV-1a), which orders users and assigns
// them to shards: shard K of N holds hashes in [K * 2^64 / N, (K+1) * 2^64 / N).
uint64_t UserHash(const std::string& user_id);
bool InShard(const std::string& user_id, int shard, int shards);

// The profile rows of shard K of N (and, given `only`, flagged there), in
// profile order: the users a recommend run ranks, in output order.
std::vector<int> ShardRows(const Profiles& profiles, int shard, int shards, const std::vector<char>* only = nullptr);

// What a review says of its item, in [-1, 1]: the sentiment and the rating
// (mapped to [-1, 1] by the scale) mixed by sentiment_share when both are
// used and known, else whichever is; 1 (a plain interaction) when neither is.
double ReviewFeeling(std::optional<double> sentiment, std::optional<double> rating_unit, const ProfileOptions& options);

// p_k of docs/model.md: the feeling, then p <- beta + (1 - beta) p with
// beta = interaction_weight.
double ReviewPreference(std::optional<double> sentiment, std::optional<double> rating_unit,
                        const ProfileOptions& options);

// A rating mapped linearly from [min, max] to [-1, 1] (clamped); 0 when the
// scale is empty.
double RatingToUnit(double rating, double min, double max);

// Builds one profile per user of `reviews` plus each of `extra_users` (who
// then have no history and are cold-start). `sentiment` maps review_id to
// its score; it may be null when options.use_sentiment is false. Throws
// Error(kUsage) for invalid options.
Profiles BuildProfiles(const std::vector<Review>& reviews, const ReviewScores* sentiment, const ItemMatrix& items,
                       const ProfileOptions& options, const std::vector<std::string>& extra_users = {});

}  // namespace avrec
