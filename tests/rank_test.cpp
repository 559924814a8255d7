// The top-k kernel against a naive reference, and the recommendation rules
// (exclusion, allow/deny lists, cold start, sharding, determinism).
#include "avrec/rank.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <tuple>

#include "avrec/features.h"
#include "avrec/output.h"
#include "avrec/recommend.h"
#include "rank/avoid.h"
#include "rank/dot_kernel.h"
#include "rank/knn.h"
#include "test_util.h"

namespace avrec {
namespace {

RowMatrix Random(int rows, int cols, std::mt19937* rng) {
  std::normal_distribution<float> g(0, 1);
  RowMatrix m(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) m(r, c) = g(*rng);
  }
  return m;
}

// Naive reference: every pair in double, full sort by (score desc, item asc).
std::vector<Scored> Naive(const RowMatrix& u, const RowMatrix& x, int user, int k, const std::vector<int>& excluded) {
  std::vector<Scored> all;
  const double nu = u.row(user).cast<double>().norm();
  for (int i = 0; i < x.rows(); ++i) {
    if (std::binary_search(excluded.begin(), excluded.end(), i)) continue;
    const double nx = x.row(i).cast<double>().norm();
    double dot = 0;
    for (int j = 0; j < u.cols(); ++j) dot += static_cast<double>(u(user, j)) * x(i, j);
    all.push_back({i, nu > 0 && nx > 0 ? dot / (nu * nx) : 0.0});
  }
  std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  if (static_cast<int>(all.size()) > k) all.resize(static_cast<size_t>(k));
  return all;
}

std::vector<std::vector<Scored>> RunKernel(const ScoreSource& src, int k, int block, int threads,
                                           const std::vector<std::vector<int>>& excluded) {
  std::vector<std::vector<Scored>> out(static_cast<size_t>(src.users()));
  TopKOptions o;
  o.k = k;
  o.block_users = block;
  o.threads = threads;
  int last = -1;
  SelectTopK(
      src, o, [&](int u) -> const std::vector<int>& { return excluded[static_cast<size_t>(u)]; },
      [&](int u, const std::vector<Scored>& best) {
        EXPECT_EQ(u, last + 1);  // sinks come in user order
        last = u;
        out[static_cast<size_t>(u)] = best;
      });
  EXPECT_EQ(last, src.users() - 1);
  return out;
}

TEST(TopK, MatchesNaiveReferenceOnRandomData) {
  std::mt19937 rng(7);
  RowMatrix users = Random(97, 24, &rng);
  RowMatrix items = Random(501, 24, &rng);
  items.row(10) = items.row(20);  // exact ties: broken by item index
  items.row(30) = items.row(20) * 2.0f;
  items.row(40).setZero();  // a zero item: similarity 0
  users.row(5).setZero();   // a zero user: every score 0, order by index
  std::vector<std::vector<int>> excluded(97);
  for (int u = 0; u < 97; u += 3) excluded[static_cast<size_t>(u)] = {1, 2, 3, 20, 400};
  CosineSource src(users, items);
  auto got = RunKernel(src, 10, 16, 2, excluded);
  for (int u = 0; u < 97; ++u) {
    auto want = Naive(users, items, u, 10, excluded[static_cast<size_t>(u)]);
    ASSERT_EQ(got[static_cast<size_t>(u)].size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(got[static_cast<size_t>(u)][r].item, want[r].item) << "user " << u << " rank " << r;
      EXPECT_NEAR(got[static_cast<size_t>(u)][r].score, want[r].score, 1e-9);
    }
  }
}

// Text formatted on the workers arrives in user order, the same whatever the
// blocks and threads, and equal to the per-user sink's lists.
TEST(TopK, FormattedTextMatchesTheSinkInUserOrder) {
  std::mt19937 rng(13);
  RowMatrix users = Random(101, 8, &rng);
  RowMatrix items = Random(300, 8, &rng);
  std::vector<std::vector<int>> excluded(101);
  excluded[4] = {0, 1, 2};
  CosineSource src(users, items);
  const auto line = [](int u, const std::vector<Scored>& best) {
    std::string s = std::to_string(u) + ":";
    for (const Scored& x : best) s += " " + std::to_string(x.item) + "=" + std::to_string(x.score);
    return s + "\n";
  };
  std::string want;
  const auto lists = RunKernel(src, 7, 256, 1, excluded);
  for (size_t u = 0; u < lists.size(); ++u) want += line(static_cast<int>(u), lists[u]);
  for (auto [block, threads] : std::vector<std::pair<int, int>>{{1, 1}, {7, 2}, {16, 3}, {500, 2}}) {
    TopKOptions o;
    o.k = 7;
    o.block_users = block;
    o.threads = threads;
    std::string got;
    SelectTopKText(
        src, o, [&](int u) -> const std::vector<int>& { return excluded[static_cast<size_t>(u)]; },
        [&](int u, const std::vector<Scored>& best, std::string* out) { *out += line(u, best); },
        [&](const std::string& text) { got += text; });
    EXPECT_EQ(got, want) << "block " << block << " threads " << threads;
  }
}

// Few distinct item vectors in a large catalogue: long runs of exact ties,
// which the candidate buffer must break by item index as the reference does.
TEST(TopK, ManyTiesInALargeCatalogueMatchTheReference) {
  std::mt19937 rng(5);
  RowMatrix users = Random(20, 16, &rng);
  RowMatrix shapes = Random(4, 16, &rng);
  RowMatrix items(3001, 16);
  for (int i = 0; i < items.rows(); ++i) items.row(i) = shapes.row((i * 7) % 4);
  std::vector<std::vector<int>> excluded(20);
  excluded[3] = {0, 7, 8, 1000, 3000};
  CosineSource src(users, items);
  for (int k : {1, 10, 100}) {
    auto got = RunKernel(src, k, 8, 2, excluded);
    for (int u = 0; u < 20; ++u) {
      auto want = Naive(users, items, u, k, excluded[static_cast<size_t>(u)]);
      ASSERT_EQ(got[static_cast<size_t>(u)].size(), want.size());
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_EQ(got[static_cast<size_t>(u)][r].item, want[r].item) << "k " << k << " user " << u << " rank " << r;
    }
  }
}

// The AVX-512 kernel (where this CPU has it) against double dot products, on
// shapes that leave partial tiles and panels, without writing past its rows.
TEST(DotKernel, Avx512MatchesDoubleProductsOnRaggedShapes) {
  if (kernel::ChooseIsa() != kernel::Isa::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU (or AVREC_ISA=avx2)";
  std::mt19937 rng(3);
  for (int d : {0, 1, 5, 64, 130}) {
    for (int n : {1, 15, 16, 17, 33, 100}) {
      for (int rows : {1, 7, 8, 9, 17}) {
        RowMatrix a = Random(rows, d, &rng), b = Random(n, d, &rng);
        const kernel::PackedItems packed = kernel::Pack(b);
        std::vector<float> out(static_cast<size_t>(rows) * n + 16, -7.0f);
        kernel::DotAvx512(a.data(), rows, packed, out.data());
        for (int r = 0; r < rows; ++r) {
          for (int i = 0; i < n; ++i) {
            double dot = 0, mag = 0;
            for (int j = 0; j < d; ++j) {
              dot += static_cast<double>(a(r, j)) * b(i, j);
              mag += std::fabs(static_cast<double>(a(r, j)) * b(i, j));
            }
            EXPECT_NEAR(out[static_cast<size_t>(r) * n + i], dot, (d + 1) * mag * std::ldexp(1.0, -23) + 1e-30)
                << "d " << d << " n " << n << " rows " << rows;
          }
        }
        for (size_t t = static_cast<size_t>(rows) * n; t < out.size(); ++t)
          ASSERT_EQ(out[t], -7.0f) << "wrote past the end";
      }
    }
  }
}

TEST(TopK, ResultsDoNotDependOnBlocksOrThreads) {
  std::mt19937 rng(11);
  RowMatrix users = Random(300, 64, &rng);
  RowMatrix items = Random(2000, 64, &rng);
  std::vector<std::vector<int>> excluded(300);
  CosineSource src(users, items);
  auto a = RunKernel(src, 25, 256, 1, excluded);
  for (auto [block, threads] : std::vector<std::pair<int, int>>{{1, 1}, {7, 2}, {64, 3}, {1000, 2}}) {
    auto b = RunKernel(src, 25, block, threads, excluded);
    for (size_t u = 0; u < a.size(); ++u) {
      ASSERT_EQ(a[u].size(), b[u].size());
      for (size_t r = 0; r < a[u].size(); ++r) {
        EXPECT_EQ(a[u][r].item, b[u][r].item);
        EXPECT_EQ(a[u][r].score, b[u][r].score);  // bit-identical
      }
    }
  }
}

TEST(TopK, NearTiesAtTheBoundaryAreExact) {
  // Many items within float rounding of each other: the exact rescoring
  // must still give the naive order.
  std::mt19937 rng(3);
  RowMatrix users = Random(20, 32, &rng);
  RowMatrix base = Random(1, 32, &rng);
  RowMatrix items(400, 32);
  std::normal_distribution<float> tiny(0, 1e-6f);
  for (int i = 0; i < 400; ++i) {
    for (int c = 0; c < 32; ++c) items(i, c) = base(0, c) + tiny(rng);
  }
  std::vector<std::vector<int>> excluded(20);
  CosineSource src(users, items);
  auto got = RunKernel(src, 5, 8, 2, excluded);
  for (int u = 0; u < 20; ++u) {
    auto want = Naive(users, items, u, 5, {});
    for (size_t r = 0; r < want.size(); ++r) EXPECT_EQ(got[static_cast<size_t>(u)][r].item, want[r].item);
  }
}

TEST(TopK, KLargerThanTheCatalogue) {
  std::mt19937 rng(5);
  RowMatrix users = Random(3, 4, &rng), items = Random(6, 4, &rng);
  std::vector<std::vector<int>> excluded = {{0, 1}, {}, {0, 1, 2, 3, 4, 5}};
  CosineSource src(users, items);
  auto got = RunKernel(src, 10, 2, 1, excluded);
  EXPECT_EQ(got[0].size(), 4u);
  EXPECT_EQ(got[1].size(), 6u);
  EXPECT_EQ(got[2].size(), 0u);
}

TEST(TopK, TinyAndHugeVectorsKeepTheirDirection) {
  // 1e-40 is a subnormal float: 1 / its norm (1e40) is beyond a float's
  // range, and scaling by it in float turned the row into inf and NaN, which
  // ranked nothing. Cosine is the same at every length.
  RowMatrix users(3, 2), items(3, 2);
  users << 1e-40f, 0.0f, 3e38f, 3e38f, 0.0f, 1.0f;
  items << 1.0f, 0.0f, 1e-40f, 1e-40f, 1e38f, 3e38f;  // no ties
  CosineSource src(users, items);
  auto got = RunKernel(src, 3, 2, 1, std::vector<std::vector<int>>(3));
  for (int u = 0; u < 3; ++u) {
    auto want = Naive(users, items, u, 3, {});
    ASSERT_EQ(got[static_cast<size_t>(u)].size(), 3u) << "user " << u;
    for (size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(got[static_cast<size_t>(u)][r].item, want[r].item) << "user " << u << " rank " << r;
      EXPECT_NEAR(got[static_cast<size_t>(u)][r].score, want[r].score, 1e-6) << "user " << u << " rank " << r;
    }
  }
  EXPECT_NEAR(got[0][0].score, 1.0, 1e-6);  // (1e-40, 0) against (1, 0)
}

// ---- recommendation rules on a small catalogue ----------------------------------

struct World {
  ItemTable table;
  ItemMatrix items;
  std::vector<Review> reviews;
  ReviewScores sentiment;
};

World MakeWorld() {
  World w;
  w.table.numeric_columns = {{"audio.tempo", "audio"}, {"audio.energy", "audio"}, {"visual.brightness", "visual"}};
  std::mt19937 rng(17);
  std::normal_distribution<double> g(0, 1);
  for (int i = 0; i < 40; ++i) {
    Item it;
    it.item_id = "i" + std::to_string(100 + i);
    it.numeric = {g(rng), g(rng), g(rng)};
    w.table.items.push_back(it);
  }
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  int rid = 0;
  for (int u = 0; u < 30; ++u) {
    for (int k = 0; k < 6; ++k) {
      Review r;
      r.review_id = "r" + std::to_string(rid++);
      r.user_id = "user" + std::to_string(u);
      r.item_id = "i" + std::to_string(100 + (u * 7 + k * 5) % 40);
      r.rating = 1 + (u + k) % 5;
      r.timestamp = 1700000000 + rid;
      w.reviews.push_back(r);
      w.sentiment[r.review_id] = ((u + 2 * k) % 5 - 2) / 2.0;
    }
  }
  return w;
}

std::vector<UserRecommendations> RunRec(const World& w, RecommendOptions o, std::vector<std::string> extra = {},
                                        const ProfileOptions& po = ProfileOptions{}) {
  const Profiles profiles = BuildProfiles(w.reviews, &w.sentiment, w.items, ProfileOptionsFor(o.algorithm, po), extra);
  RecommendInputs in;
  in.items = &w.items;
  in.profiles = &profiles;
  std::vector<UserRecommendations> out;
  Recommend(in, o, [&](const UserRecommendations& u) { out.push_back(u); });
  return out;
}

std::set<std::string> Seen(const World& w, const std::string& user) {
  std::set<std::string> s;
  for (const auto& r : w.reviews) {
    if (r.user_id == user) s.insert(r.item_id);
  }
  return s;
}

TEST(Recommend, SeenItemsExcludedUnlessAsked) {
  World w = MakeWorld();
  for (const char* algo : {"sentiment-content", "content", "popular", "item-knn", "hybrid"}) {
    RecommendOptions o;
    o.algorithm = ParseAlgorithm(algo);
    o.top_n = 8;
    auto recs = RunRec(w, o);
    ASSERT_EQ(recs.size(), 30u) << algo;
    for (const auto& u : recs) {
      auto seen = Seen(w, u.user_id);
      EXPECT_EQ(u.items.size(), 8u);
      for (const auto& it : u.items) EXPECT_EQ(seen.count(it.item_id), 0u) << algo << " " << u.user_id;
      for (size_t r = 1; r < u.items.size(); ++r) EXPECT_GE(u.items[r - 1].score, u.items[r].score);
    }
  }
  RecommendOptions o;
  o.include_seen = true;
  o.top_n = 40;
  auto recs = RunRec(w, o);
  EXPECT_EQ(recs[0].items.size(), 40u);
}

TEST(Recommend, AllowAndDenyLists) {
  World w = MakeWorld();
  RecommendOptions o;
  o.allow = {"i100", "i101", "i102", "i103", "i104", "i105"};
  o.deny = {"i101"};
  auto recs = RunRec(w, o);
  for (const auto& u : recs) {
    for (const auto& it : u.items) {
      EXPECT_NE(it.item_id, "i101");
      EXPECT_TRUE(std::find(o.allow.begin(), o.allow.end(), it.item_id) != o.allow.end());
    }
  }
}

TEST(Recommend, ColdStartUsersGetPopularityAndAreFlagged) {
  World w = MakeWorld();
  RecommendOptions o;
  o.top_n = 5;
  auto recs = RunRec(w, o, {"newcomer"});
  auto it = std::find_if(recs.begin(), recs.end(), [](const auto& u) { return u.user_id == "newcomer"; });
  ASSERT_NE(it, recs.end());
  EXPECT_TRUE(it->cold_start);
  EXPECT_EQ(it->history, 0);
  ASSERT_EQ(it->items.size(), 5u);
  EXPECT_EQ(it->items[0].reasons.at(0).kind, "popular");
  // Popularity order: reviewer counts never increase down the list.
  for (size_t r = 1; r < it->items.size(); ++r) {
    EXPECT_GE(it->items[r - 1].reasons[0].value, it->items[r].reasons[0].value);
  }
  // Everyone else has a profile.
  for (const auto& u : recs) {
    if (u.user_id != "newcomer") {
      EXPECT_FALSE(u.cold_start);
    }
  }
}

// A user whose only item nobody else reviewed gives item-knn and EASE
// nothing to go on, nor does one who disliked all they reviewed give ALS
// (their factors solve to 0): every score would be 0, ranking the catalogue
// by item id. They get the cold-start ranking instead, flagged.
TEST(Recommend, UsersWithoutCollaborativeSignalGetPopularity) {
  World w = MakeWorld();
  Item lonely;
  lonely.item_id = "i999";
  lonely.numeric = {0.5, -0.5, 0.25};
  w.table.items.push_back(lonely);
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  Review r;
  r.review_id = "lonely-review";
  r.user_id = "loner";
  r.item_id = "i999";
  r.rating = 5;
  r.timestamp = 1700000000;
  w.reviews.push_back(r);
  w.sentiment[r.review_id] = 0.9;
  r.review_id = "hating-review";
  r.user_id = "hater";
  r.item_id = "i100";
  r.rating = 1;
  w.reviews.push_back(r);
  w.sentiment[r.review_id] = -0.9;
  const auto find = [](const std::vector<UserRecommendations>& recs, const std::string& id) {
    return *std::find_if(recs.begin(), recs.end(), [&](const auto& u) { return u.user_id == id; });
  };
  for (const auto& [algo, who, own] : {std::tuple{"item-knn", "loner", "i999"}, std::tuple{"ease", "loner", "i999"},
                                       std::tuple{"als", "hater", "i100"}}) {
    RecommendOptions o;
    o.algorithm = ParseAlgorithm(algo);
    o.top_n = 6;
    const auto recs = RunRec(w, o, {"newcomer"});
    const UserRecommendations loner = find(recs, who), newcomer = find(recs, "newcomer");
    EXPECT_TRUE(loner.cold_start) << algo;
    EXPECT_EQ(loner.history, 1) << algo;
    ASSERT_EQ(loner.items.size(), 6u) << algo;
    // The newcomer's popularity list, less the user's own item.
    std::vector<std::string> expected;
    for (const auto& it : newcomer.items) {
      if (it.item_id != own) expected.push_back(it.item_id);
    }
    std::vector<std::string> got;
    for (const auto& it : loner.items) {
      got.push_back(it.item_id);
      EXPECT_EQ(it.reasons.at(0).kind, "popular") << algo;
      EXPECT_GT(it.score, 0) << algo;
    }
    got.resize(expected.size());
    EXPECT_EQ(got, expected) << algo;
    for (const auto& u : recs) {
      if (u.user_id != who && u.user_id != "newcomer") {
        EXPECT_FALSE(u.cold_start) << algo << " " << u.user_id;
      }
    }
  }
  // The hybrid still has the content part for them.
  RecommendOptions o;
  o.algorithm = ParseAlgorithm("hybrid");
  o.hybrid_with = ParseAlgorithm("ease");
  EXPECT_FALSE(find(RunRec(w, o), "loner").cold_start);
}

TEST(Recommend, NegativeSentimentPushesAway) {
  // One user, two reviewed items: loves A, hates B. Items close to B rank low.
  World w;
  w.table.numeric_columns = {{"audio.x", "audio"}, {"audio.y", "audio"}};
  const std::vector<std::pair<std::string, std::vector<double>>> pts = {
      {"a", {1, 0}}, {"b", {0, 1}}, {"near_a", {0.9, 0.1}}, {"near_b", {0.1, 0.9}}, {"far", {-1, -1}}};
  for (const auto& [id, v] : pts) {
    Item it;
    it.item_id = id;
    it.numeric = v;
    w.table.items.push_back(it);
  }
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  for (auto [rid, item, s] :
       std::vector<std::tuple<std::string, std::string, double>>{{"r1", "a", 0.9}, {"r2", "b", -0.9}}) {
    Review r;
    r.review_id = rid;
    r.user_id = "u";
    r.item_id = item;
    w.reviews.push_back(r);
    w.sentiment[rid] = s;
  }
  RecommendOptions o;
  o.top_n = 3;
  auto recs = RunRec(w, o);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].items[0].item_id, "near_a");
  EXPECT_EQ(recs[0].items.back().item_id, "near_b");
  EXPECT_EQ(recs[0].items[0].reasons[0].kind, "similar_to");
  EXPECT_EQ(recs[0].items[0].reasons[0].item_id, "a");
}

