// SentencePiece through libavrec_spm.so, loaded with dlopen(RTLD_LOCAL |
// RTLD_DEEPBIND) so that libsentencepiece's private protobuf never meets
// libtorch's (see ../shared/STACK.md, trap 1, and docs/models.md).
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "avrec/error.h"
#include "avrec/tokenizer.h"
#include "common/plugin.h"

namespace avrec {

namespace {

struct SpmApi {
  void* lib = nullptr;
  void* (*open)(const char*, char*, size_t) = nullptr;
  int64_t (*encode)(void*, const char*, size_t, int32_t*, size_t) = nullptr;
  int32_t (*piece_to_id)(void*, const char*) = nullptr;
  int32_t (*vocab_size)(void*) = nullptr;
  void (*close)(void*) = nullptr;
  std::string error;  // why loading failed (open == nullptr)
};

// Loads the shim once per process; the library stays loaded.
const SpmApi& Api() {
  static SpmApi api;
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(AVREC_SANITIZE)
    // AddressSanitizer refuses RTLD_DEEPBIND; without it the two protobuf
    // copies may clash, so sanitizer builds do not load SentencePiece.
    api.error = "SentencePiece is not available in sanitizer builds (RTLD_DEEPBIND is incompatible with ASan)";
    return;
#else
    std::string error;
    api.lib = OpenPlugin("libavrec_spm.so", "AVREC_SPM_LIB", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND, &error);
    if (api.lib != nullptr) {
      api.open = reinterpret_cast<decltype(api.open)>(dlsym(api.lib, "avrec_spm_open"));
      api.encode = reinterpret_cast<decltype(api.encode)>(dlsym(api.lib, "avrec_spm_encode"));
      api.piece_to_id = reinterpret_cast<decltype(api.piece_to_id)>(dlsym(api.lib, "avrec_spm_piece_to_id"));
      api.vocab_size = reinterpret_cast<decltype(api.vocab_size)>(dlsym(api.lib, "avrec_spm_vocab_size"));
      api.close = reinterpret_cast<decltype(api.close)>(dlsym(api.lib, "avrec_spm_close"));
      if (api.open && api.encode && api.piece_to_id && api.vocab_size && api.close) return;
      error = "libavrec_spm.so lacks the avrec_spm_* functions";
    }
    api.open = nullptr;
    api.error = error;
#endif
  });
  return api;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const TokenizerSpec& spec) : spec_(spec) {
    const SpmApi& api = Api();
    if (api.open == nullptr) {
      Fail(ExitCode::kSoftware, "cannot load libavrec_spm.so: ", api.error);
    }
    char err[512] = "";
    handle_ = api.open(spec.file.c_str(), err, sizeof err);
    if (handle_ == nullptr) Fail(ExitCode::kDataErr, spec.file, ": not a SentencePiece model: ", err);
    vocab_size_ = api.vocab_size(handle_);
    cls_id_ = Piece(spec.cls);
    sep_id_ = Piece(spec.sep);
    pad_id_ = Piece(spec.pad);
    unk_id_ = Piece(spec.unk);
  }
  ~SentencePieceTokenizer() override {
    if (handle_ != nullptr) Api().close(handle_);
  }

  void Encode(std::string_view text, std::vector<int32_t>* ids) const override {
    thread_local std::vector<int32_t> buf(1024);
    int64_t n = Api().encode(handle_, text.data(), text.size(), buf.data(), buf.size());
    if (n > static_cast<int64_t>(buf.size())) {
      buf.resize(static_cast<size_t>(n));
      n = Api().encode(handle_, text.data(), text.size(), buf.data(), buf.size());
    }
    if (n < 0) Fail(ExitCode::kSoftware, "SentencePiece failed to encode a text");
    ids->insert(ids->end(), buf.begin(), buf.begin() + n);
  }
  int32_t vocab_size() const override { return vocab_size_; }

 private:
  int32_t Piece(const std::string& piece) const {
    int32_t id = Api().piece_to_id(handle_, piece.c_str());
    if (id < 0) Fail(ExitCode::kDataErr, spec_.file, ": the model has no piece '", piece, "'");
    return id;
  }

  TokenizerSpec spec_;
  void* handle_ = nullptr;
  int32_t vocab_size_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> MakeSentencePieceTokenizer(const TokenizerSpec& spec) {
  return std::make_unique<SentencePieceTokenizer>(spec);
}

}  // namespace avrec
