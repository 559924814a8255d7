#include "rank/explain.h"

#include <algorithm>

#include "avrec/numeric.h"

namespace avrec {

namespace {
constexpr size_t kMaxItemReasons = 3;
}

Explainer::Explainer(Algorithm algorithm, const ItemMatrix& items, const Profiles& profiles, const ItemStats& stats,
                     Collaborative collab)
    : algorithm_(algorithm), items_(items), profiles_(profiles), stats_(stats), collab_(collab) {}

Eigen::VectorXd Explainer::Unit(int row) const {
  Eigen::VectorXd v = items_.vectors.row(row).transpose().cast<double>();
  const double n = v.norm();
  return n > 0 ? Eigen::VectorXd(v / n) : v;
}

void Explainer::StartUser(int user, bool cold) {
  user_ = user;
  cold_ = cold;
  raw_norm_ = 0;
  if (cold || !AlgorithmUsesContent(algorithm_)) return;
  raw_ = Eigen::VectorXd::Zero(items_.vectors.cols());
  for (const Interaction& x : profiles_.history[static_cast<size_t>(user)]) raw_ += x.weight * Unit(x.item);
  raw_norm_ = raw_.norm();
}

std::vector<Reason> Explainer::Reasons(int item) const {
  std::vector<Reason> out;
  if (cold_) {
    Reason why;
    why.kind = "popular";
    why.value = stats_.popularity[static_cast<size_t>(item)];
    out.push_back(why);
    return out;
  }
  if (raw_norm_ > 0) AddContent(item, &out);
  if (collab_.knn != nullptr) AddKnn(item, &out);
  if (collab_.model != nullptr) AddLearned(item, &out);
  return out;
}

void Explainer::AddContent(int item, std::vector<Reason>* out) const {
  const Eigen::VectorXd target = Unit(item);
  std::vector<std::pair<double, const Interaction*>> contrib;
  for (const Interaction& x : profiles_.history[static_cast<size_t>(user_)]) {
    const double c = x.weight * Unit(x.item).dot(target) / raw_norm_;
    if (c > 0) contrib.emplace_back(c, &x);
  }
  std::stable_sort(contrib.begin(), contrib.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; k < contrib.size() && k < kMaxItemReasons; ++k) {
    const Interaction& x = *contrib[k].second;
    Reason why;
    why.kind = "similar_to";
    why.item_id = items_.ids[static_cast<size_t>(x.item)];
    why.review_id = x.review_id;
    why.value = RoundDecimals(contrib[k].first, 4);
    if (x.sentiment) why.sentiment = RoundDecimals(*x.sentiment, 4);
    why.rating = x.rating;
    out->push_back(why);
  }
  // The modality whose part of the profile agrees most with the item.
  double best = 0;
  const ModalityBlock* best_block = nullptr;
  for (const ModalityBlock& b : items_.modalities) {
    const double c = raw_.segment(b.begin, b.end - b.begin).dot(target.segment(b.begin, b.end - b.begin)) / raw_norm_;
    if (c > best) {
      best = c;
      best_block = &b;
    }
  }
  if (best_block != nullptr) {
    Reason why;
    why.kind = "modality";
    why.modality = best_block->name;
    why.value = RoundDecimals(best, 4);
    out->push_back(why);
  }
}

void Explainer::AddKnn(int item, std::vector<Reason>* out) const {
  std::vector<std::pair<double, int>> sims;
  for (int j : stats_.user_items[static_cast<size_t>(user_)]) {
    const double s = collab_.knn->Sim(item, j);
    if (s > 0) sims.emplace_back(s, j);
  }
  std::stable_sort(sims.begin(), sims.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t k = 0; k < sims.size() && k < kMaxItemReasons; ++k) {
    Reason why;
    why.kind = "co_reviewed_with";
    why.item_id = items_.ids[static_cast<size_t>(sims[k].second)];
    why.value = RoundDecimals(sims[k].first, 4);
    out->push_back(why);
  }
}

}  // namespace avrec

namespace avrec {

// The reviewed items whose interactions contribute most to a collaborative
// model's score for the item (their contributions sum to the score).
void Explainer::AddLearned(int item, std::vector<Reason>* out) const {
  auto contrib = collab_.model->Contributions(user_, item);
  std::sort(contrib.begin(), contrib.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  for (size_t k = 0; k < contrib.size() && k < kMaxItemReasons && contrib[k].second > 0; ++k) {
    Reason why;
    why.kind = "learned_from";
    why.item_id = items_.ids[static_cast<size_t>(contrib[k].first)];
    why.value = RoundDecimals(contrib[k].second, 4);
    out->push_back(why);
  }
}

}  // namespace avrec
