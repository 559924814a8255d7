// TextEncoder: tokenization -> length-sorted, token-budgeted batches -> the
// model, run by worker threads each single-threaded inside the runtime, so
// that results do not depend on the number of threads.
#include "avrec/encoder.h"

#include <cpuid.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>

#include "avrec/error.h"
#include "avrec/parallel.h"
#include "avrec/text.h"
#include "common/cluster.h"
#include "model/runtime.h"

namespace avrec {

namespace {

const std::vector<std::pair<std::string, Precision>> kPrecisions = {
    {"auto", Precision::kAuto}, {"fp32", Precision::kFloat32}, {"bf16", Precision::kBFloat16}};
const std::vector<std::pair<std::string, LongTextPolicy>> kLongText = {
    {"model", LongTextPolicy::kModel},
    {"head-tail", LongTextPolicy::kHeadTail},
    {"head", LongTextPolicy::kHead},
    {"split-average", LongTextPolicy::kSplitAverage}};

bool CpuHasFastBf16() {
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) return true;   // AVX512_BF16
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22))) return true;  // AMX-BF16
  return false;
}

template <typename E>
E ParseName(const std::vector<std::pair<std::string, E>>& names, const std::string& option, const std::string& s) {
  for (const auto& [n, v] : names) {
    if (n == s) return v;
  }
  std::vector<std::string> all;
  for (const auto& [n, v] : names) all.push_back(n);
  options_detail::BadChoice(option, s, all);
}

template <typename E>
const char* NameOf(const std::vector<std::pair<std::string, E>>& names, E v) {
  for (const auto& [n, x] : names) {
    if (x == v) return n.c_str();
  }
  return "?";
}

// A probability row from a row of logits (in double, then rounded).
void Softmax(const float* logits, int dim, float* out) {
  const double mx = *std::max_element(logits, logits + dim);
  double sum = 0;
  for (int j = 0; j < dim; ++j) sum += std::exp(static_cast<double>(logits[j]) - mx);
  for (int j = 0; j < dim; ++j) out[j] = static_cast<float>(std::exp(static_cast<double>(logits[j]) - mx) / sum);
}

// Across MPI ranks: every rank sends the outputs of its batches `mine`
// (indices into the longest-first order of `batches`, each a range of
// `order`); rank 0 writes them into `seq_out` (dim floats per sequence).
void GatherOutputs(const std::vector<uint32_t>& order, const std::vector<std::pair<size_t, size_t>>& batches,
                   const std::vector<size_t>& mine, int dim, std::vector<float>* seq_out) {
  std::string message;
  for (size_t m : mine) {
    auto [b, e] = batches[batches.size() - 1 - m];
    for (size_t k = b; k < e; ++k) {
      PackU64(&message, order[k]);
      PackFloats(&message, &(*seq_out)[static_cast<size_t>(order[k]) * dim], static_cast<size_t>(dim));
    }
  }
  const size_t n_seqs = seq_out->size() / static_cast<size_t>(dim);
  const std::vector<std::string> parts = Cluster::Get().Gather(message);
  for (size_t r = 1; r < parts.size(); ++r) {
    Unpacker in(parts[r]);
    while (!in.done()) {
      const uint64_t s = in.U64();
      if (s >= n_seqs) Fail(ExitCode::kSoftware, "MPI: rank ", r, " sent an output for an unknown sequence");
      in.Floats(&(*seq_out)[s * static_cast<size_t>(dim)], static_cast<size_t>(dim));
    }
  }
}

}  // namespace

Precision ParsePrecision(const std::string& s) {
  return ParseName(kPrecisions, "--precision", s == "float32" ? "fp32" : s == "bfloat16" ? "bf16" : s);
}
const char* PrecisionName(Precision p) { return NameOf(kPrecisions, p); }
Precision ResolvePrecision(Precision p) {
  if (p != Precision::kAuto) return p;
  return CpuHasFastBf16() ? Precision::kBFloat16 : Precision::kFloat32;
}

LongTextPolicy ParseLongTextPolicy(const std::string& s) { return ParseName(kLongText, "--long-text", s); }
const char* LongTextPolicyName(LongTextPolicy p) { return NameOf(kLongText, p); }

