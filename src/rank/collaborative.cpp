#include "rank/collaborative.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "avrec/error.h"
#include "avrec/parallel.h"
#include "avrec/text.h"

namespace avrec {

Interactions BuildInteractions(const Profiles& profiles, int n_items, double negative_weight) {
  Interactions x;
  x.items = n_items;
  x.rows.resize(profiles.users.size());
  x.query.resize(profiles.users.size());
  x.timelines.resize(profiles.users.size());
  x.reviewers.assign(static_cast<size_t>(n_items), 0);
  struct Sum {
    double preference = 0;
    int reviews = 0;
    double decay = 0;  // the largest of the reviews' (the most recent review's)
  };
  for (size_t u = 0; u < profiles.users.size(); ++u) {
    std::map<int, Sum> sums;
    for (const Interaction& r : profiles.history[u]) {
      auto& s = sums[r.item];
      s.preference += r.preference;
      s.reviews += 1;
      s.decay = std::max(s.decay, r.decay);
    }
    for (const auto& [item, s] : sums) {
      ++x.reviewers[static_cast<size_t>(item)];
      double v = s.preference / s.reviews;
      if (v < 0) v *= negative_weight;
      if (v == 0) continue;
      x.rows[u].emplace_back(item, v);
      x.query[u].emplace_back(item, v * s.decay);
    }
    for (const Interaction& r : profiles.history[u]) {
      if (r.timestamp) x.timelines[u].emplace_back(*r.timestamp, r.item);
    }
    std::sort(x.timelines[u].begin(), x.timelines[u].end());
  }
  return x;
}

std::vector<std::vector<int>> ItemsByTag(const std::vector<std::vector<int>>* item_tags, int n_items) {
  std::vector<std::vector<int>> out;
  for (size_t i = 0; item_tags != nullptr && i < item_tags->size() && i < static_cast<size_t>(n_items); ++i) {
    for (const int t : (*item_tags)[i]) {
      if (static_cast<size_t>(t) >= out.size()) out.resize(static_cast<size_t>(t) + 1);
      out[static_cast<size_t>(t)].push_back(static_cast<int>(i));
    }
  }
  return out;
}

namespace {

// ---- EASE -----------------------------------------------------------------------------

// The inverse of a symmetric positive definite matrix, in tiles of kTile:
// a right-looking Cholesky factorisation G = L L^T in place (lower
// triangle), then P = L^-T L^-1 one block of kTile columns at a time: the
// block's rows from its first column down are L_c^-T (L_c^-1 E), with L_c
// the trailing part of L from that column and E the identity's columns, so
// each block costs two triangular solves on the trailing part and the
// whole inverse n^3 flops (a dense solve against the identity: 7/3 n^3).
// Threads take whole tiles; every tile sees the same operations in the same
// order whatever the thread count, so P is bit-identical for any count.
// Eigen's own threading is off meanwhile (it would nest and, through its
// blocking sizes, change the order of sums with the thread count).
constexpr int kTile = 192;

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Eigen's own threads off while in scope (this code runs its own).
class EigenThreadsOff {
 public:
  EigenThreadsOff() : saved_(Eigen::nbThreads()) { Eigen::setNbThreads(1); }
  ~EigenThreadsOff() { Eigen::setNbThreads(saved_); }
  EigenThreadsOff(const EigenThreadsOff&) = delete;
  EigenThreadsOff& operator=(const EigenThreadsOff&) = delete;

