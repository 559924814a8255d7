#include "avrec/evaluate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/hash.h"

namespace avrec {

namespace {
const std::vector<std::pair<std::string, SplitMethod>> kSplitMethods = {{"temporal", SplitMethod::kTemporal},
                                                                        {"leave-last", SplitMethod::kLeaveLast},
                                                                        {"user-temporal", SplitMethod::kUserTemporal},
                                                                        {"random", SplitMethod::kRandom}};
}

SplitMethod ParseSplitMethod(const std::string& s) {
  for (const auto& [n, m] : kSplitMethods) {
    if (n == s) return m;
  }
  options_detail::BadChoice("--method", s, {"temporal", "leave-last", "user-temporal", "random"});
}

const char* SplitMethodName(SplitMethod m) {
  for (const auto& [n, x] : kSplitMethods) {
    if (x == m) return n.c_str();
  }
  return "?";
}

namespace {

// A check of a share strictly between 0 and 1 (a split with an empty side),
// after the closed range's.
void ExcludeEnds(Option* option, const double* value) {
  option->check = [closed = option->check, value](const std::string& name) {
    if (closed) closed(name);
    if (*value == 0 || *value == 1) Fail(ExitCode::kUsage, name, ": expected a number in (0, 1), found ", *value);
  };
}

}  // namespace

void SplitOptions::Describe(OptionSet* set) {
  set->AddChoice("--method", "", &method, kSplitMethods,
                 "temporal (global time cut), leave-last (each user's last N), user-temporal (each user's latest "
                 "--fraction), random (a --fraction of each user's, drawn)");
  // Each of the others acts under one or two methods.
  const auto only_under = [this](Option* option, std::vector<SplitMethod> methods) {
    option->inert = [this, methods] {
      if (std::find(methods.begin(), methods.end(), method) != methods.end()) return std::string();
      std::string names;
      for (const SplitMethod m : methods) names += std::string(names.empty() ? "" : " and ") + SplitMethodName(m);
      return "it sets the " + names + " split" + (methods.size() > 1 ? "s" : "") + ", and --method is " +
             SplitMethodName(method);
    };
  };
  Option* q =
      &set->AddNumber("--quantile", "", &quantile, {0, 1}, "temporal: reviews up to this time quantile go to train");
  ExcludeEnds(q, &quantile);
  only_under(q, {SplitMethod::kTemporal});
  only_under(&set->AddNumber("--last", "", &last, {1, 1e9}, "leave-last: each user's last N reviews go to test"),
             {SplitMethod::kLeaveLast});
  Option* f = &set->AddNumber("--fraction", "", &fraction, {0, 1},
                              "random, user-temporal: share of each user's reviews that go to test");
  ExcludeEnds(f, &fraction);
  only_under(f, {SplitMethod::kRandom, SplitMethod::kUserTemporal});
  only_under(&set->Add("--seed", "", &seed, "random: seed"), {SplitMethod::kRandom});
}

void SplitOptions::Validate() const { ValidateDescribed(*this); }

SplitResult SplitReviews(const std::vector<Review>& reviews, const SplitOptions& o) {
  o.Validate();
  SplitResult out;
  const size_t n = reviews.size();
  out.is_test.assign(n, false);
  for (const Review& r : reviews) out.untimed += !r.timestamp.has_value();
  if (o.method == SplitMethod::kTemporal) {
    std::vector<int64_t> times;
    for (const Review& r : reviews) {
      if (r.timestamp) times.push_back(*r.timestamp);
    }
    if (times.empty()) Fail(ExitCode::kDataErr, "temporal split: no review has a timestamp");
    std::sort(times.begin(), times.end());
    // The cut: the time at the quantile (nearest rank); later reviews test.
    size_t idx = static_cast<size_t>(std::ceil(o.quantile * static_cast<double>(times.size())));
    idx = std::min(times.size() - 1, idx == 0 ? 0 : idx - 1);
    out.cut_time = times[idx];
    for (size_t i = 0; i < n; ++i) out.is_test[i] = reviews[i].timestamp && *reviews[i].timestamp > out.cut_time;
  } else {
    std::map<std::string, std::vector<size_t>> by_user;
    for (size_t i = 0; i < n; ++i) by_user[reviews[i].user_id].push_back(i);
    for (auto& [user, idx] : by_user) {
      if (idx.size() < 2) continue;  // a single review stays in train
      if (o.method == SplitMethod::kLeaveLast || o.method == SplitMethod::kUserTemporal) {
        // By time (untimed first), then review_id.
        std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
          const auto& ra = reviews[a];
          const auto& rb = reviews[b];
          int64_t ta = ra.timestamp.value_or(std::numeric_limits<int64_t>::min());
          int64_t tb = rb.timestamp.value_or(std::numeric_limits<int64_t>::min());
          return ta != tb ? ta < tb : ra.review_id < rb.review_id;
        });
        size_t take = static_cast<size_t>(o.last);
        if (o.method == SplitMethod::kUserTemporal) {
          take = static_cast<size_t>(std::floor(o.fraction * static_cast<double>(idx.size()) + 0.5));
        }
        take = std::clamp<size_t>(take, 1, idx.size() - 1);
        for (size_t k = idx.size() - take; k < idx.size(); ++k) out.is_test[idx[k]] = true;
      } else {
        std::sort(idx.begin(), idx.end(),
                  [&](size_t a, size_t b) { return reviews[a].review_id < reviews[b].review_id; });
        std::mt19937_64 rng(o.seed ^ Fnv1a64(user));
        for (size_t k = idx.size() - 1; k > 0; --k) {
          std::uniform_int_distribution<size_t> pick(0, k);
          std::swap(idx[k], idx[pick(rng)]);
        }
        size_t take = static_cast<size_t>(std::floor(o.fraction * static_cast<double>(idx.size()) + 0.5));
        take = std::clamp<size_t>(take, 1, idx.size() - 1);
        for (size_t k = 0; k < take; ++k) out.is_test[idx[k]] = true;
      }
    }
  }
  std::set<std::string> train_users, train_items, test_users, test_items;
  for (size_t i = 0; i < n; ++i) {
    (out.is_test[i] ? test_users : train_users).insert(reviews[i].user_id);
    (out.is_test[i] ? test_items : train_items).insert(reviews[i].item_id);
  }
  for (const auto& u : test_users) {
    if (!train_users.count(u)) out.test_only_users.push_back(u);
  }
  for (const auto& i : test_items) {
    if (!train_items.count(i)) out.test_only_items.push_back(i);
  }
  return out;
}

