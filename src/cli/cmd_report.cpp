// report: the analyst's HTML page for a recommendations file.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/log.h"
#include "cli/commands.h"

namespace avrec::cli {

void ReportCommand::Describe(OptionSet* s) {
  config.inputs.Describe(s, /*with_items=*/true, "report");
  config.DescribeWorkspace(s, "Workspace with the reviews, items and sentiment (instead of --reviews/--items)").inert =
      [this] {
        return config.inputs.reviews.empty() && config.inputs.items.empty()
                   ? std::string()
                   : std::string("it is read instead of --reviews and --items, and they are given");
      };
  s->AddPath("--scores", "", &config.scores, "Sentiment from this `avrec score` output (default: the workspace's)");
  s->AddPath("--recs", "", &recs, "The recommendations to report on (JSON or JSON Lines, as avrec writes them)");
  s->AddPath("--previous", "", &previous, "Earlier recommendations: adds the night-over-night changes");
  s->AddPath("--out,-o", "", &out, "The HTML file to write");
  s->AddPath("--manifest", "", &manifest, "The run manifest to show (default: RECS.run.json when it exists)");
  s->AddNumber("--max-users", "", &options.max_users, {1, 1e7},
               "Users in the drill-down; beyond, the first in output order (a stable-hash sample)");
  s->AddNumber("--reviews-per-user", "", &options.reviews_per_user, {0, 1e6},
               "Latest reviews shown per user in the drill-down");
}

namespace {

// The page shows the manifest as the run that wrote the lists: it must be a
// run manifest (exit 65 otherwise), and is said to be another run's (false,
// with a warning) when none of its outputs has the bytes the recommendations
// file has now. A recommendations stream (FIFO, stdin) is not checked.
bool CheckManifest(const std::string& path, const nlohmann::json& m, const std::string& recs) {
  const auto format = m.is_object() ? m.find("format") : m.end();
  if (format == m.end() || !format->is_string() || format->get<std::string>().rfind("avrec-run/", 0) != 0) {
    Fail(ExitCode::kDataErr, path,
         ": not an avrec run manifest (no \"format\": \"avrec-run/1\"); --manifest takes the RECS.run.json that "
         "`recommend` writes beside its output");
  }
  struct stat st;
  if (::stat(recs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return true;
  std::string sha;  // computed only when an output has the file's size
  const auto outputs = m.find("outputs");
  if (outputs != m.end() && outputs->is_array()) {
    for (const auto& out : *outputs) {
      if (!out.is_object() || out.value("bytes", int64_t{-1}) != static_cast<int64_t>(st.st_size)) continue;
      if (sha.empty()) sha = Sha256File(recs);
      if (out.value("sha256", std::string()) == sha) return true;
    }
  }
  spdlog::warn(
      "{}: none of this manifest's outputs is {} as it is now (size or SHA-256 differ): the page shows it, "
      "marked as another run's",
      path, recs);
  return false;
}

}  // namespace

int RunReport(const ReportCommand& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.recs.empty() || o.out.empty()) Fail(ExitCode::kUsage, "report: give --recs PATH and --out PATH");
  WarnIfNamedForAnotherFormat(o.out, "report", SingleFormat::kHtml);
  const PipelineConfig& c = o.config;
  const bool files = c.ReadsFiles();
  ReportInputs in;
  // The small inputs first, so that a broken one fails before the reviews are read.
  in.recs = ReadReportLists(o.recs, o.previous, static_cast<size_t>(o.options.max_users));
  const std::string manifest = o.manifest.empty() ? o.recs + ".run.json" : o.manifest;
  struct stat st;
  if (::stat(manifest.c_str(), &st) == 0) {
    std::string error;
    if (!ParseJson(ReadFileToString(manifest, kMaxSmallFileBytes), &in.manifest, &error))
      Fail(ExitCode::kDataErr, manifest, ": ", error);
    in.manifest_matches = CheckManifest(manifest, in.manifest, o.recs);
  } else if (!o.manifest.empty()) {
    Fail(ExitCode::kNoInput, manifest, ": no such file");
  }
  SentimentResult sentiment;
  if (files) {
    ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
    Dataset d = ReadDataset(c.inputs, &problems);
    in.items = std::move(d.item_table);
    in.reviews = std::move(d.reviews);
  } else {
    auto ws = Workspace::Open(c.workspace, false);
    Dataset d = LoadDataset(ws.get());
    in.items = std::move(d.item_table);
    in.reviews = std::move(d.reviews);
    if (c.scores.empty()) sentiment = LoadSentiment(ws.get());
  }
  if (!c.scores.empty()) sentiment = ReadSentimentFile(c.scores, in.reviews);  // as recommend: the file wins
  for (const auto& [id, s] : sentiment.by_review) in.sentiment.emplace(id, s.score);
  in.sentiment_model = sentiment.model_name;
  const std::string page = RenderReport(in, o.options);
  WriteFileAtomically(o.out, page);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  InfoEvent("stage_end",
            {{"stage", "report"}, {"out", o.out}, {"bytes", page.size()}, {"seconds", std::round(secs * 100) / 100}},
            fmt::format("report: {} ({:.1f} kB) in {:.1f} s", o.out, page.size() / 1024.0, secs));
  return 0;
}

}  // namespace avrec::cli