// Items a, b, c, d (alike in content); u reviewed a, then b; v1 reviewed a
// and c, v2 b and d, in that order (one second apart), with the given
// sentiments.
World CoReviewWorld(const std::vector<double>& sentiment) {
  World w;
  w.table.numeric_columns = {{"audio.x", "audio"}};
  for (const char* id : {"a", "b", "c", "d"}) {
    Item it;
    it.item_id = id;
    it.numeric = {1.0};
    w.table.items.push_back(it);
  }
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  const std::vector<std::pair<std::string, std::string>> pairs = {{"u", "a"},  {"u", "b"},  {"v1", "a"},
                                                                  {"v1", "c"}, {"v2", "b"}, {"v2", "d"}};
  for (size_t k = 0; k < pairs.size(); ++k) {
    Review r;
    r.review_id = pairs[k].first + pairs[k].second;
    r.user_id = pairs[k].first;
    r.item_id = pairs[k].second;
    r.timestamp = 1700000000 + static_cast<int64_t>(k);
    w.reviews.push_back(r);
    w.sentiment[r.review_id] = sentiment[k];
  }
  return w;
}

TEST(Recommend, ItemKnnWeighsReviewedItemsByPreference) {
  // u loves a and hates b; v1 reviewed a and c, v2 b and d. Cosines on the
  // binary matrix: sim(c, a) = sim(d, b) = 1 / sqrt(2 x 1), the rest 0. The
  // score is the preference-weighted mean of the similarities,
  // sum_j v_j sim(i, j) / sum_j |v_j|: c gets 0.9 sim / 1.8, d the opposite.
  const World w = CoReviewWorld({0.9, -0.9, 0.5, 0.5, 0.5, 0.5});
  RecommendOptions o;
  o.algorithm = Algorithm::kItemKnn;
  o.top_n = 2;
  const double half_sim = 0.5 / std::sqrt(2.0);
  const auto of_u = [](const std::vector<UserRecommendations>& all) {
    auto it = std::find_if(all.begin(), all.end(), [](const auto& r) { return r.user_id == "u"; });
    EXPECT_NE(it, all.end());
    return it == all.end() ? UserRecommendations{} : *it;
  };
  const UserRecommendations u = of_u(RunRec(w, o));
  ASSERT_EQ(u.items.size(), 2u);
  EXPECT_EQ(u.items[0].item_id, "c");
  EXPECT_NEAR(u.items[0].score, half_sim, 1e-6);
  EXPECT_EQ(u.items[1].item_id, "d");
  EXPECT_NEAR(u.items[1].score, -half_sim, 1e-6);
  ASSERT_EQ(u.items[0].reasons.size(), 1u);  // a disliked item is never a reason
  EXPECT_EQ(u.items[0].reasons[0].kind, "co_reviewed_with");
  EXPECT_EQ(u.items[0].reasons[0].item_id, "a");
  EXPECT_TRUE(u.items[1].reasons.empty());

  // Without preferences every reviewed item weighs 1: the first model's
  // plain mean, c and d tie and the tie goes to the catalogue order.
  ProfileOptions uniform;
  uniform.use_sentiment = false;
  const Profiles profiles = BuildProfiles(w.reviews, &w.sentiment, w.items, uniform, {});
  RecommendInputs in;
  in.items = &w.items;
  in.profiles = &profiles;
  std::vector<UserRecommendations> plain;
  Recommend(in, o, [&](const UserRecommendations& u) { plain.push_back(u); });
  const UserRecommendations p = of_u(plain);
  ASSERT_EQ(p.items.size(), 2u);
  EXPECT_EQ(p.items[0].item_id, "c");
  EXPECT_EQ(p.items[1].item_id, "d");
  EXPECT_NEAR(p.items[0].score, half_sim, 1e-6);
  EXPECT_NEAR(p.items[1].score, half_sim, 1e-6);
  EXPECT_EQ(p.items[1].reasons.at(0).item_id, "b");
}

