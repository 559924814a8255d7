#include "avrec/diff.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/numeric.h"
#include "avrec/text.h"

namespace avrec {

double RankBiasedOverlap(const std::vector<std::string>& a, const std::vector<std::string>& b, int k, double p) {
  // Webber, Moffat and Zobel (2010), eq. 32: RBO_ext of a shorter list S (s
  // items) and a longer one L (l items), both cut at k. X_d is how many of
  // L's first d items are among S's first min(d, s); past depth s, S's
  // unseen items are taken to agree at the rate it showed (X_s / s):
  //   (1 - p) / p * (sum_{d<=l} X_d / d p^d + sum_{s<d<=l} X_s (d - s) / (s d) p^d)
  //   + ((X_l - X_s) / l + X_s / s) p^l
  // For lists of one length this is A_k p^k + (1 - p) / p * sum_d A_d p^d.
  const std::vector<std::string>& shorter = a.size() <= b.size() ? a : b;
  const std::vector<std::string>& longer = a.size() <= b.size() ? b : a;
  const int s = std::min(k, static_cast<int>(shorter.size())), l = std::min(k, static_cast<int>(longer.size()));
  if (s == 0) return l == 0 ? 1.0 : 0.0;
  std::unordered_set<std::string> seen_s, seen_l;
  double x = 0, x_s = 0, sum = 0;
  for (int d = 1; d <= l; ++d) {
    const std::string& y = longer[static_cast<size_t>(d - 1)];
    if (d <= s) {
      const std::string& z = shorter[static_cast<size_t>(d - 1)];
      x += z == y ? 1 : static_cast<double>(seen_l.count(z) + seen_s.count(y));
      seen_s.insert(z);
      if (d == s) x_s = x;
    } else {
      x += static_cast<double>(seen_s.count(y));
    }
    seen_l.insert(y);
    sum += std::pow(p, d) * x / d;
    if (d > s) sum += std::pow(p, d) * x_s * (d - s) / (static_cast<double>(s) * d);
  }
  return (1 - p) / p * sum + ((x - x_s) / l + x_s / s) * std::pow(p, l);
}

namespace {

std::vector<std::string> TopK(const std::vector<std::pair<std::string, double>>& list, int k) {
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size() && static_cast<int>(i) < k; ++i) out.push_back(list[i].first);
  return out;
}

std::unordered_map<std::string, int> ListCounts(const RecommendationLists& r, int k) {
  std::unordered_map<std::string, int> n;
  for (const auto& [u, list] : r.lists) {
    for (const auto& i : TopK(list, k)) ++n[i];
  }
  return n;
}

double MeanPopularity(const RecommendationLists& r, const std::unordered_map<std::string, int>& counts, int k) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& [u, list] : r.lists) {
    for (const auto& i : TopK(list, k)) {
      sum += counts.at(i);
      ++n;
    }
  }
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

// Items whose number of lists changed most, up and down.
void ItemMovement(const std::unordered_map<std::string, int>& before, const std::unordered_map<std::string, int>& after,
                  int top, nlohmann::ordered_json* out) {
  std::set<std::string> items;
  for (const auto& [i, n] : before) items.insert(i);
  for (const auto& [i, n] : after) items.insert(i);
  std::vector<std::pair<int, std::string>> delta;
  for (const auto& i : items) {
    const int b = before.count(i) ? before.at(i) : 0, a = after.count(i) ? after.at(i) : 0;
    if (a != b) delta.emplace_back(a - b, i);
  }
  std::sort(delta.begin(), delta.end(), [](const auto& x, const auto& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  });
  nlohmann::ordered_json entered = nlohmann::ordered_json::array(), left = nlohmann::ordered_json::array();
  for (size_t k = 0; k < delta.size() && static_cast<int>(entered.size()) < top && delta[k].first > 0; ++k) {
    entered.push_back({{"item_id", delta[k].second}, {"lists", delta[k].first}});
  }
  for (size_t k = delta.size(); k-- > 0 && static_cast<int>(left.size()) < top && delta[k].first < 0;) {
    left.push_back({{"item_id", delta[k].second}, {"lists", delta[k].first}});
  }
  (*out)["items_entering_most_lists"] = entered;
  (*out)["items_leaving_most_lists"] = left;
}

