// diff: tonight's recommendations against last night's.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "avrec/diff.h"
#include "avrec/io.h"
#include "cli/commands.h"

namespace avrec::cli {

void DiffCommand::Describe(OptionSet* s) {
  s->AddPath("--old", "", &old_path,
             "Earlier recommendations (JSON, JSON Lines, or CSV / TSV as recommend writes them)");
  s->AddPath("--new", "", &new_path, "Later recommendations");
  s->AddNumber("--k", "", &options.k, {1, 1e6}, "Depth of the lists compared");
  s->AddPath("--out,-o", "", &out, "Also write the JSON report here (default: stdout only)");
  Option& gates =
      s->Add("--fail-if", "", &fail_if, "Exit 1 when a summary field passes a threshold, e.g. churn>0.3 (repeatable)");
  // A malformed threshold, or one naming no field of the summary, fails
  // before any file is read: the fields are those of the diff of two empty
  // files.
  gates.check = [this](const std::string&) {
    if (fail_if.empty()) return;
    CheckThresholdFields(DiffRecommendations({}, {}, options)["summary"], fail_if);
  };
}

int RunDiff(const DiffCommand& o) {
  if (o.old_path.empty() || o.new_path.empty()) Fail(ExitCode::kUsage, "diff: give --old PATH and --new PATH");
  if (!o.out.empty()) WarnIfNamedForAnotherFormat(o.out, "diff", SingleFormat::kJsonObject);
  const RecommendationLists a = ReadRecommendationLists(o.old_path), b = ReadRecommendationLists(o.new_path);
  const nlohmann::ordered_json report = DiffRecommendations(a, b, o.options);
  const auto& s = report["summary"];
  spdlog::info(
      "diff @{}: {} users ({} added, {} removed, {} changed of {} in both); mean overlap {}, mean RBO {}, "
      "churn {}; coverage {} -> {} items; popularity drift {}",
      o.options.k, s["users_new"].get<int64_t>(), s["users_added"].get<int64_t>(), s["users_removed"].get<int64_t>(),
      s["users_changed"].get<int64_t>(), s["users_common"].get<int64_t>(), s["mean_overlap"].dump(),
      s["mean_rbo"].dump(), s["churn"].dump(), s["coverage_old"].get<int64_t>(), s["coverage_new"].get<int64_t>(),
      s["popularity_drift"].is_null() ? "null" : fmt::format("{:+.1f} %", 100 * s["popularity_drift"].get<double>()));
  const int failed = FailedThresholds("diff", s, o.fail_if);
  const std::string text = report.dump(2) + "\n";
  WriteStdout(text);
  if (!o.out.empty()) WriteFileAtomically(o.out, text);
  return failed > 0 ? 1 : 0;
}

}  // namespace avrec::cli
