#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/json_values.h"
#include "avrec/log.h"
#include "avrec/output.h"
#include "avrec/problem.h"
#include "avrec/table.h"
#include "avrec/text.h"

namespace avrec {

int64_t RecommendationLists::TopN() const {
  const auto it = header.find("top_n");
  if (it == header.end() || !it->is_number_integer()) return 0;
  return std::max<int64_t>(0, it->get<int64_t>());
}

std::unordered_map<std::string, std::vector<std::string>> RecommendationLists::Items() && {
  // Moved over a user at a time: the lists of a night are not held twice.
  std::unordered_map<std::string, std::vector<std::string>> out;
  out.reserve(lists.size());
  while (!lists.empty()) {
    auto node = lists.extract(lists.begin());
    auto& items = out[std::move(node.key())];
    items.reserve(node.mapped().size());
    for (auto& [i, s] : node.mapped()) items.push_back(std::move(i));
  }
  return out;
}

namespace {

// A user given more than one list (two nights' files concatenated, or a
// writer with a bug): the later list is read, and the file's reader says so
// once, with the first such user and where both of its lists are.
struct RepeatedUsers {
  std::unordered_set<std::string> users;  // listed more than once: usually none
  std::string example;                    // "'u1' at path:1, then path:7"
  // Each user's place in the file's order, built at the first repeat (a
  // search of the users for every repeat of a million took hours).
  std::unordered_map<std::string, size_t> place;
};

// Where a user's record is, for messages: "path:line", and for the i-th
// user of a document's list (i >= 0) "path:line: users[i]".
std::string WhereAt(const std::string& path, int64_t line, int64_t i) {
  return path + ":" + std::to_string(line) + (i >= 0 ? ": users[" + std::to_string(i) + "]" : "");
}

// With `users`, the whole list too, parallel to out->users (beyond the
// first `whole_users`, without the words: see ReadRecommendationLists);
// `first_at` holds the line each user's record starts on, parallel to
// out->users too.
void AddUser(const std::string& path, int64_t line, int64_t index, const nlohmann::json& u, RecommendationLists* out,
             std::vector<UserRecommendations>* users, size_t whole_users, std::vector<int64_t>* first_at,
             RepeatedUsers* repeated) {
  const std::string where = WhereAt(path, line, index);
  // `avrec topk` names the user "id": its lists are read as well.
  const bool topk = u.is_object() && !u.contains("user_id") && u.contains("id");
  const char* user_key = topk ? "id" : "user_id";
  if (!u.is_object() || !u.contains(user_key) || !u[user_key].is_string() || !u.contains("items") ||
      !u["items"].is_array()) {
    Fail(ExitCode::kDataErr, where, ": expected a user object with user_id (or id, as topk writes) and items");
  }
  std::vector<std::pair<std::string, double>> items;
  for (const auto& it : u["items"]) {
    if (!it.is_object() || !it.contains("item_id") || !it["item_id"].is_string()) {
      Fail(ExitCode::kDataErr, where, ": expected items with a string item_id");
    }
    const double score = it.contains("score") && it["score"].is_number() ? it["score"].get<double>() : 0.0;
    items.emplace_back(it["item_id"].get<std::string>(), score);
  }
  const std::string user = u[user_key].get<std::string>();
  const bool seen = out->lists.count(user) != 0;
  size_t at = out->users.size();
  if (!seen) {
    out->users.push_back(user);
    first_at->push_back(line);
    if (!repeated->place.empty()) repeated->place.emplace(user, at);
  } else {
    if (repeated->place.empty()) {
      for (size_t i = 0; i < out->users.size(); ++i) repeated->place.emplace(out->users[i], i);
    }
    at = repeated->place.at(user);
    if (repeated->users.insert(user).second && repeated->users.size() == 1) {
      repeated->example =
          EscapeForMessage(user) + " at " + WhereAt(path, (*first_at)[at], -1) + ", then " + WhereAt(path, line, -1);
    }
  }
  out->lists[user] = std::move(items);
  if (users == nullptr) return;
  if (topk) {
    Fail(ExitCode::kDataErr, where,
         ": a list as `avrec topk` writes it (a user's \"id\", no flags or reasons); this "
         "needs the lists `avrec recommend` writes");
  }
  UserRecommendations whole;
  try {
    whole = UserFromJson(u);
  } catch (const Error& e) {
    Fail(ExitCode::kDataErr, where, ": user ", EscapeForMessage(user), ": ", e.what());
  }
  if (at >= whole_users) {  // swapped out, not cleared: a cleared string keeps its buffer
    std::string().swap(whole.low_confidence_reason);
    for (RecommendedItem& it : whole.items) {
      std::vector<Reason>().swap(it.reasons);
      std::string().swap(it.title);
      std::string().swap(it.explanation);
    }
  }
  if (!seen) {
    users->push_back(std::move(whole));
  } else {
    (*users)[at] = std::move(whole);
  }
}

// A field of `j` of the type `check` accepts; Error(kDataErr) naming it.
const nlohmann::json& Field(const nlohmann::json& j, const char* name, bool (nlohmann::json::*check)() const) {
  if (!j.is_object() || !j.contains(name) || !(j[name].*check)()) {
    Fail(ExitCode::kDataErr, "recommendation: field '", name, "' missing or of the wrong type");
  }
  return j[name];
}

// An id as --spreadsheet-safe wrote it ("'=x", "'-1") back as it was;
// whether it was one.
bool UndoSpreadsheetSafe(std::string* id) {
  if (id->size() < 2 || (*id)[0] != '\'' || kFormulaLeads.find((*id)[1]) == std::string_view::npos) return false;
  id->erase(0, 1);
  return true;
}

// The format of a lists file that is a table (CSV or TSV: its first line,
// blanks and a byte order mark aside, begins with neither '{' nor '['),
// or nothing for JSON. By the name where it says CSV or TSV, else by the
// content.
std::optional<TableFormat> FlatListsFormat(ByteSource* src) {
  std::string_view first = src->PeekLine(size_t{1} << 20);
  if (first.substr(0, 3) == "\xEF\xBB\xBF") first.remove_prefix(3);
  first = Trim(first);
  if (first.empty() || first[0] == '{' || first[0] == '[') return std::nullopt;
  const std::optional<TableFormat> named = TableFormatOfExtension(src->path());
  if (named && *named != TableFormat::kJsonl) return named;
  return SniffTableFormat(first);
}

// The lists of `recommend --format csv|tsv`, one row per user and rank, or
// any table with user_id and item_id columns (rank and score optional).
void ReadFlatLists(std::unique_ptr<ByteSource> src, TableFormat format, RecommendationLists* out) {
  const std::string path = src->path();
  ProblemLog problems(100, PrintProblem);
  TableReader t(std::move(src), format, &problems);
  if (t.header_ok() && !HeaderHasColumns(t, {"user_id", "item_id"}, {}, "", &problems)) {
    FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
  }
  struct Entry {
    int64_t rank, line;
    std::string item;
    double score;
  };
  std::unordered_map<std::string, std::vector<Entry>> rows;
  const int rank_column = t.column("rank"), score_column = t.column("score");
  int64_t undone = 0;
  Row row;
  while (t.Next(&row)) {
    std::string user, item;
    double rank = static_cast<double>(row.line), score = 0;
    if (!CellAsId(row.at(t.column("user_id")), &user) || user.empty() ||
        !CellAsId(row.at(t.column("item_id")), &item) || item.empty()) {
      problems.Add(path, row.line, "expected non-empty user_id and item_id");
    } else if (user == "user_id" && item == "item_id") {
      problems.Add(path, row.line, "the header line again: two files concatenated?");
    } else if (rank_column >= 0 &&
               (!CellAsNumber(row.at(rank_column), &rank) || rank < 1 || rank > 1e15 || rank != std::floor(rank))) {
      problems.Add(path, row.line, "field 'rank': expected a whole number from 1");
    } else if (score_column >= 0 && !CellIsBlank(row.at(score_column)) && !CellAsNumber(row.at(score_column), &score)) {
      problems.Add(path, row.line, "field 'score': expected a number");
    } else {
      undone += UndoSpreadsheetSafe(&user) + UndoSpreadsheetSafe(&item);
      auto [it, fresh] = rows.try_emplace(user);
      if (fresh) out->users.push_back(user);
      it->second.push_back({static_cast<int64_t>(rank), row.line, std::move(item), score});
    }
  }
  FailOnInvalidRows(problems, path, "", /*max_errors_option=*/false);
  for (const std::string& user : out->users) {
    std::vector<Entry>& entries = rows[user];
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
    auto& list = out->lists[user];
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0 && entries[i].rank == entries[i - 1].rank) {
        Fail(ExitCode::kDataErr, path, ":", std::max(entries[i].line, entries[i - 1].line), ": user ",
             EscapeForMessage(user), " has rank ", entries[i].rank, " twice (also at line ",
             std::min(entries[i].line, entries[i - 1].line), "): two lists concatenated?");
      }
      list.emplace_back(std::move(entries[i].item), entries[i].score);
    }
  }
  if (undone > 0) {
    spdlog::warn(
        "{}: {} begin with a ' before = + - @, a tab or a CR, as --spreadsheet-safe writes them: read without the '",
        path, CountOf(undone, "id cell"));
  }
}

