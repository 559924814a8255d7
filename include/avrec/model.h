// Model directories: the manifest (avrec-model.json) that describes a
// TorchScript model and its tokenizer. Format in docs/models.md.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "avrec/tokenizer.h"

namespace avrec {

// How the model's output becomes avrec's output.
struct ModelManifest {
  std::string dir;  // the model directory
  std::string name;
  std::string task;         // "sentiment" or "embedding"
  std::string torchscript;  // absolute path of the TorchScript file
  std::string sha256;       // expected SHA-256 of that file
  TokenizerSpec tokenizer;
  int max_length = 512;                // tokens, special tokens included
  std::vector<std::string> labels;     // logit order (sentiment)
  std::vector<double> label_scores;    // score of each label in [-1, 1]
  int embedding_dim = 0;               // embedding models: output width
  std::vector<std::string> languages;  // e.g. ["en", "zh"]
  nlohmann::json raw;                  // the whole manifest
};

// Reads DIR/avrec-model.json. Throws Error(kNoInput) if DIR does not exist and
// Error(kDataErr), naming the field, if the manifest is missing or malformed.
// Does not read the TorchScript file (see VerifyModelChecksum).
ModelManifest LoadModelManifest(const std::string& dir);

// Throws Error(kDataErr) when the TorchScript file's SHA-256 differs from the
// manifest's.
void VerifyModelChecksum(const ModelManifest& m);

// The directory of a bundled model ("sentiment" or "embedding"): looked up in
// $AVREC_MODELS, next to the executable (../models, ../share/avrec/models) and
// in the source tree. Throws Error(kNoInput) if none is found.
std::string DefaultModelDir(const std::string& task);

}  // namespace avrec
