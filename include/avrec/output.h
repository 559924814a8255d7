// Output files of the pipeline, each written atomically (io.h AtomicFile):
// ranked lists (JSON or JSON Lines, docs/recommendations.md) and user
// profiles (JSON Lines), which `recommend --profiles` reads back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "avrec/data.h"
#include "avrec/profile.h"
#include "avrec/recommend.h"

namespace avrec {

// ---- recommendations ----------------------------------------------------------

struct OutputHeader {
  std::string algorithm;
  int top_n = 0;
  std::string config_hash;
  std::string sentiment_model, sentiment_sha256;
  std::string embedding_model, embedding_sha256;
  std::string created_at;  // empty: omitted (reproducible output)
  int shard = 0, shards = 1;
};

enum class RecommendationFormat {
  kJson,   // {"header": ..., "users": [...]}
  kJsonl,  // a header line {"header": ...} (shard 0 only), then one user per line
  kCsv,    // one row per (user, rank): user_id, rank, item_id, title, score, cold_start, reason, explanation
  kTsv     // the same, tab-separated
};
RecommendationFormat ParseRecommendationFormat(const std::string& s);  // Error(kUsage) if unknown

// Writes recommendations in one of those formats (docs/recommendations.md);
// CSV and TSV have their column header in shard 0 only, so shards
// concatenate. Users are written as they are added (memory does not grow
// with them); the file appears complete at Commit() or not at all.
class RecommendationWriter {
 public:
  // `spreadsheet_safe`: see SerializeUser.
  RecommendationWriter(const std::string& path, RecommendationFormat format, const OutputHeader& header,
                       bool spreadsheet_safe = false);
  ~RecommendationWriter();
  void Add(const UserRecommendations& u);
  // A user already serialised by SerializeUser (or, for JSON formats, kept
  // from a previous run's output).
  void AddSerialized(const std::string& user_text);
  void Commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One user as the writer writes it in `format`: UserJson(u, 2) for JSON
// (the writer indents it), UserJson(u, -1) for JSON Lines, the rows for CSV
// and TSV. `spreadsheet_safe` (CSV and TSV): a text cell that begins with
// = + - @, a tab or a carriage return, which a spreadsheet would run as a
// formula, gets a leading ' (its text is shown as it is); numbers are kept.
std::string SerializeUser(const UserRecommendations& u, RecommendationFormat format, bool spreadsheet_safe = false);
// The first characters of a cell that --spreadsheet-safe puts a ' before.
inline constexpr std::string_view kFormulaLeads = "=+-@\t\r";

// One user as JSON; indent -1: one line.
std::string UserJson(const UserRecommendations& u, int indent);
// The first reason of an item in words, for flat outputs:
// "similar_to s0041 (contribution 0.1216)".
std::string ReasonText(const RecommendedItem& item);

// Streams the users of a JSON or JSON Lines recommendations file avrec
// wrote, each as the text UserJson gave it (indent 2 for JSON, one line for
// JSON Lines), in file order and without loading the file. Throws
// Error(kDataErr) naming PATH:LINE where the layout is not avrec's.
class RecommendationFileUsers {
 public:
  RecommendationFileUsers(const std::string& path, RecommendationFormat format);
  ~RecommendationFileUsers();
  // The next user; false at the end of the list.
  bool Next(std::string* user_id, std::string* user_json, bool* cold_start = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A user's list from its JSON (UserJson's inverse). Throws Error(kDataErr)
// naming the field.
UserRecommendations UserFromJson(const nlohmann::json& j);

// A recommendations file read back (JSON or JSON Lines, avrec's or a
// peer's in the same format): per user, ranked items with their scores.
struct RecommendationLists {
  std::vector<std::string> users;  // file order
  std::unordered_map<std::string, std::vector<std::pair<std::string, double>>> lists;
  nlohmann::json header;  // {} when the file has none

