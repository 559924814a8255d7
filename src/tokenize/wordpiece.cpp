// BERT WordPiece tokenization, following the Hugging Face `tokenizers`
// BertNormalizer + BertPreTokenizer + WordPiece pipeline step for step:
//
//   1. added (special) tokens found verbatim in the raw text are kept whole;
//   2. clean: drop U+0000, U+FFFD and control characters (Cc, Cf, Co other
//      than tab, LF, CR); map White_Space characters to a space;
//   3. put spaces around CJK ideographs;
//   4. strip accents: NFD, then drop non-spacing marks (Mn);
//   5. lower-case each character (full Unicode lower-case mapping);
//   6. split on whitespace; every punctuation character (ASCII symbols and
//      Unicode P*) is a word of its own;
//   7. greedy longest-match-first WordPiece with the "##" continuation
//      prefix; a word of more than 100 characters, or one with no
//      decomposition, is [UNK].
//
// Character classes, normalisation and case mapping come from ICU. ASCII text
// takes a fast path through the same rules with table lookups.
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/tokenizer.h"
#include "tokenize/vocab_table.h"

namespace avrec {

std::vector<int32_t> Tokenizer::WithSpecialTokens(const std::vector<int32_t>& ids, int max_length) const {
  size_t keep = ids.size();
  if (max_length > 0) keep = std::min(keep, static_cast<size_t>(std::max(0, max_length - 2)));
  std::vector<int32_t> out;
  out.reserve(keep + 2);
  out.push_back(cls_id_);
  out.insert(out.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep));
  out.push_back(sep_id_);
  return out;
}