void EncoderOptions::Describe(OptionSet* set, const std::string& section) {
  const auto key = [&](const char* k) { return section.empty() ? std::string() : section + "." + k; };
  set->AddChoice("--precision", key("precision"), &precision, kPrecisions,
                 "Computing precision: auto (bf16 where the CPU has AVX512-BF16/AMX, else fp32), fp32, bf16",
                 Effect::kResults);
  set->AddNumber("--batch-size", key("batch_size"), &max_batch_size, {1, 1 << 20}, "Most texts per batch");
  set->AddNumber("--max-batch-tokens", key("max_batch_tokens"), &max_batch_tokens, {1, 1 << 24},
                 "Most padded tokens per batch (rows x longest)");
  set->AddChoice("--long-text", key("long_text"), &long_text, kLongText,
                 "Texts longer than the model's maximum: model (the manifest's choice), head-tail, head, split-average",
                 Effect::kResults);
  set->AddNumber("--max-length", key("max_length"), &max_length, {0, 8192},
                 "Tokens per text the model sees, special tokens included (0: the model's max_length)",
                 Effect::kResults);
}

void EncoderOptions::Validate() const {
  ValidateDescribed(*this, "");
  options_detail::CheckRange("--threads", threads, {0, 2147483647});
}

// One sequence the model sees: a whole text, or one window of a long text.
struct TextEncoder::Sequence {
  uint32_t text;
  uint32_t weight;  // tokens this window covers (split-average)
  std::vector<int32_t> ids;
};

TextEncoder::TextEncoder(const ModelManifest& manifest, const EncoderOptions& options, ModelLoad load)
    : manifest_(manifest) {
  options.Validate();
  if (options.max_length > 0) {
    const nlohmann::json* p = FindConfigKey(manifest.raw, "architecture.max_position_embeddings");
    const int positions = p != nullptr && p->is_number_integer() ? p->get<int>() : 512;
    if (options.max_length < 8 || options.max_length > positions) {
      Fail(ExitCode::kUsage, "--max-length: expected 8 to ", positions, " for ", manifest.name, ", got ",
           options.max_length);
    }
    manifest_.max_length = options.max_length;
  }
  precision_ = ResolvePrecision(options.precision);
  long_text_ = options.long_text;
  if (long_text_ == LongTextPolicy::kModel) {
    std::string t = manifest.raw.value("truncation", manifest.task == "sentiment" ? "head+tail" : "head");
    long_text_ = t == "head" ? LongTextPolicy::kHead : LongTextPolicy::kHeadTail;
  }
  threads_ = ResolveThreads(options.threads);
  max_batch_size_ = std::max(1, options.max_batch_size);
  max_batch_tokens_ = std::max(manifest_.max_length, options.max_batch_tokens);
  output_dim_ = manifest.task == "sentiment" ? static_cast<int>(manifest.labels.size()) : manifest.embedding_dim;
  // ":pad8": sequences padded to multiples of 8 tokens (results differ from
  // caches made with the earlier padding to each batch's longest).
  result_key_ = manifest.sha256 + ":" + PrecisionName(precision_) + ":" + LongTextPolicyName(long_text_) + ":" +
                std::to_string(manifest_.max_length) + ":pad8";

  if (load == ModelLoad::kNow) Load();
}

void TextEncoder::Load() const {
  const std::lock_guard<std::mutex> lock(load_mutex_);
  if (runtime_) return;
  VerifyModelChecksum(manifest_);
  tokenizer_ = MakeTokenizer(manifest_.tokenizer);
  runtime_ = std::make_unique<ModelRuntime>(manifest_.torchscript, precision_ == Precision::kBFloat16);
  // Check the output shape on a two-token input.
  const std::vector<int64_t> ids = {tokenizer_->cls_id(), tokenizer_->sep_id()}, mask = {1, 1};
  std::vector<float> probe(static_cast<size_t>(output_dim_));
  auto shape = runtime_->Forward(ids.data(), mask.data(), 1, 2, probe.data(), probe.size());
  if (shape[0] != 1 || shape[1] != output_dim_) {
    Fail(ExitCode::kDataErr, manifest_.dir, "/avrec-model.json: the model outputs shape [", shape[0], ", ", shape[1],
         "], the manifest ", manifest_.task == "sentiment" ? "lists " : "says embedding.dim ", output_dim_,
         manifest_.task == "sentiment" ? " labels" : "");
  }
  spdlog::debug("model {}: {} precision, {} threads, long texts {}", manifest_.name, PrecisionName(precision_),
                threads_, LongTextPolicyName(long_text_));
}

TextEncoder::~TextEncoder() = default;

