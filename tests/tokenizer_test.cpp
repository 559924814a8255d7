// Tokenizers against golden files made by the reference tokenizer
// (tools/make_tokenizer_golden.py), not against themselves.
#include "avrec/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/model.h"
#include "test_util.h"

namespace avrec {
namespace {

std::string Show(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 40; ++i) s += std::to_string(v[i]) + " ";
  if (v.size() > 40) s += "... (" + std::to_string(v.size()) + " ids)";
  return s;
}

void CheckGolden(const std::string& model_dir, const std::string& golden) {
  ModelManifest m = LoadModelManifest(model_dir);
  auto tok = MakeTokenizer(m.tokenizer);
  std::ifstream in(golden);
  ASSERT_TRUE(in) << golden;
  std::string line;
  int n = 0, bad = 0;
  std::vector<int32_t> ids;
  while (std::getline(in, line)) {
    ++n;
    auto j = nlohmann::json::parse(line);
    std::string text;
    if (j.contains("gen")) {
      for (int k = 0; k < j["gen"]["times"].get<int>(); ++k) text += j["gen"]["repeat"].get<std::string>();
    } else {
      text = j["text"].get<std::string>();
    }
    ids.clear();
    tok->Encode(text, &ids);
    auto got = tok->WithSpecialTokens(ids, j["max_len"].get<int>());
    auto want = j["ids"].get<std::vector<int32_t>>();
    if (got != want) {
      ++bad;
      ADD_FAILURE() << golden << ":" << n << ": " << line.substr(0, 120) << "\n  want " << Show(want) << "\n  got  "
                    << Show(got);
    }
  }
  EXPECT_GT(n, 100);
  EXPECT_EQ(bad, 0);
}

TEST(WordPiece, MatchesReferenceGoldenMiniLM) {
  CheckGolden(test::SourcePath("models/all-minilm-l6-v2"),
              test::SourcePath("tests/data/tokenizer/minilm.golden.jsonl"));
}

TEST(WordPiece, SpecialTokensAndTruncation) {
  ModelManifest m = LoadModelManifest(test::SourcePath("models/all-minilm-l6-v2"));
  auto tok = MakeTokenizer(m.tokenizer);
  EXPECT_EQ(tok->cls_id(), 101);
  EXPECT_EQ(tok->sep_id(), 102);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->unk_id(), 100);
  std::vector<int32_t> ids = {5, 6, 7, 8};
  EXPECT_EQ(tok->WithSpecialTokens(ids, 0), (std::vector<int32_t>{101, 5, 6, 7, 8, 102}));
  EXPECT_EQ(tok->WithSpecialTokens(ids, 4), (std::vector<int32_t>{101, 5, 6, 102}));
  EXPECT_EQ(tok->WithSpecialTokens(ids, 2), (std::vector<int32_t>{101, 102}));
}

TEST(WordPiece, InvalidUtf8IsReplacedThenDropped) {
  ModelManifest m = LoadModelManifest(test::SourcePath("models/all-minilm-l6-v2"));
  auto tok = MakeTokenizer(m.tokenizer);
  std::vector<int32_t> a, b;
  tok->Encode(SanitizeUtf8("good\xff song \xe4\xb8"), &a);
  tok->Encode("good song ", &b);
  EXPECT_EQ(a, b);
  // Even unsanitised bytes never crash.
  std::vector<int32_t> c;
  tok->Encode(std::string("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80 ok", 13), &c);
  EXPECT_FALSE(c.empty());
}

