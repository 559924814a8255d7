#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/output.h"
#include "avrec/text.h"

namespace avrec {

std::unordered_map<std::string, std::vector<std::string>> RecommendationLists::Items() const {
  std::unordered_map<std::string, std::vector<std::string>> out;
  for (const auto& [u, list] : lists) {
    auto& items = out[u];
    for (const auto& [i, s] : list) items.push_back(i);
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
};

// A user's record in messages: "path:line" or "path: users[i]" from its
// position (the line, or the index in the document's list).
using WhereOf = std::function<std::string(int64_t)>;

// With `users`, the whole list too, parallel to out->users; `first_at` holds
// each user's position, parallel to out->users too.
void AddUser(int64_t position, const WhereOf& where_of, const nlohmann::json& u, RecommendationLists* out,
             std::vector<UserRecommendations>* users, std::vector<int64_t>* first_at, RepeatedUsers* repeated) {
  const std::string where = where_of(position);
  if (!u.is_object() || !u.contains("user_id") || !u["user_id"].is_string() || !u.contains("items") ||
      !u["items"].is_array()) {
    Fail(ExitCode::kDataErr, where, ": expected a user object with user_id and items");
  }
  std::vector<std::pair<std::string, double>> items;
  for (const auto& it : u["items"]) {
    if (!it.is_object() || !it.contains("item_id") || !it["item_id"].is_string()) {
      Fail(ExitCode::kDataErr, where, ": expected items with a string item_id");
    }
    const double score = it.contains("score") && it["score"].is_number() ? it["score"].get<double>() : 0.0;
    items.emplace_back(it["item_id"].get<std::string>(), score);
  }
  const std::string user = u["user_id"].get<std::string>();
  const bool seen = out->lists.count(user) != 0;
  if (!seen) {
    out->users.push_back(user);
    first_at->push_back(position);
  } else if (repeated->users.insert(user).second && repeated->users.size() == 1) {
    const auto at = std::find(out->users.begin(), out->users.end(), user) - out->users.begin();
    repeated->example =
        EscapeForMessage(user) + " at " + where_of((*first_at)[static_cast<size_t>(at)]) + ", then " + where;
  }
  out->lists[user] = std::move(items);
  if (users == nullptr) return;
  UserRecommendations whole;
  try {
    whole = UserFromJson(u);
  } catch (const Error& e) {
    Fail(ExitCode::kDataErr, where, ": user '", EscapeForMessage(user), "': ", e.what());
  }
  if (!seen) {
    users->push_back(std::move(whole));
  } else {
    const auto at = std::find(out->users.begin(), out->users.end(), user) - out->users.begin();
    (*users)[static_cast<size_t>(at)] = std::move(whole);
  }
}

// A field of `j` of the type `check` accepts; Error(kDataErr) naming it.
const nlohmann::json& Field(const nlohmann::json& j, const char* name, bool (nlohmann::json::*check)() const) {
  if (!j.is_object() || !j.contains(name) || !(j[name].*check)()) {
    Fail(ExitCode::kDataErr, "recommendation: field '", name, "' missing or of the wrong type");
  }
  return j[name];
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

RecommendationLists ReadRecommendationLists(const std::string& path, std::vector<UserRecommendations>* users) {
  const std::string text = ReadFileToString(path);
  RecommendationLists out;
  std::vector<int64_t> first_at;
  RepeatedUsers repeated;
  nlohmann::json whole;
  std::string whole_error, error;
  if (ParseJson(text, &whole, &whole_error) && whole.is_object() && whole.contains("users")) {
    if (!whole["users"].is_array()) Fail(ExitCode::kDataErr, path, ": field 'users': expected a list");
    if (whole.contains("header")) out.header = whole["header"];
    const WhereOf where_of = [&](int64_t i) { return path + ": users[" + std::to_string(i) + "]"; };
    for (size_t i = 0; i < whole["users"].size(); ++i) {
      AddUser(static_cast<int64_t>(i), where_of, whole["users"][i], &out, users, &first_at, &repeated);
    }
  } else {
    const WhereOf where_of = [&](int64_t l) { return path + ":" + std::to_string(l); };
    size_t start = 0;
    int64_t line = 0, parsed = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++line;
      const std::string_view l = Trim(std::string_view(text).substr(start, end - start));
      start = end + 1;
      if (l.empty()) continue;
      nlohmann::json j;
      if (!ParseJson(l, &j, &error)) {
        // A first line cut short that the file goes on after opens one
        // document (pretty-printed, cut short?): its parser says where it
        // broke.
        const bool document =
            parsed == 0 && start < text.size() && error.find("unexpected end of input") != std::string::npos;
        if (document && !whole_error.empty()) Fail(ExitCode::kDataErr, path, ": ", whole_error);
        if (document) {
          Fail(ExitCode::kDataErr, path,
               ": a JSON document without a 'users' list (expected avrec's recommendations: one JSON document, "
               "or JSON Lines, one user per line)");
        }
        Fail(ExitCode::kDataErr, path, ":", line, ": ", error);
      }
      ++parsed;
      if (j.is_object() && j.contains("header")) {
        out.header = j["header"];
        continue;
      }
      AddUser(line, where_of, j, &out, users, &first_at, &repeated);
    }
  }
  if (out.lists.empty()) {
    Fail(ExitCode::kDataErr, path, ": no recommendation lists in the file (an empty or header-only output?)");
  }
  if (!repeated.users.empty()) {
    const size_t n = repeated.users.size();
    spdlog::warn(
        "{}: {} user{} more than one list (user {}, for one: two files concatenated?); each user's last list is "
        "the one read",
        path, n, n == 1 ? " has" : "s have", repeated.example);
  }
  return out;
}

}  // namespace avrec
