// libFuzzer targets for avrec's input readers: arbitrary bytes as a reviews
// and an items file. Compiled once per format (-DAVREC_FUZZ_EXT=".csv",
// ".tsv", ".jsonl", ".csv.gz"): csv_fuzz, tsv_fuzz, jsonl_fuzz, gzip_fuzz.
// Invariants: no crash, no sanitizer report, no exception but avrec::Error
// with a data or input exit code, every problem naming the file and a line.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "avrec/data.h"
#include "avrec/error.h"

namespace {

const std::string& Path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/avrec_fuzz_" + std::to_string(::getpid()) + AVREC_FUZZ_EXT;
  }();
  return path;
}

void CheckProblem(const avrec::Problem& p) {
  if (p.path != Path() || p.line < 0 || p.message.empty()) std::abort();
  for (char c : p.message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) std::abort();  // messages never carry raw control bytes
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(Path().c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    avrec::ProblemLog problems(1000, CheckProblem);
    avrec::ReviewReadOptions ro;
    ro.max_record_bytes = 1 << 16;
    avrec::ReadReviews(Path(), ro, &problems, [](avrec::Review&& r) {
      if (r.review_id.empty() || r.user_id.empty() || r.item_id.empty()) std::abort();
    });
    avrec::ItemSchemaOptions schema;
    schema.max_record_bytes = 1 << 16;
    avrec::ItemTable t = avrec::ReadItems(Path(), schema, &problems);
    for (const auto& item : t.items) {
      if (item.numeric.size() != t.numeric_columns.size()) std::abort();
    }
  } catch (const avrec::Error& e) {
    if (e.code() != avrec::ExitCode::kDataErr && e.code() != avrec::ExitCode::kNoInput) std::abort();
  }
  return 0;
}