 private:
  int saved_;
};

void InvertSpd(Eigen::MatrixXd* g, RowMajor* p, int threads) {
  Eigen::MatrixXd& a = *g;
  const int n = static_cast<int>(a.rows());
  const int tiles = (n + kTile - 1) / kTile;
  const auto start = [](int t) { return t * kTile; };
  const auto size = [n](int t) { return std::min(kTile, n - t * kTile); };
  const EigenThreadsOff eigen_threads_off;
  for (int k = 0; k < tiles; ++k) {
    const int k0 = start(k), kn = size(k);
    Eigen::Ref<Eigen::MatrixXd> diag = a.block(k0, k0, kn, kn);
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(diag);
    if (llt.info() != Eigen::Success) {
      Fail(ExitCode::kDataErr,
           "ease: the item x item system is not positive definite in double precision: --ease-lambda is too small "
           "against the data and --ease-tag-weight (raise it), or a preference is not finite");
    }
    const int below = tiles - k - 1;
    // The panel under the diagonal tile: A_ik <- A_ik L_kk^-T.
    ForEachIndex(static_cast<size_t>(below), threads, [&](size_t t) {
      const int i = k + 1 + static_cast<int>(t);
      auto panel = a.block(start(i), k0, size(i), kn);
      a.block(k0, k0, kn, kn)
          .triangularView<Eigen::Lower>()
          .transpose()
          .template solveInPlace<Eigen::OnTheRight>(panel);
    });
    // The trailing lower triangle: A_ij -= A_ik A_jk^T for k < j <= i.
    std::vector<std::pair<int, int>> pairs;
    for (int i = k + 1; i < tiles; ++i) {
      for (int j = k + 1; j <= i; ++j) pairs.emplace_back(i, j);
    }
    ForEachIndex(pairs.size(), threads, [&](size_t t) {
      const auto [i, j] = pairs[t];
      a.block(start(i), start(j), size(i), size(j)).noalias() -=
          a.block(start(i), k0, size(i), kn) * a.block(start(j), k0, size(j), kn).transpose();
    });
  }
  // Column blocks of P, the widest trailing part first.
  ForEachIndex(static_cast<size_t>(tiles), threads, [&](size_t tile) {
    const int t = static_cast<int>(tile);
    const int c = start(t), w = size(t), rest = n - c;
    Eigen::MatrixXd y = Eigen::MatrixXd::Zero(rest, w);
    y.topRows(w).setIdentity();
    const auto l = a.bottomRightCorner(rest, rest);
    l.triangularView<Eigen::Lower>().solveInPlace(y);
    l.triangularView<Eigen::Lower>().transpose().solveInPlace(y);
    for (int r = 0; r < rest; ++r) {
      for (int q = 0; q < w && q <= r; ++q) (*p)(c + r, c + q) = y(r, q);
    }
  });
  // The upper triangle from the lower, tile by tile.
  ForEachIndex(static_cast<size_t>(tiles), threads, [&](size_t tile) {
    const int t = static_cast<int>(tile);
    for (int r = start(t); r < start(t) + size(t); ++r) {
      for (int q = r + 1; q < n; ++q) (*p)(r, q) = (*p)(q, r);
    }
  });
}

using Rows = std::vector<std::vector<std::pair<int, double>>>;

// What a user's scores start from (Interactions::query, or the training
// values when there is none).
const Rows& Query(const Interactions& x) { return x.query.empty() ? x.rows : x.query; }

class EaseModel final : public CollaborativeModel {
 public:
  EaseModel(const Interactions& x, const RecommendOptions& o, int threads) {
    const int min_support = o.ease_min_support, max_items = o.ease_max_items;
    // Items with at least min_support users, numbered in row order; the
    // others are left out of the rows (they neither predict nor score).
    std::vector<int> users(static_cast<size_t>(x.items), 0);
    for (const auto& row : x.rows) {
      for (const auto& entry : row) ++users[static_cast<size_t>(entry.first)];
    }
    active_.assign(static_cast<size_t>(x.items), -1);
    int m = 0;
    for (const auto& row : x.rows) {
      for (const auto& entry : row) {
        const int i = entry.first;
        if (users[static_cast<size_t>(i)] >= min_support && active_[static_cast<size_t>(i)] < 0) {
          active_[static_cast<size_t>(i)] = m++;
        }
      }
    }
    if (min_support > 1) {
      const auto reviewed = std::count_if(users.begin(), users.end(), [](int n) { return n > 0; });
      if (m == 0 && reviewed > 0) {
        spdlog::warn("ease: no item has {} or more users (--ease-min-support): every EASE score is 0", min_support);
      } else {
        spdlog::info("ease: {} of {} reviewed items have {} or more users and are in the model", m, reviewed,
                     min_support);
      }
    }
    if (m > max_items) {
      Fail(ExitCode::kUsage, "--algorithm ease: ", m, " items have interactions",
           min_support > 1 ? " from enough users" : "", "; its item x item model would take ", 2.0 * m * m * 8 / 1e9,
           " GB (limit: --ease-max-items ", max_items,
           "); use als or item-knn for this catalogue, raise --ease-min-support, or raise the limit");
    }
    JoinUnreviewedByTags(x, users, o.ease_tag_weight, max_items, &m);
    const Rows active = Active(x.rows);
    Fit(active, m, o.ease_lambda, o.ease_dropout, TagCarriers(x, m, o.ease_tag_weight), o.ease_tag_weight, threads);
    if (o.ease_session_weight > 0) AddSessions(x, m, o.ease_session_weight, o.ease_session_half_life);
    bound_ = BoundOf(active);
    rows_ = Active(Query(x));
  }

