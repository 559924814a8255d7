// libavrec_torch.so: TorchScript inference through libtorch behind the C
// interface of runtime_abi.h. Built as its own module; nothing else in avrec
// includes a libtorch header.
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <omp.h>
#include <torch/script.h>

#include <cstring>
#include <mutex>
#include <string>

#include "model/runtime_abi.h"

namespace {

struct Runtime {
  torch::jit::Module module;
};

void SetError(char* err, size_t size, const std::string& msg) {
  if (err == nullptr || size == 0) return;
  std::strncpy(err, msg.c_str(), size - 1);
  err[size - 1] = '\0';
}

std::string Short(const c10::Error& e) { return std::string(e.what_without_backtrace()).substr(0, 300); }

void PrepareThread() {
  static std::once_flag once;
  std::call_once(once, [] {
    at::set_num_threads(1);
    using SetThreads = void (*)(int);
    if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
  });
  omp_set_num_threads(1);  // per thread (an OpenMP ICV)
}

void* Open(const char* path, int precision, char* err, size_t err_size) {
  try {
    PrepareThread();
    auto rt = std::make_unique<Runtime>();
    rt->module = torch::jit::load(path);
    rt->module.eval();
    // Weights are stored as float16: convert the floating-point ones (not the
    // integer buffers such as position ids) to the computing precision.
    const auto dtype = precision == 1 ? torch::kBFloat16 : torch::kFloat32;
    {
      c10::InferenceMode off(false);
      torch::NoGradGuard no_grad;
      for (auto p : rt->module.parameters(/*recurse=*/true)) {
        if (p.is_floating_point()) p.set_data(p.to(dtype));
      }
      for (auto b : rt->module.buffers(/*recurse=*/true)) {
        if (b.is_floating_point()) b.set_data(b.to(dtype));
      }
    }
    try {
      rt->module = torch::jit::freeze(rt->module);
    } catch (const c10::Error&) {
      // Not every module freezes; it runs unfrozen then, with the same results.
    }
    return rt.release();
  } catch (const c10::Error& e) {
    SetError(err, err_size, "cannot load the TorchScript model: " + Short(e));
  } catch (const std::exception& e) {
    SetError(err, err_size, std::string("cannot load the TorchScript model: ") + e.what());
  }
  return nullptr;
}

int Forward(void* handle, const int64_t* ids, const int64_t* mask, int64_t rows, int64_t cols, float* out,
            size_t out_capacity, int64_t out_shape[2], char* err, size_t err_size) {
  auto* rt = static_cast<Runtime*>(handle);
  try {
    c10::InferenceMode guard;
    // from_blob does not copy and never writes: the inputs stay const.
    auto in_ids = torch::from_blob(const_cast<int64_t*>(ids), {rows, cols}, torch::kInt64);
    auto in_mask = torch::from_blob(const_cast<int64_t*>(mask), {rows, cols}, torch::kInt64);
    torch::Tensor y = rt->module.forward({in_ids, in_mask}).toTensor();
    out_shape[0] = y.dim() >= 1 ? y.size(0) : 0;
    out_shape[1] = y.dim() >= 2 ? y.size(1) : 0;
    if (y.dim() != 2 || y.size(0) != rows || static_cast<size_t>(y.numel()) != out_capacity) return 0;
    y = y.to(torch::kFloat32).contiguous();
    std::memcpy(out, y.data_ptr<float>(), out_capacity * sizeof(float));
    return 0;
  } catch (const c10::Error& e) {
    SetError(err, err_size, Short(e));
  } catch (const std::exception& e) {
    SetError(err, err_size, e.what());
  }
  return -1;
}

void Close(void* handle) { delete static_cast<Runtime*>(handle); }

const AvrecRuntimeApi kApi = {kAvrecRuntimeAbiVersion, Open, Forward, PrepareThread, Close};

}  // namespace

extern "C" __attribute__((visibility("default"))) const AvrecRuntimeApi* avrec_runtime_api(void) { return &kApi; }
