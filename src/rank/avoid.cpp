#include "rank/avoid.h"

#include <algorithm>
#include <numeric>

namespace avrec {

FeelingBaseline FitFeelingBaseline(const Profiles& profiles, int n_items, double shrinkage, int passes) {
  FeelingBaseline b;
  b.user.assign(profiles.users.size(), 0.0);
  b.item.assign(static_cast<size_t>(n_items), 0.0);
  double sum = 0;
  int64_t n = 0;
  std::vector<double> item_reviews(b.item.size(), 0.0), user_reviews(b.user.size(), 0.0);
  for (size_t u = 0; u < profiles.history.size(); ++u) {
    for (const Interaction& x : profiles.history[u]) {
      sum += x.feeling;
      ++n;
      item_reviews[static_cast<size_t>(x.item)] += 1;
      user_reviews[u] += 1;
    }
  }
  if (n == 0) return b;
  b.mean = sum / static_cast<double>(n);
  std::vector<double> acc;
  for (int pass = 0; pass < passes; ++pass) {
    acc.assign(b.item.size(), 0.0);
    for (size_t u = 0; u < profiles.history.size(); ++u) {
      for (const Interaction& x : profiles.history[u])
        acc[static_cast<size_t>(x.item)] += x.feeling - b.mean - b.user[u];
    }
    for (size_t i = 0; i < b.item.size(); ++i) b.item[i] = acc[i] / (item_reviews[i] + shrinkage);
    for (size_t u = 0; u < profiles.history.size(); ++u) {
      double r = 0;
      for (const Interaction& x : profiles.history[u]) r += x.feeling - b.mean - b.item[static_cast<size_t>(x.item)];
      b.user[u] = r / (user_reviews[u] + shrinkage);
    }
  }
  return b;
}

Avoidance::Avoidance(FeelingBaseline baseline, const std::vector<int>& candidates, double below)
    : baseline_(std::move(baseline)), below_(below) {
  columns_.resize(candidates.size());
  std::iota(columns_.begin(), columns_.end(), 0);
  const auto bias = [&](int c) { return baseline_.item[static_cast<size_t>(candidates[static_cast<size_t>(c)])]; };
  std::sort(columns_.begin(), columns_.end(),
            [&](int a, int b) { return bias(a) < bias(b) || (bias(a) == bias(b) && a < b); });
  bias_.reserve(columns_.size());
  for (int c : columns_) bias_.push_back(bias(c));
}

size_t Avoidance::Prefix(int p) const {
  const double limit = below_ - baseline_.mean - baseline_.user[static_cast<size_t>(p)];
  return static_cast<size_t>(std::lower_bound(bias_.begin(), bias_.end(), limit) - bias_.begin());
}

void Avoidance::Columns(int p, std::vector<int>* out) const {
  const auto end = columns_.begin() + static_cast<std::ptrdiff_t>(Prefix(p));
  out->assign(columns_.begin(), end);
  std::sort(out->begin(), out->end());
}

int64_t Avoidance::Count(int p) const { return static_cast<int64_t>(Prefix(p)); }

double Avoidance::Predicted(int p, int row) const {
  return baseline_.mean + baseline_.user[static_cast<size_t>(p)] + baseline_.item[static_cast<size_t>(row)];
}

}  // namespace avrec