  void Scores(int user, const std::vector<int>& items, double* out) const override {
    const auto m = static_cast<size_t>(b_.cols());
    if (items.size() * 4 >= m) {
      // Many candidates: whole rows of B (contiguous), then a lookup; each
      // entry is summed in the same order as below and in Score().
      thread_local std::vector<double> row;
      row.assign(m, 0.0);
      for (const auto& [j, xv] : rows_[static_cast<size_t>(user)]) {
        const double* b = &b_(active_[static_cast<size_t>(j)], 0);
        for (size_t a = 0; a < m; ++a) row[a] += xv * b[a];
      }
      for (size_t c = 0; c < items.size(); ++c) {
        const int a = active_[static_cast<size_t>(items[c])];
        out[c] = a >= 0 ? row[static_cast<size_t>(a)] : 0.0;
      }
      return;
    }
    std::fill(out, out + items.size(), 0.0);
    for (const auto& [j, xv] : rows_[static_cast<size_t>(user)]) {
      const double* b = &b_(active_[static_cast<size_t>(j)], 0);
      for (size_t c = 0; c < items.size(); ++c) {
        const int a = active_[static_cast<size_t>(items[c])];
        if (a >= 0) out[c] += xv * b[a];
      }
    }
  }

  double Score(int user, int item) const override {
    const int a = active_[static_cast<size_t>(item)];
    double s = 0;
    if (a < 0) return s;
    for (const auto& [j, xv] : rows_[static_cast<size_t>(user)]) s += xv * b_(active_[static_cast<size_t>(j)], a);
    return s;
  }

  double Bound() const override { return bound_; }

  std::vector<std::pair<int, double>> Contributions(int user, int item) const override {
    std::vector<std::pair<int, double>> out;
    const int a = active_[static_cast<size_t>(item)];
    if (a < 0) return out;
    for (const auto& [j, xv] : rows_[static_cast<size_t>(user)]) {
      out.emplace_back(j, xv * b_(active_[static_cast<size_t>(j)], a));
    }
    return out;
  }

 private:
  // The entries of the items in the model.
  Rows Active(const Rows& rows) const {
    Rows out(rows.size());
    for (size_t u = 0; u < rows.size(); ++u) {
      for (const auto& [i, v] : rows[u]) {
        if (active_[static_cast<size_t>(i)] >= 0) out[u].emplace_back(i, v);
      }
    }
    return out;
  }

  // With the tag term, the items nobody reviewed (not even with a feeling
  // of 0, or a dislike --negative-weight 0 drops) that carry a tag of a
  // reviewed item in the model join it after the reviewed ones, in row
  // order: their column of G is their tags alone, so a new item tagged like
  // what a user reviewed gets a score. None join when they would take the
  // model past max_items (a warning says so).
  void JoinUnreviewedByTags(const Interactions& x, const std::vector<int>& users, double weight, int max_items,
                            int* m) {
    if (weight <= 0 || x.item_tags == nullptr) return;
    const auto& tags = *x.item_tags;
    const size_t n = std::min(tags.size(), users.size());
    std::vector<char> in_model;  // per tag: carried by a reviewed item in the model
    for (size_t i = 0; i < n; ++i) {
      if (active_[i] < 0) continue;
      for (const int t : tags[i]) {
        if (static_cast<size_t>(t) >= in_model.size()) in_model.resize(static_cast<size_t>(t) + 1, 0);
        in_model[static_cast<size_t>(t)] = 1;
      }
    }
    const auto shared = [&](int t) {
      return static_cast<size_t>(t) < in_model.size() && in_model[static_cast<size_t>(t)];
    };
    std::vector<int> join;
    for (size_t i = 0; i < n; ++i) {
      if (users[i] > 0 || (i < x.reviewers.size() && x.reviewers[i] > 0)) continue;
      if (std::any_of(tags[i].begin(), tags[i].end(), shared)) join.push_back(static_cast<int>(i));
    }
    if (join.empty()) return;
    if (*m + static_cast<int64_t>(join.size()) > max_items) {
      spdlog::warn(
          "ease: {} nobody reviewed share tags with the model's items, but with them it would have {} "
          "items (--ease-max-items {}): they are left out (score 0)",
          CountOf(static_cast<int64_t>(join.size()), "item"), *m + static_cast<int64_t>(join.size()), max_items);
      return;
    }
    for (const int i : join) active_[static_cast<size_t>(i)] = (*m)++;
    spdlog::info("ease: {} nobody reviewed join the model through their tags",
                 CountOf(static_cast<int64_t>(join.size()), "item"));
  }

