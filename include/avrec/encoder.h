// Running a text model (a classifier or a sentence encoder exported to
// TorchScript) over many texts: tokenization, length-sorted batches under a
// token budget, worker threads, long-text policy. Used by sentiment scoring,
// `avrec embed` and the item text features.
//
// The model itself runs in the plugin libavrec_torch.so (the only part of
// avrec that links libtorch), loaded on the first TextEncoder.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "avrec/model.h"
#include "avrec/options.h"
#include "avrec/tokenizer.h"

namespace avrec {

enum class Precision { kAuto, kFloat32, kBFloat16 };
Precision ParsePrecision(const std::string& s);  // "auto", "fp32", "bf16"; Error(kUsage) otherwise
const char* PrecisionName(Precision p);
// What kAuto means on this CPU: bf16 when it has AVX512-BF16 or AMX, else fp32.
Precision ResolvePrecision(Precision p);

enum class LongTextPolicy {
  kModel,        // the manifest's "truncation" (head-tail for sentiment, head for embeddings)
  kHeadTail,     // first quarter and last three quarters of the token budget
  kHead,         // the beginning
  kSplitAverage  // windows of max_length - 2 tokens, averaged by length
};
LongTextPolicy ParseLongTextPolicy(const std::string& s);  // "model", "head-tail", "head", "split-average"
const char* LongTextPolicyName(LongTextPolicy p);

struct EncoderOptions {
  Precision precision = Precision::kAuto;
  int threads = 0;              // worker threads; 0: all cores (clamped, see ResolveThreads)
  int max_batch_size = 64;      // texts per batch
  int max_batch_tokens = 1024;  // padded tokens per batch (rows x longest); small batches stay in cache
  LongTextPolicy long_text = LongTextPolicy::kModel;
  int max_length = 0;  // tokens per sequence, special tokens included; 0: the manifest's

  // Declares the options under config section `section` ("score"; "" for
  // command line only). Precision and long-text policy change results;
  // batch sizes never do. `threads` is the caller's to declare.
  void Describe(OptionSet* set, const std::string& section);
  void Validate() const;
};

// What happened to one text.
struct EncodeInfo {
  bool empty = false;      // blank text: not run through the model
  bool truncated = false;  // longer than max_length: head-tail or head kept
  int chunks = 1;          // split-average: number of windows averaged
  int tokens = 0;          // tokens of the text, special tokens excluded
};

class ModelRuntime;

// A loaded model. Thread-safe for concurrent Run calls.
// When TextEncoder loads its model: at construction, or at the first Run()
// (a caller whose texts may all be cached then never pays for libtorch).
enum class ModelLoad { kNow, kOnFirstRun };

class TextEncoder {
 public:
  // Loads and checks the model (manifest, checksum, TorchScript, output
  // shape), now or at the first Run(). Throws Error(kDataErr) for a bad model
  // directory, Error(kSoftware) when the runtime plugin cannot be loaded.
  TextEncoder(const ModelManifest& manifest, const EncoderOptions& options, ModelLoad load = ModelLoad::kNow);
  ~TextEncoder();

  // Runs the model on `texts` (valid UTF-8). For each text i, writes
  // output_dim() floats at (*out)[i * output_dim()]: softmax probabilities in
  // label order for a classifier, the unit-length embedding for an encoder.
  // Blank texts get zeros (the caller decides what they mean). Results do not
  // depend on the thread count. `progress` (may be empty) is called with the
  // number of texts finished so far.
  // `across_ranks` (a run under mpirun): every rank calls Run with the same
  // texts, runs its share of the batches, and only rank 0's `out` is filled
  // (the same bytes as one process).
  void Run(const std::vector<std::string>& texts, std::vector<float>* out, std::vector<EncodeInfo>* info,
           const std::function<void(int64_t)>& progress = {}, bool across_ranks = false) const;

  int output_dim() const { return output_dim_; }
  const ModelManifest& manifest() const { return manifest_; }
  Precision precision() const { return precision_; }
  LongTextPolicy long_text() const { return long_text_; }
  int threads() const { return threads_; }
  // Identifies model + settings that change results (cache key).
  const std::string& result_key() const { return result_key_; }

 private:
  struct Sequence;
  static constexpr size_t kPadMultiple = 8;
  // A sequence of `tokens` ids runs padded to this: the next multiple of 8,
  // at most max_length.
  size_t PaddedLength(size_t tokens) const;
  std::vector<Sequence> MakeSequences(const std::vector<std::string>& texts, std::vector<EncodeInfo>* info) const;
  // Batches of sequences: `order` sorts them by length, each range is
  // [begin, end) in that order.
  struct Batches {
    std::vector<uint32_t> order;
    std::vector<std::pair<size_t, size_t>> ranges;
  };
  Batches FormBatches(const std::vector<Sequence>& seqs) const;
  void RunBatches(const std::vector<Sequence>& seqs, std::vector<float>* seq_out,
                  const std::function<void(int64_t)>& progress, bool across_ranks) const;

  ModelManifest manifest_;
  Precision precision_;
  LongTextPolicy long_text_;
  int threads_;
  int max_batch_size_, max_batch_tokens_;
  int output_dim_ = 0;
  std::string result_key_;
  // Loaded by Load() (from the constructor or the first Run(); concurrent
  // first Runs load once, under load_mutex_).
  void Load() const;
  mutable std::mutex load_mutex_;
  mutable std::unique_ptr<Tokenizer> tokenizer_;
  mutable std::unique_ptr<ModelRuntime> runtime_;
};

}  // namespace avrec
