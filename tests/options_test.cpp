// The option table: validation, the config hash, and the precedence
// command line > config file > default.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cmath>

#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "cli/bind.h"
#include "cli/commands.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::TempDir;
using test::WriteFile;

// The options the recommendations' config hash covers, as RecommendConfigHash
// describes them.
OptionSet RecommendSet(PipelineConfig* c) {
  OptionSet set;
  c->inputs.Describe(&set);
  c->DescribeModelInputs(&set);
  c->DescribeRecommend(&set);
  return set;
}

// A different, valid value of the same JSON type.
nlohmann::json Changed(const nlohmann::json& v, const Option& o, const TempDir& dir) {
  if (o.effect == Effect::kContent) {
    const std::string path = dir / ("list-" + std::to_string(std::hash<std::string>{}(o.key)) + ".txt");
    WriteFile(path, "x1\nx2\n");
    return path;
  }
  // "auto" resolves to json for an output without an extension: the same
  // bytes, the same hash; another format is another output.
  if (o.key == "recommend.format") return "jsonl";
  if (o.type_name.find('|') != std::string::npos) {  // a choice: the first name that differs
    size_t start = 0;
    const std::string& t = o.type_name;
    while (start <= t.size()) {
      const size_t bar = t.find('|', start);
      std::string name = t.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (name != v.get<std::string>()) return name;
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() + 1;
  if (v.is_number()) return v.get<double>() == 0 ? 0.25 : v.get<double>() / 2;
  if (v.is_null()) return 3.0;
  if (v.is_string()) return o.key == "profile.now" ? "2024-01-01" : v.get<std::string>() + "x";
  if (v.is_object() || v.is_array()) {
    return o.type_name == "NAME=NUMBER" ? nlohmann::json{{"audio", 2.0}} : nlohmann::json{{"audio.tempo", "audio"}};
  }
  return v;
}

TEST(ConfigHash, EveryResultOptionChangesItAndNoOtherDoes) {
  TempDir dir;
  PipelineConfig base;
  const std::string h0 = base.RecommendConfigHash();
  EXPECT_EQ(h0.size(), 16u);
  int results = 0, others = 0;
  const size_t n = [] {
    PipelineConfig c;
    return RecommendSet(&c).options().size();
  }();
  for (size_t i = 0; i < n; ++i) {
    PipelineConfig c;
    OptionSet set = RecommendSet(&c);
    const Option& o = set.options()[i];
    const nlohmann::json v = Changed(o.to_json(), o, dir);
    if (o.key.empty() && o.effect == Effect::kNone) continue;  // command-line only, e.g. --created-at
    o.from_json(v, "");
    const std::string h = c.RecommendConfigHash();
    if (o.effect == Effect::kNone) {
      EXPECT_EQ(h, h0) << o.Name() << " does not change results but changed the hash";
      ++others;
    } else {
      EXPECT_NE(h, h0) << o.Name() << " changes results but not the hash";
      ++results;
    }
  }
  EXPECT_GE(results, 25);  // algorithm, weights, lists, profile and feature options, ...
  EXPECT_GE(others, 3);    // paths of inputs, block size, embedding cache, ...
}

TEST(ConfigHash, ListFilesEnterByContent) {
  TempDir dir;
  WriteFile(dir / "a.txt", "i1\n");
  WriteFile(dir / "b.txt", "i1\n");
  PipelineConfig a, b;
  a.deny_list = dir / "a.txt";
  b.deny_list = dir / "b.txt";
  EXPECT_EQ(a.RecommendConfigHash(), b.RecommendConfigHash());
  WriteFile(dir / "b.txt", "i2\n");
  EXPECT_NE(a.RecommendConfigHash(), b.RecommendConfigHash());
}

TEST(OptionValidation, RangesAndFinitenessNameTheOption) {
  const auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  PipelineConfig c;
  c.profile.sentiment_share = std::nan("");
  EXPECT_NE(message([&] { c.Validate(); }).find("--sentiment-share"), std::string::npos);
  c = PipelineConfig();
  c.recommend.popularity_weight = 1e308;
  EXPECT_NE(message([&] {
              c.Validate();
            }).find("--popularity-weight (config recommend.popularity_weight): expected a number from -1000 to 1000"),
            std::string::npos);
  c = PipelineConfig();
  c.profile.rating_min = 5;
  c.profile.rating_max = 1;
  EXPECT_NE(message([&] { c.Validate(); }).find("--rating-min"), std::string::npos);
  c = PipelineConfig();
  c.recommend.knn_neighbors = -1;
  EXPECT_NE(
      message([&] { c.Validate(); }).find("--knn-neighbors (config recommend.knn_neighbors): expected a number from 1"),
      std::string::npos);
  c = PipelineConfig();
  c.threads = -1;
  EXPECT_NE(message([&] { c.Validate(); }).find("--threads"), std::string::npos);
  // The library checks too, without any command line.
  RecommendOptions r;
  r.top_n = 0;
  EXPECT_NE(message([&] { r.Validate(); }).find("--top-n (config recommend.top_n): expected a number from 1"),
            std::string::npos);
  // So does the command line, for a value no int holds, in either direction.
  OptionSet set;
  r.Describe(&set);
  const Option& top_n = *std::find_if(set.options().begin(), set.options().end(),
                                      [](const Option& o) { return o.key == "recommend.top_n"; });
  EXPECT_EQ(message([&] { top_n.from_text("1000000000000"); }),
            "--top-n: expected a number from 1 to 2147483647, got '1000000000000'");
  EXPECT_EQ(message([&] { top_n.from_text("-99999999999999999999"); }),
            "--top-n: expected a number from 1 to 2147483647, got '-99999999999999999999'");
  EXPECT_EQ(message([&] { top_n.from_text("12x"); }), "--top-n: expected an integer, got '12x'");
  ProfileOptions p;
  p.now = "yesterday";
  EXPECT_NE(message([&] { p.Validate(); }).find("--now"), std::string::npos);
}

// run --set reaches into a map: one entry set, the others kept; an entry
// name may hold dots; a key past an option that is no map is unknown.
TEST(OptionSet, SetKeyOrEntrySetsOneEntryOfAMap) {
  PipelineConfig c;
  OptionSet set;
  c.Describe(&set);
  set.ApplyConfig(nlohmann::json::parse(R"({"features": {"modality_weights": {"audio": 1, "visual": 3}}})"), "");
  EXPECT_TRUE(set.SetKeyOrEntry("features.modality_weights.audio", 2, ""));
  EXPECT_EQ(c.item_vectors.features.modality_weights, (std::map<std::string, double>{{"audio", 2}, {"visual", 3}}));
  EXPECT_TRUE(set.SetKeyOrEntry("items.categorical.visual.colour", "visual", ""));
  EXPECT_EQ(c.inputs.categorical.at("visual.colour"), "visual");
  EXPECT_TRUE(set.SetKeyOrEntry("reviews.map.rating", "overall", ""));
  EXPECT_EQ(c.inputs.review_columns.at("rating"), "overall");
  EXPECT_TRUE(set.SetKeyOrEntry("recommend.top_n", 7, ""));
  EXPECT_EQ(c.recommend.top_n, 7);
  EXPECT_FALSE(set.SetKeyOrEntry("recommend.top_n.x", 7, ""));
  EXPECT_FALSE(set.SetKeyOrEntry("features.modality_weights.", 7, ""));
  EXPECT_FALSE(set.SetKeyOrEntry("nosuch.key", 7, ""));
  try {
    set.SetKeyOrEntry("features.modality_weights.audio", "loud", "");
    ADD_FAILURE() << "took a weight 'loud'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_EQ(std::string(e.what()),
              "--modality-weight audio (config features.modality_weights.audio): expected a number, found the text "
              "'loud'");
  }
  try {
    set.SetKeyOrEntry("reviews.map.rating", 5, "");
    ADD_FAILURE() << "took a column 5";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--map rating (config reviews.map.rating): expected a text value, found the number 5");
  }
}

TEST(OptionValidation, ConfigValuesSayWhatWasExpectedAndFound) {
  PipelineConfig c;
  OptionSet set;
  c.Describe(&set);
  const auto message = [&](const std::string& key, const nlohmann::json& v) {
    try {
      set.Set(key, v, "");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // A value the type cannot hold is named against the option's range, not
  // the type's (was "from -2147483648 to 2147483647" for a count of at least 1).
  EXPECT_EQ(message("recommend.top_n", 1000000000000LL),
            "--top-n (config recommend.top_n): expected a number from 1 to 2147483647, got 1000000000000");
  std::vector<int> ks;
  OptionSet k_set;
  k_set.AddNumber("--k", "evaluate.k", &ks, {1, 2147483647}, "cut-offs");
  try {
    k_set.Set("evaluate.k", nlohmann::json::array({10, 1e20}), "");
    ADD_FAILURE() << "took a cut-off of 1e20";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--k (config evaluate.k): expected a number from 1 to 2147483647, got 1e+20");
  }
  EXPECT_EQ(message("recommend.top_n", "ten"),
            "--top-n (config recommend.top_n): expected an integer, found the text 'ten'");
  EXPECT_EQ(message("profile.use_rating", 1),
            "--no-rating (config profile.use_rating): expected true or false, found the number 1");
  EXPECT_EQ(message("recommend.algorithm", "magic"),
            "--algorithm (config recommend.algorithm): expected sentiment-content, content, popular, item-knn, "
            "hybrid, ease or als, got 'magic'");
  try {
    CheckConfigKeys(nlohmann::json{{"reviews", "reviews.csv"}}, "p.json", set.keys());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config key 'reviews': expected an object"), std::string::npos) << e.what();
  }
  try {
    CheckConfigKeys(nlohmann::json{{"recommend", {{"top_m", 3}}}}, "p.json", set.keys());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'recommend.top_n'"), std::string::npos) << e.what();
  }
  // A near name is suggested; a name nothing like any key is not.
  for (const auto& [key, hint] :
       std::vector<std::pair<std::string, std::string>>{{"top", "did you mean 'recommend.top_n'"},
                                                        {"tpo_n", "did you mean 'recommend.top_n'"},
                                                        {"x", ""},
                                                        {"zzzzzzzz", ""}}) {
    try {
      CheckConfigKeys(nlohmann::json{{"recommend", {{key, 3}}}}, "p.json", set.keys());
      FAIL() << key;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("unknown config key 'recommend." + key + "'"), std::string::npos) << what;
      EXPECT_EQ(what.find("did you mean") != std::string::npos, !hint.empty()) << what;
      if (!hint.empty()) {
        EXPECT_NE(what.find(hint), std::string::npos) << what;
      }
    }
  }
  // A hostile key is printed escaped and cut short, and costs no time.
  try {
    CheckConfigKeys(nlohmann::json{{"\x1b[31m" + std::string(300000, 'x'), 1}}, "p.json", set.keys());
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("p.json: unknown config key '\\x1B[31mxxx", 0), 0u) << what.substr(0, 200);
    EXPECT_LT(what.size(), 200u);
  }
  // A misspelt section is named with the section it may mean (a key inside
  // one is never told of its own section: 'recommend.x' above).
  for (const auto& [json, said] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"recomend", {{"top_n", 3}}}}, "unknown config key 'recomend' (did you mean 'recommend'?)"},
           {{{"reviews", {{"path", "r.csv"}}}, {"itmes", {{"path", "i.csv"}}}},
            "unknown config key 'itmes' (did you mean 'items'?)"}}) {
    try {
      CheckConfigKeys(json, "p.json", set.keys());
      FAIL() << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(said), std::string::npos) << e.what();
    }
  }
}

