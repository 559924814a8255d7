// libFuzzer target: arbitrary bytes into the WordPiece tokenizer, raw and
// after UTF-8 sanitising (the path `avrec tokenize` and `avrec score` take).
// Build and run with tools/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "avrec/io.h"
#include "avrec/model.h"
#include "avrec/tokenizer.h"

namespace {

const avrec::Tokenizer& Tok() {
  static std::unique_ptr<avrec::Tokenizer> tok = [] {
    avrec::ModelManifest m = avrec::LoadModelManifest(std::string(AVREC_SOURCE_DIR) + "/models/all-minilm-l6-v2");
    return avrec::MakeTokenizer(m.tokenizer);
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const avrec::Tokenizer& tok = Tok();
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  tok.Encode(raw, &ids);  // unsanitised bytes must not crash either
  std::string clean = avrec::SanitizeUtf8(raw);
  if (!avrec::IsValidUtf8(clean)) std::abort();
  ids.clear();
  tok.Encode(clean, &ids);
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.vocab_size()) std::abort();
  }
  auto full = tok.WithSpecialTokens(ids, 512);
  if (full.size() > 512 || full.front() != tok.cls_id() || full.back() != tok.sep_id()) std::abort();
  return 0;
}
