#include "avrec/workspace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "avrec/error.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::TempDir;

Review MakeReview(const std::string& id, const std::string& user, const std::string& item, const std::string& text) {
  Review r;
  r.review_id = id;
  r.user_id = user;
  r.item_id = item;
  r.text = text;
  return r;
}

TEST(Workspace, RoundTripOfItemsAndReviews) {
  TempDir dir;
  ItemTable t;
  t.numeric_columns = {{"audio.tempo", "audio"}};
  t.categorical_columns = {{"visual.colour", "visual"}};
  Item a;
  a.item_id = "a";
  a.title = "Song \"A\"";
  a.tags = {"rock", "live"};
  a.numeric = {120.5};
  a.categorical = {"red"};
  Item b;
  b.item_id = "b";
  b.numeric = {std::nan("")};
  b.categorical = {""};
  t.items = {a, b};
  {
    auto ws = Workspace::Open(dir / "w.avrec", true);
    ws->InTransaction([&] {
      UpsertCounts c = ws->UpsertItems(t);
      EXPECT_EQ(c.added, 2);
      Review r = MakeReview("r1", "u1", "a", "Loved it");
      r.rating = 4.5;
      r.timestamp = 1700000000;
      UpsertCounts rc;
      ws->UpsertReview(r, &rc);
      EXPECT_EQ(rc.added, 1);
    });
    ws->Persist();
  }
  auto ws = Workspace::Open(dir / "w.avrec", false);
  ItemTable back = ws->LoadItems();
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[0].title, "Song \"A\"");
  EXPECT_EQ(back.items[0].tags, a.tags);
  EXPECT_EQ(back.items[0].numeric[0], 120.5);
  EXPECT_EQ(back.items[0].categorical[0], "red");
  EXPECT_TRUE(std::isnan(back.items[1].numeric[0]));
  EXPECT_EQ(back.numeric_columns[0].modality, "audio");
  auto reviews = ws->LoadReviews();
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(*reviews[0].rating, 4.5);
  EXPECT_EQ(*reviews[0].timestamp, 1700000000);
}

TEST(Workspace, UpsertIsIdempotentAndUpdatesChangedReviews) {
  TempDir dir;
  auto ws = Workspace::Open(dir / "w.avrec", true);
  UpsertCounts c1, c2, c3;
  ws->InTransaction([&] {
    ws->UpsertReview(MakeReview("r1", "u1", "a", "good"), &c1);
    ws->UpsertReview(MakeReview("r2", "u1", "b", "bad"), &c1);
  });
  ws->InTransaction([&] {
    ws->UpsertReview(MakeReview("r1", "u1", "a", "good"), &c2);
    ws->UpsertReview(MakeReview("r2", "u1", "b", "bad"), &c2);
  });
  EXPECT_EQ(c2.added, 0);
  EXPECT_EQ(c2.updated, 0);
  EXPECT_EQ(c2.unchanged, 2);
  ws->InTransaction([&] { ws->UpsertReview(MakeReview("r2", "u1", "b", "actually great"), &c3); });
  EXPECT_EQ(c3.updated, 1);
  EXPECT_EQ(c3.reassigned, 0);  // an edit
  auto reviews = ws->LoadReviews();
  ASSERT_EQ(reviews.size(), 2u);
  EXPECT_EQ(reviews[1].text, "actually great");
  // The same id for another user's review: updated as given, and counted.
  UpsertCounts c4;
  ws->InTransaction([&] { ws->UpsertReview(MakeReview("r1", "u9", "c", "someone else"), &c4); });
  EXPECT_EQ(c4.updated, 1);
  EXPECT_EQ(c4.reassigned, 1);
  EXPECT_EQ(c4.first_reassigned, "review r1 was user u1's of item a, now user u9's of item c");
  EXPECT_EQ(ws->LoadReviews()[0].user_id, "u9");
}

TEST(Workspace, FailedTransactionLeavesNothing) {
  TempDir dir;
  auto ws = Workspace::Open(dir / "w.avrec", true);
  UpsertCounts c;
  ws->InTransaction([&] { ws->UpsertReview(MakeReview("r1", "u1", "a", "kept"), &c); });
  EXPECT_THROW(ws->InTransaction([&] {
    ws->UpsertReview(MakeReview("r2", "u1", "b", "lost"), &c);
    throw Error(ExitCode::kDataErr, "boom");
  }),
               Error);
  EXPECT_EQ(ws->CountReviews(), 1);
}

TEST(Workspace, SentimentCache) {
  TempDir dir;
  auto ws = Workspace::Open(dir / "w.avrec", true);
  EXPECT_FALSE(ws->FindSentiment("m", TextKey("hi")).has_value());
  ws->StoreSentiment("m", TextKey("hi"), {"positive", 0.8, "{\"positive\":0.9}", ""});
  auto s = ws->FindSentiment("m", TextKey("  hi "));  // normalised text shares the key
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->label, "positive");
  EXPECT_EQ(s->score, 0.8);
  EXPECT_FALSE(ws->FindSentiment("other-model", TextKey("hi")).has_value());
}

TEST(Workspace, NewWorkspaceAppearsOnlyWhenPersisted) {
  TempDir dir;
  {
    auto ws = Workspace::Open(dir / "w.avrec", true);
    EXPECT_FALSE(test::FileExists(dir / "w.avrec"));  // under a temporary name until the run succeeds
  }
  EXPECT_FALSE(test::FileExists(dir / "w.avrec"));
  EXPECT_EQ(std::system(("ls " + dir.path() + " | grep -q tmp").c_str()) == 0, false);  // no temporary file left
  {
    auto ws = Workspace::Open(dir / "w.avrec", true);
    ws->Persist();
    EXPECT_TRUE(test::FileExists(dir / "w.avrec"));
    ws->SetMeta("k", "v");  // still usable after the move
  }
  auto ws = Workspace::Open(dir / "w.avrec", false);
  EXPECT_EQ(ws->GetMeta("k"), "v");
}

