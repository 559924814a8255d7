#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <iterator>
#include <string_view>
#include <unordered_map>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/text.h"

namespace avrec {

namespace {

constexpr const char* kRequired[] = {"user_id", "item_id", "text"};

// Whether a review must have column `name`: with --allow-empty-text the text
// may be absent too (a file of ratings without reviews, such as MovieLens's),
// except where texts are what is read; there the user and the item may be.
bool Required(const char* name, const ReviewReadOptions& o) {
  return std::string_view(name) == "text" ? !o.allow_empty_text || o.texts_only : !o.texts_only;
}

std::string Shown(const Cell& c) { return EscapeForMessage(c.text, 40); }

const char* KindName(Cell::Kind k) {
  switch (k) {
    case Cell::Kind::kNumber:
      return "a number";
    case Cell::Kind::kBool:
      return "a boolean";
    case Cell::Kind::kList:
      return "a list";
    case Cell::Kind::kOther:
      return "an object or a list";
    case Cell::Kind::kNull:
      return "null";
    default:
      return "text";
  }
}

}  // namespace

std::string DeriveReviewId(const Review& r) {
  std::string key = r.user_id;
  key += '\x1f';
  key += r.item_id;
  key += '\x1f';
  if (r.timestamp) key += std::to_string(*r.timestamp);
  key += '\x1f';
  key += r.text;
  return "h" + Sha256Hex(key).substr(0, 16);
}

namespace {

using Complaint = std::function<void(const std::string&)>;

// The file's columns that are none of avrec's.
std::vector<std::string> UnreadColumns(const TableReader& table) {
  static const char* kUsed[] = {"review_id", "user_id", "item_id", "text", "rating", "timestamp"};
  std::vector<std::string> unread;
  for (const auto& c : table.columns()) {
    if (std::find(std::begin(kUsed), std::end(kUsed), c) == std::end(kUsed)) unread.push_back(c);
  }
  return unread;
}

// CSV/TSV: the required columns are in the header (else reported).
bool HasRequiredColumns(const TableReader& table, const ReviewReadOptions& options, ProblemLog* problems) {
  if (table.format() == TableFormat::kJsonl) return true;
  std::vector<std::string> missing;
  for (const char* name : kRequired) {
    if (table.column(name) < 0 && Required(name, options)) missing.emplace_back(name);
  }
  if (missing.empty()) return true;
  const std::string map = GuessColumnMap(table.columns(), UnreadColumns(table), ReviewColumnAliases());
  // A file of ratings or plays with nothing that looks like a text: it has a
  // rating column, or both a user and an item column (under avrec's names or
  // others'), so each row is an interaction a collaborative model can read.
  const auto readable = [&](const char* name) {
    return table.column(name) >= 0 || map.find(std::string(name) + "=") != std::string::npos;
  };
  const bool ratings_only = !options.texts_only && std::find(missing.begin(), missing.end(), "text") != missing.end() &&
                            !readable("text") && (readable("rating") || (readable("user_id") && readable("item_id")));
  problems->AddFileProblem(
      table.path(), 1,
      MissingColumnsMessage(missing, table.columns(), "--map", map) +
          (ratings_only ? "; a file without texts (ratings, plays) is read with --allow-empty-text" : ""));
  return false;
}

void ReadId(const Cell& c, const char* name, bool required, const Complaint& bad, std::string* out) {
  if (c.kind == Cell::Kind::kMissing) {
    if (required) bad(std::string("missing required field '") + name + "'");
  } else if (!CellAsId(c, out)) {
    bad(std::string("field '") + name + "': expected a string id, found " + KindName(c.kind));
  } else if (out->empty()) {
    bad(std::string("field '") + name + "' is empty");
  }
}

void ReadText(const Cell& text, const ReviewReadOptions& o, const Complaint& bad, std::string* out) {
  const bool allow_empty = o.allow_empty_text;
  if (text.kind == Cell::Kind::kMissing) {
    if (o.texts_only) {
      bad("missing required field 'text'");
    } else if (!allow_empty) {
      bad("missing required field 'text' (--allow-empty-text accepts reviews without one)");
    }
  } else if (text.kind == Cell::Kind::kNull) {
    if (!allow_empty) bad("field 'text' is null (expected the review text)");
  } else if (text.kind != Cell::Kind::kText) {
    bad(std::string("field 'text': expected a string, found ") + KindName(text.kind));
  } else {
    *out = text.text;
    if (out->find('\0') != std::string::npos) {
      bad("field 'text' contains a NUL byte at byte " + std::to_string(out->find('\0') + 1) +
          " (binary data, or a UTF-16 file read as UTF-8?)");
    } else if (!allow_empty && Trim(*out).empty()) {
      bad("field 'text' is empty (use --allow-empty-text to accept such reviews; they score neutral)");
    }
  }
}

// The unit (units per second) a number that is no timestamp in `units` would
// be one in, for the hint: a millisecond count read as seconds lands near the
// year 55,000. 0 when none.
int64_t UnitThatFits(const std::string& text, int64_t units) {
  int64_t t;
  for (int64_t u : {int64_t{1000}, int64_t{1000000}, int64_t{1}}) {
    if (u != units && ParseTimestamp(text, &t, u)) return u;
  }
  return 0;
}

void ReadTime(const Cell& ts, int64_t units, const Complaint& bad, std::optional<int64_t>* out) {
  if (CellIsBlank(ts) || CellIsMissingMarker(ts)) return;
  int64_t t;
  if ((ts.kind == Cell::Kind::kNumber || ts.kind == Cell::Kind::kText) && ParseTimestamp(ts.text, &t, units)) {
    *out = t;
    return;
  }
  double v = 0;
  const std::string unit = TimestampUnitName(units);
  if (ts.kind == Cell::Kind::kNumber) v = ts.number;
  if (ts.kind != Cell::Kind::kNumber && !(ts.kind == Cell::Kind::kText && ParseFiniteDouble(ts.text, &v))) {
    // 1/4/2024 (Excel's en-US short date) or 04.01.2024: 1 April or 4 January?
    const std::string_view t = Trim(ts.text);
    const size_t sep = t.find_first_of("/.-");
    const bool year_last = ts.kind == Cell::Kind::kText && sep >= 1 && sep <= 2 && t.find(t[sep], sep + 1) <= 5;
    bad("field 'timestamp': expected Unix " + unit + " or an ISO 8601 date-time, got " + Shown(ts) +
        (year_last ? " (a date with the year last is ambiguous, day or month first: write it YYYY-MM-DD)" : ""));
    return;
  }
  std::string msg = "field 'timestamp': " + Shown(ts) + " read as Unix " + unit + " is " +
                    (v < 0 ? "before the year 0000" : "after the year 9999");
  if (const int64_t fits = UnitThatFits(ts.text, units)) {
    msg += std::string("; if the column holds ") + TimestampUnitName(fits) + ", give --timestamp-unit " +
           (fits == 1000      ? "ms"
            : fits == 1000000 ? "us"
                              : "s");
  }
  bad(msg);
}

void ReadReviewRow(const Row& row, const TableReader& table, const ReviewReadOptions& options, const Complaint& bad,
                   Review* r) {
  ReadId(row.at(table.column("user_id")), "user_id", !options.texts_only, bad, &r->user_id);
  ReadId(row.at(table.column("item_id")), "item_id", !options.texts_only, bad, &r->item_id);
  ReadText(row.at(table.column("text")), options, bad, &r->text);
  const std::string rating_problem = ReadRatingCell(row.at(table.column("rating")), &r->rating);
  if (!rating_problem.empty()) bad(rating_problem);
  ReadTime(row.at(table.column("timestamp")), options.timestamp_units_per_second, bad, &r->timestamp);
  const Cell& rid = row.at(table.column("review_id"));
  if (!CellIsBlank(rid) && !CellAsId(rid, &r->review_id)) {
    bad(std::string("field 'review_id': expected a string id, found ") + KindName(rid.kind));
  }
}

}  // namespace

// The names public review datasets give avrec's columns (Amazon's
// reviewerID, asin, reviewText, overall, unixReviewTime; Yelp's stars;
// MovieLens's userId, movieId, and the tag its users wrote; comment dumps'
// author, content, ctime).
const std::vector<ColumnAliases>& ReviewColumnAliases() {
  static const std::vector<ColumnAliases> aliases = {
      {"user_id", {"userid", "user", "reviewerid", "uid", "customerid", "memberid", "author", "authorid", "username"}},
      {"item_id",
       {"itemid", "item", "asin", "productid", "movieid", "trackid", "songid", "artistid", "albumid", "videoid",
        "mediaid", "bvid", "iid"}},
      {"text",
       {"reviewtext", "review", "reviewbody", "comment", "commenttext", "content", "body", "danmaku", "message",
        "tag"}},
      {"rating", {"overall", "stars", "star", "userrating", "ratingvalue", "rate"}},
      {"timestamp", {"unixreviewtime", "time", "date", "datetime", "createdat", "created", "ctime", "ts"}},
      {"review_id", {"reviewid", "commentid", "rpid"}},
  };
  return aliases;
}

void LogReviewNotes(const std::string& path, const ReviewStats& st) {
  if (st.duplicates > 0) spdlog::warn("{}: {} (kept once)", path, CountOf(st.duplicates, "exact duplicate review"));
  if (st.quoted_numbers > 0) {
    spdlog::warn("{}: JSON strings read as numbers: {} (\"4\"); write them as numbers (4)", path,
                 CountOf(st.quoted_numbers, "rating"));
  }
  if (st.marked_missing_ratings + st.marked_missing_times > 0) {
    spdlog::info("{}: {} and {} written as a missing value (NA, N/A, NULL, ...) read as absent", path,
                 CountOf(st.marked_missing_ratings, "rating"), CountOf(st.marked_missing_times, "timestamp"));
  }
  if (st.compact_dates > 0) {
    spdlog::info("{}: {} of eight digits (such as 20240104) read as dates YYYYMMDD, not as Unix {}", path,
                 CountOf(st.compact_dates, "timestamp"), TimestampUnitName(st.timestamp_units));
  }
  if (st.compact_non_dates > 0) {
    const char* is = st.compact_non_dates == 1 ? "is" : "are";
    spdlog::warn("{}: {} of eight digits such as '{}' {} no date YYYYMMDD and {} read as Unix {}, in 1970", path,
                 CountOf(st.compact_non_dates, "timestamp"), st.first_compact_non_date, is, is,
                 TimestampUnitName(st.timestamp_units));
  }
  if (st.times_in_1970 > 0) {
    spdlog::warn("{}: {} read as Unix {} in 1970: is the column in a coarser unit ({})?", path,
                 CountOf(st.times_in_1970, "timestamp"), TimestampUnitName(st.timestamp_units),
                 st.timestamp_units == 1000 ? "--timestamp-unit s" : "--timestamp-unit s or ms");
  }
  if (!st.guessed_map.empty()) {
    // A file of another dataset's column names: JSON Lines records that lack
    // a required field, or a column of ratings or times left unread.
    const std::string lacking = st.lacking_required == 0 ? ""
                                : st.lacking_required == 1
                                    ? "1 record lacks user_id, item_id or text; "
                                    : std::to_string(st.lacking_required) + " records lack user_id, item_id or text; ";
    spdlog::warn("{}: {}columns that look like avrec's under other names are not read; --map {} reads them", path,
                 lacking, ShellWord(st.guessed_map));
  }
  for (const auto& [ours, theirs] : st.unused_map) {
    // A misspelt --map of an optional column (rating=stars) would read
    // no ratings without a word.
    spdlog::warn("{}: --map {}: the file has no column {}{}", path, EscapeForMessage(ours + "=" + theirs, 80),
                 EscapeForMessage(theirs, 60), UnreadColumnsHint(theirs, st.ignored_columns));
  }
  if (st.future_times > 0) {
    spdlog::warn(
        "{}: {} review{} dated after today, the latest {}: a wrong year? Recency decay (--half-life-days) "
        "counts back from the latest review, so one date in the future makes every other review old; "
        "--now sets the time it counts from",
        path, st.future_times, st.future_times == 1 ? " is" : "s are", IsoDate(st.latest_time));
  }
}

namespace {

// Counts in `stats` what the notes (LogReviewNotes) say of a review's
// timestamp cell `ts`, read as `t`: a missing-value word, a YYYYMMDD date or
// eight digits that are none, a time of 1970 in ms or us, a time after `now`.
// Returns whether it was a YYYYMMDD date.
bool NoteTimestampForm(const Cell& ts, const std::optional<int64_t>& t, int64_t now, ReviewStats* stats) {
  stats->marked_missing_times += CellIsMissingMarker(ts);
  if (!t) return false;
  const bool compact_date = IsCompactDate(ts.text);
  stats->compact_dates += compact_date;
  const std::string_view text = Trim(ts.text);
  if (!compact_date && text.size() == 8 && text.find_first_not_of("0123456789") == std::string_view::npos &&
      text >= "1900" && text < "2200") {
    // 20240230: a date mistyped, or no date at all? Read as the number it is, and said to be.
    if (stats->compact_non_dates++ == 0) stats->first_compact_non_date = std::string(text);
  }
  constexpr int64_t kYear1971 = 31536000;
  if (stats->timestamp_units != 1 && *t >= 0 && *t < kYear1971 && ts.text.find('-', 1) == std::string::npos) {
    ++stats->times_in_1970;
  }
  if (*t > now + 2 * 86400) {  // a wrong year? (time zones are within a day)
    ++stats->future_times;
    stats->latest_time = std::max(stats->latest_time, *t);
  }
  return compact_date;
}

}  // namespace

std::string ReadRatingCell(const Cell& rating, std::optional<double>* out) {
  if (CellIsBlank(rating) || CellIsMissingMarker(rating)) return "";
  double v;
  if (!CellAsNumber(rating, &v)) return "field 'rating': expected a finite number, got " + Shown(rating);
  *out = v;
  return "";
}

ReviewStats ReadReviews(const std::string& path, const ReviewReadOptions& options, ProblemLog* problems,
                        const std::function<void(Review&&)>& sink) {
  ReviewStats stats;
  stats.timestamp_units = options.timestamp_units_per_second;
  TableReader table(path, problems, options.max_record_bytes, options.columns);
  if (!table.header_ok() || !HasRequiredColumns(table, options, problems)) return stats;
  std::unordered_map<std::string, int64_t> seen;  // review_id -> line
  const bool is_json = table.format() == TableFormat::kJsonl;
  Row row;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  while (table.Next(&row)) {
    Review r;
    r.line = row.line;
    const size_t before = problems->count();
    const Complaint bad = [&](const std::string& msg) { problems->Add(path, row.line, msg); };
    if (options.on_bytes) options.on_bytes(table.file_bytes_read(), table.file_size());
    ReadReviewRow(row, table, options, bad, &r);
    // (A CSV's required columns were checked at its header.)
    if (is_json && std::any_of(std::begin(kRequired), std::end(kRequired), [&](const char* name) {
          return Required(name, options) && row.at(table.column(name)).kind == Cell::Kind::kMissing;
        })) {
      ++stats.lacking_required;
    }
    if (is_json && row.at(table.column("rating")).kind == Cell::Kind::kText && r.rating) ++stats.quoted_numbers;
    stats.marked_missing_ratings += CellIsMissingMarker(row.at(table.column("rating")));
    const bool compact_date = NoteTimestampForm(row.at(table.column("timestamp")), r.timestamp, now, &stats);
    if (problems->count() == before && options.unknown_item) {
      const std::string why = options.unknown_item(r.item_id);
      if (!why.empty()) bad("item_id " + EscapeForMessage(r.item_id) + " " + why);
    }
    if (problems->count() != before) continue;
    if (r.review_id.empty()) {
      // A YYYYMMDD date is keyed by its eight digits as a number, as avrec
      // read it before it read such dates: the ids of a workspace built then stay.
      const std::optional<int64_t> read_as = r.timestamp;
      if (compact_date) r.timestamp = std::stoll(std::string(Trim(row.at(table.column("timestamp")).text)));
      r.review_id = DeriveReviewId(r);
      r.timestamp = read_as;
      r.derived_id = true;
    }
    auto [it, inserted] = seen.emplace(r.review_id, r.line);
    if (!inserted) {
      if (r.derived_id) {
        ++stats.duplicates;
      } else {
        bad("duplicate review_id " + EscapeForMessage(r.review_id) + " (first on line " + std::to_string(it->second) +
            ")");
      }
      continue;
    }
    ++stats.valid;
    sink(std::move(r));
  }
  // Rows the table reader rejected (quoting, field count, UTF-8) count too.
  stats.records = table.records_read();
  stats.ignored_columns = UnreadColumns(table);
  stats.unused_map = table.UnseenRenames();
  stats.guessed_map = GuessColumnMap(table.columns(), stats.ignored_columns, ReviewColumnAliases());
  stats.invalid = stats.records - stats.valid - stats.duplicates;
  return stats;
}

}  // namespace avrec
