// Item-item kNN: cosine similarity of items on the binary user x item
// interaction matrix, each item keeping its k most similar items.
#pragma once

#include <utility>
#include <vector>

namespace avrec {

struct KnnModel {
  std::vector<std::vector<std::pair<int, double>>> neighbours;  // item -> (item, sim), sorted by item
  std::vector<std::vector<std::pair<int, double>>> reverse;     // j -> (i, sim) with j in N(i), sorted by i

  // Similarity of j as a neighbour of i (0 when j is not among i's k).
  double Sim(int i, int j) const;
};

// `user_items`: per user, distinct item rows ascending. Ties in similarity
// are broken by item row. Deterministic.
KnnModel BuildKnn(const std::vector<std::vector<int>>& user_items, int n_items, int k);

}  // namespace avrec
