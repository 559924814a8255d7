// C interface of libavrec_spm.so, the shared library that isolates
// libsentencepiece (and its private protobuf) from libtorch. avrec loads it
// with dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND); see src/tokenize/spm_client.cpp.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Loads a SentencePiece model file. Returns an opaque handle, or NULL with a
// message copied into err (at most err_len bytes, NUL-terminated).
void* avrec_spm_open(const char* model_path, char* err, size_t err_len);

// Encodes UTF-8 text into piece ids. Writes at most `capacity` ids to `ids`
// and returns the total number of ids (call again with a larger buffer when it
// exceeds capacity), or -1 on error.
int64_t avrec_spm_encode(void* handle, const char* text, size_t len, int32_t* ids, size_t capacity);

// Id of a piece (for example "<unk>"), or -1 if the model has no such piece.
int32_t avrec_spm_piece_to_id(void* handle, const char* piece);
int32_t avrec_spm_vocab_size(void* handle);

void avrec_spm_close(void* handle);

#ifdef __cplusplus
}
#endif
