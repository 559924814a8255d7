// topk: exact cosine top-k for vectors the user brings.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <future>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "avrec/io.h"
#include "avrec/json_values.h"
#include "avrec/log.h"
#include "avrec/numeric.h"
#include "avrec/parallel.h"
#include "avrec/rank.h"
#include "avrec/table.h"
#include "avrec/text.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

struct Vectors {
  std::vector<std::string> ids;
  std::vector<int64_t> lines;      // of each row in its file
  std::vector<std::string> names;  // of the vector columns, from the header (none: JSON Lines without one)
  size_t width = 0;                // vector columns (JSON Lines without a header: of its first row; 0 without rows)
  std::vector<float> data;         // the rows, one after another
  RowMatrix m;                     // the same, once read
};

// Appends a row (its values read as doubles, kept as floats) to `out`, or
// reports why it cannot be used: a value beyond a float's range (one too
// small for a float is 0), a zero vector (its cosine is undefined), an empty
// or non-UTF-8 id. `shown(j)` names the j-th value and shows it as written,
// for messages.
void AddRow(const std::string& path, int64_t line, std::string_view id, const std::vector<double>& values,
            const std::function<std::string(size_t)>& shown, ProblemLog* problems, Vectors* out) {
  const auto problem = [&](const std::string& message) {
    problems->Add(path, line, message);
    return false;
  };
  const bool ok = [&] {
    double norm = 0;
    for (size_t j = 0; j < values.size(); ++j) {
      if (std::fabs(values[j]) > std::numeric_limits<float>::max()) {
        return problem(shown(j) + " is beyond a 32-bit float's range (about 3.4e38)");
      }
      const float v = static_cast<float>(values[j]);
      norm += static_cast<double>(v) * v;
    }
    if (norm == 0) return problem("zero vector: cosine similarity is undefined");
    size_t bad = 0;
    if (Trim(id).empty()) return problem("empty id");
    if (!IsValidUtf8(id, &bad)) {
      return problem("id: invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the field");
    }
    return true;
  }();
  if (!ok) return;
  for (double v : values) out->data.push_back(static_cast<float>(v));
  out->ids.emplace_back(Trim(id));
  out->lines.push_back(line);
}

// CSV or TSV: a header line, then id,v1,...,vd.
void ReadCsvVectors(ByteSource* src, TableFormat format, ProblemLog* problems, Vectors* out) {
  const std::string& path = src->path();
  CsvReader csv(src, format == TableFormat::kTsv ? '\t' : ',');
  CsvRecord rec;
  if (!csv.Next(&rec)) {
    problems->AddFileProblem(path, 1, "file is empty: expected a header line");
    return;
  }
  const size_t cols = rec.fields.size();
  if (cols < 2) {
    problems->AddFileProblem(path, rec.line, "header: expected an id column and at least one vector column");
    return;
  }
  out->width = cols - 1;
  const std::vector<std::string> header = rec.fields;
  for (size_t j = 1; j < cols; ++j) out->names.emplace_back(Trim(header[j]));
  const auto name_of = [&](size_t j) {
    return "column " + std::to_string(j + 2) + " (" + EscapeForMessage(header[j + 1], 30) + "): ";
  };
  csv.NameFields(rec.fields);
  std::vector<double> values;
  while (csv.Next(&rec)) {
    if (!rec.error.empty()) {
      problems->Add(path, rec.line, rec.error);
      continue;
    }
    if (rec.fields.size() != cols) {
      problems->Add(path, rec.line,
                    "expected " + std::to_string(cols) + " fields (as in the header), found " +
                        std::to_string(rec.fields.size()));
      continue;
    }
    values.assign(cols - 1, 0.0);
    size_t j = 0;
    while (j < values.size() && ParseFiniteDouble(rec.fields[j + 1], &values[j])) ++j;
    if (j < values.size()) {
      problems->Add(path, rec.line,
                    name_of(j) + "expected a finite number, got " + EscapeForMessage(Trim(rec.fields[j + 1]), 30));
      continue;
    }
    const auto shown = [&](size_t j) { return name_of(j) + EscapeForMessage(Trim(rec.fields[j + 1]), 30); };
    AddRow(path, static_cast<int64_t>(rec.line), rec.fields[0], values, shown, problems, out);
  }
}

