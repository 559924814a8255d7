#include "avrec/numeric.h"
#include "avrec/recommend.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/version.h"

namespace avrec {

Algorithm ParseAlgorithm(const std::string& s) {
  if (s == "sentiment-content") return Algorithm::kSentimentContent;
  if (s == "content") return Algorithm::kContent;
  if (s == "popular") return Algorithm::kPopular;
  if (s == "item-knn") return Algorithm::kItemKnn;
  if (s == "hybrid") return Algorithm::kHybrid;
  Fail(ExitCode::kUsage, "--algorithm: expected sentiment-content, content, popular, item-knn or hybrid, got '", s, "'");
}

const char* AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kSentimentContent: return "sentiment-content";
    case Algorithm::kContent: return "content";
    case Algorithm::kPopular: return "popular";
    case Algorithm::kItemKnn: return "item-knn";
    case Algorithm::kHybrid: return "hybrid";
  }
  return "?";
}

namespace {


bool UsesContent(Algorithm a) {
  return a == Algorithm::kSentimentContent || a == Algorithm::kContent || a == Algorithm::kHybrid;
}
bool UsesKnn(Algorithm a) { return a == Algorithm::kItemKnn || a == Algorithm::kHybrid; }

// Item-item cosine on the binary user x item interaction matrix, keeping each
// item's `k` most similar items (ties by item index).
struct KnnModel {
  std::vector<std::vector<std::pair<int, double>>> neighbours;  // item -> (item, sim), sorted by item
  std::vector<std::vector<std::pair<int, double>>> reverse;     // j -> (i, sim) with j in N(i), sorted by i

