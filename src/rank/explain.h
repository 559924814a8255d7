// Reasons for a recommendation (docs/recommendations.md): the reviewed items
// that pulled it up and by how much, the modality that agrees most, the
// co-reviewed items (kNN), the reviewed items a collaborative model learned
// it from (EASE, ALS), or its popularity (cold start).
#pragma once

#include <vector>

#include "avrec/recommend.h"
#include "rank/algorithm_source.h"
#include "rank/item_stats.h"
#include "rank/knn.h"

namespace avrec {

class Explainer {
 public:
  // Everything referenced must outlive the explainer.
  Explainer(Algorithm algorithm, const ItemMatrix& items, const Profiles& profiles, const ItemStats& stats,
            Collaborative collab);

  // Prepares the reasons of profile row `user`; `cold`: ranked by popularity.
  void StartUser(int user, bool cold);
  // Reasons for item row `item` of the user last started. Contributions of
  // similar_to reasons sum, over every review, to the item's cosine; the
  // reviews shown are those with the largest lift over the average item.
  std::vector<Reason> Reasons(int item) const;

 private:
  Eigen::VectorXd Unit(int row) const;  // item vector at unit length (zero stays zero)
  void AddContent(int item, std::vector<Reason>* out) const;
  void AddKnn(int item, std::vector<Reason>* out) const;
  void AddLearned(int item, std::vector<Reason>* out) const;
  void AddSharedTags(int cited, int item, Reason* why) const;

  Algorithm algorithm_;
  const ItemMatrix& items_;
  const Profiles& profiles_;
  const ItemStats& stats_;
  Collaborative collab_;
  int user_ = -1;
  bool cold_ = false;
  Eigen::VectorXd mean_unit_;  // mean unit item vector of the catalogue
  Eigen::VectorXd raw_;        // the user's unnormalised profile: sum of w_k unit(X_k)
  double raw_norm_ = 0;
  Eigen::MatrixXd units_;  // per review of the user: unit(X_k)
  Eigen::VectorXd base_;   // per review: unit(X_k) . mean_unit_
};

}  // namespace avrec