// --half-life-reviews on CoReviewWorld: without a decay c and d tie; with
// it, what goes with u's latest review (d, through b) leads, in every model
// that starts from the user's history, and its reason is b.
TEST(Recommend, RecencyPutsWhatGoesWithTheLatestReviewFirst) {
  const World w = CoReviewWorld({0, 0, 0, 0, 0, 0});
  ProfileOptions plain;
  plain.use_sentiment = false;
  ProfileOptions recent = plain;
  recent.half_life_reviews = 1;
  for (Algorithm algo : {Algorithm::kItemKnn, Algorithm::kEase}) {
    RecommendOptions o;
    o.algorithm = algo;
    o.top_n = 2;
    o.ease_lambda = 0.5;
    for (const ProfileOptions* po : {&plain, &recent}) {
      const Profiles profiles = BuildProfiles(w.reviews, nullptr, w.items, *po, {});
      RecommendInputs in;
      in.items = &w.items;
      in.profiles = &profiles;
      std::vector<UserRecommendations> out;
      Recommend(in, o, [&](const UserRecommendations& u) {
        if (u.user_id == "u") out.push_back(u);
      });
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].items.size(), 2u);
      const bool decayed = po == &recent;
      if (decayed) {
        EXPECT_EQ(out[0].items[0].item_id, "d") << static_cast<int>(algo);
        if (algo == Algorithm::kItemKnn) {  // a weighs half of b in the mean of similarities
          EXPECT_NEAR(out[0].items[1].score, 0.5 * out[0].items[0].score, 1e-6);
        }
        ASSERT_FALSE(out[0].items[0].reasons.empty());
        EXPECT_EQ(out[0].items[0].reasons[0].item_id, "b");
      } else {  // a tie (EASE's up to rounding, which may order it either way)
        EXPECT_NEAR(out[0].items[0].score, out[0].items[1].score, 1e-9);
      }
    }
  }
}

