// profile and recommend: thin calls of the pipeline's stages.
#include "avrec/log.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

void DescribeModelCommand(PipelineConfig* c, OptionSet* s, const std::string& verb) {
  c->inputs.Describe(s, /*with_items=*/true, verb);
  c->DescribeWorkspace(s, "Workspace with ingested reviews, items and sentiment (instead of --reviews/--items files)");
  c->DescribeModelInputs(s);
  c->DescribeThreads(s);
  c->DescribeManifest(s);
}

ModelInputs Load(const PipelineConfig& c, bool need_sentiment) {
  ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
  return LoadModelInputs(c, need_sentiment, &problems);
}

}  // namespace

void ProfileCommand::Describe(OptionSet* s) {
  DescribeModelCommand(&config, s, "profile");
  config.DescribeProfileOut(s, "--out,-o");
}

int RunProfile(const ProfileCommand& o) {
  const PipelineConfig& c = o.config;
  if (c.profile_out.empty()) Fail(ExitCode::kUsage, "profile: --out PATH is required");
  if (!c.inputs.reviews.empty() && c.inputs.items.empty()) {
    Fail(ExitCode::kUsage, "profile: give --items PATH too: user vectors are built over item features");
  }
  WarnIfNamedForAnotherFormat(c.profile_out, "profile");
  ProfileStage(c, Load(c, c.profile.use_sentiment));
  return 0;
}

void RecommendCommand::Describe(OptionSet* s) {
  DescribeModelCommand(&config, s, "recommend");
  config.DescribeRecommend(s);
}

int RunRecommend(const RecommendCommand& o) {
  const PipelineConfig& c = o.config;
  if (c.out.empty()) Fail(ExitCode::kUsage, "recommend: --out PATH is required");
  c.Validate();
  const bool sentiment = AlgorithmUsesSentiment(c.recommend.algorithm) && c.profile.use_sentiment;
  RecommendStage(c, Load(c, sentiment));
  return 0;
}

}  // namespace avrec::cli
