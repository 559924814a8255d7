#include "avrec/json_values.h"

#include <algorithm>
#include <cstdint>

#include "avrec/error.h"
#include "avrec/json.h"
#include "io/json_parser.h"

namespace avrec {

void ReadJsonValues(ByteSource* src, const std::string& streamed_key,
                    const std::function<void(int64_t, int64_t, nlohmann::json&&)>& on_element,
                    const std::function<void(JsonValueRead&&)>& on_value, size_t max_value_bytes,
                    const std::function<bool(size_t, const std::string&)>& keep) {
  JsonInput in(src);
  JsonDomBuilder builder(&in, streamed_key, on_element, keep);
  int64_t first_line = 0;
  // Error(kDataErr) "PATH:LINE: reason (column C; in the value that starts on line L)".
  const auto stop = [&](const std::string& reason, int64_t line, int64_t column) {
    std::string at = column > 0 ? "column " + std::to_string(column) : "";
    if (first_line != line) {
      at += (at.empty() ? "" : "; ") + std::string("in the value that starts on line ") + std::to_string(first_line);
    }
    Fail(ExitCode::kDataErr, src->path(), ":", line, ": ", reason, at.empty() ? "" : " (" + at + ")");
  };
  for (;;) {
    in.SkipBlanks();
    if (in.Peek() < 0) return;
    JsonValueRead read;
    read.first_line = first_line = in.line();
    builder.Reset();
    in.StartValue(static_cast<int64_t>(std::min<size_t>(max_value_bytes, INT64_MAX)));
    try {
      ParseJsonValue(&in, &builder);
    } catch (const JsonSyntaxError& e) {
      stop(e.reason, e.line, e.column);
    }
    in.EndValue();
    read.last_line = in.line();
    in.SkipBlanks(/*line_ends=*/false);
    if (in.Peek() >= 0 && in.Peek() != '\n') {
      stop("text after the JSON value that ends on this line", in.line(), in.column());
    }
    read.streamed = builder.streamed();
    read.value = builder.TakeValue();
    on_value(std::move(read));
  }
}

}  // namespace avrec
