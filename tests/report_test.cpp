// The report's figures on a small hand-made case.
#include "avrec/report.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace avrec {
namespace {

using test::TempDir;
using test::WriteFile;

Review MakeReview(const std::string& id, const std::string& user, const std::string& item, double rating,
                  const std::string& text) {
  Review r;
  r.review_id = id;
  r.user_id = user;
  r.item_id = item;
  r.rating = rating;
  r.timestamp = 1700000000 + static_cast<int64_t>(id.size());
  r.text = text;
  return r;
}

TEST(Report, FiguresOfASmallCase) {
  TempDir dir;
  ReportInputs in;
  for (const char* id : {"a", "b", "c", "d"}) {
    Item it;
    it.item_id = id;
    it.title = std::string("Title ") + id;
    in.items.items.push_back(it);
  }
  in.reviews = {MakeReview("r1", "u1", "a", 5, "Loved it. Great tempo."), MakeReview("r2", "u1", "b", 1, "糟糕透了"),
                MakeReview("r3", "u2", "a", 4, "Nice."), MakeReview("r4", "u2", "a", 5, "Wonderful."),
                MakeReview("r5", "u3", "c", 5, "Best ever")};
  in.sentiment = {{"r1", 0.9}, {"r2", -0.75}, {"r3", 0.5}, {"r4", 0.7}, {"r5", -0.9}};  // r5: stars disagree
  WriteFile(dir / "recs.jsonl",
            "{\"header\":{\"format\":\"avrec-recommendations/1\",\"top_n\":2}}\n"
            "{\"user_id\":\"u1\",\"cold_start\":false,\"history\":2,\"items\":[{\"item_id\":\"c\",\"rank\":1,"
            "\"score\":0.5,\"reasons\":[]},{\"item_id\":\"d\",\"rank\":2,\"score\":0.25,\"reasons\":[]}]}\n"
            "{\"user_id\":\"u2\",\"cold_start\":false,\"history\":2,\"low_confidence\":true,\"low_confidence_reason\":"
            "\"x\",\"items\":[{\"item_id\":\"c\",\"rank\":1,\"score\":-0.1,\"reasons\":[]}]}\n");
  in.recs = ReadReportLists(dir / "recs.jsonl", "");
  ReportOptions o;
  o.max_users = 1;
  const auto d = ReportData(in, o);

  EXPECT_EQ(d["overview"]["reviews"], 5);
  EXPECT_EQ(d["overview"]["reviewers"], 3);
  EXPECT_EQ(d["overview"]["languages"]["zh"], 1);
  EXPECT_EQ(d["overview"]["languages"]["en"], 4);
  // 20 bins over [-1, 1]: -0.9 and -0.75 in bins 0 and 2; 0.5, 0.7, 0.9 in 15, 17, 19.
  const auto& counts = d["sentiment"]["histogram"]["counts"];
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[2], 1);
  EXPECT_EQ(counts[15], 1);
  EXPECT_EQ(counts[17], 1);
  EXPECT_EQ(counts[19], 1);
  // By rating: 5 stars are r1, r4, r5 (0.9, 0.7, -0.9): one in three negative.
  const auto& five = d["sentiment"]["by_rating"].back();
  EXPECT_EQ(five["rating"], 5.0);
  EXPECT_EQ(five["n"], 3);
  EXPECT_NEAR(five["negative_share"].get<double>(), 0.3333, 1e-4);
  EXPECT_EQ(five["median"], 0.7);
  // The largest disagreement: 5 stars (1 on [-1, 1]) and -0.9.
  EXPECT_EQ(d["sentiment"]["disagreements"][0]["review_id"], "r5");
  EXPECT_EQ(d["sentiment"]["disagreements"][0]["title"], "Title c");
  // Recommendations: 3 slots, items c (2) and d (1) of 4: coverage 2/4.
  const auto& r = d["recommendations"];
  EXPECT_EQ(r["slots"], 3);
  EXPECT_EQ(r["coverage"]["recommended_items"], 2);
  EXPECT_EQ(r["low_confidence"], 1);
  EXPECT_EQ(r["low_confidence_examples"][0], "u2");
  double reviews_share = 0, recs_share = 0;
  for (const auto& dec : r["long_tail"]) {
    reviews_share += dec["reviews_share"].get<double>();
    recs_share += dec["recommendations_share"].get<double>();
  }
  EXPECT_NEAR(reviews_share, 1.0, 1e-3);
  EXPECT_NEAR(recs_share, 1.0, 1e-3);
  EXPECT_EQ(r["most_recommended"][0]["item_id"], "c");
  // Drill-down sampled to one user, saying so.
  ASSERT_EQ(d["users"].size(), 1u);
  EXPECT_EQ(d["users"][0]["id"], "u1");
  EXPECT_EQ(d["users"][0]["reviews"].size(), 2u);
  EXPECT_EQ(d["users_sampling"]["total"], 2);
  EXPECT_TRUE(d["diff"].is_null());
  // The page embeds the data safely: a review text that closes the script
  // tag, or opens an HTML comment and a script (after which a parser would
  // not see the real closing tag), cannot end or extend the data block, and
  // reads back as written.
  const std::string hostile = "<!--<script></script><script>alert(1)</script>";
  in.reviews[0].text = hostile;
  const std::string page = RenderReport(in, o);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<!--"), std::string::npos);
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t begin = page.find(open);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = page.find("</script>", begin);
  ASSERT_NE(end, std::string::npos);
  const auto embedded = nlohmann::json::parse(page.substr(begin + open.size(), end - begin - open.size()));
  EXPECT_NE(embedded.dump().find(hostile), std::string::npos);
}

}  // namespace
}  // namespace avrec
