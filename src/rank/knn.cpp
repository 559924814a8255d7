#include "rank/knn.h"

#include <algorithm>
#include <cmath>

namespace avrec {

double KnnModel::Sim(int i, int j) const {
  const auto& n = neighbours[static_cast<size_t>(i)];
  auto it = std::lower_bound(n.begin(), n.end(), j, [](const std::pair<int, double>& a, int b) { return a.first < b; });
  return it != n.end() && it->first == j ? it->second : 0.0;
}

KnnModel BuildKnn(const std::vector<std::vector<int>>& user_items, int n_items, int k) {
  std::vector<std::vector<int>> item_users(static_cast<size_t>(n_items));
  for (size_t u = 0; u < user_items.size(); ++u) {
    for (int i : user_items[u]) item_users[static_cast<size_t>(i)].push_back(static_cast<int>(u));
  }
  KnnModel m;
  m.neighbours.resize(static_cast<size_t>(n_items));
  m.reverse.resize(static_cast<size_t>(n_items));
  std::vector<int> co(static_cast<size_t>(n_items), 0);
  std::vector<int> touched;
  for (int i = 0; i < n_items; ++i) {
    touched.clear();
    for (int u : item_users[static_cast<size_t>(i)]) {
      for (int j : user_items[static_cast<size_t>(u)]) {
        if (j == i) continue;
        if (co[static_cast<size_t>(j)]++ == 0) touched.push_back(j);
      }
    }
    std::vector<std::pair<int, double>> sims;
    const double ni = static_cast<double>(item_users[static_cast<size_t>(i)].size());
    for (int j : touched) {
      const double nj = static_cast<double>(item_users[static_cast<size_t>(j)].size());
      sims.emplace_back(j, co[static_cast<size_t>(j)] / std::sqrt(ni * nj));
      co[static_cast<size_t>(j)] = 0;
    }
    std::sort(sims.begin(), sims.end(), [](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    if (static_cast<int>(sims.size()) > k) sims.resize(static_cast<size_t>(k));
    std::sort(sims.begin(), sims.end());
    for (const auto& [j, s] : sims) m.reverse[static_cast<size_t>(j)].emplace_back(i, s);
    m.neighbours[static_cast<size_t>(i)] = std::move(sims);
  }
  return m;
}

void SetKnnWeights(KnnModel* m, const std::vector<std::vector<std::pair<int, double>>>& values,
                   const std::vector<std::vector<int>>& user_items) {
  m->user_weights.assign(user_items.size(), {});
  for (size_t u = 0; u < user_items.size(); ++u) {
    if (u < values.size() && !values[u].empty()) {
      m->user_weights[u] = values[u];
      continue;
    }
    for (int i : user_items[u]) m->user_weights[u].emplace_back(i, 1.0);
  }
}

}  // namespace avrec
