// libFuzzer target: arbitrary bytes as a recommendations file, read as
// report reads one (ReadRecommendationLists with the users' whole lists, a
// user at a time through ReadJsonValues), as evaluate and diff do (ids and
// scores: JSON, or a CSV or TSV table), and through ReadJsonValues alone
// with a small bound on a value. Invariants: no crash, no sanitizer report,
// no exception but avrec::Error with the data exit code, every message
// naming the file.
#include <cstdlib>
#include <string>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/json_values.h"
#include "avrec/output.h"
#include "fuzz_file.h"

namespace {

const std::string& Path() { return avrec::fuzz::ScratchPath(".jsonl"); }

void CheckError(const avrec::Error& e) {
  if (e.code() != avrec::ExitCode::kDataErr) std::abort();
  const std::string what = e.what();
  if (what.rfind(Path(), 0) != 0) std::abort();  // names the file first
  avrec::fuzz::RequirePrintable(what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  avrec::fuzz::WriteScratch(Path(), data, size);
  try {
    std::vector<avrec::UserRecommendations> users;
    const avrec::RecommendationLists lists = avrec::ReadRecommendationLists(Path(), &users);
    if (lists.users.empty() || lists.users.size() != users.size() || lists.lists.size() != users.size()) std::abort();
  } catch (const avrec::Error& e) {
    CheckError(e);
  }
  try {  // ids and scores only: a CSV or TSV table reads this way too
    const avrec::RecommendationLists lists = avrec::ReadRecommendationLists(Path());
    if (lists.users.empty() || lists.lists.size() != lists.users.size()) std::abort();
  } catch (const avrec::Error& e) {
    CheckError(e);
  }
  try {
    avrec::ByteSource src(Path());
    int64_t last_line = 0;
    avrec::ReadJsonValues(
        &src, "users",
        [](int64_t, int64_t line, nlohmann::json&&) {
          if (line < 1) std::abort();
        },
        [&](avrec::JsonValueRead&& v) {
          if (v.first_line <= last_line || v.last_line < v.first_line) std::abort();  // one value per line, in order
          last_line = v.last_line;
        },
        64);
  } catch (const avrec::Error& e) {
    CheckError(e);
  }
  return 0;
}
