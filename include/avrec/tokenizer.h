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

#include "avrec/model.h"

namespace avrec {

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
