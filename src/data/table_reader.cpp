#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "avrec/error.h"
#include "avrec/json.h"
#include "avrec/options.h"
#include "avrec/table.h"
#include "avrec/text.h"

namespace avrec {

namespace {

const Cell kMissingCell{};

// The separators of a line outside double quotes.
struct Separators {
  size_t tabs = 0, commas = 0, semicolons = 0;
};
Separators CountSeparators(std::string_view line) {
  Separators n;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (!quoted) {
      n.tabs += c == '\t';
      n.commas += c == ',';
      n.semicolons += c == ';';
    }
  }
  return n;
}

// The strings of a JSON array, nested arrays read in order (Amazon's
// categories are a list of category paths: [["CDs & Vinyl", "Pop"], ...]);
// false when a leaf is anything but a string.
bool StringLeaves(const nlohmann::json& v, std::vector<std::string>* out) {
  for (const nlohmann::json& e : v) {
    if (e.is_string()) {
      out->push_back(e.get<std::string>());
    } else if (!e.is_array() || !StringLeaves(e, out)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const Cell& Row::at(int column) const {
  if (column < 0 || static_cast<size_t>(column) >= cells.size()) return kMissingCell;
  return cells[column];
}

std::optional<TableFormat> TableFormatOfExtension(const std::string& path) {
  const std::string ext = DataExtension(path);
  if (ext == "csv") return TableFormat::kCsv;
  if (ext == "tsv" || ext == "tab") return TableFormat::kTsv;
  if (ext == "jsonl" || ext == "ndjson" || ext == "json") return TableFormat::kJsonl;
  return std::nullopt;
}

TableFormat DetectTableFormat(const std::string& path) {
  if (const auto format = TableFormatOfExtension(path)) return *format;
  Fail(ExitCode::kUsage, path, ": cannot tell the format from the extension '", DataExtension(path),
       "' (expected .csv, .tsv, .jsonl or .ndjson, optionally followed by .gz; a .txt or .dat file, or one without "
       "an extension, is read by its content)");
}

TableFormat SniffTableFormat(std::string_view first_line) {
  const std::string_view t = Trim(first_line);
  if (!t.empty() && t.front() == '{') return TableFormat::kJsonl;
  const Separators n = CountSeparators(t);
  return n.tabs > n.commas ? TableFormat::kTsv : TableFormat::kCsv;
}

TableFormat SniffTableFormat(ByteSource* src) {
  // A first line longer than this is no header: CSV, and the reader says so.
  constexpr size_t kSniffBytes = size_t{1} << 20;
  return SniffTableFormat(src->PeekLine(kSniffBytes));
}

std::optional<TableFormat> TableFormatFromName(const std::string& path) {
  if (FormatFromContent(path)) return std::nullopt;
  return DetectTableFormat(path);
}

const char* TableFormatName(TableFormat f) {
  switch (f) {
    case TableFormat::kCsv:
      return "CSV";
    case TableFormat::kTsv:
      return "TSV";
    case TableFormat::kJsonl:
      return "JSON Lines";
  }
  return "?";
}

TableReader::TableReader(const std::string& path, ProblemLog* problems, size_t max_record_bytes,
                         const std::map<std::string, std::string>& columns, std::string_view map_option)
    : path_(path), problems_(problems), map_option_(map_option) {
  for (const auto& [ours, theirs] : columns) {
    auto [it, fresh] = rename_.try_emplace(theirs, Rename{ours});
    if (!fresh) {
      // Read under one of the two names only, the other would be missing
      // with no word of why.
      Fail(ExitCode::kUsage, map_option_, ": ", EscapeForMessage(it->second.name + "=" + theirs, 80), " and ",
           EscapeForMessage(ours + "=" + theirs, 80), " name one column twice; a column is read under one name");
    }
  }
  const std::optional<TableFormat> named = TableFormatFromName(path);
  src_ = std::make_unique<ByteSource>(path);
  format_ = named ? *named : SniffTableFormat(src_.get());
  if (!named) spdlog::info("{}: read as {} (told by its content)", path, TableFormatName(format_));
  Start(max_record_bytes);
}

TableReader::TableReader(std::unique_ptr<ByteSource> src, TableFormat format, ProblemLog* problems,
                         size_t max_record_bytes)
    : path_(src->path()), format_(format), problems_(problems), src_(std::move(src)), map_option_("--map") {
  Start(max_record_bytes);
}

void TableReader::Start(size_t max_record_bytes) {
  if (format_ == TableFormat::kJsonl) {
    lines_ = std::make_unique<LineReader>(src_.get(), max_record_bytes);
    return;
  }
  // CSV as Excel writes it where the decimal mark is a comma: fields
  // separated by semicolons, sometimes after a "sep=;" line saying so.
  char separator = format_ == TableFormat::kTsv ? '\t' : ',';
  bool separator_line = false;
  if (format_ == TableFormat::kCsv) {
    std::string_view first = src_->PeekLine(size_t{1} << 20);
    while (!first.empty() && (first.back() == '\n' || first.back() == '\r')) first.remove_suffix(1);
    const Separators n = CountSeparators(first);
    if (first.size() == 5 && first.substr(0, 4) == "sep=" && first[4] != '"') {  // "sep=\t" too
      separator = first[4];
      separator_line = true;
    } else if (n.commas == 0 && n.tabs == 0 && n.semicolons > 0) {
      separator = ';';
    }
    // Where ';' separates fields, ',' is the decimal mark.
    decimal_comma_ = separator == ';';
  }
  separator_ = separator;
  csv_ = std::make_unique<CsvReader>(src_.get(), separator, max_record_bytes);
  if (separator_line) csv_->Next(&rec_);
  if (!csv_->Next(&rec_)) {
    problems_->AddFileProblem(path_, separator_line ? 2 : 1,
                              separator_line ? "expected a header line naming the columns after the \"sep=\" line"
                                             : "file is empty: expected a header line naming the columns");
    header_ok_ = false;
    return;
  }
  if (!rec_.error.empty()) {
    problems_->AddFileProblem(path_, rec_.line, "header: " + rec_.error);
    header_ok_ = false;
  }
  std::vector<std::string> in_file;
  for (size_t i = 0; i < rec_.fields.size(); ++i) {
    std::string name(Trim(rec_.fields[i]));
    in_file.push_back(name);
    if (auto r = rename_.find(name); r != rename_.end()) {
      r->second.seen = true;
      name = r->second.name;
    }
    size_t bad;
    if (!IsValidUtf8(name, &bad)) {
      problems_->AddFileProblem(
          path_, rec_.line,
          "header: column " + std::to_string(i + 1) + " name is not valid UTF-8" + EncodingHint(name));
      header_ok_ = false;
    }
    if (!name.empty() && index_.count(name) != 0) {
      const std::string twice = ReadTwiceMessage(name);
      problems_->AddFileProblem(
          path_, rec_.line,
          "header: " + (twice.empty() ? "duplicate column name " + EscapeForMessage(name, 60) : twice));
      header_ok_ = false;
    }
    columns_.push_back(name);
    if (!name.empty()) index_.emplace(name, static_cast<int>(i));
  }
  csv_->NameFields(std::move(in_file));
}

TableReader::~TableReader() = default;

int TableReader::column(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::pair<std::string, std::string>> TableReader::UnseenRenames() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [theirs, r] : rename_) {
    if (!r.seen) out.emplace_back(r.name, theirs);
  }
  return out;
}

// Why two columns (JSON keys) of the file are read under `name`: one of
// them is mapped to it. Empty when no mapped column is.
std::string TableReader::ReadTwiceMessage(const std::string& name) const {
  for (const auto& [theirs, r] : rename_) {
    if (r.name != name) continue;
    const char* what = format_ == TableFormat::kJsonl ? "key " : "column ";
    return what + EscapeForMessage(theirs, 60) + " is read as " + EscapeForMessage(name, 60) + " (" + map_option_ +
           " " + EscapeForMessage(name + "=" + theirs, 80) + ") and the " +
           (format_ == TableFormat::kJsonl ? "record" : "file") + " also has a " + what + EscapeForMessage(name, 60) +
           ": drop one, or map it to another name";
  }
  return "";
}

std::string UnreadColumnsHint(const std::string& name, const std::vector<std::string>& unread) {
  if (unread.empty()) return "; check the name";
  const std::string meant = NearestName(name, unread);
  return (meant.empty() ? std::string() : " (did you mean " + EscapeForMessage(meant, 60) + "?)") +
         "; columns of the file avrec does not read: " + JoinForMessage(unread, 12);
}

std::string GuessColumnMap(const std::vector<std::string>& columns, const std::vector<std::string>& unread,
                           const std::vector<ColumnAliases>& known) {
  const auto folded = [](const std::string& name) {
    std::string out;
    for (char c : name) {
      if (c != '_' && c != '-' && c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  std::vector<bool> taken(unread.size());
  std::string map;
  for (const ColumnAliases& k : known) {
    if (std::find(columns.begin(), columns.end(), k.ours) != columns.end()) continue;
    for (std::string_view alias : k.theirs) {
      size_t i = 0;
      // A name with a comma cannot be mapped (the option's pairs are
      // separated by commas).
      while (i < unread.size() &&
             (taken[i] || folded(unread[i]) != alias || unread[i].find(',') != std::string::npos)) {
        ++i;
      }
      if (i == unread.size()) continue;
      taken[i] = true;
      map += (map.empty() ? "" : ",") + std::string(k.ours) + "=" + unread[i];
      break;
    }
  }
  return map;
}

std::string MapHint(const char* option, const std::string& map) {
  return map.empty()
             ? ""
             : std::string("; ") + option + " " + ShellWord(map) + " reads the file's columns under avrec's names";
}

std::string MissingColumnsMessage(const std::vector<std::string>& missing, const std::vector<std::string>& header,
                                  const char* option, const std::string& map) {
  return std::string("missing required column") + (missing.size() > 1 ? "s " : " ") +
         JoinForMessage(missing, missing.size()) + " (the header has: " + JoinForMessage(header, header.size()) + ")" +
         MapHint(option, map);
}

bool HeaderHasColumns(const TableReader& table, const std::vector<std::string>& required,
                      const std::vector<ColumnAliases>& known, const char* option, ProblemLog* problems) {
  if (table.format() == TableFormat::kJsonl) return true;
  std::vector<std::string> missing;
  for (const std::string& name : required) {
    if (table.column(name) < 0) missing.push_back(name);
  }
  if (missing.empty()) return true;
  std::vector<std::string> unread;
  for (const std::string& c : table.columns()) {
    const auto ours = [&](const ColumnAliases& k) { return c == k.ours; };
    if (std::none_of(known.begin(), known.end(), ours)) unread.push_back(c);
  }
  problems->AddFileProblem(
      table.path(), 1,
      MissingColumnsMessage(missing, table.columns(), option, GuessColumnMap(table.columns(), unread, known)));
  return false;
}

int TableReader::AddColumn(const std::string& key) {
  auto r = rename_.find(key);
  if (r != rename_.end()) r->second.seen = true;
  const std::string& name = r == rename_.end() ? key : r->second.name;
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int idx = static_cast<int>(columns_.size());
  columns_.push_back(name);
  index_.emplace(name, idx);
  return idx;
}

bool TableReader::Next(Row* row) {
  if (!header_ok_) return false;
  return format_ == TableFormat::kJsonl ? NextJson(row) : NextCsv(row);
}

bool TableReader::NextCsv(Row* row) {
  while (csv_->Next(&rec_)) {
    ++records_;
    if (!rec_.error.empty()) {
      problems_->Add(path_, rec_.line, rec_.error);
      continue;
    }
    if (rec_.fields.size() != columns_.size()) {
      // One field too many is most often a text with the separator in it,
      // written without quotes.
      const std::string hint = rec_.fields.size() > columns_.size()
                                   ? std::string(" (a field holding '") +
                                         (separator_ == '\t' ? "\\t" : std::string(1, separator_)) +
                                         "' must be in double quotes)"
                                   : "";
      problems_->Add(path_, rec_.line,
                     "expected " + std::to_string(columns_.size()) + " fields (as in the header), found " +
                         std::to_string(rec_.fields.size()) + hint);
      continue;
    }
    bool ok = true;
    for (size_t i = 0; i < rec_.fields.size() && ok; ++i) {
      size_t bad;
      if (!IsValidUtf8(rec_.fields[i], &bad)) {
        const std::string& name = columns_[i];
        problems_->Add(path_, rec_.line,
                       "field " + (name.empty() ? std::to_string(i + 1) : EscapeForMessage(name)) +
                           ": invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the field" +
                           EncodingHint(rec_.fields[i]));
        ok = false;
      }
    }
    if (!ok) continue;
    row->line = rec_.line;
    row->cells.resize(rec_.fields.size());
    for (size_t i = 0; i < rec_.fields.size(); ++i) {
      Cell& c = row->cells[i];
      c.kind = Cell::Kind::kText;
      c.text.swap(rec_.fields[i]);
      c.list.clear();
      c.decimal_comma = decimal_comma_;
    }
    return true;
  }
  return false;
}

// Once per file, with its first text that is not UTF-8: what the file looks
// like and the command that converts it.
std::string TableReader::EncodingHint(std::string_view text) {
  if (encoding_hinted_) return "";
  const std::string guess = GuessLegacyEncoding(text);
  if (guess.empty()) return "";
  encoding_hinted_ = true;
  return "; the file looks like " + guess +
         (guess == "GB18030" ? " (GBK, Chinese)"
          : guess == "Big5"  ? " (traditional Chinese)"
                             : "") +
         ": convert it with: " + ConvertCommand(guess, path_);
}

// Once per file, with its first line that is a Python dict rather than JSON
// ({'asin': '0001', ...}: the older Amazon metadata dumps were written so):
// the command that converts such a file.
std::string TableReader::PythonDictHint(std::string_view line) {
  if (python_hinted_ || Trim(line).substr(0, 2) != "{'") return "";
  python_hinted_ = true;
  const bool gz = path_.size() > 3 && path_.compare(path_.size() - 3, 3, ".gz") == 0;
  const std::string file = path_ == "-" ? "FILE" : ShellWord(path_);  // standard input: the file piped in
  return "; the line looks like a Python dict (single quotes), not JSON: convert the file with: " +
         std::string(gz ? "zcat " + file + " | " : "") +
         "python3 -c 'import ast, json, sys; [print(json.dumps(ast.literal_eval(l))) for l in sys.stdin if "
         "l.strip()]'" +
         (gz ? "" : " < " + file) + " > converted.jsonl";
}

bool TableReader::NextJson(Row* row) {
  using nlohmann::json;
  while (lines_->Next(&line_)) {
    const int64_t line = lines_->line_number();
    if (Trim(line_).empty()) continue;
    ++records_;
    size_t bad;
    if (!IsValidUtf8(line_, &bad)) {
      problems_->Add(path_, line,
                     "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line" + EncodingHint(line_));
      continue;
    }
    json obj;
    std::string error;
    if (!ParseJson(line_, &obj, &error)) {
      problems_->Add(path_, line, error + PythonDictHint(line_));
      continue;
    }
    if (!obj.is_object()) {
      problems_->Add(path_, line, "expected a JSON object, found " + JsonValueInWords(obj));
      continue;
    }
    row->line = line;
    for (int idx : row->set) {
      if (static_cast<size_t>(idx) < row->cells.size()) row->cells[idx].kind = Cell::Kind::kMissing;
    }
    row->set.clear();
    bool read_twice = false;
    for (auto it = obj.begin(); it != obj.end() && !read_twice; ++it) {
      int idx = AddColumn(it.key());
      if (static_cast<size_t>(idx) >= row->cells.size()) row->cells.resize(idx + 1);
      // The keys of one object are distinct; two of them meet in one cell
      // only when one is mapped to the other's name.
      if (!rename_.empty() && std::find(row->set.begin(), row->set.end(), idx) != row->set.end()) {
        problems_->Add(path_, line, ReadTwiceMessage(columns_[idx]));
        read_twice = true;
        continue;
      }
      row->set.push_back(idx);
      Cell& c = row->cells[idx];
      c.list.clear();
      const json& v = it.value();
      if (v.is_null()) {
        c.kind = Cell::Kind::kNull;
        c.text.clear();
      } else if (v.is_string()) {
        c.kind = Cell::Kind::kText;
        c.text = v.get<std::string>();
      } else if (v.is_number()) {
        c.kind = Cell::Kind::kNumber;
        c.number = v.get<double>();
        c.text = v.dump();
      } else if (v.is_boolean()) {
        c.kind = Cell::Kind::kBool;
        c.text = v.get<bool>() ? "true" : "false";
      } else if (v.is_array() && StringLeaves(v, &c.list)) {
        c.kind = Cell::Kind::kList;
        c.text.clear();
      } else {
        c.list.clear();
        c.kind = Cell::Kind::kOther;
        c.text = v.dump();
      }
    }
    if (read_twice) continue;
    return true;
  }
  return false;
}

// ---- typed access ---------------------------------------------------------------

namespace {

bool ReadDigits(std::string_view s, size_t* i, size_t n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

// One digit, or two: a month, day or hour as spreadsheets write them (2024/1/4 7:16).
bool ReadOneOrTwoDigits(std::string_view s, size_t* i, int* out) {
  const bool two = *i + 1 < s.size() && s[*i + 1] >= '0' && s[*i + 1] <= '9';
  return ReadDigits(s, i, two ? 2 : 1, out);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool IsDate(int y, int mo, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return mo >= 1 && mo <= 12 && d >= 1 && d <= kDays[mo - 1] + (mo == 2 && IsLeap(y) ? 1 : 0);
}

// YYYY-MM-DD (or YYYY/MM/DD, the date separator `sep`; months, days and
// hours may have one digit), then the time of day.
bool ParseIso8601(std::string_view s, char sep, int64_t* out) {
  size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!ReadDigits(s, &i, 4, &y) || i >= s.size() || s[i++] != sep) return false;
  if (!ReadOneOrTwoDigits(s, &i, &mo) || i >= s.size() || s[i++] != sep) return false;
  if (!ReadOneOrTwoDigits(s, &i, &d) || !IsDate(y, mo, d)) return false;
  int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    ++i;
    if (!ReadOneOrTwoDigits(s, &i, &h) || i >= s.size() || s[i++] != ':') return false;
    if (!ReadDigits(s, &i, 2, &mi)) return false;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!ReadDigits(s, &i, 2, &sec)) return false;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return false;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;
    if (i < s.size()) {
      char z = s[i];
      if (z == 'Z' || z == 'z') {
        ++i;
      } else if (z == '+' || z == '-') {
        ++i;
        int oh = 0, om = 0;
        if (!ReadDigits(s, &i, 2, &oh)) return false;
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && !ReadDigits(s, &i, 2, &om)) return false;
        if (oh > 23 || om > 59) return false;
        offset = (z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      } else {
        return false;
      }
    }
  }
  if (i != s.size()) return false;
  *out = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return true;
}

}  // namespace

std::string IsoDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

const char* TimestampUnitName(int64_t units_per_second) {
  return units_per_second == 1000 ? "milliseconds" : units_per_second == 1000000 ? "microseconds" : "seconds";
}

namespace {

// Reads eight digits YYYYMMDD forming a date of 1900-2199 as days since 1970.
bool ReadCompactDate(std::string_view s, int64_t* days) {
  size_t i = 0;
  int y = 0, mo = 0, d = 0;
  if (s.size() != 8 || !ReadDigits(s, &i, 4, &y) || !ReadDigits(s, &i, 2, &mo) || !ReadDigits(s, &i, 2, &d) ||
      y < 1900 || y >= 2200 || !IsDate(y, mo, d)) {
    return false;
  }
  *days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return true;
}

}  // namespace

bool IsCompactDate(std::string_view s) {
  int64_t days;
  return ReadCompactDate(Trim(s), &days);
}

bool ParseTimestamp(std::string_view s, int64_t* unix_seconds, int64_t units_per_second) {
  s = Trim(s);
  if (s.empty()) return false;
  const bool year_first = s.size() >= 8 && (s[4] == '-' || s[4] == '/') &&
                          std::all_of(s.begin(), s.begin() + 4, [](char c) { return c >= '0' && c <= '9'; });
  if (year_first) return ParseIso8601(s, s[4], unix_seconds);
  int64_t days;
  if (ReadCompactDate(s, &days)) {
    *unix_seconds = days * 86400;
    return true;
  }
  double v;
  if (!ParseFiniteDouble(s, &v)) return false;
  v = std::floor(v / static_cast<double>(units_per_second));
  if (v < static_cast<double>(kEarliestUnixSecond) || v > static_cast<double>(kLatestUnixSecond)) return false;
  *unix_seconds = static_cast<int64_t>(v);
  return true;
}

bool CellAsId(const Cell& c, std::string* out) {
  if (c.kind == Cell::Kind::kText) {
    *out = std::string(Trim(c.text));
    return true;
  }
  if (c.kind == Cell::Kind::kNumber && std::floor(c.number) == c.number &&
      c.text.find_first_of(".eE") == std::string::npos) {
    *out = c.text;
    return true;
  }
  return false;
}

bool CellAsNumber(const Cell& c, double* out) {
  if (c.kind == Cell::Kind::kNumber) {
    *out = c.number;
    return true;
  }
  if (c.kind != Cell::Kind::kText) return false;
  if (ParseFiniteDouble(c.text, out)) return true;
  if (!c.decimal_comma) return false;
  std::string s(Trim(c.text));
  const size_t comma = s.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == s.size() ||
      !std::isdigit(static_cast<unsigned char>(s[comma - 1])) ||
      !std::isdigit(static_cast<unsigned char>(s[comma + 1])) ||
      s.find_first_of(",.", comma + 1) != std::string::npos || s.find('.') != std::string::npos) {
    return false;
  }
  s[comma] = '.';
  return ParseFiniteDouble(s, out);
}

bool CellIsBlank(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::kMissing:
    case Cell::Kind::kNull:
      return true;
    case Cell::Kind::kText:
      return Trim(c.text).empty();
    case Cell::Kind::kList:
      return c.list.empty();
    default:
      return false;
  }
}

bool CellIsMissingMarker(const Cell& c) {
  if (c.kind != Cell::Kind::kText) return false;
  static const std::set<std::string_view> kMarkers = {"NA",   "N/A",  "n/a",  "#N/A", "#NA",
                                                      "<NA>", "NULL", "null", "None", "\\N"};
  return kMarkers.count(Trim(c.text)) != 0;
}

}  // namespace avrec
