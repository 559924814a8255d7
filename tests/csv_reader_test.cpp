#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/problem.h"
#include "avrec/table.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::TempDir;
using test::WriteFile;

std::vector<CsvRecord> ParseCsv(const std::string& bytes, char delim = ',') {
  TempDir dir;
  WriteFile(dir / "f.csv", bytes);
  ByteSource src(dir / "f.csv");
  CsvReader reader(&src, delim);
  std::vector<CsvRecord> out;
  CsvRecord rec;
  while (reader.Next(&rec)) out.push_back(rec);
  return out;
}

TEST(CsvReader, PlainFields) {
  auto recs = ParseCsv("a,b,c\n1,2,3\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_TRUE(recs[1].error.empty());
}

TEST(CsvReader, QuotedFieldsHoldCommasQuotesAndNewlines) {
  auto recs = ParseCsv("a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",z\nlast,row\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].fields[0], "x, y");
  EXPECT_EQ(recs[1].fields[1], "he said \"hi\"");
  EXPECT_EQ(recs[2].fields[0], "multi\nline");
  EXPECT_EQ(recs[2].line, 3);
  EXPECT_EQ(recs[3].line, 5);  // the quoted newline advanced the line count
}

TEST(CsvReader, CrlfAndBomAndNoFinalNewline) {
  auto recs = ParseCsv("\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\n2,c");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields[0], "id");  // BOM stripped
  EXPECT_EQ(recs[1].fields[1], "a\r\nb");
  EXPECT_EQ(recs[2].fields, (std::vector<std::string>{"2", "c"}));
  EXPECT_EQ(recs[2].line, 4);
}

TEST(CsvReader, EmptyFieldsAndBlankLines) {
  auto recs = ParseCsv("a,b,c\n,,\n\n\"\",x,\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(recs[2].fields, (std::vector<std::string>{"", "x", ""}));
  EXPECT_EQ(recs[2].line, 4);
}

TEST(CsvReader, TabDelimited) {
  auto recs = ParseCsv("a\tb\n1,5\t\"q\tq\"\n", '\t');
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"1,5", "q\tq"}));
}