  // The list length the header says the lists were made to (its top_n);
  // 0 when the file has no header or the header no positive integer top_n.
  int64_t TopN() const;

  // user -> item ids, best first, moved out of `lists`.
  std::unordered_map<std::string, std::vector<std::string>> Items() &&;
};

// The format this avrec writes and reads, in every output's header.
inline constexpr const char* kRecommendationsFormat = "avrec-recommendations/1";

// Reads the file once and a user at a time (memory: the lists, not the
// file), so PATH may be a pipe, a FIFO or "-" (stdin). With
// `users`, also each user's whole list as UserFromJson reads it (reasons,
// explanations), in the order of `users` of the result (a user listed twice:
// the later list, as for `lists`). Users after the first `whole_users` keep
// their flags and ranked items with scores, not the words (reasons, titles,
// explanations, the low-confidence reason): a report shows those of the
// first few, and a night's words are most of its bytes. Throws
// Error(kDataErr) naming PATH:LINE (or the user) for a malformed record,
// and when the file holds no list at all; Error(kNoInput) when missing. A
// header naming another format (a later version) is read as this one, with
// a warning. The lists `avrec topk` writes, whose users are named "id",
// are read as well (not their whole lists: they have no flags). So are the
// CSV and TSV lists of `recommend --format csv|tsv` (told by content: the
// first line is not JSON), or any table with user_id and item_id columns: a
// user's items by the rank column, else in file order, an id written with
// --spreadsheet-safe's ' read without it; not their whole lists (they have
// no history or reasons: Error(kDataErr) with `users`).
RecommendationLists ReadRecommendationLists(const std::string& path, std::vector<UserRecommendations>* users = nullptr,
                                            size_t whole_users = SIZE_MAX);

// ---- reasons in words ------------------------------------------------------------

enum class ReasonLanguage { kAuto, kEnglish, kChinese };
ReasonLanguage ParseReasonLanguage(const std::string& s);  // Error(kUsage) if unknown

// A profile's net share below which its list is flagged low_confidence
// (docs/recommendations.md): its liked and disliked reviews nearly cancel.
constexpr double kLowNetShare = 0.2;

// Fills what people read in a user's recommendations: item and reason titles,
// review snippets, one sentence per item from fixed templates in the user's
// language (auto: the language most of their reviews are written in), and
// the low_confidence flag (every score at or below zero, or a net share
// below kLowNetShare) with its reason.
// Deterministic: the same inputs give the same words.
class Narrator {
 public:
  // `items` and `reviews` must outlive the narrator.
  Narrator(const ItemTable& items, const std::vector<Review>& reviews, ReasonLanguage language);
  // `snippet` (may be empty): the text to quote for a similar_to reason
  // (shortened here to 60 characters).
  void Narrate(UserRecommendations* u, const std::function<std::string(const Reason&)>& snippet) const;
  std::string Title(const std::string& item_id) const;  // the id when untitled

 private:
  std::string Sentence(const RecommendedItem& item, bool zh) const;
  ReasonLanguage language_;
  std::unordered_map<std::string, const Item*> items_;
  std::unordered_set<std::string> chinese_users_;
};

// ---- profiles --------------------------------------------------------------------

// Writes {"header": {"columns": [...]}} then one line per user: user_id,
// cold_start, reviews (history size), net_share (6 decimals), vector (6
// decimals).
void WriteProfiles(const std::string& path, const Profiles& profiles, const std::vector<std::string>& columns);

struct ProfileFile {
  std::vector<std::string> columns;  // item vector columns the vectors use
  std::vector<std::string> users;
  std::vector<bool> cold_start;
  std::vector<double> net_share;  // Profiles::net_share; 1 where the file has none
  RowMatrix vectors;              // size users x columns
};

// Reads what WriteProfiles wrote. Throws Error(kDataErr) naming PATH:LINE and
// the field for a malformed line, Error(kNoInput) when missing.
ProfileFile ReadProfiles(const std::string& path);

}  // namespace avrec
