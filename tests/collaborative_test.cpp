// EASE and ALS against dense references computed here from their
// definitions (docs/model.md), on a small matrix.
#include "rank/collaborative.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "avrec/error.h"

namespace avrec {
namespace {

// 7 users x 5 items; values in {-1, 0.5, 1} (a dislike, a mild and a strong like).
Interactions Toy() {
  Interactions x;
  x.items = 5;
  x.rows = {{{0, 1.0}, {1, 0.5}},
            {{0, 1.0}, {2, 1.0}, {3, -1.0}},
            {{1, 1.0}, {2, 0.5}},
            {{0, 0.5}, {1, 1.0}, {4, 1.0}},
            {{2, 1.0}, {3, 1.0}},
            {{3, -1.0}, {4, 1.0}},
            {}};
  return x;
}

Eigen::MatrixXd Dense(const Interactions& x) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(x.rows.size()), x.items);
  for (size_t u = 0; u < x.rows.size(); ++u) {
    for (const auto& [i, v] : x.rows[u]) m(static_cast<Eigen::Index>(u), i) = v;
  }
  return m;
}

TEST(Ease, ScoresMatchTheClosedForm) {
  const Interactions x = Toy();
  RecommendOptions o;
  o.ease_lambda = 2.0;
  auto model = TrainEase(x, o, 1);
  // Reference: P = (X^T X + lambda I)^-1, B = I - P diag(1/diag P).
  const Eigen::MatrixXd xm = Dense(x);
  const Eigen::MatrixXd p = (xm.transpose() * xm + 2.0 * Eigen::MatrixXd::Identity(5, 5)).inverse();
  Eigen::MatrixXd b = Eigen::MatrixXd::Identity(5, 5) - p * p.diagonal().cwiseInverse().asDiagonal();
  const Eigen::MatrixXd scores = xm * b;
  std::vector<int> all = {0, 1, 2, 3, 4};
  std::vector<double> row(5);
  for (int u = 0; u < 7; ++u) {
    model->Scores(u, all, row.data());
    double from_contributions = 0;
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(model->Score(u, i), scores(u, i), 1e-12) << u << " " << i;
      EXPECT_EQ(model->Score(u, i), row[static_cast<size_t>(i)]);  // bit-identical
      EXPECT_LE(std::fabs(model->Score(u, i)), model->Bound() + 1e-12);
    }
    for (const auto& [j, c] : model->Contributions(u, 2)) from_contributions += c;
    EXPECT_NEAR(from_contributions, scores(u, 2), 1e-12);
  }
  EXPECT_EQ(b.diagonal().cwiseAbs().maxCoeff() < 1e-12, true);
}

// Scores of the closed form on a dense matrix (reference for the tests).
Eigen::MatrixXd EaseReference(const Eigen::MatrixXd& xm, double lambda) {
  const Eigen::Index n = xm.cols();
  const Eigen::MatrixXd p = (xm.transpose() * xm + lambda * Eigen::MatrixXd::Identity(n, n)).inverse();
  const Eigen::MatrixXd b = Eigen::MatrixXd::Identity(n, n) - p * p.diagonal().cwiseInverse().asDiagonal();
  return xm * b;
}

// A model's scores against a dense reference (users x items): each within
// 1e-12 and within the model's bound, and the contributions to `item`'s
// score summing to it.
void ExpectScoresOf(const CollaborativeModel& model, const Eigen::MatrixXd& scores, int item) {
  for (int u = 0; u < scores.rows(); ++u) {
    for (int i = 0; i < scores.cols(); ++i) {
      EXPECT_NEAR(model.Score(u, i), scores(u, i), 1e-12) << u << " " << i;
      EXPECT_LE(std::fabs(model.Score(u, i)), model.Bound() + 1e-12);
    }
    double sum = 0;
    for (const auto& [j, c] : model.Contributions(u, item)) sum += c;
    EXPECT_NEAR(sum, scores(u, item), 1e-12);
  }
}

