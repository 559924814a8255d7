// Reasons people read: titles, snippets and one generated sentence per
// recommendation in the user's language, from fixed templates
// (docs/recommendations.md, "Reasons in words").
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "avrec/error.h"
#include "avrec/output.h"
#include "avrec/text.h"

namespace avrec {

namespace {

constexpr size_t kSnippetChars = 60;

// What a feature column is called in a sentence: the part after the modality
// prefix, underscores as blanks; a categorical value in parentheses.
std::string FeatureWord(const std::string& column, bool zh) {
  static const std::map<std::string, std::string> kChinese = {{"tempo", "节奏"},
                                                              {"loudness", "响度"},
                                                              {"energy", "能量"},
                                                              {"danceability", "律动感"},
                                                              {"acousticness", "原声感"},
                                                              {"valence", "情绪"},
                                                              {"mood", "情绪"},
                                                              {"instrumentalness", "器乐感"},
                                                              {"speechiness", "人声比例"},
                                                              {"liveness", "现场感"},
                                                              {"key", "调性"},
                                                              {"mode", "调式"},
                                                              {"duration", "时长"},
                                                              {"genre", "风格"},
                                                              {"brightness", "亮度"},
                                                              {"motion", "动感"},
                                                              {"colourfulness", "色彩"},
                                                              {"colorfulness", "色彩"},
                                                              {"saturation", "饱和度"},
                                                              {"contrast", "对比度"},
                                                              {"cut_rate", "剪辑节奏"},
                                                              {"dominant_colour", "主色调"},
                                                              {"dominant_color", "主色调"}};
  std::string name = column, value;
  const size_t eq = name.find('=');
  if (eq != std::string::npos) {
    value = name.substr(eq + 1);
    name.erase(eq);
  }
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) name.erase(0, dot + 1);
  std::string word = name;
  if (zh) {
    auto it = kChinese.find(name);
    if (it != kChinese.end()) word = it->second;
  }
  if (!zh || word == name) std::replace(word.begin(), word.end(), '_', ' ');
  if (!value.empty()) word += zh ? "（" + value + "）" : " (" + value + ")";
  return word;
}

std::string JoinWords(const std::vector<std::string>& words, bool zh) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += zh ? "和" : (i + 1 == words.size() ? " and " : ", ");
    out += words[i];
  }
  return out;
}

std::string ModalityWord(const std::string& modality, bool zh) {
  if (modality == "audio") return zh ? "声音" : "sound";
  if (modality == "visual") return zh ? "画面" : "look";
  if (modality == "text") return zh ? "主题" : "subject";
  return modality;
}

// "song" -> ("song", "这首歌"); unknown kinds read as "item" / "这个作品".
std::pair<std::string, std::string> KindNoun(const std::string& kind) {
  std::string k = kind;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (k == "song" || k == "track" || k == "music" || k == "audio") return {"song", "这首歌"};
  if (k == "video" || k == "clip" || k == "mv") return {"video", "这个视频"};
  if (k == "album") return {"album", "这张专辑"};
  if (k == "movie" || k == "film") return {"film", "这部电影"};
  if (k == "podcast" || k == "episode") return {"episode", "这期节目"};
  return {"item", "这个作品"};
}

// Tag names as the sentence lists them: "a, b and c"; Chinese "a、b、c".
std::string TagWords(const std::vector<std::string>& tags, bool zh) {
  if (!zh) return JoinWords(tags, zh);
  std::string out;
  for (size_t i = 0; i < tags.size(); ++i) out += (i > 0 ? "、" : "") + tags[i];
  return out;
}

std::string Quoted(const std::string& title, bool zh) { return zh ? "《" + title + "》" : "\u201c" + title + "\u201d"; }