// The first of `keys` that `j` has, or nullptr.
const nlohmann::json* Member(const nlohmann::json& j, std::initializer_list<const char*> keys, const char** key) {
  for (const char* k : keys) {
    if (auto it = j.find(k); it != j.end()) {
      *key = k;
      return &*it;
    }
  }
  return nullptr;
}

// JSON Lines, as `avrec embed` writes them: {"id": ..., "embedding": [...]}
// per line (the id may be named user_id or item_id, the vector "vector");
// an optional first line {"header": {"columns": [...]}} names the columns.
void ReadJsonVectors(ByteSource* src, ProblemLog* problems, Vectors* out) {
  const std::string& path = src->path();
  bool first = true;
  std::vector<double> values;
  ReadJsonValues(
      src, "", nullptr,
      [&](JsonValueRead&& v) {
        const nlohmann::json& j = v.value;
        const int64_t line = v.first_line;
        const bool header = first && j.is_object() && j.contains("header");
        first = false;
        if (header) {
          const nlohmann::json& h = j["header"];
          if (!h.is_object() || !h.contains("columns") || !h["columns"].is_array() || h["columns"].empty()) {
            problems->AddFileProblem(path, line,
                                     "header: expected {\"header\": {\"columns\": [names of the vector columns]}}");
            return;
          }
          for (const auto& c : h["columns"]) out->names.push_back(c.is_string() ? c.get<std::string>() : c.dump());
          out->width = out->names.size();
          return;
        }
        const char *id_key = "", *vector_key = "";
        const nlohmann::json* id = j.is_object() ? Member(j, {"id", "user_id", "item_id"}, &id_key) : nullptr;
        const nlohmann::json* vec = j.is_object() ? Member(j, {"embedding", "vector"}, &vector_key) : nullptr;
        std::string id_text;
        if (id == nullptr || !(id->is_string() || id->is_number_integer())) {
          problems->Add(path, line,
                        "expected an object with an id (\"id\", a string) and a vector (\"embedding\" or \"vector\", a "
                        "list of numbers)");
          return;
        }
        id_text = id->is_string() ? id->get<std::string>() : id->dump();
        if (vec == nullptr || !vec->is_array() || vec->empty()) {
          problems->Add(
              path, line,
              std::string("field '") + (vec == nullptr ? "embedding" : vector_key) + "': expected a list of numbers");
          return;
        }
        if (out->width == 0) out->width = vec->size();
        if (vec->size() != out->width) {
          problems->Add(path, line,
                        std::string("field '") + vector_key + "': expected " + std::to_string(out->width) +
                            " numbers (" + (out->names.empty() ? "as the first row" : "as the header's columns") +
                            "), found " + std::to_string(vec->size()));
          return;
        }
        values.assign(out->width, 0.0);
        for (size_t k = 0; k < values.size(); ++k) {
          if (!(*vec)[k].is_number()) {
            problems->Add(path, line,
                          std::string("field '") + vector_key + "'[" + std::to_string(k) +
                              "]: expected a number, got " + EscapeForMessage((*vec)[k].dump(), 30));
            return;
          }
          values[k] = (*vec)[k].get<double>();
        }
        const auto shown = [&](size_t k) {
          return std::string("field '") + vector_key + "'[" + std::to_string(k) + "]: " + (*vec)[k].dump();
        };
        AddRow(path, line, id_text, values, shown, problems, out);
      },
      kDefaultMaxRecordBytes);
}