// ---- metrics ----------------------------------------------------------------------

namespace {

int Hits(const std::vector<int>& rel, int k) {
  int h = 0;
  for (int i = 0; i < k && i < static_cast<int>(rel.size()); ++i) h += rel[static_cast<size_t>(i)];
  return h;
}

}  // namespace

double PrecisionAtK(const std::vector<int>& rel, int k) { return static_cast<double>(Hits(rel, k)) / k; }

double RecallAtK(const std::vector<int>& rel, int k, int n_relevant) {
  return n_relevant > 0 ? static_cast<double>(Hits(rel, k)) / n_relevant : 0.0;
}

double NdcgAtK(const std::vector<int>& rel, int k, int n_relevant) {
  double dcg = 0, idcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(rel.size()); ++i) {
    if (rel[static_cast<size_t>(i)]) dcg += 1.0 / std::log2(i + 2.0);
  }
  for (int i = 0; i < std::min(n_relevant, k); ++i) idcg += 1.0 / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0.0;
}

double MapAtK(const std::vector<int>& rel, int k, int n_relevant) {
  double sum = 0;
  int hits = 0;
  for (int i = 0; i < k && i < static_cast<int>(rel.size()); ++i) {
    if (rel[static_cast<size_t>(i)]) {
      ++hits;
      sum += static_cast<double>(hits) / (i + 1);
    }
  }
  const int denom = std::min(n_relevant, k);
  return denom > 0 ? sum / denom : 0.0;
}

double MrrAtK(const std::vector<int>& rel, int k) {
  for (int i = 0; i < k && i < static_cast<int>(rel.size()); ++i) {
    if (rel[static_cast<size_t>(i)]) return 1.0 / (i + 1);
  }
  return 0.0;
}

double HitAtK(const std::vector<int>& rel, int k) { return Hits(rel, k) > 0 ? 1.0 : 0.0; }

int GradeOfRating(double rating, double min, double max) {
  const double stars = max > min ? 1 + 4 * (rating - min) / (max - min) : 3;
  if (stars < 2.5) return 0;
  if (stars < 3.5) return 1;
  if (stars < 4.5) return 2;
  return 3;
}

int GradeOfSentiment(double score) {
  if (score < -0.33) return 0;
  if (score <= 0.33) return 1;
  if (score <= 0.8) return 2;
  return 3;
}

