#include "rank/explain.h"

#include <algorithm>
#include <iterator>

#include "avrec/numeric.h"

namespace avrec {

namespace {
constexpr size_t kMaxItemReasons = 3;
constexpr size_t kMaxSharedTags = 3;
}  // namespace

Explainer::Explainer(Algorithm algorithm, const ItemMatrix& items, const Profiles& profiles, const ItemStats& stats,
                     Collaborative collab)
    : algorithm_(algorithm), items_(items), profiles_(profiles), stats_(stats), collab_(collab) {
  if (!AlgorithmUsesContent(algorithm)) return;
  mean_unit_ = Eigen::VectorXd::Zero(items.vectors.cols());
  for (Eigen::Index i = 0; i < items.vectors.rows(); ++i) mean_unit_ += Unit(static_cast<int>(i));
  if (items.vectors.rows() > 0) mean_unit_ /= static_cast<double>(items.vectors.rows());
}

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
  const auto& history = profiles_.history[static_cast<size_t>(user)];
  raw_ = Eigen::VectorXd::Zero(items_.vectors.cols());
  units_.resize(static_cast<Eigen::Index>(history.size()), items_.vectors.cols());
  base_.resize(static_cast<Eigen::Index>(history.size()));
  for (size_t k = 0; k < history.size(); ++k) {
    const Eigen::Index r = static_cast<Eigen::Index>(k);
    units_.row(r) = Unit(history[k].item).transpose();
    base_(r) = units_.row(r).dot(mean_unit_);
    raw_ += history[k].weight * units_.row(r).transpose();
  }
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
  const auto& history = profiles_.history[static_cast<size_t>(user_)];
  // Per review: its contribution to the item's cosine, and its lift (the
  // contribution minus what it gives the average catalogue item). Reasons
  // are the reviews that lift the item most: what sets this item apart, so
  // a user's items name different reviews.
  struct Part {
    double lift, contribution;
    size_t k;
  };
  const Eigen::VectorXd cos = units_ * target;
  std::vector<Part> parts;
  for (size_t k = 0; k < history.size(); ++k) {
    const double w = history[k].weight / raw_norm_;
    const Eigen::Index r = static_cast<Eigen::Index>(k);
    const double c = w * cos(r), lift = w * (cos(r) - base_(r));
    if (c > 0 && lift > 0) parts.push_back({lift, c, k});
  }
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.lift > b.lift; });
  for (size_t i = 0; i < parts.size() && i < kMaxItemReasons; ++i) {
    const Interaction& x = history[parts[i].k];
    Reason why;
    why.kind = "similar_to";
    why.item_id = items_.ids[static_cast<size_t>(x.item)];
    why.review_id = x.review_id;
    why.value = RoundDecimals(parts[i].contribution, 4);
    why.lift = RoundDecimals(parts[i].lift, 4);
    if (x.sentiment) why.sentiment = RoundDecimals(*x.sentiment, 4);
    why.rating = x.rating;
    why.preference = x.preference;
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
    // The named columns of that modality that agree most (embedding
    // dimensions have no names worth showing).
    std::vector<std::pair<double, int>> cols;
    for (int j = best_block->begin; j < best_block->end; ++j) {
      const double a = raw_(j) * target(j);
      const std::string& name = items_.column_names[static_cast<size_t>(j)];
      if (a > 0 && name.find('[') == std::string::npos) cols.emplace_back(a, j);
    }
    std::stable_sort(cols.begin(), cols.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < cols.size() && i < 2; ++i) {
      why.features.push_back(items_.column_names[static_cast<size_t>(cols[i].second)]);
    }
    out->push_back(why);
  }
}

// The reviewed items that raise the score most (weight x similarity > 0:
// a disliked item is never a reason), each with its similarity. An item
// nobody reviewed (the tag term gave it neighbours) owes its score to tags
// alone: its reasons say "tagged_like", each with its contribution to the
// score (the weighted mean of section 5: v sim / sum |v|).
void Explainer::AddKnn(int item, std::vector<Reason>* out) const {
  struct Neighbour {
    double contribution, sim;
    int item;
  };
  std::vector<Neighbour> near;
  const auto& weights = collab_.knn->user_weights[static_cast<size_t>(user_)];
  for (const auto& [j, v] : weights) {
    const double s = collab_.knn->Sim(item, j);
    if (v * s > 0) near.push_back({v * s, s, j});
  }
  std::stable_sort(near.begin(), near.end(), [](const Neighbour& a, const Neighbour& b) {
    return a.contribution > b.contribution || (a.contribution == b.contribution && a.item < b.item);
  });
  const bool by_tags = collab_.reads_tags && stats_.popularity[static_cast<size_t>(item)] == 0;
  const double norm = by_tags ? KnnNorm(weights) : 0.0;
  for (size_t k = 0; k < near.size() && k < kMaxItemReasons; ++k) {
    Reason why;
    why.kind = by_tags ? "tagged_like" : "co_reviewed_with";
    why.item_id = items_.ids[static_cast<size_t>(near[k].item)];
    why.value = RoundDecimals(by_tags ? near[k].contribution / norm : near[k].sim, 4);
    AddSharedTags(near[k].item, item, &why);
    out->push_back(why);
  }
}

// With a tag term, the tags the cited item shares with the recommended one.
void Explainer::AddSharedTags(int cited, int item, Reason* why) const {
  if (!collab_.reads_tags) return;
  const auto& a = items_.tags[static_cast<size_t>(cited)];
  const auto& b = items_.tags[static_cast<size_t>(item)];
  std::vector<int> shared;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
  for (size_t t = 0; t < shared.size() && t < kMaxSharedTags; ++t) {
    why->tags.push_back(items_.tag_names[static_cast<size_t>(shared[t])]);
  }
}

// The reviewed items whose interactions contribute most to a collaborative
// model's score for the item (their contributions sum to the score); when
// the model read the items' tags, each with the tags the two items share.
// An item nobody reviewed (EASE's tag term brought it in) owes its score to
// the tags alone (its own, or those of items people reviewed along with the
// cited one): its reasons say "tagged_like", not "learned_from".
void Explainer::AddLearned(int item, std::vector<Reason>* out) const {
  const bool by_tags = collab_.reads_tags && stats_.popularity[static_cast<size_t>(item)] == 0;
  auto contrib = collab_.model->Contributions(user_, item);
  std::sort(contrib.begin(), contrib.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  for (size_t k = 0; k < contrib.size() && k < kMaxItemReasons && contrib[k].second > 0; ++k) {
    Reason why;
    why.kind = by_tags ? "tagged_like" : "learned_from";
    why.item_id = items_.ids[static_cast<size_t>(contrib[k].first)];
    why.value = RoundDecimals(contrib[k].second, 4);
    AddSharedTags(contrib[k].first, item, &why);
    out->push_back(why);
  }
}

}  // namespace avrec
