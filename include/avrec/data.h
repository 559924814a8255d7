// Reviews and media items: the typed records avrec reads, validated against
// the formats of docs/formats.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "avrec/table.h"

namespace avrec {

// ---- reviews ----------------------------------------------------------------------

struct Review {
  std::string review_id;  // given, or derived from the content (see DeriveReviewId)
  std::string user_id;
  std::string item_id;
  std::string text;
  std::optional<double> rating;
  std::optional<int64_t> timestamp;  // Unix seconds, UTC
  int64_t line = 0;                  // where it was read from
  bool derived_id = false;
};

// Stable id of a review that has none: "h" + 16 hex digits of
// SHA-256(user_id, item_id, timestamp, text) with unit separators between.
// (ReadReviews keys a date written YYYYMMDD by those digits as a number.)
std::string DeriveReviewId(const Review& r);

struct ReviewReadOptions {
  // An empty or whitespace-only text is an error unless this is set (scoring
  // gives such reviews a neutral score and a flag).
  bool allow_empty_text = false;
  // score: user_id and item_id may be absent (a corpus of texts, such as a
  // sentiment dataset) and are read where present; the text may not be, even
  // with allow_empty_text (blank texts are still accepted).
  bool texts_only = false;
  // When set: "" for an item_id that is among the items, else why not,
  // completing "item_id 'x' ..." (ItemTable::WhyUnknown); such a review is
  // reported.
  std::function<std::string(const std::string&)> unknown_item;
  size_t max_record_bytes = kDefaultMaxRecordBytes;  // longer records: Error(kDataErr)
  // File columns read under avrec's names: avrec name -> file column
  // (user_id -> reviewerID).
  std::map<std::string, std::string> columns;
  // What a numeric timestamp counts: 1 seconds, 1000 milliseconds, 1000000
  // microseconds since 1970 UTC (stored as seconds; ISO 8601 text is read
  // whatever this is).
  int64_t timestamp_units_per_second = 1;
  // When set: called at each record with the bytes read so far and the
  // file's size (TableReader::file_bytes_read, file_size; -1 for a pipe).
  std::function<void(int64_t read, int64_t size)> on_bytes;
};

struct ReviewStats {
  int64_t records = 0;                       // data records read (lines of JSONL, records of CSV)
  int64_t valid = 0;                         // handed to the sink
  int64_t invalid = 0;                       // reported and skipped
  int64_t duplicates = 0;                    // identical content (derived id seen before), skipped
  int64_t quoted_numbers = 0;                // JSON ratings written as strings ("4"): read as numbers
  int64_t times_in_1970 = 0;                 // numeric timestamps read in ms or us that fall in 1970
  int64_t marked_missing_ratings = 0;        // ratings written NA, NULL, ... (CellIsMissingMarker): absent
  int64_t marked_missing_times = 0;          // timestamps written so: absent
  int64_t compact_dates = 0;                 // timestamps written YYYYMMDD (IsCompactDate)
  int64_t compact_non_dates = 0;             // eight digits from 1900 to 2199 that are no date: read as numbers
  std::string first_compact_non_date;        // the first of them ("20240230")
  int64_t timestamp_units = 1;               // the unit they were read in (ReviewReadOptions)
  int64_t future_times = 0;                  // timestamps more than two days after the time of reading
  int64_t latest_time = 0;                   // the latest timestamp read (when future_times > 0)
  std::vector<std::string> ignored_columns;  // present in the file, used for nothing
  std::vector<std::pair<std::string, std::string>> unused_map;  // --map (name, column) the file lacks
  int64_t lacking_required = 0;                                 // JSON Lines records without user_id, item_id or text
  std::string guessed_map;  // --map for the file's columns under other datasets' names (GuessColumnMap)
};

// The names public review datasets give the columns of a reviews file
// (reviewerID, asin, overall, MovieLens's userId and movieId, ...): what
// the --map a header lacking avrec's names is told is guessed from.
const std::vector<ColumnAliases>& ReviewColumnAliases();

// A rating cell: blank or a missing marker (NA, NULL, ...) leaves `out`
// unset, a number sets it. Returns what is wrong with any other ("field
// 'rating': expected a finite number, got 'x'"), empty when nothing is.
std::string ReadRatingCell(const Cell& rating, std::optional<double>* out);

// Streams the valid reviews of `path` (CSV, TSV or JSON Lines, maybe .gz) to
// `sink`, in file order. Invalid rows are reported to `problems` and skipped.
ReviewStats ReadReviews(const std::string& path, const ReviewReadOptions& options, ProblemLog* problems,
                        const std::function<void(Review&&)>& sink);

// Logs what a read accepted but a user should know (warnings): exact
// duplicates kept once, ratings written as JSON strings read as numbers,
// timestamps that a finer --timestamp-unit than the file's put in 1970.
// validate and ingest both call it, so they tell the same things.
void LogReviewNotes(const std::string& path, const ReviewStats& stats);

// Writes reviews as CSV, TSV or JSON Lines (from the extension; not .gz),
// atomically. Columns: review_id, user_id, item_id, rating, timestamp (Unix
// seconds), text.
void WriteReviews(const std::string& path, const std::vector<const Review*>& reviews);
// The same into an open output, not committed: for outputs committed
// together (CommitTogether). The format: `format` when not empty ("csv",
// "tsv", "jsonl"), else from the path; OutputFormat() checks it first
// (Error(kUsage) for .gz or an unknown extension or name).
void WriteReviewsTo(AtomicFile* out, TableFormat format, const std::vector<const Review*>& reviews);
TableFormat OutputFormat(const std::string& path, const std::string& format);

// ---- items ----------------------------------------------------------------------

// How item columns become features. A column named "<modality>.<name>" (for
// example audio.tempo) is a numeric feature of that modality unless listed in
// `categorical`; a column without a prefix is a feature only when `numeric` or
// `categorical` maps it to a modality.
struct ItemSchemaOptions {
  std::map<std::string, std::string> numeric;        // column -> modality
  std::map<std::string, std::string> categorical;    // column -> modality ("" = from prefix)
  char tag_separator = '|';                          // CSV tags field: "rock|live"
  size_t max_record_bytes = kDefaultMaxRecordBytes;  // longer records: Error(kDataErr)
  std::map<std::string, std::string> columns;        // avrec name -> file column (item_id -> asin)
};

struct FeatureColumn {
  std::string name;      // column name as in the file
  std::string modality;  // audio, visual, ...
};

struct Item {
  std::string item_id;
  std::string title, description, kind;
  std::vector<std::string> tags;
  std::vector<double> numeric;           // size = numeric_columns.size(); NaN = missing
  std::vector<std::string> categorical;  // size = categorical_columns.size(); "" = missing
  int64_t line = 0;
};

// Text of an item for the text modality: "title. tags. description".
std::string ItemText(const Item& item);

// The ids of a catalogue by what exports make of an id: case folded (ASCII),
// leading zeros of a number dropped (a spreadsheet's), a ".0" after one
// dropped (pandas' integers with gaps become floats). For the message about a
// review of an unknown item: "; the items have 'S0001' (ids are case-sensitive)".
class IdLookalikes {
 public:
  explicit IdLookalikes(const std::vector<std::string>& ids);
  // "" when `id` has no lookalike (and holds no combining accent); else
  // "; WHERE have 'ID' (why they differ)", WHERE as "the items".
  std::string Hint(const std::string& id, const std::string& where) const;

