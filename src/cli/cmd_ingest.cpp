// validate and ingest.
#include <spdlog/spdlog.h>

#include <set>
#include <unordered_set>

#include "avrec/log.h"
#include "avrec/workspace.h"
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

void ReportUnreported(const ProblemLog& problems) {
  if (problems.unreported() > 0) {
    spdlog::error("... and {} more problems not shown (raise --max-errors to see them)", problems.unreported());
  }
}

}  // namespace

ItemSchemaOptions InputOptions::Schema() const {
  ItemSchemaOptions s = schema;
  if (tag_separator.size() != 1) Fail(ExitCode::kUsage, "--tag-separator: expected one character, got '", tag_separator, "'");
  s.tag_separator = tag_separator[0];
  return s;
}

void RegisterInputs(OptionTable* t, InputOptions* o) {
  t->AddPath("--reviews", "reviews.path", &o->reviews,
             "Reviews file: CSV, TSV or JSON Lines, optionally .gz (columns user_id, item_id, text; optional "
             "review_id, rating, timestamp)");
  t->AddPath("--items", "items.path", &o->items,
             "Items file: CSV, TSV or JSON Lines (item_id; optional title, tags, description, kind; feature "
             "columns named modality.name)");
  t->AddFlag("--allow-empty-text", "reviews.allow_empty_text", &o->allow_empty_text,
             "Accept reviews whose text is empty or blank (scored neutral)");
  t->AddColumnMap("--categorical", "items.categorical", &o->schema.categorical,
                  "Item column holding categories, one-hot encoded (repeatable)");
  t->AddColumnMap("--numeric", "items.numeric", &o->schema.numeric,
                  "Item column without a modality prefix to use as a numeric feature (repeatable)");
  t->Add("--tag-separator", "items.tag_separator", &o->tag_separator, "Separator of tags in a CSV tags field");
  t->Add("--max-errors", "max_errors", &o->max_errors, "Print at most this many input problems");
}

void RegisterValidate(OptionTable* t, ValidateOptions* o) { RegisterInputs(t, &o->in); }

int RunValidate(const ValidateOptions& o) {
  if (o.in.reviews.empty() && o.in.items.empty()) {
    Fail(ExitCode::kUsage, "validate: give --reviews PATH and/or --items PATH");
  }
  ProblemLog problems(static_cast<size_t>(std::max(0, o.in.max_errors)), PrintProblem);
  ItemTable items;
  if (!o.in.items.empty()) {
    items = ReadItems(o.in.items, o.in.Schema(), &problems);
    spdlog::info("{}: {}", o.in.items, DescribeItems(items));
    for (const auto& c : items.ignored_columns) spdlog::info("{}: column '{}' is not used", o.in.items, c);
    for (const auto& c : items.inferred_categorical) {
      spdlog::info("{}: column '{}' holds only text: one-hot encoded as categories", o.in.items, c);
    }
  }
  if (!o.in.reviews.empty()) {
    ReviewReadOptions ro;
    ro.allow_empty_text = o.in.allow_empty_text;
    if (!o.in.items.empty()) ro.known_item = [&](const std::string& id) { return items.Find(id) >= 0; };
    std::unordered_set<std::string> users;
    int64_t rated = 0, timed = 0;
    ReviewStats st = ReadReviews(o.in.reviews, ro, &problems, [&](Review&& r) {
      users.insert(r.user_id);
      rated += r.rating.has_value();
      timed += r.timestamp.has_value();
    });
    spdlog::info("{}: {} valid reviews by {} users ({} with a rating, {} with a time); {} invalid", o.in.reviews,
                 st.valid, users.size(), rated, timed, st.invalid);
    if (st.duplicates > 0) spdlog::warn("{}: {} exact duplicate reviews (kept once)", o.in.reviews, st.duplicates);
  }
  ReportUnreported(problems);
  if (problems.count() > 0) {
    spdlog::error("validation failed: {} problem{}", problems.count(), problems.count() == 1 ? "" : "s");
    return static_cast<int>(ExitCode::kDataErr);
  }
  spdlog::info("valid");
  return 0;
}

void RegisterIngest(OptionTable* t, IngestOptions* o) {
  RegisterInputs(t, &o->in);
  t->AddPath("--workspace,-w", "workspace", &o->workspace, "Workspace database file (created if missing; required)");
  t->AddFlag("--lenient", "ingest.lenient", &o->lenient,
             "Skip invalid rows (reported as validate does) instead of failing the whole ingest");
}

int RunIngest(const IngestOptions& o) {
  if (o.in.reviews.empty() && o.in.items.empty()) {
    Fail(ExitCode::kUsage, "ingest: give --reviews PATH and/or --items PATH");
  }
  if (o.workspace.empty()) Fail(ExitCode::kUsage, "ingest: --workspace PATH is required");
  auto ws = Workspace::Open(o.workspace, /*create=*/true);
  ProblemLog problems(static_cast<size_t>(std::max(0, o.in.max_errors)), PrintProblem);
  const auto abort_if_invalid = [&](const std::string& path) {
    if (problems.count() > 0 && !o.lenient) {
      ReportUnreported(problems);
      Fail(ExitCode::kDataErr, path, ": ", problems.count(), " invalid row", problems.count() == 1 ? "" : "s",
           "; nothing was ingested and the workspace is unchanged (use --lenient to skip invalid rows)");
    }
  };
  UpsertCounts item_counts, review_counts;
  int64_t skipped_items = 0, skipped_reviews = 0, duplicates = 0;
  ws->InTransaction([&] {
    if (!o.in.items.empty()) {
      ItemTable items = ReadItems(o.in.items, o.in.Schema(), &problems);
      abort_if_invalid(o.in.items);
      skipped_items = items.invalid;
      item_counts = ws->UpsertItems(items);
      ws->LogRun("items", o.in.items, item_counts, skipped_items);
    }
    if (!o.in.reviews.empty()) {
      std::vector<std::string> ids = ws->ItemIds();
      std::unordered_set<std::string> known(ids.begin(), ids.end());
      ReviewReadOptions ro;
      ro.allow_empty_text = o.in.allow_empty_text;
      ro.known_item = [&](const std::string& id) { return known.count(id) != 0; };
      Progress progress("ingest", 0);
      ReviewStats st = ReadReviews(o.in.reviews, ro, &problems, [&](Review&& r) {
        if (problems.count() == 0 || o.lenient) ws->UpsertReview(r, &review_counts);
        progress.Tick();
      });
      progress.Finish();
      abort_if_invalid(o.in.reviews);
      skipped_reviews = st.invalid;
      duplicates = st.duplicates;
      ws->LogRun("reviews", o.in.reviews, review_counts, skipped_reviews);
    }
  });
  ReportUnreported(problems);
  if (!o.in.items.empty()) {
    spdlog::info("items: {} added, {} updated, {} unchanged{}", item_counts.added, item_counts.updated,
                 item_counts.unchanged, skipped_items > 0 ? fmt::format(", {} invalid skipped", skipped_items) : "");
  }
  if (!o.in.reviews.empty()) {
    spdlog::info("reviews: {} added, {} updated, {} unchanged{}{}", review_counts.added, review_counts.updated,
                 review_counts.unchanged,
                 skipped_reviews > 0 ? fmt::format(", {} invalid skipped", skipped_reviews) : "",
                 duplicates > 0 ? fmt::format(", {} exact duplicates ignored", duplicates) : "");
  }
  spdlog::info("workspace {}: {} items, {} reviews", o.workspace, ws->CountItems(), ws->CountReviews());
  return 0;
}

}  // namespace avrec::cli
