// Review snippets for reasons: the sentence of a review that carries its
// sentiment most strongly (scored by the sentiment model, cached in the
// workspace by sentence text), or simply its first sentence.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/encoder.h"
#include "avrec/recommend.h"
#include "avrec/workspace.h"

namespace avrec {

enum class SnippetMode { kModel, kFirst, kNone };
SnippetMode ParseSnippetMode(const std::string& s);  // Error(kUsage) if unknown

class SnippetFinder {
 public:
  // `reviews` must outlive the finder. With kModel, `model_dir` is loaded
  // only when a sentence has to be scored; `cache` (may be null) is read,
  // and written by Save().
  SnippetFinder(const std::unordered_map<std::string, const Review*>& reviews, SnippetMode mode,
                const std::string& model_dir, const EncoderOptions& encoder, Workspace* cache);
  ~SnippetFinder();

  // Scores, in one batch, the sentences of the similar_to reviews of these
  // users that are not known yet (kModel only).
  void Prepare(const std::vector<UserRecommendations*>& users);
  // The sentence to quote for a similar_to reason: the most positive one
  // of a liked review, the most negative of a disliked one ("" in kNone).
  std::string Get(const Reason& r) const;
  // Writes the sentences scored so far to the cache (call inside a
  // transaction).
  void Save();
  // Under mpirun: the sentences this rank scored, packed for rank 0 (and
  // forgotten here), and rank 0 taking another rank's for Save().
  std::string PackFresh();
  void UnpackFresh(const std::string& packed);
  int64_t scored() const { return scored_; }                  // sentences scored by the model here
  int64_t scored_reviews() const { return scored_reviews_; }  // the reviews they came from
  double seconds() const { return seconds_; }                 // spent loading the model and scoring

 private:
  const std::unordered_map<std::string, const Review*>& reviews_;
  SnippetMode mode_;
  std::string model_dir_;
  EncoderOptions encoder_options_;
  Workspace* cache_;
  void EnsureEncoder();
  std::unique_ptr<TextEncoder> encoder_;  // created on first need (libtorch loads only when it runs)
  std::vector<std::string> labels_;
  std::unordered_map<std::string, double> score_;               // sentence text key -> sentiment score
  std::vector<std::pair<std::string, CachedSentiment>> fresh_;  // scored now, not yet saved
  int64_t scored_ = 0;
  int64_t scored_reviews_ = 0;
  double seconds_ = 0;
};

}  // namespace avrec
