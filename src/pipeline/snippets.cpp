#include "pipeline/snippets.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/pipeline.h"
#include "avrec/sentiment.h"
#include "avrec/text.h"
#include "common/cluster.h"

namespace avrec {

SnippetMode ParseSnippetMode(const std::string& s) {
  if (s == "model") return SnippetMode::kModel;
  if (s == "first") return SnippetMode::kFirst;
  if (s == "none") return SnippetMode::kNone;
  Fail(ExitCode::kUsage, "--snippets: expected model, first or none, got '", s, "'");
}

SnippetFinder::SnippetFinder(const std::unordered_map<std::string, const Review*>& reviews, SnippetMode mode,
                             const std::string& model_dir, const EncoderOptions& encoder, Workspace* cache)
    : reviews_(reviews), mode_(mode), model_dir_(model_dir), encoder_options_(encoder), cache_(cache) {}

SnippetFinder::~SnippetFinder() = default;

void SnippetFinder::EnsureEncoder() {
  if (encoder_) return;
  const ModelManifest m = LoadTaskModel(model_dir_, "sentiment");
  encoder_ = std::make_unique<TextEncoder>(m, encoder_options_, ModelLoad::kOnFirstRun);
  labels_ = m.labels;
}

void SnippetFinder::Prepare(const std::vector<UserRecommendations*>& users) {
  if (mode_ != SnippetMode::kModel) return;
  // The sentences of the cited reviews whose score is not known yet, scored
  // together the way `avrec score` scores reviews (sorted by length, padded
  // to canonical lengths, batched over the encoder's threads), so a
  // sentence's score does not depend on which other sentences run with it:
  // bit-identical in bf16, within the last bits in fp32 (docs/models.md,
  // "Batching and reproducibility"). Scoring each review's sentences as a
  // batch of its own, as before, took 1.9x as long (Amazon Digital Music, 300
  // users: 15.5 s against 8.3 s, the same lists).
  std::vector<Review> todo;
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  int64_t reviews = 0;
  for (UserRecommendations* u : users) {
    for (const RecommendedItem& item : u->items) {
      for (const Reason& r : item.reasons) {
        if (r.kind != "similar_to" || !seen.insert(r.review_id).second) continue;
        auto it = reviews_.find(r.review_id);
        if (it == reviews_.end()) continue;
        const std::vector<std::string> sentences = SplitSentences(it->second->text);
        if (sentences.size() < 2) continue;  // nothing to choose
        const size_t before = todo.size();
        for (const std::string& sentence : sentences) {
          const std::string key = TextKey(sentence);
          if (score_.count(key) != 0) continue;
          EnsureEncoder();
          if (cache_ != nullptr) {
            if (auto c = cache_->FindSentiment(encoder_->result_key(), key)) {
              score_[key] = c->score;
              continue;
            }
          }
          score_[key] = 0;  // placeholder until scored below
          Review one;
          one.text = sentence;
          todo.push_back(std::move(one));
          keys.push_back(key);
        }
        reviews += todo.size() > before;
      }
    }
  }
  if (todo.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  SentimentScorer scorer(encoder_.get(), todo.size(), /*across_ranks=*/false);
  // Once per block of ranked users, between the lines of recommend's own
  // progress: say whose sentences these are.
  scorer.set_progress_label("snippet sentences of " + std::to_string(users.size()) + " users");
  SentimentStats stats;
  const std::vector<Sentiment> results = scorer.Score(todo, nullptr, &stats);
  for (size_t k = 0; k < results.size(); ++k) {
    score_[keys[k]] = results[k].score;
    fresh_.emplace_back(keys[k], ToCache(results[k], labels_));
  }
  scored_ += static_cast<int64_t>(results.size());
  scored_reviews_ += reviews;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string SnippetFinder::Get(const Reason& r) const {
  if (mode_ == SnippetMode::kNone) return "";
  auto it = reviews_.find(r.review_id);
  if (it == reviews_.end()) return "";
  const std::vector<std::string> sentences = SplitSentences(it->second->text);
  if (sentences.empty()) return "";
  if (mode_ == SnippetMode::kFirst || sentences.size() == 1) return sentences.front();
  // The most positive sentence of a liked review, the most negative of a
  // disliked one; the first of equals.
  const double sign = r.preference < 0 ? -1.0 : 1.0;
  size_t best = 0;
  double best_score = -2;
  for (size_t k = 0; k < sentences.size(); ++k) {
    auto s = score_.find(TextKey(sentences[k]));
    const double v = s == score_.end() ? 0.0 : sign * s->second;
    if (v > best_score) {
      best_score = v;
      best = k;
    }
  }
  return sentences[best];
}

void SnippetFinder::Save() {
  if (cache_ == nullptr || fresh_.empty()) return;
  EnsureEncoder();
  for (const auto& [key, value] : fresh_) cache_->StoreSentiment(encoder_->result_key(), key, value);
  fresh_.clear();
}

std::string SnippetFinder::PackFresh() {
  std::string out;
  for (const auto& [key, c] : fresh_) {
    for (const std::string* f : {&key, &c.label, &c.probs_json, &c.flags}) PackString(&out, *f);
    PackString(&out, nlohmann::json(c.score).dump());
  }
  fresh_.clear();
  return out;
}

void SnippetFinder::UnpackFresh(const std::string& packed) {
  Unpacker in(packed);
  while (!in.done()) {
    std::pair<std::string, CachedSentiment> e;
    e.first = in.String();
    e.second.label = in.String();
    e.second.probs_json = in.String();
    e.second.flags = in.String();
    e.second.score = std::stod(in.String());
    fresh_.push_back(std::move(e));
  }
}

}  // namespace avrec