TEST(Recommend, ShardsConcatenateToTheWhole) {
  World w = MakeWorld();
  for (const char* algo : {"sentiment-content", "item-knn"}) {
    RecommendOptions o;
    o.algorithm = ParseAlgorithm(algo);
    auto whole = RunRec(w, o, {"cold1", "cold2"});
    std::vector<std::string> concat;
    for (int s = 0; s < 4; ++s) {
      o.shard = s;
      o.shards = 4;
      for (const auto& u : RunRec(w, o, {"cold1", "cold2"})) concat.push_back(UserJson(u, -1));
    }
    ASSERT_EQ(concat.size(), whole.size());
    for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(concat[i], UserJson(whole[i], -1)) << algo;
  }
}

// Item-item cosine on the binary matrix, brute force over every pair, each
// item keeping its k most similar (similarity descending, then item).
TEST(ItemKnn, NeighboursMatchBruteForceAtAnyThreadCount) {
  std::mt19937 rng(17);
  const int n_users = 120, n_items = 45, k = 6;
  std::vector<std::vector<int>> user_items(n_users);
  std::vector<std::vector<bool>> x(n_users, std::vector<bool>(n_items));
  for (int u = 0; u < n_users; ++u) {
    for (int i = 0; i < n_items; ++i) {
      // few distinct counts, so many similarities tie and the item order decides
      if (rng() % 9 == 0) {
        x[u][i] = true;
        user_items[u].push_back(i);
      }
    }
  }
  const KnnModel one = BuildKnn(user_items, n_items, k, 1);
  for (int threads : {2, 3, 8}) {
    const KnnModel many = BuildKnn(user_items, n_items, k, threads);
    EXPECT_EQ(many.neighbours, one.neighbours) << threads;
    EXPECT_EQ(many.reverse, one.reverse) << threads;
  }
  int ties = 0;
  for (int i = 0; i < n_items; ++i) {
    std::vector<std::pair<double, int>> all;  // (-sim, j): ascending = the rule
    for (int j = 0; j < n_items; ++j) {
      int co = 0, ni = 0, nj = 0;
      for (int u = 0; u < n_users; ++u) {
        co += x[u][i] && x[u][j];
        ni += x[u][i];
        nj += x[u][j];
      }
      if (j != i && co > 0) all.emplace_back(-co / std::sqrt(double(ni) * nj), j);
    }
    std::sort(all.begin(), all.end());
    for (size_t r = 1; r < all.size(); ++r) ties += all[r].first == all[r - 1].first;
    std::vector<std::pair<int, double>> want;
    for (size_t r = 0; r < all.size() && r < size_t(k); ++r) want.emplace_back(all[r].second, -all[r].first);
    std::sort(want.begin(), want.end());
    ASSERT_EQ(one.neighbours[i].size(), want.size()) << i;
    for (size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(one.neighbours[i][r].first, want[r].first) << i;
      EXPECT_DOUBLE_EQ(one.neighbours[i][r].second, want[r].second) << i;
    }
  }
  EXPECT_GT(ties, 0);  // the tie rule was exercised
}