// Two first runs into one new workspace (two ingests started together):
// the one that finishes second must not replace what the first stored; it
// fails with exit 75 (retry: it then adds to the workspace) and leaves
// nothing of its own behind.
TEST(Workspace, ANewWorkspaceNeverReplacesOneCreatedMeanwhile) {
  TempDir dir;
  {
    auto other = Workspace::Open(dir / "other.avrec", true);
    other->SetMeta("who", "the other run");
    other->Persist();
  }
  auto ws = Workspace::Open(dir / "w.avrec", true);
  ws->SetMeta("who", "this run");
  // Meanwhile the other run's workspace appears under the name.
  ASSERT_EQ(std::rename((dir / "other.avrec").c_str(), (dir / "w.avrec").c_str()), 0);
  try {
    ws->Persist();
    FAIL() << "replaced the workspace created meanwhile";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kTempFail);
    EXPECT_NE(std::string(e.what()).find("another process created this workspace while this run was building it"),
              std::string::npos)
        << e.what();
  }
  ws.reset();
  EXPECT_EQ(Workspace::Open(dir / "w.avrec", false)->GetMeta("who"), "the other run");
  EXPECT_EQ(std::system(("ls " + dir.path() + " | grep -q tmp").c_str()) == 0, false);  // no temporary file left
}

// A workspace path that is a dangling symbolic link (the nightly's
// workspace kept on another disk): the new workspace appears at the link's
// target, and the link stays.
TEST(Workspace, ADanglingLinkIsCreatedAtItsTarget) {
  TempDir dir;
  ASSERT_EQ(::symlink("target.avrec", (dir / "w.avrec").c_str()), 0);
  {
    auto ws = Workspace::Open(dir / "w.avrec", true);
    ws->SetMeta("k", "v");
    ws->Persist();
  }
  struct stat st;
  ASSERT_EQ(::lstat((dir / "w.avrec").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::lstat((dir / "target.avrec").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Workspace::Open(dir / "w.avrec", false)->GetMeta("k"), "v");
}

TEST(Workspace, OpenRules) {
  TempDir dir;
  // The error Open throws (its code and message), or kOk when it opens.
  const auto failure = [](const std::string& path, bool create) -> std::pair<ExitCode, std::string> {
    try {
      Workspace::Open(path, create);
    } catch (const Error& e) {
      return {e.code(), e.what()};
    }
    return {ExitCode::kOk, ""};
  };
  EXPECT_EQ(failure(dir / "missing.avrec", false).first, ExitCode::kNoInput);
  test::WriteFile(dir / "junk.avrec", "this is not sqlite at all, just some bytes that go on for a while.........");
  EXPECT_EQ(failure(dir / "junk.avrec", true).first, ExitCode::kDataErr);
  EXPECT_NE(
      failure(dir / "junk.avrec", false).second.find("junk.avrec: not an avrec workspace (file is not a database)"),
      std::string::npos);
  // A workspace cut short (an interrupted copy) is called damaged.
  {
    auto ws = Workspace::Open(dir / "whole.avrec", true);
    ws->Persist();
  }
  const std::string whole = test::ReadFile(dir / "whole.avrec");
  test::WriteFile(dir / "cut.avrec", whole.substr(0, 100));
  EXPECT_NE(failure(dir / "cut.avrec", false)
                .second.find("cut.avrec: the workspace is damaged (database disk image is "
                             "malformed): restore it from a copy, or build it again"),
            std::string::npos)
      << failure(dir / "cut.avrec", false).second;
  // An empty file (touch, mktemp) is not yet a workspace for a reader, which
  // leaves it empty; a command that creates one makes it one.
  test::WriteFile(dir / "empty.avrec", "");
  const auto [code, message] = failure(dir / "empty.avrec", false);
  EXPECT_EQ(code, ExitCode::kNoInput);
  EXPECT_NE(message.find("empty.avrec: an empty file, not yet a workspace"), std::string::npos) << message;
  EXPECT_EQ(test::ReadFile(dir / "empty.avrec"), "");
  Workspace::Open(dir / "empty.avrec", true)->Persist();
  EXPECT_EQ(Workspace::Open(dir / "empty.avrec", false)->ItemIds().size(), 0u);
  // Only a regular file is a workspace: SQLite opened /dev/null or a FIFO,
  // failed with "disk I/O error" and left NAME-journal beside it.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mkdir((dir / "folder").c_str(), 0700), 0);
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{dir / "fifo", "is a FIFO"},
                                   {"/dev/null", "is a character device"},
                                   {dir / "folder", "is a directory"}}) {
    for (const bool create : {false, true}) {
      const auto [why, text] = failure(path, create);
      EXPECT_EQ(why, ExitCode::kNoInput) << path;
      EXPECT_NE(text.find(path + ": " + kind + ", expected a workspace file"), std::string::npos) << text;
    }
  }
  EXPECT_FALSE(test::FileExists(dir / "fifo-journal"));
  EXPECT_FALSE(test::FileExists(dir / "fifo-wal"));
}

TEST(NormalizeReviewText, CollapsesWhitespace) {
  EXPECT_EQ(NormalizeReviewText("  a \t b\n\nc  "), "a b c");
  EXPECT_EQ(NormalizeReviewText(""), "");
  EXPECT_EQ(TextKey("a  b"), TextKey(" a b"));
}

}  // namespace
}  // namespace avrec
