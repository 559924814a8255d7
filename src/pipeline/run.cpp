// Whole stages as subcommands run them, and RunPipeline.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <utility>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "common/cluster.h"
#include "common/fault.h"

namespace avrec {

namespace {

void MakeParentDirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) Fail(ExitCode::kCantCreate, parent.string(), ": cannot create folder: ", ec.message());
}

// Lists or profiles from no reviews at all are empty for everyone: what a
// failed export (an empty or header-only file) gives, which must not replace
// last night's output with nothing.
void RequireReviews(const Dataset& d, const std::string& source) {
  if (!d.reviews.empty()) return;
  Fail(ExitCode::kDataErr, source,
       ": no reviews, so no user to rank for (an empty or header-only file?); nothing was written");
}

// Whether `field` names a column of ids ("user_id", "item_id", "review_id",
// "id", "userId", ...): the header line of a one-column table.
bool IsIdColumnName(std::string_view field) {
  std::string folded;
  for (char c : field) {
    if (c != '_' && c != '"') folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return folded == "userid" || folded == "itemid" || folded == "reviewid" || folded == "id";
}

}  // namespace

std::vector<std::string> ReadIdList(const std::string& path) {
  ByteSource src(path);
  LineReader lines(&src);
  std::vector<std::string> out;
  std::string line;
  bool first = true;
  while (lines.Next(&line)) {
    std::string_view id = Trim(line);
    if (id.empty() || id[0] == '#') continue;
    const auto not_a_list = [&](const char* what, const char* kind, const char* keep) {
      Fail(ExitCode::kDataErr, path, ":", lines.line_number(), ": ", EscapeForMessage(id), " ", what,
           ": a file of ids holds one id per line, not ", kind, " (", keep, ")");
    };
    // A table where a list belongs would make every line an id no one has.
    if (id.find('\t') != std::string_view::npos) {
      not_a_list("holds a tab", "a table", "`cut -f1` keeps the first column");
    }
    if (id.front() == '{' && id.back() == '}') {
      not_a_list("is a JSON object", "JSON Lines", "`jq -r .user_id FILE` lists their user ids");
    }
    if (first && id.find(',') != std::string_view::npos) {
      bool names_ids = false;
      for (std::string_view rest = id; !rest.empty();) {
        const size_t comma = std::min(rest.find(','), rest.size());
        names_ids |= IsIdColumnName(Trim(rest.substr(0, comma)));
        rest.remove_prefix(std::min(comma + 1, rest.size()));
      }
      if (names_ids) not_a_list("is the header of a CSV table", "a table", "`cut -d, -f1` keeps the first column");
    }
    if (std::exchange(first, false) && IsIdColumnName(id)) {
      spdlog::info("{}:{}: {} names the column, not an id: read as a header line", path, lines.line_number(),
                   EscapeForMessage(id));
      continue;
    }
    // One column of a CSV: an id with a comma or a quote is quoted.
    if (id.size() >= 2 && id.front() == '"' && id.back() == '"') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < id.size(); ++i) {
        unquoted += id[i];
        if (id[i] == '"' && id[i + 1] == '"') ++i;
      }
      if (!unquoted.empty()) out.push_back(std::move(unquoted));
      continue;
    }
    out.emplace_back(id);
  }
  return out;
}

// --only-changed and --to-workspace keep what they need in the workspace:
// one this user may only read fails before any reading or scoring.
void CheckStateCanBeKept(const PipelineConfig& c, const Workspace& ws) {
  if ((c.only_changed || c.to_workspace) && !ws.why_read_only().empty()) {
    Fail(ExitCode::kCantCreate, c.workspace, ": ",
         c.only_changed ? "--only-changed keeps its state" : "--to-workspace stores the lists",
         " in the workspace, and it cannot be written: ", ws.why_read_only());
  }
}