// Random sparse interactions, a tenth of them dislikes.
Interactions RandomInteractions(int users, int items, int one_in, unsigned seed) {
  std::mt19937 rng(seed);
  Interactions x;
  x.items = items;
  for (int u = 0; u < users; ++u) {
    std::vector<std::pair<int, double>> row;
    for (int i = 0; i < items; ++i) {
      if (rng() % static_cast<unsigned>(one_in) == 0) row.emplace_back(i, rng() % 10 == 0 ? -0.5 : 1.0 + (rng() % 3));
    }
    x.rows.push_back(row);
  }
  return x;
}

// More items than one tile of the blocked inverse (ragged last tile): the
// same scores as the dense closed form, and the same bits for any thread
// count.
TEST(Ease, BlockedInverseMatchesTheClosedFormAcrossThreadCounts) {
  const Interactions x = RandomInteractions(300, 431, 12, 3);
  RecommendOptions o;
  o.ease_lambda = 5.0;
  auto e1 = TrainEase(x, o, 1), e2 = TrainEase(x, o, 2), e5 = TrainEase(x, o, 5);
  const Eigen::MatrixXd ref = EaseReference(Dense(x), 5.0);
  std::vector<int> all(431);
  for (int i = 0; i < 431; ++i) all[static_cast<size_t>(i)] = i;
  std::vector<double> row(all.size()), some(3);
  const std::vector<int> few = {430, 0, 200};
  for (int u = 0; u < 300; u += 13) {
    e1->Scores(u, all, row.data());
    e1->Scores(u, few, some.data());  // the per-candidate path
    for (int i = 0; i < 431; ++i) {
      ASSERT_NEAR(e1->Score(u, i), ref(u, i), 1e-9) << u << " " << i;
      ASSERT_EQ(e1->Score(u, i), row[static_cast<size_t>(i)]);
      ASSERT_EQ(e1->Score(u, i), e2->Score(u, i));
      ASSERT_EQ(e1->Score(u, i), e5->Score(u, i));
    }
    for (size_t c = 0; c < few.size(); ++c) ASSERT_EQ(some[c], row[static_cast<size_t>(few[c])]);
  }
}

// --ease-min-support: items fewer users reviewed are out of the model, as
// if their column were empty: they score 0 and add nothing to others.
TEST(Ease, MinSupportLeavesOutRareItems) {
  const Interactions x = Toy();  // item 4 has 2 users, the others 3
  RecommendOptions o;
  o.ease_lambda = 2.0;
  o.ease_min_support = 3;
  auto model = TrainEase(x, o, 1);
  Eigen::MatrixXd xm = Dense(x);
  xm.col(4).setZero();
  const Eigen::MatrixXd ref = EaseReference(xm, 2.0);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(model->Score(u, i), ref(u, i), 1e-12) << u << " " << i;
    EXPECT_EQ(model->Score(u, 4), 0.0);
    for (const auto& [j, c] : model->Contributions(u, 0)) EXPECT_NE(j, 4);
  }
  o.ease_min_support = 4;  // nothing left: every score 0
  auto none = TrainEase(x, o, 1);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(none->Score(u, i), 0.0);
  }
}

// The toy's values with the decay of each entry (recency: the query a
// user's scores start from).
Interactions Decayed(Interactions x) {
  x.query = x.rows;
  for (size_t u = 0; u < x.query.size(); ++u) {
    double d = 1.0;
    for (auto& entry : x.query[u]) {  // each older entry half the next
      entry.second *= d;
      d *= 0.5;
    }
  }
  return x;
}

// The model is trained on the undecayed values; a user's scores are their
// decayed values times B. --ease-dropout adds dropout / (1 - dropout) x the
// diagonal of X^T X to the penalty.
TEST(Ease, TrainsOnTheValuesAndScoresTheDecayedQuery) {
  const Interactions x = Decayed(Toy());
  RecommendOptions o;
  o.ease_lambda = 2.0;
  o.ease_dropout = 0.2;
  auto model = TrainEase(x, o, 1);
  const Eigen::MatrixXd xm = Dense(x);
  const Eigen::MatrixXd g = xm.transpose() * xm;
  Eigen::MatrixXd penalty = 2.0 * Eigen::MatrixXd::Identity(5, 5);
  penalty.diagonal() += 0.25 * g.diagonal();
  const Eigen::MatrixXd p = (g + penalty).inverse();
  const Eigen::MatrixXd b = Eigen::MatrixXd::Identity(5, 5) - p * p.diagonal().cwiseInverse().asDiagonal();
  Interactions q;
  q.items = 5;
  q.rows = x.query;
  const Eigen::MatrixXd scores = Dense(q) * b;
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(model->Score(u, i), scores(u, i), 1e-12) << u << " " << i;
      EXPECT_LE(std::fabs(model->Score(u, i)), model->Bound() + 1e-12);
    }
    double sum = 0;
    for (const auto& [j, c] : model->Contributions(u, 1)) sum += c;
    EXPECT_NEAR(sum, scores(u, 1), 1e-12);
  }
  EXPECT_NE(scores(1, 1), EaseReference(xm, 2.0)(1, 1));  // the decay and the dropout change scores
}