// The vectors of a CSV or TSV (by name, else by content) or JSON Lines file.
Vectors ReadVectors(const std::string& path, ProblemLog* problems) {
  const std::optional<TableFormat> named = TableFormatFromName(path);
  ByteSource src(path);
  const TableFormat format = named ? *named : SniffTableFormat(&src);
  Vectors out;
  if (format == TableFormat::kJsonl) {
    ReadJsonVectors(&src, problems, &out);
  } else {
    ReadCsvVectors(&src, format, problems, &out);
  }
  out.m = Eigen::Map<RowMatrix>(out.data.data(), static_cast<Eigen::Index>(out.ids.size()),
                                static_cast<Eigen::Index>(out.width));
  std::vector<float>().swap(out.data);
  return out;
}

// The rows' positions in id order; a repeated id is reported on the line
// that repeats it.
std::vector<size_t> IdOrder(const Vectors& v, const std::string& path, const char* what, ProblemLog* problems) {
  std::vector<size_t> order(v.ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.ids[a] < v.ids[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    if (v.ids[order[k]] == v.ids[order[k - 1]]) {
      problems->Add(path, v.lines[order[k]],
                    std::string("duplicate ") + what + " id " + EscapeForMessage(v.ids[order[k]]) + " (first on line " +
                        std::to_string(v.lines[order[k - 1]]) + ")");
    }
  }
  return order;
}

// The items' vector columns in the users' order where the two headers name
// the same columns in another order (one export's column order changed);
// columns named otherwise are matched by position, with a warning.
void MatchColumnsByName(const Vectors& users, const std::string& users_path, Vectors* items,
                        const std::string& items_path) {
  if (users.names == items->names || users.names.size() != items->names.size() || users.names.empty()) return;
  std::vector<std::string> a = users.names, b = items->names;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (a != b || std::adjacent_find(a.begin(), a.end()) != a.end()) {
    size_t k = 0;
    while (users.names[k] == items->names[k]) ++k;
    spdlog::warn("{}: vector column {} is {}, and {}'s is {}: the columns are matched by position, not by name",
                 items_path, k + 2, EscapeForMessage(items->names[k], 40), users_path,
                 EscapeForMessage(users.names[k], 40));
    return;
  }
  RowMatrix m(items->m.rows(), items->m.cols());
  for (size_t j = 0; j < users.names.size(); ++j) {
    const auto at = std::find(items->names.begin(), items->names.end(), users.names[j]) - items->names.begin();
    m.col(static_cast<Eigen::Index>(j)) = items->m.col(at);
  }
  items->m = std::move(m);
  items->names = users.names;
  spdlog::info("{}: the vector columns are those of {} in another order: matched by name", items_path, users_path);
}

// Both files, parsed at once: the items' problems are reported after the
// users', as if read one after the other; then whether their vector columns
// agree.
void ReadBoth(const TopKCommand& o, ProblemLog* problems, Vectors* users, Vectors* items) {
  std::vector<Problem> item_problems;
  ProblemLog item_log(SIZE_MAX, [&](const Problem& p) { item_problems.push_back(p); });
  auto items_read = std::async(std::launch::async, [&] { return ReadVectors(o.items, &item_log); });
  *users = ReadVectors(o.users, problems);
  *items = items_read.get();
  // A problem with the items' header is the only one of that file.
  for (const Problem& p : item_problems) {
    if (item_log.file_problems() > 0) {
      problems->AddFileProblem(p.path, p.line, p.message);
    } else {
      problems->Add(p.path, p.line, p.message);
    }
  }
  if (problems->count() > 0) return;
  if (users->width != items->width && users->width > 0 && items->width > 0) {
    problems->AddFileProblem(o.items, 1,
                             "vectors have " + CountOf(static_cast<int64_t>(items->width), "dimension") +
                                 ", the users' have " + std::to_string(users->width) +
                                 ": both files need the same vector columns");
    return;
  }
  MatchColumnsByName(*users, o.users, items, o.items);
}

void AppendScore(std::string* out, double x) {
  char buf[32];
  const double r = RoundDecimals(x, 7);
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, r);
  out->append(buf, p);
}

}  // namespace