ModelInputs LoadModelInputs(const PipelineConfig& c, bool need_sentiment, ProblemLog* problems) {
  const bool files = c.ReadsFiles();
  c.Validate();
  ModelInputs in;
  std::unique_ptr<Workspace> ws;
  if (files && !c.workspace.empty()) {
    // A workspace beside files (recommend's snippet cache and tracked lists)
    // is opened only after reading and scoring: a missing one fails now.
    CheckStateCanBeKept(c, *Workspace::Open(c.workspace, false));
  }
  if (files && c.inputs.items.empty() && AlgorithmUsesContent(c.recommend.algorithm)) {
    Fail(ExitCode::kUsage, "--algorithm ", AlgorithmName(c.recommend.algorithm),
         " ranks by item features: give --items PATH too (ease, als, item-knn and popular rank from the reviews "
         "alone)");
  }
  if (files) {
    in.data = ReadDataset(c.inputs, problems);
  } else {
    ws = Workspace::Open(c.workspace, false);
    CheckStateCanBeKept(c, *ws);
    in.data = LoadDataset(ws.get());
  }
  spdlog::info("inputs: {}, {}", CountOf(static_cast<int64_t>(in.data.item_table.items.size()), "item"),
               CountOf(static_cast<int64_t>(in.data.reviews.size()), "review"));
  RequireReviews(in.data, files ? c.inputs.reviews : c.workspace);
  CheckModalityWeights(in.data.item_table, c.item_vectors.features);  // before scoring
  if (need_sentiment) {
    in.sentiment = ResolveSentiment(in.data.reviews, c.scores, c.sentiment_model, c.EncoderWithThreads(), ws.get());
    in.has_sentiment = true;
  }
  std::unique_ptr<Workspace> cache;
  const std::string unread = c.WhyItemFeaturesUnread();
  if (!ws && !c.item_vectors.embedding_cache.empty() && c.item_vectors.text_model != "none" && unread.empty() &&
      Cluster::Get().root()) {
    cache = Workspace::Open(c.item_vectors.embedding_cache, /*create=*/true);
  }
  in.items = BuildItemVectors(in.data.item_table, c.item_vectors, c.threads, ws ? ws.get() : cache.get(), unread);
  return in;
}

int64_t ProfileStage(const PipelineConfig& c, const ModelInputs& in) {
  if (c.profile_out.empty()) Fail(ExitCode::kUsage, "profile: --out PATH is required");
  const Profiles p =
      BuildUserProfiles(in.data.reviews, in.has_sentiment ? &in.sentiment : nullptr, in.items, c.profile);
  WriteProfiles(c.profile_out, p, in.items.matrix.column_names);
  int64_t cold = 0;
  for (bool b : p.cold_start) cold += b;
  InfoEvent("stage_end",
            {{"stage", "profile"}, {"users", p.users.size()}, {"cold_start", cold}, {"out", c.profile_out}},
            fmt::format("profile: {} ({} cold-start) -> {}", CountOf(static_cast<int64_t>(p.users.size()), "user"),
                        cold, c.profile_out));
  return static_cast<int64_t>(p.users.size());
}

PipelineReport RunPipeline(const PipelineConfig& c) {
  if (c.workspace.empty()) Fail(ExitCode::kUsage, "run: no workspace (set \"workspace\" or --workspace)");
  if (c.out.empty()) Fail(ExitCode::kUsage, "run: no output (set recommend.out or --out)");
  c.Validate();
  PipelineReport rep;
  // Under mpirun rank 0 ingests and writes; the others read the workspace
  // once it is there.
  const Cluster& cluster = Cluster::Get();
  std::unique_ptr<Workspace> ws;
  if (cluster.root()) {
    MakeParentDirs(c.workspace);
    MakeParentDirs(c.out);
    ws = Workspace::Open(c.workspace, /*create=*/true);
    InfoEvent("stage_start", {{"stage", "ingest"}}, "stage 1/4: ingest");
    ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
    rep.ingest = Ingest(c.inputs, c.ingest, ws.get(), &problems);
  }
  cluster.Barrier();
  if (!cluster.root()) ws = Workspace::Open(c.workspace, /*create=*/false);

  InfoEvent("stage_start", {{"stage", "score"}}, "stage 2/4: score");
  ModelInputs in;
  in.data = LoadDataset(ws.get());
  RequireReviews(in.data, c.workspace);
  CheckModalityWeights(in.data.item_table, c.item_vectors.features);  // before scoring
  in.sentiment = ScoreSentiment(in.data.reviews, c.sentiment_model, c.EncoderWithThreads(), ws.get(), c.commit_every);
  in.has_sentiment = true;
  rep.sentiment = in.sentiment.stats;

  InfoEvent("stage_start", {{"stage", "profile"}}, "stage 3/4: profile");
  in.items = BuildItemVectors(in.data.item_table, c.item_vectors, c.threads, ws.get(), c.WhyItemFeaturesUnread());
  if (!c.profile_out.empty() && cluster.root()) {
    MakeParentDirs(c.profile_out);
    rep.profiles = ProfileStage(c, in);
  }

  InfoEvent("stage_start", {{"stage", "recommend"}}, "stage 4/4: recommend");
  if (!AlgorithmUsesSentiment(c.recommend.algorithm) || !c.profile.use_sentiment) in.has_sentiment = false;
  rep.recommend = RecommendStage(c, in, ws.get());
  return rep;
}

}  // namespace avrec