double GradedNdcgAtK(const std::vector<int>& list_gains, const std::vector<int>& all_gains, int k) {
  std::vector<int> ideal = all_gains;
  std::sort(ideal.begin(), ideal.end(), std::greater<int>());
  double dcg = 0, idcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(ideal.size()); ++i) {
    idcg += std::max(0, ideal[static_cast<size_t>(i)]) / std::log2(i + 2.0);
  }
  if (idcg == 0) return std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < k && i < static_cast<int>(list_gains.size()); ++i) {
    dcg += std::max(0, list_gains[static_cast<size_t>(i)]) / std::log2(i + 2.0);
  }
  return dcg / idcg;
}

double DislikedAtK(const std::vector<int>& list_gains, int k) {
  int hits = 0;
  for (int i = 0; i < k && i < static_cast<int>(list_gains.size()); ++i)
    hits += list_gains[static_cast<size_t>(i)] == 0;
  return static_cast<double>(hits) / k;
}

double PairwiseAuc(const std::vector<std::string>& list, const std::unordered_map<std::string, int>& gains) {
  std::unordered_map<std::string, size_t> rank;
  for (size_t r = 0; r < list.size(); ++r) rank.emplace(list[r], r);
  const size_t unlisted = list.size();
  std::vector<size_t> liked, disliked;
  for (const auto& [item, g] : gains) {
    auto it = rank.find(item);
    const size_t pos = it == rank.end() ? unlisted : it->second;
    if (g >= 2) liked.push_back(pos);
    if (g == 0) disliked.push_back(pos);
  }
  if (liked.empty() || disliked.empty()) return std::numeric_limits<double>::quiet_NaN();
  double wins = 0;
  for (size_t l : liked) {
    for (size_t d : disliked) wins += l < d ? 1.0 : l == d ? 0.5 : 0.0;
  }
  return wins / static_cast<double>(liked.size() * disliked.size());
}

std::vector<std::string> DistinctInOrder(const std::vector<std::string>& list) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& i : list) {
    if (seen.insert(i).second) out.push_back(i);
  }
  return out;
}

namespace {

// The list of a user, duplicates dropped (DistinctInOrder); has_list false
// when the user has none.
std::vector<std::string> ListOf(const EvaluationInputs& in, const std::string& user, bool* has_list) {
  auto it = in.recs.find(user);
  *has_list = it != in.recs.end();
  return *has_list ? DistinctInOrder(it->second) : std::vector<std::string>{};
}

// Beyond accuracy: properties of the list (NaN when there is none).
void ListProperties(const EvaluationInputs& in, const std::vector<std::string>& list, size_t top, MetricValues* m) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double nov = 0, arp = 0;
  int nov_n = 0;
  for (size_t p = 0; p < top; ++p) {
    auto pop = in.train_popularity.find(list[p]);
    const int64_t c = pop == in.train_popularity.end() ? 0 : pop->second;
    arp += static_cast<double>(c);
    if (c > 0 && in.train_users > 0) {
      nov += -std::log2(static_cast<double>(c) / static_cast<double>(in.train_users));
      ++nov_n;
    }
  }
  (*m)["novelty"] = nov_n > 0 ? nov / nov_n : nan;
  (*m)["arp"] = top > 0 ? arp / static_cast<double>(top) : nan;
  (*m)["ild"] = nan;
  if (in.item_vectors == nullptr || top < 2) return;
  std::vector<Eigen::VectorXd> v;
  for (size_t p = 0; p < top; ++p) {
    const int row = in.item_vectors->Find(list[p]);
    if (row < 0) continue;
    Eigen::VectorXd x = in.item_vectors->vectors.row(row).transpose().cast<double>();
    const double n = x.norm();
    v.push_back(n > 0 ? Eigen::VectorXd(x / n) : x);
  }
  if (v.size() < 2) return;
  double s = 0;
  int pairs = 0;
  for (size_t a = 0; a < v.size(); ++a) {
    for (size_t b = a + 1; b < v.size(); ++b) {
      s += 1.0 - v[a].dot(v[b]);
      ++pairs;
    }
  }
  (*m)["ild"] = s / pairs;
}

