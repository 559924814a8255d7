// recommend --only-changed and --to-workspace through the built binary: an
// incremental night equals a full recompute byte for byte, reranks exactly
// the users whose reviews changed (and the cold-start ones), and falls back
// to everyone, saying why, when anything else changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "avrec/text.h"
#include "avrec/workspace.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::kItems;
using test::kReviews;
using test::kTinyEmbedding;
using test::kTinySentiment;
using test::QueryInt;
using test::QueryText;
using test::ReadFile;
using test::RunAvrec;
using test::RunResult;
using test::TempDir;
using test::WriteFile;

// CSV records: lines joined while a quoted field is open.
std::vector<std::string> Records(const std::string& text) {
  std::vector<std::string> out;
  bool open = false;
  for (const std::string& line : test::SplitLines(text)) {
    if (open) {
      out.back() += "\n" + line;
    } else {
      out.push_back(line);
    }
    for (char c : line) open ^= c == '"';
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

// The second CSV field (user_id) of a sample review record.
std::string UserOf(const std::string& line) {
  const size_t a = line.find(',');
  return line.substr(a + 1, line.find(',', a + 1) - a - 1);
}

// The JSON log event named `event` in stderr ({} when absent).
nlohmann::json Event(const std::string& err, const std::string& event) {
  for (const std::string& line : test::SplitLines(err)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) return j;
  }
  return {};
}

class IncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lines_ = Records(ReadFile(kReviews));
    WriteFile(dir_ / "users.txt", "newcomer1\nnewcomer2\n");
  }

  RunResult Ingest(const std::string& reviews, const std::string& items = "") {
    std::vector<std::string> args = {"ingest", "-w", ws_};
    if (!reviews.empty()) args.insert(args.end(), {"--reviews", reviews});
    if (!items.empty()) args.insert(args.end(), {"--items", items});
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = RunAvrec({"score", "--model", kTinySentiment, "-w", ws_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  RunResult Recommend(const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"recommend",        "-w",    ws_, "--text-model", kTinyEmbedding, "--users",
                                     dir_ / "users.txt", "--out", out, "--log-format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  // Night 1: the first 2000 reviews; night 2: 100 more, one earlier review
  // rewritten, and one given to another user (its id reused: the user who
  // wrote it has one review fewer). Returns the users night 2 changed.
  std::set<std::string> TwoNights(const std::string& night1_out, const std::vector<std::string>& options) {
    WriteFile(dir_ / "night1.csv", Join(lines_, 0, 2001));
    Ingest(dir_ / "night1.csv", kItems);
    RunResult r = Recommend(night1_out, options);
    EXPECT_EQ(Event(r.err, "incremental").value("mode", ""), "full") << r.err;
    std::vector<std::string> night2(lines_.begin(), lines_.begin() + 2101);
    std::set<std::string> changed;
    for (size_t i = 2001; i < night2.size(); ++i) changed.insert(UserOf(night2[i]));
    for (size_t i = 20; i < 2001; ++i) {  // rewrite a review whose text is not quoted
      if (night2[i].back() != '"') {
        night2[i] += " Honestly the best thing I heard all year!";
        changed.insert(UserOf(night2[i]));
        break;
      }
    }
    std::string& moved = night2[1000];
    const std::string from = UserOf(moved), to = from == "u001" ? "u002" : "u001";
    const size_t a = moved.find(',');
    moved.replace(a + 1, from.size(), to);
    changed.insert(from);
    changed.insert(to);
    WriteFile(dir_ / "night2.csv", Join(night2, 0, night2.size()));
    Ingest(dir_ / "night2.csv");
    return changed;
  }

  // After an item left the workspace, an --only-changed night to `out`
  // ranks everyone again, saying why, and equals a full run.
  void ExpectOneItemRemovedReranksEveryone(const std::string& out, const std::vector<std::string>& opts) {
    const RunResult r = Recommend(out, opts);
    EXPECT_NE(Event(r.err, "incremental").value("reason", "").find("1 item added, changed or removed"),
              std::string::npos)
        << r.err;
    Recommend(dir_ / "full.json", {});
    EXPECT_EQ(ReadFile(out), ReadFile(dir_ / "full.json"));
  }

  TempDir dir_;
  std::string ws_ = dir_ / "w.avrec";
  std::vector<std::string> lines_;  // CSV records of the sample's reviews, header first
};

TEST_F(IncrementalTest, SecondNightReranksOnlyChangedUsersAndEqualsAFullRun) {
  for (const std::string format : {"json", "jsonl"}) {
    const std::vector<std::string> opts = {"--only-changed", "--format", format};
    std::set<std::string> changed = TwoNights(dir_ / ("n1." + format), opts);
    ASSERT_GT(changed.size(), 5u);
    RunResult r = Recommend(dir_ / ("n2." + format), opts);
    const nlohmann::json ev = Event(r.err, "incremental");
    ASSERT_EQ(ev.value("mode", ""), "incremental") << r.err;
    EXPECT_EQ(ev["changed_users"], changed.size());
    EXPECT_EQ(ev["reranked"], changed.size() + 2);  // and the two cold-start newcomers
    EXPECT_GT(ev["copied"].get<int>(), 100);
    EXPECT_EQ(ev["previous"], dir_ / ("n1." + format));
    // The same bytes as ranking everyone.
    r = Recommend(dir_ / ("full." + format), {"--format", format});
    EXPECT_EQ(ReadFile(dir_ / ("n2." + format)), ReadFile(dir_ / ("full." + format)));
    // A third night with nothing new copies everyone.
    r = Recommend(dir_ / ("n3." + format), opts);
    EXPECT_EQ(Event(r.err, "incremental")["reranked"], 0) << r.err;
    EXPECT_EQ(ReadFile(dir_ / ("n3." + format)), ReadFile(dir_ / ("full." + format)));
    std::remove(ws_.c_str());
  }
}

TEST_F(IncrementalTest, EverythingElseThatChangesListsRanksEveryone) {
  const std::vector<std::string> opts = {"--only-changed"};
  TwoNights(dir_ / "n1.json", opts);
  auto reason = [&](const std::string& out, std::vector<std::string> extra) {
    extra.insert(extra.begin(), opts.begin(), opts.end());
    RunResult r = Recommend(dir_ / out, extra);
    nlohmann::json ev = Event(r.err, "incremental");
    EXPECT_EQ(ev.value("mode", ""), "full") << r.err;
    return ev.value("reason", "");
  };
  // Other options: a state of their own.
  EXPECT_NE(reason("k5.json", {"--top-n", "5"}).find("no previous"), std::string::npos);
  // An algorithm whose lists depend on everyone's reviews.
  EXPECT_NE(reason("knn.json", {"--algorithm", "item-knn"}).find("no previous"), std::string::npos);
  // The previous output edited by hand.
  WriteFile(dir_ / "n1.json", ReadFile(dir_ / "n1.json") + " ");
  EXPECT_NE(reason("n2.json", {}).find("was modified since"), std::string::npos);
  // A changed item.
  std::string items = ReadFile(kItems);
  const size_t eol = items.find('\n', items.find('\n') + 1);
  items.insert(eol, " (remastered)");
  WriteFile(dir_ / "items2.csv", items);
  Ingest("", dir_ / "items2.csv");
  EXPECT_NE(reason("n3.json", {}).find("1 item added, changed or removed"), std::string::npos);
  RunResult r = Recommend(dir_ / "full3.json", {});
  EXPECT_EQ(ReadFile(dir_ / "n3.json"), ReadFile(dir_ / "full3.json"));
  // item-knn: nothing changed since its last run, so everyone is copied; a
  // new review means everyone is reranked.
  r = Recommend(dir_ / "knn2.json", {"--only-changed", "--algorithm", "item-knn"});
  EXPECT_EQ(Event(r.err, "incremental").value("mode", ""), "full");  // the item changed since knn.json
  r = Recommend(dir_ / "knn3.json", {"--only-changed", "--algorithm", "item-knn"});
  EXPECT_EQ(Event(r.err, "incremental")["reranked"], 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "knn2.json"), ReadFile(dir_ / "knn3.json"));
  WriteFile(dir_ / "night3.csv", Join(lines_, 0, 1) + Join(lines_, 2101, 2111));
  Ingest(dir_ / "night3.csv");
  EXPECT_NE(reason("knn4.json", {"--algorithm", "item-knn"}).find("ranks each user with everyone's reviews"),
            std::string::npos);
  // --avoid-below reads everyone's feelings (the item biases), whatever the
  // algorithm.
  EXPECT_NE(reason("avoid.json", {"--avoid-below", "0.2"}).find("no previous"), std::string::npos);
  WriteFile(dir_ / "night4.csv", Join(lines_, 0, 1) + Join(lines_, 2111, 2121));
  Ingest(dir_ / "night4.csv");
  EXPECT_NE(reason("avoid2.json", {"--avoid-below", "0.2"}).find("ranks each user with everyone's reviews"),
            std::string::npos);
  // Usage errors.
  EXPECT_EQ(RunAvrec({"recommend", "-w", ws_, "--only-changed", "--format", "csv", "--out", dir_ / "x.csv"}).exit_code,
            64);
  EXPECT_EQ(
      RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--only-changed", "--out", dir_ / "x.json"})
          .exit_code,
      64);
}

TEST_F(IncrementalTest, ListsInTheWorkspaceAnswerOneQuery) {
  WriteFile(dir_ / "night1.csv", Join(lines_, 0, 2001));
  Ingest(dir_ / "night1.csv", kItems);
  for (int night = 1; night <= 3; ++night) {
    Recommend(dir_ / ("n" + std::to_string(night) + ".json"), {"--to-workspace", "--keep-lists", "2"});
  }
  const nlohmann::json out = nlohmann::json::parse(ReadFile(dir_ / "n3.json"));
  const std::string last = "(SELECT max(run_id) FROM recommendation_lists)";
  EXPECT_EQ(QueryInt(ws_, "SELECT count(DISTINCT run_id) FROM recommendation_lists"), 2);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM recommendation_lists WHERE run_id = " + last), out["users"].size());
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM recommendations WHERE run_id = " + last), 10 * out["users"].size());
  const nlohmann::json& first = out["users"][0];
  EXPECT_EQ(QueryText(ws_, "SELECT item_id FROM recommendations WHERE rank = 1 AND run_id = " + last +
                               " AND user_id = '" + first["user_id"].get<std::string>() + "'"),
            first["items"][0]["item_id"]);
  // Which users got the same list: the two cold-start newcomers.
  EXPECT_EQ(QueryText(ws_,
                      "SELECT group_concat(user_id, ' ') FROM (SELECT user_id, items FROM recommendation_lists "
                      "WHERE run_id = " +
                          last + " ORDER BY user_id) GROUP BY items HAVING count(*) > 1"),
            "newcomer1 newcomer2");
  EXPECT_EQ(QueryText(ws_, "SELECT kind FROM runs ORDER BY run_id DESC LIMIT 1"), "recommend");
}

// avrec forget: a user, a review and an item leave the workspace for good:
// their rows, the stored lists that could quote their texts, the cached
// scores of those texts, and the bytes in the files. The next ingest of the
// same export skips them, and the next --only-changed night equals a full run.
TEST_F(IncrementalTest, ForgetRemovesForGoodAndLaterNightsAgree) {
  Ingest(kReviews, kItems);
  const std::vector<std::string> opts = {"--only-changed", "--to-workspace"};
  Recommend(dir_ / "n1.json", opts);
  const std::string user = UserOf(lines_[1]);
  const std::string review =
      QueryText(ws_, "SELECT review_id FROM reviews WHERE user_id <> '" + user + "' ORDER BY review_id LIMIT 1");
  const std::string author = QueryText(ws_, "SELECT user_id FROM reviews WHERE review_id = '" + review + "'");
  const std::string item = QueryText(ws_, "SELECT item_id FROM reviews WHERE user_id NOT IN ('" + user + "', '" +
                                              author + "') GROUP BY item_id ORDER BY count(*) DESC LIMIT 1");
  const std::string which =
      "FROM reviews WHERE user_id = '" + user + "' OR review_id = '" + review + "' OR item_id = '" + item + "'";
  const int64_t removed = QueryInt(ws_, "SELECT count(*) " + which);
  const int64_t authors = QueryInt(ws_, "SELECT count(DISTINCT user_id) " + which);
  const int64_t total = QueryInt(ws_, "SELECT count(*) FROM reviews");
  // A text of the user's that no one else wrote: after forget, in neither file.
  const std::string text = QueryText(ws_, "SELECT text FROM reviews WHERE user_id = '" + user +
                                              "' AND text NOT IN (SELECT text FROM reviews WHERE user_id <> '" + user +
                                              "') ORDER BY length(text) DESC LIMIT 1");
  ASSERT_GT(text.size(), 20u);
  const auto in_files = [&] {
    return (ReadFile(ws_) + (test::FileExists(ws_ + "-wal") ? ReadFile(ws_ + "-wal") : "")).find(text) !=
           std::string::npos;
  };
  ASSERT_TRUE(in_files());
  // What the run cached of their texts: the scores of the sentences its
  // snippets quoted (unless a remaining review is that sentence), and the
  // item's text embedding.
  std::string sentence_scores = "SELECT count(*) FROM sentiment_cache WHERE text_key IN ('-'", embedding;
  {
    auto w = Workspace::Open(ws_, false);
    for (const Review& rv : w->LoadReviews()) {
      if (rv.user_id != user && rv.review_id != review && rv.item_id != item) continue;
      const std::vector<std::string> sentences = SplitSentences(rv.text);
      if (sentences.size() < 2) continue;
      for (const std::string& s : sentences) sentence_scores += ", '" + TextKey(s) + "'";
    }
    sentence_scores += ") AND text_key NOT IN (SELECT text_key FROM reviews)";  // a review's own text stays
    const ItemTable items = w->LoadItems();
    embedding =
        "SELECT count(*) FROM embedding_cache WHERE text_key = '" + ItemTextKey(items.items[items.Find(item)]) + "'";
  }
  ASSERT_GT(QueryInt(ws_, sentence_scores), 0);
  ASSERT_EQ(QueryInt(ws_, embedding), 1);
  const std::vector<std::string> forget = {"forget", "-w",     ws_,  "--user",       user,  "--review",
                                           review,   "--item", item, "--log-format", "json"};
  for (const bool dry : {true, false}) {
    std::vector<std::string> args = forget;
    if (dry) args.push_back("--dry-run");
    RunResult r = RunAvrec(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json ev = Event(r.err, "stage_end");
    EXPECT_EQ(ev["users"], 1);
    EXPECT_EQ(ev["reviews"], 1);
    EXPECT_EQ(ev["items"], 1);
    EXPECT_EQ(ev["not_found"], 0);
    EXPECT_EQ(ev["reviews_removed"], removed);
    EXPECT_EQ(ev["lists_removed"], authors);  // one stored night per author
    EXPECT_GT(ev["scores_removed"].get<int>(), 0);
    EXPECT_EQ(ev["embeddings_removed"], 1);
    EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), dry ? total : total - removed);
  }
  EXPECT_EQ(QueryInt(ws_, sentence_scores), 0);
  EXPECT_EQ(QueryInt(ws_, embedding), 0);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM items WHERE item_id = '" + item + "'"), 0);
  EXPECT_EQ(
      QueryInt(ws_, "SELECT count(*) FROM recommendation_lists WHERE user_id IN ('" + user + "', '" + author + "')"),
      0);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM recommend_users WHERE user_id = '" + user + "'"), 0);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM forgotten"), 3);
  EXPECT_FALSE(in_files());
  // The same export again: what was forgotten stays out.
  RunResult r = RunAvrec({"ingest", "-w", ws_, "--reviews", kReviews, "--items", kItems, "--log-format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Event(r.err, "ingest_forgotten")["reviews"], removed);
  EXPECT_EQ(Event(r.err, "ingest_forgotten")["items"], 1);
  EXPECT_EQ(Event(r.err, "ingest_forgotten")
                .value("msg", "")
                .find("1 item and " + std::to_string(removed) + " reviews not ingested: `avrec forget` removed them"),
            0u)
      << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - removed);
  EXPECT_EQ(RunAvrec({"validate", "-w", ws_, "--reviews", kReviews}).exit_code, 0);
  // The item is gone from every list: everyone is ranked again, as a full run would.
  ExpectOneItemRemovedReranksEveryone(dir_ / "n2.json", opts);
  EXPECT_EQ(ReadFile(dir_ / "n2.json").find("\"" + user + "\""), std::string::npos);
  EXPECT_EQ(ReadFile(dir_ / "n2.json").find("\"" + item + "\""), std::string::npos);
  // A cold-start user of the --users file, forgotten: no list for them either.
  r = RunAvrec({"forget", "-w", ws_, "--user", "newcomer1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("forgot 1 user"), std::string::npos) << r.err;  // their stored lists
  r = Recommend(dir_ / "n3.json", opts);
  EXPECT_NE(r.err.find("no list for 1 user `avrec forget` removed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "n3.json").find("\"newcomer1\""), std::string::npos);
  EXPECT_NE(ReadFile(dir_ / "n3.json").find("\"newcomer2\""), std::string::npos);
  Recommend(dir_ / "full3.json", {});
  EXPECT_EQ(ReadFile(dir_ / "n3.json"), ReadFile(dir_ / "full3.json"));

  // Ids that would take most of the workspace (a file of everyone, mixed
  // up) are refused without --force, and nothing changes.
  WriteFile(dir_ / "everyone.txt",
            QueryText(ws_, "SELECT group_concat(user_id, char(10)) FROM (SELECT DISTINCT user_id FROM reviews)"));
  r = RunAvrec({"forget", "-w", ws_, "--user-ids", dir_ / "everyone.txt"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("more than half: nothing was removed"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - removed);
  EXPECT_EQ(RunAvrec({"forget", "-w", ws_}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"forget", "-w", ws_, "--user", " "}).exit_code, 64);
  // A file of erasure requests is empty most nights.
  WriteFile(dir_ / "none.txt", "# no requests tonight\n");
  r = RunAvrec({"forget", "-w", ws_, "--user-ids", dir_ / "none.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("nothing to forget"), std::string::npos) << r.err;
  EXPECT_EQ(RunAvrec({"forget", "-w", dir_ / "missing.avrec", "--user", user}).exit_code, 66);

  // Ids that hold nothing: those forgotten before are counted, the others
  // named in a warning (a mistake must not pass as an erasure done). A review
  // of a user named too counts as held, whatever the order of removal.
  const std::string other = QueryText(ws_, "SELECT user_id FROM reviews ORDER BY user_id LIMIT 1");
  const std::string own = QueryText(ws_, "SELECT review_id FROM reviews WHERE user_id = '" + other + "' LIMIT 1");
  // A header line naming the column is not an id (an info line says so).
  WriteFile(dir_ / "mixed.txt", "user_id\nnobody\n" + user + "\n" + other + "\n");
  r = RunAvrec(
      {"forget", "-w", ws_, "--user-ids", dir_ / "mixed.txt", "--review", own, "--dry-run", "--log-format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json ev = Event(r.err, "stage_end");
  EXPECT_EQ(ev["users"], 1);
  EXPECT_EQ(ev["reviews"], 1);
  EXPECT_EQ(ev["not_found"], 2);
  EXPECT_EQ(ev["forgotten_before"], 1);
  EXPECT_NE(r.err.find("1 id given is not in the workspace, and no earlier forget named it: 'nobody'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("mixed.txt:1: 'user_id' names the column, not an id: read as a header line"), std::string::npos)
      << r.err;
  r = RunAvrec({"forget", "-w", ws_, "--user", user, "--item", item});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 ids given held nothing here (2 of them forgotten before)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // A table where the list belongs is refused, naming the line.
  WriteFile(dir_ / "table.tsv", other + "\trequest 17\n");
  r = RunAvrec({"forget", "-w", ws_, "--user-ids", dir_ / "table.tsv"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("table.tsv:1: '" + other + "\\trequest 17' holds a tab"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - removed);
}

// ingest --snapshot: the export is complete, so what the workspace holds and
// the files no longer do goes, as forget removes it but not remembered: a
// review deleted upstream, an item delisted with its reviews (those the
// export still holds are left out and counted). The next --only-changed
// night equals a full run; an export that would remove more than
// --snapshot-max-removed of the reviews changes nothing.
TEST_F(IncrementalTest, SnapshotIngestRemovesWhatTheExportNoLongerHolds) {
  Ingest(kReviews, kItems);
  const std::vector<std::string> opts = {"--only-changed", "--to-workspace"};
  Recommend(dir_ / "n1.json", opts);
  const int64_t total = QueryInt(ws_, "SELECT count(*) FROM reviews");
  const std::string item =
      QueryText(ws_, "SELECT item_id FROM reviews GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 1");
  const int64_t of_item = QueryInt(ws_, "SELECT count(*) FROM reviews WHERE item_id = '" + item + "'");
  const std::string deleted = QueryText(ws_,
                                        "SELECT group_concat(review_id, ',') FROM (SELECT review_id FROM reviews "
                                        "WHERE item_id <> '" +
                                            item + "' ORDER BY review_id LIMIT 2)");
  std::vector<std::string> reviews, items;
  for (const std::string& rec : lines_) {
    const std::string id = rec.substr(0, rec.find(','));
    if (deleted.find(id) == std::string::npos || id.empty()) reviews.push_back(rec);
  }
  for (const std::string& rec : Records(ReadFile(kItems))) {
    if (rec.rfind(item + ",", 0) != 0) items.push_back(rec);
  }
  ASSERT_EQ(reviews.size() + 2, lines_.size());
  WriteFile(dir_ / "export.csv", Join(reviews, 0, reviews.size()));
  WriteFile(dir_ / "catalogue.csv", Join(items, 0, items.size()));
  const std::vector<std::string> snapshot = {
      "ingest",     "-w",           ws_,   "--reviews", dir_ / "export.csv", "--items", dir_ / "catalogue.csv",
      "--snapshot", "--log-format", "json"};
  // --dry-run counts the same and changes nothing.
  const int64_t runs = QueryInt(ws_, "SELECT count(*) FROM runs");
  for (const bool dry : {true, false}) {
    std::vector<std::string> args = snapshot;
    if (dry) args.push_back("--dry-run");
    const RunResult r = RunAvrec(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json ev = Event(r.err, "ingest_snapshot");
    EXPECT_EQ(ev["items"], 1);
    EXPECT_EQ(ev["reviews"], 2);
    EXPECT_EQ(ev["reviews_removed"], 2 + of_item);
    EXPECT_GT(ev["lists_removed"].get<int>(), 0);  // their authors' stored lists
    EXPECT_NE(r.err.find(std::to_string(of_item) + " reviews of items the items file does not hold (such as '" + item +
                         "') left out"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(Event(r.err, "stage_end")["reviews"], total - 2 - of_item);
    EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), dry ? total : total - 2 - of_item);
    EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM runs"), dry ? runs : runs + 4);  // items, snapshot-items, ...
  }
  // A dry run of a first ingest leaves no workspace behind.
  EXPECT_EQ(
      RunAvrec({"ingest", "-w", dir_ / "new.avrec", "--reviews", kReviews, "--items", kItems, "--dry-run"}).exit_code,
      0);
  EXPECT_FALSE(test::FileExists(dir_ / "new.avrec"));
  RunResult r;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - 2 - of_item);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM items WHERE item_id = '" + item + "'"), 0);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM sqlite_master WHERE name = 'forgotten'"), 0);  // not remembered
  // The item is gone from every list: everyone is ranked again, as a full run would.
  ExpectOneItemRemovedReranksEveryone(dir_ / "n2.json", opts);
  EXPECT_EQ(ReadFile(dir_ / "n2.json").find("\"" + item + "\""), std::string::npos);
  // The same export again removes nothing; without --snapshot, a part of it
  // removes nothing either.
  r = RunAvrec(snapshot);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Event(r.err, "ingest_snapshot").empty()) << r.err;
  EXPECT_NE(r.err.find("--snapshot: nothing to remove: the files hold every item and review the workspace held"),
            std::string::npos)
      << r.err;
  std::vector<std::string> rest;  // the export less the reviews of the delisted item
  for (const std::string& rec : reviews) {
    if (rec.find("," + item + ",") == std::string::npos) rest.push_back(rec);
  }
  WriteFile(dir_ / "part.csv", Join(rest, 0, 100));
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws_, "--reviews", dir_ / "part.csv"}).exit_code, 0);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - 2 - of_item);
  // A truncated export as a snapshot: refused, nothing changed.
  r = RunAvrec({"ingest", "-w", ws_, "--reviews", dir_ / "part.csv", "--snapshot"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("part.csv: --snapshot would remove "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("more than --snapshot-max-removed 0.5 of them"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - 2 - of_item);
  // A catalogue that lost most of its items, none of them reviewed: the
  // reviews alone would not show it.
  std::string catalogue = ReadFile(kItems);
  for (int k = 0; k < 400; ++k)
    catalogue += "unreviewed" + std::to_string(k) + ",song,Unheard" + std::string(13, ',') + "\n";
  WriteFile(dir_ / "catalogue.csv", catalogue);
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws_, "--items", dir_ / "catalogue.csv"}).exit_code, 0);
  const int64_t reviews_now = QueryInt(ws_, "SELECT count(*) FROM reviews");
  ASSERT_EQ(QueryInt(ws_, "SELECT count(*) FROM items"), 700);
  r = RunAvrec({"ingest", "-w", ws_, "--items", kItems, "--snapshot"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(
      r.err.find(
          "--snapshot would remove 400 of the workspace's 700 items, more than --snapshot-max-removed 0.5 of them"),
      std::string::npos)
      << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM items"), 700);
  r = RunAvrec({"ingest", "-w", ws_, "--items", kItems, "--snapshot", "--snapshot-max-removed", "0.6"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM items"), 300);
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), reviews_now);
  // Rows --lenient skipped have ids no one knows: nothing is removed then.
  WriteFile(dir_ / "bad.csv", Join(rest, 0, 100) + "r_bad,u001,no-such-item,5,2024-01-01,text\n");
  r = RunAvrec({"ingest", "-w", ws_, "--reviews", dir_ / "bad.csv", "--snapshot", "--lenient"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bad.csv: --snapshot removes nothing this time: --lenient skipped 1 row of it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(QueryInt(ws_, "SELECT count(*) FROM reviews"), total - 2 - of_item);
}

}  // namespace
}  // namespace avrec
