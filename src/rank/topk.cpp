#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "avrec/error.h"
#include "avrec/parallel.h"
#include "avrec/rank.h"

namespace avrec {

namespace {

constexpr int kExtraCandidates = 16;

// Better-than on (score desc, item asc).
inline bool Better(float sa, int ia, float sb, int ib) { return sa > sb || (sa == sb && ia < ib); }
inline bool BetterExact(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// The `want` best (float) items of one row, skipping `excluded` (sorted).
// A min-heap on (score, -item): heap[0] is the worst kept.
void FloatCandidates(const float* row, int n, const std::vector<int>& excluded, int want,
                     std::vector<std::pair<float, int>>* heap) {
  heap->clear();
  const auto worse = [](const std::pair<float, int>& a, const std::pair<float, int>& b) {
    return Better(a.first, a.second, b.first, b.second);  // heap top = worst
  };
  size_t ex = 0;
  float threshold = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    const float s = row[i];
    if (static_cast<int>(heap->size()) == want && !(s > threshold)) {
      // Not better than the worst kept (ties lose: higher item index).
      continue;
    }
    while (ex < excluded.size() && excluded[ex] < i) ++ex;
    if (ex < excluded.size() && excluded[ex] == i) continue;
    if (static_cast<int>(heap->size()) < want) {
      heap->emplace_back(s, i);
      std::push_heap(heap->begin(), heap->end(), worse);
    } else {
      std::pop_heap(heap->begin(), heap->end(), worse);
      heap->back() = {s, i};
      std::push_heap(heap->begin(), heap->end(), worse);
    }
    if (static_cast<int>(heap->size()) == want) threshold = heap->front().first;
  }
}

// Exact top-k of one user: float candidates, exact rescoring, and a check
// that nothing outside the candidates can reach the top k.
void SelectUser(const ScoreSource& src, int user, const float* row, const std::vector<int>& excluded, int k,
                std::vector<std::pair<float, int>>* heap, std::vector<Scored>* best) {
  const int n = src.items();
  const int want = std::min(n, k + kExtraCandidates);
  FloatCandidates(row, n, excluded, want, heap);
  best->clear();
  for (const auto& [s, i] : *heap) best->push_back({i, src.Exact(user, i)});
  std::sort(best->begin(), best->end(), BetterExact);
  const bool full = static_cast<int>(heap->size()) == want;
  if (full && static_cast<int>(best->size()) >= k && want < n) {
    // Items outside the candidates have float score <= the worst candidate's,
    // so exact score <= that + margin.
    float worst = heap->front().first;
    double kth = (*best)[static_cast<size_t>(k - 1)].score;
    if (!(static_cast<double>(worst) + src.Margin() < kth)) {
      // Near-ties at the boundary: rescore every item that could qualify.
      best->clear();
      size_t ex = 0;
      for (int i = 0; i < n; ++i) {
        while (ex < excluded.size() && excluded[ex] < i) ++ex;
        if (ex < excluded.size() && excluded[ex] == i) continue;
        if (static_cast<double>(row[i]) >= kth - src.Margin()) best->push_back({i, src.Exact(user, i)});
      }
      std::sort(best->begin(), best->end(), BetterExact);
    }
  }
  if (static_cast<int>(best->size()) > k) best->resize(static_cast<size_t>(k));
}

}  // namespace

void SelectTopK(const ScoreSource& source, const TopKOptions& options,
                const std::function<const std::vector<int>&(int user)>& excluded,
                const std::function<void(int user, const std::vector<Scored>& best)>& sink) {
  const int users = source.users(), n = source.items();
  const int block = std::max(1, options.block_users);
  const int threads = std::max(1, options.threads);
  // More than the catalogue is all of it (and k + kExtraCandidates must not
  // overflow).
  const int k = std::max(0, std::min(options.k, n));
  if (users == 0) return;
  Eigen::setNbThreads(1);  // one block per thread instead
  const int blocks = (users + block - 1) / block;
  // Waves of `threads` blocks: computed in parallel, emitted in order.
  std::vector<std::vector<std::vector<Scored>>> results(static_cast<size_t>(threads));
  for (int wave = 0; wave < blocks; wave += threads) {
    const int in_wave = std::min(threads, blocks - wave);
    std::atomic<int> next{0};
    RunOnThreads(in_wave, [&] {
      std::vector<float> scores;
      std::vector<std::pair<float, int>> heap;
      std::vector<Scored> best;
      for (int w; (w = next.fetch_add(1)) < in_wave;) {
        const int b = wave + w;
        const int begin = b * block, end = std::min(users, begin + block);
        scores.resize(static_cast<size_t>(end - begin) * static_cast<size_t>(n));
        if (n > 0) source.Block(begin, end, scores.data());
        auto& out = results[static_cast<size_t>(w)];
        out.assign(static_cast<size_t>(end - begin), {});
        for (int u = begin; u < end; ++u) {
          SelectUser(source, u, scores.data() + static_cast<size_t>(u - begin) * n, excluded(u), k, &heap, &best);
          out[static_cast<size_t>(u - begin)] = best;
        }
      }
    });
    for (int w = 0; w < in_wave; ++w) {
      const int begin = (wave + w) * block;
      auto& out = results[static_cast<size_t>(w)];
      for (size_t r = 0; r < out.size(); ++r) sink(begin + static_cast<int>(r), out[r]);
    }
  }
}

CosineSource::CosineSource(const RowMatrix& users, const RowMatrix& items, std::vector<double> item_weight)
    : users_(users), items_(items), weight_(std::move(item_weight)) {
  AVREC_CHECK(users.cols() == items.cols() || users.rows() == 0 || items.rows() == 0, "dimension mismatch");
  if (weight_.empty()) weight_.assign(static_cast<size_t>(items.rows()), 1.0);
  const auto inv_norms = [](const RowMatrix& m, std::vector<double>* inv) {
    inv->resize(static_cast<size_t>(m.rows()));
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      double n = m.row(r).cast<double>().norm();
      (*inv)[static_cast<size_t>(r)] = n > 0 ? 1.0 / n : 0.0;
    }
  };
  inv_norms(users, &user_inv_norm_);
  inv_norms(items, &item_inv_norm_);
  users_unit_ = users;
  for (Eigen::Index r = 0; r < users.rows(); ++r)
    users_unit_.row(r) *= static_cast<float>(user_inv_norm_[static_cast<size_t>(r)]);
  items_scaled_ = items;
  double max_w = 0;
  for (Eigen::Index r = 0; r < items.rows(); ++r) {
    const double w = weight_[static_cast<size_t>(r)];
    max_w = std::max(max_w, std::fabs(w));
    items_scaled_.row(r) *= static_cast<float>(item_inv_norm_[static_cast<size_t>(r)] * w);
  }
  // A float dot product of two unit vectors of length d errs by at most
  // about d * 2^-24 (plus the rounding of the unit vectors themselves, a few
  // units more); the margin is 4 (d + 4) * 2^-24, times the largest weight.
  const double d = static_cast<double>(items.cols());
  margin_ = 4.0 * (d + 4.0) * std::ldexp(1.0, -24) * std::max(1.0, max_w);
}

void CosineSource::Block(int begin, int end, float* out) const {
  Eigen::Map<RowMatrix> s(out, end - begin, items_scaled_.rows());
  s.noalias() = users_unit_.middleRows(begin, end - begin) * items_scaled_.transpose();
}

double CosineSource::Exact(int user, int item) const {
  const float* a = users_.row(user).data();
  const float* b = items_.row(item).data();
  double dot = 0;
  for (Eigen::Index j = 0; j < users_.cols(); ++j) dot += static_cast<double>(a[j]) * static_cast<double>(b[j]);
  return dot * user_inv_norm_[static_cast<size_t>(user)] * item_inv_norm_[static_cast<size_t>(item)] *
         weight_[static_cast<size_t>(item)];
}

}  // namespace avrec
