// Reviews and items readers: every format rule of docs/formats.md and each
// kind of bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/table.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::TempDir;
using test::WriteFile;

struct ReviewsResult {
  std::vector<Review> reviews;
  std::vector<Problem> problems;
  ReviewStats stats;
};

ReviewsResult Reviews(const std::string& name, const std::string& bytes, ReviewReadOptions opt = {}) {
  TempDir dir;
  WriteFile(dir / name, bytes);
  ReviewsResult r;
  ProblemLog log(1000, [&](const Problem& p) { r.problems.push_back(p); });
  r.stats = ReadReviews(dir / name, opt, &log, [&](Review&& rv) { r.reviews.push_back(rv); });
  for (auto& p : r.problems) p.path = p.path.substr(p.path.find_last_of('/') + 1);
  return r;
}

::testing::AssertionResult HasProblem(const std::vector<Problem>& ps, int64_t line, const std::string& text) {
  for (const auto& p : ps) {
    if (p.line == line && p.message.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  }
  std::string all;
  for (const auto& p : ps) all += "\n  " + std::to_string(p.line) + ": " + p.message;
  return ::testing::AssertionFailure() << "no problem on line " << line << " containing '" << text << "'; got:" << all;
}

TEST(ReadReviews, CsvAllFields) {
  auto r = Reviews("r.csv",
                   "review_id,user_id,item_id,text,rating,timestamp\n"
                   "r1,u1,i1,\"Great, really \"\"great\"\"\",4.5,1700000000\n"
                   "r2,u2,i2,好听,,2023-11-14T22:13:20Z\n");
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.reviews.size(), 2u);
  EXPECT_EQ(r.reviews[0].text, "Great, really \"great\"");
  EXPECT_EQ(*r.reviews[0].rating, 4.5);
  EXPECT_EQ(*r.reviews[0].timestamp, 1700000000);
  EXPECT_FALSE(r.reviews[1].rating.has_value());
  EXPECT_EQ(*r.reviews[1].timestamp, 1700000000);
  EXPECT_EQ(r.reviews[1].line, 3);
}

TEST(ReadReviews, TsvAndJsonlAndGzipAgree) {
  auto csv = Reviews("r.csv", "user_id,item_id,text,rating\nu1,i1,nice,5\n");
  auto tsv = Reviews("r.tsv", "user_id\titem_id\ttext\trating\nu1\ti1\tnice\t5\n");
  auto jsonl = Reviews("r.jsonl", "{\"user_id\":\"u1\",\"item_id\":\"i1\",\"text\":\"nice\",\"rating\":5}\n");
  ASSERT_EQ(csv.reviews.size(), 1u);
  ASSERT_EQ(tsv.reviews.size(), 1u);
  ASSERT_EQ(jsonl.reviews.size(), 1u);
  EXPECT_EQ(csv.reviews[0].review_id, tsv.reviews[0].review_id);
  EXPECT_EQ(csv.reviews[0].review_id, jsonl.reviews[0].review_id);
  EXPECT_EQ(*jsonl.reviews[0].rating, 5);
}

TEST(ReadReviews, DerivedIdIsStableAndContentBased) {
  auto a = Reviews("r.csv", "user_id,item_id,text\nu1,i1,nice\nu1,i1,nicer\n");
  auto b = Reviews("r.csv", "user_id,item_id,text\nu1,i1,nice\n");
  ASSERT_EQ(a.reviews.size(), 2u);
  EXPECT_EQ(a.reviews[0].review_id, b.reviews[0].review_id);
  EXPECT_NE(a.reviews[0].review_id, a.reviews[1].review_id);
  EXPECT_TRUE(a.reviews[0].derived_id);
  EXPECT_EQ(a.reviews[0].review_id.size(), 17u);
}

TEST(ReadReviews, ExactDuplicatesWithoutIdAreKeptOnce) {
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1,nice\nu1,i1,nice\n");
  EXPECT_EQ(r.reviews.size(), 1u);
  EXPECT_EQ(r.stats.duplicates, 1);
  EXPECT_TRUE(r.problems.empty());
}

TEST(ReadReviews, DuplicateExplicitIdIsAnError) {
  auto r = Reviews("r.csv", "review_id,user_id,item_id,text\nr1,u1,i1,a\nr1,u2,i2,b\n");
  EXPECT_TRUE(HasProblem(r.problems, 3, "duplicate review_id 'r1' (first on line 2)"));
}

