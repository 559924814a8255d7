#include <nlohmann/json.hpp>
#include <string_view>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/output.h"
#include "avrec/version.h"

namespace avrec {

namespace {

nlohmann::ordered_json ReasonJson(const Reason& r) {
  nlohmann::ordered_json y;
  y["kind"] = r.kind;
  const auto item = [&] {
    y["item_id"] = r.item_id;
    if (!r.title.empty()) y["title"] = r.title;
  };
  if (r.kind == "similar_to") {
    item();
    y["review_id"] = r.review_id;
    if (!r.snippet.empty()) y["snippet"] = r.snippet;
    y["contribution"] = r.value;
    if (r.lift) y["lift"] = *r.lift;
    if (r.sentiment) y["sentiment"] = *r.sentiment;
    if (r.rating) y["rating"] = *r.rating;
  } else if (r.kind == "modality") {
    y["modality"] = r.modality;
    if (!r.features.empty()) y["features"] = r.features;
    y["contribution"] = r.value;
  } else if (r.kind == "co_reviewed_with") {
    item();
    y["similarity"] = r.value;
    if (!r.tags.empty()) y["shared_tags"] = r.tags;
  } else if (r.kind == "learned_from" || r.kind == "tagged_like") {
    item();
    y["contribution"] = r.value;
    if (!r.tags.empty()) y["shared_tags"] = r.tags;
  } else if (r.kind == "popular") {
    y["reviewers"] = r.value;
  } else if (r.kind == "predicted_dislike") {
    y["predicted_feeling"] = r.value;
    if (r.below) y["below"] = *r.below;
  }
  return y;
}

nlohmann::ordered_json HeaderJson(const OutputHeader& h) {
  nlohmann::ordered_json header;
  header["format"] = kRecommendationsFormat;
  header["avrec_version"] = AVREC_VERSION;
  header["algorithm"] = h.algorithm;
  header["top_n"] = h.top_n;
  header["config_hash"] = h.config_hash;
  if (!h.sentiment_model.empty()) {
    header["sentiment_model"] = {{"name", h.sentiment_model}, {"sha256", h.sentiment_sha256}};
  }
  if (!h.embedding_model.empty()) {
    header["embedding_model"] = {{"name", h.embedding_model}, {"sha256", h.embedding_sha256}};
  }
  if (!h.created_at.empty()) header["created_at"] = h.created_at;
  return header;
}

}  // namespace

std::string UserJson(const UserRecommendations& u, int indent) {
  nlohmann::ordered_json j;
  j["user_id"] = u.user_id;
  j["cold_start"] = u.cold_start;
  j["history"] = u.history;
  if (!u.language.empty()) j["language"] = u.language;
  if (u.low_confidence) {
    j["low_confidence"] = true;
    j["low_confidence_reason"] = u.low_confidence_reason;
  }
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& it : u.items) {
    nlohmann::ordered_json x;
    x["item_id"] = it.item_id;
    if (!it.title.empty()) x["title"] = it.title;
    x["rank"] = it.rank;
    x["score"] = it.score;
    if (!it.explanation.empty()) x["explanation"] = it.explanation;
    nlohmann::ordered_json reasons = nlohmann::ordered_json::array();
    for (const auto& r : it.reasons) reasons.push_back(ReasonJson(r));
    x["reasons"] = reasons;
    items.push_back(x);
  }
  j["items"] = items;
  return j.dump(indent);
}

RecommendationFormat ParseRecommendationFormat(const std::string& s) {
  if (s == "json") return RecommendationFormat::kJson;
  if (s == "jsonl") return RecommendationFormat::kJsonl;
  if (s == "csv") return RecommendationFormat::kCsv;
  if (s == "tsv") return RecommendationFormat::kTsv;
  Fail(ExitCode::kUsage, "--format: expected json, jsonl, csv or tsv, got '", s, "'");
}

std::string ReasonText(const RecommendedItem& item) {
  if (item.reasons.empty()) return "";
  const Reason& r = item.reasons.front();
  const nlohmann::json value = r.value;
  if (r.kind == "modality") return "modality " + r.modality + " (contribution " + value.dump() + ")";
  if (r.kind == "popular") return "popular (" + value.dump() + " reviewers)";
  if (r.kind == "predicted_dislike") return "predicted_dislike (predicted feeling " + value.dump() + ")";
  const char* what = r.kind == "co_reviewed_with" ? "similarity" : "contribution";
  return r.kind + " " + r.item_id + " (" + what + " " + value.dump() + ")";
}

struct RecommendationWriter::Impl {
  AtomicFile file;
  RecommendationFormat format;
  bool spreadsheet_safe;
  bool first = true;
  Impl(const std::string& path, RecommendationFormat f, bool safe) : file(path), format(f), spreadsheet_safe(safe) {}
  bool flat() const { return format == RecommendationFormat::kCsv || format == RecommendationFormat::kTsv; }
  char delim() const { return format == RecommendationFormat::kTsv ? '\t' : ','; }
};

RecommendationWriter::RecommendationWriter(const std::string& path, RecommendationFormat format, const OutputHeader& h,
                                           bool spreadsheet_safe)
    : impl_(std::make_unique<Impl>(path, format, spreadsheet_safe)) {
  const nlohmann::ordered_json header = HeaderJson(h);
  if (impl_->flat()) {
    const char d = impl_->delim();
    if (h.shard == 0) {
      impl_->file.Write(std::string("user_id") + d + "rank" + d + "item_id" + d + "title" + d + "score" + d +
                        "cold_start" + d + "reason" + d + "explanation\n");
    }
  } else if (format == RecommendationFormat::kJsonl) {
    if (h.shard == 0) impl_->file.Write(nlohmann::ordered_json{{"header", header}}.dump() + "\n");
  } else {
    std::string head = nlohmann::ordered_json{{"header", header}}.dump(2);
    head.erase(head.size() - 2);  // drop the closing "\n}"
    impl_->file.Write(head + ",\n  \"users\": [");
  }
}

