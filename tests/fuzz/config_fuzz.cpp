// libFuzzer target: arbitrary bytes as a pipeline config file, read as `avrec
// run --config` reads it (JSON parsed with limits, keys checked, every option
// applied and validated). Invariants: no crash, and only usage errors (64).
#include <cstdlib>
#include <string>

#include "avrec/error.h"
#include "avrec/json.h"
#include "avrec/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json root = avrec::ParseJsonDocument(text, "config.json", avrec::ExitCode::kUsage);
    avrec::PipelineConfig config;
    avrec::OptionSet set;
    config.Describe(&set);
    avrec::CheckConfigKeys(root, "config.json", set.keys());
    set.ApplyConfig(root, "/base");
    config.Validate();
    (void)config.RecommendConfigHash();
  } catch (const avrec::Error& e) {
    if (e.code() != avrec::ExitCode::kUsage && e.code() != avrec::ExitCode::kNoInput) std::abort();
  }
  return 0;
}