// Parses `args` for the recommend subcommand, then applies `config` (if
// any), as avrec does. `inert`: the options given that change nothing, as
// "NAME: WHY".
PipelineConfig ParseRecommend(std::vector<std::string> args, const std::string& config,
                              std::vector<std::string>* inert = nullptr) {
  CLI::App app;
  cli::RecommendCommand cmd;
  OptionSet set;
  cmd.Describe(&set);
  cli::BoundOptions bound(&app, &set);
  std::vector<const char*> argv = {"recommend"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  if (!config.empty()) bound.ApplyConfigFile(config, cli::AllConfigKeys());
  for (const auto& [o, why] : set.Inert([&](const Option& x) { return bound.Given(x); })) {
    if (inert != nullptr) inert->push_back(o->Name() + ": " + why);
  }
  return cmd.config;
}

std::vector<std::string> InertOf(std::vector<std::string> args, const std::string& config = "") {
  std::vector<std::string> inert;
  ParseRecommend(std::move(args), config, &inert);
  return inert;
}

// An option the run does not read (another algorithm's, or one of a switch
// left off) is named when the command line gives it; a config file's
// settings for other algorithms are not.
TEST(InertOptions, AnotherAlgorithmsOptionOrOneOfASwitchLeftOffIsNamed) {
  using V = std::vector<std::string>;
  EXPECT_EQ(InertOf({"--algorithm", "ease", "--knn-neighbors", "7"}),
            V{"--knn-neighbors: it sets item-knn's model, and --algorithm is ease"});
  EXPECT_EQ(InertOf({"--algorithm", "item-knn", "--knn-neighbors", "7", "--knn-tag-weight", "1"}), V{});
  EXPECT_EQ(InertOf({"--algorithm", "hybrid", "--hybrid-with", "als", "--als-factors", "8", "--seed", "3",
                     "--ease-lambda", "10", "--hybrid-content", "0.2", "--negative-weight", "0"}),
            V{"--ease-lambda: it sets ease's model, and --algorithm is hybrid with --hybrid-with als"});
  EXPECT_EQ(InertOf({"--hybrid-content", "0.2", "--seed", "3", "--negative-weight", "0"}),
            (V{"--hybrid-content: it sets up the hybrid, and --algorithm is sentiment-content",
               "--negative-weight: it weighs dislikes in item-knn's, ease's and als's models, and --algorithm is "
               "sentiment-content",
               "--seed: it sets als's model, and --algorithm is sentiment-content"}));
  // An option of a switch left off, and one whose switch is on.
  EXPECT_EQ(InertOf({"--algorithm", "ease", "--ease-session-half-life", "2"}),
            V{"--ease-session-half-life: it sets how fast --ease-session-weight's pairs fade, and "
              "--ease-session-weight is 0"});
  EXPECT_EQ(InertOf({"--algorithm", "ease", "--ease-session-half-life", "2", "--ease-session-weight", "1"}), V{});
  EXPECT_EQ(InertOf({"--avoid-shrinkage", "1", "--keep-lists", "2"}),
            (V{"--avoid-shrinkage: it shrinks --avoid-below's biases, and no --avoid-below is given",
               "--keep-lists: it prunes the lists --to-workspace stores, and no --to-workspace is given"}));
  EXPECT_EQ(InertOf({"--avoid-shrinkage", "1", "--avoid-below", "0", "--keep-lists", "2", "--to-workspace"}), V{});
  // The algorithm may come from the config file; the config's own settings
  // for other algorithms are never named.
  TempDir dir;
  WriteFile(dir / "c.json", R"({"recommend": {"algorithm": "ease", "knn_neighbors": 7, "als_factors": 3}})");
  EXPECT_EQ(InertOf({}, dir / "c.json"), V{});
  EXPECT_EQ(InertOf({"--knn-neighbors", "9"}, dir / "c.json"),
            V{"--knn-neighbors: it sets item-knn's model, and --algorithm is ease"});
  EXPECT_EQ(InertOf({"--knn-neighbors", "9", "--algorithm", "item-knn"}, dir / "c.json"), V{});
}

TEST(OptionPrecedence, CommandLineThenConfigThenDefault) {
  TempDir dir;
  WriteFile(dir / "c.json",
            R"({"recommend": {"top_n": 5, "algorithm": "hybrid"}, "profile": {"use_rating": false},
                "features": {"modality_weights": {"audio": 2}}, "reviews": {"path": "r.csv"}})");
  // Default.
  PipelineConfig d = ParseRecommend({}, "");
  EXPECT_EQ(d.recommend.top_n, 10);
  EXPECT_TRUE(d.profile.use_rating);
  // Config over default; relative paths from the config's folder.
  PipelineConfig c = ParseRecommend({}, dir / "c.json");
  EXPECT_EQ(c.recommend.top_n, 5);
  EXPECT_EQ(c.recommend.algorithm, Algorithm::kHybrid);
  EXPECT_FALSE(c.profile.use_rating);
  EXPECT_EQ(c.item_vectors.features.modality_weights.at("audio"), 2.0);
  EXPECT_EQ(c.inputs.reviews, dir / "r.csv");
  // Command line over config, option by option.
  PipelineConfig l = ParseRecommend({"--top-n", "3", "--reviews", "x.csv"}, dir / "c.json");
  EXPECT_EQ(l.recommend.top_n, 3);
  EXPECT_EQ(l.inputs.reviews, "x.csv");
  EXPECT_EQ(l.recommend.algorithm, Algorithm::kHybrid);  // not given: from the config
  // A bad value on the command line is a usage error naming the flag.
  try {
    ParseRecommend({"--hybrid-content", "nan"}, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("--hybrid-content"), std::string::npos);
  }
}

