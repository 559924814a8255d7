#include <cmath>
#include <unordered_map>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/hash.h"

namespace avrec {

namespace {

constexpr const char* kRequired[] = {"user_id", "item_id", "text"};

std::string Shown(const Cell& c) {
  std::string s = c.kind == Cell::Kind::kText ? c.text : c.text;
  if (s.size() > 40) s = s.substr(0, 40) + "...";
  for (char& ch : s) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  return "'" + s + "'";
}

const char* KindName(Cell::Kind k) {
  switch (k) {
    case Cell::Kind::kNumber: return "a number";
    case Cell::Kind::kBool: return "a boolean";
    case Cell::Kind::kList: return "a list";
    case Cell::Kind::kOther: return "an object or a list";
    case Cell::Kind::kNull: return "null";
    default: return "text";
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

ReviewStats ReadReviews(const std::string& path, const ReviewReadOptions& options, ProblemLog* problems,
                        const std::function<void(Review&&)>& sink) {
  ReviewStats stats;
  TableReader table(path, problems);
  if (!table.header_ok()) return stats;
  const bool is_json = table.format() == TableFormat::kJsonl;
  if (!is_json) {
    for (const char* name : kRequired) {
      if (table.column(name) < 0) {
        std::string cols;
        for (const auto& c : table.columns()) cols += (cols.empty() ? "" : ", ") + c;
        problems->Add(path, 1, std::string("missing required column '") + name + "' (the header has: " + cols + ")");
        return stats;
      }
    }
  }
  std::unordered_map<std::string, int64_t> seen;  // review_id -> line
  Row row;
  while (table.Next(&row)) {
    ++stats.records;
    Review r;
    r.line = row.line;
    size_t before = problems->count();
    const auto bad = [&](const std::string& msg) { problems->Add(path, row.line, msg); };
    const auto id_field = [&](const char* name, std::string* out) {
      const Cell& c = row.at(table.column(name));
      if (c.kind == Cell::Kind::kMissing) {
        bad(std::string("missing required field '") + name + "'");
      } else if (!CellAsId(c, out)) {
        bad(std::string("field '") + name + "': expected a string id, found " + KindName(c.kind));
      } else if (out->empty()) {
        bad(std::string("field '") + name + "' is empty");
      }
    };
    id_field("user_id", &r.user_id);
    id_field("item_id", &r.item_id);

    const Cell& text = row.at(table.column("text"));
    if (text.kind == Cell::Kind::kMissing) {
      bad("missing required field 'text'");
    } else if (text.kind == Cell::Kind::kNull) {
      if (!options.allow_empty_text) bad("field 'text' is null (expected the review text)");
    } else if (text.kind != Cell::Kind::kText) {
      bad(std::string("field 'text': expected a string, found ") + KindName(text.kind));
    } else {
      r.text = text.text;
      if (!options.allow_empty_text && Trim(r.text).empty()) {
        bad("field 'text' is empty (use --allow-empty-text to accept such reviews; they score neutral)");
      }
    }

    const Cell& rating = row.at(table.column("rating"));
    if (!CellIsBlank(rating)) {
      double v;
      if (rating.kind == Cell::Kind::kNumber) {
        r.rating = rating.number;
      } else if (rating.kind == Cell::Kind::kText && ParseFiniteDouble(rating.text, &v)) {
        r.rating = v;
      } else {
        bad("field 'rating': expected a finite number, got " + Shown(rating));
      }
    }

    const Cell& ts = row.at(table.column("timestamp"));
    if (!CellIsBlank(ts)) {
      int64_t t;
      if (ts.kind == Cell::Kind::kNumber && std::isfinite(ts.number) && std::fabs(ts.number) < 1e13) {
        r.timestamp = static_cast<int64_t>(std::floor(ts.number));
      } else if (ts.kind == Cell::Kind::kText && ParseTimestamp(ts.text, &t)) {
        r.timestamp = t;
      } else {
        bad("field 'timestamp': expected Unix seconds or an ISO 8601 date-time, got " + Shown(ts));
      }
    }

    const Cell& rid = row.at(table.column("review_id"));
    if (!CellIsBlank(rid)) {
      if (!CellAsId(rid, &r.review_id)) {
        bad(std::string("field 'review_id': expected a string id, found ") + KindName(rid.kind));
      }
    }

    if (problems->count() == before && options.known_item && !options.known_item(r.item_id)) {
      bad("item_id '" + r.item_id + "' is not among the items");
    }
    if (problems->count() != before) {
      ++stats.invalid;
      continue;
    }
    if (r.review_id.empty()) {
      r.review_id = DeriveReviewId(r);
      r.derived_id = true;
    }
    auto [it, inserted] = seen.emplace(r.review_id, r.line);
    if (!inserted) {
      if (r.derived_id) {
        ++stats.duplicates;
      } else {
        bad("duplicate review_id '" + r.review_id + "' (first on line " + std::to_string(it->second) + ")");
        ++stats.invalid;
      }
      continue;
    }
    ++stats.valid;
    sink(std::move(r));
  }
  // Rows the table reader rejected (quoting, field count, UTF-8) count too.
  stats.records = table.records_read();
  stats.invalid = stats.records - stats.valid - stats.duplicates;
  return stats;
}

}  // namespace avrec
