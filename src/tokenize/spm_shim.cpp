// The only translation unit that sees libsentencepiece. Built as
// libavrec_spm.so; its C functions never let an exception escape.
#include "tokenize/spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

void CopyError(const std::string& msg, char* err, size_t err_len) {
  if (err == nullptr || err_len == 0) return;
  std::strncpy(err, msg.c_str(), err_len - 1);
  err[err_len - 1] = '\0';
}

}  // namespace

extern "C" {

void* avrec_spm_open(const char* model_path, char* err, size_t err_len) {
  try {
    auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
    auto status = sp->Load(model_path);
    if (!status.ok()) {
      CopyError(status.ToString(), err, err_len);
      return nullptr;
    }
    return sp.release();
  } catch (const std::exception& e) {
    CopyError(e.what(), err, err_len);
    return nullptr;
  }
}

int64_t avrec_spm_encode(void* handle, const char* text, size_t len, int32_t* ids, size_t capacity) {
  try {
    auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
    std::vector<int> out;
    if (!sp->Encode(std::string(text, len), &out).ok()) return -1;
    for (size_t i = 0; i < out.size() && i < capacity; ++i) ids[i] = out[i];
    return static_cast<int64_t>(out.size());
  } catch (...) {
    return -1;
  }
}

int32_t avrec_spm_piece_to_id(void* handle, const char* piece) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
  int id = sp->PieceToId(piece);
  // PieceToId returns the unk id for unknown pieces: check the round trip.
  if (sp->IdToPiece(id) != piece) return -1;
  return id;
}

int32_t avrec_spm_vocab_size(void* handle) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

void avrec_spm_close(void* handle) { delete static_cast<sentencepiece::SentencePieceProcessor*>(handle); }

}  // extern "C"