 private:
  std::unordered_map<std::string, std::string> by_fold_;  // fold -> the first id with it
};

struct ItemTable {
  std::string path;
  std::vector<FeatureColumn> numeric_columns;
  std::vector<FeatureColumn> categorical_columns;
  std::vector<std::string> ignored_columns;       // present in the file, used for nothing
  std::vector<std::string> inferred_categorical;  // undeclared columns whose values are all text
  // Ignored columns of numbers under the names of well-known audio or visual
  // features (Spotify's danceability, energy, tempo...), as --numeric reads
  // them: "danceability=audio tempo=audio"; "" when none.
  std::string feature_hint;
  std::vector<Item> items;    // file order, item_ids unique
  bool from_reviews = false;  // no items file: the ids the reviews name, nothing more
  int64_t records = 0;
  int64_t invalid = 0;
  int64_t missing_numeric = 0;  // missing numeric values (imputed later)

  // Index of an item id, or -1.
  int Find(const std::string& item_id) const;
  // "" for an item of the table; else "is not among WHERE", and for an id
  // whose rows were all rejected, ": its row (PATH:LINE) is invalid" after
  // it, so that a review of such an item does not read as the mistake;
  // otherwise the hint of `among` (by default this table's ids, IdLookalikes).
  std::string WhyUnknown(const std::string& item_id, const std::string& where = "the items",
                         const IdLookalikes* among = nullptr) const;
  std::map<std::string, int64_t> rejected;  // item_id of an invalid row -> its first line
  void BuildIndex();

 private:
  std::map<std::string, int> index_;
  mutable std::shared_ptr<const IdLookalikes> lookalikes_;  // built at the first unknown id
};

// Reads and validates an items file (CSV, TSV or JSON Lines). Problems go to
// `problems`; invalid rows are skipped.
ItemTable ReadItems(const std::string& path, const ItemSchemaOptions& schema, ProblemLog* problems);

// The catalogue of a run without an items file (collaborative algorithms):
// every item id the reviews name, sorted, with no title and no feature.
ItemTable ItemsOfReviews(const std::vector<Review>& reviews);

}  // namespace avrec