TEST(ReadReviews, MissingRequiredColumn) {
  auto r = Reviews("r.csv", "user_id,item_id,body\nu1,i1,x\n");
  EXPECT_TRUE(HasProblem(r.problems, 1,
                         "missing required column 'text' (the header has: 'user_id', 'item_id', 'body'); "
                         "--map text=body reads the file's columns under avrec's names"));
  EXPECT_TRUE(r.reviews.empty());
  // Every missing column is named at once, with the --map that reads a file
  // of another dataset's names (Amazon's here); unknown names get no guess.
  auto amazon = Reviews("a.csv", "reviewerID,asin,overall,unixReviewTime,reviewText,summary\nu1,i1,5,1,x,y\n");
  EXPECT_TRUE(HasProblem(amazon.problems, 1,
                         "missing required columns 'user_id', 'item_id', 'text' (the header has: 'reviewerID', "
                         "'asin', 'overall', 'unixReviewTime', 'reviewText', 'summary'); --map "
                         "user_id=reviewerID,item_id=asin,text=reviewText,rating=overall,timestamp=unixReviewTime "
                         "reads"));
  // MovieLens's tags.csv: the tag is what the user wrote, so it is the text,
  // and no hint says the file has none.
  auto tags = Reviews("tags.csv", "userId,movieId,tag,timestamp\n2,60756,funny,1445714994\n");
  EXPECT_TRUE(HasProblem(tags.problems, 1, "--map user_id=userId,item_id=movieId,text=tag reads"))
      << tags.problems[0].message;
  EXPECT_FALSE(HasProblem(tags.problems, 1, "--allow-empty-text"));
  auto odd = Reviews("o.csv", "who,what,words\nu1,i1,x\n");
  ASSERT_EQ(odd.problems.size(), 1u);
  EXPECT_EQ(odd.problems[0].message,
            "missing required columns 'user_id', 'item_id', 'text' (the header has: 'who', 'what', 'words')");
}

TEST(ReadReviews, AFileOfRatingsWithoutTextsNeedsAllowEmptyText) {
  const std::string ratings = "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n";
  auto r = Reviews("ratings.csv", ratings);
  EXPECT_TRUE(HasProblem(r.problems, 1,
                         "missing required columns 'user_id', 'item_id', 'text' (the header has: 'userId', "
                         "'movieId', 'rating', 'timestamp'); --map user_id=userId,item_id=movieId reads the file's "
                         "columns under avrec's names; a file without texts (ratings, plays) is read with "
                         "--allow-empty-text"));
  // Plays (Last.fm's user_artists.dat): no rating, but a user and an item
  // column make each row an interaction; the same hint, and artistID is an
  // item id.
  EXPECT_TRUE(HasProblem(Reviews("plays.tsv", "userID\tartistID\tweight\n2\t51\t13883\n").problems, 1,
                         "missing required columns 'user_id', 'item_id', 'text' (the header has: 'userID', "
                         "'artistID', 'weight'); --map user_id=userID,item_id=artistID reads the file's columns "
                         "under avrec's names; a file without texts (ratings, plays) is read with "
                         "--allow-empty-text"));
  EXPECT_TRUE(HasProblem(Reviews("plays.csv", "user_id,item_id,weight\n2,51,13883\n").problems, 1,
                         "missing required column 'text' (the header has: 'user_id', 'item_id', 'weight'); a file "
                         "without texts (ratings, plays) is read with --allow-empty-text"));
  ReviewReadOptions opt;
  opt.columns = {{"user_id", "userId"}, {"item_id", "movieId"}};
  opt.allow_empty_text = true;
  auto ok = Reviews("ratings.csv", ratings, opt);
  EXPECT_TRUE(ok.problems.empty());
  ASSERT_EQ(ok.reviews.size(), 1u);
  EXPECT_EQ(ok.reviews[0].text, "");
  EXPECT_EQ(ok.reviews[0].rating, 2.5);
  EXPECT_EQ(ok.stats.guessed_map, "");
  // JSON Lines records without a text: the same.
  const std::string jsonl = "{\"user_id\":\"u1\",\"item_id\":\"i1\",\"rating\":4}\n";
  EXPECT_TRUE(HasProblem(Reviews("r.jsonl", jsonl).problems, 1,
                         "missing required field 'text' (--allow-empty-text accepts reviews without one)"));
  opt.columns.clear();
  auto j = Reviews("r.jsonl", jsonl, opt);
  EXPECT_TRUE(j.problems.empty());
  EXPECT_EQ(j.reviews.size(), 1u);
  EXPECT_EQ(j.stats.lacking_required, 0);
}