// Graded metrics of one list: ndcg_graded, disliked (per k) and
// pairwise_auc (NaN where the user is not evaluated for them).
void GradedMetrics(const std::unordered_map<std::string, int>* gains, const std::vector<std::string>& list, int k,
                   MetricValues* m) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (gains == nullptr) {
    for (const char* name : {"ndcg_graded", "disliked", "pairwise_auc"}) (*m)[name] = nan;
    return;
  }
  std::vector<int> list_gains, all;
  for (const auto& i : list) {
    auto g = gains->find(i);
    list_gains.push_back(g == gains->end() ? -1 : g->second);
  }
  bool any_disliked = false;
  for (const auto& [i, g] : *gains) {
    all.push_back(g);
    any_disliked |= g == 0;
  }
  (*m)["ndcg_graded"] = GradedNdcgAtK(list_gains, all, k);
  (*m)["disliked"] = any_disliked ? DislikedAtK(list_gains, k) : nan;
  (*m)["pairwise_auc"] = PairwiseAuc(list, *gains);
}

}  // namespace

// What MetricsOf sets: six accuracy metrics, three of the list, three graded.
constexpr size_t kMetricsPerUser = 12;

namespace {

// Where `name` is or would go in `values`, kept sorted by name.
template <typename Values>
auto PlaceOf(Values& values, std::string_view name) {
  return std::lower_bound(values.begin(), values.end(), name,
                          [](const auto& entry, std::string_view n) { return entry.first < n; });
}

}  // namespace

double& MetricValues::operator[](std::string_view name) {
  if (values_.empty()) values_.reserve(kMetricsPerUser);
  const auto at = PlaceOf(values_, name);
  if (at != values_.end() && at->first == name) return at->second;
  return values_.insert(at, {name, std::numeric_limits<double>::quiet_NaN()})->second;
}

const double* MetricValues::find(std::string_view name) const {
  const auto found = PlaceOf(values_, name);
  return found == values_.end() || found->first != name ? nullptr : &found->second;
}

double MetricValues::at(std::string_view name) const {
  const auto found = PlaceOf(values_, name);
  if (found == values_.end() || found->first != name) Fail(ExitCode::kSoftware, "evaluate: no metric '", name, "'");
  return found->second;
}

