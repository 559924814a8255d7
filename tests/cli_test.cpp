// Runs the built avrec binary: exit codes, messages, and workspace behaviour
// as a nightly shell script sees them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace avrec {
namespace {

using test::kItems;
using test::kReviews;
using test::kTinySentiment;
using test::QueryInt;
using test::QueryText;
using test::ReadFile;
using test::RunAvrec;
using test::RunProgram;
using test::RunResult;
using test::SourcePath;
using test::TempDir;
using test::WriteFile;

// Replaces the first occurrence of `from` in the file's bytes.
std::string Broken(const std::string& bytes, const std::string& from, const std::string& to) {
  size_t p = bytes.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  return bytes.substr(0, p) + to + bytes.substr(p + from.size());
}

TEST(Cli, VersionAndHelp) {
  auto r = RunAvrec({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("avrec "), std::string::npos);
  r = RunAvrec({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("validate"), std::string::npos);
  EXPECT_NE(r.out.find("ingest"), std::string::npos);
  r = RunAvrec({"validate", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--max-errors INT=100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Usage: avrec validate [OPTIONS]"), std::string::npos) << r.out;  // not build/avrec
}

TEST(Cli, UsageErrorsExit64) {
  EXPECT_EQ(RunAvrec({}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"no-such-command"}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"validate", "--no-such-flag"}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"validate"}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"validate", "--reviews", "x.xlsx"}).exit_code, 64);
  EXPECT_EQ(RunAvrec({"--log-level", "loud", "validate", "--items", kItems}).exit_code, 64);
  // Every usage error reads as avrec's own: prefixed, naming what is wrong
  // and the help to read.
  const std::vector<std::pair<std::vector<std::string>, std::string>> said = {
      {{}, "avrec: error: a subcommand is required (subcommands: validate, ingest, "},
      {{"no-such-command"}, "avrec: error: unknown subcommand 'no-such-command' (subcommands: validate, "},
      {{"recomend"}, "avrec: error: unknown subcommand 'recomend' (did you mean 'recommend'? subcommands: validate, "},
      {{"validate", "--no-such-flag"},
       "avrec: error: unknown option '--no-such-flag' (not one of `avrec validate`'s); see `avrec validate --help`"},
      {{"recommend", "stray"}, "avrec: error: The following argument was not expected: stray; see "},
      {{"--log-level", "loud", "validate"}, "avrec: error: --log-level: loud not in {"},
      // A near misspelling of one of the subcommand's options, or of a
      // global one, is named with the option it may mean.
      {{"recommend", "--topn", "5"},
       "avrec: error: unknown option '--topn' (did you mean '--top-n'?); see `avrec recommend --help`"},
      {{"evaluate", "--truth-score=s.jsonl"},
       "avrec: error: unknown option '--truth-score' (did you mean '--truth-scores'?); see `avrec evaluate --help`"},
      {{"validate", "--log-levl", "warn"}, "avrec: error: unknown option '--log-levl' (did you mean '--log-level'?)"},
      // Another verb's word for the same thing: evaluate, topk and diff
      // say --k for the length of a list, recommend --top-n.
      {{"recommend", "--k", "20"},
       "avrec: error: unknown option '--k' (did you mean '--top-n'?); see `avrec recommend --help`"},
      {{"evaluate", "--top-n=5"},
       "avrec: error: unknown option '--top-n' (did you mean '--k'?); see `avrec evaluate --help`"},
      {{"diff", "--topn", "5"}, "avrec: error: unknown option '--topn' (did you mean '--k'?)"},
      // A verb's option given before any verb: the verbs that have it, or
      // that none does; its value is not taken for a misspelt verb.
      {{"--top-n", "5"},
       "avrec: error: option '--top-n' with no subcommand: it is an option of recommend, and follows the "
       "subcommand, as in `avrec recommend --top-n ...`; see `avrec recommend --help`"},
      {{"--out", "x.json", "recommend"}, "avrec: error: option '--out' with no subcommand: it is an option of score, "},
      {{"--bogus"}, "avrec: error: unknown option '--bogus' (no subcommand has it; subcommands: validate, "},
      {{"recommnd", "--top-n", "5"}, "avrec: error: unknown subcommand 'recommnd' (did you mean 'recommend'? "},
  };
  for (const auto& [args, message] : said) {
    const auto r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_EQ(r.err.rfind(message, 0), 0u) << r.err;
  }
}

// One spelling for the output everywhere: every subcommand that writes a
// file takes -o as well as --out (a shell user types -o after using it once).
TEST(Cli, EverySubcommandWithAnOutputTakesDashO) {
  const std::string top = RunAvrec({"--help"}).out;
  const size_t list = top.find("Subcommands:");
  ASSERT_NE(list, std::string::npos) << top;
  std::istringstream lines(top.substr(list));
  std::string line;
  int with_out = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    if (line.rfind("  ", 0) != 0 || !(words >> name)) continue;
    const std::string help = RunAvrec({name, "--help"}).out;
    if (help.find("--out ") == std::string::npos) continue;
    ++with_out;
    EXPECT_NE(help.find("-o,--out "), std::string::npos) << name << ":\n" << help;
  }
  EXPECT_GE(with_out, 9);  // score, embed, profile, recommend, evaluate, diff, report, topk, run
}

TEST(Cli, ValidateSamplePasses) {
  auto r = RunAvrec({"validate", "--reviews", kReviews, "--items", kItems});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // nothing on stdout: logs go to stderr
}

