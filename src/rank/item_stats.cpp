#include "rank/item_stats.h"

#include <algorithm>
#include <cmath>

namespace avrec {

ItemStats ComputeItemStats(const Profiles& profiles, int n_items, bool with_quality) {
  ItemStats s;
  const size_t n = static_cast<size_t>(n_items);
  s.user_items.resize(profiles.users.size());
  s.popularity.assign(n, 0.0);
  s.quality.assign(n, 0.0);
  for (size_t u = 0; u < profiles.users.size(); ++u) {
    auto& items = s.user_items[u];
    for (const Interaction& x : profiles.history[u]) {
      if (items.empty() || items.back() != x.item) items.push_back(x.item);
    }
    for (int i : items) s.popularity[static_cast<size_t>(i)] += 1;
  }
  s.users = static_cast<double>(std::max<size_t>(1, profiles.users.size()));
  if (with_quality) {
    std::vector<double> reviews(n, 0.0);
    for (const auto& hist : profiles.history) {
      for (const Interaction& x : hist) {
        s.quality[static_cast<size_t>(x.item)] += x.feeling;
        reviews[static_cast<size_t>(x.item)] += 1;
      }
    }
    for (size_t i = 0; i < n; ++i) s.quality[i] = reviews[i] > 0 ? s.quality[i] / reviews[i] : 0.0;
  }
  return s;
}

std::vector<int> SelectCandidates(const ItemMatrix& items, const std::vector<std::string>& allow,
                                  const std::vector<std::string>& deny) {
  const size_t n = items.ids.size();
  std::vector<char> allowed(n, allow.empty() ? 1 : 0);
  for (const auto& id : allow) {
    const int r = items.Find(id);
    if (r >= 0) allowed[static_cast<size_t>(r)] = 1;
  }
  for (const auto& id : deny) {
    const int r = items.Find(id);
    if (r >= 0) allowed[static_cast<size_t>(r)] = 0;
  }
  std::vector<int> candidates;
  for (size_t r = 0; r < n; ++r) {
    if (allowed[r]) candidates.push_back(static_cast<int>(r));
  }
  return candidates;
}

std::vector<double> ItemWeights(const ItemStats& stats, const std::vector<int>& candidates, const RecommendOptions& o) {
  double max_pop = 0;
  for (double p : stats.popularity) max_pop = std::max(max_pop, p);
  const double max_novelty = std::log2(stats.users + 1);
  std::vector<double> weight;
  weight.reserve(candidates.size());
  for (int r : candidates) {
    const double pop = stats.popularity[static_cast<size_t>(r)];
    double w = 1.0;
    if (o.popularity_weight != 0 && max_pop > 0) w += o.popularity_weight * std::log1p(pop) / std::log1p(max_pop);
    if (o.novelty_weight != 0) w += o.novelty_weight * (-std::log2((pop + 1) / (stats.users + 1))) / max_novelty;
    if (o.quality_weight != 0) w += o.quality_weight * stats.quality[static_cast<size_t>(r)];
    weight.push_back(std::max(0.0, w));
  }
  return weight;
}

std::vector<std::vector<int>> Exclusions(const ItemStats& stats, const std::vector<int>& users,
                                         const std::vector<int>& candidates, int n_items, bool include_seen) {
  std::vector<std::vector<int>> excluded(users.size());
  if (include_seen) return excluded;
  std::vector<int> column(static_cast<size_t>(n_items), -1);
  for (size_t c = 0; c < candidates.size(); ++c) column[static_cast<size_t>(candidates[c])] = static_cast<int>(c);
  for (size_t k = 0; k < users.size(); ++k) {
    for (int i : stats.user_items[static_cast<size_t>(users[k])]) {
      if (column[static_cast<size_t>(i)] >= 0) excluded[k].push_back(column[static_cast<size_t>(i)]);
    }
  }
  return excluded;
}

}  // namespace avrec