void TopKCommand::Describe(OptionSet* s) {
  s->AddPath("--users", "", &users,
             "CSV or TSV: header, then id,v1,...,vd per user; or JSON Lines as `avrec embed` writes them: "
             "{\"id\": ..., \"embedding\": [...]}");
  s->AddPath("--items", "", &items, "The same per item; columns the users' header names too are matched by name");
  s->AddPath("--out,-o", "", &out, "JSON Lines output: {\"id\": ..., \"items\": [{\"item_id\": ..., \"score\": ...}]}");
  s->AddNumber("--k", "", &k, {1, 2147483647}, "Items per user (more than the items: all of them)");
  s->AddNumber("--threads", "", &threads, {0, 2147483647},
               "Worker threads (0: all cores); output does not depend on it");
  s->AddNumber("--block-users", "", &block_users, {1, 1e6}, "Users per block (memory: this x items floats per thread)");
}

int RunTopK(const TopKCommand& o) {
  if (o.users.empty() || o.items.empty() || o.out.empty())
    Fail(ExitCode::kUsage, "topk: give --users, --items and --out");
  WarnIfNamedForAnotherFormat(o.out, "topk");
  const auto t0 = std::chrono::steady_clock::now();
  ProblemLog problems(100, PrintProblem);
  Vectors users, items;
  ReadBoth(o, &problems, &users, &items);
  // Items in id order (ties are broken by item id); a repeated id, of an item
  // or of a user (whose lines would be told apart by nothing), is an error.
  IdOrder(users, o.users, "user", &problems);
  const std::vector<size_t> order = IdOrder(items, o.items, "item", &problems);
  FailOnInvalidRows(problems, "topk", "", /*max_errors_option=*/false);
  RowMatrix sorted(items.m.rows(), items.m.cols());
  std::vector<std::string> escaped(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    sorted.row(static_cast<Eigen::Index>(k)) = items.m.row(static_cast<Eigen::Index>(order[k]));
    escaped[k] = nlohmann::json(items.ids[order[k]]).dump();
  }
  const double t_read = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  CosineSource source(users.m, sorted);
  TopKOptions to;
  to.k = o.k;
  to.block_users = o.block_users;
  to.threads = ResolveThreads(o.threads);
  AtomicFile out(o.out);
  std::string buf;
  const std::vector<int> none;
  SelectTopKText(
      source, to, [&](int) -> const std::vector<int>& { return none; },
      [&](int u, const std::vector<Scored>& best, std::string* line) {
        *line += "{\"id\":";
        *line += nlohmann::json(users.ids[static_cast<size_t>(u)]).dump();
        *line += ",\"items\":[";
        for (size_t r = 0; r < best.size(); ++r) {
          if (r > 0) *line += ',';
          *line += "{\"item_id\":";
          *line += escaped[static_cast<size_t>(best[r].item)];
          *line += ",\"score\":";
          AppendScore(line, best[r].score);
          *line += '}';
        }
        *line += "]}\n";
      },
      [&](const std::string& text) {
        buf += text;
        if (buf.size() > (1 << 22)) {
          out.Write(buf);
          buf.clear();
        }
      });
  out.Write(buf);
  out.Commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double pairs = static_cast<double>(users.ids.size()) * static_cast<double>(items.ids.size());
  spdlog::info(
      "topk: {} users x {} items x {} dims, k = {}, kernel {}: read {:.2f} s, total {:.2f} s, {:.3g} pairs/s scoring",
      users.ids.size(), items.ids.size(), items.m.cols(), o.k, CosineKernelName(), t_read, secs,
      pairs / std::max(1e-9, secs - t_read));
  return 0;
}

}  // namespace avrec::cli