// "Did you mean", as the config keys and the command line's options use it.
TEST(NearestName, SuggestsOnlyANearMisspelling) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
  const std::vector<std::string> options = {"--top-n", "--truth-scores", "--k", "--out"};
  EXPECT_EQ(NearestName("--topn", options), "--top-n");
  EXPECT_EQ(NearestName("--truth-score", options), "--truth-scores");
  EXPECT_EQ(NearestName("--kk", options), "--k");
  EXPECT_EQ(NearestName("--no-such-flag", options), "");  // like none of them
  EXPECT_EQ(NearestName("x", {"y"}), "");                 // one edit is all of a one-letter name
  EXPECT_EQ(NearestName("anything", {}), "");
  // A third of the longer name, or 3 edits, and never half of it.
  EXPECT_TRUE(IsNearMisspelling(3, 6));
  EXPECT_FALSE(IsNearMisspelling(4, 7));
  EXPECT_TRUE(IsNearMisspelling(4, 12));
  EXPECT_FALSE(IsNearMisspelling(5, 12));
}

// What a terminal would act on is escaped; everything else reads as written.
TEST(EscapeControls, EscapesOnlyWhatATerminalActsOn) {
  EXPECT_EQ(EscapeControls("plain 'quoted' C:\\dir 好听 caf\xC3\xA9 \xC2\xA0nbsp"),
            "plain 'quoted' C:\\dir 好听 caf\xC3\xA9 \xC2\xA0nbsp");
  EXPECT_EQ(EscapeControls("a\x1b[2Jb\nc\td\re\x7F"), "a\\x1B[2Jb\\nc\\td\\re\\x7F");
  EXPECT_EQ(EscapeControls(std::string("nul\0here", 8)), "nul\\0here");
  // U+009B (the one-byte CSI) and U+0085 (next line) are C1 controls; U+00A0 is not.
  EXPECT_EQ(EscapeControls("\xC2\x9B"
                           "31m \xC2\x85"),
            "\\xC2\\x9B"
            "31m \\xC2\\x85");
  // Bytes that are not UTF-8: a lone continuation byte, a cut sequence, 0xFF.
  EXPECT_EQ(EscapeControls("\x80 \xE5\xA5 \xFF"), "\\x80 \\xE5\\xA5 \\xFF");
  EXPECT_EQ(EscapeControls(std::string(100000, 'x')).size(), 100000u);  // never cut
  // EscapeForMessage escapes the same bytes, and the quote and backslash.
  EXPECT_EQ(EscapeForMessage("it's \xC2\x9B\\"), "'it\\'s \\xC2\\x9B\\\\'");
  EXPECT_EQ(EscapeForMessage("abcdef", 3), "'abc...'");
}

// A word of a command a message prints pastes into a shell as one word.
TEST(ShellWord, QuotesOnlyWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(ShellWord("/data/reviews_2024.csv"), "/data/reviews_2024.csv");
  EXPECT_EQ(ShellWord("user_id=reviewerID,item_id=asin"), "user_id=reviewerID,item_id=asin");
  EXPECT_EQ(ShellWord("评论/好听.csv"), "评论/好听.csv");
  EXPECT_EQ(ShellWord("my data/gbk file.csv"), "'my data/gbk file.csv'");
  EXPECT_EQ(ShellWord("text=Review Text"), "'text=Review Text'");
  EXPECT_EQ(ShellWord("it's $HOME;`x`*"), "'it'\\''s $HOME;`x`*'");
  EXPECT_EQ(ShellWord("~/w.avrec"), "'~/w.avrec'");
  EXPECT_EQ(ShellWord(""), "''");
}

TEST(CountOf, SingularOnlyForOne) {
  EXPECT_EQ(CountOf(1, "invalid row"), "1 invalid row");
  EXPECT_EQ(CountOf(0, "problem"), "0 problems");
  EXPECT_EQ(CountOf(2, "timestamp"), "2 timestamps");
}

}  // namespace
}  // namespace avrec
