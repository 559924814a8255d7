// Scores of ranked users against candidate items for every algorithm, as a
// ScoreSource for the exact top-k kernel (rank.h). Cold-start users get the
// popularity ranking.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "avrec/rank.h"
#include "avrec/recommend.h"
#include "rank/collaborative.h"
#include "rank/item_stats.h"
#include "rank/knn.h"

namespace avrec {

// The collaborative part of an algorithm: item-knn, or a trained model.
struct Collaborative {
  const KnnModel* knn = nullptr;
  const CollaborativeModel* model = nullptr;
  bool any() const { return knn != nullptr || model != nullptr; }
};

class AlgorithmSource : public ScoreSource {
 public:
  // `users`: profile rows ranked, in output order; `candidates`: item rows;
  // `weight`: per candidate (ItemWeights). Everything referenced must outlive
  // the source.
  AlgorithmSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                  const std::vector<int>& candidates, const ItemMatrix& items, const std::vector<double>& weight,
                  const ItemStats& stats, Collaborative collab, double hybrid_content);
  ~AlgorithmSource() override;

  int users() const override { return static_cast<int>(users_.size()); }
  int items() const override { return static_cast<int>(candidates_.size()); }
  double Margin() const override { return margin_; }
  void Block(int begin, int end, float* out) const override;
  double Exact(int u, int c) const override;

  // Whether ranked user u gets the popularity ranking.
  bool Cold(int u) const;

 private:
  // Collaborative scores of ranked user u for every candidate, times the
  // item weight (knn: divided by the number of reviewed items, so in [0, 1]
  // before the weight).
  void CollabRow(int u, std::vector<double>* row) const;
  double CollabExact(int u, int c) const;
  const std::vector<int>& History(int u) const;
  // item-knn: ranked user u's reviewed items with their weights.
  const std::vector<std::pair<int, double>>& KnnWeights(int u) const;
  static double KnnNorm(const std::vector<std::pair<int, double>>& hist);
  void ComputeHybridScales();
  void ComputeMargin(const std::vector<double>& weight);

  Algorithm algo_;
  const std::vector<int>& users_;
  const Profiles& profiles_;
  const std::vector<int>& candidates_;
  const std::vector<double>& weight_;
  const ItemStats& stats_;
  Collaborative collab_;
  double lambda_;
  std::vector<double> pop_score_;
  std::vector<int> cand_of_;
  std::vector<double> collab_scale_;  // per ranked user: hybrid normalisation
  RowMatrix user_rows_, item_rows_;
  std::unique_ptr<CosineSource> cosine_;
  double margin_ = 0;
};

}  // namespace avrec
