// libFuzzer target: arbitrary bytes as one JSON text, read by avrec's parser
// (ParseJson) and by nlohmann's, which avrec used before and which is the
// reference here. Invariants: no crash, no sanitizer report; where avrec's
// parser accepts the text, nlohmann's accepts it and builds the same value;
// where avrec's says "not valid JSON", nlohmann's rejects it too. The
// differences by design are checked for what they are: nesting past
// kMaxJsonDepth, a repeated key, a number beyond double's range (errors
// here, accepted or inf there); nlohmann's taking a NUL byte for the end of
// the input is not followed. The same bytes read through ReadJsonValues
// from a file in windows must give the same value as ParseJson.
#include <cstdlib>
#include <string>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/json_values.h"
#include "fuzz_file.h"

namespace {

const std::string& Path() { return avrec::fuzz::ScratchPath(".json"); }

int Depth(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int d = 0;
  for (const auto& e : j) d = std::max(d, Depth(e));
  return d + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json ours, theirs;
  std::string error;
  const bool ok = avrec::ParseJson(text, &ours, &error);
  bool their_ok = true;
  try {
    theirs = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    their_ok = false;
  }
  // nlohmann's lexer takes a NUL byte for the end of input (as in a C
  // string): with one, it is no reference, and no JSON text holds one.
  if (text.find('\0') != std::string::npos) {
    if (ok) std::abort();
  } else if (ok) {
    if (!their_ok || ours != theirs || Depth(ours) > avrec::kMaxJsonDepth) std::abort();
  } else {
    avrec::fuzz::RequirePrintable(error);
    if (error.rfind("not valid JSON: ", 0) == 0) {
      if (their_ok) std::abort();
    } else if (error.find("appears twice") == std::string::npos && error.find("nested deeper") == std::string::npos &&
               error.rfind("number out of range", 0) != 0) {
      std::abort();  // a reason of no known kind
    }
  }
  // Through a file, a value a line: the same value where ParseJson reads it.
  avrec::fuzz::WriteScratch(Path(), data, size);
  try {
    avrec::ByteSource src(Path());
    int values = 0;
    avrec::ReadJsonValues(
        &src, "", [](int64_t, int64_t, nlohmann::json&&) { std::abort(); },
        [&](avrec::JsonValueRead&& v) {
          if (++values == 1 && ok && v.value != ours) std::abort();
        },
        1 << 20);
    if (ok && values != 1) std::abort();
  } catch (const avrec::Error& e) {
    if (ok || e.code() != avrec::ExitCode::kDataErr) std::abort();
  }
  return 0;
}
