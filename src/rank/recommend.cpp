#include "avrec/recommend.h"

#include <algorithm>

#include "avrec/error.h"
#include "avrec/numeric.h"
#include "avrec/parallel.h"
#include "rank/algorithm_source.h"
#include "rank/avoid.h"
#include "rank/collaborative.h"
#include "rank/explain.h"
#include "rank/item_stats.h"
#include "rank/knn.h"

namespace avrec {

namespace {

const std::vector<std::pair<std::string, Algorithm>> kAlgorithms = {{"sentiment-content", Algorithm::kSentimentContent},
                                                                    {"content", Algorithm::kContent},
                                                                    {"popular", Algorithm::kPopular},
                                                                    {"item-knn", Algorithm::kItemKnn},
                                                                    {"hybrid", Algorithm::kHybrid},
                                                                    {"ease", Algorithm::kEase},
                                                                    {"als", Algorithm::kAls}};
const std::vector<std::pair<std::string, Algorithm>> kCollaborative = {
    {"item-knn", Algorithm::kItemKnn}, {"ease", Algorithm::kEase}, {"als", Algorithm::kAls}};

}  // namespace

Algorithm ParseAlgorithm(const std::string& s) {
  for (const auto& [n, a] : kAlgorithms) {
    if (n == s) return a;
  }
  std::vector<std::string> names;
  for (const auto& [n, a] : kAlgorithms) names.push_back(n);
  options_detail::BadChoice("--algorithm", s, names);
}

const char* AlgorithmName(Algorithm a) {
  for (const auto& [n, x] : kAlgorithms) {
    if (x == a) return n.c_str();
  }
  return "?";
}

bool AlgorithmUsesSentiment(Algorithm a) {
  return a == Algorithm::kSentimentContent || a == Algorithm::kHybrid || a == Algorithm::kItemKnn ||
         a == Algorithm::kEase || a == Algorithm::kAls;
}
bool AlgorithmUsesContent(Algorithm a) {
  return a == Algorithm::kSentimentContent || a == Algorithm::kContent || a == Algorithm::kHybrid;
}

namespace {

// The collaborative model a run trains: the algorithm's own, or the
// hybrid's --hybrid-with; the others train none.
Algorithm TrainedModel(const RecommendOptions& o) {
  return o.algorithm == Algorithm::kHybrid ? o.hybrid_with : o.algorithm;
}

std::string AlgorithmInWords(const RecommendOptions& o) {
  std::string words = std::string("--algorithm is ") + AlgorithmName(o.algorithm);
  if (o.algorithm == Algorithm::kHybrid) words += std::string(" with --hybrid-with ") + AlgorithmName(o.hybrid_with);
  return words;
}

// Option::inert of an option only `owner`'s model reads.
std::function<std::string()> UnlessTrained(const RecommendOptions* o, Algorithm owner) {
  return [o, owner] {
    if (TrainedModel(*o) == owner) return std::string();
    return std::string("it sets ") + AlgorithmName(owner) + "'s model, and " + AlgorithmInWords(*o);
  };
}

// Sets Option::inert on the options (from `first` on) that act only under
// another's value: each model's own (named --knn-*, --ease-*, --als-*, and
// ALS's --seed), the hybrid's blend, what weighs dislikes in the models, and
// --avoid-below's shrinkage.
void MarkInert(OptionSet* set, size_t first, const RecommendOptions* o) {
  auto& options = set->options();
  for (size_t k = first; k < options.size(); ++k) {
    Option& opt = options[k];
    const std::string name = opt.Name();
    const auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
    if (starts("--knn-")) opt.inert = UnlessTrained(o, Algorithm::kItemKnn);
    if (starts("--ease-")) opt.inert = UnlessTrained(o, Algorithm::kEase);
    if (name == "--ease-session-half-life") {
      opt.inert = [o, ease = opt.inert] {
        const std::string why = ease();
        if (!why.empty() || o->ease_session_weight > 0) return why;
        return std::string("it sets how fast --ease-session-weight's pairs fade, and --ease-session-weight is 0");
      };
    }
    if (starts("--als-") || name == "--seed") opt.inert = UnlessTrained(o, Algorithm::kAls);
    if (starts("--hybrid-")) {
      opt.inert = [o] {
        return o->algorithm == Algorithm::kHybrid ? "" : "it sets up the hybrid, and " + AlgorithmInWords(*o);
      };
    }
    if (name == "--negative-weight") {
      opt.inert = [o] {
        const Algorithm m = TrainedModel(*o);
        const bool trains = m == Algorithm::kItemKnn || m == Algorithm::kEase || m == Algorithm::kAls;
        return trains ? "" : "it weighs dislikes in item-knn's, ease's and als's models, and " + AlgorithmInWords(*o);
      };
    }
    if (name == "--avoid-shrinkage") {
      opt.inert = [o] {
        return o->avoid_below ? std::string()
                              : std::string("it shrinks --avoid-below's biases, and no --avoid-below is given");
      };
    }
  }
}

}  // namespace

ProfileOptions ProfileOptionsFor(Algorithm a, ProfileOptions profile) {
  if (!AlgorithmUsesSentiment(a)) profile.use_sentiment = false;
  return profile;
}

void RecommendOptions::Describe(OptionSet* set) {
  const size_t first = set->options().size();
  const Effect r = Effect::kResults;
  set->AddChoice("--algorithm", "recommend.algorithm", &algorithm, kAlgorithms,
                 "sentiment-content (cosine of sentiment-weighted profiles and item vectors), content (the same, "
                 "unweighted), popular, item-knn, hybrid (sentiment-content blended with --hybrid-with), ease or "
                 "als (docs/model.md)",
                 r);
  set->AddNumber("--top-n,-n", "recommend.top_n", &top_n, {1, 2147483647},
                 "Items per user (more than the catalogue: all of it)", r);
  set->AddFlag("--include-seen", "recommend.include_seen", &include_seen, "Keep items the user already reviewed", r);
  set->AddNumber("--popularity-weight", "recommend.popularity_weight", &popularity_weight, {-1000, 1000},
                 "Item weight term: + this x log(1 + reviewers) / log(1 + most reviewers)", r);
  set->AddNumber("--novelty-weight", "recommend.novelty_weight", &novelty_weight, {-1000, 1000},
                 "Item weight term: + this x novelty / largest novelty", r);
  set->AddNumber("--quality-weight", "recommend.quality_weight", &quality_weight, {-1000, 1000},
                 "Item weight term: + this x the mean preference (sentiment and/or rating) of the item's reviews", r);
  set->AddNumber("--avoid-below", "recommend.avoid_below", &avoid_below, {-2, 2},
                 "Candidates the user is predicted to feel less than this about (mean + user bias + item bias of the "
                 "reviews' feelings, -1..1) rank after every other candidate (default: none)",
                 r);
  set->AddNumber("--avoid-shrinkage", "recommend.avoid_shrinkage", &avoid_shrinkage, {0, 1e9},
                 "--avoid-below: the biases shrink towards 0 by this many pseudo-reviews", r);
  set->AddNumber("--knn-neighbors", "recommend.knn_neighbors", &knn_neighbors, {1, 1e7},
                 "item-knn: neighbours kept per item", r);
  set->AddNumber("--knn-tag-weight", "recommend.knn_tag_weight", &knn_tag_weight, {0, 1e9},
                 "item-knn: each tag of the items file counts as this many users who reviewed every item carrying "
                 "it, in the items' similarities (0: tags unused)",
                 r);
  set->AddNumber("--hybrid-content", "recommend.hybrid_content", &hybrid_content, {0, 1},
                 "hybrid: share of the sentiment-content score (the rest is --hybrid-with)", r);
  set->AddChoice("--hybrid-with", "recommend.hybrid_with", &hybrid_with, kCollaborative,
                 "hybrid: the collaborative part, item-knn, ease or als", r);
  set->AddNumber(
      "--negative-weight", "recommend.negative_weight", &negative_weight, {0, 100},
      "item-knn, ease, als: weight of a disliked item (preference < 0) against a liked one (0: ignore dislikes)", r);
  set->AddNumber("--ease-lambda", "recommend.ease_lambda", &ease_lambda, {1e-6, 1e9}, "ease: L2 regularisation", r);
  set->AddNumber(
      "--ease-dropout", "recommend.ease_dropout", &ease_dropout, {0, 0.99},
      "ease: denoising dropout rate; adds dropout / (1 - dropout) x the item's own X^T X entry (its reviewers, "
      "with uniform weights) to its penalty "
      "(0: plain EASE)",
      r);
  set->AddNumber("--ease-min-support", "recommend.ease_min_support", &ease_min_support, {1, 1e9},
                 "ease: leave out items fewer than this many users reviewed (they score 0 and predict nothing; "
                 "the model costs items^3)",
                 r);
  set->AddNumber("--ease-session-weight", "recommend.ease_session_weight", &ease_session_weight, {0, 1000},
                 "ease: add pairs of items one user reviewed close together in time to the model, this much "
                 "against its own weights (0: none; needs review times)",
                 r);
  set->AddNumber("--ease-session-half-life", "recommend.ease_session_half_life", &ease_session_half_life, {0.01, 1e6},
                 "ease: a pair's session weight halves for each this many reviews between its two", r);
  set->AddNumber("--ease-tag-weight", "recommend.ease_tag_weight", &ease_tag_weight, {0, 1e9},
                 "ease: each tag of the items file counts as this many users who reviewed every item carrying it "
                 "(0: tags unused)",
                 r);
  set->AddNumber("--ease-max-items", "recommend.ease_max_items", &ease_max_items, {1, 200000},
                 "ease: most items with interactions (memory: 16 x this^2 bytes)");
  set->AddNumber("--als-factors", "recommend.als_factors", &als_factors, {1, 4096}, "als: latent factors", r);
  set->AddNumber("--als-iterations", "recommend.als_iterations", &als_iterations, {1, 1000}, "als: sweeps", r);
  set->AddNumber("--als-cg-steps", "recommend.als_cg_steps", &als_cg_steps, {0, 1000},
                 "als: conjugate-gradient steps per row and sweep, from the previous factors (0: exact solves; "
                 "the last user solve is always exact)",
                 r);
  set->AddNumber("--als-regularization", "recommend.als_regularization", &als_regularization, {0, 1e9},
                 "als: L2 regularisation", r);
  set->AddNumber("--als-alpha", "recommend.als_alpha", &als_alpha, {0, 1e9},
                 "als: confidence of an interaction, 1 + alpha |value|", r);
  set->AddNumber("--als-tag-weight", "recommend.als_tag_weight", &als_tag_weight, {0, 1e9},
                 "als: each tag of the items file is a pseudo-user who reviewed every item carrying it with this "
                 "value (confidence 1 + alpha x this; 0: tags unused)",
                 r);
  set->Add("--seed", "recommend.seed", &seed, "als: seed of the initial factors", r);
  set->AddNumber("--block-users", "recommend.block_users", &block_users, {1, 1e6},
                 "Users scored per block (memory: this x items floats per thread)");
  set->AddNegFlag("--no-explain", "recommend.explain", &explain, "Leave out the reasons", r);
  MarkInert(set, first, this);
}

void RecommendOptions::Validate() const {
  ValidateDescribed(*this);
  options_detail::CheckRange("--threads", threads, {0, 2147483647});
  if (hybrid_with != Algorithm::kItemKnn && hybrid_with != Algorithm::kEase && hybrid_with != Algorithm::kAls) {
    Fail(ExitCode::kUsage, "--hybrid-with: expected item-knn, ease or als");
  }
  if (shards < 1 || shard < 0 || shard >= shards) {
    Fail(ExitCode::kUsage, "--shard: expected K/N with 0 <= K < N, got ", shard, "/", shards);
  }
}

namespace {

RecommendedItem MakeItem(const ItemMatrix& items, int row, int rank, double score) {
  RecommendedItem item;
  item.item_id = items.ids[static_cast<size_t>(row)];
  item.rank = rank;
  item.score = RoundDecimals(score, 6);
  return item;
}

// The collaborative part of the algorithm (item-knn, EASE, ALS, or the
// hybrid's --hybrid-with), trained on the profiles' histories; nothing for
// the others. `view` points into the models held here.
struct TrainedModels {
  std::unique_ptr<KnnModel> knn;
  std::unique_ptr<CollaborativeModel> model;
  Collaborative view;
};

TrainedModels TrainCollaborative(const ItemMatrix& items, const Profiles& profiles, const ItemStats& stats,
                                 const RecommendOptions& o, int threads) {
  TrainedModels t;
  const int n_items = static_cast<int>(items.ids.size());
  const Algorithm collaborative = o.algorithm == Algorithm::kHybrid ? o.hybrid_with : o.algorithm;
  switch (collaborative) {
    case Algorithm::kItemKnn: {
      t.knn = std::make_unique<KnnModel>(
          BuildKnn(stats.user_items, n_items, o.knn_neighbors, threads, {&items.tags, o.knn_tag_weight}));
      SetKnnWeights(t.knn.get(), BuildInteractions(profiles, n_items, o.negative_weight).query, stats.user_items);
      t.view.knn = t.knn.get();
      t.view.reads_tags = o.knn_tag_weight > 0 && !items.tags.empty();
      break;
    }
    case Algorithm::kEase:
    case Algorithm::kAls: {
      const bool ease = collaborative == Algorithm::kEase;
      Interactions x = BuildInteractions(profiles, n_items, o.negative_weight);
      if (!items.tags.empty()) x.item_tags = &items.tags;
      t.model = ease ? TrainEase(x, o, threads) : TrainAls(x, o, threads);
      t.view.model = t.model.get();
      t.view.reads_tags = (ease ? o.ease_tag_weight : o.als_tag_weight) > 0 && x.item_tags != nullptr;
      break;
    }
    default:
      break;
  }
  return t;
}

// --avoid-below: each user's candidates predicted to be disliked are held
// back from the top k, and listed after the others, best first, only when
// too few others are left. Without the option, the top k skips the seen
// items alone and nothing is held back.
class HeldBack {
 public:
  HeldBack(const RecommendOptions& o, const Profiles& profiles, int n_items, const std::vector<int>& candidates,
           const std::vector<int>& users, const std::vector<std::vector<int>>& excluded)
      : top_n_(o.top_n), users_(users), excluded_(excluded) {
    if (o.avoid_below) {
      avoid_.emplace(FitFeelingBaseline(profiles, n_items, o.avoid_shrinkage), candidates, *o.avoid_below);
    }
  }