// A shell user's pipes: "-" is stdin, and a name without an extension
// (process substitution's /dev/fd/N) is read by content, gzip included.
TEST(Cli, InputsFromStdinAndPipesAreReadByContent) {
  TempDir dir;
  const std::string csv = ReadFile(kReviews);
  RunResult r = RunAvrec({"validate", "--reviews", "-", "--items", kItems}, csv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("-: 2864 valid reviews"), std::string::npos) << r.err;
  // The same rows as JSON Lines and as TSV, through stdin.
  std::string jsonl = "{\"user_id\":\"u1\",\"item_id\":\"s0001\",\"text\":\"great\",\"rating\":5}\n";
  r = RunAvrec({"validate", "--reviews", "-", "--items", kItems}, jsonl);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunAvrec({"validate", "--reviews", "-", "--items", kItems}, "user_id\titem_id\ttext\nu1\ts0001\tok, fine\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 valid review"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-: read as TSV (told by its content)"), std::string::npos) << r.err;
  // A .txt or .dat name says only "text" (Last.fm's user_artists.dat is
  // TSV, CRLF): read by its content too, gzip included. Another extension
  // is a usage error before anything is read.
  WriteFile(dir / "plays.dat", "user_id\titem_id\ttext\r\nu1\ts0001\tok, fine\r\n");
  WriteFile(dir / "plays.txt", csv);
  ASSERT_EQ(
      RunProgram({"bash", "-c", "gzip -c '" + std::string(kReviews) + "' > '" + (dir / "r.txt.gz") + "'"}).exit_code,
      0);
  for (const auto& [name, said] :
       std::vector<std::pair<std::string, std::string>>{{"plays.dat", "plays.dat: read as TSV (told by its content)"},
                                                        {"plays.txt", "plays.txt: read as CSV (told by its content)"},
                                                        {"r.txt.gz", "r.txt.gz: read as CSV (told by its content)"}}) {
    r = RunAvrec({"validate", "--reviews", dir / name, "--items", kItems});
    EXPECT_EQ(r.exit_code, 0) << name << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
  }
  WriteFile(dir / "plays.xlsx", csv);
  r = RunAvrec({"validate", "--reviews", dir / "plays.xlsx", "--items", kItems});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("plays.xlsx: cannot tell the format from the extension 'xlsx' (expected .csv, .tsv, .jsonl or "
                       ".ndjson, optionally followed by .gz; a .txt or .dat file, or one without an extension, is "
                       "read by its content)"),
            std::string::npos)
      << r.err;
  // Bad rows are still named, with "-" for the file.
  r = RunAvrec({"validate", "--reviews", "-", "--items", kItems}, "user_id,item_id,text\n,s0001,x\n");
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("-:2: field 'user_id' is empty"), std::string::npos) << r.err;
  // gzip through a pipe.
  r = RunProgram({"bash", "-c",
                  "gzip -c '" + std::string(kReviews) + "' | '" + test::AvrecBinary() +
                      "' validate --reviews - --items '" + std::string(kItems) + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("-: 2864 valid reviews"), std::string::npos) << r.err;
  // ... whose writer hands over the first byte alone.
  r = RunProgram({"bash", "-c",
                  "(gzip -c '" + std::string(kReviews) + "' | head -c 1; sleep 0.3; gzip -c '" + std::string(kReviews) +
                      "' | tail -c +2) | '" + test::AvrecBinary() + "' validate --reviews - --items '" +
                      std::string(kItems) + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("-: 2864 valid reviews"), std::string::npos) << r.err;
}

TEST(Cli, MissingFileExit66WithPath) {
  auto r = RunAvrec({"validate", "--reviews", "/nonexistent/reviews.csv"});
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_NE(r.err.find("/nonexistent/reviews.csv"), std::string::npos);
  // --text-model takes 'none'; --model none, by analogy, is told the option
  // that profiles without sentiment.
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--model", "none", "--text-model", "none",
                "--out", "/dev/null"});
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_NE(r.err.find("none: model directory not found (profiles without sentiment: `avrec recommend "
                       "--no-sentiment`)"),
            std::string::npos)
      << r.err;
}

TEST(Cli, BrokenCopiesOfTheSampleExit65WithPathLine) {
  TempDir dir;
  const std::string reviews = ReadFile(kReviews), items = ReadFile(kItems);
  struct Case {
    std::string what, file, bytes, expect;
  };
  // Line 2 of items.csv is the first item; reviews line 2 the first review.
  std::string first_item_line = items.substr(items.find('\n') + 1);
  first_item_line = first_item_line.substr(0, first_item_line.find('\n'));
  std::string first_item_id = first_item_line.substr(0, first_item_line.find(','));
  std::vector<Case> cases = {
      {"bad quoting", "reviews.csv", Broken(reviews, "\nr00001,", "\nr00001\"x\","), "reviews.csv:2: quote character"},
      {"field count", "reviews.csv", Broken(reviews, "\nr00002,", "\nr00002,extra,"),
       "reviews.csv:3: expected 6 fields"},
      {"missing column", "reviews.csv", Broken(reviews, "user_id", "uid"),
       "reviews.csv:1: missing required column 'user_id'"},
      {"invalid utf-8", "reviews.csv",
       Broken(reviews, "\nr00003,",
              "\nr\xff"
              "00003,"),
       "reviews.csv:4: field 'review_id': invalid UTF-8"},
      {"empty field", "reviews.csv", Broken(reviews, "\nr00004,u", "\nr00004,,u"), "reviews.csv:5:"},
      {"bad rating", "reviews.csv", Broken(reviews, "\nr00001,", "\nr00001,"), ""},
      {"non-numeric feature", "items.csv",
       Broken(items, first_item_line,
              first_item_line.substr(0, first_item_line.find(',', first_item_line.find(".") + 5)) + "x" +
                  first_item_line.substr(first_item_line.find(',', first_item_line.find(".") + 5))),
       "items.csv:2:"},
      {"duplicate item", "items.csv", items + first_item_line + "\n", "duplicate item_id '" + first_item_id + "'"},
      {"unknown item", "reviews.csv", Broken(reviews, "\nr00005,u", "\nr00005,u"), ""},
  };
  for (const Case& c : cases) {
    if (c.expect.empty()) continue;
    WriteFile(dir / "reviews.csv", c.file == "reviews.csv" ? c.bytes : reviews);
    WriteFile(dir / "items.csv", c.file == "items.csv" ? c.bytes : items);
    auto r = RunAvrec({"validate", "--reviews", dir / "reviews.csv", "--items", dir / "items.csv"});
    EXPECT_EQ(r.exit_code, 65) << c.what << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.what << ": expected '" << c.expect << "' in\n" << r.err;
  }
}

