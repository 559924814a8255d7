// TextEncoder: tokenization -> length-sorted, token-budgeted batches -> a
// TorchScript model run by worker threads, each single-threaded inside
// libtorch, so that results do not depend on the number of threads.
#include "avrec/encoder.h"

#include <ATen/Parallel.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <omp.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/parallel.h"
#include "avrec/table.h"

namespace avrec {

Precision ParsePrecision(const std::string& s) {
  if (s == "auto") return Precision::kAuto;
  if (s == "fp32" || s == "float32") return Precision::kFloat32;
  if (s == "bf16" || s == "bfloat16") return Precision::kBFloat16;
  Fail(ExitCode::kUsage, "--precision: expected auto, fp32 or bf16, got '", s, "'");
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kAuto: return "auto";
    case Precision::kFloat32: return "fp32";
    case Precision::kBFloat16: return "bf16";
  }
  return "?";
}

namespace {

bool CpuHasFastBf16() {
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) return true;  // AVX512_BF16
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22))) return true;  // AMX-BF16
  return false;
}

// Keeps BLAS and OpenMP inside libtorch single-threaded: avrec runs one batch
// per worker thread instead.
void SingleThreadedKernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    at::set_num_threads(1);
    using SetThreads = void (*)(int);
    if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
  });
  omp_set_num_threads(1);  // per thread (an OpenMP ICV)
}

}  // namespace

Precision ResolvePrecision(Precision p) {
  if (p != Precision::kAuto) return p;
  return CpuHasFastBf16() ? Precision::kBFloat16 : Precision::kFloat32;
}

LongTextPolicy ParseLongTextPolicy(const std::string& s) {
  if (s == "head-tail") return LongTextPolicy::kHeadTail;
  if (s == "head") return LongTextPolicy::kHead;
  if (s == "split-average") return LongTextPolicy::kSplitAverage;
  Fail(ExitCode::kUsage, "--long-text: expected head-tail, head or split-average, got '", s, "'");
}

const char* LongTextPolicyName(LongTextPolicy p) {
  switch (p) {
    case LongTextPolicy::kHeadTail: return "head-tail";
    case LongTextPolicy::kHead: return "head";
    case LongTextPolicy::kSplitAverage: return "split-average";
  }
  return "?";
}

struct TextEncoder::Impl {
  torch::jit::Module module;
};

TextEncoder::TextEncoder(const ModelManifest& manifest, const EncoderOptions& options)
    : manifest_(manifest), impl_(std::make_unique<Impl>()) {
  precision_ = ResolvePrecision(options.precision);
  if (options.long_text_from_manifest) {
    std::string t = manifest.raw.value("truncation", manifest.task == "sentiment" ? "head+tail" : "head");
    long_text_ = t == "head" ? LongTextPolicy::kHead : LongTextPolicy::kHeadTail;
  } else {
    long_text_ = options.long_text;
  }
  threads_ = ResolveThreads(options.threads);
  max_batch_size_ = std::max(1, options.max_batch_size);
  max_batch_tokens_ = std::max(manifest.max_length, options.max_batch_tokens);
  output_dim_ = manifest.task == "sentiment" ? static_cast<int>(manifest.labels.size()) : manifest.embedding_dim;
  result_key_ = manifest.sha256 + ":" + PrecisionName(precision_) + ":" + LongTextPolicyName(long_text_) + ":" +
                std::to_string(manifest.max_length);

  VerifyModelChecksum(manifest);
  tokenizer_ = MakeTokenizer(manifest.tokenizer);
  SingleThreadedKernels();
  try {
    impl_->module = torch::jit::load(manifest.torchscript);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    Fail(ExitCode::kDataErr, manifest.torchscript, ": cannot load the TorchScript model: ", what.substr(0, 300));
  }
  impl_->module.eval();
  // Weights are stored as float16: convert the floating-point ones (not the
  // integer buffers such as position ids) to the computing precision.
  const auto dtype = precision_ == Precision::kBFloat16 ? torch::kBFloat16 : torch::kFloat32;
  {
    c10::InferenceMode off(false);
    torch::NoGradGuard no_grad;
    for (auto p : impl_->module.parameters(/*recurse=*/true)) {
      if (p.is_floating_point()) p.set_data(p.to(dtype));
    }
    for (auto b : impl_->module.buffers(/*recurse=*/true)) {
      if (b.is_floating_point()) b.set_data(b.to(dtype));
    }
  }
  try {
    impl_->module = torch::jit::freeze(impl_->module);
  } catch (const c10::Error& e) {
    spdlog::debug("model: freezing failed, running unfrozen: {}", e.what_without_backtrace());
  }
  // Check the output shape on a two-token input.
  c10::InferenceMode guard;
  std::vector<int64_t> ids = {tokenizer_->cls_id(), tokenizer_->sep_id()};
  std::vector<int64_t> mask = {1, 1};
  torch::Tensor out;
  try {
    out = impl_->module
              .forward({torch::from_blob(ids.data(), {1, 2}, torch::kInt64),
                        torch::from_blob(mask.data(), {1, 2}, torch::kInt64)})
              .toTensor();
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    Fail(ExitCode::kDataErr, manifest.torchscript, ": the model does not run on (input_ids, attention_mask): ",
         what.substr(0, 300));
  }
  if (out.dim() != 2 || out.size(1) != output_dim_) {
    Fail(ExitCode::kDataErr, manifest.dir, "/avrec-model.json: the model outputs shape ", out.sizes(), ", the manifest ",
         manifest.task == "sentiment" ? "lists " : "says embedding.dim ", output_dim_,
         manifest.task == "sentiment" ? " labels" : "");
  }
  spdlog::debug("model {}: {} precision, {} threads, long texts {}", manifest.name, PrecisionName(precision_),
                threads_, LongTextPolicyName(long_text_));
}

