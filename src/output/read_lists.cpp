#include <nlohmann/json.hpp>

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

void AddUser(const std::string& path, const nlohmann::json& u, int64_t line, RecommendationLists* out) {
  if (!u.is_object() || !u.contains("user_id") || !u["user_id"].is_string() || !u.contains("items") ||
      !u["items"].is_array()) {
    Fail(ExitCode::kDataErr, path, ":", line, ": expected a user object with user_id and items");
  }
  std::vector<std::pair<std::string, double>> items;
  for (const auto& it : u["items"]) {
    if (!it.is_object() || !it.contains("item_id") || !it["item_id"].is_string()) {
      Fail(ExitCode::kDataErr, path, ":", line, ": expected items with a string item_id");
    }
    const double score = it.contains("score") && it["score"].is_number() ? it["score"].get<double>() : 0.0;
    items.emplace_back(it["item_id"].get<std::string>(), score);
  }
  const std::string user = u["user_id"].get<std::string>();
  if (out->lists.count(user) == 0) out->users.push_back(user);
  out->lists[user] = std::move(items);
}

}  // namespace

RecommendationLists ReadRecommendationLists(const std::string& path) {
  const std::string text = ReadFileToString(path);
  RecommendationLists out;
  nlohmann::json whole;
  std::string error;
  if (ParseJson(text, &whole, &error) && whole.is_object() && whole.contains("users")) {
    if (!whole["users"].is_array()) Fail(ExitCode::kDataErr, path, ": field 'users': expected a list");
    if (whole.contains("header")) out.header = whole["header"];
    for (const auto& u : whole["users"]) AddUser(path, u, 0, &out);
  } else {
    size_t start = 0;
    int64_t line = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++line;
      const std::string_view l = Trim(std::string_view(text).substr(start, end - start));
      start = end + 1;
      if (l.empty()) continue;
      nlohmann::json j;
      if (!ParseJson(l, &j, &error)) Fail(ExitCode::kDataErr, path, ":", line, ": ", error);
      if (j.is_object() && j.contains("header")) {
        out.header = j["header"];
        continue;
      }
      AddUser(path, j, line, &out);
    }
  }
  if (out.lists.empty()) {
    Fail(ExitCode::kDataErr, path, ": no recommendation lists in the file (an empty or header-only output?)");
  }
  return out;
}

}  // namespace avrec
