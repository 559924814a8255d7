#include "pipeline/snippets.h"

#include <spdlog/spdlog.h>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/pipeline.h"
#include "avrec/sentiment.h"
#include "avrec/text.h"

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

void SnippetFinder::Prepare(const std::vector<UserRecommendations*>& users) {
  if (mode_ != SnippetMode::kModel) return;
  // Sentences of the cited reviews whose score is not known yet.
  std::vector<Review> todo;  // one per sentence (text only)
  std::vector<std::string> todo_keys;
  const auto need = [&](const std::string& sentence) {
    const std::string key = TextKey(sentence);
    if (score_.count(key) != 0) return;
    if (!encoder_) {
      const ModelManifest m = LoadTaskModel(model_dir_, "sentiment");
      encoder_ = std::make_unique<TextEncoder>(m, encoder_options_, ModelLoad::kOnFirstRun);
      labels_ = m.labels;
    }
    if (cache_ != nullptr) {
      if (auto c = cache_->FindSentiment(encoder_->result_key(), key)) {
        score_[key] = c->score;
        return;
      }
    }
    score_[key] = 0;  // placeholder until scored below
    Review r;
    r.text = sentence;
    todo.push_back(std::move(r));
    todo_keys.push_back(key);
  };
  for (UserRecommendations* u : users) {
    for (const RecommendedItem& item : u->items) {
      for (const Reason& r : item.reasons) {
        if (r.kind != "similar_to") continue;
        auto it = reviews_.find(r.review_id);
        if (it == reviews_.end()) continue;
        const std::vector<std::string> sentences = SplitSentences(it->second->text);
        if (sentences.size() < 2) continue;  // nothing to choose
        for (const std::string& s : sentences) need(s);
      }
    }
  }
  if (todo.empty()) return;
  SentimentScorer scorer(encoder_.get(), todo.size());
  SentimentStats stats;
  const std::vector<Sentiment> results = scorer.Score(todo, nullptr, &stats);
  for (size_t k = 0; k < results.size(); ++k) {
    score_[todo_keys[k]] = results[k].score;
    fresh_.emplace_back(todo_keys[k], ToCache(results[k], labels_));
  }
  scored_ += static_cast<int64_t>(results.size());
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
  for (const auto& [key, value] : fresh_) cache_->StoreSentiment(encoder_->result_key(), key, value);
  fresh_.clear();
}

}  // namespace avrec
