#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/parallel.h"
#include "avrec/text.h"

namespace avrec {

namespace {

enum class Role { kUnknown, kId, kTitle, kTags, kDescription, kKind, kNumeric, kCategorical, kIgnored };

struct ColumnRole {
  Role role = Role::kUnknown;
  int feature = -1;  // index into numeric_columns / categorical_columns
};

std::string Prefix(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return "";
  return name.substr(0, dot);
}

std::string Shown(const std::string& s) { return EscapeForMessage(s, 40); }

bool IsNonFiniteSpelling(const std::string& s) {
  std::string low;
  for (char ch : Trim(s)) low += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!low.empty() && (low[0] == '+' || low[0] == '-')) low.erase(0, 1);
  if (low == "nan" || low == "inf" || low == "infinity") return true;
  // Numbers out of double range ("1e999") are non-finite too.
  return !low.empty() && (std::isdigit(static_cast<unsigned char>(low[0])) || low[0] == '.') &&
         low.find_first_not_of("0123456789.e+-") == std::string::npos;
}

std::vector<std::string> SplitTags(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    std::string_view t = Trim(std::string_view(s).substr(start, end - start));
    if (!t.empty()) out.emplace_back(t);
    start = end + 1;
  }
  return out;
}

}  // namespace

int ItemTable::Find(const std::string& item_id) const {
  auto it = index_.find(item_id);
  return it == index_.end() ? -1 : it->second;
}

namespace {

// The key of an id in IdLookalikes.
std::string FoldId(std::string_view id) {
  std::string s;
  for (char c : id) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto digits = [](std::string_view t) {
    return !t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const size_t dot = s.find('.');
  if (dot != std::string::npos && dot > 0 && digits(std::string_view(s).substr(0, dot)) && dot + 1 < s.size() &&
      s.find_first_not_of('0', dot + 1) == std::string::npos) {
    s.resize(dot);  // 123.0 -> 123
  }
  if (digits(s)) s.erase(0, std::min(s.find_first_not_of('0'), s.size() - 1));  // 00123 -> 123
  return s;
}

// Whether `s` holds a combining accent (U+0300-U+036F): decomposed Unicode.
bool HasCombiningAccent(const std::string& s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    const auto a = static_cast<unsigned char>(s[i]), b = static_cast<unsigned char>(s[i + 1]);
    if ((a == 0xCC && b >= 0x80) || (a == 0xCD && b <= 0xAF)) return true;
  }
  return false;
}

}  // namespace

IdLookalikes::IdLookalikes(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) by_fold_.emplace(FoldId(id), id);
}