TEST(ModelManifest, RefusesBadDirectories) {
  test::TempDir dir;
  const auto code_of = [](const std::string& d) {
    try {
      LoadModelManifest(d);
    } catch (const Error& e) {
      return static_cast<int>(e.code());
    }
    return 0;
  };
  EXPECT_EQ(code_of(dir / "nope"), 66);
  EXPECT_EQ(code_of(dir.path()), 65);  // no manifest
  test::WriteFile(dir / "avrec-model.json", "{ not json");
  EXPECT_EQ(code_of(dir.path()), 65);
  test::WriteFile(dir / "avrec-model.json", R"({"format": "avrec-model/1", "name": "x", "task": "sentiment"})");
  try {
    LoadModelManifest(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 'torchscript'"), std::string::npos) << e.what();
  }
}

TEST(Cli, TokenizeReportsInvalidUtf8AndGoesOn) {
  std::string input = "hello world\nbad \xff byte\n\nlast line\n";
  auto r = test::RunAvrec({"tokenize", "--model", test::SourcePath("models/all-minilm-l6-v2")}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "101 7592 2088 102\n101 2919 24880 102\n101 102\n101 2197 2240 102\n");
  EXPECT_NE(r.err.find("-:2: invalid UTF-8"), std::string::npos) << r.err;
  // --max-length as score and embed spell it; --max-len, the old name, still works.
  for (const char* flag : {"--max-length", "--max-len"}) {
    r = test::RunAvrec({"tokenize", "--model", test::SourcePath("models/all-minilm-l6-v2"), flag, "3"},
                       "hello world\n");
    EXPECT_EQ(r.out, "101 7592 102\n") << flag;
  }
}

// Input that never ends a line (a binary file, /dev/zero) is bounded like
// every reader's: a line over --max-record-bytes is a data error naming it.
TEST(Cli, TokenizeBoundsTheLengthOfALine) {
  const std::string model = test::SourcePath("models/all-minilm-l6-v2");
  const std::string long_line = "hello\n" + std::string(5000, 'a') + "\nworld\n";
  auto r = test::RunAvrec({"tokenize", "--model", model, "--max-record-bytes", "4096"}, long_line);
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("-:2: record longer than 4096 bytes"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("2088"), std::string::npos) << "nothing after the long line: " << r.out;
  r = test::RunAvrec({"tokenize", "--model", model, "--max-record-bytes", "8192"}, long_line);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 15), "101 7592 102\n10") << r.out;
  // A byte-order mark and CRLF line ends are read as the table readers read them.
  r = test::RunAvrec({"tokenize", "--model", model}, "\xEF\xBB\xBFhello world\r\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "101 7592 2088 102\n");
}

}  // namespace
}  // namespace avrec

#include "avrec/encoder.h"

namespace avrec {
namespace {

TEST(SentencePiece, MatchesSpmEncodeInTheProcessThatRunsLibtorch) {
#if defined(AVREC_SANITIZE)
  GTEST_SKIP() << "sanitizer build: AddressSanitizer refuses dlopen(RTLD_DEEPBIND), which isolates "
                  "libsentencepiece's protobuf from libtorch's (docs/models.md)";
#else
  // libtorch first: load and run a TorchScript model in this process.
  ModelManifest tiny = LoadModelManifest(test::SourcePath("tests/data/tiny-sentiment"));
  EncoderOptions eo;
  eo.threads = 1;
  TextEncoder encoder(tiny, eo);
  std::vector<float> out;
  std::vector<EncodeInfo> info;
  encoder.Run({"libtorch runs here", "and here"}, &out, &info);
  ASSERT_EQ(out.size(), 4u);
  // Then SentencePiece, against ids from spm_encode --extra_options=bos:eos.
  ModelManifest m = LoadModelManifest(test::SourcePath("tests/data/spm-tiny"));
  auto tok = MakeTokenizer(m.tokenizer);
  std::ifstream in(test::SourcePath("tests/data/spm-tiny/spm.golden.jsonl"));
  std::string line;
  int n = 0;
  std::vector<int32_t> ids;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    ids.clear();
    tok->Encode(j["text"].get<std::string>(), &ids);
    EXPECT_EQ(tok->WithSpecialTokens(ids, 0), j["ids"].get<std::vector<int32_t>>()) << line.substr(0, 100);
    ++n;
  }
  EXPECT_GT(n, 300);
#endif
}

TEST(SentencePiece, ScoreRunsWithASentencePieceModel) {
#if defined(AVREC_SANITIZE)
  GTEST_SKIP() << "sanitizer build: no SentencePiece (see above)";
#else
  test::TempDir dir;
  auto r = test::RunAvrec({"score", "--model", test::SourcePath("tests/data/spm-tiny"), "--reviews",
                           test::SourcePath("data/sample/reviews.csv"), "--out", dir / "o.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scored by spm-tiny"), std::string::npos) << r.err;
#endif
}

}  // namespace
}  // namespace avrec
