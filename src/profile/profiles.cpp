#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/profile.h"
#include "avrec/table.h"
#include "avrec/text.h"

namespace avrec {

void ProfileOptions::Describe(OptionSet* set) {
  const Effect r = Effect::kResults;
  // Some act only under another's value (Option::inert): the share needs
  // both sentiment and ratings, the rating scale needs ratings, and --now is
  // the reference of the time decay only.
  const auto unless_rated = [this] {
    return use_rating ? std::string() : std::string("it reads the ratings, and --no-rating is given");
  };
  set->AddNegFlag("--no-sentiment", "profile.use_sentiment", &use_sentiment,
                  "Profiles ignore sentiment (weights from ratings, else uniform)", r);
  set->AddNegFlag("--no-rating", "profile.use_rating", &use_rating, "Profiles ignore ratings", r);
  set->AddNumber("--sentiment-share", "profile.sentiment_share", &sentiment_share, {0, 1},
                 "Share of sentiment in a review's weight when its rating is known too (the rest is the rating)", r)
      .inert = [this] {
    if (!use_sentiment) return std::string("it shares a review's weight with sentiment, and --no-sentiment is given");
    return use_rating ? std::string()
                      : std::string("it shares a review's weight with the rating, and --no-rating is given");
  };
  set->AddNumber("--interaction-weight", "profile.interaction_weight", &interaction_weight, {0, 1},
                 "beta in [0, 1]: a review's weight is beta + (1 - beta) x preference (0: negative reviews repel)", r);
  set->AddNumber("--half-life-days", "profile.half_life_days", &half_life_days, {0, 1e9},
                 "Time decay of review weights (0: none)", r);
  set->AddNumber("--half-life-reviews", "profile.half_life_reviews", &half_life_reviews, {0, 1e9},
                 "Recency decay: a review's weight halves every this many later reviews by the same user (0: none)", r);
  set->Add("--now", "profile.now", &now,
           "Reference time of the decay (Unix seconds or ISO 8601; default: the latest review)", r)
      .inert = [this] {
    return half_life_days > 0 ? std::string()
                              : std::string("it is the reference time of --half-life-days, and that is 0");
  };
  set->AddNumber("--rating-min", "profile.rating_min", &rating_min, {-1e15, 1e15},
                 "Lowest rating of the scale (default: the data's)", r)
      .inert = unless_rated;
  set->AddNumber("--rating-max", "profile.rating_max", &rating_max, {-1e15, 1e15},
                 "Highest rating of the scale (default: the data's)", r)
      .inert = unless_rated;
  set->AddChoice("--rating-kind", "profile.rating_kind", &rating_kind,
                 {{"stars", RatingKind::kStars}, {"counts", RatingKind::kCounts}},
                 "What the rating column holds: stars (mapped linearly to [-1, 1]) or counts (plays, views: "
                 "log(1 + count) / log(1 + the largest), in [0, 1], never a dislike)",
                 r)
      .inert = unless_rated;
  set->AddNumber("--min-history", "profile.min_history", &min_history, {0, 1e9},
                 "Fewer usable reviews than this: the user is cold-start", r);
}

void ProfileOptions::Validate() const {
  ValidateDescribed(*this);
  NowSeconds();
  if (rating_kind == RatingKind::kCounts && rating_min) {
    Fail(ExitCode::kUsage, "--rating-min ", *rating_min,
         ": a scale of counts starts at 0 (--rating-kind counts); --rating-max sets the count that counts in full");
  }
  if (rating_min && rating_max && !(*rating_min < *rating_max)) {
    Fail(ExitCode::kUsage, "--rating-min ", *rating_min, " / --rating-max ", *rating_max,
         ": expected the lowest rating below the highest");
  }
}

std::optional<int64_t> ProfileOptions::NowSeconds() const {
  if (now.empty()) return std::nullopt;
  int64_t t = 0;
  if (!ParseTimestamp(now, &t)) Fail(ExitCode::kUsage, "--now: expected Unix seconds or ISO 8601, got '", now, "'");
  return t;
}

uint64_t UserHash(const std::string& user_id) { return Fnv1a64(user_id); }

bool InShard(const std::string& user_id, int shard, int shards) {
  if (shards <= 1) return true;
  // floor(hash * shards / 2^64) without overflow.
  unsigned __int128 h = UserHash(user_id);
  return static_cast<int>((h * static_cast<unsigned>(shards)) >> 64) == shard;
}

std::vector<int> ShardRows(const Profiles& profiles, int shard, int shards, const std::vector<char>* only) {
  std::vector<int> rows;
  for (size_t u = 0; u < profiles.users.size(); ++u) {
    if (only != nullptr && (*only)[u] == 0) continue;
    if (InShard(profiles.users[u], shard, shards)) rows.push_back(static_cast<int>(u));
  }
  return rows;
}

int Profiles::Find(const std::string& user_id) const {
  const uint64_t h = UserHash(user_id);
  auto it = std::lower_bound(users.begin(), users.end(), user_id, [&](const std::string& a, const std::string& b) {
    uint64_t ha = UserHash(a);
    return ha != h ? ha < h : a < b;
  });
  return it != users.end() && *it == user_id ? static_cast<int>(it - users.begin()) : -1;
}

double RatingToUnit(double rating, double min, double max) {
  const double span = max - min;
  return span > 0 ? std::clamp(2 * (rating - min) / span - 1, -1.0, 1.0) : 0.0;
}

double Profiles::RatingUnit(double rating) const {
  if (rating_kind == RatingKind::kStars) return RatingToUnit(rating, rating_min, rating_max);
  const double top = std::log1p(std::max(0.0, rating_max));
  return top > 0 ? std::clamp(std::log1p(std::max(0.0, rating)) / top, 0.0, 1.0) : 0.0;
}

double ReviewFeeling(std::optional<double> sentiment, std::optional<double> rating_unit, const ProfileOptions& o) {
  double p = 1.0;
  if (sentiment && rating_unit) {
    p = o.sentiment_share * *sentiment + (1 - o.sentiment_share) * *rating_unit;
  } else if (sentiment) {
    p = *sentiment;
  } else if (rating_unit) {
    p = *rating_unit;
  }
  return p;
}

namespace {

// p <- beta + (1 - beta) f, beta = interaction_weight.
double PreferenceOf(double feeling, const ProfileOptions& o) {
  return o.interaction_weight + (1 - o.interaction_weight) * feeling;
}

}  // namespace

double ReviewPreference(std::optional<double> sentiment, std::optional<double> rating_unit, const ProfileOptions& o) {
  return PreferenceOf(ReviewFeeling(sentiment, rating_unit, o), o);
}

namespace {

// The rating scale and reference time: from the options, else the data.
void ResolveScaleAndTime(const std::vector<Review>& reviews, const ProfileOptions& o, Profiles* p) {
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
  p->rating_kind = o.rating_kind;
  if (o.rating_kind == RatingKind::kCounts) {
    // A count below 0 is no count: a column of stars centred on 0, or of
    // scores, read under the wrong kind.
    for (const Review& r : reviews) {
      if (o.use_rating && r.rating && *r.rating < 0) {
        Fail(ExitCode::kDataErr, "--rating-kind counts: review ", EscapeForMessage(r.review_id), " (line ", r.line,
             ") has the rating ", *r.rating, ", and a count is 0 or more");
      }
    }
    rmin = 0;
  }
  p->rating_min = o.rating_min.value_or(std::isfinite(rmin) ? rmin : 0);
  p->rating_max = o.rating_max.value_or(std::isfinite(rmax) ? rmax : 0);
  p->reference_time = o.NowSeconds().value_or(latest);
}

// Reviews grouped by user; users in output order ((hash, id) ascending).
std::map<std::string, std::vector<const Review*>> GroupByUser(const std::vector<Review>& reviews,
                                                              const std::vector<std::string>& extra_users,
                                                              std::vector<std::string>* users) {
  std::map<std::string, std::vector<const Review*>> by_user;
  for (const Review& r : reviews) by_user[r.user_id].push_back(&r);
  for (const auto& u : extra_users) by_user[u];
  users->reserve(by_user.size());
  for (const auto& [u, list] : by_user) users->push_back(u);
  std::sort(users->begin(), users->end(), [](const std::string& a, const std::string& b) {
    uint64_t ha = UserHash(a), hb = UserHash(b);
    return ha != hb ? ha < hb : a < b;
  });
  return by_user;
}

// Time halvings of a review: age / half-life, 0 without a time or a half-life.
double TimeHalvings(const Review& r, const Profiles& p, const ProfileOptions& o) {
  const double half = o.half_life_days * 86400.0;
  if (half <= 0 || !r.timestamp) return 0;
  return std::max<double>(0, static_cast<double>(p.reference_time - *r.timestamp)) / half;
}

// The halvings the time decay of one user's reviews is spared: 0 unless
// even the user's newest review is more than kMaxHalvings half-lives old,
// then the whole number of half-lives it is old. Without it the decays of a
// user last seen long ago (three years at a 1-day half-life) round to zero,
// and the user would become cold-start; the decay weighs a user's reviews
// against each other, so the same power of two on all of them changes
// nothing a profile or a linear query depends on.
constexpr double kMaxHalvings = 256;
double SparedHalvings(const std::vector<const Review*>& user_reviews, const ItemMatrix& items, const Profiles& p,
                      const ProfileOptions& o) {
  double newest = INFINITY;
  for (const Review* r : user_reviews) {
    if (items.Find(r->item_id) >= 0) newest = std::min(newest, TimeHalvings(*r, p, o));
  }
  return std::isfinite(newest) && newest > kMaxHalvings ? std::floor(newest) : 0;
}

Interaction MakeInteraction(const Review& r, int item, const ReviewScores* sentiment, const Profiles& p,
                            const ProfileOptions& o, double spared_halvings) {
  Interaction x;
  x.item = item;
  x.review_id = r.review_id;
  x.rating = r.rating;
  x.timestamp = r.timestamp;
  if (sentiment != nullptr) {
    auto it = sentiment->find(r.review_id);
    if (it != sentiment->end()) x.sentiment = it->second;
  }
  std::optional<double> s = o.use_sentiment ? x.sentiment : std::nullopt;
  std::optional<double> rr;
  if (o.use_rating && r.rating) rr = p.RatingUnit(*r.rating);
  x.feeling = ReviewFeeling(s, rr, o);
  x.preference = PreferenceOf(x.feeling, o);
  const double halvings = TimeHalvings(r, p, o);
  x.decay = halvings > 0 ? std::pow(0.5, halvings - spared_halvings) : 1.0;
  x.weight = x.decay * x.preference;
  return x;
}

// d_k *= 0.5^(later_k / half_life_reviews), later_k: the user's reviews
// (of catalogue items, with a time) strictly after review k. Reviews at
// the same time decay alike; a review without a time is not decayed and
// is later than none.
void DecayByRecency(const ProfileOptions& o, std::vector<Interaction>* hist) {
  if (o.half_life_reviews <= 0) return;
  std::vector<int64_t> times;
  for (const Interaction& x : *hist) {
    if (x.timestamp) times.push_back(*x.timestamp);
  }
  std::sort(times.begin(), times.end());
  for (Interaction& x : *hist) {
    if (!x.timestamp) continue;
    const auto later = times.end() - std::upper_bound(times.begin(), times.end(), *x.timestamp);
    x.decay *= std::pow(0.5, static_cast<double>(later) / o.half_life_reviews);
    x.weight = x.decay * x.preference;
  }
}

// P_u = sum_k w_k X_k / |X_k|, normalised; cold start when fewer than
// min_history usable reviews or a sum that cancels out. "Cancels" is
// relative to the weights' own size: decay can make every weight of a user
// whose reviews are all old tiny (2^-52 a year back at a 7-day half-life),
// which says nothing against their direction. The net share compares |P_u|
// with the norm the same reviews would give if none were disliked.
void Accumulate(const ItemMatrix& items, const std::vector<double>& inv_norm, const ProfileOptions& o, size_t u,
                Profiles* p) {
  const Eigen::Index d = items.vectors.cols();
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(d), unsigned_acc = Eigen::VectorXd::Zero(d);
  int usable = 0;
  double mass = 0;
  for (const Interaction& x : p->history[u]) {
    if (x.weight == 0) continue;
    ++usable;
    mass += std::fabs(x.weight);
    const auto row = items.vectors.row(x.item).transpose().cast<double>();
    acc += (x.weight * inv_norm[x.item]) * row;
    unsigned_acc += (std::fabs(x.weight) * inv_norm[x.item]) * row;
  }
  const double norm = acc.norm(), unsigned_norm = unsigned_acc.norm();
  if (usable >= o.min_history && norm > 1e-12 * mass) {
    p->vectors.row(static_cast<Eigen::Index>(u)) = (acc / norm).cast<float>().transpose();
    p->cold_start[u] = false;
    p->net_share[u] = std::min(1.0, norm / unsigned_norm);
  }
}

}  // namespace

Profiles BuildProfiles(const std::vector<Review>& reviews, const ReviewScores* sentiment, const ItemMatrix& items,
                       const ProfileOptions& o, const std::vector<std::string>& extra_users) {
  o.Validate();
  if (o.use_sentiment && sentiment == nullptr)
    Fail(ExitCode::kSoftware, "profiles: sentiment weighting without scores");
  Profiles p;
  ResolveScaleAndTime(reviews, o, &p);
  auto by_user = GroupByUser(reviews, extra_users, &p.users);

  // Unit item vectors (items contribute by direction).
  std::vector<double> inv_norm(items.ids.size());
  for (size_t i = 0; i < items.ids.size(); ++i) {
    double n = items.vectors.row(static_cast<Eigen::Index>(i)).cast<double>().norm();
    inv_norm[i] = n > 0 ? 1.0 / n : 0.0;
  }
  p.vectors = RowMatrix::Zero(static_cast<Eigen::Index>(p.users.size()), items.vectors.cols());
  p.history.resize(p.users.size());
  p.cold_start.assign(p.users.size(), true);
  p.net_share.assign(p.users.size(), 1.0);
  for (size_t u = 0; u < p.users.size(); ++u) {
    auto& hist = p.history[u];
    const auto& user_reviews = by_user[p.users[u]];
    const double spared = SparedHalvings(user_reviews, items, p, o);
    for (const Review* r : user_reviews) {
      const int item = items.Find(r->item_id);
      if (item < 0) {
        ++p.unknown_items;
        continue;
      }
      hist.push_back(MakeInteraction(*r, item, sentiment, p, o, spared));
    }
    DecayByRecency(o, &hist);
    std::sort(hist.begin(), hist.end(), [](const Interaction& a, const Interaction& b) {
      return a.item != b.item ? a.item < b.item : a.review_id < b.review_id;
    });
    Accumulate(items, inv_norm, o, u, &p);
  }
  return p;
}

}  // namespace avrec