namespace {

// ---- character classes --------------------------------------------------------

bool IsCjk(uint32_t c) {
  // The ranges of tokenizers' BertNormalizer (note 0x2B920, not 0x2B820).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool IsControl(uint32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  int8_t t = u_charType(static_cast<UChar32>(c));
  return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_PRIVATE_USE_CHAR;
}

bool IsWhitespace(uint32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool IsAsciiPunct(uint32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

bool IsPunct(uint32_t c) {
  if (c < 0x80) return IsAsciiPunct(c);
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

// ASCII classes for the fast path: 0 drop, 1 space, 2 punctuation, 3 letter/digit.
struct AsciiTable {
  std::array<uint8_t, 128> cls{};
  std::array<char, 128> lower{};
  AsciiTable() {
    for (int c = 0; c < 128; ++c) {
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
        cls[c] = 1;
      else if (c < 32 || c == 127)
        cls[c] = 0;  // NUL and controls (incl. VT, FF) are dropped
      else if (IsAsciiPunct(static_cast<uint32_t>(c)))
        cls[c] = 2;
      else
        cls[c] = 3;
    }
  }
};
const AsciiTable kAscii;

// Decodes well-formed UTF-8 (the caller sanitises); an ill-formed byte
// decodes as U+FFFD, which cleaning drops.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (c >= 0x80 && (c < 0xC2 || c > 0xF4 || i + n > s.size())) {
    *cp = 0xFFFD;
    return 1;
  }
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (d & 0x3F);
  }
  *cp = v;
  return n;
}

// ---- the normaliser's steps on code points ------------------------------------

// Steps 2 and 3: decodes `text` into `cps`, cleaned when `clean` and with
// spaces around CJK ideographs when `space_cjk`. True when a character
// other than an ASCII one or a spaced ideograph is left (step 4 has work).
bool CleanAndSpaceCjk(std::string_view text, bool clean, bool space_cjk, std::vector<uint32_t>* cps) {
  cps->clear();
  bool non_ascii = false;
  for (size_t i = 0; i < text.size();) {
    uint32_t c;
    i += DecodeUtf8(text, i, &c);
    if (clean) {
      if (c == 0 || c == 0xFFFD || IsControl(c)) continue;
      if (IsWhitespace(c)) c = ' ';
    }
    if (space_cjk && IsCjk(c)) {
      cps->push_back(' ');
      cps->push_back(c);
      cps->push_back(' ');
      continue;
    }
    non_ascii |= c >= 0x80;
    cps->push_back(c);
  }
  return non_ascii;
}

// Step 4: NFD, then drops non-spacing marks. `scratch` is working space.
void StripAccents(const UNormalizer2* nfd, std::vector<uint32_t>* cps, std::vector<uint32_t>* scratch) {
  thread_local std::vector<UChar> u16, u16n;
  u16.clear();
  for (uint32_t c : *cps) {
    if (c < 0x10000) {
      u16.push_back(static_cast<UChar>(c));
    } else {
      u16.push_back(U16_LEAD(c));
      u16.push_back(U16_TRAIL(c));
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  int32_t span = unorm2_spanQuickCheckYes(nfd, u16.data(), static_cast<int32_t>(u16.size()), &status);
  const UChar* src = u16.data();
  int32_t len = static_cast<int32_t>(u16.size());
  if (span < len) {
    u16n.resize(u16.size() * 4 + 16);
    status = U_ZERO_ERROR;
    len = unorm2_normalize(nfd, u16.data(), static_cast<int32_t>(u16.size()), u16n.data(),
                           static_cast<int32_t>(u16n.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      u16n.resize(static_cast<size_t>(len));
      status = U_ZERO_ERROR;
      len = unorm2_normalize(nfd, u16.data(), static_cast<int32_t>(u16.size()), u16n.data(), len, &status);
    }
    AVREC_CHECK(U_SUCCESS(status), "ICU NFD: ", u_errorName(status));
    src = u16n.data();
  }
  scratch->clear();
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U16_NEXT(src, i, len, c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    scratch->push_back(static_cast<uint32_t>(c));
  }
  cps->swap(*scratch);
}

// Step 5: lower-cases one character at a time (full mapping, no context).
// `scratch` is working space.
void LowerCase(std::vector<uint32_t>* cps, std::vector<uint32_t>* scratch) {
  scratch->clear();
  for (uint32_t c : *cps) {
    if (c < 0x80) {
      scratch->push_back(static_cast<uint32_t>(kAscii.lower[c]));
    } else if (!u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CHANGES_WHEN_LOWERCASED)) {
      scratch->push_back(c);
    } else {
      UChar in[2], out[8];
      int32_t n = 0;
      U16_APPEND_UNSAFE(in, n, c);
      UErrorCode status = U_ZERO_ERROR;
      int32_t m = u_strToLower(out, 8, in, n, "", &status);
      if (U_FAILURE(status)) {
        scratch->push_back(c);
        continue;
      }
      for (int32_t i = 0; i < m;) {
        UChar32 lc;
        U16_NEXT(out, i, m, lc);
        scratch->push_back(static_cast<uint32_t>(lc));
      }
    }
  }
  cps->swap(*scratch);
}

class WordPieceTokenizer final : public Tokenizer {
 public:
  explicit WordPieceTokenizer(const TokenizerSpec& spec);
  void Encode(std::string_view text, std::vector<int32_t>* ids) const override;
  int32_t vocab_size() const override { return vocab_size_; }

 private:
  void EncodeSegment(std::string_view text, std::vector<int32_t>* ids) const;
  void EncodeAscii(std::string_view text, std::vector<int32_t>* ids) const;
  void EncodeUnicode(std::string_view text, std::vector<int32_t>* ids) const;
  // WordPiece on one word: UTF-8 bytes, with the byte offset of each of its
  // `nchars` characters in `offsets` (plus the end).
  void WordPiece(std::string_view word, const uint32_t* offsets, size_t nchars, std::vector<int32_t>* ids) const;
  int32_t IdOf(const std::string& token) const;

  TokenizerSpec spec_;
  VocabTable whole_, suffix_;  // suffix_: "##" tokens without the prefix
  int32_t vocab_size_ = 0;
  std::vector<std::pair<std::string, int32_t>> added_;  // longest first
  std::array<bool, 256> added_first_{};
  const UNormalizer2* nfd_ = nullptr;
};

WordPieceTokenizer::WordPieceTokenizer(const TokenizerSpec& spec) : spec_(spec) {
  std::string bytes = ReadFileToString(spec.file);
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    tokens.emplace_back(bytes, start, end - start);
    start = end + 1;
  }
  if (tokens.empty()) Fail(ExitCode::kDataErr, spec.file, ": empty vocabulary");
  const std::string& prefix = spec.continuing_prefix;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsValidUtf8(tokens[i])) Fail(ExitCode::kDataErr, spec.file, ":", i + 1, ": token is not valid UTF-8");
    // A later duplicate wins, as in the reference vocabulary loader.
    whole_.Put(tokens[i], static_cast<int32_t>(i));
    if (tokens[i].size() > prefix.size() && tokens[i].compare(0, prefix.size(), prefix) == 0) {
      suffix_.Put(std::string_view(tokens[i]).substr(prefix.size()), static_cast<int32_t>(i));
    }
  }
  vocab_size_ = static_cast<int32_t>(tokens.size());
  cls_id_ = IdOf(spec.cls);
  sep_id_ = IdOf(spec.sep);
  pad_id_ = IdOf(spec.pad);
  unk_id_ = IdOf(spec.unk);
  for (const auto& t : spec.added_tokens) {
    if (t.empty()) continue;
    added_.emplace_back(t, IdOf(t));
    added_first_[static_cast<unsigned char>(t[0])] = true;
  }
  std::stable_sort(added_.begin(), added_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  UErrorCode status = U_ZERO_ERROR;
  nfd_ = unorm2_getNFDInstance(&status);
  AVREC_CHECK(U_SUCCESS(status), "ICU NFD: ", u_errorName(status));
}

int32_t WordPieceTokenizer::IdOf(const std::string& token) const {
  int32_t id = whole_.Find(token);
  if (id < 0) Fail(ExitCode::kDataErr, spec_.file, ": the vocabulary lacks the special token '", token, "'");
  return id;
}

void WordPieceTokenizer::Encode(std::string_view text, std::vector<int32_t>* ids) const {
  if (added_.empty()) {
    EncodeSegment(text, ids);
    return;
  }
  size_t seg = 0, pos = 0;
  while (pos < text.size()) {
    if (added_first_[static_cast<unsigned char>(text[pos])]) {
      bool matched = false;
      for (const auto& [tok, id] : added_) {
        if (text.compare(pos, tok.size(), tok) == 0) {
          EncodeSegment(text.substr(seg, pos - seg), ids);
          ids->push_back(id);
          pos += tok.size();
          seg = pos;
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    ++pos;
  }
  EncodeSegment(text.substr(seg), ids);
}

void WordPieceTokenizer::EncodeSegment(std::string_view text, std::vector<int32_t>* ids) const {
  if (text.empty()) return;
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    EncodeAscii(text, ids);
  } else {
    EncodeUnicode(text, ids);
  }
}

void WordPieceTokenizer::EncodeAscii(std::string_view text, std::vector<int32_t>* ids) const {
  thread_local std::string word;
  thread_local std::vector<uint32_t> offsets;
  word.clear();
  const auto flush = [&] {
    if (word.empty()) return;
    offsets.resize(word.size() + 1);
    for (size_t i = 0; i <= word.size(); ++i) offsets[i] = static_cast<uint32_t>(i);
    WordPiece(word, offsets.data(), word.size(), ids);
    word.clear();
  };
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (kAscii.cls[c]) {
      case 0:
        if (!spec_.clean_text && c != 0) word.push_back(spec_.lowercase ? kAscii.lower[c] : ch);
        break;
      case 1:
        flush();
        break;
      case 2:
        flush();
        word.push_back(ch);
        flush();
        break;
      default:
        word.push_back(spec_.lowercase ? kAscii.lower[c] : ch);
    }
  }
  flush();
}

void WordPieceTokenizer::EncodeUnicode(std::string_view text, std::vector<int32_t>* ids) const {
  thread_local std::vector<uint32_t> cps, scratch;
  const bool non_ascii = CleanAndSpaceCjk(text, spec_.clean_text, spec_.chinese_chars, &cps);
  if (spec_.strip_accents && non_ascii) StripAccents(nfd_, &cps, &scratch);
  if (spec_.lowercase) LowerCase(&cps, &scratch);
  // Step 6: split on whitespace and punctuation, then step 7 per word.
  thread_local std::string word;
  thread_local std::vector<uint32_t> offsets;
  word.clear();
  offsets.clear();
  const auto flush = [&] {
    if (word.empty()) return;
    offsets.push_back(static_cast<uint32_t>(word.size()));
    WordPiece(word, offsets.data(), offsets.size() - 1, ids);
    word.clear();
    offsets.clear();
  };
  for (uint32_t c : cps) {
    if (c == ' ' || IsWhitespace(c)) {
      flush();
    } else if (IsPunct(c)) {
      flush();
      offsets.push_back(0);
      AppendUtf8(c, &word);
      flush();
    } else {
      offsets.push_back(static_cast<uint32_t>(word.size()));
      AppendUtf8(c, &word);
    }
  }
  flush();
}

void WordPieceTokenizer::WordPiece(std::string_view word, const uint32_t* offsets, size_t nchars,
                                   std::vector<int32_t>* ids) const {
  if (nchars > static_cast<size_t>(spec_.max_input_chars_per_word)) {
    ids->push_back(unk_id_);
    return;
  }
  const size_t mark = ids->size();
  size_t start = 0;
  while (start < nchars) {
    const VocabTable& table = start == 0 ? whole_ : suffix_;
    int32_t found = -1;
    size_t end = nchars;
    // Skip candidates longer than the longest token in the table.
    while (end > start && offsets[end] - offsets[start] > table.max_key_bytes()) --end;
    for (; end > start; --end) {
      found = table.Find(word.substr(offsets[start], offsets[end] - offsets[start]));
      if (found >= 0) break;
    }
    if (found < 0) {
      ids->resize(mark);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(found);
    start = end;
  }
}

}  // namespace

std::unique_ptr<Tokenizer> MakeSentencePieceTokenizer(const TokenizerSpec& spec);  // spm_client.cpp

std::unique_ptr<Tokenizer> MakeTokenizer(const TokenizerSpec& spec) {
  if (spec.kind == "wordpiece") return std::make_unique<WordPieceTokenizer>(spec);
  if (spec.kind == "sentencepiece") return MakeSentencePieceTokenizer(spec);
  Fail(ExitCode::kDataErr, "unknown tokenizer kind '", spec.kind, "'");
}

}  // namespace avrec