  // Per tag: the active indices of the items carrying it, ascending (empty
  // without tags, or at weight 0). Logs how many items in the model have
  // a tag.
  std::vector<std::vector<int>> TagCarriers(const Interactions& x, int m, double weight) const {
    if (weight <= 0) return {};
    std::vector<std::vector<int>> carriers = ItemsByTag(x.item_tags, x.items);
    std::vector<char> tagged(static_cast<size_t>(m), 0);
    for (auto& c : carriers) {
      std::vector<int> in_model;
      for (const int i : c) {
        const int a = active_[static_cast<size_t>(i)];
        if (a < 0) continue;
        in_model.push_back(a);
        tagged[static_cast<size_t>(a)] = 1;
      }
      std::sort(in_model.begin(), in_model.end());
      c = std::move(in_model);
    }
    const auto n = std::count(tagged.begin(), tagged.end(), 1);
    if (n == 0) {
      spdlog::warn("ease: no item in the model has a tag: --ease-tag-weight changes nothing");
    } else {
      spdlog::info("ease: {} of {} items in the model have tags; each tag counts as a user of its items, weight {}", n,
                   m, weight);
    }
    return carriers;
  }

  void Fit(const Rows& rows, int m, double lambda, double dropout, const std::vector<std::vector<int>>& tags,
           double tag_weight, int threads) {
    // Gram matrix G = X^T X + Lambda over the active items (lower triangle),
    // Lambda = lambda I + dropout / (1 - dropout) diag(X^T X): the penalty of
    // denoising with that dropout rate (Steck 2020), heavier on popular items;
    // then tag_weight F^T F (F: tags x items, 1 where the item carries the
    // tag; each tag a pseudo-user who reviewed its items), unscaled by
    // dropout.
    Eigen::MatrixXd g = Eigen::MatrixXd::Zero(m, m);
    for (const auto& row : rows) {
      for (const auto& [i, vi] : row) {
        const int a = active_[static_cast<size_t>(i)];
        for (const auto& [j, vj] : row) {
          const int c = active_[static_cast<size_t>(j)];
          if (a >= c) g(a, c) += vi * vj;
        }
      }
    }
    g.diagonal() = g.diagonal() * (1.0 + dropout / (1.0 - dropout)) + Eigen::VectorXd::Constant(m, lambda);
    for (const auto& c : tags) {  // column by column (g is column-major), lower triangle
      for (size_t l = 0; l < c.size(); ++l) {
        for (size_t k = l; k < c.size(); ++k) g(c[k], c[l]) += tag_weight;
      }
    }
    // P = G^-1 (G is symmetric positive definite: lambda > 0) into b_.
    b_ = RowMajor(m, m);
    InvertSpd(&g, &b_, threads);
    // B_ij = -P_ij / P_jj, zero diagonal.
    const Eigen::VectorXd d = b_.diagonal();
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < m; ++j) b_(i, j) = i == j ? 0.0 : -b_(i, j) / d(j);
    }
  }

