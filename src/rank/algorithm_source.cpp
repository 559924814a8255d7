#include "rank/algorithm_source.h"

#include <algorithm>

namespace avrec {

AlgorithmSource::AlgorithmSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                                 const std::vector<int>& candidates, const ItemMatrix& items,
                                 const std::vector<double>& weight, const ItemStats& stats, const KnnModel* knn,
                                 double hybrid_content)
    : algo_(algo),
      users_(users),
      profiles_(profiles),
      candidates_(candidates),
      weight_(weight),
      stats_(stats),
      knn_(knn),
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
  if (knn != nullptr) {
    cand_of_.assign(items.ids.size(), -1);
    for (size_t c = 0; c < candidates.size(); ++c) cand_of_[static_cast<size_t>(candidates[c])] = static_cast<int>(c);
    // Hybrid: each user's item-knn scores are divided by their largest, so
    // that both parts span comparable ranges ([-1, 1] and [0, 1]).
    knn_scale_.assign(users.size(), 1.0);
    if (algo == Algorithm::kHybrid) {
      std::vector<double> row;
      for (size_t u = 0; u < users.size(); ++u) {
        KnnRow(static_cast<int>(u), &row);
        const double mx = row.empty() ? 0.0 : *std::max_element(row.begin(), row.end());
        knn_scale_[u] = mx > 0 ? 1.0 / mx : 0.0;
      }
    }
  }
}

AlgorithmSource::~AlgorithmSource() = default;

const std::vector<int>& AlgorithmSource::History(int u) const {
  return stats_.user_items[static_cast<size_t>(users_[static_cast<size_t>(u)])];
}

bool AlgorithmSource::Cold(int u) const {
  if (algo_ == Algorithm::kPopular) return true;
  if (algo_ == Algorithm::kItemKnn) return History(u).empty();
  return profiles_.cold_start[static_cast<size_t>(users_[static_cast<size_t>(u)])];
}

void AlgorithmSource::Block(int begin, int end, float* out) const {
  const size_t n = candidates_.size();
  if (cosine_) cosine_->Block(begin, end, out);
  std::vector<double> knn_row;
  for (int u = begin; u < end; ++u) {
    float* row = out + static_cast<size_t>(u - begin) * n;
    if (Cold(u)) {
      for (size_t c = 0; c < n; ++c) row[c] = static_cast<float>(pop_score_[c]);
      continue;
    }
    if (knn_ == nullptr) continue;
    KnnRow(u, &knn_row);
    const double scale = knn_scale_[static_cast<size_t>(u)];
    for (size_t c = 0; c < n; ++c) {
      const double s = knn_row[c] * scale;
      row[c] = algo_ == Algorithm::kHybrid ? static_cast<float>(lambda_ * row[c] + (1 - lambda_) * s)
                                           : static_cast<float>(s);
    }
  }
}

double AlgorithmSource::Exact(int u, int c) const {
  if (Cold(u)) return pop_score_[static_cast<size_t>(c)];
  const double content = cosine_ ? cosine_->Exact(u, c) : 0.0;
  if (knn_ == nullptr) return content;
  const double k = KnnExact(u, c) * knn_scale_[static_cast<size_t>(u)];
  return algo_ == Algorithm::kHybrid ? lambda_ * content + (1 - lambda_) * k : k;
}

void AlgorithmSource::KnnRow(int u, std::vector<double>* row) const {
  row->assign(candidates_.size(), 0.0);
  const auto& hist = History(u);
  for (int j : hist) {
    for (const auto& [i, s] : knn_->reverse[static_cast<size_t>(j)]) {
      const int c = cand_of_[static_cast<size_t>(i)];
      if (c >= 0) (*row)[static_cast<size_t>(c)] += s;
    }
  }
  const double inv = hist.empty() ? 0.0 : 1.0 / static_cast<double>(hist.size());
  for (size_t c = 0; c < row->size(); ++c) (*row)[c] *= inv * weight_[c];
}

double AlgorithmSource::KnnExact(int u, int c) const {
  const auto& hist = History(u);
  if (hist.empty()) return 0;
  const int i = candidates_[static_cast<size_t>(c)];
  double s = 0;
  for (int j : hist) s += knn_->Sim(i, j);
  return s / static_cast<double>(hist.size()) * weight_[static_cast<size_t>(c)];
}

}  // namespace avrec
