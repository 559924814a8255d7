#include "rank/algorithm_source.h"

#include <algorithm>
#include <cmath>

#include "avrec/parallel.h"

namespace avrec {

AlgorithmSource::AlgorithmSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                                 const std::vector<int>& candidates, const std::vector<std::vector<int>>& excluded,
                                 const ItemMatrix& items, const std::vector<double>& weight, const ItemStats& stats,
                                 Collaborative collab, double hybrid_content, int threads)
    : algo_(algo),
      users_(users),
      profiles_(profiles),
      candidates_(candidates),
      weight_(weight),
      stats_(stats),
      collab_(collab),
      lambda_(hybrid_content) {
  double max_pop = 0;
  for (int c : candidates) max_pop = std::max(max_pop, stats.popularity[static_cast<size_t>(c)]);
  for (size_t c = 0; c < candidates.size(); ++c) {
    const double pop = stats.popularity[static_cast<size_t>(candidates[c])];
    pop_score_.push_back((max_pop > 0 ? pop / max_pop : 0.0) * weight[c]);
  }
  if (AlgorithmUsesContent(algo)) {
    user_rows_.resize(static_cast<Eigen::Index>(users.size()), items.vectors.cols());
    for (size_t u = 0; u < users.size(); ++u) {
      user_rows_.row(static_cast<Eigen::Index>(u)) = profiles.vectors.row(users[u]);
    }
    item_rows_.resize(static_cast<Eigen::Index>(candidates.size()), items.vectors.cols());
    for (size_t c = 0; c < candidates.size(); ++c) {
      item_rows_.row(static_cast<Eigen::Index>(c)) = items.vectors.row(candidates[c]);
    }
    cosine_ = std::make_unique<CosineSource>(user_rows_, item_rows_, weight);
  }
  if (collab_.knn != nullptr) {
    cand_of_.assign(items.ids.size(), -1);
    for (size_t c = 0; c < candidates.size(); ++c) cand_of_[static_cast<size_t>(candidates[c])] = static_cast<int>(c);
  }
  collab_scale_.assign(users.size(), 1.0);
  silent_.assign(users.size(), 0);
  if (collab_.any()) ScanCollaborative(excluded, threads);
  ComputeMargin(weight);
}

AlgorithmSource::~AlgorithmSource() = default;

// Hybrid: each user's collaborative scores are divided by their largest
// magnitude, so that both parts span comparable ranges ([-1, 1]); a user
// without collaborative signal keeps the content part alone. A purely
// collaborative algorithm ranks such a user by popularity (Cold): all-zero
// scores would otherwise rank the catalogue by item id. Without signal means
// no candidate the list may hold scores: scores of the user's own items alone
// (items reviewed only with each other) rank nothing.
void AlgorithmSource::ScanCollaborative(const std::vector<std::vector<int>>& excluded, int threads) {
  const bool hybrid = algo_ == Algorithm::kHybrid;
  ForEachIndex(users_.size(), threads, [&](size_t u) {
    std::vector<double> row;
    CollabRow(static_cast<int>(u), &row);
    const std::vector<int>& out = excluded[u];
    double mx = 0, mx_listable = 0;
    for (size_t c = 0, s = 0; c < row.size(); ++c) {
      mx = std::max(mx, std::fabs(row[c]));
      while (s < out.size() && static_cast<size_t>(out[s]) < c) ++s;
      if (s == out.size() || static_cast<size_t>(out[s]) != c) mx_listable = std::max(mx_listable, std::fabs(row[c]));
    }
    if (hybrid) collab_scale_[u] = mx > 0 ? 1.0 / mx : 0.0;
    silent_[u] = mx_listable == 0;
  });
}

// Float scores err from the exact ones by the cosine GEMM's bound (content)
// plus the rounding of a double to float (2^-24 relative) of the largest
// value a score can take; twice that, for safety.
void AlgorithmSource::ComputeMargin(const std::vector<double>& weight) {
  double max_w = 0;
  for (double w : weight) max_w = std::max(max_w, w);
  double collab = 0;
  if (collab_.knn != nullptr) collab = max_w;  // knn scores lie in [-weight, weight]
  if (collab_.model != nullptr) collab = collab_.model->Bound() * max_w;
  if (algo_ == Algorithm::kHybrid) collab = 1.0;  // normalised per user
  const double content = cosine_ ? max_w : 0.0;
  const double largest = std::max({max_w, collab, content});
  const double cos_margin = cosine_ ? cosine_->Margin() : 0.0;
  margin_ =
      (algo_ == Algorithm::kHybrid ? lambda_ * cos_margin : cos_margin) + 2 * largest * std::ldexp(1.0, -23) + 1e-12;
}