TEST(CsvReader, MalformedQuotingIsReportedAndParsingResumes) {
  auto recs = ParseCsv("a,b\n\"abc\"x,1\nab\"c,2\nok,3\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_NE(recs[1].error.find("after the closing quote"), std::string::npos);
  EXPECT_NE(recs[2].error.find("quote character inside unquoted field"), std::string::npos);
  EXPECT_TRUE(recs[3].error.empty());
  EXPECT_EQ(recs[3].fields[0], "ok");
  // Without the header's names (NameFields) a field is named by its number.
  EXPECT_EQ(recs[1].error,
            "unexpected text after the closing quote of field 1: quotes inside a quoted field must be doubled");
}

TEST(CsvReader, UnterminatedQuoteNamesTheOpeningLine) {
  auto recs = ParseCsv("a,b\nx,\"never closed\n\nmore\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_NE(recs[1].error.find("opened on line 2"), std::string::npos) << recs[1].error;
}

TEST(Utf8, Validation) {
  size_t bad = 0;
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("中文 é 🎵"));
  EXPECT_FALSE(IsValidUtf8("ab\xFF", &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));          // truncated
}

TEST(Utf8, SanitizeReplacesMaximalSubparts) {
  size_t n = 0;
  // E4 B8 is a truncated 3-byte sequence: one U+FFFD; FF alone: another.
  EXPECT_EQ(SanitizeUtf8("a\xE4\xB8z\xFF", &n), "a\xEF\xBF\xBDz\xEF\xBF\xBD");
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(SanitizeUtf8("ok"), "ok");
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// The bytes are those iconv writes for the text in the comment.
TEST(Utf8, LegacyEncodingsAreGuessedForTheMessage) {
  // 很快，好吃，味道足 in GBK; 节奏很棒 and a G clef (four bytes) in GB18030.
  EXPECT_EQ(GuessLegacyEncoding(FromHex("badcbfeca3acbac3b3d4a3acceb6b5c0d7e3")), "GB18030");
  EXPECT_EQ(GuessLegacyEncoding("5/5 " + FromHex("bddad7e0badcb0f4") + " " + FromHex("9432be34")), "GB18030");
  // 這首歌的旋律很好聽，歌詞有點無聊 in Big5: second bytes 0x40-0x7E in a third of its characters.
  EXPECT_EQ(GuessLegacyEncoding(FromHex("b36fadbaba71aabab1dbabdfabdca66ec5a5a141ba71b5fca6b3c249b54cb2e1")), "Big5");
  // Western European letters among ASCII ones, even when one and the next
  // letter would pass for a GBK character (0xFC 'l').
  EXPECT_EQ(GuessLegacyEncoding("caf\xE9 cr\xE8me br\xFBl\xE9\x65"), "Windows-1252");  // \x65: 'e'
  EXPECT_EQ(GuessLegacyEncoding("M\xFCller"), "Windows-1252");
  // UTF-8 with a character cut, or a stray byte, is UTF-8 gone wrong: no guess.
  EXPECT_EQ(GuessLegacyEncoding("中文很好\xE5\xA5"), "");
  EXPECT_EQ(GuessLegacyEncoding("很好听的歌 \xFF 推荐"), "");
  EXPECT_EQ(GuessLegacyEncoding("ascii only"), "");
  // Binary data is no encoding's: control bytes, or a byte Windows-1252 leaves undefined.
  EXPECT_EQ(GuessLegacyEncoding("caf\xE9\x01\x02"), "");
  EXPECT_EQ(GuessLegacyEncoding("caf\xE9 \x81"), "");
}

TEST(ByteSource, ReadsGzipAndReportsCorruptData) {
  TempDir dir;
  std::string path = dir / "x.csv.gz";
  gzFile gz = gzopen(path.c_str(), "wb");
  gzputs(gz, "a,b\n1,2\n");
  gzclose(gz);
  EXPECT_EQ(ReadFileToString(path), "a,b\n1,2\n");
  std::string bytes = test::ReadFile(path);
  WriteFile(dir / "bad.csv.gz", bytes.substr(0, bytes.size() / 2) + std::string(40, 'x'));
  try {
    ReadFileToString(dir / "bad.csv.gz");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kDataErr);
  }
}

// Names without a data extension (stdin, /dev/fd/N, a FIFO) are read by
// content: gzip by its magic number, then the format by the first line.
TEST(ByteSource, NamesWithoutAnExtensionAreReadByContent) {
  TempDir dir;
  std::string text = "a\tb\n" + std::string(200000, 'x') + "\t2\n";
  gzFile gz = gzopen((dir / "packed").c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  EXPECT_EQ(ReadFileToString(dir / "packed"), text);
  // A name that says CSV is not sniffed: gzip bytes there are not text.
  std::filesystem::copy_file(dir / "packed", dir / "packed.csv");
  EXPECT_THROW(ReadFileToString(dir / "packed.csv"), Error);
  // PeekLine does not consume, and reads on past its first buffer for a long
  // first line.
  WriteFile(dir / "long", std::string(100000, 'y') + "\nz\n");
  ByteSource src(dir / "long");
  EXPECT_EQ(src.PeekLine(size_t{1} << 20).size(), 100001u);
  EXPECT_EQ(src.PeekLine(10).size(), 100001u);  // already buffered
  std::string all;
  for (int c = src.Get(); c >= 0; c = src.Get()) all.push_back(static_cast<char>(c));
  EXPECT_EQ(all, std::string(100000, 'y') + "\nz\n");
}

TEST(SniffTableFormat, FirstLineDecides) {
  EXPECT_EQ(SniffTableFormat("{\"user_id\": \"u\"}\n"), TableFormat::kJsonl);
  EXPECT_EQ(SniffTableFormat("  {\"a\":1}"), TableFormat::kJsonl);
  EXPECT_EQ(SniffTableFormat("user_id,item_id,text\r\n"), TableFormat::kCsv);
  EXPECT_EQ(SniffTableFormat("user_id\titem_id\ttext\n"), TableFormat::kTsv);
  EXPECT_EQ(SniffTableFormat("\"a,b\"\tc\td\n"), TableFormat::kTsv);  // commas inside quotes do not count
  EXPECT_EQ(SniffTableFormat("user_id\n"), TableFormat::kCsv);
  EXPECT_EQ(SniffTableFormat(""), TableFormat::kCsv);
}

// Each JSON Lines record is read on its own: a key of an earlier record is
// missing in a later one that lacks it, whichever keys came between (a key
// per record included, which the reader clears one by one, not all of them).
TEST(TableReader, AJsonRecordHoldsOnlyItsOwnKeys) {
  TempDir dir;
  WriteFile(dir / "t.jsonl", "{\"a\":1,\"b\":\"x\"}\n{\"c\":2}\n{\"b\":null,\"d\":[\"p\"]}\n{\"a\":3}\n");
  ProblemLog problems(10, [](const Problem&) {});
  TableReader t(dir / "t.jsonl", &problems);
  std::vector<std::vector<Cell::Kind>> kinds;  // per record: a, b, c, d
  for (Row row; t.Next(&row);) {
    kinds.emplace_back();
    for (const char* key : {"a", "b", "c", "d"}) kinds.back().push_back(row.at(t.column(key)).kind);
    if (kinds.size() == 4) {
      EXPECT_EQ(row.at(t.column("a")).number, 3);
    }
  }
  using K = Cell::Kind;
  const std::vector<std::vector<K>> want = {{K::kNumber, K::kText, K::kMissing, K::kMissing},
                                            {K::kMissing, K::kMissing, K::kNumber, K::kMissing},
                                            {K::kMissing, K::kNull, K::kMissing, K::kList},
                                            {K::kNumber, K::kMissing, K::kMissing, K::kMissing}};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(problems.count(), 0u);
}

// A column map reads each column of the file under one name: two names
// for one column are a usage error naming both; a file with a mapped column
// and a column under the name it maps to is a problem at its header (CSV)
// or at each record with both keys (JSON Lines), not read with one of them
// silently dropped. Two columns trading names read fine.
TEST(TableReader, AColumnMapReadsEachColumnUnderOneName) {
  TempDir dir;
  WriteFile(dir / "t.csv", "a,user_id,item_id\nu1,u2,i1\n");
  WriteFile(dir / "t.jsonl", "{\"a\":\"u1\",\"item_id\":\"i1\"}\n{\"user_id\":\"u2\",\"a\":\"u3\"}\n{\"a\":\"u4\"}\n");
  std::vector<std::pair<int64_t, std::string>> seen;  // line, message
  ProblemLog problems(10, [&](const Problem& p) { seen.emplace_back(p.line, p.message); });
  try {
    TableReader t(dir / "t.csv", &problems, kDefaultMaxRecordBytes, {{"user_id", "a"}, {"item_id", "a"}});
    FAIL() << "two names for one column were taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_STREQ(e.what(), "--map: 'item_id=a' and 'user_id=a' name one column twice; a column is read under one name");
  }

  TableReader csv(dir / "t.csv", &problems, kDefaultMaxRecordBytes, {{"user_id", "a"}}, "--items-map");
  EXPECT_FALSE(csv.header_ok());
  Row row;
  EXPECT_FALSE(csv.Next(&row));

  TableReader jsonl(dir / "t.jsonl", &problems, kDefaultMaxRecordBytes, {{"user_id", "a"}});
  std::vector<std::pair<int64_t, std::string>> users;
  while (jsonl.Next(&row)) users.emplace_back(row.line, row.at(jsonl.column("user_id")).text);
  EXPECT_EQ(users, (std::vector<std::pair<int64_t, std::string>>{{1, "u1"}, {3, "u4"}}));
  const std::vector<std::pair<int64_t, std::string>> want = {
      {1,
       "header: column 'a' is read as 'user_id' (--items-map 'user_id=a') and the file also has a column "
       "'user_id': drop one, or map it to another name"},
      {2,
       "key 'a' is read as 'user_id' (--map 'user_id=a') and the record also has a key 'user_id': drop one, or "
       "map it to another name"}};
  EXPECT_EQ(seen, want);

  seen.clear();
  TableReader swapped(dir / "t.csv", &problems, kDefaultMaxRecordBytes,
                      {{"user_id", "item_id"}, {"item_id", "user_id"}});
  ASSERT_TRUE(swapped.Next(&row));
  EXPECT_EQ(row.at(swapped.column("user_id")).text, "i1");
  EXPECT_EQ(row.at(swapped.column("item_id")).text, "u2");
  EXPECT_TRUE(seen.empty());
}

TEST(ByteSource, MissingFileIsNoInput) {
  try {
    ByteSource src("/nonexistent/file.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNoInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/file.csv"), std::string::npos);
  }
}

// Everything a source hands out before its end is read; the error (exit 75)
// comes where the end would be.
std::string ReadAllOf(ByteSource* src, const std::function<void()>& after_first_byte) {
  std::string all;
  for (int c = src->Get(); c >= 0; c = src->Get()) {
    if (all.empty()) after_first_byte();
    all.push_back(static_cast<char>(c));
  }
  return all;
}

// A file that grows or is rewritten in place while it is read is a temporary
// failure (a writer is still at work: retry), never a shorter or mixed read;
// a file replaced by a rename meanwhile is read whole as it was opened.
TEST(ByteSource, AFileThatChangesWhileReadIsATemporaryFailure) {
  TempDir dir;
  const std::string path = dir / "r.csv", body = "user_id,item_id,text\nu,i," + std::string(200000, 'x') + "\n";
  for (const bool gzip : {false, true}) {
    SCOPED_TRACE(gzip);
    const std::string name = gzip ? path + ".gz" : path;
    const auto write = [&](const std::string& text, const char* mode) {
      if (gzip) {
        gzFile f = gzopen(name.c_str(), mode[0] == 'a' ? "ab" : "wb");
        gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
        gzclose(f);
      } else {
        std::FILE* f = std::fopen(name.c_str(), mode);
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
      }
    };
    write(body, "w");
    {  // unchanged: read whole
      ByteSource src(name);
      EXPECT_EQ(ReadAllOf(&src, [] {}), body);
    }
    try {  // a writer appends while the first bytes are being read
      ByteSource src(name);
      ReadAllOf(&src, [&] { write("u,i,more\n", "a"); });
      ADD_FAILURE() << "a growing file was read without an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kTempFail);
      EXPECT_NE(std::string(e.what()).find(name + ": changed while it was read ("), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("is it still being written?"), std::string::npos) << e.what();
    }
    write(body, "w");
    {  // replaced by a rename: the old file, whole
      ByteSource src(name);
      const std::string fresh = dir / "fresh";
      const std::string read = ReadAllOf(&src, [&] {
        WriteFile(fresh, "other\n");
        std::filesystem::rename(fresh, name);
      });
      EXPECT_EQ(read, body);
    }
  }
}

TEST(AtomicFile, CommitRenamesAndAbortLeavesTargetUntouched) {
  TempDir dir;
  std::string target = dir / "out.json";
  WriteFile(target, "old");
  {
    AtomicFile f(target);
    f.Write("new half");
    // destroyed without Commit
  }
  EXPECT_EQ(test::ReadFile(target), "old");
  {
    AtomicFile f(target);
    f.Write("new");
    f.Commit();
  }
  EXPECT_EQ(test::ReadFile(target), "new");
  // No temporary files left behind.
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) n += e.is_regular_file();
  EXPECT_EQ(n, 1);
}