TEST(ReadReviews, ColumnsUnderOtherDatasetsNamesAreGuessed) {
  // JSON Lines: each record lacks the fields; the stats carry the guess
  // (LogReviewNotes warns with it once).
  auto j = Reviews("a.jsonl", "{\"reviewerID\":\"u1\",\"asin\":\"i1\",\"reviewText\":\"x\",\"overall\":4}\n");
  EXPECT_EQ(j.stats.lacking_required, 1);
  EXPECT_EQ(j.stats.guessed_map, "user_id=reviewerID,item_id=asin,text=reviewText,rating=overall");
  // A file with avrec's required columns but ratings and times under other
  // names: they would be left unread without a word.
  auto y = Reviews("y.csv", "user_id,item_id,text,Stars,Created-At\nu1,i1,x,4,2024-01-01\n");
  EXPECT_EQ(y.stats.lacking_required, 0);
  EXPECT_EQ(y.stats.guessed_map, "rating=Stars,timestamp=Created-At");
  EXPECT_EQ(y.reviews.size(), 1u);
  // Columns avrec reads are never offered, nor one file column twice.
  auto ok = Reviews("ok.csv", "user_id,item_id,text,rating,timestamp,time\nu1,i1,x,4,1,2\n");
  EXPECT_EQ(ok.stats.guessed_map, "");
  EXPECT_EQ(GuessColumnMap({"user", "item", "text"}, {"user", "item"},
                           {{"user_id", {"user"}}, {"item_id", {"user", "item"}}, {"text", {"text"}}}),
            "user_id=user,item_id=item");
  EXPECT_EQ(GuessColumnMap({"item_id", "genre"}, {}, {{"tags", {"genre"}}}), "");  // genre is read (a feature)
}

TEST(ReadReviews, MissingRequiredJsonField) {
  auto r = Reviews("r.jsonl", "{\"user_id\":\"u1\",\"item_id\":\"i1\"}\n");
  EXPECT_TRUE(HasProblem(r.problems, 1, "missing required field 'text'"));
}

TEST(ReadReviews, WrongNumberOfFields) {
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1\nu1,i1,a,b\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "expected 3 fields (as in the header), found 2"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "found 4 (a field holding ',' must be in double quotes)"));
  EXPECT_EQ(r.stats.invalid, 2);
}

TEST(ReadReviews, MalformedQuoting) {
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1,\"bad\"quote\nu2,i2,fine\nu3,i3,a \"b\" c\nu4,i4,\"open\n");
  // The message names the column (as the file's header names it) as well as
  // its number: a stray quote in a review text is then found at once.
  EXPECT_TRUE(HasProblem(r.problems, 2, "after the closing quote of field 3 ('text')"));
  EXPECT_TRUE(HasProblem(r.problems, 4, "quote character inside unquoted field 3 ('text')"));
  EXPECT_TRUE(HasProblem(r.problems, 5, "unterminated quoted field 3 ('text'): the quote opened on line 5"));
  EXPECT_EQ(r.reviews.size(), 1u);
}

TEST(ReadReviews, InvalidUtf8NamesTheField) {
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1,caf\xE9\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'text': invalid UTF-8"));
  auto j = Reviews("r.jsonl", "{\"user_id\":\"u1\",\"item_id\":\"i1\",\"text\":\"caf\xE9\"}\n");
  EXPECT_TRUE(HasProblem(j.problems, 1, "invalid UTF-8"));
}

TEST(ReadReviews, EmptyRequiredFields) {
  auto r = Reviews("r.csv", "user_id,item_id,text\n,i1,a\nu1, ,b\nu1,i1,\"  \"\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'user_id' is empty"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "field 'item_id' is empty"));
  EXPECT_TRUE(HasProblem(r.problems, 4, "field 'text' is empty"));
}

TEST(ReadReviews, EmptyTextAllowedWhenAsked) {
  ReviewReadOptions opt;
  opt.allow_empty_text = true;
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1,\n", opt);
  EXPECT_TRUE(r.problems.empty());
  ASSERT_EQ(r.reviews.size(), 1u);
}

TEST(ReadReviews, BadRatingAndTimestamp) {
  auto r = Reviews("r.csv",
                   "user_id,item_id,text,rating,timestamp\n"
                   "u1,i1,a,five,1700000000\n"
                   "u1,i2,b,NaN,1700000000\n"
                   "u1,i3,c,4,last tuesday\n"
                   "u1,i4,d,inf,2023-02-30\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'rating': expected a finite number, got 'five'"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "field 'rating'"));
  EXPECT_TRUE(HasProblem(r.problems, 4, "field 'timestamp': expected Unix seconds or an ISO 8601"));
  EXPECT_TRUE(HasProblem(r.problems, 5, "field 'rating'"));
  EXPECT_TRUE(HasProblem(r.problems, 5, "field 'timestamp'"));
  EXPECT_TRUE(r.reviews.empty());
}

