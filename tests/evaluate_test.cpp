// Metrics on small hand-computed cases, and the splits.
#include "avrec/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

namespace avrec {
namespace {

constexpr double kEps = 1e-9;

TEST(Metrics, HandComputedList) {
  // Relevant at ranks 1 and 3; |R| = 3.
  const std::vector<int> rel = {1, 0, 1, 0, 0};
  EXPECT_NEAR(PrecisionAtK(rel, 5), 0.4, kEps);
  EXPECT_NEAR(RecallAtK(rel, 5, 3), 2.0 / 3, kEps);
  const double idcg3 = 1 + 1 / std::log2(3.0) + 0.5;
  EXPECT_NEAR(NdcgAtK(rel, 5, 3), 1.5 / idcg3, kEps);
  EXPECT_NEAR(MapAtK(rel, 5, 3), (1.0 + 2.0 / 3) / 3, kEps);
  EXPECT_NEAR(MrrAtK(rel, 5), 1.0, kEps);
  EXPECT_NEAR(HitAtK(rel, 5), 1.0, kEps);
  // k = 2: IDCG over min(|R|, k) = 2 positions; MAP divides by 2.
  EXPECT_NEAR(PrecisionAtK(rel, 2), 0.5, kEps);
  EXPECT_NEAR(RecallAtK(rel, 2, 3), 1.0 / 3, kEps);
  EXPECT_NEAR(NdcgAtK(rel, 2, 3), 1.0 / (1 + 1 / std::log2(3.0)), kEps);
  EXPECT_NEAR(MapAtK(rel, 2, 3), 0.5, kEps);
}

TEST(Metrics, KLargerThanTheList) {
  const std::vector<int> rel = {0, 1};
  EXPECT_NEAR(PrecisionAtK(rel, 10), 0.1, kEps);  // divided by k, not by the list length
  EXPECT_NEAR(RecallAtK(rel, 10, 1), 1.0, kEps);
  EXPECT_NEAR(NdcgAtK(rel, 10, 1), 1 / std::log2(3.0), kEps);
  EXPECT_NEAR(MapAtK(rel, 10, 1), 0.5, kEps);
  EXPECT_NEAR(MrrAtK(rel, 10), 0.5, kEps);
  EXPECT_NEAR(HitAtK(rel, 1), 0.0, kEps);
  EXPECT_NEAR(MrrAtK(rel, 1), 0.0, kEps);
}

TEST(Metrics, EmptyListIsZero) {
  const std::vector<int> rel;
  for (int k : {1, 5}) {
    EXPECT_EQ(PrecisionAtK(rel, k), 0.0);
    EXPECT_EQ(RecallAtK(rel, k, 2), 0.0);
    EXPECT_EQ(NdcgAtK(rel, k, 2), 0.0);
    EXPECT_EQ(MapAtK(rel, k, 2), 0.0);
    EXPECT_EQ(MrrAtK(rel, k), 0.0);
    EXPECT_EQ(HitAtK(rel, k), 0.0);
  }
}

TEST(Metrics, PerfectList) {
  const std::vector<int> rel = {1, 1, 1};
  EXPECT_NEAR(NdcgAtK(rel, 3, 3), 1.0, kEps);
  EXPECT_NEAR(MapAtK(rel, 3, 3), 1.0, kEps);
  EXPECT_NEAR(NdcgAtK(rel, 2, 3), 1.0, kEps);  // ideal is capped at k
}

double Get(const EvaluationResult& r, const std::string& key) {
  for (const auto& [k, v] : r.summary) {
    if (k == key) return v;
  }
  ADD_FAILURE() << "no " << key;
  return NAN;
}

TEST(Evaluate, AveragesMissingUsersAndBeyondAccuracy) {
  EvaluationInputs in;
  in.relevant["A"] = {"x", "y"};
  in.relevant["B"] = {"q"};             // no list: counted with zeros
  in.relevant["C"] = {};                // nothing relevant: not evaluated
  in.recs["A"] = {"x", "z", "x", "y"};  // the repeated x counts once (at rank 1)
  in.recs["D"] = {"x"};                 // no truth: ignored
  in.train_popularity = {{"x", 2}, {"z", 1}, {"y", 4}};
  in.train_users = 4;
  in.catalogue_size = 10;
  EvaluationResult r = Evaluate(in, {1, 3});
  EXPECT_EQ(Get(r, "users_evaluated"), 2);
  EXPECT_NEAR(Get(r, "precision@1"), 0.5, kEps);
  EXPECT_NEAR(Get(r, "recall@1"), 0.25, kEps);
  EXPECT_NEAR(Get(r, "precision@3"), (2.0 / 3) / 2, kEps);
  EXPECT_NEAR(Get(r, "recall@3"), 0.5, kEps);
  EXPECT_NEAR(Get(r, "ndcg@3"), (1.5 / (1 + 1 / std::log2(3.0))) / 2, kEps);
  EXPECT_NEAR(Get(r, "map@3"), ((1 + 2.0 / 3) / 2) / 2, kEps);
  EXPECT_NEAR(Get(r, "mrr@3"), 0.5, kEps);
  EXPECT_NEAR(Get(r, "hit@3"), 0.5, kEps);
  EXPECT_NEAR(Get(r, "coverage@1"), 0.1, kEps);
  EXPECT_NEAR(Get(r, "coverage@3"), 0.3, kEps);
  // Novelty and ARP over users with a list (A): items x, z, y.
  EXPECT_NEAR(Get(r, "novelty@3"), (1.0 + 2.0 + 0.0) / 3, kEps);
  EXPECT_NEAR(Get(r, "arp@3"), (2.0 + 1.0 + 4.0) / 3, kEps);
  ASSERT_EQ(r.per_user.size(), 2u);
  EXPECT_EQ(r.per_user[0].user_id, "A");
  EXPECT_FALSE(r.per_user[1].has_list);
  // Key order: every metric at k = 1, then at k = 3, then users_evaluated.
  EXPECT_EQ(r.summary.front().first, "precision@1");
  EXPECT_EQ(r.summary.back().first, "users_evaluated");
}

TEST(Evaluate, IntraListDiversity) {
  ItemMatrix m;
  m.ids = {"a", "b", "c"};
  m.vectors.resize(3, 2);
  m.vectors << 1, 0, 0, 1, 1, 0;
  EvaluationInputs in;
  in.relevant["u"] = {"a"};
  in.recs["u"] = {"a", "b", "c"};
  in.item_vectors = &m;
  EvaluationResult r = Evaluate(in, {2, 3});
  EXPECT_NEAR(Get(r, "ild@2"), 1.0, kEps);                    // a vs b: orthogonal
  EXPECT_NEAR(Get(r, "ild@3"), (1.0 + 0.0 + 1.0) / 3, kEps);  // ab, ac, bc
}

std::vector<Review> MakeReviews() {
  std::vector<Review> v;
  int id = 0;
  for (int u = 0; u < 5; ++u) {
    for (int k = 0; k <= u; ++k) {
      Review r;
      r.review_id = "r" + std::to_string(id++);
      r.user_id = "u" + std::to_string(u);
      r.item_id = "i" + std::to_string((u + k) % 4);
      r.timestamp = 1000 + 10 * k + u;
      v.push_back(r);
    }
  }
  return v;
}

TEST(Split, LeaveLastTakesEachUsersLatest) {
  auto reviews = MakeReviews();
  SplitOptions o;
  o.method = SplitMethod::kLeaveLast;
  SplitResult s = SplitReviews(reviews, o);
  std::map<std::string, int> test_per_user;
  for (size_t i = 0; i < reviews.size(); ++i) {
    if (!s.is_test[i]) continue;
    ++test_per_user[reviews[i].user_id];
    // The test review is the user's latest.
    for (size_t j = 0; j < reviews.size(); ++j) {
      if (reviews[j].user_id == reviews[i].user_id) {
        EXPECT_LE(*reviews[j].timestamp, *reviews[i].timestamp);
      }
    }
  }
  EXPECT_EQ(test_per_user.count("u0"), 0u);  // one review: stays in train
  for (const char* u : {"u1", "u2", "u3", "u4"}) EXPECT_EQ(test_per_user[u], 1);
}

TEST(Split, TemporalCutAndRandomDeterminism) {
  auto reviews = MakeReviews();
  SplitOptions t;
  t.method = SplitMethod::kTemporal;
  t.quantile = 0.5;
  SplitResult s = SplitReviews(reviews, t);
  for (size_t i = 0; i < reviews.size(); ++i) EXPECT_EQ(s.is_test[i], *reviews[i].timestamp > s.cut_time);
  SplitOptions r;
  r.method = SplitMethod::kRandom;
  r.fraction = 0.5;
  r.seed = 9;
  EXPECT_EQ(SplitReviews(reviews, r).is_test, SplitReviews(reviews, r).is_test);
  r.seed = 10;
  SplitResult other = SplitReviews(reviews, r);
  int test = 0;
  for (bool b : other.is_test) test += b;
  EXPECT_EQ(test, 1 + 2 + 2 + 3);  // floor(0.5 n + 0.5) within [1, n - 1], for n = 2..5
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

TEST(GradedMetrics, GradesFromRatingsAndSentiment) {
  EXPECT_EQ(GradeOfRating(1, 1, 5), 0);
  EXPECT_EQ(GradeOfRating(2, 1, 5), 0);
  EXPECT_EQ(GradeOfRating(3, 1, 5), 1);
  EXPECT_EQ(GradeOfRating(4, 1, 5), 2);
  EXPECT_EQ(GradeOfRating(5, 1, 5), 3);
  EXPECT_EQ(GradeOfRating(4.5, 0.5, 5), 3);  // MovieLens halves: 4.5 is 4.56 on 1..5
  EXPECT_EQ(GradeOfRating(10, 1, 10), 3);
  EXPECT_EQ(GradeOfSentiment(-0.5), 0);
  EXPECT_EQ(GradeOfSentiment(-0.33), 1);
  EXPECT_EQ(GradeOfSentiment(0.33), 1);
  EXPECT_EQ(GradeOfSentiment(0.8), 2);
  EXPECT_EQ(GradeOfSentiment(0.81), 3);
}

TEST(GradedMetrics, NdcgGradedByHand) {
  // Held-out gains {3, 2, 0}; the list shows the 2 first, then an unreviewed
  // item, then the 3.
  // DCG@3 = 2/log2(2) + 0 + 3/log2(4) = 2 + 1.5 = 3.5
  // IDCG@3 = 3/1 + 2/log2(3) + 0 = 3 + 1.26186 = 4.26186
  const double want = 3.5 / (3 + 2 / std::log2(3.0));
  EXPECT_NEAR(GradedNdcgAtK({2, -1, 3}, {3, 2, 0}, 3), want, 1e-12);
  EXPECT_NEAR(GradedNdcgAtK({2, -1, 3}, {3, 2, 0}, 1), 2.0 / 3.0, 1e-12);
  EXPECT_TRUE(std::isnan(GradedNdcgAtK({0}, {0, 0}, 10)));  // no positive gain: not evaluated
}

TEST(GradedMetrics, DislikedByHand) {
  // k = 4 slots: items with gains 0, 3, 0 and an unreviewed one: 2 of 4.
  EXPECT_DOUBLE_EQ(DislikedAtK({0, 3, 0, -1, 0}, 4), 0.5);
  EXPECT_DOUBLE_EQ(DislikedAtK({0}, 10), 0.1);  // a short list still has k slots
}

TEST(GradedMetrics, PairwiseAucByHand) {
  // Liked a (gain 3) at rank 1, liked b (gain 2) unlisted; disliked c at
  // rank 2, disliked d unlisted. Pairs: (a,c) 1, (a,d) 1, (b,c) 0, (b,d) 0.5.
  const std::unordered_map<std::string, int> gains = {{"a", 3}, {"b", 2}, {"c", 0}, {"d", 0}, {"e", 1}};
  EXPECT_DOUBLE_EQ(PairwiseAuc({"a", "c", "x"}, gains), 2.5 / 4);
  EXPECT_TRUE(std::isnan(PairwiseAuc({"a"}, {{"a", 3}})));  // no disliked item
}

TEST(GradedMetrics, EvaluateAveragesOverTheUsersEachMetricConcerns) {
  EvaluationInputs in;
  in.recs = {{"u1", {"a", "c"}}, {"u2", {"z"}}};
  in.relevant = {{"u1", {"a", "c"}}, {"u2", {"y"}}};
  in.gains = {{"u1", {{"a", 3}, {"c", 0}}}, {"u2", {{"y", 0}}}};
  const EvaluationResult r = Evaluate(in, {2});
  std::map<std::string, double> s(r.summary.begin(), r.summary.end());
  // ndcg_graded: u1 only (u2 has no positive gain): DCG 3, IDCG 3 -> 1.
  EXPECT_DOUBLE_EQ(s.at("ndcg_graded@2"), 1.0);
  EXPECT_EQ(s.at("users_graded"), 1);
  // disliked@2: u1 1/2, u2 0/2 -> 0.25.
  EXPECT_DOUBLE_EQ(s.at("disliked@2"), 0.25);
  EXPECT_EQ(s.at("users_with_disliked"), 2);
  EXPECT_DOUBLE_EQ(s.at("pairwise_auc"), 1.0);  // u1: a above c
  EXPECT_EQ(s.at("users_auc"), 1);
}

// A metric no user has a value for is NaN (null in the output), not 0,
// which would read as a result: a perfect disliked@k, an AUC always wrong.
TEST(GradedMetrics, AMetricNoUserQualifiesForIsNaN) {
  EvaluationInputs in;
  in.recs = {{"u1", {"a", "b"}}};
  in.relevant = {{"u1", {}}};                 // nothing relevant (a rating filter)
  in.gains = {{"u1", {{"a", 3}, {"b", 2}}}};  // liked only: no dislike, no AUC
  const EvaluationResult r = Evaluate(in, {2});
  std::map<std::string, double> s(r.summary.begin(), r.summary.end());
  EXPECT_EQ(s.at("users_evaluated"), 0);
  for (const char* name :
       {"precision@2", "recall@2", "ndcg@2", "map@2", "mrr@2", "hit@2", "disliked@2", "pairwise_auc"}) {
    EXPECT_TRUE(std::isnan(s.at(name))) << name << " = " << s.at(name);
  }
  EXPECT_DOUBLE_EQ(s.at("ndcg_graded@2"), 1.0);
  EXPECT_EQ(s.at("users_graded"), 1);
  EXPECT_EQ(s.at("users_with_disliked"), 0);
  EXPECT_EQ(s.at("users_auc"), 0);
}

// Two runs against one truth: the change of a per-user metric is the mean
// of the users' differences, its interval the percentiles of that mean over
// users drawn with replacement; a run-wide metric gets its difference only.
TEST(Compare, ChangeAndIntervalByHand) {
  EvaluationInputs in;
  in.relevant = {{"A", {"x"}}, {"B", {"y"}}, {"C", {"z"}}};
  in.catalogue_size = 10;
  in.recs = {{"A", {"x"}}, {"B", {"y"}}, {"C", {"q"}}};  // hit@1: 1, 1, 0; top 1 covers x, y, q
  const EvaluationResult now = Evaluate(in, {1});
  in.recs = {{"A", {"q"}}, {"B", {"y"}}, {"C", {"q"}}};  // hit@1: 0, 1, 0; covers q, y
  const EvaluationResult base = Evaluate(in, {1});
  const std::vector<MetricChange> changes = CompareEvaluations(now, base, 2000, 7);
  std::map<std::string, MetricChange> by_name;
  for (const MetricChange& c : changes) by_name[c.name] = c;
  const MetricChange& hit = by_name.at("hit@1");
  EXPECT_DOUBLE_EQ(hit.baseline, 1.0 / 3);
  EXPECT_DOUBLE_EQ(hit.change, 1.0 / 3);  // differences 1, 0, 0
  EXPECT_EQ(hit.users, 3);
  // A resample's mean is 0, 1/3, 2/3 or 1; it is 0 (A never drawn) with
  // probability (2/3)^3 = 0.30 and 1 (A thrice) with 1/27 = 0.037, both
  // beyond 2.5 %, so the interval is [0, 1].
  EXPECT_DOUBLE_EQ(hit.low, 0.0);
  EXPECT_DOUBLE_EQ(hit.high, 1.0);
  const MetricChange& coverage = by_name.at("coverage@1");
  EXPECT_DOUBLE_EQ(coverage.baseline, 0.2);
  EXPECT_NEAR(coverage.change, 0.1, 1e-12);
  EXPECT_EQ(coverage.users, 0);
  EXPECT_TRUE(std::isnan(coverage.low) && std::isnan(coverage.high));
  EXPECT_EQ(by_name.count("users_evaluated"), 0u);
  // The same seed gives the same interval; no resamples, no interval.
  const std::vector<MetricChange> again = CompareEvaluations(now, base, 2000, 7);
  EXPECT_EQ(again[0].low, changes[0].low);
  EXPECT_EQ(again[0].high, changes[0].high);
  const std::vector<MetricChange> bare = CompareEvaluations(now, base, 0, 7);
  EXPECT_DOUBLE_EQ(bare[0].change, changes[0].change);
  EXPECT_TRUE(std::isnan(bare[0].low));
}

// Per-user results built by hand: the interval of a mean of 0/1 differences
// is close to the normal one, mean +- 1.96 sd / sqrt(n); constant
// differences give a point; users are matched by id, and a metric a user
// has no value for (NaN) leaves that user out of its change.
TEST(Compare, IntervalMatchesTheNormalOneAndUsersAreMatchedById) {
  const auto user = [](const std::string& id, double hit, double disliked) {
    UserMetrics u;
    u.user_id = id;
    u.has_list = true;
    MetricValues m;
    m["hit"] = hit;
    m["disliked"] = disliked;
    u.at_k.push_back(m);
    return u;
  };
  EvaluationResult now, base;
  now.ks = base.ks = {10};
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "u%03d", i);
    now.per_user.push_back(user(id, i % 2, i < 100 ? 0.5 : NAN));
    base.per_user.push_back(user(id, 0, i < 100 ? 0.2 : NAN));
  }
  base.per_user.insert(base.per_user.begin(), user("a-only-in-base", 1, 1));
  now.per_user.push_back(user("z-only-now", 1, 1));
  now.summary = {{"hit@10", 0}, {"disliked@10", 0}};
  base.summary = {{"hit@10", 0}, {"disliked@10", 0}};
  const std::vector<MetricChange> c = CompareEvaluations(now, base, 4000, 42);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].users, n);
  EXPECT_DOUBLE_EQ(c[0].change, 0.5);
  const double half_width = 1.96 * 0.5 / std::sqrt(static_cast<double>(n));  // 0.049
  EXPECT_NEAR(c[0].low, 0.5 - half_width, 0.006);
  EXPECT_NEAR(c[0].high, 0.5 + half_width, 0.006);
  EXPECT_EQ(c[1].users, 100);
  EXPECT_NEAR(c[1].change, 0.3, 1e-12);
  EXPECT_NEAR(c[1].low, 0.3, 1e-12);
  EXPECT_NEAR(c[1].high, 0.3, 1e-12);
}

}  // namespace
}  // namespace avrec
