#include "pipeline/snippets.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/parallel.h"
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
  // Per cited review, its sentences whose score is not known yet. Each
  // review's sentences run as one batch of their own, so a sentence's score
  // does not depend on which users or process asked for it.
  std::vector<std::vector<Review>> groups;
  std::vector<std::vector<std::string>> group_keys;
  std::unordered_set<std::string> seen;
  for (UserRecommendations* u : users) {
    for (const RecommendedItem& item : u->items) {
      for (const Reason& r : item.reasons) {
        if (r.kind != "similar_to" || !seen.insert(r.review_id).second) continue;
        auto it = reviews_.find(r.review_id);
        if (it == reviews_.end()) continue;
        const std::vector<std::string> sentences = SplitSentences(it->second->text);
        if (sentences.size() < 2) continue;  // nothing to choose
        std::vector<Review> todo;
        std::vector<std::string> keys;
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
        if (!todo.empty()) {
          groups.push_back(std::move(todo));
          group_keys.push_back(std::move(keys));
        }
      }
    }
  }
  // Each group alone (its own batch, so its scores do not depend on the
  // other groups), the groups spread over the encoder's threads, one
  // intra-op thread each: small batches split across intra-op threads use
  // them poorly (1/8 of the Amazon users with reasons, 2 threads: 13.6 s
  // one group at a time, 12.6 s spread; the rest is the model's compute).
  std::vector<std::vector<Sentiment>> results(groups.size());
  if (!groups.empty()) {
    ForEachIndex(groups.size(), encoder_->threads(), [&](size_t g) {
      SentimentScorer scorer(encoder_.get(), groups[g].size(), /*across_ranks=*/false);
      SentimentStats stats;
      results[g] = scorer.Score(groups[g], nullptr, &stats);
    });
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t k = 0; k < results[g].size(); ++k) {
      score_[group_keys[g][k]] = results[g][k].score;
      fresh_.emplace_back(group_keys[g][k], ToCache(results[g][k], labels_));
    }
    scored_ += static_cast<int64_t>(results[g].size());
  }
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
