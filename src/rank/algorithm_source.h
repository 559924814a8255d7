// Scores of ranked users against candidate items for every algorithm, as a
// ScoreSource for the exact top-k kernel (rank.h). Cold-start users get the
// popularity ranking.
#pragma once

#include <memory>
#include <vector>

#include "avrec/rank.h"
#include "avrec/recommend.h"
#include "rank/item_stats.h"
#include "rank/knn.h"

namespace avrec {

class AlgorithmSource : public ScoreSource {
 public:
  // `users`: profile rows ranked, in output order; `candidates`: item rows;
  // `weight`: per candidate (ItemWeights). `knn` may be null unless the
  // algorithm uses it. Everything referenced must outlive the source.
  AlgorithmSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                  const std::vector<int>& candidates, const ItemMatrix& items, const std::vector<double>& weight,
                  const ItemStats& stats, const KnnModel* knn, double hybrid_content);
  ~AlgorithmSource() override;

  int users() const override { return static_cast<int>(users_.size()); }
  int items() const override { return static_cast<int>(candidates_.size()); }
  double Margin() const override { return cosine_ ? cosine_->Margin() : 1e-9; }
  void Block(int begin, int end, float* out) const override;
  double Exact(int u, int c) const override;

  // Whether ranked user u gets the popularity ranking.
  bool Cold(int u) const;

 private:
  // knn score of user u for every candidate: sum of similarities to the
  // items the user reviewed, times the item weight, divided by the number of
  // those items (so it lies in [0, 1] before the weight).
  void KnnRow(int u, std::vector<double>* row) const;
  double KnnExact(int u, int c) const;
  const std::vector<int>& History(int u) const;

  Algorithm algo_;
  const std::vector<int>& users_;
  const Profiles& profiles_;
  const std::vector<int>& candidates_;
  const std::vector<double>& weight_;
  const ItemStats& stats_;
  const KnnModel* knn_;
  double lambda_;
  std::vector<double> pop_score_;
  std::vector<int> cand_of_;
  std::vector<double> knn_scale_;
  RowMatrix user_rows_, item_rows_;
  std::unique_ptr<CosineSource> cosine_;
};

}  // namespace avrec
