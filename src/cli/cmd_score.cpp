// score (sentiment of reviews) and embed (text embeddings).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "avrec/numeric.h"
#include "avrec/encoder.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/sentiment.h"
#include "avrec/workspace.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

void RegisterEncoderOptions(OptionTable* t, const std::string& section, EncoderFlags* o) {
  const std::string p = section.empty() ? "" : section + ".";
  t->Add("--precision", section.empty() ? "" : p + "precision", &o->precision,
         "Computing precision: auto (bf16 where the CPU has AVX512-BF16/AMX, else fp32), fp32, bf16");
  t->Add("--batch-size", section.empty() ? "" : p + "batch_size", &o->batch_size, "Most texts per batch");
  t->Add("--max-batch-tokens", section.empty() ? "" : p + "max_batch_tokens", &o->max_batch_tokens,
         "Most padded tokens per batch (rows x longest)");
  t->Add("--long-text", section.empty() ? "" : p + "long_text", &o->long_text,
         "Texts longer than the model's maximum: model (the manifest's choice), head-tail, head, split-average");
  t->Add("--threads", "threads", &o->threads, "Worker threads (0: all cores); results do not depend on it");
}

EncoderOptions ToEncoderOptions(const EncoderFlags& f) {
  EncoderOptions o;
  o.precision = ParsePrecision(f.precision);
  if (f.threads < 0) Fail(ExitCode::kUsage, "--threads: expected 0 or more");
  if (f.batch_size < 1) Fail(ExitCode::kUsage, "--batch-size: expected at least 1");
  o.threads = f.threads;
  o.max_batch_size = f.batch_size;
  o.max_batch_tokens = f.max_batch_tokens;
  if (f.long_text != "model") {
    o.long_text_from_manifest = false;
    o.long_text = ParseLongTextPolicy(f.long_text);
  }
  return o;
}


}  // namespace

void RegisterScore(OptionTable* t, ScoreOptions* o) {
  t->AddPath("--model", "score.model", &o->model, "Sentiment model directory (default: the bundled one)");
  t->AddPath("--reviews", "reviews.path", &o->reviews,
             "Reviews file to score (default: every review in --workspace)");
  t->AddPath("--out", "score.out", &o->out, "Write one JSON object per review here (JSON Lines)");
  t->AddPath("--workspace,-w", "workspace", &o->workspace,
             "Workspace: scores are cached and stored there, and read from there next time");
  RegisterEncoderOptions(t, "score", &o->encoder);
  t->Add("--max-errors", "max_errors", &o->max_errors, "Print at most this many input problems");
}