// --knn-tag-weight t: each tag counts as t users who reviewed every item
// carrying it. For a whole t the neighbours are, bit for bit, plain item-knn's
// with t pseudo-users per tag appended to the users; a fractional t follows
// the formula; an item nobody reviewed gets neighbours through its tags; at
// t = 0, or without tags, plain item-knn.
TEST(ItemKnn, TagTermCountsEachTagAsUsers) {
  std::mt19937 rng(23);
  const int n_users = 60, n_items = 20, k = 5;
  std::vector<std::vector<int>> user_items(n_users);
  for (auto& row : user_items) {
    for (int i = 0; i < n_items - 1; ++i) {  // the last item: nobody reviewed it
      if (rng() % 6 == 0) row.push_back(i);
    }
  }
  std::vector<std::vector<int>> tags(n_items);
  for (int i = 0; i < n_items; ++i) {
    for (int g = 0; g < 4; ++g) {
      if ((i + g) % 3 == 0) tags[i].push_back(g);
    }
  }
  const KnnModel plain = BuildKnn(user_items, n_items, k, 1);
  EXPECT_TRUE(plain.neighbours[n_items - 1].empty());
  EXPECT_EQ(BuildKnn(user_items, n_items, k, 2, {&tags, 0.0}).neighbours, plain.neighbours);
  EXPECT_EQ(BuildKnn(user_items, n_items, k, 2, {nullptr, 2.0}).neighbours, plain.neighbours);
  std::vector<std::vector<int>> augmented = user_items;
  for (int copy = 0; copy < 2; ++copy) {
    for (int g = 0; g < 4; ++g) {
      std::vector<int> row;
      for (int i = 0; i < n_items; ++i) {
        if (std::find(tags[i].begin(), tags[i].end(), g) != tags[i].end()) row.push_back(i);
      }
      augmented.push_back(row);
    }
  }
  const KnnModel two = BuildKnn(user_items, n_items, k, 3, {&tags, 2.0});
  const KnnModel reference = BuildKnn(augmented, n_items, k, 1);
  EXPECT_EQ(two.neighbours, reference.neighbours);
  EXPECT_EQ(two.reverse, reference.reverse);
  EXPECT_NE(two.neighbours, plain.neighbours);
  EXPECT_FALSE(two.neighbours[n_items - 1].empty());
  // t = 0.5: (co + t shared) / sqrt((n_i + t T_i)(n_j + t T_j)) for every kept
  // neighbour, and no item outside the list is more similar.
  const double t = 0.5;
  const KnnModel half = BuildKnn(user_items, n_items, k, 2, {&tags, t});
  const auto sim = [&](int i, int j) {
    int co = 0, ni = 0, nj = 0;
    for (const auto& row : user_items) {
      const bool a = std::count(row.begin(), row.end(), i) > 0, b = std::count(row.begin(), row.end(), j) > 0;
      co += a && b;
      ni += a;
      nj += b;
    }
    std::vector<int> shared;
    std::set_intersection(tags[i].begin(), tags[i].end(), tags[j].begin(), tags[j].end(), std::back_inserter(shared));
    const double num = co + t * static_cast<double>(shared.size());
    return num /
           std::sqrt((ni + t * static_cast<double>(tags[i].size())) * (nj + t * static_cast<double>(tags[j].size())));
  };
  for (int i = 0; i < n_items; ++i) {
    double weakest = 1e9;
    for (const auto& [j, s] : half.neighbours[i]) {
      EXPECT_NEAR(s, sim(i, j), 1e-15) << i << " " << j;
      weakest = std::min(weakest, s);
    }
    for (int j = 0; j < n_items; ++j) {
      if (j != i && half.Sim(i, j) == 0) {
        EXPECT_LE(sim(i, j), weakest + 1e-15) << i << " " << j;
      }
    }
  }
}

TEST(Recommend, IdenticalAcrossThreadCounts) {
  World w = MakeWorld();
  for (const char* algo : {"sentiment-content", "hybrid", "item-knn"}) {
    RecommendOptions a, b;
    a.algorithm = b.algorithm = ParseAlgorithm(algo);
    a.threads = 1;
    a.block_users = 3;
    b.threads = 3;
    b.block_users = 11;
    auto ra = RunRec(w, a), rb = RunRec(w, b);
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(UserJson(ra[i], -1), UserJson(rb[i], -1));
  }
}

// EASE on MakeWorld's catalogue, 8 items per user.
RecommendOptions SmallEase() {
  RecommendOptions o;
  o.algorithm = ParseAlgorithm("ease");
  o.ease_lambda = 10;
  o.top_n = 8;
  return o;
}

// Every user's list as one JSON line (no reasons).
std::string ListsJson(const std::vector<UserRecommendations>& recs) {
  std::string out;
  for (const auto& u : recs) out += UserJson(u, -1) + "\n";
  return out;
}

// --ease-session-weight reaches EASE through the profiles' review times:
// the lists move with it, move again when the same reviews come in another
// order, are plain EASE's without times, and do not depend on threads.
TEST(Recommend, EaseSessionTermReadsTheOrderOfReviews) {
  World w = MakeWorld();
  RecommendOptions o = SmallEase();
  const std::string plain = ListsJson(RunRec(w, o));
  o.ease_session_weight = 1;
  const std::string sessions = ListsJson(RunRec(w, o));
  EXPECT_NE(sessions, plain);
  o.threads = 3;
  o.block_users = 7;
  EXPECT_EQ(ListsJson(RunRec(w, o)), sessions);
  // Each user's six reviews in the order 0, 3, 1, 4, 2, 5: other neighbours.
  World shuffled = w;
  for (size_t k = 0; k < shuffled.reviews.size(); ++k) {
    shuffled.reviews[k].timestamp = 1700000000 + static_cast<int64_t>(k / 6 * 6 + (k % 6) * 2 % 6 + (k % 6) / 3);
  }
  EXPECT_NE(ListsJson(RunRec(shuffled, o)), sessions);
  World timeless = w;
  for (auto& r : timeless.reviews) r.timestamp.reset();
  EXPECT_EQ(ListsJson(RunRec(timeless, o)), plain);
}

