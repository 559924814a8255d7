#include <Eigen/Core>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>

#include "avrec/error.h"
#include "avrec/parallel.h"
#include "avrec/rank.h"
#include "dot_kernel.h"

namespace avrec {

namespace {

constexpr int kExtraCandidates = 16;

// Better-than on (score desc, item asc).
inline bool Better(float sa, int ia, float sb, int ib) { return sa > sb || (sa == sb && ia < ib); }

// Bit t set where row[t] > threshold, t < 16 (NaN: not set).
inline uint32_t AboveMask16(const float* row, float threshold) {
#ifdef __AVX2__
  const __m256 thr = _mm256_set1_ps(threshold);
  const auto lo = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row), thr, _CMP_GT_OQ)));
  const auto hi = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + 8), thr, _CMP_GT_OQ)));
  return lo | hi << 8;
#else
  uint32_t mask = 0;
  for (int t = 0; t < 16; ++t) mask |= static_cast<uint32_t>(row[t] > threshold) << t;
  return mask;
#endif
}

// The `want` best (float) items of one row, skipping `excluded` (sorted) and
// NaN scores; *worst is the lowest float score kept. Items beating the worst
// of the best `want` seen so far are appended to a buffer of four times that size;
// a full buffer is cut back to its best `want` (nth_element), which raises
// the bar. Once the buffer has filled, a chunk of 16 scores is looked at one
// by one only when one of them clears the bar, so the scan runs at memory
// speed. The kept set is exactly the best `want` by (score desc, item asc).
void FloatCandidates(const float* row, int n, const std::vector<int>& excluded, int want,
                     std::vector<std::pair<float, int>>* candidates, float* worst) {
  auto& c = *candidates;
  c.clear();
  *worst = std::numeric_limits<float>::infinity();
  if (want <= 0) return;
  const auto better = [](const std::pair<float, int>& a, const std::pair<float, int>& b) {
    return Better(a.first, a.second, b.first, b.second);
  };
  const size_t keep = static_cast<size_t>(want), capacity = 4 * keep;
  // Items scoring no more than the bar cannot enter (ties lose: they come
  // later, so their item index is higher).
  float bar = -std::numeric_limits<float>::infinity();
  bool barred = false;
  const auto cut = [&] {
    std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(keep - 1), c.end(), better);
    c.resize(keep);
    bar = c.back().first;
    barred = true;
  };
  size_t ex = 0;
  const auto consider = [&](int i) {
    const float s = row[i];
    if (barred ? !(s > bar) : s != s) return;
    while (ex < excluded.size() && excluded[ex] < i) ++ex;
    if (ex < excluded.size() && excluded[ex] == i) return;
    c.emplace_back(s, i);
    if (c.size() == capacity) cut();
  };
  int i = 0;
  for (; i < n && !barred; ++i) consider(i);
  for (; i + 16 <= n; i += 16) {
    for (uint32_t m = AboveMask16(row + i, bar); m != 0; m &= m - 1) consider(i + __builtin_ctz(m));
  }
  for (; i < n; ++i) consider(i);
  if (c.size() > keep) cut();
  for (const auto& [s, item] : c) *worst = std::min(*worst, s);
}

// Exact top-k of one user: float candidates, exact rescoring, and a check
// that nothing outside the candidates can reach the top k.
void SelectUser(const ScoreSource& src, int user, const float* row, const std::vector<int>& excluded, int k,
                std::vector<std::pair<float, int>>* candidates, std::vector<Scored>* best) {
  const int n = src.items();
  const int want = std::min(n, k + kExtraCandidates);
  float worst = 0;
  FloatCandidates(row, n, excluded, want, candidates, &worst);
  best->clear();
  for (const auto& [s, i] : *candidates) best->push_back({i, src.Exact(user, i)});
  std::sort(best->begin(), best->end(), RanksBefore);
  const bool full = static_cast<int>(candidates->size()) == want;
  if (full && static_cast<int>(best->size()) >= k && want < n) {
    // Items outside the candidates have float score <= the worst candidate's,
    // so exact score <= that + margin.
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
      std::sort(best->begin(), best->end(), RanksBefore);
    }
  }
  if (static_cast<int>(best->size()) > k) best->resize(static_cast<size_t>(k));
}

}  // namespace

