// The model runtime as avrec's code sees it: a TorchScript model run through
// the plugin libavrec_torch.so (runtime_abi.h), loaded on first use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace avrec {

class ModelRuntime {
 public:
  // Loads the plugin (once per process) and the model. Throws Error(kDataErr)
  // naming the file when the model does not load, Error(kSoftware) when the
  // plugin cannot be loaded.
  ModelRuntime(const std::string& torchscript, bool bfloat16);
  ~ModelRuntime();
  ModelRuntime(const ModelRuntime&) = delete;
  ModelRuntime& operator=(const ModelRuntime&) = delete;

  // forward(ids, mask) on rows x cols int64 inputs (row-major). When the
  // output is [rows, out_size / rows] it is written to out (float32,
  // row-major); returns the output's shape either way. Throws
  // Error(kSoftware) when inference fails. Thread-safe.
  std::array<int64_t, 2> Forward(const int64_t* ids, const int64_t* mask, int64_t rows, int64_t cols, float* out,
                                 size_t out_size) const;

  // Makes the calling thread's kernels single-threaded; call on each worker.
  static void PrepareThread();

  // True when the plugin is loaded in this process (start-up tests).
  static bool PluginLoaded();

 private:
  std::string path_;
  void* handle_ = nullptr;
};

}  // namespace avrec
