#include "avrec/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "avrec/error.h"
#include "avrec/hash.h"

namespace avrec {

namespace {
const std::vector<std::pair<std::string, SplitMethod>> kSplitMethods = {
    {"temporal", SplitMethod::kTemporal}, {"leave-last", SplitMethod::kLeaveLast}, {"random", SplitMethod::kRandom}};
}

SplitMethod ParseSplitMethod(const std::string& s) {
  for (const auto& [n, m] : kSplitMethods) {
    if (n == s) return m;
  }
  options_detail::BadChoice("--method", s, {"temporal", "leave-last", "random"});
}

const char* SplitMethodName(SplitMethod m) {
  for (const auto& [n, x] : kSplitMethods) {
    if (x == m) return n.c_str();
  }
  return "?";
}

void SplitOptions::Describe(OptionSet* set) {
  set->AddChoice("--method", "", &method, kSplitMethods,
                 "temporal (global time cut), leave-last (each user's last N), random (per user)");
  set->AddNumber("--quantile", "", &quantile, {0, 1}, "temporal: reviews up to this time quantile go to train");
  set->AddNumber("--last", "", &last, {1, 1e9}, "leave-last: each user's last N reviews go to test");
  set->AddNumber("--fraction", "", &fraction, {0, 1}, "random: share of each user's reviews that go to test");
  set->Add("--seed", "", &seed, "random: seed");
}

void SplitOptions::Validate() const { ValidateDescribed(*this); }

SplitResult SplitReviews(const std::vector<Review>& reviews, const SplitOptions& o) {
  SplitResult out;
  const size_t n = reviews.size();
  out.is_test.assign(n, false);
  for (const Review& r : reviews) out.untimed += !r.timestamp.has_value();
  if (o.method == SplitMethod::kTemporal) {
    if (!(o.quantile > 0 && o.quantile < 1)) Fail(ExitCode::kUsage, "--quantile: expected a number in (0, 1)");
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
      if (o.method == SplitMethod::kLeaveLast) {
        if (o.last < 1) Fail(ExitCode::kUsage, "--last: expected at least 1");
        // By time (untimed first), then review_id.
        std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
          const auto& ra = reviews[a];
          const auto& rb = reviews[b];
          int64_t ta = ra.timestamp.value_or(std::numeric_limits<int64_t>::min());
          int64_t tb = rb.timestamp.value_or(std::numeric_limits<int64_t>::min());
          return ta != tb ? ta < tb : ra.review_id < rb.review_id;
        });
        const size_t take = std::min(static_cast<size_t>(o.last), idx.size() - 1);
        for (size_t k = idx.size() - take; k < idx.size(); ++k) out.is_test[idx[k]] = true;
      } else {
        if (!(o.fraction > 0 && o.fraction < 1)) Fail(ExitCode::kUsage, "--fraction: expected a number in (0, 1)");
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

EvaluationResult Evaluate(const EvaluationInputs& in, const std::vector<int>& ks) {
  EvaluationResult out;
  out.ks = ks;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::string> users;
  for (const auto& [u, r] : in.relevant) {
    if (!r.empty()) users.push_back(u);
  }
  std::sort(users.begin(), users.end());
  const std::vector<std::string> empty;
  std::vector<std::set<std::string>> covered(ks.size());
  for (const std::string& u : users) {
    const auto& relevant = in.relevant.at(u);
    auto it = in.recs.find(u);
    // The list, duplicates dropped (an item counts once, at its first rank).
    std::vector<std::string> list;
    if (it != in.recs.end()) {
      std::unordered_set<std::string> seen;
      for (const auto& i : it->second) {
        if (seen.insert(i).second) list.push_back(i);
      }
    }
    std::vector<int> rel;
    for (const auto& i : list) rel.push_back(relevant.count(i) ? 1 : 0);
    const int nr = static_cast<int>(relevant.size());
    UserMetrics um;
    um.user_id = u;
    um.has_list = it != in.recs.end();
    for (size_t q = 0; q < ks.size(); ++q) {
      const int k = ks[q];
      std::map<std::string, double> m;
      m["precision"] = PrecisionAtK(rel, k);
      m["recall"] = RecallAtK(rel, k, nr);
      m["ndcg"] = NdcgAtK(rel, k, nr);
      m["map"] = MapAtK(rel, k, nr);
      m["mrr"] = MrrAtK(rel, k);
      m["hit"] = HitAtK(rel, k);
      const size_t top = std::min(list.size(), static_cast<size_t>(k));
      for (size_t p = 0; p < top; ++p) covered[q].insert(list[p]);
      // Beyond accuracy: properties of the list (NaN when there is none).
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
      m["novelty"] = nov_n > 0 ? nov / nov_n : nan;
      m["arp"] = top > 0 ? arp / static_cast<double>(top) : nan;
      m["ild"] = nan;
      if (in.item_vectors != nullptr && top >= 2) {
        std::vector<Eigen::VectorXd> v;
        for (size_t p = 0; p < top; ++p) {
          int row = in.item_vectors->Find(list[p]);
          if (row < 0) continue;
          Eigen::VectorXd x = in.item_vectors->vectors.row(row).transpose().cast<double>();
          double n = x.norm();
          v.push_back(n > 0 ? Eigen::VectorXd(x / n) : x);
        }
        if (v.size() >= 2) {
          double s = 0;
          int pairs = 0;
          for (size_t a = 0; a < v.size(); ++a) {
            for (size_t b = a + 1; b < v.size(); ++b) {
              s += 1.0 - v[a].dot(v[b]);
              ++pairs;
            }
          }
          m["ild"] = s / pairs;
        }
      }
      um.at_k.push_back(std::move(m));
    }
    out.per_user.push_back(std::move(um));
  }
  // Averages over evaluated users (beyond-accuracy ones over users with a value).
  const char* kNames[] = {"precision", "recall", "ndcg", "map", "mrr", "hit", "coverage", "novelty", "arp", "ild"};
  for (size_t q = 0; q < ks.size(); ++q) {
    for (const char* name : kNames) {
      const std::string key = std::string(name) + "@" + std::to_string(ks[q]);
      if (std::string(name) == "coverage") {
        if (in.catalogue_size > 0) {
          out.summary.emplace_back(key,
                                   static_cast<double>(covered[q].size()) / static_cast<double>(in.catalogue_size));
        }
        continue;
      }
      if (std::string(name) == "ild" && in.item_vectors == nullptr) continue;
      if ((std::string(name) == "novelty" || std::string(name) == "arp") && in.train_users == 0) continue;
      double sum = 0;
      int n = 0;
      for (const auto& um : out.per_user) {
        double v = um.at_k[q].at(name);
        if (std::isnan(v)) continue;
        sum += v;
        ++n;
      }
      const bool accuracy = std::string(name) != "novelty" && std::string(name) != "arp" && std::string(name) != "ild";
      const double denom = accuracy ? static_cast<double>(users.size()) : static_cast<double>(n);
      out.summary.emplace_back(key, denom > 0 ? sum / denom : 0.0);
    }
  }
  out.summary.emplace_back("users_evaluated", static_cast<double>(users.size()));
  return out;
}

}  // namespace avrec
