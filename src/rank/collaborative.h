// Collaborative models learned from who reviewed what, and how they felt
// about it (docs/model.md, "Collaborative models"):
// - EASE (Steck 2019): an item x item linear model, B = I - P diag(1/diag P)
//   with P = (X^T X + lambda I)^-1, zero diagonal; a user's score for item i
//   is sum_j x_uj B_ji. With a tag weight t, X^T X gains t F^T F, F the
//   tags x items indicator matrix (each tag a pseudo-user who reviewed the
//   items carrying it). With a session weight, B gains a symmetric term L
//   of pairs of items one user reviewed close together in time (scaled to
//   B's Frobenius norm).
// - ALS (Hu, Koren, Volinsky 2008): implicit-feedback matrix factorisation;
//   each interaction has a target p_ui in {0, 1} and a confidence
//   c_ui = 1 + alpha |v_ui|; user and item factors are solved in turn by
//   regularised least squares; a score is x_u . y_i. With a tag weight t,
//   each tag is a pseudo-user (after the users) who reviewed the items
//   carrying it with value t; its factors are dropped after training.
// Both read one value per (user, item) from the users' histories: the mean
// preference p_k of that user's reviews of the item (sentiment and/or rating
// per the profile options; 1 for a plain interaction). A value below zero
// is a dislike: EASE takes it as a negative input (scaled by
// negative_weight), ALS as a confident 0 target.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "avrec/profile.h"
#include "avrec/recommend.h"

namespace avrec {

// Per profile user, the distinct items reviewed with their value, by item:
// `rows` train the models; `query` holds the same entries with each value
// times the largest decay d among the user's reviews of the item (its most
// recent review's; docs/model.md section 2), and is what a user's scores start
// from (equal to `rows` without decay; empty: the same as `rows`).
// `timelines` holds, per user, the reviews that have a time as (time, item),
// in time order (then item), for EASE's session term (empty: no times).
// `item_tags`, when set, holds per item row its tag ids, ascending and
// distinct (ItemMatrix::tags), for the tag terms of EASE and ALS.
struct Interactions {
  int items = 0;
  std::vector<std::vector<std::pair<int, double>>> rows;
  std::vector<std::vector<std::pair<int, double>>> query;
  std::vector<std::vector<std::pair<int64_t, int>>> timelines;
  const std::vector<std::vector<int>>* item_tags = nullptr;
  // Per item: the users who reviewed it, whatever they felt (rows leave out
  // values of 0); empty: the rows' count.
  std::vector<int> reviewers;
};

// Values from the histories: mean preference per (user, item); negative
// means are multiplied by `negative_weight` (0: a disliked item counts as
// never seen; 1: as much as a liked one, with the opposite sign); and the
// decayed query values.
Interactions BuildInteractions(const Profiles& profiles, int n_items, double negative_weight);

// Per tag id: the item rows (below n_items) carrying it, ascending;
// `item_tags` per item row its tag ids (ItemMatrix::tags); none: empty.
std::vector<std::vector<int>> ItemsByTag(const std::vector<std::vector<int>>* item_tags, int n_items);

class CollaborativeModel {
 public:
  virtual ~CollaborativeModel() = default;
  // Scores of profile user `user` for item rows `items`, into out[0..n).
  virtual void Scores(int user, const std::vector<int>& items, double* out) const = 0;
  // One score; bit-identical to the entry Scores writes.
  virtual double Score(int user, int item) const = 0;
  // An upper bound on |score| over all users and items.
  virtual double Bound() const = 0;
  // Additive contributions of the user's reviewed items to the score of
  // `item` (they sum to it): (item row, contribution), any order.
  virtual std::vector<std::pair<int, double>> Contributions(int user, int item) const = 0;
};

// Throws Error(kUsage) when more items have interactions than
// options.ease_max_items (the item x item matrix would not fit).
std::unique_ptr<CollaborativeModel> TrainEase(const Interactions& x, const RecommendOptions& options, int threads);
std::unique_ptr<CollaborativeModel> TrainAls(const Interactions& x, const RecommendOptions& options, int threads);

// The factors of a trained ALS model (rows: users, items); empty matrices
// for other models. For tests.
std::pair<Eigen::MatrixXd, Eigen::MatrixXd> AlsFactors(const CollaborativeModel& model);

}  // namespace avrec