// --ease-tag-weight reaches EASE through the items' tags: the lists move
// with it, and the tags are read case-insensitively ("Rock" and "rock" are
// one tag), once per item; without tags the option changes nothing.
TEST(Recommend, EaseTagTermReadsTheItemsTags) {
  World w = MakeWorld();
  RecommendOptions o = SmallEase();
  const std::string plain = ListsJson(RunRec(w, o));
  o.ease_tag_weight = 2;
  EXPECT_EQ(ListsJson(RunRec(w, o)), plain);  // no tags yet
  World tagged = w, folded = w;
  const std::vector<std::string> genres = {"rock", "jazz", "folk", "pop"};
  for (size_t i = 0; i < tagged.table.items.size(); ++i) {
    tagged.table.items[i].tags = {genres[i % 4]};
    std::string upper = genres[i % 4];
    upper[0] = static_cast<char>(upper[0] - 'a' + 'A');
    folded.table.items[i].tags = {upper, genres[i % 4]};  // one tag, twice
  }
  tagged.items = BuildItemMatrix(tagged.table, {}, nullptr);
  folded.items = BuildItemMatrix(folded.table, {}, nullptr);
  EXPECT_EQ(tagged.items.tag_names, (std::vector<std::string>{"folk", "jazz", "pop", "rock"}));
  EXPECT_EQ(folded.items.tags, tagged.items.tags);
  const std::string with_tags = ListsJson(RunRec(tagged, o));
  EXPECT_NE(with_tags, plain);
  EXPECT_EQ(ListsJson(RunRec(folded, o)), with_tags);
  o.threads = 3;
  EXPECT_EQ(ListsJson(RunRec(tagged, o)), with_tags);
  // Reasons name the tags the cited item shares with the recommended one.
  int shared = 0;
  const auto tag_of = [&](const std::string& id) { return genres[static_cast<size_t>(tagged.items.Find(id)) % 4]; };
  for (const auto& u : RunRec(tagged, o)) {
    for (const auto& it : u.items) {
      for (const auto& r : it.reasons) {
        if (r.kind != "learned_from") continue;
        const bool same = tag_of(r.item_id) == tag_of(it.item_id);
        EXPECT_EQ(r.tags, same ? std::vector<std::string>{tag_of(it.item_id)} : std::vector<std::string>{});
        shared += same;
      }
    }
  }
  EXPECT_GT(shared, 0);
  o.ease_tag_weight = 0;
  for (const auto& u : RunRec(tagged, o)) {
    for (const auto& it : u.items) {
      for (const auto& r : it.reasons) EXPECT_TRUE(r.tags.empty());
    }
  }
  EXPECT_EQ(ListsJson(RunRec(tagged, o)), plain);
}

// The baseline of --avoid-below by hand: one pass, shrinkage 1.
TEST(FeelingBaseline, AlternatingShrunkMeansByHand) {
  Profiles p;
  p.users = {"a", "b"};
  const auto x = [](int item, double feeling) {
    Interaction i;
    i.item = item;
    i.feeling = feeling;
    return i;
  };
  p.history = {{x(0, 1), x(1, -1)}, {x(0, 0.5)}};
  const FeelingBaseline one = FitFeelingBaseline(p, 3, 1.0, 1);
  EXPECT_NEAR(one.mean, 1.0 / 6, 1e-15);
  // Items first, with b_u = 0: b_0 = ((1 - mu) + (0.5 - mu)) / (2 + 1).
  EXPECT_NEAR(one.item[0], 7.0 / 18, 1e-15);
  EXPECT_NEAR(one.item[1], -7.0 / 12, 1e-15);
  EXPECT_EQ(one.item[2], 0.0);  // nobody reviewed it
  // Then users, from those item biases.
  EXPECT_NEAR(one.user[0], -5.0 / 108, 1e-15);
  EXPECT_NEAR(one.user[1], -1.0 / 36, 1e-15);
  // Many passes: a fixed point of both equations.
  const FeelingBaseline b = FitFeelingBaseline(p, 3, 1.0, 200);
  EXPECT_NEAR(b.item[0], ((1 - b.mean - b.user[0]) + (0.5 - b.mean - b.user[1])) / 3, 1e-12);
  EXPECT_NEAR(b.item[1], (-1 - b.mean - b.user[0]) / 2, 1e-12);
  EXPECT_NEAR(b.user[0], ((1 - b.mean - b.item[0]) + (-1 - b.mean - b.item[1])) / 3, 1e-12);
  EXPECT_NEAR(b.user[1], (0.5 - b.mean - b.item[0]) / 2, 1e-12);
  // No reviews: everything 0.
  Profiles none;
  none.users = {"c"};
  none.history = {{}};
  const FeelingBaseline z = FitFeelingBaseline(none, 2, 3.0);
  EXPECT_EQ(z.mean, 0.0);
  EXPECT_EQ(z.item, (std::vector<double>{0, 0}));
  // Avoidance: the candidates whose mu + b_u + b_i is below the threshold,
  // as columns of the candidate list (here rows 1 and 2 only).
  const Avoidance avoid(b, {1, 2}, b.mean + b.user[0] + 0.5 * b.item[1]);
  std::vector<int> cols;
  avoid.Columns(0, &cols);
  EXPECT_EQ(cols, (std::vector<int>{0}));  // row 1 (b_1 < 0), not row 2 (b_2 = 0)
  EXPECT_EQ(avoid.Count(0), 1);
}

// A new item nobody has reviewed yet reaches EASE's, ALS's and item-knn's
// lists through its tags (--ease-tag-weight, --als-tag-weight,
// --knn-tag-weight), with reasons that say so ("tagged_like": the reviewed
// items it shares tags with); without the term it scores 0.
TEST(Recommend, TagTermsRankItemsNobodyReviewed) {
  World w = MakeWorld();
  const std::vector<std::string> genres = {"rock", "jazz", "folk", "pop"};
  for (size_t i = 0; i < w.table.items.size(); ++i) w.table.items[i].tags = {genres[i % 4]};
  Item fresh = w.table.items[0];
  fresh.item_id = "new";
  fresh.tags = {"jazz"};
  w.table.items.push_back(fresh);
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  for (const char* algo : {"ease", "als", "item-knn"}) {
    SCOPED_TRACE(algo);
    RecommendOptions o = SmallEase();
    o.algorithm = ParseAlgorithm(algo);
    o.als_factors = 8;
    o.top_n = 41;
    double& weight = o.algorithm == Algorithm::kEase  ? o.ease_tag_weight
                     : o.algorithm == Algorithm::kAls ? o.als_tag_weight
                                                      : o.knn_tag_weight;
    weight = 2;
    int ranked = 0, shared = 0;
    for (const auto& u : RunRec(w, o)) {
      for (const auto& it : u.items) {
        for (const auto& r : it.reasons) {
          EXPECT_EQ(r.kind == "tagged_like", it.item_id == "new") << r.kind;
          // A cited item shares the new item's tag, or none (it reaches it
          // through items reviewed along with it).
          if (r.kind == "tagged_like" && !r.tags.empty()) {
            EXPECT_EQ(r.tags, std::vector<std::string>{"jazz"});
            ++shared;
          }
        }
        if (it.item_id == "new" && it.score > 0) {
          ++ranked;
          EXPECT_FALSE(it.reasons.empty());
        }
      }
    }
    EXPECT_GT(ranked, 0);
    EXPECT_GT(shared, 0);
    weight = 0;
    for (const auto& u : RunRec(w, o)) {
      for (const auto& it : u.items) {
        if (it.item_id == "new") {
          EXPECT_EQ(it.score, 0.0);
        }
      }
    }
  }
}