  // B += weight * (|B| / |L|) L (Frobenius norms), L the session term:
  // every pair of one user's reviews with times, of two different items in
  // the model, adds v_ui v_uj 0.5^(n / half_life) to L_ij and L_ji, n the
  // number of the user's reviews strictly between the two in time (0 for
  // reviews at the same time). Pairs with n > 10 half-lives (weight below
  // 2^-10) are left out. The pairs are summed user by user, in time order:
  // the same bits for any thread count.
  void AddSessions(const Interactions& x, int m, double weight, double half_life) {
    RowMajor l = RowMajor::Zero(m, m);
    int64_t pairs = 0;
    for (size_t u = 0; u < x.timelines.size(); ++u) {
      const auto& t = x.timelines[u];
      const auto& row = x.rows[u];  // by item, ascending
      // Per review: its item's index in B (-1: not in the model) and value
      // (0: not in the rows); first[k]: the first review at t[k]'s time,
      // end[k]: one past the last.
      std::vector<int> index(t.size());
      std::vector<double> value(t.size());
      std::vector<size_t> first(t.size()), end(t.size());
      for (size_t k = 0; k < t.size(); ++k) {
        const int item = t[k].second;
        const auto it = std::lower_bound(row.begin(), row.end(), std::make_pair(item, -HUGE_VAL));
        value[k] = it != row.end() && it->first == item ? it->second : 0.0;
        index[k] = active_[static_cast<size_t>(item)];
        first[k] = k > 0 && t[k].first == t[k - 1].first ? first[k - 1] : k;
      }
      for (size_t k = t.size(); k-- > 0;) {
        end[k] = k + 1 < t.size() && t[k].first == t[k + 1].first ? end[k + 1] : k + 1;
      }
      for (size_t j = 0; j < t.size(); ++j) {
        const int a = index[j];
        if (a < 0 || value[j] == 0) continue;
        for (size_t k = j + 1; k < t.size(); ++k) {
          const double between = t[k].first == t[j].first ? 0.0 : static_cast<double>(first[k] - end[j]);
          if (between > 10 * half_life) break;
          const int c = index[k];
          if (c < 0 || c == a) continue;
          const double w = value[j] * value[k] * std::pow(0.5, between / half_life);
          l(a, c) += w;
          l(c, a) += w;
          ++pairs;
        }
      }
    }
    const double norm_l = l.norm();
    if (norm_l == 0) {
      spdlog::warn("ease: --ease-session-weight has no effect: no user has two reviews of model items with times");
      return;
    }
    const double scale = weight * b_.norm() / norm_l;
    spdlog::info("ease: session term from {} review pairs (weight {}, scale {:.6g})", pairs, weight, scale);
    b_ += scale * l;
  }

  // An upper bound on |score|: the largest sum of |values| of a row times
  // the largest |B_ij|.
  double BoundOf(const Rows& rows) const {
    double max_b = 0, max_row = 0;
    if (b_.size() > 0) max_b = b_.cwiseAbs().maxCoeff();
    for (const auto& row : rows) {
      double s = 0;
      for (const auto& [i, v] : row) s += std::fabs(v);
      max_row = std::max(max_row, s);
    }
    return max_row * max_b;
  }

  Rows rows_;                // the query values of the items in the model
  std::vector<int> active_;  // item row -> index in B, or -1 (no interactions: score 0)
  RowMajor b_;
  double bound_ = 0;
};

// ---- ALS ------------------------------------------------------------------------------

