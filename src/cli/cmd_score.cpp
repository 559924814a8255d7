// score (sentiment of reviews) and embed (text embeddings).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/numeric.h"
#include "avrec/parallel.h"
#include "avrec/table.h"
#include "avrec/text.h"
#include "cli/commands.h"
#include "common/cluster.h"

namespace avrec::cli {

void ScoreCommand::Describe(OptionSet* s) {
  config.DescribeScore(s);
  config.inputs.Describe(s, /*with_items=*/false);
  config.DescribeScoreOut(s, "--out,-o");
  config.DescribeWorkspace(s, "Workspace: scores are cached and stored there, and read from there next time");
  config.DescribeThreads(s);
  config.DescribeManifest(s);
}

namespace {

std::vector<Review> ReviewsToScore(const PipelineConfig& c, Workspace* ws) {
  std::vector<Review> reviews;
  if (c.inputs.reviews.empty()) return ws->LoadReviews();
  ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
  ReviewReadOptions ro = c.inputs.Reviews(true);
  ro.texts_only = true;  // scoring reads the texts; users and items wait for profile and recommend
  const ReviewStats st =
      ReadReviews(c.inputs.reviews, ro, &problems, [&](Review&& r) { reviews.push_back(std::move(r)); });
  LogReviewNotes(c.inputs.reviews, st);
  FailOnInvalidRows(problems, c.inputs.reviews,
                    "; nothing was scored (fix them, or run `avrec ingest --lenient` and score the workspace)");
  return reviews;
}

}  // namespace

int RunScore(const ScoreCommand& o) {
  const PipelineConfig& c = o.config;
  if (c.inputs.reviews.empty() && c.workspace.empty()) {
    Fail(ExitCode::kUsage, "score: give --reviews PATH or --workspace PATH");
  }
  if (c.score_out.empty() && c.workspace.empty()) {
    // Hours of scoring thrown away for a forgotten option: refused first.
    Fail(ExitCode::kUsage, "score: give --out PATH or --workspace PATH (the scores would be kept nowhere)");
  }
  if (!c.score_out.empty()) WarnIfNamedForAnotherFormat(c.score_out, "score");
  // Under mpirun every rank reads the reviews and scores its share; rank 0
  // alone writes the workspace and the output.
  const Cluster& cluster = Cluster::Get();
  std::unique_ptr<Workspace> ws;
  if (!c.workspace.empty() && (cluster.root() || c.inputs.reviews.empty())) {
    ws = Workspace::Open(c.workspace, /*create=*/cluster.root() && !c.inputs.reviews.empty());
  }
  if (ws != nullptr && c.score_out.empty() && !ws->why_read_only().empty()) {
    // The scores would be kept nowhere: refused before any scoring.
    Fail(ExitCode::kCantCreate, c.workspace, ": cannot write the workspace: ", ws->why_read_only(),
         "; `avrec score --out PATH` writes the scores to a file instead");
  }
  const std::vector<Review> reviews = ReviewsToScore(c, ws.get());
  const SentimentResult r = ScoreSentiment(reviews, c.sentiment_model, c.EncoderWithThreads(),
                                           cluster.root() ? ws.get() : nullptr, c.commit_every);
  if (!cluster.root()) return 0;
  if (!c.score_out.empty()) {
    AtomicFile out(c.score_out);
    for (size_t i = 0; i < reviews.size(); ++i) {
      out.Write(SentimentJson(reviews[i].review_id, r.per_review[i], r.labels, TextKey(reviews[i].text)) + "\n");
    }
    out.Commit();
  }
  if (!c.score_out.empty()) spdlog::info("scores written to {}", c.score_out);
  return 0;
}

void EmbedCommand::Describe(OptionSet* s) {
  s->AddPath("--model", "", &model, "Embedding model directory (default: the bundled all-MiniLM-L6-v2)");
  s->AddPath("--input", "", &input, "Table (CSV, TSV, JSON Lines) with columns id and text");
  s->AddPath("--out,-o", "", &out, "JSON Lines output: {\"id\": ..., \"embedding\": [...]}");
  s->AddMapping("--map", "", &columns, "Read file columns as id and text: id=movieId,text=title");
  encoder.Describe(s, "");
  s->AddNumber("--threads", "", &encoder.threads, {0, 2147483647},
               "Worker threads (0: all cores); results do not depend on it");
}

namespace {

// What other tables call an embed input's two columns: an item's or a
// review's id; a review's text, or an item's title or description.
const std::vector<ColumnAliases>& EmbedAliases() {
  static const std::vector<ColumnAliases> aliases = {
      {"id", {"itemid", "reviewid", "item", "asin", "movieid", "trackid", "songid", "videoid", "uri"}},
      {"text",
       {"review", "reviewtext", "content", "comment", "body", "sentence", "description", "title", "name", "message"}},
  };
  return aliases;
}

void ReadTexts(const EmbedCommand& o, std::vector<std::string>* ids, std::vector<std::string>* texts) {
  const std::string& path = o.input;
  ProblemLog problems(100, PrintProblem);
  TableReader table(path, &problems, kDefaultMaxRecordBytes, o.columns);
  if (table.header_ok() && !HeaderHasColumns(table, {"id", "text"}, EmbedAliases(), "--map", &problems)) {
    FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
  }
  std::unordered_map<std::string, int64_t> first_line;  // of each id
  Row row;
  while (table.Next(&row)) {
    std::string id;
    const Cell& t = row.at(table.column("text"));
    if (!CellAsId(row.at(table.column("id")), &id) || id.empty()) {
      problems.Add(path, row.line, "field 'id': expected a non-empty id");
      continue;
    }
    if (t.kind != Cell::Kind::kText) {
      problems.Add(path, row.line, "field 'text': expected text");
      continue;
    }
    // Two embeddings under one id: whoever reads the output by id would keep
    // one of them, unsaid.
    const auto [seen, added] = first_line.emplace(id, static_cast<int64_t>(row.line));
    if (!added) {
      problems.Add(path, row.line,
                   "field 'id': duplicate id " + EscapeForMessage(id, 40) + " (first on line " +
                       std::to_string(seen->second) + ")");
      continue;
    }
    ids->push_back(id);
    texts->push_back(t.text);
  }
  FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
}

}  // namespace

int RunEmbed(const EmbedCommand& o) {
  if (o.input.empty() || o.out.empty()) Fail(ExitCode::kUsage, "embed: give --input PATH and --out PATH");
  WarnIfNamedForAnotherFormat(o.out, "embed");
  const std::string dir = o.model.empty() ? DefaultModelDir("embedding") : o.model;
  const ModelManifest manifest = LoadModelManifest(dir);
  if (manifest.task != "embedding") {
    Fail(ExitCode::kDataErr, dir, "/avrec-model.json: field 'task': embed needs an embedding model");
  }
  std::vector<std::string> ids, texts;
  ReadTexts(o, &ids, &texts);
  TextEncoder encoder(manifest, o.encoder);
  std::vector<float> out;
  std::vector<EncodeInfo> info;
  Progress progress("embed", static_cast<int64_t>(texts.size()));
  encoder.Run(texts, &out, &info, [&](int64_t d) { progress.Set(d); });
  progress.Finish();
  AtomicFile file(o.out);
  const int dim = encoder.output_dim();
  std::vector<double> v(static_cast<size_t>(dim));
  for (size_t i = 0; i < ids.size(); ++i) {
    nlohmann::ordered_json j;
    j["id"] = ids[i];
    for (int k = 0; k < dim; ++k) v[static_cast<size_t>(k)] = RoundDecimals(out[i * dim + k], 6);
    j["embedding"] = v;
    file.Write(j.dump() + "\n");
  }
  file.Commit();
  const auto blank = std::count_if(info.begin(), info.end(), [](const EncodeInfo& e) { return e.empty; });
  spdlog::info("embed: {} texts -> {}", ids.size(), o.out);
  if (blank > 0) spdlog::info("embed: {} blank texts written as zero vectors (not run through the model)", blank);
  return 0;
}

}  // namespace avrec::cli