// The later file's users against the earlier file's, list by list.
struct UserChanges {
  int64_t added = 0, common = 0, changed = 0;
  double overlap_sum = 0, rbo_sum = 0;
  std::vector<std::tuple<double, double, std::string>> moved;  // (rbo, overlap, user)
};

UserChanges CompareUsers(const RecommendationLists& old_lists, const RecommendationLists& new_lists,
                         const DiffOptions& o) {
  UserChanges c;
  for (const auto& u : new_lists.users) {
    auto it = old_lists.lists.find(u);
    if (it == old_lists.lists.end()) {
      ++c.added;
      continue;
    }
    ++c.common;
    const auto a = TopK(it->second, o.k), b = TopK(new_lists.lists.at(u), o.k);
    const std::unordered_set<std::string> sa(a.begin(), a.end());
    int both = 0;
    for (const auto& i : b) both += sa.count(i);
    // Shared items over the longer list: identical lists shorter than k (a
    // small catalogue, an allow list) overlap fully, and a list that grew
    // from 5 to 10 items shares at most half of itself with the old one.
    const size_t longer = std::max(a.size(), b.size());
    const double overlap = longer == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(longer);
    const double rbo = RankBiasedOverlap(a, b, o.k, o.rbo_p);
    c.overlap_sum += overlap;
    c.rbo_sum += rbo;
    if (a == b) continue;  // like the items, only users whose list moved
    ++c.changed;
    c.moved.emplace_back(rbo, overlap, u);
  }
  return c;
}

}  // namespace

nlohmann::ordered_json DiffRecommendations(const RecommendationLists& old_lists, const RecommendationLists& new_lists,
                                           const DiffOptions& o) {
  if (o.k < 1) Fail(ExitCode::kUsage, "--k: expected at least 1");
  // Lists made to different lengths differ past the shorter length by
  // construction: the figures count that as churn, so the log says why.
  const int64_t old_n = old_lists.TopN(), new_n = new_lists.TopN();
  if (old_n > 0 && new_n > 0 && old_n != new_n && o.k > std::min(old_n, new_n)) {
    spdlog::warn(
        "the earlier lists were made with top_n {}, the later with top_n {}: at depth {} the items past {} count as "
        "changes (overlap, churn); --k {} compares like with like",
        old_n, new_n, o.k, std::min(old_n, new_n), std::min(old_n, new_n));
  }
  UserChanges c = CompareUsers(old_lists, new_lists, o);
  int64_t removed = 0;
  for (const auto& u : old_lists.users) removed += new_lists.lists.count(u) == 0;
  const auto before = ListCounts(old_lists, o.k), after = ListCounts(new_lists, o.k);
  // No user in both files (ids in another form, another catalogue's lists):
  // there is nothing to compare, and 1.0 / 0.0 would read as "unchanged"
  // and pass a --fail-if churn>... gate.
  const auto per_common = [&](double sum, bool complement) -> nlohmann::ordered_json {
    if (c.common == 0) return nullptr;
    const double mean = sum / static_cast<double>(c.common);
    return RoundDecimals(complement ? 1 - mean : mean, 6);
  };
  if (c.common == 0 && !old_lists.users.empty() && !new_lists.users.empty()) {
    spdlog::warn(
        "no user has a list in both files ({} earlier, {} later): mean_overlap, mean_rbo and churn are null; are "
        "they lists of the same users (user ids in the same form)?",
        old_lists.users.size(), new_lists.users.size());
  }
  nlohmann::ordered_json s;
  s["k"] = o.k;
  s["users_old"] = old_lists.users.size();
  s["users_new"] = new_lists.users.size();
  s["users_added"] = c.added;
  s["users_removed"] = removed;
  s["users_common"] = c.common;
  s["users_changed"] = c.changed;
  s["mean_overlap"] = per_common(c.overlap_sum, false);
  s["mean_rbo"] = per_common(c.rbo_sum, false);
  s["churn"] = per_common(c.overlap_sum, true);
  s["coverage_old"] = before.size();
  s["coverage_new"] = after.size();
  const double pop_old = MeanPopularity(old_lists, before, o.k), pop_new = MeanPopularity(new_lists, after, o.k);
  s["mean_popularity_old"] = RoundDecimals(pop_old, 4);
  s["mean_popularity_new"] = RoundDecimals(pop_new, 4);
  s["popularity_drift"] =
      pop_old > 0 ? nlohmann::ordered_json(RoundDecimals(pop_new / pop_old - 1, 6)) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json out;
  out["summary"] = s;
  ItemMovement(before, after, o.top, &out);
  std::sort(c.moved.begin(), c.moved.end());
  nlohmann::ordered_json users = nlohmann::ordered_json::array();
  for (size_t k = 0; k < c.moved.size() && static_cast<int>(k) < o.top; ++k) {
    users.push_back({{"user_id", std::get<2>(c.moved[k])},
                     {"rbo", RoundDecimals(std::get<0>(c.moved[k]), 6)},
                     {"overlap", RoundDecimals(std::get<1>(c.moved[k]), 6)}});
  }
  out["users_moved_most"] = users;
  return out;
}