// --ease-session-weight w: B + w |B| / |L| L (Frobenius norms), L summing
// over each user's pairs of reviews of two different items with times
// v_ui v_uj 0.5^(n / half-life), n the user's reviews strictly between the
// two in time (0 at the same time). L computed by hand below.
TEST(Ease, SessionTermAddsPairsOfItemsReviewedCloseInTime) {
  Interactions x = Toy();
  x.timelines.resize(7);
  x.timelines[0] = {{10, 0}, {20, 1}};        // (0, 1): 1 x 0.5
  x.timelines[1] = {{5, 0}, {5, 2}, {9, 3}};  // (0, 2) same time: 1; (0, 3), (2, 3): -1 each
  x.timelines[2] = {{1, 1}};                  // item 2 has no time: no pair
  x.timelines[3] = {{1, 0}, {2, 1}, {3, 4}};  // (0, 1): 0.5; (1, 4): 1; (0, 4): 0.5 x 0.5^(1 / h)
  RecommendOptions o;
  o.ease_lambda = 2.0;
  o.ease_session_weight = 0.7;
  for (const double half_life : {1.0, 2.0}) {
    o.ease_session_half_life = half_life;
    auto model = TrainEase(x, o, 1);
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(5, 5);
    const auto pair = [&l](int i, int j, double w) {
      l(i, j) += w;
      l(j, i) += w;
    };
    pair(0, 1, 0.5 + 0.5);
    pair(0, 2, 1.0);
    pair(0, 3, -1.0);
    pair(2, 3, -1.0);
    pair(1, 4, 1.0);
    pair(0, 4, 0.5 * std::pow(0.5, 1.0 / half_life));
    const Eigen::MatrixXd xm = Dense(x);
    const Eigen::MatrixXd p = (xm.transpose() * xm + 2.0 * Eigen::MatrixXd::Identity(5, 5)).inverse();
    Eigen::MatrixXd b = Eigen::MatrixXd::Identity(5, 5) - p * p.diagonal().cwiseInverse().asDiagonal();
    b.diagonal().setZero();
    b += 0.7 * b.norm() / l.norm() * l;
    const Eigen::MatrixXd scores = xm * b;
    SCOPED_TRACE(half_life);
    ExpectScoresOf(*model, scores, 4);
    EXPECT_GT(std::fabs(scores(1, 4) - EaseReference(xm, 2.0)(1, 4)), 1e-3);  // the term changes scores
  }
  // Without times (or at weight 0) the model is plain EASE.
  x.timelines.clear();
  auto plain = TrainEase(x, o, 1);
  const Eigen::MatrixXd ref = EaseReference(Dense(x), 2.0);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(plain->Score(u, i), ref(u, i), 1e-12);
  }
}