// --avoid-below: the candidates a user is predicted to dislike rank after
// every other one, the others keep their order and scores, nothing is lost
// when the list asks for every candidate, threads do not matter, and
// feelings that are all 1 (no sentiment, no rating) hold nothing back.
TEST(Recommend, AvoidBelowHoldsBackPredictedDislikes) {
  World w = MakeWorld();
  for (const char* algo : {"ease", "item-knn", "sentiment-content"}) {
    SCOPED_TRACE(algo);
    RecommendOptions o = SmallEase();
    o.algorithm = ParseAlgorithm(algo);
    o.top_n = 40;  // every candidate
    const auto all = RunRec(w, o);
    o.avoid_below = -0.1;
    const auto held = RunRec(w, o);
    const Profiles profiles = BuildProfiles(w.reviews, &w.sentiment, w.items, ProfileOptionsFor(o.algorithm, {}), {});
    const FeelingBaseline b = FitFeelingBaseline(profiles, 40, o.avoid_shrinkage);
    ASSERT_EQ(all.size(), held.size());
    int avoided = 0, kept = 0;
    for (size_t u = 0; u < all.size(); ++u) {
      const int p = profiles.Find(all[u].user_id);
      const auto below = [&](const std::string& id) {
        return b.mean + b.user[static_cast<size_t>(p)] + b.item[static_cast<size_t>(w.items.Find(id))] < -0.1;
      };
      // Expected: the plain list, the predicted dislikes moved to the end.
      std::vector<RecommendedItem> expect;
      for (int pass = 0; pass < 2; ++pass) {
        for (const auto& it : all[u].items) {
          if (below(it.item_id) == (pass == 1)) expect.push_back(it);
        }
      }
      ASSERT_EQ(held[u].items.size(), expect.size());
      for (size_t r = 0; r < expect.size(); ++r) {
        const RecommendedItem& it = held[u].items[r];
        EXPECT_EQ(it.item_id, expect[r].item_id);
        EXPECT_EQ(it.score, expect[r].score);
        EXPECT_EQ(it.rank, static_cast<int>(r) + 1);
        // A held-back item says so first, then the plain list's reasons.
        const bool back = below(expect[r].item_id);
        ASSERT_EQ(it.reasons.size(), expect[r].reasons.size() + (back ? 1 : 0));
        if (back) {
          EXPECT_EQ(it.reasons[0].kind, "predicted_dislike");
          EXPECT_NEAR(it.reasons[0].value,
                      b.mean + b.user[static_cast<size_t>(p)] + b.item[static_cast<size_t>(w.items.Find(it.item_id))],
                      5e-5);  // rounded to 4 decimals
          EXPECT_EQ(it.reasons[0].below, -0.1);
        }
        for (size_t k = 0; k < expect[r].reasons.size(); ++k) {
          EXPECT_EQ(it.reasons[k + (back ? 1 : 0)].kind, expect[r].reasons[k].kind);
        }
        (back ? avoided : kept) += 1;
      }
    }
    EXPECT_GT(avoided, 0);
    EXPECT_GT(kept, 0);
    // A short list: the first items of the held-back order.
    o.top_n = 5;
    const auto short_lists = RunRec(w, o);
    for (size_t u = 0; u < held.size(); ++u) {
      ASSERT_EQ(short_lists[u].items.size(), 5u);
      for (size_t r = 0; r < 5; ++r) EXPECT_EQ(short_lists[u].items[r].item_id, held[u].items[r].item_id);
    }
    o.threads = 3;
    o.block_users = 7;
    EXPECT_EQ(ListsJson(RunRec(w, o)), ListsJson(short_lists));
  }
  // All feelings 1: nothing is below 0.5.
  RecommendOptions o = SmallEase();
  ProfileOptions po;
  po.use_sentiment = po.use_rating = false;
  const std::string plain = ListsJson(RunRec(w, o, {}, po));
  o.avoid_below = 0.5;
  EXPECT_EQ(ListsJson(RunRec(w, o, {}, po)), plain);
}

TEST(Features, RobustStandardisationAndModalities) {
  ItemTable t;
  t.numeric_columns = {{"audio.tempo", "audio"}, {"visual.b", "visual"}};
  t.categorical_columns = {{"visual.colour", "visual"}};
  const std::vector<double> tempo = {100, 110, 120, 130, 1e6};  // an outlier
  for (int i = 0; i < 5; ++i) {
    Item it;
    it.item_id = "i" + std::to_string(i);
    it.numeric = {tempo[static_cast<size_t>(i)], i == 2 ? std::nan("") : 0.5};
    it.categorical = {i % 2 ? "red" : "blue"};
    t.items.push_back(it);
  }
  FeatureOptions fo;
  fo.modality_weights["visual"] = 2.0;
  ItemMatrix m = BuildItemMatrix(t, fo, nullptr);
  ASSERT_EQ(m.modalities.size(), 2u);
  EXPECT_EQ(m.modalities[0].name, "audio");
  EXPECT_EQ(m.vectors.cols(), 1 + 1 + 2);
  EXPECT_EQ(m.report.imputed, 1);
  EXPECT_EQ(m.report.constant_columns, std::vector<std::string>{"visual.b"});
  for (int r = 0; r < 5; ++r) {
    // Each modality block is unit length times its weight.
    EXPECT_NEAR(m.vectors.row(r).segment(1, 3).norm(), 2.0, 1e-5);
    EXPECT_NEAR(std::fabs(m.vectors(r, 0)), r == 2 ? 0.0 : 1.0, 1e-6);  // the median item is 0
  }
}