namespace {

// Blocks of users in waves of `threads`: computed in parallel, each block's
// users handed in order to `fill(slot, user, best)` on the worker that
// computed it, then `emit(slot, begin, end)` on the calling thread, in block
// order. Score
// buffers live per slot across waves (allocated once).
void RunWaves(const ScoreSource& source, const TopKOptions& options,
              const std::function<const std::vector<int>&(int user)>& excluded,
              const std::function<void(int slot, int user, const std::vector<Scored>& best)>& fill,
              const std::function<void(int slot, int begin, int end)>& emit) {
  const int users = source.users(), n = source.items();
  // A block never holds more than every user (a larger one would only
  // overflow the block count).
  const int block = std::clamp(options.block_users, 1, std::max(1, users));
  const int threads = std::max(1, options.threads);
  // More than the catalogue is all of it (and k + kExtraCandidates must not
  // overflow).
  const int k = std::max(0, std::min(options.k, n));
  if (users == 0) return;
  Eigen::setNbThreads(1);  // one block per thread instead
  const int blocks = (users + block - 1) / block;
  std::vector<std::vector<float>> scores(static_cast<size_t>(std::min(threads, blocks)));
  for (int wave = 0; wave < blocks; wave += threads) {
    const int in_wave = std::min(threads, blocks - wave);
    std::atomic<int> next{0};
    RunOnThreads(in_wave, [&] {
      std::vector<std::pair<float, int>> candidates;
      std::vector<Scored> best;
      for (int w; (w = next.fetch_add(1)) < in_wave;) {
        const int begin = (wave + w) * block, end = std::min(users, begin + block);
        auto& buf = scores[static_cast<size_t>(w)];
        buf.resize(static_cast<size_t>(end - begin) * static_cast<size_t>(n));
        if (n > 0) source.Block(begin, end, buf.data());
        for (int u = begin; u < end; ++u) {
          SelectUser(source, u, buf.data() + static_cast<size_t>(u - begin) * n, excluded(u), k, &candidates, &best);
          fill(w, u, best);
        }
      }
    });
    for (int w = 0; w < in_wave; ++w) {
      const int begin = (wave + w) * block;
      emit(w, begin, std::min(users, begin + block));
    }
  }
}

}  // namespace

void SelectTopK(const ScoreSource& source, const TopKOptions& options,
                const std::function<const std::vector<int>&(int user)>& excluded,
                const std::function<void(int user, const std::vector<Scored>& best)>& sink) {
  std::vector<std::vector<std::vector<Scored>>> results(static_cast<size_t>(std::max(1, options.threads)));
  RunWaves(
      source, options, excluded,
      [&](int slot, int, const std::vector<Scored>& best) { results[static_cast<size_t>(slot)].push_back(best); },
      [&](int slot, int begin, int end) {
        auto& out = results[static_cast<size_t>(slot)];
        for (int u = begin; u < end; ++u) sink(u, out[static_cast<size_t>(u - begin)]);
        out.clear();
      });
}

void SelectTopKText(const ScoreSource& source, const TopKOptions& options,
                    const std::function<const std::vector<int>&(int user)>& excluded,
                    const std::function<void(int user, const std::vector<Scored>& best, std::string* out)>& format,
                    const std::function<void(const std::string& text)>& write) {
  std::vector<std::string> texts(static_cast<size_t>(std::max(1, options.threads)));
  RunWaves(
      source, options, excluded,
      [&](int slot, int user, const std::vector<Scored>& best) {
        format(user, best, &texts[static_cast<size_t>(slot)]);
      },
      [&](int slot, int, int) {
        auto& text = texts[static_cast<size_t>(slot)];
        write(text);
        text.clear();
      });
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
  // Scaled in double: the inverse norm of a row of subnormal floats (1e-40)
  // is beyond a float's range, and a float factor of infinity would turn the
  // row into infinities and NaNs.
  const auto scaled = [](const RowMatrix& m, Eigen::Index r, double factor) {
    return (m.row(r).cast<double>() * factor).cast<float>();
  };
  users_unit_.resize(users.rows(), users.cols());
  for (Eigen::Index r = 0; r < users.rows(); ++r)
    users_unit_.row(r) = scaled(users, r, user_inv_norm_[static_cast<size_t>(r)]);
  items_scaled_.resize(items.rows(), items.cols());
  double max_w = 0;
  for (Eigen::Index r = 0; r < items.rows(); ++r) {
    const double w = weight_[static_cast<size_t>(r)];
    max_w = std::max(max_w, std::fabs(w));
    items_scaled_.row(r) = scaled(items, r, item_inv_norm_[static_cast<size_t>(r)] * w);
  }
  // A float dot product of two unit vectors of length d errs by at most
  // about d * 2^-24 (plus the rounding of the unit vectors themselves, a few
  // units more); the margin is 4 (d + 4) * 2^-24, times the largest weight.
  const double d = static_cast<double>(items.cols());
  margin_ = 4.0 * (d + 4.0) * std::ldexp(1.0, -24) * std::max(1.0, max_w);
  if (kernel::ChooseIsa() == kernel::Isa::kAvx512) {
    packed_ = std::make_unique<kernel::PackedItems>(kernel::Pack(items_scaled_));
    items_scaled_.resize(0, items_scaled_.cols());
  }
}

CosineSource::~CosineSource() = default;

std::string CosineKernelName() { return kernel::IsaName(kernel::ChooseIsa()); }

void CosineSource::Block(int begin, int end, float* out) const {
  if (packed_) {
    kernel::DotAvx512(users_unit_.row(begin).data(), end - begin, *packed_, out);
    return;
  }
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