// --ease-tag-weight t: G = X^T X + t F^T F + lambda I, F the tags x items
// indicator matrix (each tag a pseudo-user who reviewed its items); dropout
// scales only X^T X's diagonal. Items without tags, and models without tags
// or at t = 0, are plain EASE.
TEST(Ease, TagTermCountsEachTagAsAUserOfItsItems) {
  Interactions x = Toy();
  const std::vector<std::vector<int>> tags = {{0}, {0, 2}, {2}, {}, {0, 1}};  // tag 1 on item 4 alone
  x.item_tags = &tags;
  Eigen::MatrixXd f = Eigen::MatrixXd::Zero(3, 5);
  for (int i = 0; i < 5; ++i) {
    for (const int t : tags[static_cast<size_t>(i)]) f(t, i) = 1;
  }
  const Eigen::MatrixXd xm = Dense(x);
  RecommendOptions o;
  o.ease_lambda = 2.0;
  for (const double dropout : {0.0, 0.5}) {
    o.ease_dropout = dropout;
    o.ease_tag_weight = 0.8;
    auto model = TrainEase(x, o, 1);
    Eigen::MatrixXd g = xm.transpose() * xm;
    g.diagonal() *= 1.0 + dropout / (1.0 - dropout);
    g += 0.8 * f.transpose() * f + 2.0 * Eigen::MatrixXd::Identity(5, 5);
    const Eigen::MatrixXd p = g.inverse();
    const Eigen::MatrixXd b = Eigen::MatrixXd::Identity(5, 5) - p * p.diagonal().cwiseInverse().asDiagonal();
    SCOPED_TRACE(dropout);
    ExpectScoresOf(*model, xm * b, 1);
    o.ease_tag_weight = 0;
    auto plain = TrainEase(x, o, 1);
    EXPECT_GT(std::fabs(model->Score(5, 0) - plain->Score(5, 0)), 1e-3);  // the term changes scores
  }
  // Weight 0, or no tags: plain EASE.
  o.ease_dropout = 0;
  const Eigen::MatrixXd ref = EaseReference(xm, 2.0);
  x.item_tags = nullptr;
  o.ease_tag_weight = 0.8;
  auto untagged = TrainEase(x, o, 1);
  x.item_tags = &tags;
  o.ease_tag_weight = 0;
  auto off = TrainEase(x, o, 1);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(untagged->Score(u, i), ref(u, i), 1e-12);
      EXPECT_EQ(off->Score(u, i), untagged->Score(u, i));
    }
  }
}

// Items left out by --ease-min-support bring no tags in: the model of the
// items that stay is the one built from their columns and tags alone.
TEST(Ease, TagTermReadsOnlyTheItemsInTheModel) {
  Interactions x = Toy();
  x.rows[3].pop_back();  // item 4: one user left
  const std::vector<std::vector<int>> tags = {{0}, {1}, {0}, {1}, {0, 1}};
  x.item_tags = &tags;
  RecommendOptions o;
  o.ease_lambda = 2.0;
  o.ease_min_support = 2;
  o.ease_tag_weight = 1.5;
  auto model = TrainEase(x, o, 1);
  // Reference on items 0-3.
  const Eigen::MatrixXd xm = Dense(x).leftCols(4);
  Eigen::MatrixXd f(2, 4);
  f << 1, 0, 1, 0, 0, 1, 0, 1;
  const Eigen::MatrixXd p =
      (xm.transpose() * xm + 1.5 * f.transpose() * f + 2.0 * Eigen::MatrixXd::Identity(4, 4)).inverse();
  const Eigen::MatrixXd b = Eigen::MatrixXd::Identity(4, 4) - p * p.diagonal().cwiseInverse().asDiagonal();
  const Eigen::MatrixXd scores = xm * b;
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(model->Score(u, i), scores(u, i), 1e-12) << u << " " << i;
    EXPECT_EQ(model->Score(u, 4), 0.0);
  }
}

