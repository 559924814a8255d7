// The report's data: every figure the page draws, computed here so that the
// page only lays it out.
#include "avrec/report.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "avrec/diff.h"
#include "avrec/error.h"
#include "avrec/numeric.h"
#include "avrec/profile.h"
#include "avrec/text.h"
#include "avrec/version.h"

namespace avrec {

namespace {

using J = nlohmann::ordered_json;

double Round(double v, int decimals = 4) { return RoundDecimals(v, decimals); }

// Counts of values in `bins` equal bins over [lo, hi].
J Histogram(const std::vector<double>& values, double lo, double hi, int bins) {
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  for (double v : values) {
    int b = hi > lo ? static_cast<int>((v - lo) / (hi - lo) * bins) : 0;
    counts[static_cast<size_t>(std::clamp(b, 0, bins - 1))] += 1;
  }
  return J{{"lo", Round(lo)}, {"hi", Round(hi)}, {"counts", counts}};
}

double Quantile(std::vector<double> v, double q) {  // v non-empty
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

struct Context {
  const ReportInputs& in;
  const ReportOptions& o;
  std::unordered_map<std::string, const Item*> items;
  std::unordered_map<std::string, int64_t> reviews_of_item;

  std::string Title(const std::string& id) const {
    auto it = items.find(id);
    return it == items.end() || it->second->title.empty() ? id : it->second->title;
  }
  std::string Snippet(const std::string& text) const {
    std::string flat = text;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    return ShortSnippet(Trim(flat), static_cast<size_t>(o.snippet_chars));
  }
  const double* Sentiment(const Review& r) const {
    auto it = in.sentiment.find(r.review_id);
    return it == in.sentiment.end() ? nullptr : &it->second;
  }
};

J Overview(const Context& c, const std::vector<UserRecommendations>& users) {
  std::set<std::string> reviewers;
  std::map<std::string, int64_t> languages;
  int64_t rated = 0, scored = 0;
  for (const Review& r : c.in.reviews) {
    reviewers.insert(r.user_id);
    const std::string l = TextLanguage(r.text);
    ++languages[l.empty() ? "other" : l];
    rated += r.rating.has_value();
    scored += c.Sentiment(r) != nullptr;
  }
  J j;
  j["users_with_lists"] = users.size();
  j["items"] = c.in.items.items.size();
  j["reviews"] = c.in.reviews.size();
  j["reviewers"] = reviewers.size();
  j["rated_reviews"] = rated;
  j["scored_reviews"] = scored;
  j["languages"] = languages;
  j["sentiment_model"] = c.in.sentiment_model;
  return j;
}

// One row per star level: count, mean, quartiles and share below zero.
J SentimentByRating(const std::map<double, std::vector<double>>& by_rating) {
  J rows = J::array();
  for (const auto& [rating, v] : by_rating) {
    const int64_t negative = std::count_if(v.begin(), v.end(), [](double x) { return x < 0; });
    rows.push_back({{"rating", rating},
                    {"n", v.size()},
                    {"mean", Round(std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()))},
                    {"min", Round(*std::min_element(v.begin(), v.end()))},
                    {"q1", Round(Quantile(v, 0.25))},
                    {"median", Round(Quantile(v, 0.5))},
                    {"q3", Round(Quantile(v, 0.75))},
                    {"max", Round(*std::max_element(v.begin(), v.end()))},
                    {"negative_share", Round(static_cast<double>(negative) / static_cast<double>(v.size()))}});
  }
  return rows;
}

struct Disagreement {
  double gap;  // |sentiment - rating mapped to [-1, 1]|
  const Review* r;
  double s;
};

// Where the model and the stars disagree most (likely model errors or
// sarcasm): the 15 largest gaps, ties by review id.
J Disagreements(const Context& c, std::vector<Disagreement> gaps) {
  std::stable_sort(gaps.begin(), gaps.end(), [](const Disagreement& a, const Disagreement& b) {
    return a.gap != b.gap ? a.gap > b.gap : a.r->review_id < b.r->review_id;
  });
  J dis = J::array();
  for (size_t k = 0; k < gaps.size() && k < 15; ++k) {
    const Review& r = *gaps[k].r;
    dis.push_back({{"review_id", r.review_id},
                   {"user_id", r.user_id},
                   {"item_id", r.item_id},
                   {"title", c.Title(r.item_id)},
                   {"rating", *r.rating},
                   {"sentiment", Round(gaps[k].s)},
                   {"text", c.Snippet(r.text)}});
  }
  return dis;
}

// Items by mean sentiment (at least 3 scored reviews), each with the review
// that says it most strongly: sets most_positive_items and
// most_negative_items (8 each) in `j`.
void ItemsByMood(const Context& c, J* j) {
  struct ItemMood {
    double sum = 0;
    int n = 0;
    const Review* best = nullptr;
    const Review* worst = nullptr;
    double best_s = -2, worst_s = 2;
  };
  std::map<std::string, ItemMood> moods;
  for (const Review& r : c.in.reviews) {
    const double* s = c.Sentiment(r);
    if (s == nullptr) continue;
    ItemMood& m = moods[r.item_id];
    m.sum += *s;
    ++m.n;
    if (*s > m.best_s) m.best_s = *s, m.best = &r;
    if (*s < m.worst_s) m.worst_s = *s, m.worst = &r;
  }
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [id, m] : moods) {
    if (m.n >= 3) ranked.emplace_back(m.sum / m.n, id);
  }
  std::sort(ranked.begin(), ranked.end());
  const auto item_row = [&](const std::pair<double, std::string>& p, bool positive) {
    const ItemMood& m = moods[p.second];
    return J{{"item_id", p.second},
             {"title", c.Title(p.second)},
             {"reviews", m.n},
             {"mean", Round(p.first)},
             {"text", c.Snippet((positive ? m.best : m.worst)->text)}};
  };
  J top = J::array(), bottom = J::array();
  for (size_t k = 0; k < ranked.size() && k < 8; ++k) {
    bottom.push_back(item_row(ranked[k], false));
    top.push_back(item_row(ranked[ranked.size() - 1 - k], true));
  }
  (*j)["most_positive_items"] = top;
  (*j)["most_negative_items"] = bottom;
}

J SentimentSection(const Context& c) {
  J j;
  std::vector<double> all;
  double rmin = 0, rmax = 0;
  bool any_rating = false;
  for (const Review& r : c.in.reviews) {
    if (const double* s = c.Sentiment(r)) all.push_back(*s);
    if (r.rating) {
      rmin = any_rating ? std::min(rmin, *r.rating) : *r.rating;
      rmax = any_rating ? std::max(rmax, *r.rating) : *r.rating;
      any_rating = true;
    }
  }
  j["available"] = !all.empty();
  if (all.empty()) return j;
  j["histogram"] = Histogram(all, -1, 1, 20);
  j["mean"] = Round(std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size()));
  std::map<double, std::vector<double>> by_rating;  // half-star levels
  std::vector<Disagreement> gaps;
  for (const Review& r : c.in.reviews) {
    const double* s = c.Sentiment(r);
    if (s == nullptr || !r.rating) continue;
    by_rating[std::round(*r.rating * 2) / 2].push_back(*s);
    gaps.push_back({std::abs(*s - RatingToUnit(*r.rating, rmin, rmax)), &r, *s});
  }
  j["by_rating"] = SentimentByRating(by_rating);
  j["disagreements"] = Disagreements(c, std::move(gaps));
  ItemsByMood(c, &j);
  return j;
}