TEST(AtomicFile, UncreatableOutputIsCantCreate) {
  try {
    AtomicFile f("/nonexistent/dir/out.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kCantCreate);
  }
}

TEST(ParseTimestamp, UnixAndIso8601) {
  int64_t t = 0;
  EXPECT_TRUE(ParseTimestamp("1700000000", &t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("1700000000.9", &t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("1970-01-01", &t));
  EXPECT_EQ(t, 0);
  EXPECT_TRUE(ParseTimestamp("2023-11-14T22:13:20Z", &t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("2023-11-15T00:13:20+02:00", &t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("2023-11-14 22:13:20.123", &t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("2024-02-29", &t));
  EXPECT_FALSE(ParseTimestamp("2023-02-29", &t));
  EXPECT_FALSE(ParseTimestamp("2023-13-01", &t));
  EXPECT_FALSE(ParseTimestamp("2023-11-14T25:00", &t));
  EXPECT_FALSE(ParseTimestamp("yesterday", &t));
  EXPECT_FALSE(ParseTimestamp("nan", &t));
  EXPECT_FALSE(ParseTimestamp("", &t));
}

TEST(ParseTimestamp, UnitsAndTheYears0000To9999) {
  int64_t t = 0;
  EXPECT_TRUE(ParseTimestamp("1700000000999", &t, 1000));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("1700000000999999", &t, 1000000));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(ParseTimestamp("-1500", &t, 1000));  // 1969-12-31T23:59:58.5Z
  EXPECT_EQ(t, -2);
  EXPECT_TRUE(ParseTimestamp("2023-11-14T22:13:20Z", &t, 1000));  // dates whatever the unit
  EXPECT_EQ(t, 1700000000);
  // A millisecond count read as seconds would be the year 55,000.
  EXPECT_FALSE(ParseTimestamp("1700000000000", &t));
  EXPECT_TRUE(ParseTimestamp("253402300799", &t));
  EXPECT_EQ(t, kLatestUnixSecond);
  EXPECT_FALSE(ParseTimestamp("253402300800", &t));
  EXPECT_TRUE(ParseTimestamp("-62167219200", &t));
  EXPECT_EQ(t, kEarliestUnixSecond);
  EXPECT_FALSE(ParseTimestamp("-62167219201", &t));
  EXPECT_FALSE(ParseTimestamp("1e300", &t, 1000000));
}

// Dates as spreadsheets and data warehouses write them, year first: with
// slashes (zh-CN Excel's 2024/1/4 7:16), one-digit months, days and hours,
// and ISO 8601's basic YYYYMMDD, which as a number of seconds would be
// August 1970. Year last is refused: 1/4/2024 is 1 April or 4 January.
TEST(ParseTimestamp, YearFirstDatesAsSpreadsheetsWriteThem) {
  int64_t day = 0, t = 0;
  ASSERT_TRUE(ParseTimestamp("2024-01-04", &day));
  EXPECT_EQ(day, 1704326400);
  for (const char* s : {"2024/01/04", "2024/1/4", "2024-1-4", "20240104", " 20240104 "}) {
    EXPECT_TRUE(ParseTimestamp(s, &t)) << s;
    EXPECT_EQ(t, day) << s;
    EXPECT_TRUE(ParseTimestamp(s, &t, 1000)) << s;  // whatever the unit
    EXPECT_EQ(t, day) << s;
  }
  EXPECT_TRUE(ParseTimestamp("2024/1/4 7:16", &t));
  EXPECT_EQ(t, day + 7 * 3600 + 16 * 60);
  EXPECT_TRUE(ParseTimestamp("2024/01/04 07:16:31Z", &t));
  EXPECT_EQ(t, day + 7 * 3600 + 16 * 60 + 31);
  EXPECT_TRUE(IsCompactDate("20240229"));
  for (const char* s : {"20230229", "20241301", "20240100", "18991231", "22000101", "2024010", "202401041"}) {
    EXPECT_FALSE(IsCompactDate(s)) << s;
  }
  // Not a date: read as the number it is.
  EXPECT_TRUE(ParseTimestamp("20230229", &t));
  EXPECT_EQ(t, 20230229);
  for (const char* s :
       {"1/4/2024", "04.01.2024", "2024/13/4", "2024/1/32", "2024-01/04", "2024/1/", "2024/", "2024/1/4 25:00"}) {
    EXPECT_FALSE(ParseTimestamp(s, &t)) << s;
  }
}

TEST(ParseFiniteDouble, RejectsNonFiniteAndGarbage) {
  double v = 0;
  EXPECT_TRUE(ParseFiniteDouble(" 4.5 ", &v));
  EXPECT_EQ(v, 4.5);
  EXPECT_TRUE(ParseFiniteDouble("-1e3", &v));
  EXPECT_EQ(v, -1000);
  EXPECT_TRUE(ParseFiniteDouble("+2", &v));
  for (const char* s : {"nan", "NaN", "inf", "-inf", "Infinity", "1e400", "4 stars", "", "-", "0x10", "1,5"}) {
    EXPECT_FALSE(ParseFiniteDouble(s, &v)) << s;
  }
}

}  // namespace
}  // namespace avrec