// With the tag term an item nobody reviewed joins the model through its tags
// (its column of G is its tags alone) when it shares a tag with a reviewed
// item in the model; one that shares none, and every one at weight 0 or when
// they would take the model past --ease-max-items, scores 0.
TEST(Ease, TagTermBringsInItemsNobodyReviewed) {
  Interactions x = Toy();
  x.items = 7;  // items 5 and 6: no reviews
  const std::vector<std::vector<int>> tags = {{0}, {0, 2}, {2}, {}, {0, 1}, {0, 2}, {3}};
  x.item_tags = &tags;
  RecommendOptions o;
  o.ease_lambda = 2.0;
  o.ease_tag_weight = 0.8;
  // Reference on items 0-5 (item 6's tag 3 is carried by no reviewed item).
  const auto reference = [&](int n) {
    const Eigen::MatrixXd xm = Dense(x).leftCols(n);
    Eigen::MatrixXd f = Eigen::MatrixXd::Zero(4, n);
    for (int i = 0; i < n; ++i) {
      for (const int t : tags[static_cast<size_t>(i)]) f(t, i) = 1;
    }
    const Eigen::MatrixXd p =
        (xm.transpose() * xm + 0.8 * f.transpose() * f + 2.0 * Eigen::MatrixXd::Identity(n, n)).inverse();
    const Eigen::MatrixXd b = Eigen::MatrixXd::Identity(n, n) - p * p.diagonal().cwiseInverse().asDiagonal();
    return Eigen::MatrixXd(xm * b);
  };
  const Eigen::MatrixXd six = reference(6);
  auto model = TrainEase(x, o, 1);
  ExpectScoresOf(*model, six, 5);
  EXPECT_GT(six(0, 5), 1e-3);  // user 0 reviewed items 0 and 1, which share tags 0 and 2 with item 5
  for (int u = 0; u < 7; ++u) EXPECT_EQ(model->Score(u, 6), 0.0);
  // Past --ease-max-items: the reviewed items' model alone.
  o.ease_max_items = 5;
  auto capped = TrainEase(x, o, 1);
  const Eigen::MatrixXd five = reference(5);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(capped->Score(u, i), five(u, i), 1e-12);
    EXPECT_EQ(capped->Score(u, 5), 0.0);
  }
  // Weight 0: plain EASE, nothing joins.
  o.ease_max_items = 20000;
  o.ease_tag_weight = 0;
  auto off = TrainEase(x, o, 1);
  for (int u = 0; u < 7; ++u) EXPECT_EQ(off->Score(u, 5), 0.0);
  // Reviewed, but with feelings the rows leave out (0, or dislikes at
  // --negative-weight 0): not new, so it stays out.
  o.ease_tag_weight = 0.8;
  x.reviewers = {3, 3, 3, 3, 2, 1, 0};
  auto reviewed = TrainEase(x, o, 1);
  for (int u = 0; u < 7; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(reviewed->Score(u, i), five(u, i), 1e-12);
    EXPECT_EQ(reviewed->Score(u, 5), 0.0);
  }
}

// A pair further apart than 10 half-lives is left out: with 10 reviews in
// between (half-life 1) the first and last items pair (weight 2^-10), with
// 11 they do not. The first item's contribution to the last one's score is
// B's entry plus the session term's.
TEST(Ease, SessionPairsEndTenHalfLivesApart) {
  for (const int between : {10, 11}) {
    Interactions x;
    x.items = between + 2;
    x.rows.resize(2);
    x.timelines.resize(2);
    for (int k = 0; k < between + 2; ++k) {
      x.rows[0].emplace_back(k, 1.0);
      x.timelines[0].emplace_back(k, k);
    }
    x.rows[1] = {{0, 1.0}, {1, 1.0}};
    RecommendOptions o;
    o.ease_lambda = 1.0;
    o.ease_session_weight = 1.0;
    auto with = TrainEase(x, o, 1);
    o.ease_session_weight = 0;
    auto without = TrainEase(x, o, 1);
    const auto first = [last = between + 1](const CollaborativeModel& m) {
      for (const auto& [j, v] : m.Contributions(0, last)) {
        if (j == 0) return v;
      }
      return 0.0;
    };
    if (between == 10) {
      EXPECT_GT(first(*with) - first(*without), 0);
    } else {
      EXPECT_EQ(first(*with), first(*without));
    }
  }
}

TEST(Ease, RefusesCataloguesBeyondTheLimit) {
  RecommendOptions o;
  o.ease_max_items = 3;
  try {
    TrainEase(Toy(), o, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("--ease-max-items 3"), std::string::npos) << e.what();
  }
}