// The lists as JSON: one document with a "users" list, or JSON Lines.
void ReadJsonLists(ByteSource* src, std::vector<UserRecommendations>* users, size_t whole_users,
                   RecommendationLists* out) {
  const std::string& path = src->path();
  std::vector<int64_t> first_at;
  RepeatedUsers repeated;
  const auto listed = [&](int64_t i, int64_t line, nlohmann::json&& u) {
    AddUser(path, line, i, u, out, users, whole_users, &first_at, &repeated);
  };
  const auto value = [&](JsonValueRead&& v) {
    const nlohmann::json& j = v.value;
    const bool object = j.is_object();
    if (object && j.contains("users") && !v.streamed)
      Fail(ExitCode::kDataErr, path, ": field 'users': expected a list");
    if (object && j.contains("header") && (v.streamed || !j.contains("user_id"))) {
      out->header = j["header"];
      return;
    }
    if (v.streamed) return;
    if (v.last_line > v.first_line && !(object && j.contains("user_id"))) {
      Fail(ExitCode::kDataErr, path, ":", v.first_line,
           ": a JSON document without a 'users' list (expected avrec's recommendations: one JSON document, or JSON "
           "Lines, one user per line)");
    }
    AddUser(path, v.first_line, -1, j, out, users, whole_users, &first_at, &repeated);
  };
  // Without `users`, the words (most of a night's bytes) are checked as
  // JSON and not kept: an item's reasons, explanation and title, a user's
  // low-confidence reason.
  const auto ids_and_scores = [](size_t depth, const std::string& key) {
    if (depth == 0) return key != "low_confidence_reason";
    return depth != 2 || (key != "reasons" && key != "explanation" && key != "title");
  };
  ReadJsonValues(src, "users", listed, value, kDefaultMaxRecordBytes,
                 users == nullptr ? std::function<bool(size_t, const std::string&)>(ids_and_scores) : nullptr);
  if (!repeated.users.empty()) {
    const size_t n = repeated.users.size();
    spdlog::warn(
        "{}: {} user{} more than one list (user {}, for one: two files concatenated?); each user's last list is "
        "the one read",
        path, n, n == 1 ? " has" : "s have", repeated.example);
  }
}

}  // namespace