// The sentence of a similar_to reason: a liked review the item is close to
// (sharing `shared`, when not empty), or a disliked one it is unlike.
std::string SimilarToSentence(const Reason& similar, const std::string& shared, const std::string& noun,
                              const std::string& noun_zh, bool zh) {
  const std::string title = Quoted(similar.title, zh);
  const std::string snippet = similar.snippet.empty() ? ""
                                                      : (zh ? "（\u201c" + similar.snippet + "\u201d）"
                                                            : " (\u201c" + similar.snippet + "\u201d)");
  if (similar.preference < 0) {  // a disliked review pushing away from its item
    if (zh) return fmt::format("因为你不喜欢{}{}，而{}与它不同。", title, snippet, noun_zh);
    return fmt::format("Because you disliked {}{}, and this {} is unlike it.", title, snippet, noun);
  }
  const bool loved = similar.preference >= 0.6;
  if (zh) {
    const std::string like = loved ? "很喜欢" : "喜欢";
    if (shared.empty()) return fmt::format("因为你{}{}{}，{}与它相近。", like, title, snippet, noun_zh);
    return fmt::format("因为你{}{}{}，{}的{}与它相近。", like, title, snippet, noun_zh, shared);
  }
  const char* verb = loved ? "loved" : "liked";
  if (shared.empty())
    return fmt::format("Because you {} {}{}, and this {} is close to it.", verb, title, snippet, noun);
  return fmt::format("Because you {} {}{}, and this {} shares its {}.", verb, title, snippet, noun, shared);
}

// The sentence of a collaborative or popularity reason; empty for a kind
// that has none of its own.
std::string ReasonSentence(const Reason& r, const std::string& noun, const std::string& noun_zh, bool zh) {
  const std::string title = Quoted(r.title, zh);
  if (r.kind == "learned_from") {
    const std::string tags = TagWords(r.tags, zh);
    if (zh) {
      if (tags.empty()) return fmt::format("因为你喜欢{}：喜欢它的人往往也喜欢{}。", title, noun_zh);
      return fmt::format("因为你喜欢{}：喜欢它的人往往也喜欢{}，两者都带有标签{}。", title, noun_zh, tags);
    }
    if (tags.empty())
      return fmt::format("Because you liked {}: people who like it tend to like this {} too.", title, noun);
    return fmt::format("Because you liked {}: people who like it tend to like this {} too, and both are tagged {}.",
                       title, noun, tags);
  }
  if (r.kind == "tagged_like") {  // an item nobody has reviewed yet
    const std::string tags = TagWords(r.tags, zh);
    if (tags.empty()) {  // the tags of what people reviewed along with it
      if (zh)
        return fmt::format("因为你喜欢{}：{}还没有人评价过，但它的标签与喜欢它的人常喜欢的作品相近。", title, noun_zh);
      return fmt::format(
          "Because you liked {}: nobody has reviewed this {} yet, but it is tagged like what people who like it "
          "tend to like.",
          title, noun);
    }
    if (zh) return fmt::format("因为你喜欢{}：{}还没有人评价过，但与它同样带有标签{}。", title, noun_zh, tags);
    return fmt::format("Because you liked {}: nobody has reviewed this {} yet, but it is tagged {} too.", title, noun,
                       tags);
  }
  if (r.kind == "co_reviewed_with") {
    const std::string tags = TagWords(r.tags, zh);
    if (zh) {
      if (tags.empty()) return fmt::format("评价过{}的人也常评价{}。", title, noun_zh);
      return fmt::format("评价过{}的人也常评价{}，两者都带有标签{}。", title, noun_zh, tags);
    }
    if (tags.empty()) return fmt::format("People who reviewed {} also reviewed this {}.", title, noun);
    return fmt::format("People who reviewed {} also reviewed this {}, and both are tagged {}.", title, noun, tags);
  }
  if (r.kind == "popular") {
    const int n = static_cast<int>(r.value);
    if (n == 0) {  // a catalogue nobody else has reviewed: not popular, only not yet ranked out
      if (zh) return fmt::format("还没有人评价过{}；暂时没有更好的推荐依据。", noun_zh);
      return fmt::format("Nobody has reviewed this {} yet; nothing better was left to recommend.", noun);
    }
    if (zh) return fmt::format("热门之选：已有 {} 人评价过{}。", n, noun_zh);
    return fmt::format("Popular: {} {} reviewed this {}.", n, n == 1 ? "person has" : "people have", noun);
  }
  return "";
}

}  // namespace

ReasonLanguage ParseReasonLanguage(const std::string& s) {
  if (s == "auto") return ReasonLanguage::kAuto;
  if (s == "en") return ReasonLanguage::kEnglish;
  if (s == "zh") return ReasonLanguage::kChinese;
  Fail(ExitCode::kUsage, "--reason-language: expected auto, en or zh, got '", s, "'");
}

