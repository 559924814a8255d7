// avrec diff: rank-biased overlap by hand, the report's counts, thresholds.
#include "avrec/diff.h"

#include <gtest/gtest.h>

#include <cmath>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/json_values.h"
#include "avrec/output.h"
#include "test_util.h"

namespace avrec {
namespace {

TEST(Diff, RankBiasedOverlapByHand) {
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({"a", "b", "c"}, {"a", "b", "c"}, 3, 0.9), 1.0);
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({"a", "b"}, {"x", "y"}, 2, 0.9), 0.0);
  // a,b vs b,a at p = 0.5: A_1 = 0, A_2 = 1; RBO_ext = 1 * 0.25 + (0.5 / 0.5) * (0.5 * 0 + 0.25 * 1) = 0.5
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({"a", "b"}, {"b", "a"}, 2, 0.5), 0.5);
  // Lists of two lengths (Webber et al., eq. 32): x,y vs z,w,x,y at p = 0.9: X = 0, 0, 1, 2 and X_s = 0;
  // (0.1 / 0.9) * (0.9^3 / 3 + 0.9^4 * 2 / 4) + (2 / 4) * 0.9^4 = 0.3915. Cut at the shorter
  // list's depth, it would be 0: the longer list's x and y count.
  EXPECT_NEAR(RankBiasedOverlap({"x", "y"}, {"z", "w", "x", "y"}, 10, 0.9), 0.3915, 1e-12);
  EXPECT_NEAR(RankBiasedOverlap({"z", "w", "x", "y"}, {"x", "y"}, 10, 0.9), 0.3915, 1e-12);
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({"z", "w", "x", "y"}, {"x", "y"}, 2, 0.9), 0.0);  // cut at k first
  // A list that grew past the same first five: the extrapolation takes the shorter one to go on agreeing.
  EXPECT_NEAR(RankBiasedOverlap({"a", "b", "c", "d", "e"}, {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, 10, 0.9),
              1.0, 1e-12);
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({}, {"a"}, 10, 0.9), 0.0);
  EXPECT_DOUBLE_EQ(RankBiasedOverlap({}, {}, 10, 0.9), 1.0);
}

RecommendationLists Lists(const std::vector<std::pair<std::string, std::vector<std::string>>>& users) {
  RecommendationLists r;
  for (const auto& [u, items] : users) {
    r.users.push_back(u);
    auto& list = r.lists[u];  // as the reader: an empty list is a list
    for (const auto& i : items) list.emplace_back(i, 0.0);
  }
  return r;
}