UserRecommendations UserFromJson(const nlohmann::json& j) {
  using J = nlohmann::json;
  UserRecommendations u;
  u.user_id = Field(j, "user_id", &J::is_string).get<std::string>();
  u.cold_start = Field(j, "cold_start", &J::is_boolean).get<bool>();
  u.history = Field(j, "history", &J::is_number_integer).get<int>();
  if (j.contains("language")) u.language = Field(j, "language", &J::is_string).get<std::string>();
  if (j.contains("low_confidence")) {
    u.low_confidence = Field(j, "low_confidence", &J::is_boolean).get<bool>();
    u.low_confidence_reason = Field(j, "low_confidence_reason", &J::is_string).get<std::string>();
  }
  for (const J& x : Field(j, "items", &J::is_array)) {
    RecommendedItem it;
    it.item_id = Field(x, "item_id", &J::is_string).get<std::string>();
    it.rank = Field(x, "rank", &J::is_number_integer).get<int>();
    it.score = Field(x, "score", &J::is_number).get<double>();
    if (x.contains("title")) it.title = Field(x, "title", &J::is_string).get<std::string>();
    if (x.contains("explanation")) it.explanation = Field(x, "explanation", &J::is_string).get<std::string>();
    for (const J& y : Field(x, "reasons", &J::is_array)) {
      Reason r;
      r.kind = Field(y, "kind", &J::is_string).get<std::string>();
      for (const char* value : {"contribution", "similarity", "reviewers", "predicted_feeling"}) {
        if (y.contains(value)) r.value = Field(y, value, &J::is_number).get<double>();
      }
      if (y.contains("item_id")) r.item_id = Field(y, "item_id", &J::is_string).get<std::string>();
      if (y.contains("review_id")) r.review_id = Field(y, "review_id", &J::is_string).get<std::string>();
      if (y.contains("modality")) r.modality = Field(y, "modality", &J::is_string).get<std::string>();
      if (y.contains("sentiment")) r.sentiment = Field(y, "sentiment", &J::is_number).get<double>();
      if (y.contains("rating")) r.rating = Field(y, "rating", &J::is_number).get<double>();
      if (y.contains("lift")) r.lift = Field(y, "lift", &J::is_number).get<double>();
      if (y.contains("below")) r.below = Field(y, "below", &J::is_number).get<double>();
      if (y.contains("title")) r.title = Field(y, "title", &J::is_string).get<std::string>();
      if (y.contains("snippet")) r.snippet = Field(y, "snippet", &J::is_string).get<std::string>();
      for (const auto& [name, list] : {std::pair{"features", &r.features}, std::pair{"shared_tags", &r.tags}}) {
        if (!y.contains(name)) continue;
        for (const J& f : Field(y, name, &J::is_array)) {
          if (!f.is_string()) Fail(ExitCode::kDataErr, "recommendation: field '", name, "': expected strings");
          list->push_back(f.get<std::string>());
        }
      }
      it.reasons.push_back(std::move(r));
    }
    u.items.push_back(std::move(it));
  }
  return u;
}