// Deterministic normal draws (SplitMix64 and Box-Muller): the same factors
// on every platform for a seed.
class NormalDraws {
 public:
  explicit NormalDraws(uint64_t seed) : s_(seed) {}
  double Next() {
    const double u1 = (static_cast<double>(Bits() >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (static_cast<double>(Bits() >> 11) + 0.5) / 9007199254740992.0;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t Bits() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_;
};

using Factors = RowMajor;

class AlsModel final : public CollaborativeModel {
 public:
  AlsModel(const Interactions& x, const RecommendOptions& o, int threads)
      : rows_(Query(x)), f_(o.als_factors), lambda_(o.als_regularization), alpha_(o.als_alpha) {
    const int n_users = static_cast<int>(x.rows.size());
    // With the tag term, the tags' pseudo-users follow the users: in the
    // training rows and in the rows of the last user solve alike (without
    // it the training rows are the users' own, not copied).
    const Rows tags = TagUsers(x, o.als_tag_weight);
    Rows augmented;
    if (!tags.empty()) {
      augmented = x.rows;
      augmented.insert(augmented.end(), tags.begin(), tags.end());
      rows_.insert(rows_.end(), tags.begin(), tags.end());
    }
    const Rows& train = tags.empty() ? x.rows : augmented;
    Rows by_item(static_cast<size_t>(x.items));
    for (size_t u = 0; u < train.size(); ++u) {
      for (const auto& [i, v] : train[u]) by_item[static_cast<size_t>(i)].emplace_back(static_cast<int>(u), v);
    }
    NormalDraws normal(o.seed);
    y_ = Factors(x.items, f_);
    for (int i = 0; i < x.items; ++i) {
      for (int k = 0; k < f_; ++k) y_(i, k) = 0.01 * normal.Next();
    }
    x_ = Factors::Zero(static_cast<Eigen::Index>(train.size()), f_);
    // Each sweep solves the items, then the users. With --als-cg-steps the
    // sweeps take that many conjugate-gradient steps from each row's previous
    // factors; the last user solve is exact either way, so the users' factors
    // are the least-squares answer to the final item factors and explanations
    // (Contributions) sum exactly to the scores. That last solve reads the
    // users' decayed query values (the same as the training values without
    // decay), so a user's factors lean on their recent reviews.
    const int cg = o.als_cg_steps;
    Solve(train, y_, &x_, cg, threads);
    for (int it = 0; it < o.als_iterations; ++it) {
      Solve(by_item, x_, &y_, cg, threads);
      const bool last = it + 1 == o.als_iterations;
      Solve(last ? rows_ : train, y_, &x_, last ? 0 : cg, threads);
    }
    // The pseudo-users are dropped: only the users are scored.
    x_.conservativeResize(n_users, f_);
    rows_.resize(static_cast<size_t>(n_users));
    double max_x = 0, max_y = 0;
    for (int u = 0; u < n_users; ++u) max_x = std::max(max_x, x_.row(u).norm());
    for (int i = 0; i < x.items; ++i) max_y = std::max(max_y, y_.row(i).norm());
    bound_ = max_x * max_y;
  }

  void Scores(int user, const std::vector<int>& items, double* out) const override {
    for (size_t c = 0; c < items.size(); ++c) out[c] = Score(user, items[c]);
  }

  double Score(int user, int item) const override {
    const double* a = &x_(user, 0);
    const double* b = &y_(item, 0);
    double s = 0;
    for (int k = 0; k < f_; ++k) s += a[k] * b[k];
    return s;
  }

  double Bound() const override { return bound_; }

  // Hu et al. (2008), section 5: x_u = A_u^-1 sum_j c_uj p_uj y_j, so the
  // score is sum_j c_uj p_uj (y_j . A_u^-1 y_i).
  std::vector<std::pair<int, double>> Contributions(int user, int item) const override {
    const auto& row = rows_[static_cast<size_t>(user)];
    const Eigen::MatrixXd a = SystemMatrix(y_, row);
    const Eigen::VectorXd z = a.ldlt().solve(y_.row(item).transpose());
    std::vector<std::pair<int, double>> out;
    for (const auto& [j, v] : row) {
      if (v > 0) out.emplace_back(j, Confidence(v) * y_.row(j).dot(z));
    }
    return out;
  }

 private:
  double Confidence(double v) const { return 1 + alpha_ * std::fabs(v); }

  // With --als-tag-weight t > 0: per tag carried by an item, in tag order, a
  // row holding every item carrying it with value t. An item nobody reviewed
  // gets its factors from its tags' pseudo-users, so a user can be scored
  // for it. Empty without tags or at weight 0.
  static Rows TagUsers(const Interactions& x, double weight) {
    Rows out;
    if (weight <= 0) return out;
    for (const auto& items : ItemsByTag(x.item_tags, x.items)) {
      if (items.empty()) continue;
      out.emplace_back();
      for (const int i : items) out.back().emplace_back(i, weight);
    }
    if (out.empty()) {
      spdlog::warn("als: no item has a tag: --als-tag-weight changes nothing");
    } else {
      spdlog::info("als: {} tags join the users as pseudo-users of the items carrying them, value {}", out.size(),
                   weight);
    }
    return out;
  }

  // A = Y^T Y + lambda I + sum_j (c_j - 1) y_j y_j^T for one row's entries.
  Eigen::MatrixXd SystemMatrix(const Factors& y, const std::vector<std::pair<int, double>>& row) const {
    Eigen::MatrixXd a = y.transpose() * y;
    a.diagonal().array() += lambda_;
    for (const auto& [j, v] : row) {
      a.noalias() += (Confidence(v) - 1) * y.row(j).transpose() * y.row(j);
    }
    return a;
  }

  // Solves every row's factors against the fixed `other` factors: each row
  // alone (so results do not depend on the thread count). cg_steps 0: an
  // exact LDLT solve of A x = b; otherwise that many conjugate-gradient steps
  // from the row's current factors (Takacs, Pilaszy, Tikk, RecSys 2011), each
  // a product with A = G + sum_j (c_j - 1) y_j y_j^T that never forms A: f^2
  // + 2 f |row| operations against f^3 / 3 + f^2 |row| for the exact solve.
  void Solve(const Rows& rows, const Factors& other, Factors* out, int cg_steps, int threads) const {
    const EigenThreadsOff eigen_threads_off;
    Eigen::MatrixXd gram = other.transpose() * other;
    gram.diagonal().array() += lambda_;
    ForEachIndex(rows.size(), threads, [&](size_t r) {
      const auto& row = rows[r];
      Eigen::VectorXd b = Eigen::VectorXd::Zero(f_);
      bool liked = false;
      for (const auto& [j, v] : row) {
        if (v > 0) b.noalias() += Confidence(v) * other.row(j).transpose();
        liked = liked || v > 0;
      }
      auto x = out->row(static_cast<Eigen::Index>(r));
      if (!liked) {  // b = 0, so x = 0 (conjugate gradients would only approach it)
        x.setZero();
        return;
      }
      if (cg_steps == 0) {
        Eigen::MatrixXd a = gram;
        for (const auto& [j, v] : row) {
          a.noalias() += (Confidence(v) - 1) * other.row(j).transpose() * other.row(j);
        }
        x = a.ldlt().solve(b).transpose();
        return;
      }
      const auto times_a = [&](const Eigen::VectorXd& p) {  // A p
        Eigen::VectorXd ap = gram * p;
        for (const auto& [j, v] : row) {
          ap.noalias() += ((Confidence(v) - 1) * other.row(j).dot(p)) * other.row(j).transpose();
        }
        return ap;
      };
      Eigen::VectorXd sol = x.transpose();
      Eigen::VectorXd res = b - times_a(sol);
      Eigen::VectorXd p = res;
      double rr = res.squaredNorm();
      for (int k = 0; k < cg_steps && rr > 1e-20; ++k) {
        const Eigen::VectorXd ap = times_a(p);
        const double curvature = p.dot(ap);
        if (!(curvature > 0)) break;  // only with --als-regularization 0 and a singular A
        const double step = rr / curvature;
        sol.noalias() += step * p;
        res.noalias() -= step * ap;
        const double rr_next = res.squaredNorm();
        p = res + (rr_next / rr) * p;
        rr = rr_next;
      }
      x = sol.transpose();
    });
  }

  Rows rows_;  // the users' query values
  int f_;
  double lambda_, alpha_;
  Factors x_, y_;
  double bound_ = 0;

  friend std::pair<Eigen::MatrixXd, Eigen::MatrixXd> avrec::AlsFactors(const CollaborativeModel& model);
};

}  // namespace

std::unique_ptr<CollaborativeModel> TrainEase(const Interactions& x, const RecommendOptions& o, int threads) {
  return std::make_unique<EaseModel>(x, o, threads);
}

std::pair<Eigen::MatrixXd, Eigen::MatrixXd> AlsFactors(const CollaborativeModel& model) {
  const auto* als = dynamic_cast<const AlsModel*>(&model);
  if (als == nullptr) return {};
  return {als->x_, als->y_};
}

std::unique_ptr<CollaborativeModel> TrainAls(const Interactions& x, const RecommendOptions& o, int threads) {
  return std::make_unique<AlsModel>(x, o, threads);
}

}  // namespace avrec