// Mean pairwise (1 - cosine) of the items' numeric features (z-scored over
// the catalogue) within each list; nullopt without numeric features.
std::optional<double> MeanDiversity(const Context& c, const std::vector<UserRecommendations>& users) {
  const ItemTable& t = c.in.items;
  const size_t d = t.numeric_columns.size();
  if (d == 0) return std::nullopt;
  std::vector<double> mean(d, 0), sd(d, 0), n(d, 0);
  for (const Item& it : t.items) {
    for (size_t k = 0; k < d; ++k) {
      if (!std::isnan(it.numeric[k])) mean[k] += it.numeric[k], n[k] += 1;
    }
  }
  for (size_t k = 0; k < d; ++k) mean[k] = n[k] > 0 ? mean[k] / n[k] : 0;
  for (const Item& it : t.items) {
    for (size_t k = 0; k < d; ++k) {
      if (!std::isnan(it.numeric[k])) sd[k] += (it.numeric[k] - mean[k]) * (it.numeric[k] - mean[k]);
    }
  }
  for (size_t k = 0; k < d; ++k) sd[k] = n[k] > 1 ? std::sqrt(sd[k] / (n[k] - 1)) : 0;
  std::unordered_map<std::string, std::vector<double>> unit;
  for (const Item& it : t.items) {
    std::vector<double> v(d, 0);
    double norm = 0;
    for (size_t k = 0; k < d; ++k) {
      v[k] = std::isnan(it.numeric[k]) || sd[k] == 0 ? 0 : (it.numeric[k] - mean[k]) / sd[k];
      norm += v[k] * v[k];
    }
    norm = std::sqrt(norm);
    for (double& x : v) x = norm > 0 ? x / norm : 0;
    unit.emplace(it.item_id, std::move(v));
  }
  double total = 0;
  int64_t lists = 0;
  for (size_t u = 0; u < users.size() && lists < c.o.max_diversity_lists; ++u) {
    const auto& items = users[u].items;
    double sum = 0;
    int64_t pairs = 0;
    for (size_t a = 0; a < items.size(); ++a) {
      for (size_t b = a + 1; b < items.size(); ++b) {
        auto x = unit.find(items[a].item_id), y = unit.find(items[b].item_id);
        if (x == unit.end() || y == unit.end()) continue;
        double dot = 0;
        for (size_t k = 0; k < d; ++k) dot += x->second[k] * y->second[k];
        sum += 1 - dot;
        ++pairs;
      }
    }
    if (pairs > 0) {
      total += sum / static_cast<double>(pairs);
      ++lists;
    }
  }
  if (lists == 0) return std::nullopt;
  return total / static_cast<double>(lists);
}