TEST(Diff, ReportCountsAndThresholds) {
  const auto before = Lists({{"u1", {"a", "b"}}, {"u2", {"a", "c"}}, {"gone", {"a", "b"}}});
  const auto after = Lists({{"u1", {"a", "b"}}, {"u2", {"d", "e"}}, {"new", {"d", "b"}}});
  DiffOptions o;
  o.k = 2;
  const auto r = DiffRecommendations(before, after, o);
  const auto& s = r["summary"];
  EXPECT_EQ(s["users_added"], 1);
  EXPECT_EQ(s["users_removed"], 1);
  EXPECT_EQ(s["users_common"], 2);
  EXPECT_EQ(s["users_changed"], 1);
  EXPECT_DOUBLE_EQ(s["mean_overlap"].get<double>(), 0.5);  // u1 2/2, u2 0/2
  EXPECT_DOUBLE_EQ(s["churn"].get<double>(), 0.5);
  EXPECT_EQ(s["coverage_old"], 3);                               // a, b, c
  EXPECT_EQ(s["coverage_new"], 4);                               // a, b, d, e
  EXPECT_EQ(r["items_entering_most_lists"][0]["item_id"], "d");  // in 0, then 2 lists
  ASSERT_EQ(r["users_moved_most"].size(), 1u);                   // u1's list did not move
  EXPECT_EQ(r["users_moved_most"][0]["user_id"], "u2");
  EXPECT_TRUE(DiffRecommendations(before, before, o)["users_moved_most"].empty());
  std::string why;
  EXPECT_TRUE(ThresholdHolds(s, "churn>0.3", &why));
  EXPECT_FALSE(ThresholdHolds(s, "mean_overlap<0.5", &why));
  EXPECT_THROW(ThresholdHolds(s, "nonsense>1", &why), Error);
  EXPECT_THROW(ThresholdHolds(s, "churn", &why), Error);
  // A field the summary lacks: the fields are listed ("..." only when more
  // than eight are left out), and the caller may add its word on the field.
  const nlohmann::ordered_json small = {{"churn", 0.5}, {"k", 2}, {"note", "text"}};
  const auto message = [&](const nlohmann::ordered_json& summary, const std::string& threshold,
                           const MissingFieldHint& hint) {
    try {
      ThresholdHolds(summary, threshold, &why, hint);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(small, "churn.change>0", {}), "--fail-if: no field 'churn.change' (fields: churn, k)");
  EXPECT_EQ(
      message(small, "note>0", [](const nlohmann::ordered_json&, const std::string& f) { return "; hint on " + f; }),
      "--fail-if: no field 'note' (fields: churn, k); hint on note");
  EXPECT_EQ(message(s, "nonsense>1", {}),
            "--fail-if: no field 'nonsense' (fields: k, users_old, users_new, users_added, users_removed, "
            "users_common, users_changed, mean_overlap, ...)");
}

// Lists shorter than k: overlap counts shared items over the longer of the
// two lists, so identical short lists do not churn, and a list that grew
// shares only what it kept.
TEST(Diff, ListsShorterThanKOverlapOverTheLongerList) {
  const auto before = Lists({{"same", {"a", "b", "c"}}, {"grew", {"a", "b"}}, {"none", {}}, {"emptied", {"a"}}});
  const auto after = Lists({{"same", {"a", "b", "c"}}, {"grew", {"a", "b", "x", "y"}}, {"none", {}}, {"emptied", {}}});
  DiffOptions o;  // k 10
  const auto s = DiffRecommendations(before, after, o)["summary"];
  // same 3/3, grew 2/4, none (both empty) 1, emptied 0/1
  EXPECT_DOUBLE_EQ(s["mean_overlap"].get<double>(), (1 + 0.5 + 1 + 0) / 4);
  EXPECT_EQ(s["users_changed"], 2);
  const auto self = DiffRecommendations(before, before, o)["summary"];
  EXPECT_DOUBLE_EQ(self["churn"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(self["mean_rbo"].get<double>(), 1.0);
}

// No user in both files: nothing to compare, so no 1.0 overlap or 0.0
// churn that would read as "unchanged"; no earlier items, no drift.
TEST(Diff, NoUserInBothFilesLeavesTheComparisonsNull) {
  const auto before = Lists({{"U1", {"a", "b"}}, {"U2", {"a"}}});
  const auto after = Lists({{"u1", {"a", "b"}}, {"u2", {"a"}}});
  DiffOptions o;
  const auto s = DiffRecommendations(before, after, o)["summary"];
  EXPECT_EQ(s["users_common"], 0);
  EXPECT_EQ(s["users_added"], 2);
  for (const char* field : {"mean_overlap", "mean_rbo", "churn"}) EXPECT_TRUE(s[field].is_null()) << field;
  EXPECT_DOUBLE_EQ(s["popularity_drift"].get<double>(), 0.0);  // the same items, as often
  std::string why;
  EXPECT_TRUE(ThresholdHolds(s, "churn>0.3", &why));  // a gate nothing can check does not pass
  EXPECT_EQ(why, "churn is null (nothing to measure), so churn > 0.3 cannot be ruled out");
  const auto first = DiffRecommendations(Lists({}), after, o)["summary"];
  EXPECT_TRUE(first["popularity_drift"].is_null());
  EXPECT_TRUE(first["churn"].is_null());
}

TEST(DiffCli, FailIfGivesExit1AndTheReport) {
  test::TempDir dir;
  test::WriteFile(dir / "a.jsonl", "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"b\"}]}\n");
  test::WriteFile(dir / "b.jsonl", "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"c\"},{\"item_id\":\"b\"}]}\n");
  auto r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl", "--k", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"churn\": 0.5"), std::string::npos) << r.out;
  r = test::RunAvrec(
      {"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl", "--k", "2", "--fail-if", "churn>0.3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("churn = 0.5 > 0.3"), std::string::npos) << r.err;
  r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl", "--fail-if", "churn"});
  EXPECT_EQ(r.exit_code, 64);
  // >= and <= hold at the limit; spaces around the field and the number are read past.
  for (const auto& [gate, code] : std::vector<std::pair<std::string, int>>{
           {"churn>=0.5", 1}, {"churn <= 0.5", 1}, {" churn > 0.5 ", 0}, {"churn<0.5", 0}, {"churn=>0.5", 64}}) {
    r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl", "--k", "2", "--fail-if", gate});
    EXPECT_EQ(r.exit_code, code) << gate << ": " << r.err;
  }
  EXPECT_NE(r.err.find("--fail-if: no field 'churn=' (did you mean 'churn'?) (fields: k, users_old, "),
            std::string::npos)
      << r.err;
  // A gate naming no field fails before the files are read.
  r = test::RunAvrec({"diff", "--old", dir / "missing.jsonl", "--new", dir / "b.jsonl", "--fail-if", "chrun>0.3"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("--fail-if: no field 'chrun' (did you mean 'churn'?) (fields: k, users_old, "),
            std::string::npos)
      << r.err;
  // User ids in another form tonight: the gate fails, and the log says why.
  test::WriteFile(dir / "upper.jsonl", "{\"user_id\":\"U\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"b\"}]}\n");
  r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "upper.jsonl", "--fail-if", "churn>0.3"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("\"churn\": null"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("no user has a list in both files (1 earlier, 1 later): mean_overlap, mean_rbo and churn are "
                       "null; are they lists of the same users (user ids in the same form)?"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("churn is null (nothing to measure)"), std::string::npos) << r.err;
}

// Lists made to different lengths: the figures stand as they are, and the
// log says why they churn and which depth compares like with like.
TEST(DiffCli, ListsMadeToDifferentLengthsAreNamed) {
  test::TempDir dir;
  const std::string user = "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"b\"}]}\n";
  test::WriteFile(dir / "a.jsonl", "{\"header\":{\"top_n\":1}}\n{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"}]}\n");
  test::WriteFile(dir / "b.jsonl", "{\"header\":{\"top_n\":2}}\n" + user);
  auto r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"churn\": 0.5"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("made with top_n 1, the later with top_n 2: at depth 10 the items past 1 count as changes"),
            std::string::npos)
      << r.err;
  r = test::RunAvrec({"diff", "--old", dir / "a.jsonl", "--new", dir / "b.jsonl", "--k", "1"});
  EXPECT_NE(r.out.find("\"churn\": 0.0"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("top_n"), std::string::npos) << r.err;
}

// A header naming another format (a later avrec's) is read as this one's,
// and the log says so; a file without a header is read without a word.
TEST(DiffCli, AnotherFormatIsReadWithAWarning) {
  test::TempDir dir;
  const std::string user = "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"}]}\n";
  test::WriteFile(dir / "v2.jsonl", "{\"header\":{\"format\":\"avrec-recommendations/2\"}}\n" + user);
  test::WriteFile(dir / "other.jsonl", "{\"header\":{\"format\":7}}\n" + user);
  test::WriteFile(dir / "v1.jsonl", "{\"header\":{\"format\":\"avrec-recommendations/1\"}}\n" + user);
  test::WriteFile(dir / "bare.jsonl", user);
  auto r = test::RunAvrec({"diff", "--old", dir / "v1.jsonl", "--new", dir / "v2.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("v2.jsonl: the header names the format 'avrec-recommendations/2'; this avrec reads "
                       "avrec-recommendations/1 and reads the file as that (user_id, items with item_id and score): "
                       "a later avrec wrote it?"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("\"churn\": 0.0"), std::string::npos) << r.out;
  r = test::RunAvrec({"diff", "--old", dir / "bare.jsonl", "--new", dir / "other.jsonl"});
  EXPECT_NE(r.err.find("other.jsonl: the header names the format '7'; this avrec reads"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("bare.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("later avrec"), std::string::npos) << r.err;
}

// What the writer writes of a user, the reader reads back: the same JSON
// line again (incremental nights copy unchanged users this way).
TEST(ReadLists, AUserReadBackWritesTheSameBytes) {
  UserRecommendations u;
  u.user_id = "u1";
  u.history = 2;
  RecommendedItem it;
  it.item_id = "b";
  it.rank = 1;
  it.score = 0.25;
  it.title = "B";
  it.explanation =
      "Because you liked \u201cA\u201d: people who like it tend to like this song too, and both are "
      "tagged folk and rock.";
  Reason learned;
  learned.kind = "learned_from";
  learned.item_id = "a";
  learned.title = "A";
  learned.value = 0.125;
  learned.tags = {"folk", "rock"};
  Reason modality;
  modality.kind = "modality";
  modality.modality = "audio";
  modality.features = {"audio.tempo"};
  modality.value = 0.5;
  Reason held;  // --avoid-below
  held.kind = "predicted_dislike";
  held.value = -0.375;
  held.below = 0.25;
  it.reasons = {held, learned, modality};
  u.items = {it};
  const std::string line = UserJson(u, -1);
  EXPECT_NE(line.find("\"shared_tags\":[\"folk\",\"rock\"]"), std::string::npos) << line;
  EXPECT_NE(line.find("{\"kind\":\"predicted_dislike\",\"predicted_feeling\":-0.375,\"below\":0.25}"),
            std::string::npos)
      << line;
  const UserRecommendations back = UserFromJson(nlohmann::json::parse(line));
  EXPECT_EQ(back.items.at(0).reasons.at(1).tags, learned.tags);
  EXPECT_EQ(back.items.at(0).reasons.at(0).below, 0.25);
  EXPECT_EQ(UserJson(back, -1), line);
}

// A report keeps the words (reasons, titles, explanations) of the users it
// shows only; the rest keep their flags, items and scores. A user listed
// again keeps its place, with the later list.
TEST(ReadLists, WordsAreKeptForTheFirstUsersOnly) {
  test::TempDir dir;
  const auto user = [](const std::string& id, const std::string& item, double score) {
    return "{\"user_id\":\"" + id + "\",\"cold_start\":false,\"history\":1,\"low_confidence\":true," +
           "\"low_confidence_reason\":\"no signal\",\"items\":[{\"item_id\":\"" + item +
           "\",\"rank\":1,\"score\":" + std::to_string(score) + ",\"title\":\"T\",\"explanation\":\"Because.\"," +
           "\"reasons\":[{\"kind\":\"popular\",\"reviewers\":3}]}]}\n";
  };
  test::WriteFile(dir / "l.jsonl", user("u1", "a", 0.5) + user("u2", "b", 0.25) + user("u3", "c", 0.125) +
                                       user("u2", "d", 0.75) + user("u1", "e", 1));
  std::vector<UserRecommendations> users;
  const RecommendationLists lists = ReadRecommendationLists(dir / "l.jsonl", &users, 1);
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(lists.users, (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(users[0].user_id, "u1");
  EXPECT_EQ(users[0].items.at(0).item_id, "e");  // the later list, in the first place, with its words
  EXPECT_EQ(users[0].items.at(0).reasons.size(), 1u);
  EXPECT_EQ(users[0].items.at(0).explanation, "Because.");
  EXPECT_EQ(users[0].low_confidence_reason, "no signal");
  for (size_t u : {1, 2}) {
    EXPECT_EQ(users[u].user_id, u == 1 ? "u2" : "u3");
    EXPECT_TRUE(users[u].low_confidence);
    EXPECT_EQ(users[u].low_confidence_reason, "");
    EXPECT_EQ(users[u].items.at(0).item_id, u == 1 ? "d" : "c");
    EXPECT_EQ(users[u].items.at(0).score, u == 1 ? 0.75 : 0.125);
    EXPECT_TRUE(users[u].items.at(0).reasons.empty());
    EXPECT_EQ(users[u].items.at(0).title, "");
    EXPECT_EQ(users[u].items.at(0).explanation, "");
  }
  EXPECT_EQ(lists.lists.at("u2").at(0).first, "d");
}

// A report reads each user whole: a field it needs names the user once
// quoted (the id is shown escaped, as everywhere).
TEST(ReadLists, AUserWithoutAFieldTheReportNeedsIsNamed) {
  test::TempDir dir;
  test::WriteFile(dir / "l.jsonl", "{\"user_id\":\"a\\nb\",\"items\":[{\"item_id\":\"x\",\"rank\":1,\"score\":1}]}\n");
  std::vector<UserRecommendations> users;
  try {
    ReadRecommendationLists(dir / "l.jsonl", &users);
    ADD_FAILURE() << "read a list without cold_start";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kDataErr);
    EXPECT_EQ(std::string(e.what()),
              dir / "l.jsonl:1: user 'a\\nb': recommendation: field 'cold_start' missing or of the wrong type");
  }
}

// The length a header says the lists were made to; 0 where it says none.
TEST(ReadLists, TopNIsTheHeadersPositiveInteger) {
  RecommendationLists r;
  EXPECT_EQ(r.TopN(), 0);
  r.header = {{"top_n", 5}};
  EXPECT_EQ(r.TopN(), 5);
  r.header = {{"top_n", int64_t{100000000000}}};
  EXPECT_EQ(r.TopN(), 100000000000);
  for (const auto& v : {nlohmann::json(-3), nlohmann::json("10"), nlohmann::json(2.5), nlohmann::json(nullptr)}) {
    r.header = {{"top_n", v}};
    EXPECT_EQ(r.TopN(), 0) << v.dump();
  }
}

// The message ReadRecommendationLists fails with ("" when it reads the file).
std::string ReadError(const std::string& path) {
  try {
    ReadRecommendationLists(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kDataErr);
    return e.what();
  }
  return "";
}

// A list file cut short or of the wrong kind is named with where it broke.
TEST(ReadLists, BrokenFilesSayWhereAndWhat) {
  test::TempDir dir;
  const std::string doc =
      "{\n  \"header\": {},\n  \"users\": [\n    {\"user_id\": \"u\", \"items\": [{\"item_id\": \"a\"}]},\n"
      "    {\"user_id\": \"v\", \"items\": [{\"item_id\": \"b\"}]}\n  ]\n}\n";
  test::WriteFile(dir / "whole.json", doc);
  EXPECT_EQ(ReadError(dir / "whole.json"), "");
  EXPECT_EQ(ReadRecommendationLists(dir / "whole.json").users.size(), 2u);
  // Cut inside the second user: line 5, where the input ends.
  test::WriteFile(dir / "cut.json", doc.substr(0, doc.find("\"b\"")));
  EXPECT_EQ(ReadError(dir / "cut.json"),
            dir /
                "cut.json:5: not valid JSON: unexpected end of input; expected a value (column 44; in the value "
                "that starts on line 1)");
  // A wrong field in a document: which user.
  std::string bad = doc;
  bad.replace(bad.find("\"b\""), 3, "5");
  test::WriteFile(dir / "bad.json", bad);
  EXPECT_EQ(ReadError(dir / "bad.json"), dir / "bad.json:5: users[1]: expected items with a string item_id");
  // Some other JSON document.
  test::WriteFile(dir / "other.json", "{\n  \"a\": 1\n}\n");
  EXPECT_NE(ReadError(dir / "other.json").find("a JSON document without a 'users' list"), std::string::npos);
  // JSON Lines: the line where the parser broke, and the line its value
  // starts on when that is another.
  test::WriteFile(dir / "l.jsonl",
                  "{\"user_id\":\"u\",\"items\":[]}\n{\"user_id\":\"v\",\"items\":[{\"item_id\":\"a\"}\n"
                  "{\"user_id\":\"w\",\"items\":[]}\n");
  EXPECT_EQ(ReadError(dir / "l.jsonl"),
            dir /
                "l.jsonl:3: not valid JSON: unexpected '{'; expected ',' or ']' after a list's element (column 1; "
                "in the value that starts on line 2)");
  test::WriteFile(dir / "two.jsonl", "{\"user_id\":\"u\",\"items\":[]} {\"user_id\":\"v\",\"items\":[]}\n");
  EXPECT_EQ(ReadError(dir / "two.jsonl"),
            dir / "two.jsonl:1: text after the JSON value that ends on this line (column 28)");
}

// The CSV and TSV lists `recommend --format csv|tsv` writes (with
// --spreadsheet-safe's ' before an id that begins with - or =) read as the
// same lists as its JSON Lines; a user's rows in any order (a table sorted
// in a spreadsheet); a table without a rank column in file order. A
// report, which needs the reasons, refuses them.
TEST(ReadLists, TablesAsRecommendWritesThemReadAsItsJson) {
  test::TempDir dir;
  const auto item = [](const std::string& id, int rank, double score) {
    RecommendedItem it;
    it.item_id = id;
    it.rank = rank;
    it.score = score;
    it.title = "T, \"quoted\"";
    return it;
  };
  UserRecommendations a, b;
  a.user_id = "-1";
  a.items = {item("=x", 1, 0.5), item("b", 2, 0.25)};
  b.user_id = "u2";
  b.items = {item("c", 1, 0.125)};
  for (const auto& [name, format] :
       {std::pair{"l.jsonl", RecommendationFormat::kJsonl}, std::pair{"l.csv", RecommendationFormat::kCsv},
        std::pair{"l.tsv", RecommendationFormat::kTsv}, std::pair{"lists", RecommendationFormat::kTsv}}) {
    RecommendationWriter w(dir / name, format, OutputHeader{}, /*spreadsheet_safe=*/true);
    w.Add(a);
    w.Add(b);
    w.Commit();
  }
  EXPECT_NE(test::ReadFile(dir / "l.csv").find("'-1,1,'=x,"), std::string::npos);
  const RecommendationLists json = ReadRecommendationLists(dir / "l.jsonl");
  EXPECT_EQ(json.users, (std::vector<std::string>{"-1", "u2"}));
  for (const char* name : {"l.csv", "l.tsv", "lists"}) {
    const RecommendationLists flat = ReadRecommendationLists(dir / name);
    EXPECT_EQ(flat.users, json.users) << name;
    EXPECT_EQ(flat.lists, json.lists) << name;
  }
  test::WriteFile(dir / "truth.csv", "user_id,item_id\n-1,b\nu2,a\n");
  const auto evaluated = [&](const std::string& recs) {
    const auto r = test::RunAvrec({"evaluate", "--recs", recs, "--truth", dir / "truth.csv", "--k", "2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_NE(evaluated(dir / "l.jsonl").find("\"hit@2\": 0.5"), std::string::npos) << evaluated(dir / "l.jsonl");
  EXPECT_EQ(evaluated(dir / "l.csv"), evaluated(dir / "l.jsonl"));
  // Rows out of order, and a table of the user's own with no rank.
  test::WriteFile(dir / "sorted.csv", "user_id,rank,item_id,score\nu,2,b,0.5\nv,1,c,\nu,1,a,1\n");
  RecommendationLists sorted = ReadRecommendationLists(dir / "sorted.csv");
  EXPECT_EQ(sorted.users, (std::vector<std::string>{"u", "v"}));
  EXPECT_EQ(sorted.lists.at("u"), (std::vector<std::pair<std::string, double>>{{"a", 1.0}, {"b", 0.5}}));
  EXPECT_EQ(sorted.lists.at("v"), (std::vector<std::pair<std::string, double>>{{"c", 0.0}}));
  test::WriteFile(dir / "own.csv", "item_id,user_id\nb,u\na,u\n");
  EXPECT_EQ(std::move(ReadRecommendationLists(dir / "own.csv")).Items().at("u"), (std::vector<std::string>{"b", "a"}));
  // Two nights' tables concatenated, whole or without the second header.
  const std::string csv = test::ReadFile(dir / "l.csv");
  test::WriteFile(dir / "twice.csv", csv + csv);
  EXPECT_EQ(ReadError(dir / "twice.csv"), dir / "twice.csv: 1 invalid row");
  test::WriteFile(dir / "again.csv", csv + csv.substr(csv.find('\n') + 1));
  EXPECT_EQ(ReadError(dir / "again.csv"),
            dir / "again.csv:5: user '-1' has rank 1 twice (also at line 2): two lists concatenated?");
  test::WriteFile(dir / "rank.csv", "user_id,rank,item_id\nu,0,a\n");
  EXPECT_EQ(ReadError(dir / "rank.csv"), dir / "rank.csv: 1 invalid row");
  test::WriteFile(dir / "cols.csv", "user,rank,item_id\nu,1,a\n");
  EXPECT_EQ(ReadError(dir / "cols.csv"), dir / "cols.csv: no row can be read: the problem with its header is above");
  std::vector<UserRecommendations> users;
  try {
    ReadRecommendationLists(dir / "l.csv", &users);
    ADD_FAILURE() << "a report read a CSV list";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kDataErr);
    EXPECT_NE(std::string(e.what()).find("l.csv: lists as a CSV or TSV table"), std::string::npos) << e.what();
  }
}

// A document's list arrives an element at a time, each with the line it
// starts on, before the parser has seen the rest of the file: the proof is
// a document cut short, whose first elements are handed out before the
// parser fails at its end. The other values and JSON Lines come whole.
TEST(JsonValues, ADocumentsListArrivesOneElementAtATime) {
  test::TempDir dir;
  std::vector<std::string> seen;
  // What ReadJsonValues hands out for a file of `text` (in `seen`, also
  // when it fails), and its message ("" when it reads the file).
  const auto read = [&](const std::string& name, const std::string& text, const std::string& key, size_t bound) {
    test::WriteFile(dir / name, text);
    seen.clear();
    const auto element = [&](int64_t i, int64_t line, nlohmann::json&& e) {
      seen.push_back(std::to_string(i) + "@" + std::to_string(line) + "=" + e.dump());
    };
    const auto value = [&](JsonValueRead&& v) {
      seen.push_back("value " + std::to_string(v.first_line) + "-" + std::to_string(v.last_line) +
                     (v.streamed ? " streamed " : " ") + v.value.dump());
    };
    try {
      ByteSource src(dir / name);
      ReadJsonValues(&src, key, element, value, bound);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kDataErr);
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string whole =
      "{\"header\": {\"n\": 2},\n \"users\": [\n  {\"u\": 1},\n  7,\n  {\"u\": [3,\n 4]}\n ],\n"
      " \"tail\": true}\n{\"u\": 5}\n\n  [6]\n";
  EXPECT_EQ(read("d.json", whole, "users", 1 << 20), "");
  EXPECT_EQ(seen, (std::vector<std::string>{"0@3={\"u\":1}", "1@4=7", "2@5={\"u\":[3,4]}",
                                            "value 1-8 streamed {\"header\":{\"n\":2},\"tail\":true}",
                                            "value 9-9 {\"u\":5}", "value 11-11 [6]"}));
  // Without a key to stream, the list stays in its document.
  EXPECT_EQ(read("d.json", whole, "", 1 << 20), "");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].substr(0, 34), "value 1-8 {\"header\":{\"n\":2},\"tail\"");
  EXPECT_NE(seen[0].find("\"users\":[{\"u\":1},7,{\"u\":[3,4]}]"), std::string::npos) << seen[0];

  // Cut short: the two first elements came before the error at the end.
  EXPECT_NE(
      read("cut.json", whole.substr(0, whole.find("{\"u\": [3")), "users", 1 << 20).find("cut.json:5: not valid JSON"),
      std::string::npos);
  EXPECT_EQ(seen, (std::vector<std::string>{"0@3={\"u\":1}", "1@4=7"}));

  // A value is bounded, an element of the streamed list on its own: a list
  // far longer than the bound is read, a string that never closes is not.
  std::string list = "{\"users\": [";
  for (int i = 0; i < 1000; ++i) list += (i > 0 ? ",\n" : "") + std::string("{\"u\": ") + std::to_string(i) + "}";
  EXPECT_EQ(read("long.json", list + "],\n \"after\": \"" + std::string(500, 'a') + "\"}\n", "users", 1024), "");
  EXPECT_EQ(seen.size(), 1001u);
  EXPECT_NE(read("open.jsonl", "{\"u\": 1}\n{\"u\": \"" + std::string(5000, 'a'), "users", 1024)
                .find("open.jsonl:2: a JSON value longer than"),
            std::string::npos);

  // Blanks are no value: any number of them, before, between and after the
  // values, is read under any bound.
  EXPECT_EQ(read("blank.jsonl",
                 "\n" + std::string(3000, ' ') + "{\"u\": 1}\n" + std::string(3000, '\n') + "{\"u\": 2}" +
                     std::string(3000, ' ') + "\n\n",
                 "users", 1024),
            "");
  EXPECT_EQ(seen, (std::vector<std::string>{"value 2-2 {\"u\":1}", "value 3003-3003 {\"u\":2}"}));
  test::WriteFile(dir / "lead.jsonl", "\n\n{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"}]}\n");
  EXPECT_EQ(ReadRecommendationLists(dir / "lead.jsonl").users, std::vector<std::string>{"u"});

  // A number ends at the byte after it, which the parser takes: a line end
  // ends its line, anything but a blank is text after it.
  EXPECT_EQ(read("n.jsonl", "6\n7 \n8", "users", 1024), "");
  EXPECT_EQ(seen, (std::vector<std::string>{"value 1-1 6", "value 2-2 7", "value 3-3 8"}));
  EXPECT_NE(read("n2.jsonl", "6\\0\n", "users", 1024).find("n2.jsonl:1: text after the JSON value"), std::string::npos);

  // ParseJson's checks hold inside the streamed list.
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"{\"users\": [{\"a\": 1, \"a\": 2}]}", "x.json:1: key 'a' appears twice in one object"},
           {"{\"users\": [1e999]}", "x.json:1: number out of range"},
           {"{\"users\": " + std::string(70, '[') + std::string(70, ']') + "}", "x.json:1: JSON nested deeper than 64"},
       }) {
    EXPECT_NE(read("x.json", text, "users", 1 << 20).find(error), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace avrec