// A weight for a modality no column has (a misspelling) stops the run,
// naming the modalities there are; text comes from a model, so it passes.
TEST(Features, AWeightForAModalityTheItemsLackIsNamed) {
  ItemTable t;
  t.path = "items.csv";
  t.numeric_columns = {{"audio.tempo", "audio"}, {"visual.b", "visual"}};
  for (int i = 0; i < 3; ++i) {
    Item it;
    it.item_id = "i" + std::to_string(i);
    it.numeric = {100.0 + i, 0.5 * i};
    t.items.push_back(it);
  }
  FeatureOptions fo;
  fo.modality_weights = {{"audio", 2.0}, {"text", 1.5}};
  EXPECT_NO_THROW(CheckModalityWeights(t, fo));
  EXPECT_EQ(BuildItemMatrix(t, fo, nullptr).modalities.size(), 2u);
  fo.modality_weights["audo"] = 1.5;
  for (int build = 0; build < 2; ++build) {
    try {
      build ? (void)BuildItemMatrix(t, fo, nullptr) : CheckModalityWeights(t, fo);
      ADD_FAILURE() << "a weight for 'audo' was taken";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
      EXPECT_EQ(std::string(e.what()),
                "--modality-weight 'audo' (config features.modality_weights): items.csv has no modality 'audo' "
                "(did you mean 'audio'?) (it has 'audio', 'visual', and 'text' from the text model; a feature "
                "column is named modality.name, e.g. audio.tempo)");
    }
  }
  // A name like none of them gets no guess; 'txet' is near the text model's.
  for (const auto& [weight, said] : std::vector<std::pair<std::string, std::string>>{
           {"smell", "has no modality 'smell' (it has"}, {"txet", "has no modality 'txet' (did you mean 'text'?)"}}) {
    fo.modality_weights = {{weight, 1.0}};
    try {
      CheckModalityWeights(t, fo);
      ADD_FAILURE() << "a weight for '" << weight << "' was taken";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(said), std::string::npos) << e.what();
    }
  }
}

// A category of one item alone gets no column: it cannot make two items
// alike, and an id-like column (a URL) would otherwise add a column per item.
TEST(Features, ValuesOfOneItemAloneGetNoColumn) {
  ItemTable t;
  t.categorical_columns = {{"visual.colour", "visual"}, {"visual.url", "visual"}};
  const std::vector<std::string> colour = {"red", "blue", "red", "green", ""};
  for (int i = 0; i < 5; ++i) {
    Item it;
    it.item_id = "i" + std::to_string(i);
    it.categorical = {colour[static_cast<size_t>(i)], "https://x/" + std::to_string(i)};
    t.items.push_back(it);
  }
  ItemMatrix m = BuildItemMatrix(t, {}, nullptr);
  EXPECT_EQ(m.column_names, std::vector<std::string>{"visual.colour=red"});
  ASSERT_EQ(m.report.single_item_values.size(), 2u);
  EXPECT_EQ(m.report.single_item_values[0].column, "visual.colour");
  EXPECT_EQ(m.report.single_item_values[0].single, 2);  // blue and green
  EXPECT_EQ(m.report.single_item_values[0].values, 3);
  EXPECT_EQ(m.report.single_item_values[1].column, "visual.url");
  EXPECT_EQ(m.report.single_item_values[1].single, 5);
  EXPECT_EQ(m.report.single_item_values[1].values, 5);
  EXPECT_FLOAT_EQ(m.vectors(0, 0), 1.0f);  // the two red items are alike
  EXPECT_FLOAT_EQ(m.vectors(2, 0), 1.0f);
  EXPECT_EQ(m.report.zero_items, (std::vector<std::string>{"i1", "i3", "i4"}));
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

TEST(Recommend, QualityWeightPrefersWhatOthersLiked) {
  // Two items with identical features; others loved one and hated the other.
  World w;
  w.table.numeric_columns = {{"audio.x", "audio"}, {"audio.y", "audio"}};
  // Features centred on 0 after standardisation: liked/panned/seen point one way.
  for (auto [id, x, y] : std::vector<std::tuple<std::string, double, double>>{{"liked", 2, 0},
                                                                              {"panned", 2, 0},
                                                                              {"seen", 2, 0.1},
                                                                              {"o1", -2, 0},
                                                                              {"o2", 0, 2},
                                                                              {"o3", 0, -2},
                                                                              {"o4", -2, -2}}) {
    Item it;
    it.item_id = id;
    it.numeric = {x, y};
    w.table.items.push_back(it);
  }
  w.items = BuildItemMatrix(w.table, {}, nullptr);
  int n = 0;
  const auto add = [&](const std::string& user, const std::string& item, double s) {
    Review r;
    r.review_id = "r" + std::to_string(n++);
    r.user_id = user;
    r.item_id = item;
    w.reviews.push_back(r);
    w.sentiment[r.review_id] = s;
  };
  add("me", "seen", 0.9);
  add("a", "liked", 0.9);
  add("b", "panned", -0.9);
  RecommendOptions o;
  o.top_n = 2;
  auto plain = RunRec(w, o);
  o.quality_weight = 1.0;
  auto weighted = RunRec(w, o);
  const auto first_for_me = [](const std::vector<UserRecommendations>& recs) {
    for (const auto& u : recs) {
      if (u.user_id == "me") return u.items.at(0).item_id;
    }
    return std::string();
  };
  EXPECT_EQ(first_for_me(plain), "liked");     // tie on cosine: item_id order
  EXPECT_EQ(first_for_me(weighted), "liked");  // and now by quality
  o.top_n = 6;
  for (const auto& u : RunRec(w, o)) {
    if (u.user_id != "me") continue;
    double liked = NAN, panned = NAN;
    for (const auto& it : u.items) {
      if (it.item_id == "liked") liked = it.score;
      if (it.item_id == "panned") panned = it.score;
    }
    EXPECT_GT(liked, panned);  // same cosine, no longer a tie
  }
  // The crowd's feeling is read before the interaction weight: with every
  // review counting 1 in the profiles (beta = 1), the quality term still
  // tells the two apart, for the content and the collaborative rankings.
  // ("c" and "d" make both co-reviewed with "seen" alike.)
  add("c", "seen", 0.5);
  add("c", "liked", 0.5);
  add("d", "seen", 0.5);
  add("d", "panned", 0.5);
  ProfileOptions uniform;
  uniform.interaction_weight = 1;
  for (const char* algo : {"sentiment-content", "item-knn", "ease"}) {
    o.algorithm = ParseAlgorithm(algo);
    const auto scores_for_me = [&](double quality) {
      o.quality_weight = quality;
      std::map<std::string, double> s;
      for (const auto& u : RunRec(w, o, {}, uniform)) {
        if (u.user_id != "me") continue;
        for (const auto& it : u.items) s[it.item_id] = it.score;
      }
      return s;
    };
    auto s = scores_for_me(0);
    ASSERT_TRUE(s.count("liked") && s.count("panned")) << algo;
    EXPECT_NEAR(s["liked"], s["panned"], 1e-9 * std::abs(s["liked"])) << algo;
    s = scores_for_me(0.5);
    // Mean feelings 0.7 and -0.2: item weights 1.35 and 0.9.
    EXPECT_NEAR(s["liked"] / s["panned"], 1.35 / 0.9, 1e-3) << algo;  // scores in float
  }
}

}  // namespace
}  // namespace avrec