// What R's write.csv, SQL dumps, Excel and pandas write for a missing
// value is an absent rating or time, counted; NaN stays an error (above).
// A text keeps such a word as written.
TEST(ReadReviews, MissingValueMarkersAreAbsent) {
  auto r = Reviews("r.csv",
                   "\"\",\"user_id\",\"item_id\",\"rating\",\"timestamp\",\"text\"\n"
                   "\"1\",\"u1\",\"i1\",NA,1700000000,\"NA\"\n"
                   "\"2\",\"u1\",\"i2\",4,NA,\"fine\"\n"
                   "\"3\",\"u2\",\"i1\", N/A ,NULL,\"ok\"\n"
                   "\"4\",\"u2\",\"i2\",#N/A,\\N,\"so so\"\n"
                   "\"5\",\"u3\",\"i1\",None,<NA>,\"meh\"\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.front().message;
  ASSERT_EQ(r.reviews.size(), 5u);
  EXPECT_FALSE(r.reviews[0].rating.has_value());
  EXPECT_EQ(r.reviews[0].timestamp, 1700000000);
  EXPECT_EQ(r.reviews[0].text, "NA");
  EXPECT_EQ(r.reviews[1].rating, 4.0);
  for (size_t k = 1; k < 5; ++k) EXPECT_FALSE(r.reviews[k].timestamp.has_value()) << k;
  EXPECT_EQ(r.stats.marked_missing_ratings, 4);
  EXPECT_EQ(r.stats.marked_missing_times, 4);
  EXPECT_EQ(r.stats.ignored_columns, std::vector<std::string>{""});

  auto j = Reviews("r.jsonl", "{\"user_id\": \"u\", \"item_id\": \"i\", \"text\": \"t\", \"rating\": \"null\"}\n");
  ASSERT_TRUE(j.problems.empty()) << j.problems.front().message;
  EXPECT_FALSE(j.reviews.at(0).rating.has_value());
  EXPECT_EQ(j.stats.quoted_numbers, 0);
  // Only the whole word: "NAN", "na" and "N.A." are not markers.
  for (const char* s : {"NAN", "na", "N.A.", "NA4"}) {
    EXPECT_EQ(Reviews("r.csv", std::string("user_id,item_id,text,rating\nu,i,t,") + s + "\n").problems.size(), 1u) << s;
  }
}

// The reader says how far into its file it is, at every record: bytes of
// the file (compressed ones for gzip), and the file's size.
TEST(ReadReviews, SaysHowFarIntoTheFileItIs) {
  TempDir dir;
  std::string body = "user_id,item_id,text\n";
  for (int k = 0; k < 20000; ++k) body += "u" + std::to_string(k) + ",i,a review long enough to fill buffers\n";
  WriteFile(dir / "r.csv", body);
  ReviewReadOptions opt;
  std::vector<std::pair<int64_t, int64_t>> seen;
  opt.on_bytes = [&](int64_t read, int64_t size) { seen.emplace_back(read, size); };
  ProblemLog log(10, [](const Problem&) {});
  ReadReviews(dir / "r.csv", opt, &log, [](Review&&) {});
  ASSERT_EQ(seen.size(), 20000u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_GT(seen.front().first, 0);
  EXPECT_LT(seen.front().first, seen.back().first);
  EXPECT_EQ(seen.back().first, static_cast<int64_t>(body.size()));
  for (const auto& s : seen) ASSERT_EQ(s.second, static_cast<int64_t>(body.size()));
}

// Dates written YYYYMMDD are counted (validate and ingest say they were
// read as dates); a date with the year last is an error that says why.
TEST(ReadReviews, CompactDatesAreCountedAndYearLastIsExplained) {
  auto r = Reviews("r.csv",
                   "user_id,item_id,text,timestamp\n"
                   "u1,i1,a,20240104\n"
                   "u1,i2,b,2024/1/5\n"
                   "u1,i3,c,1700000000\n"
                   "u1,i4,d,1/4/2024\n"
                   "u1,i5,e,04.01.2024 10:00\n");
  ASSERT_EQ(r.reviews.size(), 3u);
  EXPECT_EQ(r.reviews[0].timestamp, 1704326400);
  EXPECT_EQ(r.reviews[1].timestamp, 1704326400 + 86400);
  EXPECT_EQ(r.stats.compact_dates, 1);
  EXPECT_EQ(r.stats.compact_non_dates, 0);
  // Its derived id is the one avrec gave it when it read 20240104 as seconds.
  Review before = r.reviews[0];
  before.timestamp = 20240104;
  EXPECT_EQ(r.reviews[0].review_id, DeriveReviewId(before));
  const std::string why = "(a date with the year last is ambiguous, day or month first: write it YYYY-MM-DD)";
  EXPECT_TRUE(HasProblem(r.problems, 5, "got '1/4/2024' " + why));
  EXPECT_TRUE(HasProblem(r.problems, 6, "got '04.01.2024 10:00' " + why));
  EXPECT_FALSE(HasProblem(Reviews("r.csv", "user_id,item_id,text,timestamp\nu,i,t,soon\n").problems, 2, why));
  // Eight digits that would be a date of 1900-2199 but for the day are read
  // as a number and counted; other eight-digit numbers are not.
  auto odd = Reviews("r.csv", "user_id,item_id,text,timestamp\nu,i,a,20240230\nu,j,b,20241301\nu,k,c,12345678\n");
  ASSERT_EQ(odd.reviews.size(), 3u);
  EXPECT_EQ(odd.reviews[0].timestamp, 20240230);
  EXPECT_EQ(odd.stats.compact_non_dates, 2);
  EXPECT_EQ(odd.stats.first_compact_non_date, "20240230");
}

// CSV as Excel writes it where the decimal mark is a comma: ';' between
// fields (told by the header, or by a "sep=;" first line), "4,5" a number.
// Text and ids keep their commas; a comma file has no decimal comma.
TEST(ReadReviews, SemicolonSeparatedCsvWithDecimalCommas) {
  const std::string body =
      "review_id;user_id;item_id;rating;text\n"
      "r1;u1;i1;4,5;great, really\n"
      "r2;u1;i,2;\"3,5\";3,5\n";
  for (const std::string& bytes : {body, "sep=;\n" + body}) {
    auto r = Reviews("r.csv", bytes);
    ASSERT_TRUE(r.problems.empty()) << r.problems.front().message;
    ASSERT_EQ(r.reviews.size(), 2u);
    EXPECT_EQ(*r.reviews[0].rating, 4.5);
    EXPECT_EQ(r.reviews[0].text, "great, really");
    EXPECT_EQ(*r.reviews[1].rating, 3.5);
    EXPECT_EQ(r.reviews[1].item_id, "i,2");
    EXPECT_EQ(r.reviews[1].text, "3,5");
    EXPECT_EQ(r.reviews[1].line, bytes == body ? 3 : 4);
  }
  auto tab = Reviews("r.csv", "sep=\t\r\nuser_id\titem_id\ttext\nu1\ti1\ta, b\n");
  ASSERT_EQ(tab.reviews.size(), 1u);
  EXPECT_EQ(tab.reviews[0].text, "a, b");
  auto r = Reviews("r.csv", "sep=;\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "expected a header line naming the columns after the \"sep=\" line"));
  r = Reviews("r.csv", "user_id;item_id;text;rating\nu1;i1;a;4,5,1\nu1;i2;b;,5\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'rating': expected a finite number, got '4,5,1'"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "field 'rating': expected a finite number, got ',5'"));
  r = Reviews("r.csv", "user_id,item_id,text,rating\nu1,i1,a,\"4,5\"\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'rating': expected a finite number, got '4,5'"));
}

