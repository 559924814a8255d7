// validate, ingest and forget.
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

// A file with no row and no problem (a header only) is valid as a format,
// and most likely an export that failed: a warning.
void WarnIfNoRows(const std::string& path, const char* what, size_t rows, const ProblemLog& problems) {
  if (rows == 0 && problems.count() == 0) {
    spdlog::warn("{}: holds no {}: valid, but empty (an export that failed?)", path, what);
  }
}

void ValidateItems(const InputOptions& in, ProblemLog* problems, ItemTable* items) {
  *items = ReadItems(in.items, in.Schema(), problems);
  spdlog::info("{}: {}", in.items, DescribeItems(*items));
  WarnIfNoRows(in.items, "item", items->items.size(), *problems);
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
  spdlog::info("{}: {} by {} ({} with a rating, {} with a time); {} invalid", in.reviews,
               CountOf(st.valid, "valid review"), CountOf(static_cast<int64_t>(users.size()), "user"), rated, timed,
               st.invalid);
  LogReviewNotes(in.reviews, st);
  LogUnusedColumns(in.reviews, st.ignored_columns);
  WarnIfNoRows(in.reviews, "review", static_cast<size_t>(st.valid), *problems);
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
    ForgottenIds forgotten;
    int64_t of_forgotten = 0;
    if (items_unread) {
      spdlog::warn("{}: item ids not checked: no row of {} can be read", in.reviews, in.items);
    } else if (!in.items.empty()) {
      unknown = [&](const std::string& id) { return items.WhyUnknown(id); };
    } else if (!o.config.workspace.empty()) {
      auto ws = Workspace::Open(o.config.workspace, false);
      const std::vector<std::string> ids = ws->ItemIds();
      ws_items.insert(ids.begin(), ids.end());
      forgotten = ws->LoadForgotten();  // reviews of these, ingest skips
      lookalikes = std::make_unique<IdLookalikes>(ids);
      unknown = [&](const std::string& id) {
        const std::string where = "the workspace's items";
        if (ws_items.count(id) != 0) return std::string();
        if (forgotten.HasItem(id)) {
          ++of_forgotten;
          return std::string();
        }
        return "is not among " + where + lookalikes->Hint(id, where);
      };
    } else {
      spdlog::warn("{}: item ids not checked (give --items or --workspace; ingest rejects reviews of unknown items)",
                   in.reviews);
    }
    ValidateReviews(in, unknown, &problems);
    if (of_forgotten > 0) {
      spdlog::info("{}: {} of items `avrec forget` removed: ingest skips them", in.reviews,
                   CountOf(of_forgotten, "review"));
    }
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
  s->AddFlag("--dry-run", "", &config.ingest.dry_run,
             "Read, check and count everything (with --snapshot: what it would remove), then change nothing; a "
             "new workspace is not created");
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
  Ingest(c.inputs, c.ingest, ws.get(), &problems);
  return 0;
}

void ForgetCommand::Describe(OptionSet* s) {
  s->AddPath("--workspace,-w", "workspace", &workspace, "Workspace to remove them from (required)");
  s->Add("--user", "", &ids.users, "Id of a user to forget: their reviews and stored lists (repeatable)");
  s->Add("--review", "", &ids.reviews, "Id of a review to forget (repeatable)");
  s->Add("--item", "", &ids.items, "Id of an item to forget, with its reviews (repeatable)");
  s->AddPath("--user-ids", "", &user_ids, "File of user ids to forget, one per line ('#' comments)");
  s->AddPath("--review-ids", "", &review_ids, "File of review ids to forget, one per line");
  s->AddPath("--item-ids", "", &item_ids, "File of item ids to forget, one per line");
  s->AddFlag("--dry-run", "", &dry_run, "Say what would be removed, and change nothing");
  s->AddFlag("--force", "", &force, "Forget even when that removes more than half of the workspace's reviews");
}

