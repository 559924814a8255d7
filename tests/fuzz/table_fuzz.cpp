// libFuzzer targets for avrec's input readers: arbitrary bytes as a reviews
// and an items file. Compiled once per format (-DAVREC_FUZZ_EXT=".csv",
// ".tsv", ".jsonl", ".csv.gz"): csv_fuzz, tsv_fuzz, jsonl_fuzz, gzip_fuzz.
// Invariants: no crash, no sanitizer report, no exception but avrec::Error
// with a data or input exit code, every problem naming the file and a line.
#include <cstdlib>
#include <string>

#include "avrec/data.h"
#include "avrec/error.h"
#include "fuzz_file.h"

namespace {

const std::string& Path() { return avrec::fuzz::ScratchPath(AVREC_FUZZ_EXT); }

void CheckProblem(const avrec::Problem& p) {
  if (p.path != Path() || p.line < 0) std::abort();
  avrec::fuzz::RequirePrintable(p.message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  avrec::fuzz::WriteScratch(Path(), data, size);
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
