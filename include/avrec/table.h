// Tabular input: CSV, TSV and JSON Lines files (optionally gzip-compressed)
// read as a stream of rows of named cells, with the line each row came from.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "avrec/io.h"
#include "avrec/problem.h"
#include "avrec/text.h"

namespace avrec {

enum class TableFormat { kCsv, kTsv, kJsonl };

// Format from the file name: .csv, .tsv/.tab, .jsonl/.ndjson/.json (each
// optionally followed by .gz); nothing for any other name.
std::optional<TableFormat> TableFormatOfExtension(const std::string& path);
// The same, throwing Error(kUsage) for any other name.
TableFormat DetectTableFormat(const std::string& path);
// Format from a file's first line, for inputs whose name says nothing (stdin,
// /dev/fd/N, a FIFO): JSON Lines when it starts with '{', TSV when it holds
// more tabs than commas (outside quotes), else CSV.
TableFormat SniffTableFormat(std::string_view first_line);
// The same for an opened input: its first line, read ahead, not consumed.
TableFormat SniffTableFormat(ByteSource* src);
// An input's format by its name: DetectTableFormat, or nothing where
// FormatFromContent(path) (then SniffTableFormat once it is open). Called
// before opening, so that an unknown extension is a usage error first.
std::optional<TableFormat> TableFormatFromName(const std::string& path);
const char* TableFormatName(TableFormat f);

// One cell. CSV/TSV cells are always kText (an empty field is kText ""); JSON
// values keep their type. `text` holds the value as text for kText, kNumber
// (the number as written in the file), kBool ("true"/"false").
struct Cell {
  enum class Kind { kMissing, kNull, kText, kNumber, kBool, kList, kOther };
  Kind kind = Kind::kMissing;
  std::string text;
  double number = 0;              // kNumber
  std::vector<std::string> list;  // kList: a JSON array of strings (nested arrays read in order)
  // kText of a file whose decimal mark is a comma (semicolon-separated CSV,
  // as Excel writes it in much of Europe): "4,5" reads as the number 4.5.
  bool decimal_comma = false;
};

// A row: cells aligned with TableReader::columns(); cells past the end of the
// row (a JSON object lacking the key) are kMissing.
struct Row {
  int64_t line = 0;
  std::vector<Cell> cells;
  // JSON Lines: the cells this record set, so that the next record clears
  // only those (a file whose records each bring a key of their own is read
  // in time linear in its length, not in the square of its keys).
  std::vector<int> set;
  const Cell& at(int column) const;
};

// Streams the rows of a CSV/TSV (first line = header) or JSON Lines file.
// Syntax problems (bad quoting, wrong field count, invalid UTF-8, a line that
// is not a JSON object, JSON nested too deep, numbers beyond double's range,
// a key repeated in one object) are reported to the ProblemLog and the row
// skipped.
class TableReader {
 public:
  // Throws Error(kNoInput) if the file cannot be opened. The format comes
  // from the extension (DetectTableFormat; an unknown one is Error(kUsage))
  // or, for a name without one ("-" for stdin, /dev/fd/N, a FIFO), from the
  // first line (SniffTableFormat).
  // Records longer than `max_record_bytes` are Error(kDataErr) PATH:LINE.
  // `columns` gives, for a name avrec reads, the column (or JSON key) of
  // the file read under it, e.g. user_id -> reviewerID; `map_option` is the
  // option it came from, for messages. Two names for one column are
  // Error(kUsage). A file with both a mapped column and a column under the
  // name it maps to (reviewerID and user_id) is a header problem (CSV) or a
  // record problem (JSON Lines).
  TableReader(const std::string& path, ProblemLog* problems, size_t max_record_bytes = kDefaultMaxRecordBytes,
              const std::map<std::string, std::string>& columns = {}, std::string_view map_option = "--map");
  // The same for an input already opened (whose first bytes a caller has
  // looked at to tell what it holds: a pipe cannot be opened twice), read as
  // `format`, its columns under their own names.
  TableReader(std::unique_ptr<ByteSource> src, TableFormat format, ProblemLog* problems,
              size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~TableReader();

  // Next well-formed row; false at end of input. The header of a CSV file is
  // read by the constructor; a CSV without one is reported and yields no rows.
  bool Next(Row* row);

  // Column names: the CSV header, or the JSON keys in order of first
  // appearance (this list grows while a JSON Lines file is read).
  const std::vector<std::string>& columns() const { return columns_; }
  // Index of a column, or -1 if it is not (yet) known.
  int column(std::string_view name) const;
  TableFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  // Physical lines / records read so far, including skipped ones.
  int64_t records_read() const { return records_; }
  // ByteSource::file_bytes_read and file_size of the file (-1 for a pipe).
  int64_t file_bytes_read() const { return src_->file_bytes_read(); }
  int64_t file_size() const { return src_->file_size(); }
  bool header_ok() const { return header_ok_; }
  // The entries of `rename` whose file column the file has not had (not in
  // the header; no such JSON key read so far), as (avrec name, file column):
  // a --map to a column that is not there. In file-column order.
  std::vector<std::pair<std::string, std::string>> UnseenRenames() const;

 private:
  void Start(size_t max_record_bytes);
  bool NextCsv(Row* row);
  bool NextJson(Row* row);
  int AddColumn(const std::string& name);
  std::string EncodingHint(std::string_view text);
  std::string PythonDictHint(std::string_view line);
  std::string ReadTwiceMessage(const std::string& name) const;

  std::string path_;
  TableFormat format_;
  ProblemLog* problems_;
  std::unique_ptr<ByteSource> src_;
  std::unique_ptr<CsvReader> csv_;
  std::unique_ptr<LineReader> lines_;
  std::vector<std::string> columns_;
  std::unordered_map<std::string, int> index_;
  struct Rename {
    std::string name;   // avrec's name of the file column
    bool seen = false;  // the file has had the column
  };
  std::map<std::string, Rename> rename_;  // file column -> avrec's name
  std::string map_option_;
  CsvRecord rec_;
  std::string line_;
  int64_t records_ = 0;
  bool header_ok_ = true;
  bool encoding_hinted_ = false;
  bool python_hinted_ = false;
  bool decimal_comma_ = false;  // semicolon-separated CSV
  char separator_ = ',';        // between CSV or TSV fields
};

// The end of a message about a column `name` the options name and the file
// lacks: the one of the file's columns avrec does not read that it is a
// near misspelling of (" (did you mean 'Stars'?)"), then those columns
// (where the right name usually is), or "check the name" when there are none.
std::string UnreadColumnsHint(const std::string& name, const std::vector<std::string>& unread);

// One of avrec's columns and the names public datasets give it, written in
// lower case without '_', '-' or blanks ("reviewerid" for reviewerID).
struct ColumnAliases {
  const char* ours;
  std::vector<std::string_view> theirs;  // the likeliest first
};

// The --map value that reads a file whose columns (`columns`, after any
// --map) are another dataset's: for each of `known`'s columns the file lacks,
// the first of its aliases among the columns avrec does not read (`unread`)
// ("user_id=reviewerID,item_id=asin"); a file column is used once. Empty
// when nothing matches.
std::string GuessColumnMap(const std::vector<std::string>& columns, const std::vector<std::string>& unread,
                           const std::vector<ColumnAliases>& known);

// The end of a "missing required column" message: "; OPTION MAP reads the
// file's columns under avrec's names", or nothing when `map` is empty.
std::string MapHint(const char* option, const std::string& map);

// "missing required column(s) 'a', 'b' (the header has: ...)" followed by
// MapHint(option, map): what a CSV/TSV header lacking columns is told.
std::string MissingColumnsMessage(const std::vector<std::string>& missing, const std::vector<std::string>& header,
                                  const char* option, const std::string& map);

// Whether a CSV or TSV header has each column of `required` (JSON Lines:
// always); else one file problem at its header: MissingColumnsMessage with
// the `option` map `known` guesses from the columns none of `known` names.
bool HeaderHasColumns(const TableReader& table, const std::vector<std::string>& required,
                      const std::vector<ColumnAliases>& known, const char* option, ProblemLog* problems);

// ---- typed access to cells ---------------------------------------------------

// Parses a timestamp into Unix seconds: a number of seconds since 1970 UTC
// (`units_per_second` 1), or of milliseconds (1000) or microseconds
// (1000000), the fraction of a second dropped; or ISO 8601, whatever the unit
// (YYYY-MM-DD or YYYY/MM/DD, optionally followed by 'T' or ' ' and
// hh:mm[:ss[.fff]], then 'Z', +hh:mm, +hhmm or nothing for UTC; or YYYYMMDD,
// IsCompactDate). False for anything else, and for
// times outside the years 0000 to 9999 (a millisecond count read as seconds
// lands near the year 55,000).
bool ParseTimestamp(std::string_view s, int64_t* unix_seconds, int64_t units_per_second = 1);
// Eight digits that form a date YYYYMMDD of the years 1900-2199 (ISO 8601's
// basic form, 20240104), which ParseTimestamp reads as that day at 00:00 UTC
// whatever the unit: as seconds, milliseconds or microseconds, such a number
// is a moment of 1970 no review was written in.
bool IsCompactDate(std::string_view s);
inline constexpr int64_t kEarliestUnixSecond = -62167219200;  // 0000-01-01T00:00:00Z
inline constexpr int64_t kLatestUnixSecond = 253402300799;    // 9999-12-31T23:59:59Z
// "seconds", "milliseconds" or "microseconds", for messages.
const char* TimestampUnitName(int64_t units_per_second);
// The UTC date of a Unix time, YYYY-MM-DD.
std::string IsoDate(int64_t unix_seconds);

// Text of an id cell: text, or an integer JSON number written as digits.
// Returns false for other kinds (null, lists, fractions, ...).
bool CellAsId(const Cell& c, std::string* out);

// Cell is absent, null or (after trimming blanks) empty text.
bool CellIsBlank(const Cell& c);

// Cell is text that other tools write for a missing value: R's `NA`,
// Excel's `#N/A`, SQL dumps' `NULL` and MySQL's `\N`, pandas' `<NA>` and
// `None`, `N/A`, `n/a`, `#NA`, `null` (after trimming blanks). Number fields
// read it as absent; `NaN` is not one (a number that went wrong upstream).
bool CellIsMissingMarker(const Cell& c);

// A cell's number: a JSON number, or text that reads as a finite one
// (ParseFiniteDouble; with Cell::decimal_comma also digits, a comma and
// digits, as "4,5"). False otherwise.
bool CellAsNumber(const Cell& c, double* out);

}  // namespace avrec
