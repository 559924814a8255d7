// Profile arithmetic (docs/model.md) and the sentiment score formula, checked
// against values computed by hand.
#include "avrec/profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <unordered_map>

#include "avrec/error.h"
#include "avrec/sentiment.h"
#include "rank/collaborative.h"

namespace avrec {
namespace {

TEST(SentimentScore, SumOfProbabilityTimesLabelScoreClampedAndRounded) {
  EXPECT_DOUBLE_EQ(SentimentScore({0.25, 0.75}, {-1, 1}), 0.5);
  // Three labels: 0.2 x -1 + 0.3 x 0 + 0.5 x 1 = 0.3.
  EXPECT_DOUBLE_EQ(SentimentScore({0.2, 0.3, 0.5}, {-1, 0, 1}), 0.3);
  // Rounded to 6 decimals.
  EXPECT_DOUBLE_EQ(SentimentScore({0.1234564, 0.8765436}, {-1, 1}), 0.753087);
  // Label scores beyond [-1, 1] cannot push the score out of it.
  EXPECT_DOUBLE_EQ(SentimentScore({0, 1}, {-1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(SentimentScore({0.5, 0.5}, {-1, -1}), -1.0);
}

// A blank text has no sentiment: it is left out of what profiles read, so its
// review weighs by its rating (else 1), not as a neutral 0.
TEST(SentimentScore, BlankTextsCarryNoScore) {
  std::unordered_map<std::string, Sentiment> by_review;
  by_review["r1"] = Sentiment{"positive", 0.8, {0.1, 0.9}, {}};
  by_review["r2"] = Sentiment{"neutral", 0.0, {0.5, 0.5}, {"empty_text"}};
  by_review["r3"] = Sentiment{"negative", -0.6, {0.8, 0.2}, {"truncated"}};
  const auto scores = SentimentScores(by_review);
  EXPECT_EQ(scores.size(), 2u);
  EXPECT_DOUBLE_EQ(scores.at("r1"), 0.8);
  EXPECT_DOUBLE_EQ(scores.at("r3"), -0.6);
  EXPECT_EQ(scores.count("r2"), 0u);
}

TEST(ProfileFormula, PreferenceMixesSentimentAndRating) {
  ProfileOptions o;  // alpha 0.5, beta 0
  EXPECT_DOUBLE_EQ(ReviewPreference(0.8, -0.2, o), 0.3);
  EXPECT_DOUBLE_EQ(ReviewPreference(0.8, std::nullopt, o), 0.8);
  EXPECT_DOUBLE_EQ(ReviewPreference(std::nullopt, -0.2, o), -0.2);
  EXPECT_DOUBLE_EQ(ReviewPreference(std::nullopt, std::nullopt, o), 1.0);  // a plain interaction
  o.sentiment_share = 0.25;
  EXPECT_DOUBLE_EQ(ReviewPreference(0.8, -0.2, o), 0.25 * 0.8 + 0.75 * -0.2);
  o.interaction_weight = 0.5;  // p <- 0.5 + 0.5 p
  EXPECT_DOUBLE_EQ(ReviewPreference(-1.0, std::nullopt, o), 0.0);
  EXPECT_DOUBLE_EQ(RatingToUnit(4, 1, 5), 0.5);
  EXPECT_DOUBLE_EQ(RatingToUnit(1, 1, 5), -1.0);
  EXPECT_DOUBLE_EQ(RatingToUnit(9, 1, 5), 1.0);  // clamped
  EXPECT_DOUBLE_EQ(RatingToUnit(3, 3, 3), 0.0);  // an empty scale
}

// Two orthogonal items a = (3, 0) and b = (0, 1) (unit after scaling: e1, e2).
ItemMatrix TwoItems() {
  ItemMatrix m;
  m.ids = {"a", "b", "c"};
  m.vectors = RowMatrix::Zero(3, 2);
  m.vectors(0, 0) = 3;
  m.vectors(1, 1) = 1;
  m.vectors(2, 0) = 1;
  m.vectors(2, 1) = 1;
  m.column_names = {"x", "y"};
  return m;
}

Review MakeReview(const std::string& id, const std::string& user, const std::string& item, std::optional<double> rating,
                  std::optional<int64_t> t = std::nullopt) {
  Review r;
  r.review_id = id;
  r.user_id = user;
  r.item_id = item;
  r.rating = rating;
  r.timestamp = t;
  return r;
}

TEST(BuildProfiles, WeightedSumOfUnitItemVectorsNormalised) {
  const ItemMatrix items = TwoItems();
  // u: loves a (sentiment 0.9, 5 stars), mildly dislikes b (sentiment -0.3, 2 stars) on a 1-5 scale.
  const std::vector<Review> reviews = {MakeReview("r1", "u", "a", 5), MakeReview("r2", "u", "b", 2),
                                       MakeReview("r3", "v", "zzz", 3)};
  const ReviewScores s = {{"r1", 0.9}, {"r2", -0.3}};
  ProfileOptions o;
  const Profiles p = BuildProfiles(reviews, &s, items, o);
  EXPECT_EQ(p.rating_min, 2);  // from the data (the unknown item's review still counts for the scale)
  EXPECT_EQ(p.rating_max, 5);
  EXPECT_EQ(p.unknown_items, 1);
  const int u = p.Find("u");
  ASSERT_GE(u, 0);
  // w1 = 0.5 x 0.9 + 0.5 x 1 = 0.95; w2 = 0.5 x -0.3 + 0.5 x -1 = -0.65.
  ASSERT_EQ(p.history[u].size(), 2u);
  EXPECT_DOUBLE_EQ(p.history[u][0].weight, 0.95);
  EXPECT_DOUBLE_EQ(p.history[u][1].weight, -0.65);
  const double n = std::hypot(0.95, 0.65);
  EXPECT_NEAR(p.vectors(u, 0), 0.95 / n, 1e-7);
  EXPECT_NEAR(p.vectors(u, 1), -0.65 / n, 1e-7);
  EXPECT_FALSE(p.cold_start[u]);
  // Orthogonal items: the dislike pulls nothing back from the like.
  EXPECT_DOUBLE_EQ(p.net_share[u], 1.0);
  // v reviewed only an unknown item: cold start, zero vector.
  const int v = p.Find("v");
  EXPECT_TRUE(p.cold_start[v]);
  EXPECT_EQ(p.vectors.row(v).norm(), 0);
}

TEST(BuildProfiles, HalfLifeDecayAndMinHistory) {
  const ItemMatrix items = TwoItems();
  const int64_t day = 86400;
  const std::vector<Review> reviews = {MakeReview("r1", "u", "a", std::nullopt, 1000 * day),
                                       MakeReview("r2", "u", "b", std::nullopt, 1010 * day)};
  ProfileOptions o;
  o.use_sentiment = false;
  o.half_life_days = 10;  // r1 is one half-life older than the latest review
  Profiles p = BuildProfiles(reviews, nullptr, items, o);
  const int u = p.Find("u");
  EXPECT_DOUBLE_EQ(p.history[u][0].weight, 0.5);
  EXPECT_DOUBLE_EQ(p.history[u][1].weight, 1.0);
  EXPECT_NEAR(p.vectors(u, 0) / p.vectors(u, 1), 0.5, 1e-6);
  o.now = "1030";  // Unix seconds: far before both reviews: no negative ages, no growth
  p = BuildProfiles(reviews, nullptr, items, o);
  EXPECT_DOUBLE_EQ(p.history[p.Find("u")][0].weight, 1.0);
  o.now.clear();
  o.min_history = 3;
  p = BuildProfiles(reviews, nullptr, items, o);
  EXPECT_TRUE(p.cold_start[p.Find("u")]);
  // w, whose reviews are all three years older than the latest review (x's),
  // keeps the direction they point in at a 7-day half-life (weights near
  // 2^-156): decay weighs a user's reviews against each other, and a tiny
  // sum is not a sum that cancels out.
  std::vector<Review> old = reviews;
  old.push_back(MakeReview("r3", "w", "a", std::nullopt, 1 * day));
  old.push_back(MakeReview("r4", "w", "b", std::nullopt, 2 * day));
  old.push_back(MakeReview("r5", "x", "c", std::nullopt, 1096 * day));
  o.min_history = 1;
  o.half_life_days = 7;
  p = BuildProfiles(old, nullptr, items, o);
  const int w = p.Find("w");
  EXPECT_FALSE(p.cold_start[w]);
  EXPECT_LT(p.history[w][0].weight, 1e-40);
  EXPECT_NEAR(p.vectors(w, 0) / p.vectors(w, 1), std::pow(0.5, 1.0 / 7), 1e-6);  // r3 one day older than r4
  // At a 1-day half-life w's reviews are 1,094 and 1,095 half-lives old, and
  // 0.5^1094 rounds to zero in double precision. w's decays are spared the
  // 1,094 whole half-lives of the newest: w keeps its direction and its
  // decays keep their ratio; x's, recent, are untouched.
  o.half_life_days = 1;
  p = BuildProfiles(old, nullptr, items, o);
  ASSERT_EQ(std::pow(0.5, 1094.0), 0.0);
  EXPECT_FALSE(p.cold_start[w]);
  EXPECT_DOUBLE_EQ(p.history[w][0].decay, 0.5);
  EXPECT_DOUBLE_EQ(p.history[w][1].decay, 1.0);
  EXPECT_NEAR(p.vectors(w, 0) / p.vectors(w, 1), 0.5, 1e-6);
  EXPECT_DOUBLE_EQ(p.history[p.Find("x")][0].decay, 1.0);
  EXPECT_DOUBLE_EQ(p.history[p.Find("u")][0].decay, std::pow(0.5, 96.0));  // 96 half-lives: not spared
}

// --half-life-reviews: a review's weight halves for each later review of the
// same user; reviews at the same time decay alike, a review without a time
// not at all. The collaborative models' query takes an item's largest decay.
TEST(BuildProfiles, RecencyDecayCountsLaterReviews) {
  const ItemMatrix items = TwoItems();
  const std::vector<Review> reviews = {
      MakeReview("r1", "u", "a", std::nullopt, 100), MakeReview("r2", "u", "b", std::nullopt, 200),
      MakeReview("r3", "u", "a", std::nullopt, 300), MakeReview("r4", "u", "c", std::nullopt, 300),
      MakeReview("r5", "u", "b", std::nullopt),      MakeReview("r6", "u", "zzz", std::nullopt, 400)};
  ProfileOptions o;
  o.use_sentiment = false;
  o.half_life_reviews = 1;
  Profiles p = BuildProfiles(reviews, nullptr, items, o);
  const auto& h = p.history[static_cast<size_t>(p.Find("u"))];
  ASSERT_EQ(h.size(), 5u);  // by item, then review id; r6's item is not in the catalogue and does not count
  const std::vector<std::string> ids = {"r1", "r3", "r2", "r5", "r4"};
  const std::vector<double> decay = {0.125, 1.0, 0.25, 1.0, 1.0};
  for (size_t k = 0; k < h.size(); ++k) {
    EXPECT_EQ(h[k].review_id, ids[k]);
    EXPECT_DOUBLE_EQ(h[k].decay, decay[k]) << ids[k];
    EXPECT_DOUBLE_EQ(h[k].weight, decay[k] * h[k].preference) << ids[k];
  }
  o.half_life_reviews = 2;
  o.half_life_days = 200.0 / 86400;               // both decays multiply: r1 is 300 s older than the latest review (r6)
  p = BuildProfiles(reviews, nullptr, items, o);  // and has three later reviews
  EXPECT_NEAR(p.history[static_cast<size_t>(p.Find("u"))][0].decay, std::pow(0.5, 1.5) * std::pow(0.5, 1.5), 1e-12);

  o.half_life_days = 0;
  o.half_life_reviews = 1;
  p = BuildProfiles(reviews, nullptr, items, o);
  const Interactions x = BuildInteractions(p, 3, 1.0);
  const auto& row = x.rows[static_cast<size_t>(p.Find("u"))];
  const auto& query = x.query[static_cast<size_t>(p.Find("u"))];
  ASSERT_EQ(row.size(), 3u);
  ASSERT_EQ(query.size(), 3u);
  const std::vector<double> largest = {1.0, 1.0, 1.0};  // a: r3; b: r5 (no time); c: r4
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(row[k].second, 1.0);
    EXPECT_EQ(query[k].second, largest[k]);
  }
  const std::vector<Review> two = {MakeReview("r1", "w", "a", std::nullopt, 100),
                                   MakeReview("r2", "w", "b", std::nullopt, 200)};
  p = BuildProfiles(two, nullptr, items, o);
  const Interactions y = BuildInteractions(p, 3, 1.0);
  EXPECT_EQ(y.query[0][0].second, 0.5);
  EXPECT_EQ(y.rows[0][0].second, 1.0);
}

TEST(BuildProfiles, OppositeReviewsCancelToColdStart) {
  const ItemMatrix items = TwoItems();
  const std::vector<Review> reviews = {MakeReview("r1", "u", "a", std::nullopt),
                                       MakeReview("r2", "u", "a", std::nullopt)};
  const ReviewScores s = {{"r1", 0.5}, {"r2", -0.5}};
  ProfileOptions o;
  const Profiles p = BuildProfiles(reviews, &s, items, o, {"newcomer"});
  EXPECT_TRUE(p.cold_start[p.Find("u")]);  // zero sum: nothing to rank by
  EXPECT_TRUE(p.cold_start[p.Find("newcomer")]);
  EXPECT_TRUE(p.history[p.Find("newcomer")].empty());
}

// n_u = |sum w_k X^_k| / |sum |w_k| X^_k|, by hand: a liked (0.9) along e1
// and a disliked (-0.5) c along (1, 1) / sqrt 2.
TEST(BuildProfiles, NetShareIsWhatTheDislikesLeaveOfTheWeight) {
  const ItemMatrix items = TwoItems();
  const std::vector<Review> reviews = {
      MakeReview("r1", "u", "a", std::nullopt), MakeReview("r2", "u", "c", std::nullopt),
      MakeReview("r3", "w", "a", std::nullopt), MakeReview("r4", "w", "c", std::nullopt),
      MakeReview("r5", "x", "c", std::nullopt), MakeReview("r6", "x", "c", std::nullopt)};
  const ReviewScores s = {{"r1", 0.9}, {"r2", -0.5}, {"r3", 0.9}, {"r4", 0.5}, {"r5", -0.5}, {"r6", 0.45}};
  const Profiles p = BuildProfiles(reviews, &s, items, ProfileOptions{}, {"newcomer"});
  const double h = 0.5 / std::sqrt(2.0);
  EXPECT_NEAR(p.net_share[p.Find("u")], std::hypot(0.9 - h, -h) / std::hypot(0.9 + h, h), 1e-12);
  EXPECT_DOUBLE_EQ(p.net_share[p.Find("w")], 1.0);  // all liked: however far apart, nothing cancels
  // The same item loved and hated almost alike: a twentieth is left.
  EXPECT_NEAR(p.net_share[p.Find("x")], 0.05 / 0.95, 1e-12);
  EXPECT_FALSE(p.cold_start[p.Find("x")]);
  EXPECT_DOUBLE_EQ(p.net_share[p.Find("newcomer")], 1.0);  // cold start: nothing to flag
}

// Counts (plays): log(1 + c) / log(1 + the largest count), never below 0;
// 9 plays of a largest 99 are log 10 / log 100 = 1/2.
TEST(BuildProfiles, CountsAreReadOnALogScale) {
  const ItemMatrix items = TwoItems();
  const std::vector<Review> reviews = {MakeReview("r1", "u", "a", 99), MakeReview("r2", "u", "b", 9),
                                       MakeReview("r3", "v", "a", 0)};
  ProfileOptions o;
  o.rating_kind = RatingKind::kCounts;
  o.use_sentiment = false;
  o.interaction_weight = 0.2;
  const Profiles p = BuildProfiles(reviews, nullptr, items, o);
  EXPECT_EQ(p.rating_min, 0);
  EXPECT_EQ(p.rating_max, 99);
  EXPECT_NEAR(p.RatingUnit(9), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(p.RatingUnit(99), 1.0);
  EXPECT_DOUBLE_EQ(p.RatingUnit(0), 0.0);
  EXPECT_DOUBLE_EQ(p.RatingUnit(1e6), 1.0);  // beyond the scale: clamped
  const int u = p.Find("u");
  ASSERT_EQ(p.history[u].size(), 2u);
  EXPECT_DOUBLE_EQ(p.history[u][0].preference, 0.2 + 0.8 * 1.0);
  EXPECT_NEAR(p.history[u][1].preference, 0.2 + 0.8 * 0.5, 1e-12);
  // No play at all is no preference, not a dislike: beta alone.
  EXPECT_DOUBLE_EQ(p.history[p.Find("v")][0].preference, 0.2);
  // --rating-max sets the count that counts in full.
  o.rating_max = 9;
  EXPECT_DOUBLE_EQ(BuildProfiles(reviews, nullptr, items, o).history[u][1].preference, 1.0);
  // A negative count is refused (a column of stars centred on 0?), and so
  // is a lowest count.
  try {
    BuildProfiles({MakeReview("r4", "w", "a", -1)}, nullptr, items, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kDataErr);
    EXPECT_NE(std::string(e.what()).find("review 'r4'"), std::string::npos) << e.what();
  }
  o.rating_min = 1;
  try {
    BuildProfiles(reviews, nullptr, items, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
}

TEST(BuildProfiles, InvalidOptionsAreUsageErrors) {
  const ItemMatrix items = TwoItems();
  ProfileOptions o;
  o.interaction_weight = 2;
  try {
    BuildProfiles({}, nullptr, items, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
}

}  // namespace
}  // namespace avrec
