// Tokenizers: BERT WordPiece (implemented here, id-for-id identical to the
// reference Hugging Face tokenizers) and SentencePiece (libsentencepiece,
// isolated in libavrec_spm.so). The same code path serves `avrec tokenize`
// and the scoring stage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace avrec {

// What a model directory says about its tokenizer (docs/models.md).
struct TokenizerSpec {
  std::string kind;  // "wordpiece" or "sentencepiece"
  std::string file;  // absolute path of vocab.txt or the SentencePiece model
  // WordPiece (BERT) settings, as the reference BertNormalizer names them.
  bool clean_text = true;
  bool chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
  std::string continuing_prefix = "##";
  int max_input_chars_per_word = 100;
  // Special tokens: sequence start and end, padding, unknown. Occurrences of
  // any of `added_tokens` in the raw text are kept whole as that token, as the
  // reference tokenizers do.
  std::string cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", unk = "[UNK]";
  std::vector<std::string> added_tokens;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Appends the token ids of `text` (valid UTF-8; see SanitizeUtf8) to *ids,
  // without the sequence start/end tokens. Thread-safe.
  virtual void Encode(std::string_view text, std::vector<int32_t>* ids) const = 0;

  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  virtual int32_t vocab_size() const = 0;

  // [CLS] ids [SEP], keeping at most max_length ids in all (the head of
  // `ids`, and always [SEP]). max_length <= 0: no limit.
  std::vector<int32_t> WithSpecialTokens(const std::vector<int32_t>& ids, int max_length) const;

 protected:
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

// Builds the tokenizer a model manifest describes. Throws Error(kDataErr) for
// a bad vocabulary or model file, Error(kNoInput) if it is missing.
std::unique_ptr<Tokenizer> MakeTokenizer(const TokenizerSpec& spec);

}  // namespace avrec