size_t TextEncoder::PaddedLength(size_t tokens) const {
  const size_t rounded = (tokens + kPadMultiple - 1) / kPadMultiple * kPadMultiple;
  return std::min(rounded, std::max(tokens, static_cast<size_t>(manifest_.max_length)));
}

std::vector<TextEncoder::Sequence> TextEncoder::MakeSequences(const std::vector<std::string>& texts,
                                                              std::vector<EncodeInfo>* info) const {
  const size_t n = texts.size();
  const int window = manifest_.max_length - 2;
  // Tokenize in parallel (each text independently).
  std::vector<std::vector<int32_t>> tokens(n);
  std::atomic<size_t> next{0};
  RunOnThreads(threads_, [&] {
    for (size_t i; (i = next.fetch_add(64)) < n;) {
      for (size_t k = i; k < std::min(n, i + 64); ++k) {
        if (Trim(texts[k]).empty()) {
          (*info)[k].empty = true;
          continue;
        }
        tokenizer_->Encode(texts[k], &tokens[k]);
        (*info)[k].tokens = static_cast<int>(tokens[k].size());
        (*info)[k].empty = tokens[k].empty();  // e.g. only whitespace or control characters
      }
    }
  });
  // One sequence per text, or several windows.
  std::vector<Sequence> seqs;
  seqs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if ((*info)[i].empty) continue;
    const auto& t = tokens[i];
    const int len = static_cast<int>(t.size());
    const auto text = static_cast<uint32_t>(i);
    if (len <= window) {
      seqs.push_back({text, static_cast<uint32_t>(std::max(1, len)), tokenizer_->WithSpecialTokens(t, 0)});
    } else if (long_text_ == LongTextPolicy::kSplitAverage) {
      const int chunks = (len + window - 1) / window;
      (*info)[i].chunks = chunks;
      for (int c = 0; c < chunks; ++c) {
        std::vector<int32_t> part(t.begin() + c * window, t.begin() + std::min(len, (c + 1) * window));
        const auto w = static_cast<uint32_t>(part.size());
        seqs.push_back({text, w, tokenizer_->WithSpecialTokens(part, 0)});
      }
    } else {
      (*info)[i].truncated = true;
      std::vector<int32_t> kept;
      if (long_text_ == LongTextPolicy::kHead) {
        kept.assign(t.begin(), t.begin() + window);
      } else {
        const int head = window / 4, tail = window - head;
        kept.assign(t.begin(), t.begin() + head);
        kept.insert(kept.end(), t.end() - tail, t.end());
      }
      seqs.push_back({text, static_cast<uint32_t>(window), tokenizer_->WithSpecialTokens(kept, 0)});
    }
    tokens[i].clear();
    tokens[i].shrink_to_fit();
  }
  return seqs;
}

TextEncoder::Batches TextEncoder::FormBatches(const std::vector<Sequence>& seqs) const {
  // Sequences sorted by length. Every sequence is padded to its canonical
  // length (PaddedLength), and a batch holds sequences of one canonical
  // length only, at most max_batch_size rows and max_batch_tokens padded
  // tokens: so a text's padding never depends on which texts share its batch
  // (in bf16 its result then does not either; docs/models.md).
  Batches out;
  std::vector<uint32_t>& order = out.order;
  order.resize(seqs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return seqs[a].ids.size() < seqs[b].ids.size(); });
  const auto padded = [&](size_t k) { return PaddedLength(seqs[order[k]].ids.size()); };
  for (size_t b = 0; b < order.size();) {
    size_t e = b + 1;
    while (e < order.size() && static_cast<int>(e - b) < max_batch_size_ && padded(e) == padded(b) &&
           static_cast<int64_t>(e - b + 1) * static_cast<int64_t>(padded(e)) <= max_batch_tokens_) {
      ++e;
    }
    out.ranges.emplace_back(b, e);
    b = e;
  }
  return out;
}

