#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "avrec/encoder.h"
#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/log.h"
#include "avrec/numeric.h"
#include "avrec/sentiment.h"
#include "avrec/table.h"
#include "avrec/workspace.h"
#include "common/cluster.h"
#include "common/fault.h"

namespace avrec {

namespace {

// The flag of a blank text's result (scored neutral, not run).
constexpr const char* kEmptyTextFlag = "empty_text";

Sentiment FromProbs(const float* p, const ModelManifest& m, const EncodeInfo& info) {
  Sentiment s;
  const size_t n = m.labels.size();
  size_t best = 0;
  std::vector<double> exact(p, p + n);
  for (size_t j = 0; j < n; ++j) {
    s.probs.push_back(RoundDecimals(p[j], 6));
    if (p[j] > p[best]) best = j;
  }
  s.score = SentimentScore(exact, m.label_scores);
  s.label = m.labels[best];
  if (info.truncated) s.flags.push_back("truncated");
  if (info.chunks > 1) s.flags.push_back("split");
  return s;
}

Sentiment Neutral(size_t labels) {
  Sentiment s;
  s.label = "neutral";
  s.probs.assign(labels, RoundDecimals(1.0 / static_cast<double>(labels), 6));
  s.flags.push_back(kEmptyTextFlag);
  return s;
}

std::string JoinFlags(const std::vector<std::string>& f) {
  std::string out;
  for (const auto& x : f) out += (out.empty() ? "" : ",") + x;
  return out;
}

std::vector<std::string> SplitFlags(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

Sentiment FromCache(const CachedSentiment& c, const std::vector<std::string>& labels) {
  Sentiment s;
  s.label = c.label;
  s.score = c.score;
  auto probs = nlohmann::json::parse(c.probs_json);
  for (const auto& l : labels) s.probs.push_back(probs.value(l, 0.0));
  s.flags = SplitFlags(c.flags);
  return s;
}

// Rank 0's results and counts to every rank.
void ShareResults(std::vector<Sentiment>* results, SentimentStats* stats) {
  const Cluster& cluster = Cluster::Get();
  const auto raw = [](const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); };
  std::string message;
  if (cluster.root()) {
    for (const Sentiment& s : *results) {
      PackString(&message, s.label);
      PackString(&message, raw(&s.score, sizeof s.score));
      PackString(&message, raw(s.probs.data(), s.probs.size() * sizeof(double)));
      PackString(&message, JoinFlags(s.flags));
    }
    for (int64_t v : {stats->distinct, stats->scored, stats->cached, stats->empty, stats->long_texts}) {
      PackU64(&message, static_cast<uint64_t>(v));
    }
  }
  Unpacker in(cluster.Broadcast(message));
  if (cluster.root()) return;
  for (Sentiment& s : *results) {
    s.label = in.String();
    const std::string score = in.String(), probs = in.String();
    std::memcpy(&s.score, score.data(), std::min(score.size(), sizeof s.score));
    s.probs.resize(probs.size() / sizeof(double));
    std::memcpy(s.probs.data(), probs.data(), s.probs.size() * sizeof(double));
    s.flags = SplitFlags(in.String());
  }
  for (int64_t* v : {&stats->distinct, &stats->scored, &stats->cached, &stats->empty, &stats->long_texts}) {
    *v = static_cast<int64_t>(in.U64());
  }
}

// The reviews' distinct texts by cache key (TextKey), in first-seen order.
struct DistinctTexts {
  std::vector<std::string> key;   // per text
  std::vector<size_t> review;     // per text: the first review holding it
  std::vector<size_t> of_review;  // per review: its text
};

DistinctTexts Distinct(const std::vector<Review>& reviews) {
  DistinctTexts d;
  std::unordered_map<std::string, size_t> slot_of;
  d.of_review.resize(reviews.size());
  for (size_t i = 0; i < reviews.size(); ++i) {
    std::string tk = TextKey(reviews[i].text);
    auto [it, inserted] = slot_of.emplace(tk, d.key.size());
    if (inserted) {
      d.key.push_back(std::move(tk));
      d.review.push_back(i);
    }
    d.of_review[i] = it->second;
  }
  return d;
}

}  // namespace

CachedSentiment ToCache(const Sentiment& s, const std::vector<std::string>& labels) {
  nlohmann::ordered_json probs;
  for (size_t j = 0; j < labels.size(); ++j) probs[labels[j]] = s.probs[j];
  return {s.label, s.score, probs.dump(), JoinFlags(s.flags)};
}

double SentimentScore(const std::vector<double>& probs, const std::vector<double>& label_scores) {
  AVREC_CHECK(probs.size() == label_scores.size(), "one score per label");
  double score = 0;
  for (size_t j = 0; j < probs.size(); ++j) score += probs[j] * label_scores[j];
  return RoundDecimals(std::max(-1.0, std::min(1.0, score)), 6);
}

std::unordered_map<std::string, double> SentimentScores(const std::unordered_map<std::string, Sentiment>& s) {
  std::unordered_map<std::string, double> out;
  out.reserve(s.size());
  for (const auto& [id, v] : s) {
    // A blank text says nothing: its review weighs by its rating, else
    // uniformly, instead of counting as a neutral 0 that drops it.
    if (std::find(v.flags.begin(), v.flags.end(), kEmptyTextFlag) != v.flags.end()) continue;
    out.emplace(id, v.score);
  }
  return out;
}

std::string SentimentJson(const std::string& review_id, const Sentiment& s, const std::vector<std::string>& labels,
                          const std::string& text_key) {
  nlohmann::ordered_json j;
  j["review_id"] = review_id;
  j["label"] = s.label;
  j["score"] = s.score;
  nlohmann::ordered_json probs = nlohmann::ordered_json::object();
  for (size_t k = 0; k < labels.size() && k < s.probs.size(); ++k) probs[labels[k]] = s.probs[k];
  j["probs"] = probs;
  if (!s.flags.empty()) j["flags"] = s.flags;
  if (!text_key.empty()) j["text_key"] = text_key;
  return j.dump();
}

namespace {

// Fills the results an empty text or the workspace cache gives; returns
// the texts left to score.
std::vector<size_t> TextsToScore(const std::vector<Review>& reviews, const DistinctTexts& distinct, Workspace* ws,
                                 const std::string& key, const std::vector<std::string>& labels,
                                 std::vector<Sentiment>* slot_result, SentimentStats* stats) {
  std::vector<size_t> todo;
  for (size_t s = 0; s < distinct.key.size(); ++s) {
    if (Trim(reviews[distinct.review[s]].text).empty()) {
      (*slot_result)[s] = Neutral(labels.size());
      ++stats->empty;
      continue;
    }
    if (ws != nullptr) {
      if (auto c = ws->FindSentiment(key, distinct.key[s])) {
        (*slot_result)[s] = FromCache(*c, labels);
        ++stats->cached;
        if (!c->flags.empty() && c->flags != kEmptyTextFlag) ++stats->long_texts;
        continue;
      }
    }
    todo.push_back(s);
  }
  return todo;
}

}  // namespace

std::vector<Sentiment> SentimentScorer::Score(const std::vector<Review>& reviews, Workspace* ws,
                                              SentimentStats* stats) const {
  const ModelManifest& m = encoder_->manifest();
  const std::string& key = encoder_->result_key();
  const DistinctTexts distinct = Distinct(reviews);
  const std::vector<std::string>& slot_key = distinct.key;
  const std::vector<size_t>& slot_review = distinct.review;
  stats->distinct = static_cast<int64_t>(slot_key.size());
  std::vector<Sentiment> slot_result(slot_key.size());
  std::vector<size_t> todo = TextsToScore(reviews, distinct, ws, key, m.labels, &slot_result, stats);
  // Under mpirun, rank 0 (the one with the workspace) decides what to score;
  // every rank runs its share of each chunk's batches; rank 0 keeps the
  // results (the others' are not used).
  const Cluster& cluster = Cluster::Get();
  const bool distributed = across_ranks_ && cluster.distributed();
  if (distributed) {
    std::string message;
    for (size_t s : todo) PackU64(&message, s);
    Unpacker in(cluster.Broadcast(message));
    todo.clear();
    while (!in.done()) todo.push_back(static_cast<size_t>(in.U64()));
  }
  // A workspace this user may only read is a cache to read from.
  const bool store = ws != nullptr && ws->why_read_only().empty();
  if (ws != nullptr && !store && !todo.empty() && cluster.root()) {
    spdlog::warn("{}: the {} scores computed now are not cached: {}", ws->path(), todo.size(), ws->why_read_only());
  }
  Progress progress(progress_label_, static_cast<int64_t>(todo.size()));
  std::vector<std::string> texts;
  std::vector<float> probs;
  std::vector<EncodeInfo> info;
  const size_t chunk = std::max<size_t>(1, commit_every_);
  for (size_t c = 0; c < todo.size(); c += chunk) {
    const size_t end = std::min(todo.size(), c + chunk);
    texts.clear();
    for (size_t k = c; k < end; ++k) texts.push_back(SanitizeUtf8(reviews[slot_review[todo[k]]].text));
    const int64_t base = static_cast<int64_t>(c);
    encoder_->Run(
        texts, &probs, &info, [&](int64_t done) { progress.Set(base + done); }, distributed);
    for (size_t k = c; k < end; ++k) {
      const size_t r = k - c;
      Sentiment s = info[r].empty ? Neutral(m.labels.size()) : FromProbs(&probs[r * m.labels.size()], m, info[r]);
      if (info[r].empty) ++stats->empty;
      if (info[r].truncated || info[r].chunks > 1) ++stats->long_texts;
      slot_result[todo[k]] = std::move(s);
    }
    stats->scored += static_cast<int64_t>(end - c);
    if (store) {
      ws->InTransaction([&] {
        for (size_t k = c; k < end; ++k)
          ws->StoreSentiment(key, slot_key[todo[k]], ToCache(slot_result[todo[k]], m.labels));
      });
      FaultPoint("score.commit");
    }
  }
  progress.Finish();
  if (store) {
    ws->InTransaction([&] {
      ws->SetMeta("sentiment.result_key", key);
      ws->SetMeta("sentiment.labels", nlohmann::json(m.labels).dump());
      ws->SetMeta("sentiment.model", m.name);
    });
  }
  if (distributed) ShareResults(&slot_result, stats);
  std::vector<Sentiment> out(reviews.size());
  for (size_t i = 0; i < reviews.size(); ++i) out[i] = slot_result[distinct.of_review[i]];
  return out;
}

std::unordered_map<std::string, Sentiment> LoadWorkspaceSentiment(Workspace* ws, std::string* result_key) {
  std::unordered_map<std::string, Sentiment> out;
  std::string key = ws->GetMeta("sentiment.result_key");
  if (result_key != nullptr) *result_key = key;
  if (key.empty()) return out;
  std::vector<std::string> labels =
      nlohmann::json::parse(ws->GetMeta("sentiment.labels")).get<std::vector<std::string>>();
  ws->ForEachReviewSentiment(key, [&](const std::string& review_id, const CachedSentiment& c) {
    out.emplace(review_id, FromCache(c, labels));
  });
  return out;
}

std::unordered_map<std::string, Sentiment> ReadScoresFile(const std::string& path,
                                                          std::unordered_map<std::string, std::string>* text_keys) {
  std::unordered_map<std::string, Sentiment> out;
  ByteSource src(path);
  LineReader lines(&src);
  std::string line;
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    nlohmann::json j;
    std::string error;
    if (!ParseJson(line, &j, &error)) Fail(ExitCode::kDataErr, path, ":", lines.line_number(), ": ", error);
    if (!j.is_object() || !j.contains("review_id") || !j.contains("score") || !j["score"].is_number()) {
      Fail(ExitCode::kDataErr, path, ":", lines.line_number(),
           ": expected a score record {\"review_id\": ..., \"score\": ...}");
    }
    Sentiment s;
    s.score = j["score"].get<double>();
    if (!(s.score >= -1 && s.score <= 1))
      Fail(ExitCode::kDataErr, path, ":", lines.line_number(), ": field 'score': expected a number in [-1, 1]");
    s.label = j.value("label", "");
    if (j.contains("flags") && j["flags"].is_array()) {
      for (const auto& f : j["flags"])
        if (f.is_string()) s.flags.push_back(f.get<std::string>());
    }
    std::string id = j["review_id"].is_string() ? j["review_id"].get<std::string>() : j["review_id"].dump();
    if (text_keys != nullptr && j.contains("text_key") && j["text_key"].is_string()) {
      (*text_keys)[id] = j["text_key"].get<std::string>();
    }
    out[id] = std::move(s);
  }
  return out;
}

}  // namespace avrec
