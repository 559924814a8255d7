#include "rank/knn.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "avrec/parallel.h"
#include "rank/collaborative.h"

namespace avrec {

double KnnModel::Sim(int i, int j) const {
  const auto& n = neighbours[static_cast<size_t>(i)];
  auto it = std::lower_bound(n.begin(), n.end(), j, [](const std::pair<int, double>& a, int b) { return a.first < b; });
  return it != n.end() && it->first == j ? it->second : 0.0;
}

KnnModel BuildKnn(const std::vector<std::vector<int>>& user_items, int n_items, int k, int threads, KnnTags tags) {
  std::vector<std::vector<int>> item_users(static_cast<size_t>(n_items));
  for (size_t u = 0; u < user_items.size(); ++u) {
    for (int i : user_items[u]) item_users[static_cast<size_t>(i)].push_back(static_cast<int>(u));
  }
  const double t = tags.item_tags != nullptr ? tags.weight : 0.0;
  const std::vector<std::vector<int>> tag_items =
      t > 0 ? ItemsByTag(tags.item_tags, n_items) : std::vector<std::vector<int>>{};
  const auto item_tags = [&](int i) -> const std::vector<int>& {
    static const std::vector<int> none;
    return t > 0 && static_cast<size_t>(i) < tags.item_tags->size() ? (*tags.item_tags)[static_cast<size_t>(i)] : none;
  };
  if (tags.weight > 0) {
    int tagged = 0;
    for (int i = 0; i < n_items; ++i) tagged += !item_tags(i).empty();
    if (tagged == 0) {
      spdlog::warn("item-knn: no item has a tag: --knn-tag-weight changes nothing");
    } else {
      spdlog::info("item-knn: {} of {} items have tags; each tag counts as {} users of its items", tagged, n_items,
                   tags.weight);
    }
  }
  // An item's weight in the cosine: its users, and t per tag.
  const auto norm = [&](int i) {
    return static_cast<double>(item_users[static_cast<size_t>(i)].size()) +
           t * static_cast<double>(item_tags(i).size());
  };
  KnnModel m;
  m.neighbours.resize(static_cast<size_t>(n_items));
  // Each item's list depends on nothing but the data (ties by item id), so the
  // items are shared out among threads in any order; reverse is then filled in
  // item order.
  std::atomic<int> next{0};
  RunOnThreads(std::max(1, std::min(threads, n_items)), [&] {
    std::vector<int> co(static_cast<size_t>(n_items), 0), shared(static_cast<size_t>(n_items), 0);
    std::vector<int> touched;
    const auto meet = [&](int j, std::vector<int>* count) {
      if (co[static_cast<size_t>(j)] == 0 && shared[static_cast<size_t>(j)] == 0) touched.push_back(j);
      ++(*count)[static_cast<size_t>(j)];
    };
    for (int i; (i = next.fetch_add(1)) < n_items;) {
      touched.clear();
      for (int u : item_users[static_cast<size_t>(i)]) {
        for (int j : user_items[static_cast<size_t>(u)]) {
          if (j != i) meet(j, &co);
        }
      }
      for (int g : item_tags(i)) {
        for (int j : tag_items[static_cast<size_t>(g)]) {
          if (j != i) meet(j, &shared);
        }
      }
      std::vector<std::pair<int, double>> sims;
      sims.reserve(touched.size());
      const double ni = norm(i);
      for (int j : touched) {
        const double both = co[static_cast<size_t>(j)] + t * shared[static_cast<size_t>(j)];
        sims.emplace_back(j, both / std::sqrt(ni * norm(j)));
        co[static_cast<size_t>(j)] = 0;
        shared[static_cast<size_t>(j)] = 0;
      }
      if (static_cast<int>(sims.size()) > k) {
        // the k most similar (a strict order: similarity, then item id), then by id
        std::nth_element(sims.begin(), sims.begin() + k, sims.end(), [](const auto& a, const auto& b) {
          return a.second > b.second || (a.second == b.second && a.first < b.first);
        });
        sims.resize(static_cast<size_t>(k));
      }
      std::sort(sims.begin(), sims.end());
      m.neighbours[static_cast<size_t>(i)] = std::move(sims);
    }
  });
  m.reverse.resize(static_cast<size_t>(n_items));
  for (int i = 0; i < n_items; ++i) {
    for (const auto& [j, s] : m.neighbours[static_cast<size_t>(i)])
      m.reverse[static_cast<size_t>(j)].emplace_back(i, s);
  }
  return m;
}

double KnnNorm(const std::vector<std::pair<int, double>>& weights) {
  double norm = 0;
  for (const auto& [j, v] : weights) norm += std::fabs(v);
  return norm;
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
