// Reasons people read: sentences, snippets, languages, and the templated
// explanation of each recommendation.
#include <gtest/gtest.h>

#include "avrec/output.h"
#include "avrec/text.h"

namespace avrec {
namespace {

TEST(SplitSentences, EnglishChineseAndLineBreaks) {
  EXPECT_EQ(SplitSentences("Great tempo. The vocals are thin!  Would I buy it again? Yes"),
            (std::vector<std::string>{"Great tempo.", "The vocals are thin!", "Would I buy it again?", "Yes"}));
  EXPECT_EQ(SplitSentences("旋律太好听了！歌词一般。。。还行吧"),
            (std::vector<std::string>{"旋律太好听了！", "歌词一般。。。", "还行吧"}));
  EXPECT_EQ(SplitSentences("version 2.0 is out\nloved it!!! really"),
            (std::vector<std::string>{"version 2.0 is out", "loved it!!!", "really"}));
  EXPECT_TRUE(SplitSentences("  \n ").empty());
}

TEST(ShortSnippet, CutsAtWordsAndCountsCharacters) {
  EXPECT_EQ(ShortSnippet("short one", 20), "short one");
  EXPECT_EQ(ShortSnippet("the harmonies are stunning and the mix is clean", 20), "the harmonies are\u2026");
  const std::string zh = "旋律太好听了歌词也很感人我单曲循环了一整天";  // 21 characters, no blanks
  EXPECT_EQ(ShortSnippet(zh, 10), "旋律太好听了歌词也\u2026");
  EXPECT_EQ(ShortSnippet(zh, 21), zh);
}

TEST(TextLanguage, ByScript) {
  EXPECT_EQ(TextLanguage("旋律太好听了"), "zh");
  EXPECT_EQ(TextLanguage("《Song Shine》的色调可以"), "zh");
  EXPECT_EQ(TextLanguage("I loved 心跳夏天 and its chorus, truly a great record"), "en");
  EXPECT_EQ(TextLanguage("12345 !!"), "");
}

class NarratorTest : public ::testing::Test {
 protected:
  NarratorTest() {
    for (auto [id, title, kind] : {std::tuple{"a", "Octave", "album"},
                                   {"b", "十年", "song"},
                                   {"c", "", "video"},
                                   {"d", "Night Drive", "song"}}) {
      Item it;
      it.item_id = id;
      it.title = title;
      it.kind = kind;
      items_.items.push_back(it);
    }
    for (auto [user, text] :
         {std::pair{"en", "The harmonies are stunning."}, {"zh", "旋律太好听了！"}, {"zh", "还不错"}, {"zh", "nice"}}) {
      Review r;
      r.review_id = std::string("r") + std::to_string(reviews_.size());
      r.user_id = user;
      r.text = text;
      reviews_.push_back(r);
    }
  }

  static UserRecommendations User(const std::string& id, std::vector<double> scores) {
    UserRecommendations u;
    u.user_id = id;
    for (size_t k = 0; k < scores.size(); ++k) {
      RecommendedItem it;
      it.item_id = "d";
      it.rank = static_cast<int>(k) + 1;
      it.score = scores[k];
      u.items.push_back(it);
    }
    return u;
  }

  static Reason Similar(const std::string& item, double preference) {
    Reason r;
    r.kind = "similar_to";
    r.item_id = item;
    r.review_id = "r0";
    r.preference = preference;
    return r;
  }

  static Reason Modality(std::vector<std::string> features) {
    Reason r;
    r.kind = "modality";
    r.modality = "audio";
    r.features = std::move(features);
    return r;
  }

