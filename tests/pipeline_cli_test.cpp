// score, recommend, topk and run through the built binary (the tiny models
// keep these fast; the default model is exercised by `run` on the sample).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "test_util.h"

namespace avrec {
namespace {

using test::kItems;
using test::kReviews;
using test::kTinyEmbedding;
using test::kTinySentiment;
using test::ReadFile;
using test::RunAvrec;
using test::SourcePath;
using test::TempDir;
using test::WriteFile;

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : test::SplitLines(text)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// docs/models.md, "Batching and reproducibility": in bf16 a text's result is
// the same bytes in any batch and thread count; in fp32 (the default where
// the CPU has no AVX512-BF16 or AMX) the same in any thread count, and within
// a few units of the 6th decimal in other batches.
TEST(ScoreCli, OutputIsIdenticalAcrossThreadsAndBatches) {
  TempDir dir;
  const auto score = [&](const std::string& name, const std::string& precision, const std::string& threads,
                         bool small_batches) {
    std::vector<std::string> args = {"score",    "--model",   kTinySentiment, "--reviews",   kReviews, "--out",
                                     dir / name, "--threads", threads,        "--precision", precision};
    if (small_batches) args.insert(args.end(), {"--batch-size", "5", "--max-batch-tokens", "300"});
    const auto r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFile(dir / name);
  };
  EXPECT_EQ(score("a.jsonl", "bf16", "1", false), score("b.jsonl", "bf16", "2", true));
  const std::string fp32 = score("c.jsonl", "fp32", "1", false);
  EXPECT_EQ(fp32, score("d.jsonl", "fp32", "2", false));
  const auto rows = JsonLines(fp32), other = JsonLines(score("e.jsonl", "fp32", "2", true));
  ASSERT_GT(rows.size(), 2000u);
  ASSERT_EQ(rows.size(), other.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_TRUE(r.contains("review_id") && r.contains("label") && r.contains("score") && r.contains("probs"));
    EXPECT_EQ(r["review_id"], other[i]["review_id"]);
    EXPECT_NEAR(r["score"].get<double>(), other[i]["score"].get<double>(), 1e-5) << r.dump();
    double s = r["score"].get<double>();
    EXPECT_GE(s, -1.0);
    EXPECT_LE(s, 1.0);
    EXPECT_NEAR(r["probs"]["negative"].get<double>() + r["probs"]["positive"].get<double>(), 1.0, 2e-6);
  }
}

TEST(ScoreCli, EmptyTextIsNeutralAndFlaggedAndLongTextIsCounted) {
  TempDir dir;
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "great song ";
  WriteFile(dir / "r.jsonl",
            "{\"review_id\":\"e\",\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"   \"}\n"
            "{\"review_id\":\"w\",\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"\\u3000\\u200b\"}\n"
            "{\"review_id\":\"l\",\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"" +
                long_text +
                "\"}\n"
                "{\"review_id\":\"n\",\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"fine\"}\n");
  for (const char* policy : {"head-tail", "head", "split-average"}) {
    auto r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / "r.jsonl", "--out", dir / "o.jsonl",
                       "--long-text", policy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto rows = JsonLines(ReadFile(dir / "o.jsonl"));
    ASSERT_EQ(rows.size(), 4u);
    for (int k : {0, 1}) {
      EXPECT_EQ(rows[k]["label"], "neutral");
      EXPECT_EQ(rows[k]["score"], 0.0);
      EXPECT_EQ(rows[k]["flags"], nlohmann::json::array({"empty_text"}));
    }
    EXPECT_EQ(rows[2]["flags"][0], std::string(policy) == "split-average" ? "split" : "truncated");
    EXPECT_FALSE(rows[3].contains("flags"));
    EXPECT_NE(r.err.find("1 longer than 64 tokens"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2 empty (neutral)"), std::string::npos) << r.err;
  }
}

// score reads texts: a corpus without users and items (a labelled sentiment
// dataset) is scored as it is, each text as it would be in a review, but a
// file without texts, or a record without one, is an error though score
// accepts blank texts (since the text column became optional for a file of
// ratings, such a file was scored as all neutral).
TEST(ScoreCli, ACorpusOfTextsAloneIsScored) {
  TempDir dir;
  WriteFile(dir / "corpus.csv", "review_id,label,text\nr1,1,great song\nr2,0,awful noise\nr3,1,\n");
  WriteFile(dir / "reviews.csv",
            "review_id,user_id,item_id,text\nr1,u1,i1,great song\nr2,u1,i2,awful noise\nr3,u2,i1,\n");
  auto r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / "corpus.csv", "--out", dir / "c.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / "reviews.csv", "--out", dir / "r.jsonl"})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(dir / "c.jsonl"), ReadFile(dir / "r.jsonl"));
  EXPECT_EQ(JsonLines(ReadFile(dir / "c.jsonl")).size(), 3u);
  // Without review ids: ids from the content, one line per distinct text.
  WriteFile(dir / "texts.jsonl", "{\"text\":\"great song\"}\n{\"text\":\"great song\"}\n{\"text\":\"meh\"}\n");
  r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / "texts.jsonl", "--out", dir / "t.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonLines(ReadFile(dir / "t.jsonl")).size(), 2u);
  EXPECT_NE(r.err.find("1 exact duplicate review (kept once)"), std::string::npos) << r.err;
  // No texts: nothing to score.
  WriteFile(dir / "ratings.csv", "user_id,item_id,rating\nu1,i1,5\n");
  WriteFile(dir / "lacking.jsonl", "{\"text\":\"fine\"}\n{\"label\":1}\n");
  for (const auto& [name, said] : std::vector<std::pair<std::string, std::string>>{
           {"ratings.csv",
            "ratings.csv:1: missing required column 'text' (the header has: 'user_id', 'item_id', "
            "'rating')"},
           {"lacking.jsonl", "lacking.jsonl:2: missing required field 'text'\n"}}) {
    r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / name, "--out", dir / "x.jsonl"});
    EXPECT_EQ(r.exit_code, 65) << name << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("--allow-empty-text"), std::string::npos) << r.err;  // score has no such option
    EXPECT_FALSE(std::filesystem::exists(dir / "x.jsonl"));
  }
}

TEST(EmbedCli, BlankTextsAreZeroAndRepeatedIdsAreErrors) {
  TempDir dir;
  WriteFile(dir / "t.csv", "id,text\na,a fine song\nb,\"  \"\nc,\"two\nlines\"\n");
  auto r = RunAvrec({"embed", "--model", kTinyEmbedding, "--input", dir / "t.csv", "--out", dir / "e.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = JsonLines(ReadFile(dir / "e.jsonl"));
  ASSERT_EQ(rows.size(), 3u);
  double norm_a = 0, norm_b = 0;
  for (double x : rows[0]["embedding"]) norm_a += x * x;
  for (double x : rows[1]["embedding"]) norm_b += x * x;
  EXPECT_NEAR(norm_a, 1.0, 1e-4);  // unit length
  EXPECT_EQ(norm_b, 0.0);          // blank: not run through the model
  EXPECT_NE(r.err.find("1 blank texts written as zero vectors"), std::string::npos) << r.err;

  // Two embeddings under one id: an error naming both lines, nothing written.
  WriteFile(dir / "dup.csv", "id,text\na,one\nb,two\na,three\n");
  r = RunAvrec({"embed", "--model", kTinyEmbedding, "--input", dir / "dup.csv", "--out", dir / "d.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("dup.csv:4: field 'id': duplicate id 'a' (first on line 2)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 invalid row"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "d.jsonl"));

  // A table under other names (MovieLens's movies.csv): one message at the
  // header with the --map that reads it, not one per row; the map reads it.
  WriteFile(dir / "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Animation\n2,Jumanji (1995),Adventure\n");
  r = RunAvrec({"embed", "--model", kTinyEmbedding, "--input", dir / "movies.csv", "--out", dir / "m.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("movies.csv:1: missing required columns 'id', 'text' (the header has: 'movieId', 'title', "
                       "'genres'); --map id=movieId,text=title reads"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("movies.csv:2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("movies.csv: no row can be read: the problem with its header is above\n"), std::string::npos)
      << r.err;  // not "1 invalid row"
  EXPECT_FALSE(test::FileExists(dir / "m.jsonl"));
  r = RunAvrec({"embed", "--model", kTinyEmbedding, "--input", dir / "movies.csv", "--map", "id=movieId,text=title",
                "--out", dir / "m.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto movies = JsonLines(ReadFile(dir / "m.jsonl"));
  ASSERT_EQ(movies.size(), 2u);
  EXPECT_EQ(movies[1]["id"], "2");
}

// Without a workspace there is no cache: the log does not count reuses from
// one, and --commit-every (the cache's chunks) is named as unread.
TEST(ScoreCli, WithoutAWorkspaceNoCacheIsMentioned) {
  TempDir dir;
  auto r = RunAvrec(
      {"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", dir / "s.jsonl", "--commit-every", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("workspace cache"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --commit-every has no effect: it sets how often the workspace's cache is "
                       "committed, and no --workspace is given"),
            std::string::npos)
      << r.err;
}

TEST(ScoreCli, WorkspaceCacheScoresOnlyNewTexts) {
  TempDir dir;
  std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--reviews", kReviews, "--items", kItems}).exit_code, 0);
  auto r = RunAvrec({"score", "--model", kTinySentiment, "-w", ws});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("0 reused from the workspace cache"), std::string::npos) << r.err;
  r = RunAvrec({"score", "--model", kTinySentiment, "-w", ws});
  EXPECT_NE(r.err.find(": 0 scored by"), std::string::npos) << r.err;
  WriteFile(dir / "new.csv", "review_id,user_id,item_id,text\nnew1,u001,s0001,a brand new review text\n");
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--reviews", dir / "new.csv"}).exit_code, 0);
  r = RunAvrec({"score", "--model", kTinySentiment, "-w", ws});
  EXPECT_NE(r.err.find(": 1 scored by"), std::string::npos) << r.err;
  // Another precision is another cache key: the one auto did not choose on this CPU.
  const std::string other = r.err.find("(fp32)") != std::string::npos ? "bf16" : "fp32";
  r = RunAvrec({"score", "--model", kTinySentiment, "-w", ws, "--precision", other});
  EXPECT_EQ(r.err.find(": 0 scored by"), std::string::npos) << r.err;
}

// A copy of the tiny sentiment model at `to` with one byte of its
// TorchScript file flipped (its checksum no longer matches).
void CopyWithCorruptModel(const std::string& to) {
  std::filesystem::copy(kTinySentiment, to);
  std::string bytes = ReadFile(to + "/model.pt");
  bytes[bytes.size() / 2] ^= 0x5a;
  WriteFile(to + "/model.pt", bytes);
}

TEST(ScoreCli, RefusesBadModelDirectories) {
  TempDir dir;
  // Corrupt the TorchScript file of a copy: checksum mismatch, exit 65.
  CopyWithCorruptModel(dir / "m");
  auto r = RunAvrec({"score", "--model", dir / "m", "--reviews", kReviews, "--out", dir / "o.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("field 'sha256'"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "o.jsonl"));
  std::filesystem::remove(dir / "m/avrec-model.json");
  r = RunAvrec({"score", "--model", dir / "m", "--reviews", kReviews, "--out", dir / "o.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("avrec-model.json is missing"), std::string::npos) << r.err;
  r = RunAvrec({"score", "--model", kTinyEmbedding, "--reviews", kReviews, "--out", dir / "o.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("field 'task'"), std::string::npos) << r.err;
}

// Scores kept nowhere (no --out, no workspace: a forgotten option) are a
// usage error before any scoring, not hours of work thrown away.
TEST(ScoreCli, RefusesToScoreIntoNowhere) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"score", "--reviews", kReviews}, {"score", "--reviews", kReviews, "--out", ""}}) {
    auto r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find("score: give --out PATH or --workspace PATH (the scores would be kept nowhere)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("scored by"), std::string::npos) << r.err;
  }
}

// The model is loaded (and its checksum checked) only when a text needs it:
// reviews without text (ratings or plays only) cost no model load.
TEST(ScoreCli, LoadsTheModelOnlyWhenATextNeedsIt) {
  TempDir dir;
  CopyWithCorruptModel(dir / "m");
  WriteFile(dir / "blank.csv", "review_id,user_id,item_id,text,rating\nr1,u1,s1,,4\nr2,u2,s1,  ,2\n");
  auto r = RunAvrec({"score", "--model", dir / "m", "--reviews", dir / "blank.csv", "--out", dir / "o.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir / "o.jsonl").find("empty_text"), std::string::npos);
  WriteFile(dir / "one.csv", "review_id,user_id,item_id,text,rating\nr1,u1,s1,,4\nr2,u2,s1,loved it,5\n");
  r = RunAvrec({"score", "--model", dir / "m", "--reviews", dir / "one.csv", "--out", dir / "p.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("field 'sha256'"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "p.jsonl"));
}

std::string WriteVectors(const std::string& path, const std::string& prefix, int n, int d, std::mt19937* rng) {
  std::normal_distribution<float> g(0, 1);
  std::ostringstream s;
  s << "id";
  for (int j = 0; j < d; ++j) s << ",v" << j;
  s << "\n";
  for (int i = 0; i < n; ++i) {
    s << prefix << i;
    for (int j = 0; j < d; ++j) s << "," << g(*rng);
    s << "\n";
  }
  WriteFile(path, s.str());
  return s.str();
}

TEST(TopKCli, ExactAndDeterministicAndRejectsBadVectors) {
  TempDir dir;
  std::mt19937 rng(1);
  WriteVectors(dir / "u.csv", "u", 120, 16, &rng);
  WriteVectors(dir / "i.csv", "item", 700, 16, &rng);
  auto a = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "i.csv", "--k", "7", "--out", dir / "a.jsonl",
                     "--threads", "1"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "i.csv", "--k", "7", "--out", dir / "b.jsonl",
                     "--threads", "2", "--block-users", "9"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(ReadFile(dir / "a.jsonl"), ReadFile(dir / "b.jsonl"));
  auto rows = JsonLines(ReadFile(dir / "a.jsonl"));
  ASSERT_EQ(rows.size(), 120u);
  EXPECT_EQ(rows[0]["id"], "u0");
  EXPECT_EQ(rows[0]["items"].size(), 7u);

  WriteFile(dir / "nan.csv", "id,a,b\nx,1,2\ny,nan,1\nz,0,0\nw,1,inf\nv,1e308,1\nt,1e-320,1\n");
  auto r =
      RunAvrec({"topk", "--users", dir / "nan.csv", "--items", dir / "i.csv", "--k", "3", "--out", dir / "c.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("nan.csv:3: column 2 ('a'): expected a finite number, got 'nan'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nan.csv:4: zero vector"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nan.csv:5:"), std::string::npos) << r.err;
  // A double too large for a float is said to be; one too small for it is 0.
  EXPECT_NE(r.err.find("nan.csv:6: column 2 ('a'): '1e308' is beyond a 32-bit float's range (about 3.4e38)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("nan.csv:7:"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "c.jsonl"));

  // Both files bad (they are parsed at once): the users' problems come first,
  // then the items', every run.
  WriteFile(dir / "bad_items.csv", "id,a,b\nq,1,x\n");
  for (int run = 0; run < 3; ++run) {
    auto both = RunAvrec(
        {"topk", "--users", dir / "nan.csv", "--items", dir / "bad_items.csv", "--k", "3", "--out", dir / "c.jsonl"});
    EXPECT_EQ(both.exit_code, 65);
    const size_t users_at = both.err.find("nan.csv:3:"), items_at = both.err.find("bad_items.csv:2: column 3");
    ASSERT_NE(users_at, std::string::npos) << both.err;
    ASSERT_NE(items_at, std::string::npos) << both.err;
    EXPECT_LT(both.err.find("nan.csv:5:"), items_at) << both.err;
  }

  // Vectors of another width: the two files are said to differ.
  WriteFile(dir / "narrow.csv", "id,a\nq,1\n");
  auto narrow =
      RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "narrow.csv", "--k", "3", "--out", dir / "c.jsonl"});
  EXPECT_EQ(narrow.exit_code, 65);
  EXPECT_NE(narrow.err.find("narrow.csv:1: vectors have 1 dimension, the users' have 16"), std::string::npos)
      << narrow.err;
  // A header problem is not counted as an invalid row, in either file.
  WriteFile(dir / "empty.csv", "");
  for (const auto& [users, items] : std::vector<std::pair<std::string, std::string>>{
           {"u.csv", "narrow.csv"}, {"u.csv", "empty.csv"}, {"empty.csv", "i.csv"}}) {
    auto header = RunAvrec({"topk", "--users", dir / users, "--items", dir / items, "--out", dir / "c.jsonl"});
    EXPECT_EQ(header.exit_code, 65);
    EXPECT_NE(header.err.find("avrec: error: topk: no row can be read: the problem with its header is above"),
              std::string::npos)
        << header.err;
  }

  // The same columns in another order are matched by name: the same lists
  // as from the items in the users' order. Other names are matched by
  // position, with a warning.
  WriteFile(dir / "users.csv", "id,a,b,c\nu,1,2,3\nw,-1,0,2\n");
  WriteFile(dir / "abc.csv", "id,a,b,c\nx,1,0,0\ny,0,1,0\nz,3,2,1\n");
  WriteFile(dir / "cab.csv", "id, c,a,b\nx,0,1,0\ny,0,0,1\nz,1,3,2\n");
  WriteFile(dir / "xyz.csv", "id,x,y,z\nx,1,0,0\ny,0,1,0\nz,3,2,1\n");
  std::map<std::string, test::RunResult> by;
  for (const char* items : {"abc.csv", "cab.csv", "xyz.csv"}) {
    by[items] = RunAvrec({"topk", "--users", dir / "users.csv", "--items", dir / items, "--k", "3", "--out",
                          dir / (std::string(items) + ".jsonl")});
    ASSERT_EQ(by[items].exit_code, 0) << by[items].err;
    EXPECT_EQ(ReadFile(dir / (std::string(items) + ".jsonl")), ReadFile(dir / "abc.csv.jsonl")) << items;
  }
  EXPECT_NE(by["cab.csv"].err.find("cab.csv: the vector columns are those of " + dir / "users.csv" +
                                   " in another order: matched by name"),
            std::string::npos)
      << by["cab.csv"].err;
  EXPECT_NE(by["xyz.csv"].err.find("xyz.csv: vector column 2 is 'x', and " + dir / "users.csv" +
                                   "'s is 'a': the columns are matched by position, not by name"),
            std::string::npos)
      << by["xyz.csv"].err;
  EXPECT_EQ(by["abc.csv"].err.find("matched by"), std::string::npos) << by["abc.csv"].err;

  // topk's lists (users named "id") are read by evaluate and diff: u's
  // list is z, y, x and w's y, z, x, so with truth u:z and w:x hit@1 is 0.5.
  WriteFile(dir / "truth.csv", "user_id,item_id\nu,z\nw,x\n");
  const std::string lists = dir / "abc.csv.jsonl";
  auto eval = RunAvrec({"evaluate", "--recs", lists, "--truth", dir / "truth.csv", "--k", "1"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_EQ(nlohmann::json::parse(eval.out)["hit@1"], 0.5) << eval.out;
  auto diff = RunAvrec({"diff", "--old", lists, "--new", dir / "xyz.csv.jsonl"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(nlohmann::json::parse(diff.out)["summary"]["users_common"], 2) << diff.out;
  // report needs recommend's lists, with their flags and reasons.
  auto report =
      RunAvrec({"report", "--recs", lists, "--reviews", kReviews, "--items", kItems, "--out", dir / "r.html"});
  EXPECT_EQ(report.exit_code, 65) << report.err;
  EXPECT_NE(report.err.find(lists + ":1: a list as `avrec topk` writes it"), std::string::npos) << report.err;
}

// topk reads the JSON Lines `avrec embed` writes: texts embedded by the
// bundled model rank as the same vectors written as CSV do (either file in
// either format); a header line names the columns, matched by name against
// a CSV's; bad records are named by line and field.
TEST(TopKCli, ReadsTheJsonLinesEmbedWrites) {
  TempDir dir;
  WriteFile(dir / "items.csv",
            "id,text\na,a quiet acoustic folk song\nb,loud heavy metal guitars\nc,a soft piano ballad\n");
  WriteFile(dir / "queries.csv", "id,text\nq1,calm acoustic music\nq2,aggressive rock\n");
  for (const char* name : {"items", "queries"}) {
    auto e = RunAvrec(
        {"embed", "--input", dir / (std::string(name) + ".csv"), "--out", dir / (std::string(name) + ".jsonl")});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    // The same vectors as CSV, their numbers as embed wrote them.
    std::string csv;
    for (const auto& row : JsonLines(ReadFile(dir / (std::string(name) + ".jsonl")))) {
      if (csv.empty()) {
        csv = "id";
        for (size_t k = 0; k < row["embedding"].size(); ++k) csv += ",d" + std::to_string(k);
        csv += "\n";
      }
      csv += row["id"].get<std::string>();
      for (const auto& v : row["embedding"]) csv += "," + v.dump();
      csv += "\n";
    }
    WriteFile(dir / (std::string(name) + "_v.csv"), csv);
  }
  std::map<std::string, std::string> out;
  for (const auto& [users, items] : std::vector<std::pair<std::string, std::string>>{
           {"queries.jsonl", "items.jsonl"}, {"queries_v.csv", "items.jsonl"}, {"queries.jsonl", "items_v.csv"}}) {
    auto r = RunAvrec({"topk", "--users", dir / users, "--items", dir / items, "--k", "2", "--out", dir / "t.jsonl"});
    ASSERT_EQ(r.exit_code, 0) << users << " " << items << ": " << r.err;
    EXPECT_EQ(r.err.find("matched by"), std::string::npos) << r.err;  // no names on one side: by position
    out[users + " " + items] = ReadFile(dir / "t.jsonl");
  }
  EXPECT_EQ(out["queries_v.csv items.jsonl"], out["queries.jsonl items.jsonl"]);
  EXPECT_EQ(out["queries.jsonl items_v.csv"], out["queries.jsonl items.jsonl"]);
  const auto lists = JsonLines(out["queries.jsonl items.jsonl"]);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0]["items"][0]["item_id"], "a") << lists[0].dump();  // calm acoustic: the folk song
  EXPECT_EQ(lists[1]["items"][0]["item_id"], "b") << lists[1].dump();  // aggressive rock: the metal

  // A header line names the columns: matched by name against a CSV's.
  WriteFile(dir / "u.csv", "id,a,b\nq,1,0\n");
  WriteFile(dir / "ab.jsonl", "{\"id\":\"i\",\"embedding\":[1,0]}\n{\"id\":\"j\",\"embedding\":[0,1]}\n");
  WriteFile(dir / "ba.jsonl",
            "{\"header\":{\"columns\":[\"b\",\"a\"]}}\n{\"item_id\":\"i\",\"vector\":[0,1]}\n"
            "{\"item_id\":\"j\",\"vector\":[1,0]}\n");
  auto ab = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "ab.jsonl", "--out", dir / "ab.out"});
  auto ba = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "ba.jsonl", "--out", dir / "ba.out"});
  ASSERT_EQ(ab.exit_code, 0) << ab.err;
  ASSERT_EQ(ba.exit_code, 0) << ba.err;
  EXPECT_EQ(ReadFile(dir / "ba.out"), ReadFile(dir / "ab.out"));
  EXPECT_EQ(ReadFile(dir / "ab.out"),
            "{\"id\":\"q\",\"items\":[{\"item_id\":\"i\",\"score\":1},{\"item_id\":\"j\",\"score\":0}]}\n");
  EXPECT_NE(ba.err.find("ba.jsonl: the vector columns are those of " + dir / "u.csv" + " in another order"),
            std::string::npos)
      << ba.err;

  WriteFile(dir / "bad.jsonl",
            "{\"id\":\"x\",\"embedding\":[1,0]}\n{\"id\":\"y\",\"embedding\":[1]}\n"
            "{\"id\":\"z\",\"embedding\":[0,0]}\n{\"id\":\"w\",\"embedding\":[1,\"a\"]}\n"
            "{\"embedding\":[1,2]}\n{\"id\":\"v\"}\n{\"id\":\"t\",\"embedding\":[1e39,1]}\n"
            "{\"id\":7,\"vector\":[1,2]}\n");
  auto bad = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "bad.jsonl", "--out", dir / "bad.out"});
  EXPECT_EQ(bad.exit_code, 65);
  for (const std::string expect :
       {"bad.jsonl:2: field 'embedding': expected 2 numbers (as the first row), found 1",
        "bad.jsonl:3: zero vector: cosine similarity is undefined",
        "bad.jsonl:4: field 'embedding'[1]: expected a number, got '\"a\"'",
        "bad.jsonl:5: expected an object with an id", "bad.jsonl:6: field 'embedding': expected a list of numbers",
        "bad.jsonl:7: field 'embedding'[0]: 1e+39 is beyond a 32-bit float's range", "topk: 6 invalid rows"}) {
    EXPECT_NE(bad.err.find(expect), std::string::npos) << expect << "\n" << bad.err;
  }
  EXPECT_EQ(bad.err.find("bad.jsonl:8:"), std::string::npos) << bad.err;  // an integer id, another vector key
  EXPECT_FALSE(test::FileExists(dir / "bad.out"));
}

TEST(RunCli, SamplePipelineIsByteIdenticalAcrossThreadsAndReruns) {
  TempDir dir;
  // The sample's config with the tiny models, a workspace and output here.
  const std::string cfg = SourcePath("data/sample/pipeline.json");
  const std::vector<std::string> common = {"run",
                                           "--config",
                                           cfg,
                                           "--set",
                                           "score.model=" + kTinySentiment,
                                           "--set",
                                           "features.text_model=" + kTinyEmbedding};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return RunAvrec(args);
  };
  auto a = with({"-w", dir / "a.avrec", "--out", dir / "a.json", "--threads", "1"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, dir / "a.json" + "\n");  // stdout: where the ranked JSON is
  auto b = with({"-w", dir / "b.avrec", "--out", dir / "b.json", "--threads", "2"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(ReadFile(dir / "a.json"), ReadFile(dir / "b.json"));
  // A nightly re-run on the same workspace reuses every score and changes nothing.
  auto c = with({"-w", dir / "a.avrec", "--out", dir / "c.json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.err.find(": 0 scored by"), std::string::npos) << c.err;
  EXPECT_EQ(ReadFile(dir / "a.json"), ReadFile(dir / "c.json"));
  auto j = nlohmann::json::parse(ReadFile(dir / "a.json"));
  EXPECT_EQ(j["header"]["format"], "avrec-recommendations/1");
  EXPECT_FALSE(j["header"].contains("created_at"));
  EXPECT_EQ(j["users"].size(), 200u);
  for (const auto& u : j["users"]) {
    EXPECT_EQ(u["items"].size(), 10u);
    EXPECT_FALSE(u["items"][0]["reasons"].empty());
  }
}

TEST(RecommendCli, ShardedJsonlConcatenatesToTheWhole) {
  TempDir dir;
  std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--reviews", kReviews, "--items", kItems}).exit_code, 0);
  ASSERT_EQ(RunAvrec({"score", "--model", kTinySentiment, "-w", ws}).exit_code, 0);
  WriteFile(dir / "users.txt", "newcomer1\nnewcomer2\n");
  const std::vector<std::string> base = {"recommend", "-w",    ws,        "--text-model",   kTinyEmbedding,
                                         "--format",  "jsonl", "--users", dir / "users.txt"};
  auto args = base;
  args.insert(args.end(), {"--out", dir / "all.jsonl"});
  auto r = RunAvrec(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string concat;
  for (int k = 0; k < 3; ++k) {
    auto a = base;
    std::string out = dir / ("s" + std::to_string(k) + ".jsonl");
    a.insert(a.end(), {"--out", out, "--shard", std::to_string(k) + "/3"});
    auto rs = RunAvrec(a);
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    concat += ReadFile(out);
  }
  EXPECT_EQ(concat, ReadFile(dir / "all.jsonl"));
  auto rows = JsonLines(concat);
  ASSERT_EQ(rows.size(), 1u + 202u);  // header + users
  int cold = 0;
  for (size_t i = 1; i < rows.size(); ++i) cold += rows[i]["cold_start"].get<bool>();
  EXPECT_EQ(cold, 2);
}

TEST(RecommendCli, UsageAndOutputErrors) {
  TempDir dir;
  EXPECT_EQ(RunAvrec({"recommend", "--out", dir / "o.json"}).exit_code, 64);
  auto r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--model", kTinySentiment, "--text-model",
                     "none", "--out", "/nonexistent/dir/o.json"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  r = RunAvrec(
      {"recommend", "--reviews", kReviews, "--items", kItems, "--algorithm", "magic", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--shard", "5/3", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
}

// A file of ratings and no items file (MovieLens's ratings.csv): the
// collaborative algorithms rank it, the catalogue being the items the reviews
// name, and the lists are the bytes an items file of those ids alone gives.
// What needs item features says so before any work, and a workspace, which
// keeps a catalogue, is not started from reviews alone.
TEST(RecommendCli, CollaborativeAlgorithmsRankRatingsWithoutAnItemsFile) {
  TempDir dir;
  WriteFile(dir / "ratings.csv",
            "user_id,item_id,rating\nu1,a,5\nu1,b,4\nu2,a,5\nu2,c,4\nu3,b,5\nu3,c,2\nu4,a,4\nu4,b,5\nu4,d,3\n");
  WriteFile(dir / "ids.csv", "item_id\nd\nc\nb\na\n");
  for (const std::string algorithm : {"ease", "als", "item-knn", "popular"}) {
    std::vector<std::string> args = {"recommend",
                                     "--reviews",
                                     dir / "ratings.csv",
                                     "--allow-empty-text",
                                     "--no-sentiment",
                                     "--algorithm",
                                     algorithm,
                                     "--text-model",
                                     "none"};
    std::vector<std::string> without = args, with = args;
    without.insert(without.end(), {"--out", dir / "without.json"});
    with.insert(with.end(), {"--items", dir / "ids.csv", "--out", dir / "with.json"});
    auto r = RunAvrec(without);
    ASSERT_EQ(r.exit_code, 0) << algorithm << r.err;
    EXPECT_NE(r.err.find("no --items: the catalogue is the 4 items the reviews name"), std::string::npos) << r.err;
    ASSERT_EQ(RunAvrec(with).exit_code, 0) << algorithm;
    EXPECT_EQ(ReadFile(dir / "without.json"), ReadFile(dir / "with.json")) << algorithm;
    const auto lists = nlohmann::json::parse(ReadFile(dir / "without.json"));
    ASSERT_EQ(lists["users"].size(), 4u) << algorithm;
    for (const auto& u : lists["users"]) {
      for (const auto& i : u["items"]) EXPECT_EQ(i["title"], i["item_id"]) << algorithm;
    }
  }
  // evaluate counts coverage only over a catalogue it knows, and says how to give it.
  auto r = RunAvrec(
      {"evaluate", "--recs", dir / "without.json", "--truth", dir / "ratings.csv", "--train", dir / "ratings.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("coverage@10")) << r.out;
  EXPECT_NE(r.err.find("coverage@k: not computed, the catalogue's size is unknown: give --items or --catalogue-size "
                       "(the train file names 4 items: the catalogue of a run without --items)"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"evaluate", "--recs", dir / "without.json", "--truth", dir / "ratings.csv", "--catalogue-size", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("coverage@10")) << r.out;
  EXPECT_EQ(r.err.find("coverage@k: not computed"), std::string::npos) << r.err;
  // A collaborative algorithm reads no item features: no text model is
  // loaded (one that is not there does no harm), and --text-model is said
  // to have no effect.
  r = RunAvrec({"recommend", "--reviews", dir / "ratings.csv", "--allow-empty-text", "--no-sentiment", "--algorithm",
                "item-knn", "--text-model", dir / "no_such_model", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("item features: not read (--algorithm item-knn reads no item features), so no item text is "
                       "embedded"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--text-model has no effect: it sets the item vectors, and --algorithm item-knn reads no item "
                       "features"),
            std::string::npos)
      << r.err;
  // recommend reads a file of ratings with or without --allow-empty-text,
  // and says the flag has no effect there; ingest needs it (below).
  EXPECT_NE(r.err.find("--allow-empty-text has no effect: recommend reads reviews without a text with or without it "
                       "(they have no sentiment and weigh by their rating); validate and ingest need it"),
            std::string::npos)
      << r.err;
  for (const std::string algorithm : {"hybrid", "content", "sentiment-content"}) {
    r = RunAvrec({"recommend", "--reviews", dir / "ratings.csv", "--allow-empty-text", "--algorithm", algorithm,
                  "--out", dir / "content.json"});
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find("--algorithm " + algorithm +
                         " ranks by item features: give --items PATH too (ease, als, item-knn and popular rank "
                         "from the reviews alone)"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "content.json"));
  }
  r = RunAvrec({"profile", "--reviews", dir / "ratings.csv", "--allow-empty-text", "--out", dir / "p.jsonl"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("profile: give --items PATH too: user vectors are built over item features"), std::string::npos)
      << r.err;
  r = RunAvrec({"recommend", "--items", dir / "ids.csv", "--algorithm", "ease", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("--items needs --reviews PATH too (or give --workspace)"), std::string::npos) << r.err;
  r = RunAvrec({"ingest", "--workspace", dir / "ws.avrec", "--reviews", dir / "ratings.csv", "--allow-empty-text"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(r.err.find("has no effect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ingest: the workspace has no items yet, so no review could name one: give --items PATH too"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "ws.avrec"));
}

// An algorithm that reads no item features embeds no item text (on
// MovieLens, a third of an ease run's time went to it): the header names no
// embedding model, and --text-model is said to have no effect. A content
// algorithm, and a profile, embed as before.
TEST(RecommendCli, CollaborativeRunsEmbedNoItemText) {
  TempDir dir;
  const auto header = [&](const std::string& path) {
    return nlohmann::json::parse(ReadFile(path).substr(0, ReadFile(path).find('\n')))["header"];
  };
  auto r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--algorithm", "ease", "--no-sentiment",
                     "--snippets", "first", "--out", dir / "ease.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("item features: not read (--algorithm ease reads no item features)"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("has no effect"), std::string::npos) << r.err;  // --text-model was not given
  EXPECT_FALSE(header(dir / "ease.jsonl").contains("embedding_model"));
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--algorithm", "content", "--snippets", "none",
                "--out", dir / "content.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("text modality: 300 item texts embedded by all-minilm-l6-v2"), std::string::npos) << r.err;
  EXPECT_EQ(header(dir / "content.jsonl")["embedding_model"]["name"], "all-minilm-l6-v2");
  r = RunAvrec({"profile", "--reviews", kReviews, "--items", kItems, "--algorithm", "ease", "--no-sentiment", "--out",
                dir / "p.jsonl"});
  EXPECT_EQ(r.exit_code, 64) << r.err;  // profile has no --algorithm: its vectors are always over the features
  r = RunAvrec({"profile", "--reviews", kReviews, "--items", kItems, "--no-sentiment", "--out", dir / "p.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("item texts embedded"), std::string::npos) << r.err;
}

// The output's extension picks its format unless --format says otherwise
// (a .csv or .jsonl name used to get indented JSON); a ".gz" name is refused
// before any work (plain text under a gzip name used to be written).
TEST(RecommendCli, TheOutputsExtensionPicksItsFormat) {
  TempDir dir;
  const std::vector<std::string> base = {"recommend",      "--reviews",    kReviews, "--items", kItems,
                                         "--no-sentiment", "--text-model", "none",   "--top-n", "2",
                                         "--snippets",     "first"};
  auto run = [&](const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    args.insert(args.end(), {"--out", out});
    return RunAvrec(args);
  };
  ASSERT_EQ(run(dir / "l.json").exit_code, 0);
  const std::string json = ReadFile(dir / "l.json");
  const std::map<std::string, std::string> first_line = {
      {"l.csv", "user_id,rank,item_id,title,score,cold_start,reason,explanation"},
      {"l.tsv", "user_id\trank\titem_id\ttitle\tscore\tcold_start\treason\texplanation"},
      {"l.jsonl", "{\"header\":{"},
      {"l.ndjson", "{\"header\":{"},
      {"l", "{"},
  };
  for (const auto& [name, line] : first_line) {
    const auto r = run(dir / name);
    ASSERT_EQ(r.exit_code, 0) << name << r.err;
    const std::string got = ReadFile(dir / name);
    EXPECT_EQ(got.substr(0, got.find('\n')).substr(0, line.size()), line) << name;
  }
  EXPECT_EQ(ReadFile(dir / "l"), json);  // no extension: JSON, the same bytes (the same config hash)
  EXPECT_EQ(run("-").out, json);
  // --format wins, and a contradiction is warned.
  auto r = run(dir / "x.csv", {"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir / "x.csv"), json);
  EXPECT_NE(r.err.find("x.csv: written as json (--format json), though its extension says csv"), std::string::npos)
      << r.err;
  r = run(dir / "l.csv.gz");
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("l.csv.gz: avrec writes no compressed output; write to - and pipe it through gzip"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(test::FileExists(dir / "l.csv.gz"));
  // Verbs with one format (JSON Lines) say so, before the work, when the name says another.
  r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", dir / "s.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("s.csv: score writes JSON Lines (its only format), though the name says csv"), std::string::npos)
      << r.err;
  r = RunAvrec({"profile", "--reviews", kReviews, "--items", kItems, "--no-sentiment", "--text-model", "none", "--out",
                dir / "p.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("JSON Lines (its only format)"), std::string::npos) << r.err;
  // evaluate and diff write one JSON object (--per-user JSON Lines), report an HTML page.
  const std::string lists = dir / "l.jsonl", truth = dir / "truth.csv";
  WriteFile(truth, "user_id,item_id\nu001,s0001\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> single = {
      {{"evaluate", "--recs", lists, "--truth", truth, "--out", dir / "m.jsonl", "--per-user", dir / "u.json"},
       "m.jsonl: evaluate writes one JSON object (its only format), though the name says jsonl"},
      {{"evaluate", "--recs", lists, "--truth", truth, "--per-user", dir / "u.json"},
       "u.json: evaluate --per-user writes JSON Lines (its only format), though the name says json"},
      {{"diff", "--old", lists, "--new", lists, "--out", dir / "d.csv"},
       "d.csv: diff writes one JSON object (its only format), though the name says csv"},
      {{"report", "--recs", lists, "--reviews", kReviews, "--out", dir / "r.json"},
       "r.json: report writes an HTML page (its only format), though the name says json"}};
  for (const auto& [args, warning] : single) {
    r = RunAvrec(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"evaluate", "--recs", lists, "--truth", truth, "--out", dir / "m.json", "--per-user",
                                 dir / "u.jsonl"},
        std::vector<std::string>{"diff", "--old", lists, "--new", lists, "--out", dir / "d.json"},
        std::vector<std::string>{"report", "--recs", lists, "--reviews", kReviews, "--out", dir / "r.html"}}) {
    r = RunAvrec(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("its only format"), std::string::npos) << r.err;
  }
}

// A CSV or TSV list is often opened in a spreadsheet, which runs a cell
// beginning with = + - @ as a formula: user ids and review snippets come
// from files anyone may write. --spreadsheet-safe puts a ' before such text
// cells; without it the cells are written as they are.
TEST(RecommendCli, SpreadsheetSafeListsShowFormulasAsText) {
  TempDir dir;
  WriteFile(dir / "r.csv",
            "user_id,item_id,text,rating\n=1+2,s0001,good,5\n+u2,s0002,\"@SUM(1,2) great\",5\n-u3,s0004,fine,4\n"
            "u4,s0005,nice,5\n");
  auto run = [&](const std::string& out, std::vector<std::string> more) {
    std::vector<std::string> args = {"recommend", "--reviews", dir / "r.csv", "--items",    kItems,  "--text-model",
                                     "none",      "--top-n",   "1",           "--snippets", "first", "--out",
                                     out};
    args.insert(args.end(), more.begin(), more.end());
    return RunAvrec(args);
  };
  const auto users = [](const std::string& text) {  // the first cell of each row, sorted
    std::vector<std::string> out;
    for (size_t at = text.find('\n') + 1; at < text.size(); at = text.find('\n', at) + 1) {
      out.push_back(text.substr(at, text.find_first_of(",\t", at) - at));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  ASSERT_EQ(run(dir / "plain.csv", {}).exit_code, 0);
  EXPECT_EQ(users(ReadFile(dir / "plain.csv")), (std::vector<std::string>{"+u2", "-u3", "=1+2", "u4"}));
  auto r = run(dir / "safe.csv", {"--spreadsheet-safe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string safe = ReadFile(dir / "safe.csv");
  EXPECT_EQ(users(safe), (std::vector<std::string>{"'+u2", "'-u3", "'=1+2", "u4"}));
  EXPECT_NE(safe.find("(\u201c@SUM(1,2) great\u201d)"), std::string::npos) << safe;  // inside a cell: as it is
  ASSERT_EQ(run(dir / "safe.tsv", {"--spreadsheet-safe"}).exit_code, 0);
  EXPECT_EQ(users(ReadFile(dir / "safe.tsv")), users(safe));
  r = run(dir / "l.json", {"--spreadsheet-safe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--spreadsheet-safe: " + dir / "l.json" + " is written as JSON, which it leaves as it is"),
            std::string::npos)
      << r.err;
  EXPECT_NE(ReadFile(dir / "l.json").find("\"user_id\": \"=1+2\""), std::string::npos);
}

// Allow and deny lists are checked against the catalogue: unknown ids are
// warned with an example; an allow list naming no item (empty, or only ids in
// another form) and lists that leave nothing are exit 65 with no output, never
// empty lists with exit 0 or "allow everything".
TEST(RecommendCli, ItemListsThatLeaveNothingAreErrorsAndUnknownIdsWarned) {
  TempDir dir;
  WriteFile(dir / "some.txt", "# licensed\ns0001\n\nS0002\n");
  WriteFile(dir / "stale.txt", "B000123\nB000456\n");
  WriteFile(dir / "empty.txt", "");
  const std::vector<std::string> base = {"recommend",    "--reviews",   kReviews, "--items",
                                         kItems,         "--algorithm", "ease",   "--no-sentiment",
                                         "--text-model", "none",        "--out",  dir / "o.json"};
  auto run = [&](const std::vector<std::string>& more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return RunAvrec(args);
  };
  auto r = run({"--allow-list", dir / "some.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("some.txt: 1 of its 2 ids name no item of the catalogue (ignored), e.g. 'S0002'"),
            std::string::npos)
      << r.err;
  const auto lists = nlohmann::json::parse(ReadFile(dir / "o.json"));
  for (const auto& u : lists["users"]) {
    for (const auto& i : u["items"]) EXPECT_EQ(i["item_id"], "s0001");
  }
  r = run({"--deny-list", dir / "stale.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stale.txt: none of its 2 ids is an item of the catalogue, e.g. 'B000123': it holds back "
                       "nothing"),
            std::string::npos)
      << r.err;
  std::filesystem::remove(dir / "o.json");
  r = run({"--allow-list", dir / "stale.txt"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("stale.txt: none of its 2 ids is an item of the catalogue (the first: 'B000123'), so no item "
                       "may be recommended"),
            std::string::npos)
      << r.err;
  r = run({"--allow-list", dir / "empty.txt"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("empty.txt: names no item ids, so no item may be recommended"), std::string::npos) << r.err;
  r = run({"--allow-list", dir / "some.txt", "--deny-list", dir / "some.txt"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("some.txt: holds back every item the allow list names"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "o.json"));
  r = run({"--deny-list", dir / "empty.txt"});  // an empty deny list holds back nothing, rightly
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // A table where a list of ids belongs: every line would be an id no one
  // has; named by file and line instead.
  WriteFile(dir / "table.tsv", "# takedowns\ns0001\tlicence ended\n");
  std::filesystem::remove(dir / "o.json");
  r = run({"--deny-list", dir / "table.tsv"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("table.tsv:2: 's0001\\tlicence ended' holds a tab: a file of ids holds one id per line"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(test::FileExists(dir / "o.json"));
  // A CSV's header or JSON Lines where a list belongs are named too.
  WriteFile(dir / "table.csv", "item_id,reason\ns0001,licence ended\n");
  WriteFile(dir / "lines.jsonl", "{\"item_id\": \"s0001\"}\n");
  for (const auto& [file, message] : std::vector<std::pair<std::string, std::string>>{
           {"table.csv",
            "table.csv:1: 'item_id,reason' is the header of a CSV table: a file of ids holds one id per "
            "line, not a table (`cut -d, -f1` keeps the first column)"},
           {"lines.jsonl",
            "lines.jsonl:1: '{\"item_id\": \"s0001\"}' is a JSON object: a file of ids holds one id "
            "per line, not JSON Lines"}}) {
    r = run({"--deny-list", dir / file});
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_FALSE(test::FileExists(dir / "o.json"));
  }
  // A one-column CSV: its header line names the column and is not an id (it
  // was a cold-start user named "user_id"); an id with a comma is quoted.
  WriteFile(dir / "users.csv", "User_ID\nnewcomer\n\"a, b\"\n");
  r = run({"--users", dir / "users.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("users.csv:1: 'User_ID' names the column, not an id: read as a header line"), std::string::npos)
      << r.err;
  std::set<std::string> cold;
  const auto written = nlohmann::json::parse(ReadFile(dir / "o.json"));
  for (const auto& u : written["users"]) {
    if (u["cold_start"] == true) cold.insert(u["user_id"].get<std::string>());
  }
  EXPECT_EQ(cold, (std::set<std::string>{"newcomer", "a, b"}));
}

// The rating scale comes from the data unless given; the run says which it
// used, and warns when it cannot carry a preference: every rating alike
// (each maps to 0, so a user who gave five stars twice is cold-start) or
// ratings outside a given scale (they count as its nearest end).
TEST(RecommendCli, RatingScaleIsReportedAndAnEmptyOneWarned) {
  TempDir dir;
  WriteFile(dir / "r.csv",
            "review_id,user_id,item_id,rating,timestamp,text\n"
            "r1,u1,s0001,5,2024-01-01T00:00:00Z,x\n"
            "r2,u1,s0002,5,2024-01-02T00:00:00Z,y\n");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--log-format", "json",     "recommend",   "--reviews", dir / "r.csv",
                                     "--items",      kItems,     "--algorithm", "content",   "--text-model",
                                     "none",         "--format", "jsonl",       "--out",     dir / "o.jsonl"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json scale;
    std::string warning;
    for (const auto& e : JsonLines(r.err)) {
      if (e.value("event", "") == "rating_scale") scale = e;
      if (e.value("level", "") == "warning") warning = e.value("msg", "");
    }
    const auto lines = JsonLines(ReadFile(dir / "o.jsonl"));
    EXPECT_EQ(lines.size(), 2u);
    return std::make_tuple(scale, warning, lines.back().value("cold_start", false));
  };
  auto [scale, warning, cold] = run({});
  EXPECT_EQ(scale["min"], 5.0);
  EXPECT_EQ(scale["max"], 5.0);
  EXPECT_EQ(scale["ratings"], 2);
  EXPECT_NE(warning.find("the rating scale 5 .. 5 is empty"), std::string::npos) << warning;
  EXPECT_TRUE(cold);
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--rating-max", "5"});
  EXPECT_EQ(scale["min"], 1.0);
  EXPECT_EQ(scale["outside"], 0);
  EXPECT_EQ(warning, "");
  EXPECT_FALSE(cold);
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--rating-max", "4"});
  EXPECT_EQ(scale["outside"], 2);
  EXPECT_NE(warning.find("2 of 2 ratings lie outside the scale 1 .. 4"), std::string::npos) << warning;
  EXPECT_FALSE(cold);
  // Most ratings counting as dislikes (a negative preference): what a
  // column of play counts read as stars gives (Last.fm's 1 .. 352698: EASE's
  // ndcg@10 0.0006 against 0.2237 with --no-rating), so it is said; with
  // --interaction-weight 0.5 no rating is a dislike, and nothing is said.
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--rating-max", "20"});
  EXPECT_NE(warning.find("2 of 2 ratings (100 %) count as dislikes (a negative preference) on the scale 1 .. 20: if "
                         "the column holds counts (plays, views) rather than stars, leave it out with --no-rating"),
            std::string::npos)
      << warning;
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--rating-max", "20", "--interaction-weight", "0.5"});
  EXPECT_EQ(warning, "");
  // The same column read as counts: a log scale from 0, no count a dislike.
  std::tie(scale, warning, cold) = run({"--rating-kind", "counts", "--rating-max", "20"});
  EXPECT_EQ(scale["kind"], "counts");
  EXPECT_EQ(scale["min"], 0.0);
  EXPECT_NE(scale["msg"].get<std::string>().find("each read as log(1 + count) / log(1 + 20)"), std::string::npos);
  EXPECT_EQ(warning, "");
  EXPECT_FALSE(cold);
  std::tie(scale, warning, cold) = run({"--no-rating"});
  EXPECT_TRUE(scale.is_null());  // ratings unused: nothing to say
  // A --now before the reviews (a mistyped year): they count as written at
  // --now, and the log says how many.
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--half-life-days", "7", "--now", "2023-01-01"});
  EXPECT_NE(warning.find("2 of 2 reviews with a time are later than --now 2023-01-01"), std::string::npos) << warning;
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--half-life-days", "7", "--now", "2024-01-01T12:00:00Z"});
  EXPECT_NE(warning.find("1 of 2 reviews with a time are later than --now"), std::string::npos) << warning;
  std::tie(scale, warning, cold) = run({"--rating-min", "1", "--half-life-days", "7", "--now", "2024-01-02"});
  EXPECT_EQ(warning, "");
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

// A score file says which text it scored (text_key): a review edited since,
// its review_id kept, is refused with its id rather than ranked on the old
// text's feeling; spacing alone is no edit, and a file without text keys
// (older, or written by hand) is read as before.
TEST(RecommendCli, AScoreOfAnEditedReviewIsRefused) {
  TempDir dir;
  const std::string all = ReadFile(kReviews);
  size_t end = 0;
  for (int line = 0; line < 4; ++line) end = all.find('\n', end) + 1;
  const std::string head = all.substr(0, end);
  WriteFile(dir / "r.csv", head);
  ASSERT_EQ(
      RunAvrec({"score", "--model", kTinySentiment, "--reviews", dir / "r.csv", "--out", dir / "s.jsonl"}).exit_code,
      0);
  const std::string scores = ReadFile(dir / "s.jsonl");
  EXPECT_NE(scores.find(",\"text_key\":\""), std::string::npos) << scores;
  auto recommend = [&](const std::string& reviews, const std::string& scores_file) {
    return RunAvrec({"recommend", "--reviews", reviews, "--items", kItems, "--scores", scores_file, "--text-model",
                     "none", "--out", dir / "o.json"});
  };
  ASSERT_EQ(recommend(dir / "r.csv", dir / "s.jsonl").exit_code, 0);
  std::filesystem::remove(dir / "o.json");
  std::string edited = head;
  const size_t second_end = edited.find('\n', edited.find('\n', edited.find('\n') + 1) + 1);
  edited.insert(second_end, " but the ending spoils it");  // the second review's text (the last column)
  WriteFile(dir / "edited.csv", edited);
  const std::string second_id = head.substr(head.find('\n', head.find('\n') + 1) + 1, 6);
  auto r = recommend(dir / "edited.csv", dir / "s.jsonl");
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find(dir / "s.jsonl" + ": 1 review has another text than the one scored, e.g. review_id '" +
                       second_id + "'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(test::FileExists(dir / "o.json"));
  std::string spaced = head;
  spaced.insert(second_end, "  ");
  WriteFile(dir / "spaced.csv", spaced);
  EXPECT_EQ(recommend(dir / "spaced.csv", dir / "s.jsonl").exit_code, 0);
  std::string keyless = scores;
  for (size_t at; (at = keyless.find(",\"text_key\":")) != std::string::npos;) {
    keyless.erase(at, keyless.find('}', at) - at);
  }
  WriteFile(dir / "keyless.jsonl", keyless);
  r = recommend(dir / "edited.csv", dir / "keyless.jsonl");
  EXPECT_EQ(r.exit_code, 0) << r.err << keyless;
}

TEST(RecommendCli, ProfilesFromTheProfileStageRankAsBuiltHere) {
  TempDir dir;
  ASSERT_EQ(RunAvrec({"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", dir / "s.jsonl"}).exit_code,
            0);
  const std::vector<std::string> in = {"--reviews", kReviews,        "--items",      kItems,
                                       "--scores",  dir / "s.jsonl", "--text-model", kTinyEmbedding};
  auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), in.begin(), in.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return RunAvrec(head);
  };
  auto p = with({"profile"}, {"--out", dir / "p.jsonl"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto a = with({"recommend"}, {"--out", dir / "a.json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = with({"recommend"}, {"--out", dir / "b.json", "--profiles", dir / "p.jsonl"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("200 users from the profiles file, 0 built from their reviews"), std::string::npos) << b.err;
  auto ja = nlohmann::json::parse(ReadFile(dir / "a.json")), jb = nlohmann::json::parse(ReadFile(dir / "b.json"));
  ASSERT_EQ(ja["users"].size(), jb["users"].size());
  for (size_t u = 0; u < ja["users"].size(); ++u) {
    const auto& x = ja["users"][u]["items"];
    const auto& y = jb["users"][u]["items"];
    ASSERT_EQ(x.size(), y.size());
    for (size_t r = 0; r < x.size(); ++r) {
      // Vectors went through 6 decimals in the file: scores agree to ~1e-6;
      // near-ties may swap.
      EXPECT_NEAR(x[r]["score"].get<double>(), y[r]["score"].get<double>(), 2e-5);
    }
  }
  // Profiles built on other item vectors are refused, saying why.
  auto bad = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--scores", dir / "s.jsonl",
                       "--text-model", "none", "--profiles", dir / "p.jsonl", "--out", dir / "c.json"});
  EXPECT_EQ(bad.exit_code, 65);
  EXPECT_NE(bad.err.find("built on other item vectors"), std::string::npos) << bad.err;
  EXPECT_FALSE(test::FileExists(dir / "c.json"));
}

// A user who loved a song and hated its live take (one beat per minute
// apart): the profile keeps about 1 % of its reviews' weight, yet every
// score is a high cosine. The list says it is of low confidence, also when
// the profile comes from a profiles file; the other user's list does not.
TEST(RecommendCli, AProfileWhoseDislikesCancelItsLikesIsFlagged) {
  TempDir dir;
  WriteFile(dir / "items.csv",
            "item_id,title,audio.tempo,audio.energy\na,Alpha,130,0.8\na2,Alpha (live),131,0.8\nb,Beta,140,0.9\n"
            "c,Gamma,50,0.2\nd,Delta,60,0.3\ne,Epsilon,70,0.4\nf,Phi,100,0.6\ng,Gimel,150,0.1\n");
  WriteFile(dir / "reviews.csv",
            "review_id,user_id,item_id,rating,text\nr1,uz,a,5,love it\nr2,uz,a2,1,hate it\nr3,v,b,4,good\n"
            "r4,v,c,2,meh\n");
  const std::vector<std::string> in = {"--reviews",      dir / "reviews.csv", "--items", dir / "items.csv",
                                       "--no-sentiment", "--text-model",      "none"};
  auto run = [&](const std::string& verb, const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {verb, "--out", out};
    args.insert(args.end(), in.begin(), in.end());
    if (verb == "recommend") more.insert(more.end(), {"--algorithm", "content", "--top-n", "3"});
    args.insert(args.end(), more.begin(), more.end());
    return RunAvrec(args);
  };
  const auto flags = [&](const std::string& path) {
    std::map<std::string, std::string> reason;  // user -> low_confidence_reason, "-" when not flagged
    const auto lists = nlohmann::json::parse(ReadFile(path));
    for (const auto& u : lists["users"]) {
      EXPECT_GT(u["items"][0]["score"].get<double>(), 0.5) << u;
      reason[u["user_id"]] = u.value("low_confidence", false) ? u["low_confidence_reason"].get<std::string>() : "-";
    }
    return reason;
  };
  auto r = run("recommend", dir / "a.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string why =
      "what this user disliked nearly cancels what they liked (their profile keeps 1 % of its reviews' weight): the "
      "list rests on the small difference between them";
  const std::map<std::string, std::string> expected = {{"uz", why}, {"v", "-"}};
  EXPECT_EQ(flags(dir / "a.json"), expected);

  r = run("profile", dir / "p.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string profiles = ReadFile(dir / "p.jsonl");
  EXPECT_NE(profiles.find("{\"user_id\":\"uz\",\"cold_start\":false,\"reviews\":2,\"net_share\":0.011373,"),
            std::string::npos)
      << profiles;
  EXPECT_NE(profiles.find("{\"user_id\":\"v\",\"cold_start\":false,\"reviews\":2,\"net_share\":1.0,"),
            std::string::npos)
      << profiles;
  r = run("recommend", dir / "b.json", {"--profiles", dir / "p.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(flags(dir / "b.json"), expected);

  // A profiles file without net_share (written before it existed) flags nothing.
  std::string old = profiles;
  for (size_t at; (at = old.find(",\"net_share\":")) != std::string::npos;)
    old.erase(at, old.find(",\"vector", at) - at);
  WriteFile(dir / "old.jsonl", old);
  r = run("recommend", dir / "c.json", {"--profiles", dir / "old.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err << old;
  EXPECT_EQ(flags(dir / "c.json"), (std::map<std::string, std::string>{{"uz", "-"}, {"v", "-"}}));
  // One outside [0, 1] is named.
  std::string bad = profiles;
  bad.replace(bad.find("0.011373"), 8, "1.5");
  WriteFile(dir / "bad.jsonl", bad);
  r = run("recommend", dir / "d.json", {"--profiles", dir / "bad.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("bad.jsonl:2: field 'net_share': expected a number from 0 to 1"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "d.json"));
}

// The hybrid ranks by the profile alone where its collaborative part gives
// the user nothing (nobody else reviewed what they did) or --hybrid-content
// is 1: a cancelling profile is flagged there as in content; once another
// user's history lets item-knn score candidates for them, it is not.
TEST(RecommendCli, AHybridListRankedByACancellingProfileAloneIsFlagged) {
  TempDir dir;
  WriteFile(dir / "items.csv",
            "item_id,title,audio.tempo,audio.energy\na,Alpha,130,0.8\na2,Alpha (live),131,0.8\nb,Beta,140,0.9\n"
            "c,Gamma,50,0.2\nd,Delta,60,0.3\ne,Epsilon,70,0.4\n");
  const std::string alone = "review_id,user_id,item_id,rating,text\nr1,uz,a,5,love it\nr2,uz,a2,1,hate it\n";
  WriteFile(dir / "alone.csv", alone);
  WriteFile(dir / "shared.csv", alone + "r3,w,a,5,great\nr4,w,b,5,great too\n");
  const auto flagged = [&](const std::string& reviews, std::vector<std::string> more) {
    std::vector<std::string> args = {"recommend",       "--reviews",      dir / reviews,  "--items",
                                     dir / "items.csv", "--no-sentiment", "--text-model", "none",
                                     "--algorithm",     "hybrid",         "--top-n",      "3",
                                     "--out",           dir / "h.json"};
    args.insert(args.end(), more.begin(), more.end());
    const auto r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lists = nlohmann::json::parse(ReadFile(dir / "h.json"));
    for (const auto& u : lists["users"]) {
      if (u["user_id"] == "uz") return u.value("low_confidence", false);
    }
    ADD_FAILURE() << "no list for uz";
    return false;
  };
  EXPECT_TRUE(flagged("alone.csv", {}));
  EXPECT_TRUE(flagged("shared.csv", {"--hybrid-content", "1"}));
  EXPECT_FALSE(flagged("shared.csv", {}));
  EXPECT_FALSE(flagged("shared.csv", {"--hybrid-content", "0.9"}));

  // Item-knn alone: items reviewed only with each other score nothing the
  // list may hold, so the user gets the popularity ranking, flagged cold
  // start (the list was all zeros in item id order, unflagged, before
  // 2026-12-04).
  const auto r = RunAvrec({"recommend", "--reviews", dir / "alone.csv", "--items", dir / "items.csv", "--no-sentiment",
                           "--text-model", "none", "--algorithm", "item-knn", "--out", dir / "k.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto knn = nlohmann::json::parse(ReadFile(dir / "k.json"));
  ASSERT_EQ(knn["users"].size(), 1u);
  EXPECT_TRUE(knn["users"][0]["cold_start"].get<bool>()) << knn;
  EXPECT_EQ(knn["users"][0]["items"][0]["reasons"][0]["kind"], "popular") << knn;
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

TEST(RunManifest, BesideTheOutputWithInputsStagesAndExitCode) {
  TempDir dir;
  auto r =
      RunAvrec({"run", "--config", SourcePath("data/sample/pipeline.json"), "--set", "score.model=" + kTinySentiment,
                "--set", "features.text_model=" + kTinyEmbedding, "-w", dir / "w.avrec", "--out", dir / "recs.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = nlohmann::json::parse(ReadFile(dir / "recs.json.run.json"));
  EXPECT_EQ(m["format"], "avrec-run/1");
  EXPECT_EQ(m["exit_code"], 0);
  EXPECT_EQ(m["config_hash"], nlohmann::json::parse(ReadFile(dir / "recs.json"))["header"]["config_hash"]);
  EXPECT_EQ(m["models"]["sentiment"]["name"], "tiny-sentiment");
  EXPECT_EQ(m["inputs"][0]["sha256"].get<std::string>().size(), 64u);
  std::vector<std::string> stages;
  for (const auto& s : m["stages"]) stages.push_back(s["stage"]);
  EXPECT_EQ(stages, (std::vector<std::string>{"ingest", "score", "recommend"}));
  // A failed run writes its manifest too, with the exit code.
  r = RunAvrec({"recommend", "--reviews", dir / "missing.csv", "--items", SourcePath("data/sample/items.csv"), "--out",
                dir / "bad.json"});
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir / "bad.json.run.json"))["exit_code"], 66);
  EXPECT_FALSE(test::FileExists(dir / "bad.json"));
  // An output named near the file system's limit (250 bytes) leaves no room
  // for .run.json: the run succeeds, and the warning says why and what to do.
  const std::string long_name = std::string(245, 'r') + ".json";
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--no-sentiment", "--text-model", "none",
                "--snippets", "first", "--out", dir / long_name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(test::FileExists(dir / long_name));
  EXPECT_NE(r.err.find("run manifest not written: " + dir / long_name +
                       ".run.json: a file name of 259 bytes; its folder holds names of at most 255; --manifest FILE "
                       "writes it under another name"),
            std::string::npos)
      << r.err;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

// Reasons people read, on the sample: titles, snippets from the user's own
// review, explanations in the user's language, and reasons that differ
// across a user's items.
TEST(RecommendCli, ReasonsAreReadableDifferPerItemAndFollowTheUsersLanguage) {
  TempDir dir;
  auto r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--model", kTinySentiment, "--text-model",
                     kTinyEmbedding, "--out", dir / "o.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = nlohmann::json::parse(ReadFile(dir / "o.json"));
  int zh = 0, en = 0, varied = 0, eligible = 0;
  for (const auto& u : out["users"]) {
    const std::string lang = u["language"];
    (lang == "zh" ? zh : en) += 1;
    std::set<std::string> cited;  // per item: the reviews its reasons cite
    for (const auto& it : u["items"]) {
      EXPECT_FALSE(it["title"].get<std::string>().empty());
      const std::string sentence = it["explanation"];
      // Snippets quote the review as written; the sentence around it is in
      // the user's language.
      ASSERT_FALSE(sentence.empty());
      const bool ascii_start = static_cast<unsigned char>(sentence[0]) < 0x80;
      EXPECT_EQ(ascii_start, lang == "en") << sentence;
      for (const auto& why : it["reasons"]) {
        if (why["kind"] != "similar_to") continue;
        EXPECT_FALSE(why["title"].get<std::string>().empty());
        EXPECT_FALSE(why["snippet"].get<std::string>().empty());
        EXPECT_TRUE(why.contains("lift"));
      }
      std::string reviews;
      for (const auto& why : it["reasons"]) {
        if (why["kind"] == "similar_to") reviews += why["review_id"].get<std::string>() + " ";
      }
      cited.insert(reviews);
    }
    if (u["history"].get<int>() >= 5) {
      ++eligible;
      varied += cited.size() > 1;
    }
  }
  EXPECT_GT(zh, 10);
  EXPECT_GT(en, 10);
  EXPECT_GT(eligible, 50);
  EXPECT_GE(varied * 10, eligible * 9) << varied << " of " << eligible;  // nine in ten users at least
  // The log says what choosing snippets cost, and how to avoid paying it
  // again.
  EXPECT_NE(r.err.find("cited reviews scored by the sentiment model in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--snippets first quotes without the model"), std::string::npos) << r.err;
  // Forced language and plain snippets.
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--model", kTinySentiment, "--text-model",
                kTinyEmbedding, "--reason-language", "zh", "--snippets", "first", "--out", dir / "zh.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("scored by the sentiment model"), std::string::npos) << r.err;
  const nlohmann::json zh_out = nlohmann::json::parse(ReadFile(dir / "zh.json"));
  for (const auto& u : zh_out["users"]) EXPECT_EQ(u["language"], "zh");
  EXPECT_EQ(RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--reason-language", "fr", "--out",
                      dir / "x.json"})
                .exit_code,
            64);
}

}  // namespace
}  // namespace avrec
