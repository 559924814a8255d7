#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/profile.h"

namespace avrec {

uint64_t UserHash(const std::string& user_id) { return Fnv1a64(user_id); }

bool InShard(const std::string& user_id, int shard, int shards) {
  if (shards <= 1) return true;
  // floor(hash * shards / 2^64) without overflow.
  unsigned __int128 h = UserHash(user_id);
  return static_cast<int>((h * static_cast<unsigned>(shards)) >> 64) == shard;
}

int Profiles::Find(const std::string& user_id) const {
  const uint64_t h = UserHash(user_id);
  auto it = std::lower_bound(users.begin(), users.end(), user_id, [&](const std::string& a, const std::string& b) {
    uint64_t ha = UserHash(a);
    return ha != h ? ha < h : a < b;
  });
  return it != users.end() && *it == user_id ? static_cast<int>(it - users.begin()) : -1;
}

Profiles BuildProfiles(const std::vector<Review>& reviews, const std::unordered_map<std::string, Sentiment>* sentiment,
                       const ItemMatrix& items, const ProfileOptions& o, const std::vector<std::string>& extra_users) {
  Profiles p;
  // Rating scale and reference time from the data unless given.
  double rmin = INFINITY, rmax = -INFINITY;
  int64_t latest = 0;
  bool any_time = false;
  for (const Review& r : reviews) {
    if (r.rating) {
      rmin = std::min(rmin, *r.rating);
      rmax = std::max(rmax, *r.rating);
    }
    if (r.timestamp) {
      latest = any_time ? std::max(latest, *r.timestamp) : *r.timestamp;
      any_time = true;
    }
  }
  p.rating_min = o.rating_min.value_or(std::isfinite(rmin) ? rmin : 0);
  p.rating_max = o.rating_max.value_or(std::isfinite(rmax) ? rmax : 0);
  p.reference_time = o.now.value_or(latest);
  if (o.use_sentiment && sentiment == nullptr) Fail(ExitCode::kSoftware, "profiles: sentiment weighting without scores");

  // Group reviews by user.
  std::map<std::string, std::vector<const Review*>> by_user;
  for (const Review& r : reviews) by_user[r.user_id].push_back(&r);
  for (const auto& u : extra_users) by_user[u];
  p.users.reserve(by_user.size());
  for (const auto& [u, list] : by_user) p.users.push_back(u);
  std::sort(p.users.begin(), p.users.end(), [](const std::string& a, const std::string& b) {
    uint64_t ha = UserHash(a), hb = UserHash(b);
    return ha != hb ? ha < hb : a < b;
  });

  // Unit item vectors (items contribute by direction).
  const Eigen::Index d = items.vectors.cols();
  std::vector<double> inv_norm(items.ids.size());
  for (size_t i = 0; i < items.ids.size(); ++i) {
    double n = items.vectors.row(static_cast<Eigen::Index>(i)).cast<double>().norm();
    inv_norm[i] = n > 0 ? 1.0 / n : 0.0;
  }
  p.vectors = RowMatrix::Zero(static_cast<Eigen::Index>(p.users.size()), d);
  p.history.resize(p.users.size());
  p.cold_start.assign(p.users.size(), true);
  const double half = o.half_life_days * 86400.0;
  const double span = p.rating_max - p.rating_min;
  Eigen::VectorXd acc(d);
  for (size_t u = 0; u < p.users.size(); ++u) {
    auto& hist = p.history[u];
    for (const Review* r : by_user[p.users[u]]) {
      Interaction x;
      x.item = items.Find(r->item_id);
      if (x.item < 0) {
        ++p.unknown_items;
        continue;
      }
      x.review_id = r->review_id;
      x.rating = r->rating;
      x.timestamp = r->timestamp;
      if (sentiment != nullptr) {
        auto it = sentiment->find(r->review_id);
        if (it != sentiment->end()) x.sentiment = it->second.score;
      }
      // p_k: sentiment and rating mapped to [-1, 1], mixed when both are used
      // and known; 1 (a plain interaction) when neither is.
      std::optional<double> s = o.use_sentiment ? x.sentiment : std::nullopt;
      std::optional<double> rr;
      if (o.use_rating && r->rating) rr = span > 0 ? std::clamp(2 * (*r->rating - p.rating_min) / span - 1, -1.0, 1.0) : 0.0;
      if (s && rr) {
        x.preference = o.sentiment_share * *s + (1 - o.sentiment_share) * *rr;
      } else if (s) {
        x.preference = *s;
      } else if (rr) {
        x.preference = *rr;
      } else {
        x.preference = 1.0;
      }
      x.preference = o.interaction_weight + (1 - o.interaction_weight) * x.preference;
      double decay = 1.0;
      if (half > 0 && r->timestamp) decay = std::pow(0.5, std::max<double>(0, static_cast<double>(p.reference_time - *r->timestamp)) / half);
      x.weight = decay * x.preference;
      hist.push_back(std::move(x));
    }
    std::sort(hist.begin(), hist.end(), [](const Interaction& a, const Interaction& b) {
      return a.item != b.item ? a.item < b.item : a.review_id < b.review_id;
    });
    acc.setZero();
    int usable = 0;
    for (const Interaction& x : hist) {
      if (x.weight == 0) continue;
      ++usable;
      acc += (x.weight * inv_norm[x.item]) * items.vectors.row(x.item).transpose().cast<double>();
    }
    double norm = acc.norm();
    if (usable >= o.min_history && norm > 1e-12) {
      p.vectors.row(static_cast<Eigen::Index>(u)) = (acc / norm).cast<float>().transpose();
      p.cold_start[u] = false;
    }
  }
  return p;
}

}  // namespace avrec