// x_u = (Y^T C_u Y + lambda I)^-1 Y^T C_u p_u for every user, with c = 1 +
// alpha |v| and p = 1 for v > 0, else 0 (a dislike is a confident 0), over
// all items (v: the users x items values the last user solve read); scores
// are x_u . y_i, and explanations add up to them (Hu et al. 2008, section 5).
void ExpectUsersSolveTheirNormalEquations(const CollaborativeModel& model, const Eigen::MatrixXd& v,
                                          const RecommendOptions& o) {
  const auto [users, items] = AlsFactors(model);
  const Eigen::Index f = items.cols();
  for (Eigen::Index u = 0; u < v.rows(); ++u) {
    Eigen::VectorXd c = (1.0 + o.als_alpha * v.row(u).transpose().cwiseAbs().array()).matrix();
    Eigen::VectorXd p = (v.row(u).transpose().array() > 0).cast<double>().matrix();
    Eigen::MatrixXd a =
        items.transpose() * c.asDiagonal() * items + o.als_regularization * Eigen::MatrixXd::Identity(f, f);
    Eigen::VectorXd want = a.ldlt().solve(items.transpose() * c.asDiagonal() * p);
    EXPECT_LT((want - users.row(u).transpose()).norm(), 1e-10) << "user " << u;
    for (int i = 0; i < v.cols(); ++i) {
      const int user = static_cast<int>(u);
      EXPECT_NEAR(model.Score(user, i), users.row(u).dot(items.row(i)), 1e-12);
      double sum = 0;
      for (const auto& [j, contribution] : model.Contributions(user, i)) sum += contribution;
      EXPECT_NEAR(sum, model.Score(user, i), 1e-10) << u << " " << i;
    }
  }
}

// ALS options for the toy matrix: 3 factors, alpha 4.
RecommendOptions ToyAls(int iterations) {
  RecommendOptions o;
  o.als_factors = 3;
  o.als_iterations = iterations;
  o.als_alpha = 4.0;
  return o;
}

TEST(Als, UserFactorsSolveTheirNormalEquationsAndExplanationsAddUp) {
  const Interactions x = Toy();
  RecommendOptions o = ToyAls(6);
  o.als_regularization = 0.3;
  auto model = TrainAls(x, o, 2);
  const auto [users, items] = AlsFactors(*model);
  ASSERT_EQ(users.rows(), 7);
  ASSERT_EQ(items.cols(), 3);
  // The last half-sweep solved the users against the final item factors.
  ExpectUsersSolveTheirNormalEquations(*model, Dense(x), o);
  EXPECT_EQ(model->Score(6, 0), 0.0);  // no history: no factors
}

// With a decayed query, the sweeps train on the values and the last user
// solve reads the query: each user's factors solve their normal equations
// with the decayed confidences c = 1 + alpha |v d| (the target p unchanged).
TEST(Als, LastUserSolveReadsTheDecayedQuery) {
  const Interactions x = Decayed(Toy());
  RecommendOptions o = ToyAls(4);
  auto model = TrainAls(x, o, 1);
  Interactions q;
  q.items = 5;
  q.rows = x.query;
  ExpectUsersSolveTheirNormalEquations(*model, Dense(q), o);
  // The item factors are the undecayed model's: the same as training
  // without a query up to the last user solve.
  Interactions plain = Toy();
  EXPECT_EQ((AlsFactors(*model).second - AlsFactors(*TrainAls(plain, o, 1)).second).norm(), 0.0);
}

