// validate and ingest.
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <unordered_set>

#include "avrec/log.h"
#include "avrec/text.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

std::string DescribeItems(const ItemTable& t) {
  std::map<std::string, int> per_modality;
  for (const auto& c : t.numeric_columns) per_modality[c.modality]++;
  for (const auto& c : t.categorical_columns) per_modality[c.modality]++;
  std::string mods;
  for (const auto& [m, n] : per_modality) mods += (mods.empty() ? "" : ", ") + m + " " + std::to_string(n);
  std::string s = std::to_string(t.items.size()) + " items, " + std::to_string(t.numeric_columns.size()) +
                  " numeric and " + std::to_string(t.categorical_columns.size()) + " categorical feature columns";
  if (!mods.empty()) s += " (" + mods + ")";
  if (t.missing_numeric > 0) s += ", " + std::to_string(t.missing_numeric) + " missing numeric values";
  return s;
}

// The columns of `path` avrec reads nothing from, one line each. An unnamed
// column is usually row numbers (R's write.csv, pandas' to_csv with its index).
void LogUnusedColumns(const std::string& path, const std::vector<std::string>& columns) {
  for (const auto& c : columns) {
    if (c.empty()) {
      spdlog::info("{}: the unnamed column is not used (row numbers?)", path);
    } else {
      spdlog::info("{}: column {} is not used", path, EscapeForMessage(c, 80));
    }
  }
}

void ValidateItems(const InputOptions& in, ProblemLog* problems, ItemTable* items) {
  *items = ReadItems(in.items, in.Schema(), problems);
  spdlog::info("{}: {}", in.items, DescribeItems(*items));
  LogUnusedColumns(in.items, items->ignored_columns);
  for (const auto& c : items->inferred_categorical) {
    spdlog::info("{}: column '{}' holds only text: one-hot encoded as categories", in.items, c);
  }
}

void ValidateReviews(const InputOptions& in, const std::function<std::string(const std::string&)>& unknown_item,
                     ProblemLog* problems) {
  ReviewReadOptions ro = in.Reviews(in.allow_empty_text);
  ro.unknown_item = unknown_item;
  std::unordered_set<std::string> users;
  int64_t rated = 0, timed = 0;
  Progress progress("validate", 0, std::chrono::seconds(10), Progress::Unit::kBytes);
  ro.on_bytes = [&](int64_t read, int64_t size) { progress.Set(read, size); };
  ReviewStats st = ReadReviews(in.reviews, ro, problems, [&](Review&& r) {
    users.insert(r.user_id);
    rated += r.rating.has_value();
    timed += r.timestamp.has_value();
  });
  progress.Finish();
  spdlog::info("{}: {} valid reviews by {} users ({} with a rating, {} with a time); {} invalid", in.reviews, st.valid,
               users.size(), rated, timed, st.invalid);
  LogReviewNotes(in.reviews, st);
  LogUnusedColumns(in.reviews, st.ignored_columns);
}

}  // namespace

void ValidateCommand::Describe(OptionSet* s) {
  config.inputs.Describe(s);
  config.DescribeWorkspace(s, "Check the reviews' item ids against this workspace's items (when no --items)");
}

int RunValidate(const ValidateCommand& o) {
  const InputOptions& in = o.config.inputs;
  if (in.reviews.empty() && in.items.empty())
    Fail(ExitCode::kUsage, "validate: give --reviews PATH and/or --items PATH");
  in.Validate();
  ProblemLog problems(static_cast<size_t>(in.max_errors), PrintProblem);
  ItemTable items;
  if (!in.items.empty()) ValidateItems(in, &problems, &items);
  // An items file whose header cannot be read holds no item: checked against
  // it, every review would be reported too.
  const bool items_unread = problems.file_problems() > 0;
  if (!in.reviews.empty()) {
    // Item ids are checked as ingest checks them: against the items file, or
    // the workspace's items.
    std::function<std::string(const std::string&)> unknown;
    std::unordered_set<std::string> ws_items;
    std::unique_ptr<IdLookalikes> lookalikes;
    if (items_unread) {
      spdlog::warn("{}: item ids not checked: no row of {} can be read", in.reviews, in.items);
    } else if (!in.items.empty()) {
      unknown = [&](const std::string& id) { return items.WhyUnknown(id); };
    } else if (!o.config.workspace.empty()) {
      const std::vector<std::string> ids = Workspace::Open(o.config.workspace, false)->ItemIds();
      ws_items.insert(ids.begin(), ids.end());
      lookalikes = std::make_unique<IdLookalikes>(ids);
      unknown = [&](const std::string& id) {
        const std::string where = "the workspace's items";
        return ws_items.count(id) != 0 ? std::string() : "is not among " + where + lookalikes->Hint(id, where);
      };
    } else {
      spdlog::warn("{}: item ids not checked (give --items or --workspace; ingest rejects reviews of unknown items)",
                   in.reviews);
    }
    ValidateReviews(in, unknown, &problems);
  }
  PrintUnreportedCount(problems);
  if (problems.count() > 0) {
    spdlog::error("validation failed: {}", CountOf(static_cast<int64_t>(problems.count()), "problem"));
    return static_cast<int>(ExitCode::kDataErr);
  }
  spdlog::info("valid");
  return 0;
}

void IngestCommand::Describe(OptionSet* s) {
  config.inputs.Describe(s);
  config.DescribeWorkspace(s, "Workspace database file (created if missing; required)");
  config.DescribeIngest(s);
  config.DescribeManifest(s);
}

int RunIngest(const IngestCommand& o) {
  const PipelineConfig& c = o.config;
  if (c.inputs.reviews.empty() && c.inputs.items.empty()) {
    Fail(ExitCode::kUsage, "ingest: give --reviews PATH and/or --items PATH");
  }
  if (c.workspace.empty()) Fail(ExitCode::kUsage, "ingest: --workspace PATH is required");
  c.inputs.Validate();
  auto ws = Workspace::Open(c.workspace, /*create=*/true);
  ProblemLog problems(static_cast<size_t>(c.inputs.max_errors), PrintProblem);
  Ingest(c.inputs, c.lenient, ws.get(), &problems);
  return 0;
}

}  // namespace avrec::cli