namespace {

// "1 user, 0 reviews and 1 item (25 reviews, 0 stored lists, 23 cached
// sentiment scores and 1 cached item text embedding removed)", `removed`
// saying how.
std::string DescribeForget(const ForgetCounts& c, const char* removed) {
  std::string s = CountOf(c.users, "user") + ", " + CountOf(c.reviews, "review") + " and " + CountOf(c.items, "item") +
                  " (" + RemovedWithThem(c) + " " + removed + ")";
  if (c.not_found() > 0) {
    s += "; " + CountOf(c.not_found(), "id") + " given held nothing here";
    if (c.forgotten_before > 0) s += " (" + std::to_string(c.forgotten_before) + " of them forgotten before)";
  }
  return s;
}

// Ids that named nothing here and no earlier forget named: an erasure that
// came before the export, or a mistake (a table, a header, another system's
// ids) that must not pass as done.
void WarnUnknown(const ForgetCounts& c, bool dry_run) {
  if (c.unknown.empty()) return;
  const bool one = c.unknown.size() == 1;
  spdlog::warn(
      "forget: {} given {} not in the workspace, and no earlier forget named {}: {}; {} {} remembered all the same, "
      "so later ingests skip {}: check {} if {} meant to name something here (an id file holds one id per line)",
      CountOf(static_cast<int64_t>(c.unknown.size()), "id"), one ? "is" : "are", one ? "it" : "them",
      JoinForMessage(c.unknown, 5), one ? "it" : "they", dry_run ? "would be" : (one ? "is" : "are"),
      one ? "it" : "them", one ? "it" : "them", one ? "it was" : "they were");
}

// The ids to forget: those given on the command line (trimmed, as ingest
// trims ids) and those of the files. Error(kUsage) for an empty id, or when
// neither an id nor a file is given.
ForgetIds IdsToForget(const ForgetCommand& o) {
  ForgetIds ids;
  const auto add = [](const char* option, const std::vector<std::string>& given, const std::string& path,
                      std::vector<std::string>* to) {
    for (const std::string& id : given) {
      if (Trim(id).empty()) Fail(ExitCode::kUsage, option, ": an empty id");
      to->emplace_back(Trim(id));
    }
    if (path.empty()) return;
    const std::vector<std::string> read = ReadIdList(path);
    to->insert(to->end(), read.begin(), read.end());
  };
  add("--user", o.ids.users, o.user_ids, &ids.users);
  add("--review", o.ids.reviews, o.review_ids, &ids.reviews);
  add("--item", o.ids.items, o.item_ids, &ids.items);
  if (o.ids.users.empty() && o.ids.reviews.empty() && o.ids.items.empty() && o.user_ids.empty() &&
      o.review_ids.empty() && o.item_ids.empty()) {
    Fail(ExitCode::kUsage, "forget: no id given: --user ID, --review ID, --item ID or a file of them (--user-ids, ",
         "--review-ids, --item-ids)");
  }
  return ids;
}

}  // namespace

int RunForget(const ForgetCommand& o) {
  if (o.workspace.empty()) Fail(ExitCode::kUsage, "forget: --workspace PATH is required");
  const ForgetIds ids = IdsToForget(o);
  if (ids.users.empty() && ids.reviews.empty() && ids.items.empty()) {
    // A nightly job's file of erasure requests is empty most nights.
    spdlog::info("forget: nothing to forget: the files given hold no id");
    return 0;
  }
  auto ws = Workspace::Open(o.workspace, false);
  if (!o.dry_run && !ws->why_read_only().empty()) {
    Fail(ExitCode::kCantCreate, o.workspace,
         ": forget removes rows from the workspace, and it cannot be written: ", ws->why_read_only());
  }
  // An id file mixed up with a list of everyone would empty the workspace.
  const auto refuse_most = [&](const ForgetCounts& would, int64_t total) {
    if (!o.force && !o.dry_run && would.reviews_removed * 2 > total && total > 0) {
      Fail(ExitCode::kUsage, "forget: this would remove ", would.reviews_removed, " of the workspace's ", total,
           " reviews, more than half: nothing was removed; check the ids (`--dry-run` says what goes), and give ",
           "--force to forget them all the same");
    }
  };
  const ForgetReport rep = ForgetFromWorkspace(ids, o.dry_run, ws.get(), refuse_most);
  nlohmann::json fields = RemovedFields(rep.counts);
  fields.update({{"stage", "forget"},
                 {"workspace", o.workspace},
                 {"dry_run", o.dry_run},
                 {"users", rep.counts.users},
                 {"reviews", rep.counts.reviews},
                 {"items", rep.counts.items},
                 {"not_found", rep.counts.not_found()},
                 {"forgotten_before", rep.counts.forgotten_before}});
  InfoEvent("stage_end", fields,
            o.dry_run ? "dry run, nothing changed: would forget " + DescribeForget(rep.counts, "would be removed")
                      : "forgot " + DescribeForget(rep.counts, "removed") +
                            "; every id is remembered, and later ingests skip what it names");
  WarnUnknown(rep.counts, o.dry_run);
  if (rep.log_kept) {
    spdlog::warn(
        "{}: another connection's open transaction (an analyst's sqlite3 session?) holds part of the write-ahead "
        "log: every reader now finds the rows gone, but their old bytes stay in {}-wal until it ends; run this "
        "command again then (it finds nothing more to remove, and empties the log)",
        o.workspace, o.workspace);
  }
  return 0;
}

}  // namespace avrec::cli