namespace {

UserMetrics MetricsOf(const EvaluationInputs& in, const std::string& u, const std::vector<int>& ks,
                      std::vector<std::unordered_set<std::string>>* covered) {
  UserMetrics um;
  um.user_id = u;
  const std::vector<std::string> list = ListOf(in, u, &um.has_list);
  auto rel_it = in.relevant.find(u);
  const std::unordered_set<std::string> none;
  const auto& relevant = rel_it == in.relevant.end() ? none : rel_it->second;
  std::vector<int> rel;
  for (const auto& i : list) rel.push_back(relevant.count(i) ? 1 : 0);
  const int nr = static_cast<int>(relevant.size());
  auto g = in.gains.find(u);
  for (size_t q = 0; q < ks.size(); ++q) {
    const int k = ks[q];
    MetricValues m;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m["precision"] = nr > 0 ? PrecisionAtK(rel, k) : nan;
    m["recall"] = nr > 0 ? RecallAtK(rel, k, nr) : nan;
    m["ndcg"] = nr > 0 ? NdcgAtK(rel, k, nr) : nan;
    m["map"] = nr > 0 ? MapAtK(rel, k, nr) : nan;
    m["mrr"] = nr > 0 ? MrrAtK(rel, k) : nan;
    m["hit"] = nr > 0 ? HitAtK(rel, k) : nan;
    const size_t top = std::min(list.size(), static_cast<size_t>(k));
    if (nr > 0) {
      for (size_t p = 0; p < top; ++p) (*covered)[q].insert(list[p]);
    }
    ListProperties(in, list, top, &m);
    if (!in.gains.empty()) GradedMetrics(g == in.gains.end() ? nullptr : &g->second, list, k, &m);
    um.at_k.push_back(std::move(m));
  }
  return um;
}

// The mean of a metric over the users that have a value for it (or, for
// the accuracy metrics, over every evaluated user: a user without a list
// counts 0); NaN when no user has one (0 would read as a result: a perfect
// disliked@k, an AUC that is always wrong).
double MeanOf(const std::vector<UserMetrics>& users, size_t q, std::string_view name, size_t* count) {
  double sum = 0;
  *count = 0;
  for (const auto& um : users) {
    const double v = um.at_k[q].at(name);
    if (std::isnan(v)) continue;
    sum += v;
    ++*count;
  }
  return *count > 0 ? sum / static_cast<double>(*count) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

EvaluationResult Evaluate(const EvaluationInputs& in, const std::vector<int>& ks) {
  EvaluationResult out;
  out.ks = ks;
  // Users in id order (so is --per-user's output).
  std::vector<std::string> users;
  for (const auto& [u, r] : in.relevant) {
    if (!r.empty()) users.push_back(u);
  }
  const size_t accuracy_users = users.size();
  for (const auto& [u, g] : in.gains) users.push_back(u);
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<std::unordered_set<std::string>> covered(ks.size());
  for (const std::string& u : users) out.per_user.push_back(MetricsOf(in, u, ks, &covered));
  const bool graded = !in.gains.empty();
  size_t n = 0, graded_users = 0, disliked_users = 0, auc_users = 0;
  for (size_t q = 0; q < ks.size(); ++q) {
    const std::string at = "@" + std::to_string(ks[q]);
    for (const char* name : {"precision", "recall", "ndcg", "map", "mrr", "hit"}) {
      out.summary.emplace_back(name + at, MeanOf(out.per_user, q, name, &n));
    }
    if (in.catalogue_size > 0) {
      out.summary.emplace_back("coverage" + at,
                               static_cast<double>(covered[q].size()) / static_cast<double>(in.catalogue_size));
    }
    if (in.train_users > 0) {
      out.summary.emplace_back("novelty" + at, MeanOf(out.per_user, q, "novelty", &n));
      out.summary.emplace_back("arp" + at, MeanOf(out.per_user, q, "arp", &n));
    }
    if (in.item_vectors != nullptr) out.summary.emplace_back("ild" + at, MeanOf(out.per_user, q, "ild", &n));
    if (graded) {
      out.summary.emplace_back("ndcg_graded" + at, MeanOf(out.per_user, q, "ndcg_graded", &graded_users));
      out.summary.emplace_back("disliked" + at, MeanOf(out.per_user, q, "disliked", &disliked_users));
    }
  }
  if (graded && !ks.empty()) {
    out.summary.emplace_back("pairwise_auc", MeanOf(out.per_user, 0, "pairwise_auc", &auc_users));
  }
  out.summary.emplace_back("users_evaluated", static_cast<double>(accuracy_users));
  if (graded) {
    out.summary.emplace_back("users_graded", static_cast<double>(graded_users));
    out.summary.emplace_back("users_with_disliked", static_cast<double>(disliked_users));
    out.summary.emplace_back("users_auc", static_cast<double>(auc_users));
  }
  return out;
}

std::vector<std::string> EvaluationFieldNames(const std::vector<int>& ks) {
  // Evaluate itself names them, for one user with nothing to measure.
  const ItemMatrix none;
  EvaluationInputs every;
  every.catalogue_size = 1;
  every.train_users = 1;
  every.item_vectors = &none;
  every.gains["user"];
  std::vector<std::string> names;
  for (const auto& [name, value] : Evaluate(every, ks).summary) names.push_back(name);
  return names;
}

namespace {

// The p-quantile (0..1) of sorted values, interpolated between the two
// nearest order statistics.
double QuantileOfSorted(const std::vector<double>& sorted, double p) {
  const double at = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Where a summary name's per-user values are: the metric's name and the
// index of its k ("ndcg@10" -> "ndcg", the index of 10; "pairwise_auc" ->
// itself, 0). False for a name no k of the run has.
bool PerUserPlace(const std::string& summary_name, const std::vector<int>& ks, std::string* metric, size_t* q) {
  const size_t at = summary_name.rfind('@');
  *metric = summary_name.substr(0, at);
  if (at == std::string::npos) {
    *q = 0;
    return !ks.empty();
  }
  const std::string k = summary_name.substr(at + 1);
  for (size_t i = 0; i < ks.size(); ++i) {
    if (std::to_string(ks[i]) == k) {
      *q = i;
      return true;
    }
  }
  return false;
}

// The 95 % percentile-bootstrap interval of each of m paired metrics' mean
// change over n users: diff[u * m + c] is user u's change of metric c, and
// has[u * m + c] 1 when u has it in both runs, else 0. NaN where no resample
// drew a user that has the metric.
std::vector<std::pair<double, double>> BootstrapIntervals(const std::vector<double>& diff,
                                                          const std::vector<double>& has, size_t n, size_t m,
                                                          int resamples, uint64_t seed) {
  // Resamples: n users drawn with replacement, the same draws for every
  // metric; a user is drawn by the high half of a 64 x 64-bit product
  // (exact and the same on every platform, unlike a library distribution).
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> means(m);
  for (auto& v : means) v.reserve(static_cast<size_t>(resamples));
  std::vector<double> sum(m), count(m);
  for (int r = 0; r < resamples; ++r) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(count.begin(), count.end(), 0.0);
    for (size_t draw = 0; draw < n; ++draw) {
      const size_t u = static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
      const double* d = &diff[u * m];
      const double* h = &has[u * m];
      for (size_t c = 0; c < m; ++c) {
        sum[c] += d[c];
        count[c] += h[c];
      }
    }
    for (size_t c = 0; c < m; ++c) {
      if (count[c] > 0) means[c].push_back(sum[c] / count[c]);
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, double>> out(m, {nan, nan});
  for (size_t c = 0; c < m; ++c) {
    if (means[c].empty()) continue;
    std::sort(means[c].begin(), means[c].end());
    out[c] = {QuantileOfSorted(means[c], 0.025), QuantileOfSorted(means[c], 0.975)};
  }
  return out;
}

}  // namespace

std::vector<MetricChange> CompareEvaluations(const EvaluationResult& current, const EvaluationResult& baseline,
                                             int resamples, uint64_t seed) {
  if (current.ks != baseline.ks) Fail(ExitCode::kSoftware, "CompareEvaluations: the two evaluations' ks differ");
  // The users both evaluated, matched by id (per_user is sorted by id).
  std::vector<std::pair<const UserMetrics*, const UserMetrics*>> both;
  for (size_t i = 0, j = 0; i < current.per_user.size() && j < baseline.per_user.size();) {
    const int order = current.per_user[i].user_id.compare(baseline.per_user[j].user_id);
    if (order == 0) both.emplace_back(&current.per_user[i++], &baseline.per_user[j++]);
    if (order < 0) ++i;
    if (order > 0) ++j;
  }
  std::map<std::string, double> base_value(baseline.summary.begin(), baseline.summary.end());
  std::vector<MetricChange> out;
  // The per-user differences of the paired metrics, user-major: diff[u * m + c]
  // and whether user u has a value of metric c in both runs.
  std::vector<size_t> paired;  // indices into out
  std::vector<double> diff, has;
  std::vector<std::pair<std::string, size_t>> places;
  for (const auto& [name, value] : current.summary) {
    if (name.rfind("users_", 0) == 0) continue;
    MetricChange c;
    c.name = name;
    auto b = base_value.find(name);
    if (b != base_value.end()) c.baseline = b->second;
    std::string metric;
    size_t q = 0;
    const bool per_user = PerUserPlace(name, current.ks, &metric, &q) && !both.empty() &&
                          both.front().first->at_k[q].find(metric) != nullptr;
    if (!per_user) {
      c.change = value - c.baseline;
    } else {
      paired.push_back(out.size());
      places.emplace_back(metric, q);
    }
    out.push_back(std::move(c));
  }
  const size_t m = paired.size(), n = both.size();
  diff.assign(n * m, 0.0);
  has.assign(n * m, 0.0);
  for (size_t u = 0; u < n; ++u) {
    for (size_t c = 0; c < m; ++c) {
      const auto& [metric, q] = places[c];
      const double* x = both[u].first->at_k[q].find(metric);
      const double* y = both[u].second->at_k[q].find(metric);
      if (x == nullptr || y == nullptr || std::isnan(*x) || std::isnan(*y)) continue;
      diff[u * m + c] = *x - *y;
      has[u * m + c] = 1;
    }
  }
  // The change itself: the mean over every user with a value in both.
  std::vector<double> sum(m, 0.0), count(m, 0.0);
  for (size_t u = 0; u < n; ++u) {
    for (size_t c = 0; c < m; ++c) {
      sum[c] += diff[u * m + c];
      count[c] += has[u * m + c];
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t c = 0; c < m; ++c) {
    MetricChange& mc = out[paired[c]];
    mc.users = static_cast<int64_t>(count[c]);
    mc.change = count[c] > 0 ? sum[c] / count[c] : nan;
  }
  if (resamples <= 0 || n == 0 || m == 0) return out;
  const auto intervals = BootstrapIntervals(diff, has, n, m, resamples, seed);
  for (size_t c = 0; c < m; ++c) {
    if (std::isnan(intervals[c].first)) continue;
    out[paired[c]].low = intervals[c].first;
    out[paired[c]].high = intervals[c].second;
  }
  return out;
}

}  // namespace avrec
