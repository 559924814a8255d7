// The C interface between avrec and its model-runtime plugin,
// libavrec_torch.so (src/model/torch_runtime.cpp), which alone links
// libtorch: stages that run no model never load it, so they start in
// milliseconds. Plain C types only, and errors as text, so no C++ exception
// or type crosses the library boundary.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {

enum { kAvrecRuntimeAbiVersion = 1 };

struct AvrecRuntimeApi {
  int abi_version;  // kAvrecRuntimeAbiVersion
  // Loads a TorchScript file and converts its floating-point weights to the
  // computing precision (0: float32, 1: bfloat16). Returns a handle, or null
  // with a message in err.
  void* (*open)(const char* path, int precision, char* err, size_t err_size);
  // Runs forward(input_ids, attention_mask) on rows x cols int64 inputs
  // (row-major). The output's shape goes to out_shape[2]; when it is
  // [rows, out_capacity / rows] the values are copied to out as float32,
  // row-major. Returns 0, or -1 with a message in err. Thread-safe.
  int (*forward)(void* handle, const int64_t* ids, const int64_t* mask, int64_t rows, int64_t cols, float* out,
                 size_t out_capacity, int64_t out_shape[2], char* err, size_t err_size);
  // Makes the calling thread's kernels single-threaded (avrec runs one batch
  // per worker thread instead). Call on each worker thread.
  void (*prepare_thread)(void);
  void (*close)(void* handle);
};

// The one exported symbol of the plugin.
const AvrecRuntimeApi* avrec_runtime_api(void);
typedef const AvrecRuntimeApi* (*AvrecRuntimeApiFn)(void);
}