  double Sim(int i, int j) const {
    const auto& n = neighbours[static_cast<size_t>(i)];
    auto it = std::lower_bound(n.begin(), n.end(), j, [](const std::pair<int, double>& a, int b) { return a.first < b; });
    return it != n.end() && it->first == j ? it->second : 0.0;
  }
};

KnnModel BuildKnn(const std::vector<std::vector<int>>& user_items, int n_items, int k) {
  std::vector<std::vector<int>> item_users(static_cast<size_t>(n_items));
  for (size_t u = 0; u < user_items.size(); ++u) {
    for (int i : user_items[u]) item_users[static_cast<size_t>(i)].push_back(static_cast<int>(u));
  }
  KnnModel m;
  m.neighbours.resize(static_cast<size_t>(n_items));
  m.reverse.resize(static_cast<size_t>(n_items));
  std::vector<int> co(static_cast<size_t>(n_items), 0);
  std::vector<int> touched;
  for (int i = 0; i < n_items; ++i) {
    touched.clear();
    for (int u : item_users[static_cast<size_t>(i)]) {
      for (int j : user_items[static_cast<size_t>(u)]) {
        if (j == i) continue;
        if (co[static_cast<size_t>(j)]++ == 0) touched.push_back(j);
      }
    }
    std::vector<std::pair<int, double>> sims;
    const double ni = static_cast<double>(item_users[static_cast<size_t>(i)].size());
    for (int j : touched) {
      const double nj = static_cast<double>(item_users[static_cast<size_t>(j)].size());
      sims.emplace_back(j, co[static_cast<size_t>(j)] / std::sqrt(ni * nj));
      co[static_cast<size_t>(j)] = 0;
    }
    std::sort(sims.begin(), sims.end(), [](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    if (static_cast<int>(sims.size()) > k) sims.resize(static_cast<size_t>(k));
    std::sort(sims.begin(), sims.end());
    for (const auto& [j, s] : sims) m.reverse[static_cast<size_t>(j)].emplace_back(i, s);
    m.neighbours[static_cast<size_t>(i)] = std::move(sims);
  }
  return m;
}

// Scores of the users of one shard against the candidate items, for every
// algorithm. Cold-start users get the popularity ranking.
class RecommendSource : public ScoreSource {
 public:
  RecommendSource(Algorithm algo, const std::vector<int>& users, const Profiles& profiles,
                  const std::vector<int>& candidates, const ItemMatrix& items, const std::vector<double>& weight,
                  const std::vector<double>& popularity, const KnnModel* knn,
                  const std::vector<std::vector<int>>* user_items, double hybrid_content)
      : algo_(algo), users_(users), profiles_(profiles), candidates_(candidates), weight_(weight),
        knn_(knn), user_items_(user_items), lambda_(hybrid_content) {
    double max_pop = 0;
    for (int c : candidates) max_pop = std::max(max_pop, popularity[static_cast<size_t>(c)]);
    for (size_t c = 0; c < candidates.size(); ++c) {
      pop_score_.push_back((max_pop > 0 ? popularity[static_cast<size_t>(candidates[c])] / max_pop : 0.0) * weight[c]);
    }
    if (UsesContent(algo)) {
      user_rows_.resize(static_cast<Eigen::Index>(users.size()), items.vectors.cols());
      for (size_t u = 0; u < users.size(); ++u) user_rows_.row(static_cast<Eigen::Index>(u)) = profiles.vectors.row(users[u]);
      item_rows_.resize(static_cast<Eigen::Index>(candidates.size()), items.vectors.cols());
      for (size_t c = 0; c < candidates.size(); ++c) item_rows_.row(static_cast<Eigen::Index>(c)) = items.vectors.row(candidates[c]);
      cosine_ = std::make_unique<CosineSource>(user_rows_, item_rows_, weight);
    }
    if (knn != nullptr) {
      cand_of_.assign(items.ids.size(), -1);
      for (size_t c = 0; c < candidates.size(); ++c) cand_of_[static_cast<size_t>(candidates[c])] = static_cast<int>(c);
      // Hybrid: each user's item-knn scores are divided by their largest, so
      // that both parts span comparable ranges ([-1, 1] and [0, 1]).
      knn_scale_.assign(users.size(), 1.0);
      if (algo == Algorithm::kHybrid) {
        std::vector<double> row;
        for (size_t u = 0; u < users.size(); ++u) {
          KnnRow(static_cast<int>(u), &row);
          double mx = row.empty() ? 0.0 : *std::max_element(row.begin(), row.end());
          knn_scale_[u] = mx > 0 ? 1.0 / mx : 0.0;
        }
      }
    }
  }

  int users() const override { return static_cast<int>(users_.size()); }
  int items() const override { return static_cast<int>(candidates_.size()); }
  double Margin() const override { return cosine_ ? cosine_->Margin() : 1e-9; }

  bool Cold(int u) const {
    const int p = users_[static_cast<size_t>(u)];
    if (algo_ == Algorithm::kPopular) return true;
    if (algo_ == Algorithm::kItemKnn) return (*user_items_)[static_cast<size_t>(p)].empty();
    return profiles_.cold_start[static_cast<size_t>(p)];
  }

  void Block(int begin, int end, float* out) const override {
    const size_t n = candidates_.size();
    if (cosine_) cosine_->Block(begin, end, out);
    std::vector<double> knn_row;
    for (int u = begin; u < end; ++u) {
      float* row = out + static_cast<size_t>(u - begin) * n;
      if (Cold(u)) {
        for (size_t c = 0; c < n; ++c) row[c] = static_cast<float>(pop_score_[c]);
        continue;
      }
      if (knn_ != nullptr) {
        KnnRow(u, &knn_row);
        const double scale = knn_scale_[static_cast<size_t>(u)];
        for (size_t c = 0; c < n; ++c) {
          double s = knn_row[c] * scale;
          row[c] = algo_ == Algorithm::kHybrid ? static_cast<float>(lambda_ * row[c] + (1 - lambda_) * s)
                                                : static_cast<float>(s);
        }
      }
    }
  }

  double Exact(int u, int c) const override {
    if (Cold(u)) return pop_score_[static_cast<size_t>(c)];
    double content = cosine_ ? cosine_->Exact(u, c) : 0.0;
    if (knn_ == nullptr) return content;
    double k = KnnExact(u, c) * knn_scale_[static_cast<size_t>(u)];
    return algo_ == Algorithm::kHybrid ? lambda_ * content + (1 - lambda_) * k : k;
  }

  // knn score of user u for every candidate: sum of similarities to the
  // items the user reviewed, times the item weight, divided by the number of
  // those items (so it lies in [0, 1] before the weight).
  void KnnRow(int u, std::vector<double>* row) const {
    row->assign(candidates_.size(), 0.0);
    const auto& hist = (*user_items_)[static_cast<size_t>(users_[static_cast<size_t>(u)])];
    for (int j : hist) {
      for (const auto& [i, s] : knn_->reverse[static_cast<size_t>(j)]) {
        int c = cand_of_[static_cast<size_t>(i)];
        if (c >= 0) (*row)[static_cast<size_t>(c)] += s;
      }
    }
    const double inv = hist.empty() ? 0.0 : 1.0 / static_cast<double>(hist.size());
    for (size_t c = 0; c < row->size(); ++c) (*row)[c] *= inv * weight_[c];
  }
  double KnnExact(int u, int c) const {
    const auto& hist = (*user_items_)[static_cast<size_t>(users_[static_cast<size_t>(u)])];
    if (hist.empty()) return 0;
    const int i = candidates_[static_cast<size_t>(c)];
    double s = 0;
    for (int j : hist) s += knn_->Sim(i, j);
    return s / static_cast<double>(hist.size()) * weight_[static_cast<size_t>(c)];
  }

 private:
  Algorithm algo_;
  const std::vector<int>& users_;
  const Profiles& profiles_;
  const std::vector<int>& candidates_;
  const std::vector<double>& weight_;
  const KnnModel* knn_;
  const std::vector<std::vector<int>>* user_items_;
  double lambda_;
  std::vector<double> pop_score_;
  std::vector<int> cand_of_;
  std::vector<double> knn_scale_;
  RowMatrix user_rows_, item_rows_;
  std::unique_ptr<CosineSource> cosine_;
};

}  // namespace

RecommendStats Recommend(const RecommendInputs& in, const RecommendOptions& o,
                         const std::function<void(const UserRecommendations&)>& sink) {
  AVREC_CHECK(in.items != nullptr && in.reviews != nullptr);
  const ItemMatrix& items = *in.items;
  const int n_items = static_cast<int>(items.ids.size());
  if (o.top_n < 1) Fail(ExitCode::kUsage, "--top-n: expected at least 1");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards) Fail(ExitCode::kUsage, "--shard: expected K/N with 0 <= K < N");

  // Candidates: the catalogue, minus the deny list, within the allow list.
  std::vector<char> allowed(static_cast<size_t>(n_items), o.allow.empty() ? 1 : 0);
  for (const auto& id : o.allow) {
    int r = items.Find(id);
    if (r >= 0) allowed[static_cast<size_t>(r)] = 1;
  }
  for (const auto& id : o.deny) {
    int r = items.Find(id);
    if (r >= 0) allowed[static_cast<size_t>(r)] = 0;
  }
  std::vector<int> candidates;
  for (int r = 0; r < n_items; ++r) {
    if (allowed[static_cast<size_t>(r)]) candidates.push_back(r);
  }

  // Profiles (all algorithms need the users and their histories).
  ProfileOptions po = o.profile;
  if (o.algorithm == Algorithm::kContent || o.algorithm == Algorithm::kPopular || o.algorithm == Algorithm::kItemKnn) {
    po.use_sentiment = false;
  }
  if (po.use_sentiment && in.sentiment == nullptr) {
    Fail(ExitCode::kUsage, "recommend: the ", AlgorithmName(o.algorithm),
         " algorithm needs sentiment scores (run `avrec score` first, or pass --scores)");
  }
  Profiles profiles = BuildProfiles(*in.reviews, po.use_sentiment ? in.sentiment : nullptr, items, po, in.extra_users);

  // Popularity: distinct reviewers per item; the distinct items of each user.
  std::vector<std::vector<int>> user_items(profiles.users.size());
  std::vector<double> popularity(static_cast<size_t>(n_items), 0.0);
  for (size_t u = 0; u < profiles.users.size(); ++u) {
    for (const Interaction& x : profiles.history[u]) {
      if (user_items[u].empty() || user_items[u].back() != x.item) user_items[u].push_back(x.item);
    }
    for (int i : user_items[u]) popularity[static_cast<size_t>(i)] += 1;
  }
  const double n_users = static_cast<double>(std::max<size_t>(1, profiles.users.size()));
  double max_pop = 0;
  for (double p : popularity) max_pop = std::max(max_pop, p);
  const double max_novelty = std::log2(n_users + 1);
  // Quality: the mean preference p_k (sentiment and/or rating, as the profile
  // options say) of the reviews each item received; 0 for unreviewed items.
  std::vector<double> quality(static_cast<size_t>(n_items), 0.0), reviews_of(static_cast<size_t>(n_items), 0.0);
  if (o.quality_weight != 0) {
    for (const auto& hist : profiles.history) {
      for (const Interaction& x : hist) {
        quality[static_cast<size_t>(x.item)] += x.preference;
        reviews_of[static_cast<size_t>(x.item)] += 1;
      }
    }
    for (size_t i = 0; i < quality.size(); ++i) quality[i] = reviews_of[i] > 0 ? quality[i] / reviews_of[i] : 0.0;
  }
  std::vector<double> weight;
  for (int r : candidates) {
    const double pop = popularity[static_cast<size_t>(r)];
    double w = 1.0;
    if (o.popularity_weight != 0 && max_pop > 0) w += o.popularity_weight * std::log1p(pop) / std::log1p(max_pop);
    if (o.novelty_weight != 0) w += o.novelty_weight * (-std::log2((pop + 1) / (n_users + 1))) / max_novelty;
    if (o.quality_weight != 0) w += o.quality_weight * quality[static_cast<size_t>(r)];
    weight.push_back(std::max(0.0, w));
  }

  std::unique_ptr<KnnModel> knn;
  if (UsesKnn(o.algorithm)) knn = std::make_unique<KnnModel>(BuildKnn(user_items, n_items, o.knn_neighbors));

  // Users of this shard, in output order.
  std::vector<int> users;
  for (size_t u = 0; u < profiles.users.size(); ++u) {
    if (InShard(profiles.users[u], o.shard, o.shards)) users.push_back(static_cast<int>(u));
  }
  std::vector<std::vector<int>> excluded(users.size());
  std::vector<int> cand_of(static_cast<size_t>(n_items), -1);
  for (size_t c = 0; c < candidates.size(); ++c) cand_of[static_cast<size_t>(candidates[c])] = static_cast<int>(c);
  if (!o.include_seen) {
    for (size_t k = 0; k < users.size(); ++k) {
      for (int i : user_items[static_cast<size_t>(users[k])]) {
        if (cand_of[static_cast<size_t>(i)] >= 0) excluded[k].push_back(cand_of[static_cast<size_t>(i)]);
      }
    }
  }

  RecommendSource source(o.algorithm, users, profiles, candidates, items, weight, popularity, knn.get(), &user_items,
                         o.hybrid_content);
  RecommendStats stats;
  stats.items = n_items;
  stats.candidates = static_cast<int64_t>(candidates.size());
  TopKOptions to;
  to.k = o.top_n;
  to.threads = o.threads;
  to.block_users = o.block_users;

  // Explanations need each user's raw profile norm.
  const auto unit = [&](int r) {
    Eigen::VectorXd v = items.vectors.row(r).transpose().cast<double>();
    double n = v.norm();
    return n > 0 ? Eigen::VectorXd(v / n) : v;
  };
  SelectTopK(source, to, [&](int u) -> const std::vector<int>& { return excluded[static_cast<size_t>(u)]; },
             [&](int u, const std::vector<Scored>& best) {
               const int p = users[static_cast<size_t>(u)];
               UserRecommendations rec;
               rec.user_id = profiles.users[static_cast<size_t>(p)];
               // Popular ranks everyone alike; cold start there means no history.
               rec.cold_start = o.algorithm == Algorithm::kPopular ? user_items[static_cast<size_t>(p)].empty()
                                                                   : source.Cold(u);
               rec.history = static_cast<int>(profiles.history[static_cast<size_t>(p)].size());
               ++stats.users;
               stats.cold_start += rec.cold_start;
               // Raw profile and its norm, for contributions.
               Eigen::VectorXd raw;
               double raw_norm = 0;
               const bool content_reasons = o.explain && UsesContent(o.algorithm) && !source.Cold(u);
               if (content_reasons) {
                 raw = Eigen::VectorXd::Zero(items.vectors.cols());
                 for (const Interaction& x : profiles.history[static_cast<size_t>(p)]) raw += x.weight * unit(x.item);
                 raw_norm = raw.norm();
               }
               for (size_t r = 0; r < best.size(); ++r) {
                 RecommendedItem item;
                 const int row = candidates[static_cast<size_t>(best[r].item)];
                 item.item_id = items.ids[static_cast<size_t>(row)];
                 item.rank = static_cast<int>(r) + 1;
                 item.score = RoundDecimals(best[r].score, 6);
                 if (!o.explain) {
                   rec.items.push_back(std::move(item));
                   continue;
                 }
                 if (source.Cold(u)) {
                   Reason why;
                   why.kind = "popular";
                   why.value = popularity[static_cast<size_t>(row)];
                   item.reasons.push_back(why);
                 }
                 if (content_reasons && raw_norm > 0) {
                   Eigen::VectorXd target = unit(row);
                   std::vector<std::pair<double, const Interaction*>> contrib;
                   for (const Interaction& x : profiles.history[static_cast<size_t>(p)]) {
                     double c = x.weight * unit(x.item).dot(target) / raw_norm;
                     if (c > 0) contrib.emplace_back(c, &x);
                   }
                   std::stable_sort(contrib.begin(), contrib.end(),
                                    [](const auto& a, const auto& b) { return a.first > b.first; });
                   for (size_t k = 0; k < contrib.size() && k < 3; ++k) {
                     Reason why;
                     why.kind = "similar_to";
                     why.item_id = items.ids[static_cast<size_t>(contrib[k].second->item)];
                     why.review_id = contrib[k].second->review_id;
                     why.value = RoundDecimals(contrib[k].first, 4);
                     if (contrib[k].second->sentiment) why.sentiment = RoundDecimals(*contrib[k].second->sentiment, 4);
                     why.rating = contrib[k].second->rating;
                     item.reasons.push_back(why);
                   }
                   // The modality whose part of the profile agrees most with the item.
                   double best_c = 0;
                   std::string best_m;
                   for (const ModalityBlock& b : items.modalities) {
                     double c = raw.segment(b.begin, b.end - b.begin).dot(target.segment(b.begin, b.end - b.begin)) / raw_norm;
                     if (c > best_c) {
                       best_c = c;
                       best_m = b.name;
                     }
                   }
                   if (!best_m.empty()) {
                     Reason why;
                     why.kind = "modality";
                     why.modality = best_m;
                     why.value = RoundDecimals(best_c, 4);
                     item.reasons.push_back(why);
                   }
                 }
                 if (knn && !source.Cold(u)) {
                   std::vector<std::pair<double, int>> sims;
                   for (int j : user_items[static_cast<size_t>(p)]) {
                     double s = knn->Sim(row, j);
                     if (s > 0) sims.emplace_back(s, j);
                   }
                   std::stable_sort(sims.begin(), sims.end(), [](const auto& a, const auto& b) {
                     return a.first > b.first || (a.first == b.first && a.second < b.second);
                   });
                   for (size_t k = 0; k < sims.size() && k < 3; ++k) {
                     Reason why;
                     why.kind = "co_reviewed_with";
                     why.item_id = items.ids[static_cast<size_t>(sims[k].second)];
                     why.value = RoundDecimals(sims[k].first, 4);
                     item.reasons.push_back(why);
                   }
                 }
                 rec.items.push_back(std::move(item));
               }
               sink(rec);
             });
  return stats;
}

// ---- output -----------------------------------------------------------------------

std::string UserJson(const UserRecommendations& u, int indent) {
  nlohmann::ordered_json j;
  j["user_id"] = u.user_id;
  j["cold_start"] = u.cold_start;
  j["history"] = u.history;
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& it : u.items) {
    nlohmann::ordered_json x;
    x["item_id"] = it.item_id;
    x["rank"] = it.rank;
    x["score"] = it.score;
    nlohmann::ordered_json reasons = nlohmann::ordered_json::array();
    for (const auto& r : it.reasons) {
      nlohmann::ordered_json y;
      y["kind"] = r.kind;
      if (r.kind == "similar_to") {
        y["item_id"] = r.item_id;
        y["review_id"] = r.review_id;
        y["contribution"] = r.value;
        if (r.sentiment) y["sentiment"] = *r.sentiment;
        if (r.rating) y["rating"] = *r.rating;
      } else if (r.kind == "modality") {
        y["modality"] = r.modality;
        y["contribution"] = r.value;
      } else if (r.kind == "co_reviewed_with") {
        y["item_id"] = r.item_id;
        y["similarity"] = r.value;
      } else if (r.kind == "popular") {
        y["reviewers"] = r.value;
      }
      reasons.push_back(y);
    }
    x["reasons"] = reasons;
    items.push_back(x);
  }
  j["items"] = items;
  return j.dump(indent);
}