  // What the top k of ranked user `u` skips: the seen items and the held
  // back ones, ascending. Called from worker threads; the list is the
  // thread's own, valid until its next call.
  const std::vector<int>& Skipped(int u) const {
    const auto& seen = excluded_[static_cast<size_t>(u)];
    if (!avoid_) return seen;
    thread_local std::vector<int> below, merged;
    avoid_->Columns(users_[static_cast<size_t>(u)], &below);
    merged.clear();
    std::set_union(seen.begin(), seen.end(), below.begin(), below.end(), std::back_inserter(merged));
    return merged;
  }

  // `best`, then the held-back items the source scores, best first, up to
  // k in all. From the calling thread (the sink's); valid until the next call.
  const std::vector<Scored>& Fill(int u, const std::vector<Scored>& best, const ScoreSource& source) {
    if (!avoid_ || static_cast<int>(best.size()) >= top_n_) return best;
    const auto& seen = excluded_[static_cast<size_t>(u)];
    avoid_->Columns(users_[static_cast<size_t>(u)], &avoided_);
    left_.clear();
    std::set_difference(avoided_.begin(), avoided_.end(), seen.begin(), seen.end(), std::back_inserter(left_));
    if (left_.empty()) return best;
    std::vector<Scored> rest;
    for (int c : left_) {
      const double s = source.Exact(u, c);
      if (s == s) rest.push_back({c, s});
    }
    std::sort(rest.begin(), rest.end(), RanksBefore);
    filled_ = best;
    for (size_t r = 0; r < rest.size() && static_cast<int>(filled_.size()) < top_n_; ++r) filled_.push_back(rest[r]);
    return filled_;
  }

