// Predicted dislikes (--avoid-below, docs/model.md section 3): the baseline of
// rating prediction, mu + b_u + b_i, fit on the feelings of every profile
// user's reviews, and the candidates it puts below a threshold for a user.
#pragma once

#include <cstdint>
#include <vector>

#include "avrec/profile.h"

namespace avrec {

struct FeelingBaseline {
  double mean = 0;           // mu: mean feeling of every review
  std::vector<double> user;  // b_u per profile user (0 without reviews)
  std::vector<double> item;  // b_i per item row (0 without reviews)
};

// Alternating shrunk means of the residuals, items first: b_i = Σ (f - mu -
// b_u) / (n_i + shrinkage), then b_u = Σ (f - mu - b_i) / (n_u + shrinkage),
// `passes` times. Sums run in profile and history order (deterministic).
FeelingBaseline FitFeelingBaseline(const Profiles& profiles, int n_items, double shrinkage, int passes = 10);

// Which candidate columns each user is predicted to feel less than `below`
// about: b_i < below - mu - b_u, a prefix of the candidates ordered by b_i.
class Avoidance {
 public:
  Avoidance(FeelingBaseline baseline, const std::vector<int>& candidates, double below);
  // The columns of profile user `p`, ascending, into *out (replaced).
  void Columns(int p, std::vector<int>* out) const;
  // How many there are.
  int64_t Count(int p) const;
  // The predicted feeling of profile user `p` about item row `row`.
  double Predicted(int p, int row) const;
  double below() const { return below_; }

 private:
  size_t Prefix(int p) const;
  FeelingBaseline baseline_;
  double below_;
  std::vector<int> columns_;  // candidate columns by (b_i, column) ascending
  std::vector<double> bias_;  // their b_i, same order
};

}  // namespace avrec