struct RecommendationWriter::Impl {
  AtomicFile file;
  bool jsonl;
  bool first = true;
  explicit Impl(const std::string& path) : file(path) {}
};

RecommendationWriter::RecommendationWriter(const std::string& path, bool jsonl, const OutputHeader& h)
    : impl_(std::make_unique<Impl>(path)) {
  impl_->jsonl = jsonl;
  nlohmann::ordered_json header;
  header["format"] = "avrec-recommendations/1";
  header["avrec_version"] = AVREC_VERSION;
  header["algorithm"] = h.algorithm;
  header["top_n"] = h.top_n;
  header["config_hash"] = h.config_hash;
  if (!h.sentiment_model.empty()) {
    header["sentiment_model"] = {{"name", h.sentiment_model}, {"sha256", h.sentiment_sha256}};
  }
  if (!h.embedding_model.empty()) {
    header["embedding_model"] = {{"name", h.embedding_model}, {"sha256", h.embedding_sha256}};
  }
  if (!h.created_at.empty()) header["created_at"] = h.created_at;
  if (jsonl) {
    if (h.shard == 0) impl_->file.Write(nlohmann::ordered_json{{"header", header}}.dump() + "\n");
  } else {
    std::string head = nlohmann::ordered_json{{"header", header}}.dump(2);
    head.erase(head.size() - 2);  // drop the closing "\n}"
    impl_->file.Write(head + ",\n  \"users\": [");
  }
}

RecommendationWriter::~RecommendationWriter() = default;

void RecommendationWriter::Add(const UserRecommendations& u) {
  if (impl_->jsonl) {
    impl_->file.Write(UserJson(u, -1) + "\n");
    return;
  }
  std::string body = UserJson(u, 2);
  // Indent the object by four spaces inside the users array.
  std::string indented = "\n    ";
  for (char c : body) {
    indented += c;
    if (c == '\n') indented += "    ";
  }
  impl_->file.Write((impl_->first ? "" : ",") + indented);
  impl_->first = false;
}

void RecommendationWriter::Commit() {
  if (!impl_->jsonl) impl_->file.Write(impl_->first ? "]\n}\n" : "\n  ]\n}\n");
  impl_->file.Commit();
}

}  // namespace avrec