TEST(ReadReviews, TimestampUnitsAndTheHintWhenTheUnitIsWrong) {
  const std::string ms =
      "user_id,item_id,text,timestamp\n"
      "u1,i1,a,1700000000123\n"
      "u1,i2,b,2023-11-14T22:13:21Z\n";
  auto as_seconds = Reviews("r.csv", ms);
  EXPECT_TRUE(HasProblem(as_seconds.problems, 2,
                         "field 'timestamp': '1700000000123' read as Unix seconds is after the year 9999; if the "
                         "column holds milliseconds, give --timestamp-unit ms"));
  ASSERT_EQ(as_seconds.reviews.size(), 1u);
  ReviewReadOptions opt;
  opt.timestamp_units_per_second = 1000;
  auto as_ms = Reviews("r.csv", ms, opt);
  EXPECT_TRUE(as_ms.problems.empty());
  ASSERT_EQ(as_ms.reviews.size(), 2u);
  EXPECT_EQ(as_ms.reviews[0].timestamp, 1700000000);
  EXPECT_EQ(as_ms.reviews[1].timestamp, 1700000001);
  EXPECT_EQ(as_ms.stats.times_in_1970, 0);
  // Seconds read as microseconds land in January 1970: counted for a warning.
  opt.timestamp_units_per_second = 1000000;
  auto as_us =
      Reviews("r.jsonl", "{\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"t\",\"timestamp\":1700000000}\n", opt);
  ASSERT_EQ(as_us.reviews.size(), 1u);
  EXPECT_EQ(as_us.reviews[0].timestamp, 1700);
  EXPECT_EQ(as_us.stats.times_in_1970, 1);
  auto far = Reviews("r.jsonl", "{\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"t\",\"timestamp\":-1e300}\n", opt);
  EXPECT_TRUE(HasProblem(far.problems, 1, "read as Unix microseconds is before the year 0000"));
}

TEST(ReadReviews, JsonTypeErrors) {
  auto r = Reviews("r.jsonl",
                   "{\"user_id\":[1],\"item_id\":\"i1\",\"text\":\"a\"}\n"
                   "not json\n"
                   "[1,2]\n"
                   "\n"
                   "{\"user_id\":7,\"item_id\":\"i1\",\"text\":\"ok\",\"rating\":\"4\"}\n"
                   "\"u1,i1,a\"\n");
  EXPECT_TRUE(HasProblem(r.problems, 1, "field 'user_id': expected a string id"));
  EXPECT_TRUE(HasProblem(r.problems, 2, "not valid JSON"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "expected a JSON object, found a list"));
  EXPECT_TRUE(HasProblem(r.problems, 6, "expected a JSON object, found the text 'u1,i1,a'"));
  ASSERT_EQ(r.reviews.size(), 1u);
  EXPECT_EQ(r.reviews[0].user_id, "7");  // integer ids become their digits
  EXPECT_EQ(r.reviews[0].line, 5);
}