  // The candidates held back for profile user `p` (0 without the option).
  int64_t Count(int p) const { return avoid_ ? avoid_->Count(p) : 0; }

  // The reason of an item listed though held back (rank past `best`).
  Reason HeldReason(int p, int row) const {
    Reason held;
    held.kind = "predicted_dislike";
    held.value = RoundDecimals(avoid_->Predicted(p, row), 4);
    held.below = avoid_->below();
    return held;
  }

 private:
  int top_n_;
  const std::vector<int>& users_;
  const std::vector<std::vector<int>>& excluded_;
  std::optional<Avoidance> avoid_;
  std::vector<Scored> filled_;
  std::vector<int> avoided_, left_;
};

}  // namespace

RecommendStats Recommend(const RecommendInputs& in, const RecommendOptions& o,
                         const std::function<void(const UserRecommendations&)>& sink) {
  AVREC_CHECK(in.items != nullptr && in.profiles != nullptr);
  o.Validate();
  const ItemMatrix& items = *in.items;
  const Profiles& profiles = *in.profiles;
  const int n_items = static_cast<int>(items.ids.size());
  AVREC_CHECK(profiles.vectors.cols() == items.vectors.cols() || profiles.users.empty(), "profile width");

  const std::vector<int> candidates = SelectCandidates(items, o.allow, o.deny);
  const ItemStats stats = ComputeItemStats(profiles, n_items, o.quality_weight != 0);
  const std::vector<double> weight = ItemWeights(stats, candidates, o);
  const int threads = ResolveThreads(o.threads);
  const TrainedModels trained = TrainCollaborative(items, profiles, stats, o, threads);
  const Collaborative& collab = trained.view;
  AVREC_CHECK(in.only == nullptr || in.only->size() == profiles.users.size(), "only: one flag per user");
  const std::vector<int> users = ShardRows(profiles, o.shard, o.shards, in.only);
  const auto excluded = Exclusions(stats, users, candidates, n_items, o.include_seen);
  HeldBack held(o, profiles, n_items, candidates, users, excluded);
  AlgorithmSource source(o.algorithm, users, profiles, candidates, excluded, items, weight, stats, collab,
                         o.hybrid_content, threads);
  Explainer explainer(o.algorithm, items, profiles, stats, collab);
  RecommendStats st;
  st.items = n_items;
  st.candidates = static_cast<int64_t>(candidates.size());
  TopKOptions to;
  to.k = o.top_n;
  to.threads = threads;
  to.block_users = o.block_users;
  const auto skipped = [&held](int u) -> const std::vector<int>& { return held.Skipped(u); };
  SelectTopK(source, to, skipped, [&](int u, const std::vector<Scored>& ranked) {
    const int p = users[static_cast<size_t>(u)];
    const std::vector<Scored>& best = held.Fill(u, ranked, source);
    st.avoided += held.Count(p);
    UserRecommendations rec;
    rec.user_id = profiles.users[static_cast<size_t>(p)];
    // Popular ranks everyone alike; cold start there means no history.
    rec.cold_start =
        o.algorithm == Algorithm::kPopular ? stats.user_items[static_cast<size_t>(p)].empty() : source.Cold(u);
    rec.history = static_cast<int>(profiles.history[static_cast<size_t>(p)].size());
    if (source.RanksByProfileAlone(u) && !rec.cold_start && static_cast<size_t>(p) < profiles.net_share.size())
      rec.net_share = profiles.net_share[static_cast<size_t>(p)];
    ++st.users;
    st.cold_start += rec.cold_start;
    if (o.explain) explainer.StartUser(p, source.Cold(u));
    for (size_t r = 0; r < best.size(); ++r) {
      const int row = candidates[static_cast<size_t>(best[r].item)];
      rec.items.push_back(MakeItem(items, row, static_cast<int>(r) + 1, best[r].score));
      if (!o.explain) continue;
      auto& reasons = rec.items.back().reasons;
      reasons = explainer.Reasons(row);
      if (r >= ranked.size()) reasons.insert(reasons.begin(), held.HeldReason(p, row));  // nothing else was left
    }
    sink(rec);
  });
  return st;
}

}  // namespace avrec