std::string IdLookalikes::Hint(const std::string& id, const std::string& where) const {
  const auto it = by_fold_.find(FoldId(id));
  if (it == by_fold_.end() || it->second == id) {
    return HasCombiningAccent(id) ? "; it holds a combining accent (decomposed Unicode, NFD), and " + where +
                                        " may spell it composed (NFC): normalise both files to NFC"
                                  : "";
  }
  const std::string& theirs = it->second;
  const auto same_but_case = [&] {
    return theirs.size() == id.size() && std::equal(id.begin(), id.end(), theirs.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  const char* why = same_but_case() ? "ids are case-sensitive"
                    : id.find('.') != std::string::npos || theirs.find('.') != std::string::npos
                        ? "an integer id written as a decimal, as pandas writes a column of integers with gaps"
                        : "leading zeros differ: a spreadsheet drops them unless the column is text";
  return "; " + where + " have " + EscapeForMessage(theirs) + " (" + why + ")";
}

std::string ItemTable::WhyUnknown(const std::string& item_id, const std::string& where,
                                  const IdLookalikes* among) const {
  if (Find(item_id) >= 0) return "";
  const auto it = rejected.find(item_id);
  if (it != rejected.end()) {
    return "is not among " + where + ": its row (" + path + ":" + std::to_string(it->second) + ") is invalid";
  }
  if (among == nullptr) {
    if (!lookalikes_) {
      std::vector<std::string> ids;
      ids.reserve(items.size());
      for (const Item& item : items) ids.push_back(item.item_id);
      lookalikes_ = std::make_shared<const IdLookalikes>(ids);
    }
    among = lookalikes_.get();
  }
  return "is not among " + where + among->Hint(item_id, where);
}

void ItemTable::BuildIndex() {
  index_.clear();
  for (size_t i = 0; i < items.size(); ++i) index_.emplace(items[i].item_id, static_cast<int>(i));
}

ItemTable ItemsOfReviews(const std::vector<Review>& reviews) {
  std::set<std::string> ids;
  for (const Review& r : reviews) ids.insert(r.item_id);
  ItemTable t;
  t.from_reviews = true;
  t.items.reserve(ids.size());
  for (const std::string& id : ids) {
    Item item;
    item.item_id = id;
    t.items.push_back(std::move(item));
  }
  t.records = static_cast<int64_t>(t.items.size());
  t.BuildIndex();
  return t;
}

namespace {

std::string ModalityOf(const std::string& name, const std::string& declared) {
  return !declared.empty() ? declared : !Prefix(name).empty() ? Prefix(name) : "other";
}

// A row as the first pass keeps it: only the cells it has, by column (a
// JSON Lines record names a few of the columns seen so far; kept whole, a
// file whose records each bring a key of their own would take memory in the
// square of its length).
struct KeptRow {
  int64_t line = 0;
  std::vector<std::pair<int, Cell>> cells;  // ascending column
};

KeptRow Keep(const Row& row) {
  KeptRow k;
  k.line = row.line;
  const auto keep = [&](int col) {
    if (row.at(col).kind != Cell::Kind::kMissing) k.cells.emplace_back(col, row.at(col));
  };
  if (row.set.empty()) {
    for (size_t col = 0; col < row.cells.size(); ++col) keep(static_cast<int>(col));
  } else {
    std::vector<int> set = row.set;
    std::sort(set.begin(), set.end());
    for (int col : set) keep(col);
  }
  return k;
}

// Per column: whether it has a non-blank value, and whether every one is
// text that is not a number (then an undeclared prefixed column holds
// categories, e.g. a colour name).
struct ColumnValues {
  bool any = false, all_text = true;
};

std::vector<ColumnValues> ValuesOfColumns(const std::vector<KeptRow>& rows, size_t columns) {
  std::vector<ColumnValues> out(columns);
  for (const KeptRow& r : rows) {
    for (const auto& [col, c] : r.cells) {
      if (CellIsBlank(c) || CellIsMissingMarker(c)) continue;
      ColumnValues& v = out[static_cast<size_t>(col)];
      double x;
      v.any = true;
      if (c.kind != Cell::Kind::kText || CellAsNumber(c, &x) || IsNonFiniteSpelling(c.text)) {
        v.all_text = false;
      }
    }
  }
  return out;
}

// The modality of a column named like a well-known audio or visual feature
// (Spotify's audio features; the seed's brightness and motion), or "".
// Columns such as key, mode or duration are left out: a key is a category,
// and a duration says little of how a song sounds.
std::string KnownFeatureModality(const std::string& name) {
  static const std::set<std::string> kAudio = {
      "danceability",     "energy",   "loudness", "speechiness", "acousticness",
      "instrumentalness", "liveness", "valence",  "tempo",       "bpm"};
  static const std::set<std::string> kVisual = {"brightness", "motion",   "colorfulness", "colourfulness",
                                                "saturation", "contrast", "sharpness"};
  std::string folded;
  for (char c : name) folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kAudio.count(folded) != 0 ? "audio" : kVisual.count(folded) != 0 ? "visual" : "";
}

ColumnRole AssignRole(const std::string& name, const ColumnValues& values, const ItemSchemaOptions& schema,
                      ItemTable* out) {
  ColumnRole r;
  const auto feature = [&](std::vector<FeatureColumn>* list, Role role, const std::string& modality) {
    r.role = role;
    r.feature = static_cast<int>(list->size());
    list->push_back({name, modality});
  };
  if (name == "item_id") {
    r.role = Role::kId;
  } else if (name == "title") {
    r.role = Role::kTitle;
  } else if (name == "tags") {
    r.role = Role::kTags;
  } else if (name == "description") {
    r.role = Role::kDescription;
  } else if (name == "kind") {
    r.role = Role::kKind;
  } else if (auto c = schema.categorical.find(name); c != schema.categorical.end()) {
    feature(&out->categorical_columns, Role::kCategorical, ModalityOf(name, c->second));
  } else if (auto n = schema.numeric.find(name); n != schema.numeric.end()) {
    feature(&out->numeric_columns, Role::kNumeric, ModalityOf(name, n->second));
  } else if (!Prefix(name).empty() && values.any && values.all_text) {
    feature(&out->categorical_columns, Role::kCategorical, Prefix(name));
    out->inferred_categorical.push_back(name);
  } else if (!Prefix(name).empty()) {
    feature(&out->numeric_columns, Role::kNumeric, Prefix(name));
  } else {
    r.role = Role::kIgnored;
    if (!name.empty()) out->ignored_columns.push_back(name);
    if (const std::string modality = KnownFeatureModality(name); !modality.empty() && values.any && !values.all_text) {
      out->feature_hint += (out->feature_hint.empty() ? "" : " ") + ShellWord(name + "=" + modality);
    }
  }
  return r;
}

using Complaint = std::function<void(const std::string&)>;

void ReadTextField(const Cell& c, const std::string& name, const Complaint& bad, std::string* dst) {
  if (CellIsBlank(c)) return;
  if (c.kind != Cell::Kind::kText) {
    bad("field " + EscapeForMessage(name) + ": expected text");
  } else {
    *dst = c.text;
  }
}

// Tags as the file lists them, each once (category paths share their roots).
void ReadTags(const Cell& c, char separator, const Complaint& bad, std::vector<std::string>* tags) {
  if (c.kind == Cell::Kind::kList) {
    for (const auto& t : c.list) {
      if (!Trim(t).empty()) tags->emplace_back(Trim(t));
    }
  } else if (!CellIsBlank(c)) {
    if (c.kind != Cell::Kind::kText) {
      bad("field 'tags': expected text or a list of strings (nested lists of strings are read in order)");
    } else {
      *tags = SplitTags(c.text, separator);
    }
  }
  std::unordered_set<std::string> seen;
  tags->erase(std::remove_if(tags->begin(), tags->end(), [&](const std::string& t) { return !seen.insert(t).second; }),
              tags->end());
}

void ReadNumber(const Cell& c, const std::string& name, const Complaint& bad, double* dst) {
  double v;
  if (CellIsBlank(c) || CellIsMissingMarker(c)) return;  // missing: stays NaN, imputed by the feature stage
  if (CellAsNumber(c, &v)) {
    *dst = v;
  } else {
    std::string msg = "field " + EscapeForMessage(name) + ": expected a finite number, got " + Shown(c.text);
    if (c.kind == Cell::Kind::kText && !IsNonFiniteSpelling(c.text)) {
      msg += " (if this column holds categories, declare it categorical)";
    }
    bad(msg);
  }
}

void ReadCategory(const Cell& c, const std::string& name, const Complaint& bad, std::string* dst) {
  if (CellIsBlank(c)) return;
  if (c.kind == Cell::Kind::kText || c.kind == Cell::Kind::kNumber || c.kind == Cell::Kind::kBool) {
    *dst = std::string(Trim(c.text));
  } else {
    bad("field " + EscapeForMessage(name) + ": expected a category (text)");
  }
}

// One row into *item; complaints go to `bad`. Returns whether it had an
// item_id field.
bool ReadItemRow(const KeptRow& row, const std::vector<std::string>& columns, const std::vector<ColumnRole>& roles,
                 const ItemSchemaOptions& schema, const Complaint& bad, Item* item) {
  bool has_id = false;
  for (const auto& [col, c] : row.cells) {
    const std::string& name = columns[static_cast<size_t>(col)];
    const ColumnRole& role = roles[static_cast<size_t>(col)];
    switch (role.role) {
      case Role::kId:
        if (c.kind == Cell::Kind::kMissing) break;
        has_id = true;
        if (!CellAsId(c, &item->item_id)) {
          bad("field 'item_id': expected a string id");
        } else if (item->item_id.empty()) {
          bad("field 'item_id' is empty");
        }
        break;
      case Role::kTitle:
        ReadTextField(c, name, bad, &item->title);
        break;
      case Role::kDescription:
        ReadTextField(c, name, bad, &item->description);
        break;
      case Role::kKind:
        ReadTextField(c, name, bad, &item->kind);
        break;
      case Role::kTags:
        ReadTags(c, schema.tag_separator, bad, &item->tags);
        break;
      case Role::kNumeric:
        ReadNumber(c, name, bad, &item->numeric[role.feature]);
        break;
      case Role::kCategorical:
        ReadCategory(c, name, bad, &item->categorical[role.feature]);
        break;
      default:
        break;
    }
  }
  return has_id;
}

// JSON Lines: columns first seen late are missing in earlier items; counts.
void FinishTable(int64_t records, ItemTable* out) {
  for (Item& item : out->items) {
    item.numeric.resize(out->numeric_columns.size(), std::numeric_limits<double>::quiet_NaN());
    item.categorical.resize(out->categorical_columns.size());
  }
  out->records = records;
  out->invalid = out->records - static_cast<int64_t>(out->items.size());
  out->missing_numeric = 0;
  for (const Item& item : out->items) {
    for (double v : item.numeric) out->missing_numeric += std::isnan(v) ? 1 : 0;
  }
  out->BuildIndex();
}

// Items are held as a table, items x columns: a JSON Lines file whose
// records keep bringing new keys (a key per item) grows it by the square of
// its length. Refused, naming the file and the last new key, before the
// table outgrows the budget, instead of being killed by the kernel.
void CheckTableFits(const std::string& path, const TableReader& table, int64_t line, size_t rows, double cells,
                    double budget) {
  const double columns = static_cast<double>(table.columns().size());
  const double bytes =
      cells * sizeof(Cell) + static_cast<double>(rows) * columns * (sizeof(double) + sizeof(std::string));
  if (budget <= 0 || bytes <= budget) return;
  const bool jsonl = table.format() == TableFormat::kJsonl;
  Fail(ExitCode::kDataErr, path, ":", line, ": ", rows, " items with ", table.columns().size(),
       jsonl ? " distinct keys (the latest " + EscapeForMessage(table.columns().back()) + ")" : std::string(" columns"),
       " would take more than a third of the ", MemoryText(budget * 3),
       " avrec may take (the machine's memory, its container's limit, or $AVREC_MEMORY_MB) as a table of items x "
       "columns",
       jsonl ? "; do most records bring keys of their own? Give every item the same feature keys (a key per tag "
               "belongs in 'tags')"
             : "");
}

// The names public catalogues give avrec's item columns (Amazon's asin,
// Spotify's id and name, MovieLens's movieId and genres).
const std::vector<ColumnAliases>& ItemAliases() {
  static const std::vector<ColumnAliases> aliases = {
      {"item_id",
       {"itemid", "item", "asin", "productid", "movieid", "trackid", "songid", "artistid", "albumid", "videoid",
        "mediaid", "bvid", "id", "uri"}},
      {"title", {"name", "trackname", "songname", "songtitle", "movietitle", "videotitle", "itemname", "productname"}},
      {"tags", {"genres", "genre", "categories", "keywords", "labels", "tag"}},
      {"description", {"overview", "summary", "desc", "about", "plot"}},
  };
  return aliases;
}

// Columns the options name that the file lacks (a misspelling, or a column
// the feed dropped): the run goes on without them, said. So are columns
// under other datasets' names (name for title).
void WarnOfAbsentColumns(const TableReader& table, const ItemSchemaOptions& schema, const ItemTable& out) {
  if (const std::string map = GuessColumnMap(table.columns(), out.ignored_columns, ItemAliases()); !map.empty()) {
    spdlog::warn("{}: columns that look like avrec's under other names are not read; --items-map {} reads them",
                 table.path(), ShellWord(map));
  }
  for (const auto& [ours, theirs] : table.UnseenRenames()) {
    spdlog::warn("{}: --items-map {}: the file has no column {}{}", table.path(),
                 EscapeForMessage(ours + "=" + theirs, 80), EscapeForMessage(theirs, 60),
                 UnreadColumnsHint(theirs, out.ignored_columns));
  }
  const auto declared = [&](const std::map<std::string, std::string>& columns, const char* option) {
    for (const auto& [name, modality] : columns) {
      if (table.column(name) < 0) {
        spdlog::warn("{}: {} {}: the file has no such column{}", table.path(), option, EscapeForMessage(name, 60),
                     UnreadColumnsHint(name, out.ignored_columns));
      }
    }
  };
  declared(schema.categorical, "--categorical");
  declared(schema.numeric, "--numeric");
  if (!out.feature_hint.empty()) {
    spdlog::warn(
        "{}: columns named like audio or visual features are not read (a feature column is named modality.name, "
        "or declared); --numeric {} reads them",
        table.path(), out.feature_hint);
  }
}

}  // namespace

ItemTable ReadItems(const std::string& path, const ItemSchemaOptions& schema, ProblemLog* problems) {
  ItemTable out;
  out.path = path;
  TableReader table(path, problems, schema.max_record_bytes, schema.columns, "--items-map");
  if (!table.header_ok()) return out;
  if (table.format() != TableFormat::kJsonl && table.column("item_id") < 0) {
    // The columns that would be read as nothing: no modality prefix, not
    // declared a feature.
    std::vector<std::string> unread;
    for (const std::string& name : table.columns()) {
      if (Prefix(name).empty() && schema.categorical.count(name) == 0 && schema.numeric.count(name) == 0) {
        unread.push_back(name);
      }
    }
    problems->AddFileProblem(path, 1,
                             MissingColumnsMessage({"item_id"}, table.columns(), "--items-map",
                                                   GuessColumnMap(table.columns(), unread, ItemAliases())));
    return out;
  }
  // Pass 1: read every row, so that column types can be decided from all values.
  std::vector<KeptRow> rows;
  const double budget = MemoryBytes() / 3;  // 0: unknown, no limit
  double cells = 0;
  for (Row row; table.Next(&row);) {
    rows.push_back(Keep(row));
    cells += static_cast<double>(rows.back().cells.size());
    CheckTableFits(path, table, rows.back().line, rows.size(), cells, budget);
  }
  std::vector<ColumnRole> roles;
  const std::vector<ColumnValues> values = ValuesOfColumns(rows, table.columns().size());
  for (size_t col = 0; col < table.columns().size(); ++col) {
    roles.push_back(AssignRole(table.columns()[col], values[col], schema, &out));
  }
  WarnOfAbsentColumns(table, schema, out);
  // Pass 2: convert and validate.
  std::unordered_map<std::string, int64_t> seen;
  for (const KeptRow& row : rows) {
    const size_t before = problems->count();
    const Complaint bad = [&](const std::string& msg) { problems->Add(path, row.line, msg); };
    Item item;
    item.line = row.line;
    item.numeric.assign(out.numeric_columns.size(), std::numeric_limits<double>::quiet_NaN());
    item.categorical.assign(out.categorical_columns.size(), "");
    if (!ReadItemRow(row, table.columns(), roles, schema, bad, &item)) bad("missing required field 'item_id'");
    if (problems->count() == before && !item.item_id.empty()) {
      auto [it, inserted] = seen.emplace(item.item_id, row.line);
      if (!inserted)
        bad("duplicate item_id " + EscapeForMessage(item.item_id) + " (first on line " + std::to_string(it->second) +
            ")");
    }
    if (problems->count() == before) {
      out.items.push_back(std::move(item));
    } else if (!item.item_id.empty()) {
      out.rejected.emplace(item.item_id, row.line);
    }
  }
  FinishTable(table.records_read(), &out);
  return out;
}

std::string ItemText(const Item& item) {
  std::string text = item.title;
  if (!item.tags.empty()) {
    if (!text.empty()) text += ". ";
    for (size_t i = 0; i < item.tags.size(); ++i) text += (i > 0 ? ", " : "") + item.tags[i];
  }
  if (!item.description.empty()) {
    if (!text.empty()) text += ". ";
    text += item.description;
  }
  return text;
}

}  // namespace avrec