void TextEncoder::RunBatches(const std::vector<Sequence>& seqs, std::vector<float>* seq_out,
                             const std::function<void(int64_t)>& progress, bool across_ranks) const {
  const int dim = output_dim_;
  const Batches formed = FormBatches(seqs);
  const std::vector<uint32_t>& order = formed.order;
  const std::vector<std::pair<size_t, size_t>>& batches = formed.ranges;  // [begin, end) in order
  const auto padded = [&](size_t b) { return PaddedLength(seqs[order[b]].ids.size()); };
  // Worker threads take batches, the longest first, to balance the load.
  // Across MPI ranks, rank r runs the r-th, (r + size)-th, ... of that order
  // (the same batches a single process forms, so the same results), and
  // rank 0 gathers every sequence's output.
  seq_out->assign(seqs.size() * static_cast<size_t>(dim), 0.0f);
  const Cluster& cluster = Cluster::Get();
  const bool split = across_ranks && cluster.distributed();
  std::vector<size_t> mine;  // indices into the longest-first order
  for (size_t k = 0; k < batches.size(); ++k) {
    if (!split || static_cast<int>(k % static_cast<size_t>(cluster.size())) == cluster.rank()) mine.push_back(k);
  }
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex progress_mu;
  const bool softmax = manifest_.task == "sentiment";
  RunOnThreads(threads_, [&] {
    ModelRuntime::PrepareThread();
    std::vector<int64_t> ids, mask;
    std::vector<float> y;
    for (size_t m; (m = next.fetch_add(1)) < mine.size();) {
      auto [b, e] = batches[batches.size() - 1 - mine[m]];
      const size_t rows = e - b;
      const size_t cols = padded(b);
      // A one-row batch runs as two identical rows: the kernels take another
      // path for a single row (rounding differently), and a text's result
      // must not depend on which texts share its batch.
      const size_t run_rows = std::max<size_t>(rows, 2);
      ids.assign(run_rows * cols, tokenizer_->pad_id());
      mask.assign(run_rows * cols, 0);
      for (size_t r = 0; r < run_rows; ++r) {
        const auto& s = seqs[order[b + std::min(r, rows - 1)]].ids;
        std::copy(s.begin(), s.end(), ids.begin() + static_cast<std::ptrdiff_t>(r * cols));
        std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(r * cols), s.size(), 1);
      }
      y.resize(run_rows * static_cast<size_t>(dim));
      const auto shape = runtime_->Forward(ids.data(), mask.data(), static_cast<int64_t>(run_rows),
                                           static_cast<int64_t>(cols), y.data(), y.size());
      if (shape[0] != static_cast<int64_t>(run_rows) || shape[1] != dim) {
        Fail(ExitCode::kSoftware, manifest_.torchscript, ": the model returned shape [", shape[0], ", ", shape[1],
             "] for ", rows, " texts");
      }
      for (size_t r = 0; r < rows; ++r) {
        float* dst = &(*seq_out)[static_cast<size_t>(order[b + r]) * dim];
        const float* src = &y[r * dim];
        if (softmax) {
          Softmax(src, dim, dst);
        } else {
          std::copy(src, src + dim, dst);
        }
      }
      const int64_t d = done.fetch_add(static_cast<int64_t>(rows)) + static_cast<int64_t>(rows);
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mu);
        progress(d);
      }
    }
  });
  if (split) GatherOutputs(order, batches, mine, dim, seq_out);
}

void TextEncoder::Run(const std::vector<std::string>& texts, std::vector<float>* out, std::vector<EncodeInfo>* info,
                      const std::function<void(int64_t)>& progress, bool across_ranks) const {
  Load();
  const size_t n = texts.size();
  const int dim = output_dim_;
  out->assign(n * dim, 0.0f);
  info->assign(n, EncodeInfo{});
  std::vector<Sequence> seqs = MakeSequences(texts, info);
  std::vector<float> seq_out;
  RunBatches(seqs, &seq_out, progress, across_ranks);

  // Back to texts: weighted average of windows, in sequence order (fixed).
  const bool softmax = manifest_.task == "sentiment";
  std::vector<double> acc(n * dim, 0.0), weight(n, 0.0);
  for (size_t s = 0; s < seqs.size(); ++s) {
    const size_t i = seqs[s].text;
    for (int j = 0; j < dim; ++j) acc[i * dim + j] += static_cast<double>(seq_out[s * dim + j]) * seqs[s].weight;
    weight[i] += seqs[s].weight;
  }
  for (size_t i = 0; i < n; ++i) {
    if (weight[i] == 0) continue;
    double norm = 0;
    for (int j = 0; j < dim; ++j) {
      acc[i * dim + j] /= weight[i];
      norm += acc[i * dim + j] * acc[i * dim + j];
    }
    // Embeddings of several windows: renormalise the mean to unit length.
    const double scale = (!softmax && (*info)[i].chunks > 1 && norm > 0) ? 1.0 / std::sqrt(norm) : 1.0;
    for (int j = 0; j < dim; ++j) (*out)[i * dim + j] = static_cast<float>(acc[i * dim + j] * scale);
  }
}

}  // namespace avrec