Narrator::Narrator(const ItemTable& items, const std::vector<Review>& reviews, ReasonLanguage language)
    : language_(language) {
  for (const Item& it : items.items) items_.emplace(it.item_id, &it);
  if (language != ReasonLanguage::kAuto) return;
  // A user's language: the one most of their reviews are written in (ties
  // and users without text: English).
  std::unordered_map<std::string, std::pair<int, int>> votes;  // user -> (zh, en)
  for (const Review& r : reviews) {
    const std::string l = TextLanguage(r.text);
    if (l == "zh") ++votes[r.user_id].first;
    if (l == "en") ++votes[r.user_id].second;
  }
  for (const auto& [user, v] : votes) {
    if (v.first > v.second) chinese_users_.insert(user);
  }
}

std::string Narrator::Title(const std::string& item_id) const {
  auto it = items_.find(item_id);
  return it == items_.end() || it->second->title.empty() ? item_id : it->second->title;
}

std::string Narrator::Sentence(const RecommendedItem& item, bool zh) const {
  auto found = items_.find(item.item_id);
  const auto [noun, noun_zh] = KindNoun(found == items_.end() ? "" : found->second->kind);
  // Held back by --avoid-below: say so before anything that recommends it.
  if (!item.reasons.empty() && item.reasons.front().kind == "predicted_dislike") {
    if (zh) return fmt::format("预计你不会喜欢{}，只因没有别的可推荐才列在最后。", noun_zh);
    return fmt::format("Listed last: you are predicted to dislike this {}, and nothing else was left to recommend.",
                       noun);
  }
  const Reason* similar = nullptr;
  const Reason* modality = nullptr;
  // The sentence names the liked review that lifts the item most (a
  // disliked one only when no liked review does).
  for (const Reason& r : item.reasons) {
    if (r.kind == "similar_to" && (similar == nullptr || (similar->preference < 0 && r.preference > 0))) similar = &r;
    if (r.kind == "modality" && modality == nullptr) modality = &r;
  }
  std::vector<std::string> features;
  if (modality != nullptr) {
    for (const std::string& f : modality->features) features.push_back(FeatureWord(f, zh));
    if (features.empty()) features.push_back(ModalityWord(modality->modality, zh));
  }
  const std::string shared = JoinWords(features, zh);
  if (similar != nullptr) return SimilarToSentence(*similar, shared, noun, noun_zh, zh);
  for (const Reason& r : item.reasons) {
    std::string sentence = ReasonSentence(r, noun, noun_zh, zh);
    if (!sentence.empty()) return sentence;
  }
  if (!shared.empty()) {
    if (zh) return fmt::format("{}的{}与你喜欢的作品相近。", noun_zh, shared);
    return fmt::format("This {} matches the {} of what you liked.", noun, shared);
  }
  return "";
}

void Narrator::Narrate(UserRecommendations* u, const std::function<std::string(const Reason&)>& snippet) const {
  const bool zh = language_ == ReasonLanguage::kChinese ||
                  (language_ == ReasonLanguage::kAuto && chinese_users_.count(u->user_id) != 0);
  u->language = zh ? "zh" : "en";
  bool any_positive = false;
  for (RecommendedItem& item : u->items) {
    item.title = Title(item.item_id);
    any_positive = any_positive || item.score > 0;
    for (Reason& r : item.reasons) {
      if (!r.item_id.empty()) r.title = Title(r.item_id);
      if (r.kind == "similar_to" && snippet) r.snippet = ShortSnippet(snippet(r), kSnippetChars);
    }
    item.explanation = Sentence(item, zh);
  }
  const bool listed = !u->items.empty();
  u->low_confidence_reason.clear();
  if (listed && !any_positive) {
    u->low_confidence_reason =
        u->cold_start ? "every score is at or below zero"
                      : "every score is at or below zero: what this user liked points to no candidate more than "
                        "what they disliked points away from it";
  } else if (listed && !u->cold_start && u->net_share < kLowNetShare) {
    u->low_confidence_reason = fmt::format(
        "what this user disliked nearly cancels what they liked (their profile keeps {:.0f} % of its reviews' "
        "weight): the list rests on the small difference between them",
        100 * u->net_share);
  }
  u->low_confidence = !u->low_confidence_reason.empty();
}

}  // namespace avrec