TEST(ReadReviews, UnknownItemWhenItemsKnown) {
  ReviewReadOptions opt;
  opt.unknown_item = [](const std::string& id) { return id == "i1" ? "" : "is not among the items"; };
  auto r = Reviews("r.csv", "user_id,item_id,text\nu1,i1,a\nu1,i9,b\n", opt);
  EXPECT_TRUE(HasProblem(r.problems, 3, "item_id 'i9' is not among the items"));
  EXPECT_EQ(r.reviews.size(), 1u);
}

TEST(ReadReviews, UnknownExtensionIsUsageError) {
  TempDir dir;
  WriteFile(dir / "r.xlsx", "x");
  ProblemLog log(10, nullptr);
  try {
    ReadReviews(dir / "r.xlsx", {}, &log, [](Review&&) {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
}

TEST(ProblemLog, CountsBeyondTheLimit) {
  int shown = 0;
  ProblemLog log(2, [&](const Problem&) { ++shown; });
  for (int i = 0; i < 5; ++i) log.Add("f", i, "m");
  EXPECT_EQ(shown, 2);
  EXPECT_EQ(log.count(), 5u);
  EXPECT_EQ(log.unreported(), 3u);
}

// ---- items ----------------------------------------------------------------------

struct ItemsResult {
  ItemTable table;
  std::vector<Problem> problems;
};

ItemsResult Items(const std::string& name, const std::string& bytes, ItemSchemaOptions schema = {}) {
  TempDir dir;
  WriteFile(dir / name, bytes);
  ItemsResult r;
  ProblemLog log(1000, [&](const Problem& p) { r.problems.push_back(p); });
  r.table = ReadItems(dir / name, schema, &log);
  return r;
}

TEST(ReadItems, ModalitiesFromPrefixesAndCategoricalColumns) {
  ItemSchemaOptions schema;
  schema.categorical["visual.colour"] = "";
  schema.numeric["bpm"] = "audio";
  auto r = Items("i.csv",
                 "item_id,title,tags,kind,audio.tempo,visual.brightness,visual.colour,bpm,notes\n"
                 "a,Song A,rock| live ,song,120,0.5,red,121,x\n"
                 "b,Video B,,video,,0.7,,99,y\n",
                 schema);
  ASSERT_TRUE(r.problems.empty());
  const ItemTable& t = r.table;
  ASSERT_EQ(t.items.size(), 2u);
  ASSERT_EQ(t.numeric_columns.size(), 3u);
  EXPECT_EQ(t.numeric_columns[0].modality, "audio");
  EXPECT_EQ(t.numeric_columns[1].modality, "visual");
  EXPECT_EQ(t.numeric_columns[2].name, "bpm");
  EXPECT_EQ(t.numeric_columns[2].modality, "audio");
  ASSERT_EQ(t.categorical_columns.size(), 1u);
  EXPECT_EQ(t.categorical_columns[0].modality, "visual");
  EXPECT_EQ(t.items[0].tags, (std::vector<std::string>{"rock", "live"}));
  EXPECT_EQ(t.items[0].categorical[0], "red");
  EXPECT_TRUE(std::isnan(t.items[1].numeric[0]));
  EXPECT_EQ(t.items[1].categorical[0], "");
  EXPECT_EQ(t.missing_numeric, 1);
  EXPECT_EQ(t.ignored_columns, (std::vector<std::string>{"notes"}));
  EXPECT_EQ(t.Find("b"), 1);
  EXPECT_EQ(t.Find("zz"), -1);
}

TEST(ReadItems, SemicolonSeparatedFeaturesWithDecimalCommas) {
  auto r = Items("i.csv", "item_id;title;audio.tempo;visual.colour\na;Song, live;98,5;red\nb;B;-0,25;blue\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.front().message;
  ASSERT_EQ(r.table.numeric_columns.size(), 1u);  // audio.tempo: numbers, not categories
  EXPECT_EQ(r.table.items[0].numeric[0], 98.5);
  EXPECT_EQ(r.table.items[1].numeric[0], -0.25);
  EXPECT_EQ(r.table.items[0].title, "Song, live");
  EXPECT_EQ(r.table.items[0].categorical[0], "red");
}

TEST(ReadItems, JsonlFeaturesAppearingLateAreMissingEarlier) {
  auto r = Items("i.jsonl",
                 "{\"item_id\":\"a\",\"audio.tempo\":120,\"tags\":[\"x\",\"y\"]}\n"
                 "{\"item_id\":\"b\",\"audio.tempo\":100,\"visual.motion\":0.3}\n");
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.table.numeric_columns.size(), 2u);
  EXPECT_TRUE(std::isnan(r.table.items[0].numeric[1]));
  EXPECT_EQ(r.table.items[1].numeric[1], 0.3);
  EXPECT_EQ(r.table.items[0].tags, (std::vector<std::string>{"x", "y"}));
}

// Amazon's metadata lists categories as paths ([["CDs & Vinyl", "Pop"],
// ["CDs & Vinyl", "Rock"]]): read as tags in order, each once; a list with
// anything but strings at its leaves is refused.
TEST(ReadItems, NestedListsOfStringsAreTagsEachOnce) {
  auto r = Items("i.jsonl",
                 "{\"item_id\":\"a\",\"tags\":[[\"CDs & Vinyl\",\"Pop\"],[\"CDs & Vinyl\",\"Rock\"],[]]}\n"
                 "{\"item_id\":\"b\",\"tags\":[\"x\",[\"y\",[\"z\"]],\"x\"]}\n"
                 "{\"item_id\":\"c\",\"tags\":[[\"x\",1]]}\n"
                 "{\"item_id\":\"d\",\"tags\":\"p|q|p\"}\n");
  ASSERT_EQ(r.table.items.size(), 3u);
  EXPECT_EQ(r.table.items[0].tags, (std::vector<std::string>{"CDs & Vinyl", "Pop", "Rock"}));
  EXPECT_EQ(r.table.items[1].tags, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(r.table.items[2].tags, (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(HasProblem(r.problems, 3, "field 'tags': expected text or a list of strings"));
  EXPECT_EQ(r.problems.size(), 1u);
}

// The older Amazon metadata dumps are Python dicts, one per line: the first
// such line says how to convert the file, once.
TEST(ReadItems, PythonDictLinesSayHowToConvertTheFile) {
  auto r = Items("meta.jsonl", "{'item_id': 'a', 'title': 'x'}\n{'item_id': 'b'}\n");
  EXPECT_TRUE(r.table.items.empty());
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_TRUE(
      HasProblem(r.problems, 1, "not valid JSON: unexpected \"'\"; expected a key (a string in double quotes)"));
  EXPECT_TRUE(HasProblem(r.problems, 1, "looks like a Python dict (single quotes), not JSON"));
  EXPECT_TRUE(HasProblem(r.problems, 1, "json.dumps(ast.literal_eval(l))"));
  EXPECT_FALSE(HasProblem(r.problems, 2, "Python dict"));
}

// Spotify's audio features come without a modality prefix: the columns of
// numbers named like well-known features are hinted, with the modality
// --numeric should give them; a label (target), a key, a column of words
// and a declared column are not.
TEST(ReadItems, UnprefixedColumnsNamedLikeFeaturesAreHinted) {
  ItemSchemaOptions schema;
  schema.numeric["loudness"] = "audio";
  auto r = Items("s.csv",
                 "item_id,danceability,Tempo,brightness,target,key,energy,loudness\n"
                 "a,0.5,120,0.3,1,4,high,-7\n"
                 "b,0.4,,0.2,0,5,low,-5\n",
                 schema);
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.table.feature_hint, "danceability=audio Tempo=audio brightness=visual");
  EXPECT_EQ(Items("t.csv", "item_id,audio.tempo\na,1\n").table.feature_hint, "");
}

TEST(ReadItems, BadFeatureValues) {
  auto r = Items("i.csv",
                 "item_id,audio.tempo\n"
                 "a,fast\n"
                 "b,NaN\n"
                 "c,inf\n"
                 "d,1e999\n"
                 "e,120\n");
  EXPECT_TRUE(HasProblem(r.problems, 2, "field 'audio.tempo': expected a finite number, got 'fast'"));
  EXPECT_TRUE(HasProblem(r.problems, 2, "declare it categorical"));
  EXPECT_TRUE(HasProblem(r.problems, 3, "got 'NaN'"));
  EXPECT_TRUE(HasProblem(r.problems, 4, "got 'inf'"));
  EXPECT_TRUE(HasProblem(r.problems, 5, "got '1e999'"));
  ASSERT_EQ(r.table.items.size(), 1u);
  EXPECT_EQ(r.table.invalid, 4);
}

// A review of an unknown item names the catalogue's id it most likely
// means, where an export changed it: its case, its leading zeros (a
// spreadsheet's), a ".0" (pandas' integers with gaps); an id in decomposed
// Unicode is said to be. An id that merely resembles none gets no hint.
TEST(IdLookalikes, NameTheIdAnExportChanged) {
  const IdLookalikes ids({"Song1", "00123", "77", "B000002", "0"});
  EXPECT_EQ(ids.Hint("song1", "the items"), "; the items have 'Song1' (ids are case-sensitive)");
  EXPECT_EQ(ids.Hint("SONG1", "the items"), "; the items have 'Song1' (ids are case-sensitive)");
  EXPECT_EQ(ids.Hint("b000002", "the items"), "; the items have 'B000002' (ids are case-sensitive)");
  EXPECT_EQ(ids.Hint("123", "the items"),
            "; the items have '00123' (leading zeros differ: a spreadsheet drops them unless the column is text)");
  EXPECT_EQ(ids.Hint("0077", "the items"),
            "; the items have '77' (leading zeros differ: a spreadsheet drops them unless the column is text)");
  EXPECT_EQ(ids.Hint("77.0", "the items"),
            "; the items have '77' (an integer id written as a decimal, as pandas writes a column of integers with "
            "gaps)");
  EXPECT_EQ(ids.Hint("123.00", "the items"),
            "; the items have '00123' (an integer id written as a decimal, as pandas writes a column of integers "
            "with gaps)");
  EXPECT_EQ(ids.Hint("000", "the items"),
            "; the items have '0' (leading zeros differ: a spreadsheet drops them unless the column is text)");
  for (const char* none : {"Song", "124", "77.5", "7.0.0", "B2", ".0", "Song1 "})
    EXPECT_EQ(ids.Hint(none, "x"), "") << none;
  EXPECT_EQ(ids.Hint("cafe\xCC\x81", "the items"),
            "; it holds a combining accent (decomposed Unicode, NFD), and the items may spell it composed (NFC): "
            "normalise both files to NFC");
  // Through ItemTable::WhyUnknown, which builds them from its items.
  auto r = Items("i.csv", "item_id,title\nAbc,t\n");
  EXPECT_EQ(r.table.WhyUnknown("Abc"), "");
  EXPECT_EQ(r.table.WhyUnknown("ABC"), "is not among the items; the items have 'Abc' (ids are case-sensitive)");
  EXPECT_EQ(r.table.WhyUnknown("xyz"), "is not among the items");
}

// A missing-value marker in a number column is a missing value (imputed
// later), not an error nor a reason to take the column for categories.
TEST(ReadItems, MissingValueMarkersInNumberColumnsAreMissing) {
  auto r = Items("i.csv", "item_id,audio.tempo,audio.energy,visual.tone\na,NA,NA,dark\nb,120,NULL,NA\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.front().message;
  ASSERT_EQ(r.table.items.size(), 2u);
  ASSERT_EQ(r.table.numeric_columns.size(), 2u);
  EXPECT_TRUE(std::isnan(r.table.items[0].numeric[0]));
  EXPECT_EQ(r.table.items[1].numeric[0], 120.0);
  EXPECT_EQ(r.table.missing_numeric, 3);
  // A column of text keeps the word as a category.
  ASSERT_EQ(r.table.categorical_columns.size(), 1u);
  EXPECT_EQ(r.table.items[1].categorical[0], "NA");
}

TEST(ReadItems, PrefixedColumnsOfTextAreCategorical) {
  auto r = Items("i.csv", "item_id,visual.colour,audio.key\na,red,5\nb,,7\nc,blue,x\n");
  ASSERT_EQ(r.table.categorical_columns.size(), 1u);
  EXPECT_EQ(r.table.categorical_columns[0].name, "visual.colour");
  EXPECT_EQ(r.table.inferred_categorical, (std::vector<std::string>{"visual.colour"}));
  // audio.key mixes numbers and text: numeric, and 'x' is an error.
  EXPECT_TRUE(HasProblem(r.problems, 4, "field 'audio.key': expected a finite number, got 'x'"));
}

TEST(ReadItems, DuplicateAndMissingIds) {
  auto r = Items("i.csv", "item_id,title\na,x\na,y\n,z\n");
  EXPECT_TRUE(HasProblem(r.problems, 3, "duplicate item_id 'a' (first on line 2)"));
  EXPECT_TRUE(HasProblem(r.problems, 4, "field 'item_id' is empty"));
  auto j = Items("i.jsonl", "{\"title\":\"no id\"}\n");
  EXPECT_TRUE(HasProblem(j.problems, 1, "missing required field 'item_id'"));
  auto c = Items("i.csv", "id,title\na,x\n");
  EXPECT_TRUE(HasProblem(c.problems, 1,
                         "missing required column 'item_id' (the header has: 'id', 'title'); --items-map item_id=id "
                         "reads the file's columns under avrec's names"));
}

TEST(ReadItems, DuplicateHeaderColumn) {
  auto r = Items("i.csv", "item_id,title,title\na,x,y\n");
  EXPECT_TRUE(HasProblem(r.problems, 1, "duplicate column name 'title'"));
}

TEST(ReadItems, EmptyFile) {
  auto r = Items("i.csv", "");
  EXPECT_TRUE(HasProblem(r.problems, 1, "file is empty"));
}

}  // namespace
}  // namespace avrec