// --als-tag-weight t: each tag carried by an item is a pseudo-user who
// reviewed every item carrying it with value t, after the users: the model
// is the one trained on those rows appended to the users' (the same bits),
// less the pseudo-users' factors. An item nobody reviewed gets factors from
// its tags, so users are scored for it; at t = 0, or without tags, plain ALS.
TEST(Als, TagTermAddsEachTagAsAPseudoUser) {
  Interactions x = Toy();
  x.items = 6;  // item 5: nobody reviewed it
  const std::vector<std::vector<int>> tags = {{0}, {0, 2}, {1}, {}, {2}, {0, 1}};
  x.item_tags = &tags;
  RecommendOptions o = ToyAls(5);
  o.als_tag_weight = 0.7;
  auto model = TrainAls(x, o, 2);
  Interactions augmented = Toy();
  augmented.items = 6;
  augmented.rows.push_back({{0, 0.7}, {1, 0.7}, {5, 0.7}});  // tag 0
  augmented.rows.push_back({{2, 0.7}, {5, 0.7}});            // tag 1
  augmented.rows.push_back({{1, 0.7}, {4, 0.7}});            // tag 2
  o.als_tag_weight = 0;
  auto reference = TrainAls(augmented, o, 1);
  const auto [users, items] = AlsFactors(*model);
  const auto [ref_users, ref_items] = AlsFactors(*reference);
  ASSERT_EQ(users.rows(), 7);
  ASSERT_EQ(ref_users.rows(), 10);
  EXPECT_EQ((items - ref_items).norm(), 0.0);
  EXPECT_EQ((users - ref_users.topRows(7)).norm(), 0.0);
  Eigen::MatrixXd v = Eigen::MatrixXd::Zero(7, 6);
  v.leftCols(5) = Dense(Toy());
  ExpectUsersSolveTheirNormalEquations(*model, v, o);
  // The new item is scored, above zero for a user who liked items sharing its
  // tags (user 0: items 0 and 1, tag 0).
  EXPECT_GT(items.row(5).norm(), 0.0);
  EXPECT_GT(model->Score(0, 5), 0.0);
  // Weight 0, or no tags: plain ALS, where the item nobody reviewed scores 0.
  auto plain = TrainAls(x, o, 1);
  x.item_tags = nullptr;
  o.als_tag_weight = 0.7;
  auto untagged = TrainAls(x, o, 1);
  EXPECT_EQ((AlsFactors(*plain).second - AlsFactors(*untagged).second).norm(), 0.0);
  EXPECT_EQ((AlsFactors(*plain).first - AlsFactors(*untagged).first).norm(), 0.0);
  EXPECT_EQ(plain->Score(0, 5), 0.0);
}

TEST(Als, ConjugateGradientStepsApproachTheExactSolves) {
  // f = 4 factors: conjugate gradients solve each 4 x 4 system in 4 steps up
  // to rounding, so 8 steps per sweep must land where exact solves do; 1
  // step per sweep ends elsewhere, yet its users still solve their normal
  // equations exactly (the last user solve is exact), so its explanations add
  // up like the exact model's.
  const Interactions x = RandomInteractions(40, 30, 4, 11);
  RecommendOptions o;
  o.als_factors = 4;
  o.als_iterations = 5;
  o.als_cg_steps = 0;
  auto exact = TrainAls(x, o, 1);
  o.als_cg_steps = 8;
  auto converged = TrainAls(x, o, 1);
  o.als_cg_steps = 1;
  auto one_step = TrainAls(x, o, 1);
  double largest = 0, moved = 0;
  for (int u = 0; u < 40; ++u) {
    for (int i = 0; i < 30; ++i) {
      largest = std::max(largest, std::fabs(exact->Score(u, i)));
      EXPECT_NEAR(converged->Score(u, i), exact->Score(u, i), 1e-9) << u << " " << i;
      moved = std::max(moved, std::fabs(one_step->Score(u, i) - exact->Score(u, i)));
      double sum = 0;
      for (const auto& [j, contribution] : one_step->Contributions(u, i)) sum += contribution;
      EXPECT_NEAR(sum, one_step->Score(u, i), 1e-10) << u << " " << i;
    }
  }
  EXPECT_GT(largest, 0.1);
  EXPECT_GT(moved, 1e-6);  // one step is not an exact solve
}

TEST(Collaborative, IdenticalAcrossThreadCounts) {
  const Interactions x = RandomInteractions(200, 60, 7, 5);
  RecommendOptions o;  // ALS: conjugate-gradient sweeps (the default)
  auto a1 = TrainAls(x, o, 1), a3 = TrainAls(x, o, 3);
  auto e1 = TrainEase(x, o, 1), e3 = TrainEase(x, o, 3);
  o.als_cg_steps = 0;  // ALS: exact solves
  auto x1 = TrainAls(x, o, 1), x3 = TrainAls(x, o, 3);
  for (int u = 0; u < 200; u += 7) {
    for (int i = 0; i < 60; ++i) {
      EXPECT_EQ(a1->Score(u, i), a3->Score(u, i));
      EXPECT_EQ(e1->Score(u, i), e3->Score(u, i));
      EXPECT_EQ(x1->Score(u, i), x3->Score(u, i));
    }
  }
}

}  // namespace
}  // namespace avrec