int RunScore(const ScoreOptions& o) {
  if (o.reviews.empty() && o.workspace.empty()) Fail(ExitCode::kUsage, "score: give --reviews PATH or --workspace PATH");
  if (o.reviews.empty() && o.out.empty() && o.workspace.empty()) Fail(ExitCode::kUsage, "score: nothing to do");
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Workspace> ws;
  if (!o.workspace.empty()) ws = Workspace::Open(o.workspace, /*create=*/!o.reviews.empty());

  std::vector<Review> reviews;
  if (!o.reviews.empty()) {
    ProblemLog problems(static_cast<size_t>(std::max(0, o.max_errors)), PrintProblem);
    ReviewReadOptions ro;
    ro.allow_empty_text = true;
    ReadReviews(o.reviews, ro, &problems, [&](Review&& r) { reviews.push_back(std::move(r)); });
    if (problems.count() > 0) {
      if (problems.unreported() > 0) spdlog::error("... and {} more problems not shown", problems.unreported());
      Fail(ExitCode::kDataErr, o.reviews, ": ", problems.count(), " invalid row", problems.count() == 1 ? "" : "s",
           "; nothing was scored (fix them, or run `avrec ingest --lenient` and score the workspace)");
    }
  } else {
    reviews = ws->LoadReviews();
  }

  const std::string dir = o.model.empty() ? DefaultModelDir("sentiment") : o.model;
  ModelManifest manifest = LoadModelManifest(dir);
  if (manifest.task != "sentiment") {
    Fail(ExitCode::kDataErr, dir, "/avrec-model.json: field 'task': this is an ", manifest.task,
         " model; score needs a sentiment model");
  }
  TextEncoder encoder(manifest, ToEncoderOptions(o.encoder));
  SentimentScorer scorer(&encoder);
  SentimentStats stats;
  std::vector<Sentiment> results = scorer.Score(reviews, ws.get(), &stats);

  if (!o.out.empty()) {
    AtomicFile out(o.out);
    for (size_t i = 0; i < reviews.size(); ++i) {
      out.Write(SentimentJson(reviews[i].review_id, results[i], manifest.labels) + "\n");
    }
    out.Commit();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("score: {} reviews ({} distinct texts): {} scored by {} ({}), {} reused from the workspace cache, "
               "{} empty (neutral), {} longer than {} tokens ({}); {:.1f} s",
               reviews.size(), stats.distinct, stats.scored, manifest.name, PrecisionName(encoder.precision()),
               stats.cached, stats.empty, stats.long_texts, manifest.max_length, LongTextPolicyName(encoder.long_text()),
               secs);
  if (!o.out.empty()) spdlog::info("scores written to {}", o.out);
  return 0;
}

void RegisterEmbed(OptionTable* t, EmbedOptions* o) {
  t->AddPath("--model", "", &o->model, "Embedding model directory (default: the bundled all-MiniLM-L6-v2)");
  t->AddPath("--input", "", &o->input, "Table (CSV, TSV, JSON Lines) with columns id and text");
  t->AddPath("--out", "", &o->out, "JSON Lines output: {\"id\": ..., \"embedding\": [...]}");
  RegisterEncoderOptions(t, "", &o->encoder);
}

int RunEmbed(const EmbedOptions& o) {
  if (o.input.empty() || o.out.empty()) Fail(ExitCode::kUsage, "embed: give --input PATH and --out PATH");
  const std::string dir = o.model.empty() ? DefaultModelDir("embedding") : o.model;
  ModelManifest manifest = LoadModelManifest(dir);
  if (manifest.task != "embedding") {
    Fail(ExitCode::kDataErr, dir, "/avrec-model.json: field 'task': embed needs an embedding model");
  }
  ProblemLog problems(100, PrintProblem);
  TableReader table(o.input, &problems);
  std::vector<std::string> ids, texts;
  Row row;
  while (table.Next(&row)) {
    std::string id;
    const Cell& t = row.at(table.column("text"));
    if (!CellAsId(row.at(table.column("id")), &id) || id.empty()) {
      problems.Add(o.input, row.line, "field 'id': expected a non-empty id");
      continue;
    }
    if (t.kind != Cell::Kind::kText) {
      problems.Add(o.input, row.line, "field 'text': expected text");
      continue;
    }
    ids.push_back(id);
    texts.push_back(t.text);
  }
  if (problems.count() > 0) Fail(ExitCode::kDataErr, o.input, ": ", problems.count(), " invalid rows");
  TextEncoder encoder(manifest, ToEncoderOptions(o.encoder));
  std::vector<float> out;
  std::vector<EncodeInfo> info;
  Progress progress("embed", static_cast<int64_t>(texts.size()));
  encoder.Run(texts, &out, &info, [&](int64_t d) { progress.Set(d); });
  progress.Finish();
  AtomicFile file(o.out);
  const int dim = encoder.output_dim();
  for (size_t i = 0; i < ids.size(); ++i) {
    nlohmann::ordered_json j;
    j["id"] = ids[i];
    std::vector<double> v(dim);
    for (int k = 0; k < dim; ++k) v[k] = RoundDecimals(out[i * dim + k], 6);
    j["embedding"] = v;
    file.Write(j.dump() + "\n");
  }
  file.Commit();
  spdlog::info("embed: {} texts -> {}", ids.size(), o.out);
  return 0;
}

}  // namespace avrec::cli