const std::vector<int>& AlgorithmSource::History(int u) const {
  return stats_.user_items[static_cast<size_t>(users_[static_cast<size_t>(u)])];
}

bool AlgorithmSource::Cold(int u) const {
  if (algo_ == Algorithm::kPopular) return true;
  if (!AlgorithmUsesContent(algo_)) return History(u).empty() || silent_[static_cast<size_t>(u)] != 0;
  return profiles_.cold_start[static_cast<size_t>(users_[static_cast<size_t>(u)])];
}

bool AlgorithmSource::RanksByProfileAlone(int u) const {
  if (algo_ == Algorithm::kContent || algo_ == Algorithm::kSentimentContent) return true;
  return algo_ == Algorithm::kHybrid && (lambda_ == 1 || silent_[static_cast<size_t>(u)] != 0);
}

void AlgorithmSource::Block(int begin, int end, float* out) const {
  const size_t n = candidates_.size();
  if (cosine_) cosine_->Block(begin, end, out);
  std::vector<double> collab_row;
  for (int u = begin; u < end; ++u) {
    float* row = out + static_cast<size_t>(u - begin) * n;
    if (Cold(u)) {
      for (size_t c = 0; c < n; ++c) row[c] = static_cast<float>(pop_score_[c]);
      continue;
    }
    if (!collab_.any()) continue;
    CollabRow(u, &collab_row);
    const double scale = collab_scale_[static_cast<size_t>(u)];
    for (size_t c = 0; c < n; ++c) {
      const double s = collab_row[c] * scale;
      row[c] = algo_ == Algorithm::kHybrid ? static_cast<float>(lambda_ * row[c] + (1 - lambda_) * s)
                                           : static_cast<float>(s);
    }
  }
}

double AlgorithmSource::Exact(int u, int c) const {
  if (Cold(u)) return pop_score_[static_cast<size_t>(c)];
  const double content = cosine_ ? cosine_->Exact(u, c) : 0.0;
  if (!collab_.any()) return content;
  const double k = CollabExact(u, c) * collab_scale_[static_cast<size_t>(u)];
  return algo_ == Algorithm::kHybrid ? lambda_ * content + (1 - lambda_) * k : k;
}

void AlgorithmSource::CollabRow(int u, std::vector<double>* row) const {
  row->assign(candidates_.size(), 0.0);
  if (collab_.model != nullptr) {
    collab_.model->Scores(users_[static_cast<size_t>(u)], candidates_, row->data());
    for (size_t c = 0; c < row->size(); ++c) (*row)[c] *= weight_[c];
    return;
  }
  const auto& hist = KnnWeights(u);
  for (const auto& [j, v] : hist) {
    for (const auto& [i, s] : collab_.knn->reverse[static_cast<size_t>(j)]) {
      const int c = cand_of_[static_cast<size_t>(i)];
      if (c >= 0) (*row)[static_cast<size_t>(c)] += v * s;
    }
  }
  const double norm = KnnNorm(hist);
  const double inv = norm > 0 ? 1.0 / norm : 0.0;
  for (size_t c = 0; c < row->size(); ++c) (*row)[c] *= inv * weight_[c];
}

const std::vector<std::pair<int, double>>& AlgorithmSource::KnnWeights(int u) const {
  return collab_.knn->user_weights[static_cast<size_t>(users_[static_cast<size_t>(u)])];
}

double AlgorithmSource::CollabExact(int u, int c) const {
  const int i = candidates_[static_cast<size_t>(c)];
  if (collab_.model != nullptr) {
    return collab_.model->Score(users_[static_cast<size_t>(u)], i) * weight_[static_cast<size_t>(c)];
  }
  const auto& hist = KnnWeights(u);
  const double norm = KnnNorm(hist);
  if (!(norm > 0)) return 0;
  double s = 0;
  for (const auto& [j, v] : hist) s += v * collab_.knn->Sim(i, j);
  return s / norm * weight_[static_cast<size_t>(c)];
}

}  // namespace avrec