TextEncoder::~TextEncoder() = default;

void TextEncoder::Run(const std::vector<std::string>& texts, std::vector<float>* out, std::vector<EncodeInfo>* info,
                      const std::function<void(int64_t)>& progress) const {
  const size_t n = texts.size();
  const int dim = output_dim_;
  const int window = manifest_.max_length - 2;
  out->assign(n * dim, 0.0f);
  info->assign(n, EncodeInfo{});

  // 1. Tokenize in parallel (each text independently).
  std::vector<std::vector<int32_t>> tokens(n);
  {
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
  }

  // 2. Sequences the model sees: one per text, or several windows.
  struct Seq {
    uint32_t text;
    uint32_t weight;  // tokens this window covers (split-average)
    std::vector<int32_t> ids;
  };
  std::vector<Seq> seqs;
  seqs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if ((*info)[i].empty) continue;
    const auto& t = tokens[i];
    const int len = static_cast<int>(t.size());
    if (len <= window) {
      seqs.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(std::max(1, len)), tokenizer_->WithSpecialTokens(t, 0)});
    } else if (long_text_ == LongTextPolicy::kSplitAverage) {
      int chunks = (len + window - 1) / window;
      (*info)[i].chunks = chunks;
      for (int c = 0; c < chunks; ++c) {
        std::vector<int32_t> part(t.begin() + c * window, t.begin() + std::min(len, (c + 1) * window));
        uint32_t w = static_cast<uint32_t>(part.size());
        seqs.push_back({static_cast<uint32_t>(i), w, tokenizer_->WithSpecialTokens(part, 0)});
      }
    } else {
      (*info)[i].truncated = true;
      std::vector<int32_t> kept;
      if (long_text_ == LongTextPolicy::kHead) {
        kept.assign(t.begin(), t.begin() + window);
      } else {
        int head = window / 4, tail = window - head;
        kept.assign(t.begin(), t.begin() + head);
        kept.insert(kept.end(), t.end() - tail, t.end());
      }
      seqs.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(window), tokenizer_->WithSpecialTokens(kept, 0)});
    }
    tokens[i].clear();
    tokens[i].shrink_to_fit();
  }

  // 3. Batches: sequences sorted by length, each batch padded to its longest,
  // bounded by max_batch_size rows and max_batch_tokens padded tokens.
  std::vector<uint32_t> order(seqs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return seqs[a].ids.size() < seqs[b].ids.size(); });
  std::vector<std::pair<size_t, size_t>> batches;  // [begin, end) in order
  for (size_t b = 0; b < order.size();) {
    size_t e = b + 1;
    while (e < order.size() && static_cast<int>(e - b) < max_batch_size_ &&
           static_cast<int64_t>(e - b + 1) * static_cast<int64_t>(seqs[order[e]].ids.size()) <= max_batch_tokens_) {
      ++e;
    }
    batches.emplace_back(b, e);
    b = e;
  }

  // 4. Run batches on worker threads; the longest first, to balance the load.
  std::vector<float> seq_out(seqs.size() * dim);
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex progress_mu;
  const bool softmax = manifest_.task == "sentiment";
  auto work = [&] {
    SingleThreadedKernels();
    c10::InferenceMode guard;
    std::vector<int64_t> ids, mask;
    try {
      for (size_t k; (k = next.fetch_add(1)) < batches.size();) {
        auto [b, e] = batches[batches.size() - 1 - k];
        const size_t rows = e - b;
        const size_t cols = seqs[order[e - 1]].ids.size();
        ids.assign(rows * cols, tokenizer_->pad_id());
        mask.assign(rows * cols, 0);
        for (size_t r = 0; r < rows; ++r) {
          const auto& s = seqs[order[b + r]].ids;
          std::copy(s.begin(), s.end(), ids.begin() + r * cols);
          std::fill(mask.begin() + r * cols, mask.begin() + r * cols + s.size(), 1);
        }
        torch::Tensor y = impl_->module
                              .forward({torch::from_blob(ids.data(), {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, torch::kInt64),
                                        torch::from_blob(mask.data(), {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, torch::kInt64)})
                              .toTensor()
                              .to(torch::kFloat32)
                              .contiguous();
        const float* p = y.data_ptr<float>();
        for (size_t r = 0; r < rows; ++r) {
          float* dst = &seq_out[static_cast<size_t>(order[b + r]) * dim];
          const float* src = p + r * dim;
          if (softmax) {
            double mx = *std::max_element(src, src + dim), sum = 0;
            for (int j = 0; j < dim; ++j) sum += std::exp(static_cast<double>(src[j]) - mx);
            for (int j = 0; j < dim; ++j) dst[j] = static_cast<float>(std::exp(static_cast<double>(src[j]) - mx) / sum);
          } else {
            std::copy(src, src + dim, dst);
          }
        }
        int64_t d = done.fetch_add(static_cast<int64_t>(rows)) + static_cast<int64_t>(rows);
        if (progress) {
          std::lock_guard<std::mutex> lock(progress_mu);
          progress(d);
        }
      }
    } catch (const c10::Error& ex) {
      throw Error(ExitCode::kSoftware, std::string("model inference failed: ") + ex.what_without_backtrace());
    }
  };
  RunOnThreads(threads_, work);

  // 5. Back to texts: weighted average of windows, in sequence order (fixed).
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
    double scale = (!softmax && (*info)[i].chunks > 1 && norm > 0) ? 1.0 / std::sqrt(norm) : 1.0;
    for (int j = 0; j < dim; ++j) (*out)[i * dim + j] = static_cast<float>(acc[i * dim + j] * scale);
  }
}

}  // namespace avrec
