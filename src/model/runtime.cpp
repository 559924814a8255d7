#include "model/runtime.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>

#include "avrec/error.h"
#include "common/plugin.h"
#include "model/runtime_abi.h"

namespace avrec {

namespace {

std::atomic<const AvrecRuntimeApi*> g_api{nullptr};

const AvrecRuntimeApi& Api() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    void* lib = OpenPlugin("libavrec_torch.so", "AVREC_TORCH_LIB", RTLD_NOW | RTLD_LOCAL, &error);
    if (lib == nullptr) return;
    auto fn = reinterpret_cast<AvrecRuntimeApiFn>(dlsym(lib, "avrec_runtime_api"));
    const AvrecRuntimeApi* api = fn != nullptr ? fn() : nullptr;
    if (api == nullptr || api->abi_version != kAvrecRuntimeAbiVersion) {
      error = "libavrec_torch.so is not this avrec's model runtime (ABI version mismatch)";
      return;
    }
    g_api.store(api);
  });
  const AvrecRuntimeApi* api = g_api.load();
  if (api == nullptr) Fail(ExitCode::kSoftware, "cannot load the model runtime: ", error);
  return *api;
}

}  // namespace

ModelRuntime::ModelRuntime(const std::string& torchscript, bool bfloat16) : path_(torchscript) {
  char err[512] = "";
  handle_ = Api().open(torchscript.c_str(), bfloat16 ? 1 : 0, err, sizeof err);
  if (handle_ == nullptr) Fail(ExitCode::kDataErr, torchscript, ": ", err);
}

ModelRuntime::~ModelRuntime() {
  if (handle_ != nullptr) Api().close(handle_);
}

std::array<int64_t, 2> ModelRuntime::Forward(const int64_t* ids, const int64_t* mask, int64_t rows, int64_t cols,
                                             float* out, size_t out_size) const {
  char err[512] = "";
  int64_t shape[2] = {0, 0};
  if (Api().forward(handle_, ids, mask, rows, cols, out, out_size, shape, err, sizeof err) != 0) {
    Fail(ExitCode::kSoftware, path_, ": model inference failed: ", err);
  }
  return {shape[0], shape[1]};
}

void ModelRuntime::PrepareThread() { Api().prepare_thread(); }

bool ModelRuntime::PluginLoaded() { return g_api.load() != nullptr; }

}  // namespace avrec
