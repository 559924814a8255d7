// The scoring stage: the sentiment of every review, with the workspace cache
// keyed by (model and settings, normalised text).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "avrec/data.h"
#include "avrec/workspace.h"

namespace avrec {

class TextEncoder;
class Workspace;

struct Sentiment {
  std::string label;               // argmax label, or "neutral" for an empty text
  double score = 0;                // SentimentScore(): sum of probability x label score, in [-1, 1]
  std::vector<double> probs;       // label order of the model
  std::vector<std::string> flags;  // "empty_text", "truncated", "split"
};

struct SentimentStats {
  int64_t distinct = 0;    // distinct normalised texts
  int64_t scored = 0;      // run through the model now
  int64_t cached = 0;      // taken from the workspace cache
  int64_t empty = 0;       // blank texts (neutral, not run)
  int64_t long_texts = 0;  // longer than the model's maximum
};

class SentimentScorer {
 public:
  // `commit_every`: texts scored and committed to the workspace cache per
  // chunk; a killed run loses at most one chunk and the next run resumes.
  // `across_ranks`: under mpirun, every rank calls Score with the same
  // reviews; rank 0 (the only one given the workspace) decides what to
  // score, each rank runs its share, and every rank gets every result. False:
  // this rank scores alone.
  explicit SentimentScorer(const TextEncoder* encoder, size_t commit_every = 2048, bool across_ranks = true)
      : encoder_(encoder), commit_every_(commit_every), across_ranks_(across_ranks) {}

  // One result per review, in order. Identical texts are scored once. With a
  // workspace, cached results are reused and new ones stored (one
  // transaction per chunk of `commit_every` texts), and the workspace
  // remembers this encoder's result key as its current sentiment; one this
  // process may only read (Workspace::why_read_only) is only read, said in
  // a warning.
  std::vector<Sentiment> Score(const std::vector<Review>& reviews, Workspace* ws, SentimentStats* stats) const;

  // What the progress lines call the texts ("score: 2048/6908, ETA 9 s").
  void set_progress_label(std::string label) { progress_label_ = std::move(label); }

 private:
  const TextEncoder* encoder_;
  size_t commit_every_;
  bool across_ranks_;
  std::string progress_label_ = "score";
};

// The score of a classifier's output: sum over labels of probability x label
// score (the manifest's label_scores), clamped to [-1, 1] and rounded to 6
// decimals. `probs` and `label_scores` have the same length.
double SentimentScore(const std::vector<double>& probs, const std::vector<double>& label_scores);

// A result as the workspace's sentiment cache stores it.
CachedSentiment ToCache(const Sentiment& s, const std::vector<std::string>& labels);

// review_id -> score, what profiles read; reviews with a blank text are left
// out (no sentiment: their weight comes from the rating, else uniform).
std::unordered_map<std::string, double> SentimentScores(const std::unordered_map<std::string, Sentiment>& s);

// {"review_id":...,"label":...,"score":...,"probs":{...}[,"flags":[...]][,"text_key":...]}
// `text_key`: TextKey of the text scored (omitted when empty), so that a
// reader can tell a review whose text has changed since.
std::string SentimentJson(const std::string& review_id, const Sentiment& s, const std::vector<std::string>& labels,
                          const std::string& text_key = "");

// Sentiment of each review of a workspace under its current sentiment key
// (set by the last score run): review_id -> sentiment. Reviews never scored
// are absent.
std::unordered_map<std::string, Sentiment> LoadWorkspaceSentiment(Workspace* ws, std::string* result_key);

// Reads a score output file (JSON Lines) into review_id -> sentiment. Throws
// Error(kDataErr) naming PATH:LINE for a malformed record. With `text_keys`,
// also review_id -> the text_key of the records that have one.
std::unordered_map<std::string, Sentiment> ReadScoresFile(
    const std::string& path, std::unordered_map<std::string, std::string>* text_keys = nullptr);

}  // namespace avrec