  ItemTable items_;
  std::vector<Review> reviews_;
};

TEST_F(NarratorTest, EnglishAndChineseSentencesFromTheFirstLikedReason) {
  const Narrator n(items_, reviews_, ReasonLanguage::kAuto);
  const auto snippet = [](const Reason&) { return std::string("the harmonies are stunning"); };
  UserRecommendations en = User("en", {0.4});
  en.items[0].reasons = {Similar("b", -0.5), Similar("a", 0.8), Modality({"audio.tempo", "audio.mood"})};
  n.Narrate(&en, snippet);
  EXPECT_EQ(en.language, "en");
  EXPECT_EQ(en.items[0].title, "Night Drive");
  EXPECT_EQ(en.items[0].reasons[1].title, "Octave");
  EXPECT_EQ(en.items[0].reasons[1].snippet, "the harmonies are stunning");
  EXPECT_EQ(en.items[0].explanation,
            "Because you loved \u201cOctave\u201d (\u201cthe harmonies are stunning\u201d), and this song shares its "
            "tempo and mood.");
  EXPECT_FALSE(en.low_confidence);

  UserRecommendations zh = User("zh", {0.3});
  zh.items[0].reasons = {Similar("b", 0.3), Modality({"audio.tempo", "visual.dominant_colour=red"})};
  n.Narrate(&zh, [](const Reason&) { return std::string("旋律太好听了！"); });
  EXPECT_EQ(zh.language, "zh");
  EXPECT_EQ(zh.items[0].explanation,
            "因为你喜欢《十年》（\u201c旋律太好听了！\u201d），这首歌的节奏和主色调（red）与它相近。");
}

TEST_F(NarratorTest, OtherReasonKindsForcedLanguageAndLowConfidence) {
  const Narrator n(items_, reviews_, ReasonLanguage::kEnglish);
  UserRecommendations u = User("zh", {-0.1, 0.0});
  Reason learned;
  learned.kind = "learned_from";
  learned.item_id = "c";
  Reason popular;
  popular.kind = "popular";
  popular.value = 1;
  u.items[0].reasons = {learned};
  u.items[1].reasons = {popular};
  n.Narrate(&u, {});
  EXPECT_EQ(u.language, "en");                  // forced, though the user writes Chinese
  EXPECT_EQ(u.items[0].reasons[0].title, "c");  // untitled: the id
  EXPECT_EQ(u.items[0].explanation,
            "Because you liked \u201c"
            "c\u201d: people who like it tend to like this song too.");
  EXPECT_EQ(u.items[1].explanation, "Popular: 1 person has reviewed this song.");
  // An item nobody has reviewed is not called popular.
  u.items[1].reasons[0].value = 0;
  n.Narrate(&u, {});
  EXPECT_EQ(u.items[1].explanation, "Nobody has reviewed this song yet; nothing better was left to recommend.");
  // With EASE's tag term the reason names the tags the two share.
  UserRecommendations t = User("en", {0.4});
  learned.tags = {"folk", "jazz", "rock"};
  t.items[0].reasons = {learned};
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "Because you liked \u201c"
            "c\u201d: people who like it tend to like this song too, and both are tagged folk, jazz and rock.");
  const Narrator zh_tags(items_, reviews_, ReasonLanguage::kChinese);
  zh_tags.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation, "因为你喜欢《c》：喜欢它的人往往也喜欢这首歌，两者都带有标签folk、jazz、rock。");
  // An item nobody has reviewed, brought in by its tags.
  Reason tagged = learned;
  tagged.kind = "tagged_like";
  t.items[0].reasons = {tagged};
  zh_tags.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation, "因为你喜欢《c》：这首歌还没有人评价过，但与它同样带有标签folk、jazz、rock。");
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "Because you liked \u201c"
            "c\u201d: nobody has reviewed this song yet, but it is tagged folk, jazz and rock too.");
  t.items[0].reasons[0].tags.clear();
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "Because you liked \u201c"
            "c\u201d: nobody has reviewed this song yet, but it is tagged like what people who like it tend to like.");
  // item-knn with its tag term: a co-reviewed item, with the tags the two
  // share (and without, as before).
  Reason co;
  co.kind = "co_reviewed_with";
  co.item_id = "c";
  co.tags = {"folk", "jazz"};
  t.items[0].reasons = {co};
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "People who reviewed \u201c"
            "c\u201d also reviewed this song, and both are tagged folk and jazz.");
  zh_tags.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation, "评价过《c》的人也常评价这首歌，两者都带有标签folk、jazz。");
  t.items[0].reasons[0].tags.clear();
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "People who reviewed \u201c"
            "c\u201d also reviewed this song.");
  // An item held back by --avoid-below says so before what recommends it.
  Reason held;
  held.kind = "predicted_dislike";
  held.value = -0.4;
  held.below = 0.2;
  t.items[0].reasons = {held, learned};
  zh_tags.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation, "预计你不会喜欢这首歌，只因没有别的可推荐才列在最后。");
  n.Narrate(&t, {});
  EXPECT_EQ(t.items[0].explanation,
            "Listed last: you are predicted to dislike this song, and nothing else was left to recommend.");
  EXPECT_TRUE(u.low_confidence);
  EXPECT_NE(u.low_confidence_reason.find("at or below zero"), std::string::npos);
  // Positive scores from a profile whose dislikes nearly cancel its likes:
  // flagged below a net share of 0.2, with the share in the reason.
  UserRecommendations c = User("en", {0.4, 0.3});
  c.net_share = 0.07;
  n.Narrate(&c, {});
  EXPECT_TRUE(c.low_confidence);
  EXPECT_EQ(c.low_confidence_reason,
            "what this user disliked nearly cancels what they liked (their profile keeps 7 % of its reviews' weight): "
            "the list rests on the small difference between them");
  c.net_share = kLowNetShare;
  n.Narrate(&c, {});
  EXPECT_FALSE(c.low_confidence);
  c.net_share = 0.07;
  c.cold_start = true;  // the popularity ranking: the profile is not used
  n.Narrate(&c, {});
  EXPECT_FALSE(c.low_confidence);
  c.cold_start = false;
  c.items.clear();  // nothing to flag
  n.Narrate(&c, {});
  EXPECT_FALSE(c.low_confidence);

  const Narrator zh(items_, reviews_, ReasonLanguage::kChinese);
  UserRecommendations v = User("en", {0.2});
  v.items[0].reasons = {Similar("a", -0.7)};
  zh.Narrate(&v, [](const Reason&) { return std::string("太吵了"); });
  EXPECT_EQ(v.items[0].explanation, "因为你不喜欢《Octave》（\u201c太吵了\u201d），而这首歌与它不同。");
  v.items[0].reasons.clear();
  zh.Narrate(&v, {});
  EXPECT_EQ(v.items[0].explanation, "");  // nothing to say
}

}  // namespace
}  // namespace avrec