RecommendationLists ReadRecommendationLists(const std::string& path, std::vector<UserRecommendations>* users,
                                            size_t whole_users) {
  // One pass over the bytes, a user at a time: a night's lists for millions
  // of users are gigabytes, several times that as a parsed document.
  auto src = std::make_unique<ByteSource>(path);
  RecommendationLists out;
  if (const std::optional<TableFormat> flat = FlatListsFormat(src.get())) {
    if (users != nullptr) {
      Fail(ExitCode::kDataErr, path,
           ": lists as a CSV or TSV table (`avrec recommend --format csv`) hold no history, flags or reasons; this "
           "needs the lists as JSON or JSON Lines (`avrec recommend -o lists.jsonl`)");
    }
    ReadFlatLists(std::move(src), *flat, &out);
  } else {
    ReadJsonLists(src.get(), users, whole_users, &out);
  }
  if (out.lists.empty()) {
    Fail(ExitCode::kDataErr, path, ": no recommendation lists in the file (an empty or header-only output?)");
  }
  const auto format = out.header.find("format");
  if (format != out.header.end() && !(format->is_string() && *format == kRecommendationsFormat)) {
    const std::string named = format->is_string() ? format->get<std::string>() : format->dump();
    spdlog::warn(
        "{}: the header names the format {}; this avrec reads {} and reads the file as that (user_id, "
        "items with item_id and score){}",
        path, EscapeForMessage(named, 60), kRecommendationsFormat,
        format->is_string() && named.rfind("avrec-recommendations/", 0) == 0 ? ": a later avrec wrote it?" : "");
  }
  return out;
}

}  // namespace avrec
