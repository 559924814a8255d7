// Scores of ranked users against candidate items for every algorithm, as a
// ScoreSource for the exact top-k kernel (rank.h). Cold-start users get the
// popularity ranking, and so do the users of a collaborative algorithm whose
// history gives it nothing to go on (every candidate scores exactly 0).
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
  bool reads_tags = false;  // the model learned from the items' tags (a tag term of EASE, ALS or item-knn)
  bool any() const { return knn != nullptr || model != nullptr; }
};

class AlgorithmSource : public ScoreSource {
 public:
  // `users`: profile rows ranked, in output order; `candidates`: item rows;
  // `excluded`: per ranked user, the candidate columns their list leaves out
  // (seen items; Exclusions), ascending; `weight`: per candidate
  // (ItemWeights). Everything referenced must outlive the source. `threads`:
  // for the collaborative pass over the users (results do not depend on it).
  AlgorithmSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                  const std::vector<int>& candidates, const std::vector<std::vector<int>>& excluded,
                  const ItemMatrix& items, const std::vector<double>& weight, const ItemStats& stats,
                  Collaborative collab, double hybrid_content, int threads);
  ~AlgorithmSource() override;

  int users() const override { return static_cast<int>(users_.size()); }
  int items() const override { return static_cast<int>(candidates_.size()); }
  double Margin() const override { return margin_; }
  void Block(int begin, int end, float* out) const override;
  double Exact(int u, int c) const override;

  // Whether ranked user u gets the popularity ranking: no history, no usable
  // profile (content), or no collaborative signal (item-knn, ease, als: the
  // items they reviewed have no neighbours, or none but one another, fell
  // below --ease-min-support, or were all disliked so that ALS solved their
  // factors to 0).
  bool Cold(int u) const;
  // Whether ranked user u's scores are their profile's cosines alone: content
  // and sentiment-content, and hybrid when its collaborative part gives the
  // user no signal or --hybrid-content is 1 (docs/model.md, section 5).
  bool RanksByProfileAlone(int u) const;

 private:
  // Collaborative scores of ranked user u for every candidate, times the
  // item weight (knn: divided by the number of reviewed items, so in [0, 1]
  // before the weight).
  void CollabRow(int u, std::vector<double>* row) const;
  double CollabExact(int u, int c) const;
  const std::vector<int>& History(int u) const;
  // item-knn: ranked user u's reviewed items with their weights.
  const std::vector<std::pair<int, double>>& KnnWeights(int u) const;
  // One pass of collaborative rows over the users: the hybrid's per-user
  // normalisation, or which users get no collaborative signal.
  void ScanCollaborative(const std::vector<std::vector<int>>& excluded, int threads);
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
  // Per ranked user: every collaborative score of a candidate their list may
  // hold is 0 (the items they reviewed have no neighbours but one another).
  std::vector<char> silent_;
  RowMatrix user_rows_, item_rows_;
  std::unique_ptr<CosineSource> cosine_;
  double margin_ = 0;
};

}  // namespace avrec