// An out-of-range value is named as the user gave it: by its flag from the
// command line, by flag and config key from a config file.
TEST(Cli, AnOutOfRangeValueIsNamedWhereItWasGiven) {
  TempDir dir;
  auto r = RunAvrec({"recommend", "-n", "-5", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("error: --top-n: expected a number from 1 to 2147483647, got -5\n"), std::string::npos) << r.err;
  r = RunAvrec({"recommend", "--threads", "-1", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("error: --threads: expected a number from 0 to 2147483647, got -1\n"), std::string::npos)
      << r.err;
  WriteFile(dir / "c.json", R"({"recommend": {"top_n": -5}})");
  r = RunAvrec({"recommend", "--config", dir / "c.json", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("error: --top-n (config recommend.top_n): expected a number from 1 to 2147483647, got -5\n"),
            std::string::npos)
      << r.err;
  // The command line wins over the config, and so does its name.
  r = RunAvrec({"recommend", "--config", dir / "c.json", "-n", "0", "--out", dir / "o.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("error: --top-n: expected a number from 1 to 2147483647, got 0\n"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "o.json"));
}

TEST(Cli, ValidateSpecificMessages) {
  TempDir dir;
  WriteFile(dir / "items.csv", "item_id,audio.tempo\na,120\nb,NaN\nc,inf\n");
  WriteFile(dir / "reviews.csv",
            "user_id,item_id,text,rating,timestamp\n"
            "u1,a,fine,4,2024-01-01\n"
            "u1,zz,unknown item,4,2024-01-01\n"
            "u1,a,bad rating,four,2024-01-01\n"
            "u1,a,bad time,4,2024-13-01\n"
            "u1,b,an item on an invalid row,4,2024-01-01\n");
  auto r = RunAvrec({"validate", "--reviews", dir / "reviews.csv", "--items", dir / "items.csv"});
  EXPECT_EQ(r.exit_code, 65);
  const std::string bad_row =
      "reviews.csv:6: item_id 'b' is not among the items: its row (" + dir / "items.csv" + ":3) is invalid\n";
  for (const std::string expect : {"items.csv:3: field 'audio.tempo': expected a finite number, got 'NaN'",
                                   "items.csv:4: field 'audio.tempo': expected a finite number, got 'inf'",
                                   "reviews.csv:3: item_id 'zz' is not among the items\n", bad_row.c_str(),
                                   "reviews.csv:4: field 'rating': expected a finite number, got 'four'",
                                   "reviews.csv:5: field 'timestamp': expected Unix seconds or an ISO 8601"}) {
    EXPECT_NE(r.err.find(expect), std::string::npos) << expect << "\n" << r.err;
  }
}

// A file in another tool's layout (its own column names, Unix milliseconds, as
// in Amazon's 2023 reviews) reads through --map and --timestamp-unit ms into
// the same reviews as avrec's layout in seconds: split writes the same bytes,
// recommend with a decay in days the same lists, evaluate the same metrics.
// Without the unit, the first millisecond count is an error that names it.
TEST(Cli, MillisecondTimestampsUnderOtherColumnNamesReadAsSeconds) {
  TempDir dir;
  std::string seconds = "user_id,item_id,text,rating,timestamp\n";
  std::string ms;
  const char* kIds[] = {"s0010", "s0011", "v0012", "s0013", "s0014", "v0015", "s0016", "s0017", "v0018"};
  for (int u = 0; u < 12; ++u) {
    for (int k = 0; k < 5; ++k) {
      const std::string user = "u" + std::to_string(u), item = kIds[(u * 3 + k * 2) % 9];
      const int64_t t = 1700000000 + u * 86400 * 7 + k * 86400;
      const int stars = 1 + (u + k) % 5;
      seconds += user + "," + item + ",review " + std::to_string(k) + "," + std::to_string(stars) + "," +
                 std::to_string(t) + "\n";
      ms += "{\"user\":\"" + user + "\",\"asin\":\"" + item + "\",\"body\":\"review " + std::to_string(k) +
            "\",\"stars\":" + std::to_string(stars) + ",\"time\":" + std::to_string(t * 1000 + 999) + "}\n";
    }
  }
  WriteFile(dir / "s.csv", seconds);
  WriteFile(dir / "ms.jsonl", ms);
  const std::vector<std::string> map = {"--map", "user_id=user,item_id=asin,text=body,rating=stars,timestamp=time"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  auto r = RunAvrec(with({"validate", "--reviews", dir / "ms.jsonl"}, map));
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("ms.jsonl:1: field 'timestamp': '1700000000999' read as Unix seconds is after the year 9999; "
                       "if the column holds milliseconds, give --timestamp-unit ms"),
            std::string::npos)
      << r.err;
  const std::vector<std::string> unit = {"--timestamp-unit", "ms"};
  r = RunAvrec(with(with({"split", "--reviews", dir / "ms.jsonl", "--method", "leave-last", "--train", dir / "a.csv",
                          "--test", dir / "b.csv"},
                         map),
                    unit));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunAvrec({"split", "--reviews", dir / "s.csv", "--method", "leave-last", "--train", dir / "a2.csv", "--test",
                dir / "b2.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir / "a.csv"), ReadFile(dir / "a2.csv"));
  EXPECT_EQ(ReadFile(dir / "b.csv"), ReadFile(dir / "b2.csv"));
  const std::vector<std::string> rec = {
      "--items",    kItems,  "--algorithm",      "ease", "--no-sentiment", "--text-model", "none",
      "--snippets", "first", "--half-life-days", "20"};
  r = RunAvrec(
      with(with(with({"recommend", "--reviews", dir / "ms.jsonl", "--out", dir / "r1.json"}, map), unit), rec));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunAvrec(with({"recommend", "--reviews", dir / "s.csv", "--out", dir / "r2.json"}, rec));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same lists; only the header's config hash differs (--map and --timestamp-unit are settings).
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir / "r1.json"))["users"],
            nlohmann::json::parse(ReadFile(dir / "r2.json"))["users"]);
  r = RunAvrec(with(with({"evaluate", "--recs", dir / "r1.json", "--truth", dir / "ms.jsonl"}, map), unit));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("neither Unix"), std::string::npos) << r.err;
  auto same = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "s.csv"});
  EXPECT_EQ(r.out, same.out);
  // A truth table under MovieLens's names: one problem at its header with
  // the --map that reads it (it was one per row, then "60 invalid rows").
  WriteFile(dir / "ml.csv", "userId,movieId,text,rating,timestamp" + seconds.substr(seconds.find('\n')));
  r = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "ml.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("ml.csv:1: missing required columns 'user_id', 'item_id' (the header has: 'userId', 'movieId', "
                       "'text', 'rating', 'timestamp'); --map user_id=userId,item_id=movieId reads the file's columns "
                       "under avrec's names\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("ml.csv: no row can be read: the problem with its header is above\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("ml.csv:2:"), std::string::npos) << r.err;
  r = RunAvrec(
      {"evaluate", "--recs", dir / "r2.json", "--truth", dir / "ml.csv", "--map", "user_id=userId,item_id=movieId"});
  EXPECT_EQ(r.out, same.out) << r.err;
  // Items under another id name: --items-map reads them (evaluate had none,
  // though the message named it), with the same coverage and ild.
  const std::string items_text = ReadFile(kItems);
  ASSERT_EQ(items_text.rfind("item_id,", 0), 0u);
  WriteFile(dir / "asin.csv", "asin" + items_text.substr(std::string("item_id").size()));
  const std::vector<std::string> scored = {"evaluate", "--recs", dir / "r2.json", "--truth", dir / "s.csv", "--items"};
  auto catalogue = RunAvrec(with(scored, {kItems}));
  ASSERT_EQ(catalogue.exit_code, 0) << catalogue.err;
  EXPECT_NE(catalogue.out.find("\"ild@10\""), std::string::npos) << catalogue.out;
  r = RunAvrec(with(scored, {dir / "asin.csv"}));
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("--items-map item_id=asin reads the file's columns under avrec's names"), std::string::npos)
      << r.err;
  r = RunAvrec(with(scored, {dir / "asin.csv", "--items-map", "item_id=asin"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, catalogue.out);
  // A feature without its modality prefix: the warning names --numeric,
  // which evaluate reads too, and ild is what it was.
  std::string tempo = items_text;
  tempo.replace(tempo.find(",audio.tempo,"), 13, ",tempo,");
  WriteFile(dir / "tempo.csv", tempo);
  r = RunAvrec(with(scored, {dir / "tempo.csv"}));
  EXPECT_NE(r.err.find("--numeric tempo=audio reads them"), std::string::npos) << r.err;
  r = RunAvrec(with(scored, {dir / "tempo.csv", "--numeric", "tempo=audio"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("--numeric tempo"), std::string::npos) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["ild@10"].get<double>(),
              nlohmann::json::parse(catalogue.out)["ild@10"].get<double>(), 1e-9);
  // The truth's times only order a user's repeated reviews; unread, they are said to be.
  r = RunAvrec(with({"evaluate", "--recs", dir / "r1.json", "--truth", dir / "ms.jsonl"}, map));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("ms.jsonl: 60 timestamps neither Unix seconds nor ISO 8601 (wrong --timestamp-unit?)"),
            std::string::npos)
      << r.err;
  // R's NA (and the like) is a missing time, not an unread one.
  WriteFile(dir / "na.csv", "user_id,item_id,rating,timestamp\nu1,i1,NA,NA\nu1,i2,4,NULL\n");
  r = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "na.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("neither"), std::string::npos) << r.err;
  // A filter no truth row passes: no user is evaluated, and the accuracy
  // metrics are null (0 would read as a result), with a warning.
  r = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "s.csv", "--relevant-min-rating", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = nlohmann::json::parse(r.out);
  EXPECT_TRUE(m.at("ndcg@10").is_null()) << r.out;
  EXPECT_EQ(m.at("users_evaluated"), 0);
  EXPECT_NE(r.err.find("evaluate: 0 users evaluated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no user has a relevant held-out item (every truth row is below --relevant-min-rating): "
                       "the accuracy metrics are null"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("have no rating"), std::string::npos) << r.err;
  // Rows without a rating cannot pass the filter: counted, and a truth file
  // without any (no rating column) is named as such, not as low ratings.
  WriteFile(dir / "unrated.csv", "user_id,item_id\nu1,i1\nu1,i2\n");
  r = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "unrated.csv", "--relevant-min-rating", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("unrated.csv: 2 of 2 truth rows have no rating, and --relevant-min-rating counts none of them "
                       "relevant (no rating column? --map rating=COLUMN reads one)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("no user has a relevant held-out item (no truth row has a rating for --relevant-min-rating)"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"evaluate", "--recs", dir / "r2.json", "--truth", dir / "na.csv", "--relevant-min-rating", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("na.csv: 1 of 2 truth rows have no rating, and --relevant-min-rating counts none of them "
                       "relevant\n"),
            std::string::npos)
      << r.err;
  // The grade scale: backwards is a usage error (it graded every rating as
  // 3 stars, and disliked@k went null); ratings beyond it are said to be.
  EXPECT_EQ(same.err.find("outside the grade scale"), std::string::npos) << same.err;
  const std::vector<std::string> graded = {"evaluate", "--recs", dir / "r2.json", "--truth", dir / "s.csv"};
  r = RunAvrec(with(graded, {"--grade-rating-min", "5", "--grade-rating-max", "1"}));
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("--grade-rating-min 5 / --grade-rating-max 1: expected the lowest rating below the highest"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(RunAvrec(with(graded, {"--grade-rating-min", "5", "--grade-rating-max", "1", "--no-graded"})).exit_code, 0);
  r = RunAvrec(with(graded, {"--grade-rating-min", "0", "--grade-rating-max", "3"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("s.csv: 24 of 60 ratings lie outside the grade scale 0 .. 3 and grade as its nearest end"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("counts such as plays have no grades: give --no-graded"), std::string::npos) << r.err;
}

// Tonight's lists against a baseline's, on one truth: each metric's
// baseline value and change with its interval, the same bytes on a rerun,
// and --fail-if gates on any field (a gate nothing can check does not pass).
TEST(Cli, EvaluateAgainstABaselineGivesChangesAndGates) {
  TempDir dir;
  ASSERT_EQ(RunAvrec({"split", "--reviews", kReviews, "--method", "leave-last", "--train", dir / "train.csv", "--test",
                      dir / "test.csv"})
                .exit_code,
            0);
  for (const char* algorithm : {"ease", "popular"}) {
    const auto r =
        RunAvrec({"recommend", "--reviews", dir / "train.csv", "--items", kItems, "--no-sentiment", "--text-model",
                  "none", "--algorithm", algorithm, "-o", dir / (std::string(algorithm) + ".json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::vector<std::string> evaluate = {"evaluate", "--recs", dir / "ease.json", "--truth", dir / "test.csv"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), evaluate.begin(), evaluate.end());
    return more;
  };
  const auto alone = nlohmann::json::parse(RunAvrec(with({})).out);
  const auto popular =
      nlohmann::json::parse(RunAvrec({"evaluate", "--recs", dir / "popular.json", "--truth", dir / "test.csv"}).out);
  auto r = RunAvrec(with({"--baseline", dir / "popular.json", "--out", dir / "m.json", "--per-user", dir / "u.jsonl"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Per user: this run's values and the baseline's, the summary's metrics
  // only (no arp without --train), pairwise_auc once.
  double sum = 0;
  int users = 0;
  std::istringstream per_user(ReadFile(dir / "u.jsonl"));
  for (std::string line; std::getline(per_user, line); ++users) {
    const auto u = nlohmann::json::parse(line);
    sum += u.at("ndcg@10").get<double>() - u.at("ndcg@10.baseline").get<double>();
    EXPECT_TRUE(u.contains("pairwise_auc") && u.contains("has_list.baseline")) << line;
    EXPECT_FALSE(u.contains("arp@10") || u.contains("pairwise_auc@10") || u.contains("coverage@10")) << line;
  }
  EXPECT_EQ(RunAvrec(with({"--baseline", dir / "popular.json"})).out, r.out);  // the same resamples
  const auto m = nlohmann::json::parse(r.out);
  for (const char* name : {"precision@10", "recall@10", "ndcg@10", "hit@10", "ndcg_graded@10", "disliked@10"}) {
    const std::string n = name;
    ASSERT_TRUE(m.contains(n + ".change_high")) << n << " in " << r.out;
    EXPECT_EQ(m[n], alone[n]) << n;  // this run's values are as without a baseline
    EXPECT_EQ(m[n + ".baseline"], popular[n]) << n;
    EXPECT_NEAR(m[n + ".change"].get<double>(), alone[n].get<double>() - popular[n].get<double>(), 2e-6) << n;
    EXPECT_LE(m[n + ".change_low"].get<double>(), m[n + ".change"].get<double>()) << n;
    EXPECT_GE(m[n + ".change_high"].get<double>(), m[n + ".change"].get<double>()) << n;
  }
  EXPECT_NE(r.err.find("evaluate: against " + dir / "popular.json" + ": ndcg@10 "), std::string::npos) << r.err;
  EXPECT_EQ(users, m["users_evaluated"]);
  EXPECT_NEAR(sum / users, m["ndcg@10.change"].get<double>(), 1e-5);
  // Against itself: every change and interval is 0.
  const auto self = nlohmann::json::parse(RunAvrec(with({"--baseline", dir / "ease.json"})).out);
  EXPECT_EQ(self["ndcg@10.change"], 0.0);
  EXPECT_EQ(self["ndcg@10.change_low"], 0.0);
  EXPECT_EQ(self["ndcg@10.change_high"], 0.0);
  // A gate that holds: exit 1, the object still printed and written.
  const double high = m["ndcg@10.change_high"].get<double>();
  r = RunAvrec(with({"--baseline", dir / "popular.json", "--fail-if",
                     "ndcg@10.change_high<" + std::to_string(high + 0.5), "--fail-if", "ndcg@10>2"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("\"ndcg@10.change_high\""), std::string::npos);
  EXPECT_NE(r.err.find("evaluate: ndcg@10.change_high = "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ndcg@10 = "), std::string::npos) << r.err;  // the gate that does not hold is quiet
  EXPECT_EQ(RunAvrec(with({"--fail-if", "ndcg@10>2"})).exit_code, 0);
  // pairwise_auc: no test user has both a liked and a disliked item here.
  r = RunAvrec(with({"--baseline", dir / "popular.json", "--fail-if", "pairwise_auc.change<0"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pairwise_auc.change is null (nothing to measure)"), std::string::npos) << r.err;
  // A gate naming no field: a usage error, and nothing printed or written.
  r = RunAvrec(with({"--fail-if", "ndcg@10.change<0", "--out", dir / "m2.json"}));
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--fail-if: no field 'ndcg@10.change' (fields: precision@10, "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", ...); a metric's .change comes with --baseline\n"), std::string::npos) << r.err;
  struct stat st;
  EXPECT_NE(stat((dir / "m2.json").c_str(), &st), 0);
  r = RunAvrec(with({"--baseline", dir / "popular.json", "--bootstrap", "0", "--fail-if", "ndcg@10.change_high<0"}));
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("; a metric's .change_high comes with --baseline and --bootstrap above 0\n"), std::string::npos)
      << r.err;
  r = RunAvrec(with({"--fail-if", "nosuch.change<0"}));
  EXPECT_EQ(r.err.find("comes with"), std::string::npos) << r.err;  // no hint for a field that is no metric
  // The baseline is an input like the lists: no output may replace it, and
  // it cannot share standard input with them.
  const std::string before = ReadFile(dir / "popular.json");
  r = RunAvrec(with({"--baseline", dir / "popular.json", "--out", dir / "popular.json"}));
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(dir / "popular.json"), before);
  r = RunAvrec({"evaluate", "--recs", "-", "--baseline", "-", "--truth", dir / "test.csv"}, before);
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("two inputs read standard input"), std::string::npos) << r.err;
  // A malformed gate fails before anything is read.
  r = RunAvrec(with({"--baseline", dir / "missing.json", "--fail-if", "ndcg@10"}));
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(RunAvrec(with({"--baseline", dir / "missing.json"})).exit_code, 66);
  EXPECT_EQ(RunAvrec(with({"--baseline", dir / "popular.json", "--bootstrap", "-1"})).exit_code, 64);
  const auto bare = nlohmann::json::parse(RunAvrec(with({"--baseline", dir / "popular.json", "--bootstrap", "0"})).out);
  EXPECT_EQ(bare["ndcg@10.change"], m["ndcg@10.change"]);
  EXPECT_FALSE(bare.contains("ndcg@10.change_low"));
}

// What a reader notices but accepts (an exact duplicate, a rating written as
// a JSON string, a date in the future) is said by every verb that reads the
// reviews, score included.
TEST(Cli, EveryVerbThatReadsReviewsSaysWhatItAcceptedWithAWarning) {
  TempDir dir;
  const std::string line = "{\"user_id\":\"u1\",\"item_id\":\"s0010\",\"text\":\"fine\",\"rating\":\"4\"}\n";
  WriteFile(dir / "r.jsonl",
            line + line + "{\"user_id\":\"u2\",\"item_id\":\"s0011\",\"text\":\"good\"}\n" +
                "{\"user_id\":\"u2\",\"item_id\":\"s0013\",\"text\":\"ok\",\"timestamp\":\"2102-01-04\"}\n");
  const std::vector<std::vector<std::string>> verbs = {
      {"validate", "--reviews", dir / "r.jsonl", "--items", kItems},
      {"score", "--model", kTinySentiment, "--reviews", dir / "r.jsonl", "--out", dir / "s.jsonl"},
      {"split", "--reviews", dir / "r.jsonl", "--method", "random", "--train", dir / "a.csv", "--test", dir / "b.csv"},
      {"recommend", "--reviews", dir / "r.jsonl", "--items", kItems, "--no-sentiment", "--text-model", "none", "--out",
       dir / "l.json"},
  };
  for (const auto& args : verbs) {
    const RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("r.jsonl: 1 exact duplicate review (kept once)"), std::string::npos)
        << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("r.jsonl: JSON strings read as numbers: 2 ratings (\"4\")"), std::string::npos)
        << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("r.jsonl: 1 review is dated after today, the latest 2102-01-04: a wrong year?"),
              std::string::npos)
        << args[0] << ": " << r.err;
  }
  // The sample's dates are all past.
  EXPECT_EQ(RunAvrec({"validate", "--reviews", kReviews}).err.find("dated after today"), std::string::npos);
}

TEST(Cli, MaxErrorsLimitsOutputAndCountsTheRest) {
  TempDir dir;
  std::string bytes = "user_id,item_id,text\n";
  for (int i = 0; i < 10; ++i) bytes += "u1,i1\n";
  WriteFile(dir / "r.csv", bytes);
  auto r = RunAvrec({"validate", "--reviews", dir / "r.csv", "--max-errors", "3"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("r.csv:4:"), std::string::npos);
  EXPECT_EQ(r.err.find("r.csv:5:"), std::string::npos);
  EXPECT_NE(r.err.find("7 more problems"), std::string::npos) << r.err;
}

TEST(Cli, JsonLogFormat) {
  TempDir dir;
  WriteFile(dir / "r.csv", "user_id,item_id,text\nu1,i1\n");
  auto r = RunAvrec({"--log-format", "json", "validate", "--reviews", dir / "r.csv"});
  EXPECT_EQ(r.exit_code, 65);
  std::istringstream lines(r.err);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
  }
  EXPECT_GT(n, 1);
  EXPECT_NE(r.err.find("\"line\":2"), std::string::npos) << r.err;
}

// $AVREC_LOG_LEVEL and $AVREC_LOG_FORMAT stand in for the options; a value
// that is none of the choices names the variable (the command line does not
// hold the option), and the command line wins over the environment.
TEST(Cli, LogOptionsFromTheEnvironment) {
  TempDir dir;
  WriteFile(dir / "r.csv", "user_id,item_id,text\nu1,i1\n");
  const std::vector<std::string> validate = {"validate", "--reviews", dir / "r.csv"};
  auto r = RunAvrec(validate, "", {"AVREC_LOG_FORMAT=json"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_EQ(r.err.front(), '{') << r.err;
  r = RunAvrec(validate, "", {"AVREC_LOG_LEVEL=off"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_EQ(r.err.find("avrec: "), std::string::npos) << r.err;  // the problems only
  r = RunAvrec(validate, "", {"AVREC_LOG_LEVEL=verbose"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("avrec: error: AVREC_LOG_LEVEL (environment): expected one of trace, debug, info, warn, "
                       "error, critical, off, found 'verbose'"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"--log-format", "text", "validate", "--reviews", dir / "r.csv"}, "", {"AVREC_LOG_FORMAT=xml"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("avrec: error: "), std::string::npos) << r.err;
}

TEST(Cli, NeverCrashesOnArbitraryBytes) {
  TempDir dir;
  std::mt19937 rng(42);
  for (int round = 0; round < 30; ++round) {
    std::string bytes;
    int n = rng() % 400;
    for (int i = 0; i < n; ++i) bytes += static_cast<char>(rng() % 4 == 0 ? "\",\n\r{}[]:\\\t"[rng() % 12] : rng());
    for (const char* name : {"r.csv", "r.jsonl", "r.tsv"}) {
      WriteFile(dir / name, bytes);
      auto r = RunAvrec({"validate", "--reviews", dir / name, "--items", dir / name});
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 65) << name << " exit " << r.exit_code << "\n" << r.err;
    }
  }
}

TEST(Cli, IngestThenThreeNewReviewsGivesExactlyTheUnion) {
  TempDir dir;
  std::string ws = dir / "w.avrec";
  auto r = RunAvrec({"ingest", "--workspace", ws, "--reviews", kReviews, "--items", kItems});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int64_t n0 = QueryInt(ws, "SELECT count(*) FROM reviews");
  int64_t items0 = QueryInt(ws, "SELECT count(*) FROM items");
  EXPECT_GT(n0, 2000);
  EXPECT_EQ(items0, 300);
  // Re-ingesting the same files changes nothing.
  r = RunAvrec({"ingest", "--workspace", ws, "--reviews", kReviews, "--items", kItems});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("reviews: 0 added, 0 updated"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), n0);
  // Three new reviews (one of them without a review_id) and one changed text.
  std::string item = QueryText(ws, "SELECT item_id FROM items ORDER BY item_id LIMIT 1");
  WriteFile(dir / "new.jsonl", "{\"review_id\":\"new1\",\"user_id\":\"u001\",\"item_id\":\"" + item +
                                   "\",\"text\":\"Loved it\",\"rating\":5}\n"
                                   "{\"review_id\":\"new2\",\"user_id\":\"u999\",\"item_id\":\"" +
                                   item +
                                   "\",\"text\":\"太好听了\"}\n"
                                   "{\"user_id\":\"u002\",\"item_id\":\"" +
                                   item +
                                   "\",\"text\":\"Not for me\",\"timestamp\":\"2025-06-01T10:00:00Z\"}\n"
                                   "{\"review_id\":\"r00001\",\"user_id\":\"u001\",\"item_id\":\"" +
                                   item + "\",\"text\":\"changed my mind\"}\n");
  r = RunAvrec({"ingest", "--workspace", ws, "--reviews", dir / "new.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("reviews: 3 added, 1 updated, 0 unchanged"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), n0 + 3);
  EXPECT_EQ(QueryText(ws, "SELECT text FROM reviews WHERE review_id = 'r00001'"), "changed my mind");
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM items"), items0);
}

TEST(Cli, StrictIngestFailsWholeAndLenientSkips) {
  TempDir dir;
  std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  WriteFile(dir / "r.csv", "user_id,item_id,text\nu1,s0001,good\nu2,nope,unknown item\nu3,s0001,fine\n");
  auto r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "r.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("r.csv:3: item_id 'nope' is not among the workspace's items\n"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), 0);
  // An id as an export mangles it names the workspace's, in ingest and validate alike.
  WriteFile(dir / "case.csv", "user_id,item_id,text\nu1,S0001,good\n");
  for (const char* cmd : {"ingest", "validate"}) {
    r = RunAvrec({cmd, "-w", ws, "--reviews", dir / "case.csv"});
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_NE(r.err.find("case.csv:2: item_id 'S0001' is not among the workspace's items; the workspace's items have "
                         "'s0001' (ids are case-sensitive)\n"),
              std::string::npos)
        << cmd << ": " << r.err;
  }
  r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "r.csv", "--lenient"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 invalid skipped"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), 2);
  // Items and reviews in one lenient ingest: a review of an item whose row
  // was skipped says where that row is.
  WriteFile(dir / "i.csv", "item_id,audio.tempo\nfresh,120\nbroken,fast\n");
  WriteFile(dir / "r2.csv", "user_id,item_id,text\nu1,fresh,good\nu2,broken,fine\n");
  r = RunAvrec({"ingest", "-w", ws, "--items", dir / "i.csv", "--reviews", dir / "r2.csv", "--lenient"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("r2.csv:3: item_id 'broken' is not among the workspace's items: its row (" + dir / "i.csv" +
                       ":3) is invalid\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), 3);
  // --lenient skips invalid rows, never a whole file whose header it cannot
  // read (a feed that renamed its columns, an empty file, an items file
  // without item_id that would leave every review unknown): it ingested
  // nothing and said exit 0.
  WriteFile(dir / "renamed.csv", "user,item,text\nu9,s0001,good\n");
  WriteFile(dir / "empty.csv", "");
  WriteFile(dir / "no_id.csv", "item,audio.tempo\nfresh2,90\n");
  const std::string before = ReadFile(ws);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--reviews", dir / "renamed.csv"},
                                             {"--reviews", dir / "empty.csv"},
                                             {"--items", dir / "no_id.csv", "--reviews", dir / "r2.csv"},
                                             {"--items", dir / "i.csv", "--reviews", dir / "renamed.csv"}}) {
    std::vector<std::string> cmd = {"ingest", "-w", ws, "--lenient"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    r = RunAvrec(cmd);
    EXPECT_EQ(r.exit_code, 65) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(": no row can be read: the problem with its header is above; nothing was ingested and the "
                         "workspace is unchanged (--lenient skips invalid rows, not a file it cannot read)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(ReadFile(ws), before) << args[1];
  }
  // Nor a file whose every row is invalid (reviews of another catalogue).
  WriteFile(dir / "elsewhere.csv", "user_id,item_id,text\nu1,x1,good\nu2,x2,fine\n");
  r = RunAvrec({"ingest", "-w", ws, "--lenient", "--reviews", dir / "elsewhere.csv"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("elsewhere.csv: all 2 rows are invalid (the first are above); nothing was ingested and the "
                       "workspace is unchanged (--lenient skips invalid rows, not a file of them)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(ws), before);
  // validate and recommend do not check reviews against an items file they
  // cannot read: one problem, not one per review.
  r = RunAvrec({"validate", "--reviews", kReviews, "--items", dir / "no_id.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("validation failed: 1 problem\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("item ids not checked: no row of " + dir / "no_id.csv" + " can be read"), std::string::npos)
      << r.err;
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", dir / "no_id.csv", "--out", dir / "recs.json"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("no_id.csv: no row can be read: the problem with its header is above\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("is not among the items"), std::string::npos) << r.err;
  // Strict, the same words without the --lenient advice.
  r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "renamed.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("renamed.csv: no row can be read: the problem with its header is above; nothing was ingested "
                       "and the workspace is unchanged\n"),
            std::string::npos)
      << r.err;
}

TEST(Cli, KilledIngestLeavesThePreviousWorkspaceIntact) {
  TempDir dir;
  std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  const int64_t before = QueryInt(ws, "SELECT count(*) FROM reviews");
  // A large file of new reviews, so that the kill lands inside the transaction.
  {
    std::ofstream f(dir / "big.csv");
    f << "review_id,user_id,item_id,text\n";
    for (int i = 0; i < 400000; ++i) f << "big" << i << ",u" << (i % 500) << ",s0001,review number " << i << "\n";
  }
  int pid = test::SpawnAvrec({"ingest", "-w", ws, "--reviews", dir / "big.csv"});
  // Wait until the write transaction has written (the write-ahead log grows).
  bool in_transaction = false;
  for (int i = 0; i < 20000 && !in_transaction; ++i) {
    struct stat st;
    in_transaction = ::stat((ws + "-wal").c_str(), &st) == 0 && st.st_size > (1 << 20);
    if (!in_transaction) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_TRUE(in_transaction) << "ingest never opened its transaction";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "ingest finished before it could be killed; make the file larger";
  // The uncommitted log is ignored when the workspace is next opened.
  EXPECT_EQ(QueryText(ws, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(ws, "SELECT count(*) FROM reviews"), before);
  auto r = RunAvrec({"ingest", "-w", ws, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("0 added, 0 updated"), std::string::npos) << r.err;
}

TEST(Cli, ConfigFileAndUnknownKeys) {
  TempDir dir;
  WriteFile(dir / "p.json", "{\"reviews\": {\"path\": \"" + kReviews + "\"}, \"items\": {\"path\": \"" + kItems +
                                "\"}, \"max_errors\": 5}");
  auto r = RunAvrec({"validate", "--config", dir / "p.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir / "bad.json", "{\"reviews\": {\"path\": \"x.csv\", \"lenient_mode\": true}}");
  r = RunAvrec({"validate", "--config", dir / "bad.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("unknown config key 'reviews.lenient_mode'"), std::string::npos) << r.err;
  WriteFile(dir / "typo.json", "{\"max_errors\": \"many\"}");
  r = RunAvrec({"validate", "--config", dir / "typo.json", "--items", kItems});
  EXPECT_EQ(r.exit_code, 64);
  // Relative paths in a config are relative to its folder; the command line wins.
  WriteFile(dir / "items.csv", "item_id\nonly\n");
  WriteFile(dir / "rel.json", "{\"items\": {\"path\": \"items.csv\"}}");
  r = RunAvrec({"validate", "--config", dir / "rel.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 items"), std::string::npos) << r.err;
  r = RunAvrec({"validate", "--config", dir / "rel.json", "--items", kItems});
  EXPECT_NE(r.err.find("300 items"), std::string::npos) << r.err;
  // A config from a pipe (process substitution, --config -) has no folder:
  // its paths are relative to the current one (they were to /dev/fd). One
  // that /dev/stdin is open on keeps its own folder.
  std::filesystem::create_directory(dir / "sub");
  WriteFile(dir / "sub/items.csv", "item_id\na\nb\n");
  WriteFile(dir / "sub/rel.json", "{\"items\": {\"path\": \"items.csv\"}}");
  for (const auto& [config, items] :
       std::vector<std::pair<std::string, std::string>>{{"<(cat rel.json)", "items.csv: 1 items"},
                                                        {"<(cat sub/rel.json)", "items.csv: 1 items"},
                                                        {"- < sub/rel.json", "items.csv: 1 items"},
                                                        {"/dev/stdin < rel.json", "items.csv: 1 items"},
                                                        {"/dev/stdin < sub/rel.json", "sub/items.csv: 2 items"}}) {
    r = test::RunProgram(
        {"bash", "-c", "cd '" + dir.path() + "' && exec '" + test::AvrecBinary() + "' validate --config " + config});
    EXPECT_EQ(r.exit_code, 0) << config << "\n" << r.err;
    EXPECT_NE(r.err.find(items), std::string::npos) << config << "\n" << r.err;
    EXPECT_EQ(r.err.find("/dev/"), std::string::npos) << r.err;
  }
  EXPECT_EQ(RunAvrec({"validate", "--config", dir / "none.json"}).exit_code, 66);
  WriteFile(dir / "notjson.json", "{");
  EXPECT_EQ(RunAvrec({"validate", "--config", dir / "notjson.json"}).exit_code, 64);
  // An empty config (/dev/null, a file truncated by a failed copy) says so.
  r = RunAvrec({"run", "--config", "/dev/null"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("/dev/null: the file is empty (expected a JSON document)"), std::string::npos) << r.err;
  // `run --set` checks its key as the config file's are: a section named
  // alone, or a mistyped key, is told apart, with what it may mean.
  const std::string pipeline = SourcePath("data/sample/pipeline.json");
  const std::vector<std::pair<std::string, std::string>> set = {
      {"profile=3", "--set: config key 'profile': expected an object (keys half_life_days, "},
      {"profile.use_sentimnt=true",
       "--set: unknown config key 'profile.use_sentimnt' (did you mean "
       "'profile.use_sentiment'?)"},
      {"=1", "--set: unknown config key ''"},
  };
  for (const auto& [kv, message] : set) {
    r = RunAvrec({"run", "--config", pipeline, "--set", kv, "-w", dir / "w.avrec", "-o", dir / "r.json"});
    EXPECT_EQ(r.exit_code, 64) << kv;
    EXPECT_NE(r.err.find("avrec: error: " + message), std::string::npos) << r.err;
  }
  struct stat st;
  EXPECT_NE(stat((dir / "w.avrec").c_str(), &st), 0);  // nothing made before the keys are checked
  // A key --set gives that the run does not read is named (the run then
  // stops at the missing reviews file, before any work).
  r = RunAvrec({"run", "--config", pipeline, "--set", "recommend.knn_neighbors=7", "--set",
                "reviews.path=" + (dir / "none.csv"), "-w", dir / "w.avrec", "-o", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --set recommend.knn_neighbors has no effect: it sets item-knn's model, and "
                       "--algorithm is sentiment-content"),
            std::string::npos)
      << r.err;
  // On the command line of a verb, the same.
  r = RunAvrec(
      {"ingest", "-w", dir / "i.avrec", "--reviews", kReviews, "--items", kItems, "--snapshot-max-removed", "0.9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --snapshot-max-removed has no effect: it bounds what --snapshot removes, and "
                       "no --snapshot is given"),
            std::string::npos)
      << r.err;
  // split's options each act under one or two methods; a share that leaves
  // one side empty is refused before the file is read.
  r = RunAvrec({"split", "--reviews", kReviews, "--method", "random", "--quantile", "0.5", "--seed", "3", "--train",
                dir / "a.csv", "--test", dir / "b.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --quantile has no effect: it sets the temporal split, and --method is random"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("--seed has no effect"), std::string::npos) << r.err;
  r = RunAvrec({"split", "--reviews", kReviews, "--method", "leave-last", "--fraction", "0.3", "--train", dir / "a.csv",
                "--test", dir / "b.csv"});
  EXPECT_NE(r.err.find("--fraction has no effect: it sets the random and user-temporal splits, and --method is "
                       "leave-last"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"split", "--reviews", dir / "none.csv", "--method", "random", "--fraction", "1", "--train",
                dir / "a.csv", "--test", dir / "b.csv"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("--fraction: expected a number in (0, 1), found 1"), std::string::npos) << r.err;
  // evaluate's: the interval without a baseline, the grades' scale with
  // --no-graded.
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u010\",\"items\":[{\"item_id\":\"v0231\"}]}\n");
  r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", kReviews, "--bootstrap", "50", "--no-graded",
                "--grade-rating-max", "10"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --bootstrap has no effect: it sets the interval of the change from "
                       "--baseline, and no --baseline is given"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --grade-rating-max has no effect: it grades the held-out items, and "
                       "--no-graded is given"),
            std::string::npos)
      << r.err;
  // profile's: the share with one side of it off, the scale without
  // ratings, --now without time decay; with the decay, --now is read.
  r = RunAvrec({"profile", "--reviews", kReviews, "--items", kItems, "--text-model", "none", "--no-rating",
                "--sentiment-share", "0.3", "--rating-kind", "counts", "--now", "2020-01-01", "--out",
                dir / "p.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* message :
       {"avrec: warning: --sentiment-share has no effect: it shares a review's weight with the rating, and "
        "--no-rating is given",
        "avrec: warning: --rating-kind has no effect: it reads the ratings, and --no-rating is given",
        "avrec: warning: --now has no effect: it is the reference time of --half-life-days, and that is 0"}) {
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
  r = RunAvrec({"profile", "--reviews", kReviews, "--items", kItems, "--text-model", "none", "--no-sentiment",
                "--sentiment-share", "0.3", "--half-life-days", "30", "--now", "2020-01-01", "--out", dir / "p.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--sentiment-share has no effect: it shares a review's weight with sentiment, and "
                       "--no-sentiment is given"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("--now has no effect"), std::string::npos) << r.err;
  // recommend's: the sentiment switches under an algorithm that reads none.
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--text-model", "none", "--algorithm", "content",
                "--no-sentiment", "--snippets", "none", "--out", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --no-sentiment has no effect: it sets how sentiment weighs reviews, and "
                       "--algorithm is content, which reads no sentiment"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace avrec

namespace avrec {
namespace {

// report reads --scores as recommend does: with a workspace too, the file
// wins (it was ignored, the page showing the workspace's sentiment); a
// workspace with --reviews and --items is not read, and is warned.
TEST(Cli, ReportWithAWorkspaceReadsTheScoresFileGiven) {
  test::TempDir dir;
  WriteFile(dir / "items.csv", "item_id,title\ni1,One\ni2,Two\n");
  WriteFile(dir / "reviews.csv", "review_id,user_id,item_id,text\nr1,u1,i1,great song\nr2,u2,i2,dull\n");
  ASSERT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--reviews", dir / "reviews.csv", "--items", dir / "items.csv"})
                .exit_code,
            0);
  ASSERT_EQ(RunAvrec({"score", "--reviews", dir / "reviews.csv", "--model", kTinySentiment, "--out", dir / "s.jsonl"})
                .exit_code,
            0);
  WriteFile(dir / "recs.jsonl",
            "{\"user_id\":\"u1\",\"cold_start\":false,\"history\":1,\"items\":[{\"item_id\":\"i2\",\"rank\":1,"
            "\"score\":0.5,\"reasons\":[]}]}\n");
  const std::vector<std::string> report = {"report", "-w", dir / "w.avrec", "--recs", dir / "recs.jsonl"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = report;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  RunResult r = RunAvrec(with({"--scores", dir / "s.jsonl", "--out", dir / "scored.html"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir / "scored.html").find("\"sentiment_model\":\"from " + dir / "s.jsonl\""), std::string::npos);
  r = RunAvrec(with({"--out", dir / "unscored.html"}));  // the workspace holds no score
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir / "unscored.html").find("\"sentiment_model\":\"from "), std::string::npos);
  // Files and a workspace: the files are read, and the workspace is named
  // as unread.
  r = RunAvrec(with({"--reviews", dir / "reviews.csv", "--items", dir / "items.csv", "--out", dir / "files.html"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avrec: warning: --workspace has no effect: it is read instead of --reviews and --items, and "
                       "they are given"),
            std::string::npos)
      << r.err;
}

TEST(Cli, JsonLogsAreOneObjectPerLineEndingWithRunEnd) {
  test::TempDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--log-format", "json", "validate", "--reviews", kReviews, "--items", kItems},
           {"--log-format", "json", "validate", "--reviews", dir / "missing.csv"},
           {"--log-format", "json", "validate", "--no-such-flag"},
           {"--log-format", "json", "recommend", "--top-n", "many"},
           {"--log-format", "json", "ingest", "-w", dir / "w.avrec", "--reviews", kReviews, "--items", kItems},
           // an output in a folder that is not there: the manifest beside
           // it is not written either, and says so before run_end
           {"--log-format", "json", "score", "--reviews", kReviews, "--model", kTinySentiment, "--out",
            dir / "gone/s.jsonl"}}) {
    auto r = test::RunAvrec(args);
    std::istringstream lines(r.err);
    std::string line, run_id;
    bool run_end = false;
    while (std::getline(lines, line)) {
      const auto j = nlohmann::json::parse(line);  // every line is one JSON object
      for (const char* key : {"ts", "level", "event", "run_id", "subcommand", "msg"}) {
        EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
      }
      if (run_id.empty()) run_id = j["run_id"];
      EXPECT_EQ(j["run_id"], run_id);  // one run id per invocation
      EXPECT_EQ(j["subcommand"], args[2]);
      if (j["event"] == "usage_error") {
        EXPECT_EQ(j["exit_code"], r.exit_code);
      }
      EXPECT_FALSE(run_end) << "a line after run_end: " << line;
      if (j["event"] == "run_end") {  // the last line of every run, usage errors too
        EXPECT_EQ(j["exit_code"], r.exit_code);
        run_end = true;
      }
      if (j["event"] == "stage_end" && j["stage"] == "ingest") {
        EXPECT_EQ(j["reviews"], 2864);
      }
    }
    EXPECT_TRUE(run_end) << r.err;
    if (args[2] == "score") {
      EXPECT_EQ(r.exit_code, 73);
      EXPECT_NE(r.err.find("run manifest " + dir / "gone/s.jsonl.run.json not written"), std::string::npos) << r.err;
    }
  }
}

}  // namespace
}  // namespace avrec