RecommendationWriter::~RecommendationWriter() = default;

std::string SerializeUser(const UserRecommendations& u, RecommendationFormat format, bool spreadsheet_safe) {
  if (format == RecommendationFormat::kJson) return UserJson(u, 2);
  if (format == RecommendationFormat::kJsonl) return UserJson(u, -1);
  const char d = format == RecommendationFormat::kTsv ? '\t' : ',';
  std::string rows;
  // User ids, titles and the snippets in reasons come from the input
  // files, which anyone may have written.
  const auto text = [&rows, d, spreadsheet_safe](const std::string& cell) {
    if (spreadsheet_safe && !cell.empty() && kFormulaLeads.find(cell[0]) != std::string_view::npos) {
      AppendCsvField(&rows, "'" + cell, d);
    } else {
      AppendCsvField(&rows, cell, d);
    }
  };
  for (const auto& it : u.items) {
    text(u.user_id);
    rows += d + std::to_string(it.rank) + d;
    text(it.item_id);
    rows += d;
    text(it.title);
    rows += d + nlohmann::json(it.score).dump() + d + (u.cold_start ? "true" : "false") + d;
    text(ReasonText(it));
    rows += d;
    text(it.explanation);
    rows += '\n';
  }
  return rows;
}

void RecommendationWriter::Add(const UserRecommendations& u) {
  AddSerialized(SerializeUser(u, impl_->format, impl_->spreadsheet_safe));
}

void RecommendationWriter::AddSerialized(const std::string& body) {
  if (impl_->flat()) {
    impl_->file.Write(body);
    return;
  }
  if (impl_->format == RecommendationFormat::kJsonl) {
    impl_->file.Write(body + "\n");
    return;
  }
  // Indent the object by four spaces inside the users array.
  std::string indented = "\n    ";
  for (char c : body) {
    indented += c;
    if (c == '\n') indented += "    ";
  }
  impl_->file.Write((impl_->first ? "" : ",") + indented);
  impl_->first = false;
}

struct RecommendationFileUsers::Impl {
  std::string path;
  RecommendationFormat format;
  ByteSource src;
  LineReader lines;
  bool in_users = false, done = false;
  // The previous output, which this run replaces.
  Impl(const std::string& p, RecommendationFormat f)
      : path(p), format(f), src(p, ByteSource::Rewrite::kAllowed), lines(&src) {}
  [[noreturn]] void Bad(const std::string& what) const {
    Fail(ExitCode::kDataErr, path, ":", lines.line_number(), ": ", what);
  }
  // The user's id and cold-start flag from its JSON.
  void Identify(const std::string& text, std::string* user_id, bool* cold_start) const {
    nlohmann::json j;
    std::string error;
    if (!ParseJson(text, &j, &error)) Bad(error);
    if (!j.is_object() || !j.contains("user_id") || !j["user_id"].is_string() || !j.contains("cold_start") ||
        !j["cold_start"].is_boolean()) {
      Bad("expected a user object with 'user_id' and 'cold_start'");
    }
    *user_id = j["user_id"].get<std::string>();
    if (cold_start != nullptr) *cold_start = j["cold_start"].get<bool>();
  }
};

RecommendationFileUsers::RecommendationFileUsers(const std::string& path, RecommendationFormat format)
    : impl_(std::make_unique<Impl>(path, format)) {
  AVREC_CHECK(format == RecommendationFormat::kJson || format == RecommendationFormat::kJsonl, "JSON formats only");
}

RecommendationFileUsers::~RecommendationFileUsers() = default;

bool RecommendationFileUsers::Next(std::string* user_id, std::string* user_json, bool* cold_start) {
  Impl& m = *impl_;
  std::string line;
  if (m.format == RecommendationFormat::kJsonl) {
    while (m.lines.Next(&line)) {
      if (line.empty() || line.rfind("{\"header\":", 0) == 0) continue;
      m.Identify(line, user_id, cold_start);
      *user_json = line;
      return true;
    }
    return false;
  }
  // JSON: the header, then `  "users": [`, then each user as UserJson(u, 2)
  // indented by four spaces, "," after all but the last, then `  ]`.
  while (!m.in_users && !m.done) {
    if (!m.lines.Next(&line)) m.Bad("no \"users\" list");
    if (line == "  \"users\": []") m.done = true;
    if (line == "  \"users\": [") m.in_users = true;
  }
  if (m.done) return false;
  if (!m.lines.Next(&line)) m.Bad("unexpected end of file in the users list");
  if (line == "  ]") {
    m.done = true;
    return false;
  }
  if (line != "    {") m.Bad("expected a user object");
  user_json->assign("{");
  for (;;) {
    if (!m.lines.Next(&line)) m.Bad("unexpected end of file in a user object");
    if (line.rfind("    ", 0) != 0) m.Bad("unexpected indentation in the users list");
    const bool last = line == "    }" || line == "    },";
    user_json->append("\n").append(line, 4, last ? 1 : std::string::npos);
    if (last) break;
  }
  m.Identify(*user_json, user_id, cold_start);
  return true;
}

void RecommendationWriter::Commit() {
  if (impl_->format == RecommendationFormat::kJson) impl_->file.Write(impl_->first ? "]\n}\n" : "\n  ]\n}\n");
  impl_->file.Commit();
}

}  // namespace avrec
