// Item-item kNN: cosine similarity of items on the binary user x item
// interaction matrix, each item keeping its k most similar items. With tags,
// each tag counts as `weight` users who reviewed every item carrying it.
#pragma once

#include <utility>
#include <vector>

namespace avrec {

struct KnnModel {
  std::vector<std::vector<std::pair<int, double>>> neighbours;  // item -> (item, sim), sorted by item
  std::vector<std::vector<std::pair<int, double>>> reverse;     // j -> (i, sim) with j in N(i), sorted by i

  // Per user (profile row): the reviewed items with their weight in the
  // score, (item, v) ascending by item; v is the interaction value of the
  // collaborative models (negative for a dislike), or 1 for every reviewed
  // item when the user's values are all 0 (no preference signal).
  std::vector<std::vector<std::pair<int, double>>> user_weights;

  // Similarity of j as a neighbour of i (0 when j is not among i's k).
  double Sim(int i, int j) const;
};

// The items' tags for the similarities: per item row its tag ids, ascending
// and distinct (ItemMatrix::tags), each tag counting as `weight` users.
struct KnnTags {
  const std::vector<std::vector<int>>* item_tags = nullptr;
  double weight = 0;
};

// `user_items`: per user, distinct item rows ascending. Ties in similarity
// are broken by item row. Deterministic whatever `threads` (items are
// shared out among them). With `tags`, sim(i, j) = (|U_i ∩ U_j| + t s_ij) /
// sqrt((|U_i| + t T_i)(|U_j| + t T_j)), s_ij the tags i and j share and T_i
// i's tag count: for a whole t, the plain cosine with t pseudo-users per tag
// appended to `user_items`, bit for bit.
KnnModel BuildKnn(const std::vector<std::vector<int>>& user_items, int n_items, int k, int threads = 1,
                  KnnTags tags = {});

// The sum of |v| over a user's weights: an item-knn score is the weighted
// mean sum_j v_j sim(i, j) / sum_j |v_j|.
double KnnNorm(const std::vector<std::pair<int, double>>& weights);

// Fills `user_weights` from the interaction values (`values[u]`: (item, v)
// ascending, v != 0, as BuildInteractions makes them).
void SetKnnWeights(KnnModel* m, const std::vector<std::vector<std::pair<int, double>>>& values,
                   const std::vector<std::vector<int>>& user_items);

}  // namespace avrec
