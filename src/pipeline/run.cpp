// Whole stages as subcommands run them, and RunPipeline.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "common/fault.h"

namespace avrec {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void MakeParentDirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) Fail(ExitCode::kCantCreate, parent.string(), ": cannot create folder: ", ec.message());
}

EncoderOptions EncoderFor(const PipelineConfig& c) {
  EncoderOptions e = c.encoder;
  e.threads = c.threads;
  return e;
}

// The ranking options with the lists read and the shard parsed.
RecommendOptions RankOptions(const PipelineConfig& c) {
  RecommendOptions r = c.recommend;
  r.threads = c.threads;
  if (!c.allow_list.empty()) r.allow = ReadIdList(c.allow_list);
  if (!c.deny_list.empty()) r.deny = ReadIdList(c.deny_list);
  if (!c.shard.empty()) {
    const size_t slash = c.shard.find('/');
    int k = -1, n = 0;
    if (slash == std::string::npos || !ParseInt(c.shard.substr(0, slash), &k) ||
        !ParseInt(c.shard.substr(slash + 1), &n)) {
      Fail(ExitCode::kUsage, "--shard: expected K/N, e.g. 0/4, got '", c.shard, "'");
    }
    r.shard = k;
    r.shards = n;
  }
  r.Validate();
  return r;
}

OutputHeader HeaderFor(const PipelineConfig& c, const ModelInputs& in, const RecommendOptions& r) {
  OutputHeader h;
  h.algorithm = AlgorithmName(r.algorithm);
  h.top_n = r.top_n;
  h.config_hash = c.RecommendConfigHash();
  if (in.has_sentiment) {
    h.sentiment_model = in.sentiment.model_name;
    h.sentiment_sha256 = in.sentiment.model_sha256;
  }
  h.embedding_model = in.items.model_name;
  h.embedding_sha256 = in.items.model_sha256;
  h.created_at = c.created_at;
  h.shard = r.shard;
  h.shards = r.shards;
  return h;
}

}  // namespace

std::vector<std::string> ReadIdList(const std::string& path) {
  ByteSource src(path);
  LineReader lines(&src);
  std::vector<std::string> out;
  std::string line;
  while (lines.Next(&line)) {
    std::string_view id = Trim(line);
    if (!id.empty() && id[0] != '#') out.emplace_back(id);
  }
  return out;
}

ModelInputs LoadModelInputs(const PipelineConfig& c, bool need_sentiment, ProblemLog* problems) {
  const bool files = !c.inputs.reviews.empty() || !c.inputs.items.empty();
  if (!files && c.workspace.empty()) Fail(ExitCode::kUsage, "give --workspace PATH, or --reviews and --items");
  c.Validate();
  ModelInputs in;
  std::unique_ptr<Workspace> ws;
  if (files) {
    in.data = ReadDataset(c.inputs, problems);
  } else {
    ws = Workspace::Open(c.workspace, false);
    in.data = LoadDataset(ws.get());
  }
  spdlog::info("inputs: {} items, {} reviews", in.data.item_table.items.size(), in.data.reviews.size());
  if (need_sentiment) {
    in.sentiment = ResolveSentiment(in.data.reviews, c.scores, c.sentiment_model, EncoderFor(c), ws.get());
    in.has_sentiment = true;
  }
  std::unique_ptr<Workspace> cache;
  if (!ws && !c.item_vectors.embedding_cache.empty() && c.item_vectors.text_model != "none") {
    cache = Workspace::Open(c.item_vectors.embedding_cache, /*create=*/true);
  }
  in.items = BuildItemVectors(in.data.item_table, c.item_vectors, c.threads, ws ? ws.get() : cache.get());
  return in;
}

RecommendStats RecommendStage(const PipelineConfig& c, const ModelInputs& in) {
  if (c.out.empty()) Fail(ExitCode::kUsage, "recommend: --out PATH is required");
  const auto t0 = std::chrono::steady_clock::now();
  const RecommendOptions r = RankOptions(c);
  const ProfileOptions po = ProfileOptionsFor(r.algorithm, c.profile);
  std::vector<std::string> extra;
  if (!c.users.empty()) extra = ReadIdList(c.users);
  ProfileFile file;
  if (!c.profiles_in.empty()) file = ReadProfiles(c.profiles_in);
  const Profiles profiles = BuildUserProfiles(in.data.reviews, in.has_sentiment ? &in.sentiment : nullptr, in.items, po,
                                              extra, c.profiles_in.empty() ? nullptr : &file);
  RecommendationWriter writer(c.out, ParseRecommendationFormat(c.format), HeaderFor(c, in, r));
  Progress progress("recommend", 0);
  const RecommendStats st = Rank(in.items, profiles, r, [&](const UserRecommendations& u) {
    writer.Add(u);
    progress.Tick();
    FaultPoint("recommend.user");
  });
  progress.Finish();
  writer.Commit();
  const double secs = SecondsSince(t0);
  InfoEvent("stage_end",
            {{"stage", "recommend"},
             {"algorithm", AlgorithmName(r.algorithm)},
             {"config_hash", c.RecommendConfigHash()},
             {"users", st.users},
             {"cold_start", st.cold_start},
             {"top_n", r.top_n},
             {"candidates", st.candidates},
             {"out", c.out},
             {"seconds", std::round(secs * 100) / 100}},
            fmt::format("recommend ({}): {} users ({} cold-start), top {} of {} candidate items; {:.1f} s; written "
                        "to {}",
                        AlgorithmName(r.algorithm), st.users, st.cold_start, r.top_n, st.candidates, secs, c.out));
  return st;
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
            fmt::format("profile: {} users ({} cold-start) -> {}", p.users.size(), cold, c.profile_out));
  return static_cast<int64_t>(p.users.size());
}

PipelineReport RunPipeline(const PipelineConfig& c) {
  if (c.workspace.empty()) Fail(ExitCode::kUsage, "run: no workspace (set \"workspace\" or --workspace)");
  if (c.out.empty()) Fail(ExitCode::kUsage, "run: no output (set recommend.out or --out)");
  c.Validate();
  MakeParentDirs(c.workspace);
  MakeParentDirs(c.out);
  PipelineReport rep;
  auto ws = Workspace::Open(c.workspace, /*create=*/true);

  InfoEvent("stage_start", {{"stage", "ingest"}}, "stage 1/4: ingest");
  ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
  rep.ingest = Ingest(c.inputs, c.lenient, ws.get(), &problems);

  InfoEvent("stage_start", {{"stage", "score"}}, "stage 2/4: score");
  ModelInputs in;
  in.data = LoadDataset(ws.get());
  in.sentiment = ScoreSentiment(in.data.reviews, c.sentiment_model, EncoderFor(c), ws.get(), c.commit_every);
  in.has_sentiment = true;
  rep.sentiment = in.sentiment.stats;

  InfoEvent("stage_start", {{"stage", "profile"}}, "stage 3/4: profile");
  in.items = BuildItemVectors(in.data.item_table, c.item_vectors, c.threads, ws.get());
  if (!c.profile_out.empty()) {
    MakeParentDirs(c.profile_out);
    rep.profiles = ProfileStage(c, in);
  }

  InfoEvent("stage_start", {{"stage", "recommend"}}, "stage 4/4: recommend");
  if (!AlgorithmUsesSentiment(c.recommend.algorithm) || !c.profile.use_sentiment) in.has_sentiment = false;
  rep.recommend = RecommendStage(c, in);
  return rep;
}

}  // namespace avrec