Threshold ParseThreshold(const std::string& text) {
  Threshold t;
  const size_t op = text.find_first_of("<>");
  const bool or_equal = op != std::string::npos && op + 1 < text.size() && text[op + 1] == '=';
  const size_t number = op + (or_equal ? 2 : 1);
  if (op != std::string::npos) t.field = std::string(Trim(std::string_view(text).substr(0, op)));
  if (t.field.empty() || !ParseFiniteDouble(std::string(Trim(std::string_view(text).substr(number))), &t.limit)) {
    Fail(ExitCode::kUsage, "--fail-if: expected FIELD>NUMBER or FIELD<NUMBER (or >=, <=), e.g. churn>0.3, got ",
         EscapeForMessage(text, 60));
  }
  t.op = text[op];
  t.or_equal = or_equal;
  for (char& c : t.field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

bool ThresholdHolds(const nlohmann::ordered_json& summary, const std::string& threshold, std::string* description,
                    const MissingFieldHint& missing_field_hint) {
  const Threshold t = ParseThreshold(threshold);
  const std::string rest = std::string(1, t.op) + (t.or_equal ? "= " : " ") + nlohmann::json(t.limit).dump();
  if (!summary.contains(t.field) || !(summary[t.field].is_number() || summary[t.field].is_null())) {
    std::vector<std::string> fields;
    for (auto it = summary.begin(); it != summary.end(); ++it) {
      if (it.value().is_number() || it.value().is_null()) fields.push_back(it.key());
    }
    constexpr size_t kListed = 8;
    std::string list;
    for (size_t i = 0; i < fields.size() && i < kListed; ++i) list += (i > 0 ? ", " : "") + fields[i];
    if (fields.empty()) list = "none";
    if (fields.size() > kListed) list += ", ...";
    // A field the hint explains (a metric's .change without --baseline) is
    // no misspelling of another.
    const std::string hint = missing_field_hint ? missing_field_hint(summary, t.field) : "";
    const std::string near = hint.empty() ? NearestName(t.field, fields) : "";
    Fail(ExitCode::kUsage, "--fail-if: no field ", EscapeForMessage(t.field, 40),
         near.empty() ? "" : " (did you mean '" + near + "'?)", " (fields: ", list, ")", hint);
  }
  if (summary[t.field].is_null()) {
    *description = t.field + " is null (nothing to measure), so " + t.field + " " + rest + " cannot be ruled out";
    return true;
  }
  const double value = summary[t.field].get<double>();
  const bool holds = (t.op == '>' ? value > t.limit : value < t.limit) || (t.or_equal && value == t.limit);
  *description = t.field + " = " + nlohmann::json(value).dump() + (holds ? " " : " not ") + rest;
  return holds;
}

void CheckThresholdFields(const nlohmann::ordered_json& fields, const std::vector<std::string>& thresholds,
                          const MissingFieldHint& missing_field_hint) {
  std::string description;
  for (const auto& t : thresholds) ThresholdHolds(fields, t, &description, missing_field_hint);
}

int FailedThresholds(const std::string& command, const nlohmann::ordered_json& summary,
                     const std::vector<std::string>& thresholds, const MissingFieldHint& missing_field_hint) {
  int failed = 0;
  for (const auto& t : thresholds) {
    std::string description;
    if (ThresholdHolds(summary, t, &description, missing_field_hint)) {
      spdlog::error("{}: {} (--fail-if {})", command, description, t);
      ++failed;
    }
  }
  return failed;
}

}  // namespace avrec