J RecommendationSection(const Context& c, const std::vector<UserRecommendations>& users) {
  J j;
  int64_t cold = 0, low = 0, slots = 0;
  std::unordered_map<std::string, int64_t> times;
  std::vector<double> scores;
  J low_examples = J::array();
  for (const UserRecommendations& u : users) {
    cold += u.cold_start;
    if (u.low_confidence) {
      ++low;
      if (low_examples.size() < 20) low_examples.push_back(u.user_id);
    }
    for (const RecommendedItem& it : u.items) {
      ++times[it.item_id];
      ++slots;
      scores.push_back(it.score);
    }
  }
  j["users"] = users.size();
  j["cold_start"] = cold;
  j["low_confidence"] = low;
  j["low_confidence_examples"] = low_examples;
  j["slots"] = slots;
  j["coverage"] = {{"recommended_items", times.size()}, {"catalogue", c.in.items.items.size()}};
  if (!scores.empty()) {
    const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
    j["score_histogram"] = Histogram(scores, *lo, *hi, 20);
  }
  // Long tail: catalogue deciles by how often items are reviewed, and the
  // share of reviews and of recommendation slots each decile takes.
  std::vector<std::pair<int64_t, std::string>> by_pop;
  for (const Item& it : c.in.items.items) {
    auto r = c.reviews_of_item.find(it.item_id);
    by_pop.emplace_back(r == c.reviews_of_item.end() ? 0 : r->second, it.item_id);
  }
  std::sort(by_pop.begin(), by_pop.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  int64_t total_reviews = 0;
  for (const auto& p : by_pop) total_reviews += p.first;
  J deciles = J::array();
  const size_t n = by_pop.size();
  for (size_t dec = 0; dec < 10 && n > 0; ++dec) {
    const size_t begin = dec * n / 10, end = (dec + 1) * n / 10;
    int64_t rv = 0, rc = 0;
    for (size_t k = begin; k < end; ++k) {
      rv += by_pop[k].first;
      auto t = times.find(by_pop[k].second);
      rc += t == times.end() ? 0 : t->second;
    }
    deciles.push_back({{"decile", dec + 1},
                       {"items", end - begin},
                       {"reviews_share", total_reviews > 0 ? Round(double(rv) / double(total_reviews)) : 0.0},
                       {"recommendations_share", slots > 0 ? Round(double(rc) / double(slots)) : 0.0}});
  }
  j["long_tail"] = deciles;
  // The items recommended most.
  std::vector<std::pair<int64_t, std::string>> most(times.size());
  std::transform(times.begin(), times.end(), most.begin(), [](const auto& p) { return std::pair{p.second, p.first}; });
  std::sort(most.begin(), most.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  J top = J::array();
  for (size_t k = 0; k < most.size() && k < 10; ++k) {
    auto r = c.reviews_of_item.find(most[k].second);
    top.push_back({{"item_id", most[k].second},
                   {"title", c.Title(most[k].second)},
                   {"lists", most[k].first},
                   {"reviews", r == c.reviews_of_item.end() ? 0 : r->second}});
  }
  j["most_recommended"] = top;
  const std::optional<double> ild = MeanDiversity(c, users);
  j["diversity"] = ild ? J(Round(*ild)) : J(nullptr);
  j["diversity_lists"] = std::min<int64_t>(static_cast<int64_t>(users.size()), c.o.max_diversity_lists);
  return j;
}

J UserCard(const Context& c, const UserRecommendations& u, const std::vector<const Review*>& reviews) {
  J j;
  j["id"] = u.user_id;
  j["language"] = u.language;
  j["cold_start"] = u.cold_start;
  j["history"] = u.history;
  if (u.low_confidence) j["low_confidence"] = u.low_confidence_reason;
  std::vector<const Review*> latest = reviews;
  std::stable_sort(latest.begin(), latest.end(), [](const Review* a, const Review* b) {
    return a->timestamp.value_or(0) != b->timestamp.value_or(0) ? a->timestamp.value_or(0) > b->timestamp.value_or(0)
                                                                : a->review_id < b->review_id;
  });
  J rv = J::array();
  for (size_t k = 0; k < latest.size() && k < static_cast<size_t>(c.o.reviews_per_user); ++k) {
    const Review& r = *latest[k];
    J x{{"item_id", r.item_id}, {"title", c.Title(r.item_id)}, {"text", c.Snippet(r.text)}};
    x["rating"] = r.rating ? J(*r.rating) : J(nullptr);
    const double* s = c.Sentiment(r);
    x["sentiment"] = s ? J(Round(*s)) : J(nullptr);
    x["date"] = r.timestamp ? IsoDate(*r.timestamp) : "";
    rv.push_back(x);
  }
  j["reviews"] = rv;
  j["reviews_total"] = reviews.size();
  J recs = J::array();
  for (const RecommendedItem& it : u.items) {
    std::string because;
    for (const Reason& r : it.reasons) {
      if (r.kind == "similar_to" || r.kind == "learned_from" || r.kind == "tagged_like" ||
          r.kind == "co_reviewed_with") {
        because += (because.empty() ? "" : ", ") + (r.title.empty() ? c.Title(r.item_id) : r.title);
      }
    }
    recs.push_back({{"item_id", it.item_id},
                    {"title", it.title.empty() ? c.Title(it.item_id) : it.title},
                    {"score", it.score},
                    {"explanation", it.explanation},
                    {"because", because}});
  }
  j["recommendations"] = recs;
  return j;
}

}  // namespace

ReportLists ReadReportLists(const std::string& path, const std::string& previous_path, size_t whole_users) {
  ReportLists r;
  r.path = path;
  r.lists = ReadRecommendationLists(path, &r.users, whole_users);  // one read: the file may be a pipe
  r.previous_path = previous_path;
  if (!previous_path.empty()) r.previous = ReadRecommendationLists(previous_path);
  return r;
}

nlohmann::ordered_json ReportData(const ReportInputs& in, const ReportOptions& o) {
  Context c{in, o, {}, {}};
  for (const Item& it : in.items.items) c.items.emplace(it.item_id, &it);
  std::unordered_map<std::string, std::vector<const Review*>> by_user;
  for (const Review& r : in.reviews) {
    ++c.reviews_of_item[r.item_id];
    by_user[r.user_id].push_back(&r);
  }
  const std::vector<UserRecommendations>& users = in.recs.users;
  const RecommendationLists& lists = in.recs.lists;

  J data;
  data["avrec_version"] = AVREC_VERSION;
  data["recommendations_file"] = in.recs.path;
  data["header"] = lists.header;
  data["manifest"] = in.manifest.is_null() ? J(nullptr) : J::parse(in.manifest.dump());
  data["manifest_matches"] = in.manifest_matches;
  data["overview"] = Overview(c, users);
  data["sentiment"] = SentimentSection(c);
  data["recommendations"] = RecommendationSection(c, users);
  // Drill-down: every user, or the first max_users in output order (the
  // file is ordered by a stable hash of the user id: a uniform sample).
  J cards = J::array();
  static const std::vector<const Review*> kNone;
  for (size_t u = 0; u < users.size() && u < static_cast<size_t>(o.max_users); ++u) {
    auto r = by_user.find(users[u].user_id);
    cards.push_back(UserCard(c, users[u], r == by_user.end() ? kNone : r->second));
  }
  data["users"] = cards;
  data["users_sampling"] = {{"shown", cards.size()},
                            {"total", users.size()},
                            {"how", cards.size() < users.size() ? "the first users in output order (ordered by a "
                                                                  "stable hash of the user id: a uniform sample)"
                                                                : "all users"}};
  if (in.recs.previous) {
    DiffOptions d;
    // The depth the lists were made to (a header's top_n past int: all of them).
    const int64_t n = lists.TopN();
    d.k = n > 0 ? static_cast<int>(std::min<int64_t>(n, std::numeric_limits<int>::max())) : 10;
    const nlohmann::ordered_json diff = DiffRecommendations(*in.recs.previous, lists, d);
    data["diff"] = J::parse(diff.dump());
    data["previous_file"] = in.recs.previous_path;
  } else {
    data["diff"] = nullptr;
  }
  return data;
}

}  // namespace avrec
