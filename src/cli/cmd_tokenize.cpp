// tokenize: texts on stdin, one per line -> token ids on stdout.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "avrec/io.h"
#include "avrec/model.h"
#include "avrec/text.h"
#include "avrec/tokenizer.h"
#include "cli/commands.h"

namespace avrec::cli {

void TokenizeCommand::Describe(OptionSet* s) {
  s->AddPath("--model", "score.model", &model, "Model directory (default: the bundled sentiment model)");
  s->AddNumber("--max-length,--max-len", "", &max_len, {0, 1 << 20},
               "Maximum ids per line, special tokens included (0: the model's maximum)");
  s->AddNumber("--max-record-bytes", "", &max_record_bytes, {1024, 1e12},
               "Longest line read (bytes); longer is an error");
}

int RunTokenize(const TokenizeCommand& o) {
  const std::string dir = o.model.empty() ? DefaultModelDir("sentiment") : o.model;
  ModelManifest m = LoadModelManifest(dir);
  std::unique_ptr<Tokenizer> tok = MakeTokenizer(m.tokenizer);
  const int max_len = o.max_len > 0 ? o.max_len : m.max_length;
  if (o.max_len == 1) Fail(ExitCode::kUsage, "--max-length: expected 0 or at least 2");
  spdlog::debug("tokenize: model {}, {} tokenizer, max {} ids per line", dir, m.tokenizer.kind, max_len);

  std::string line, out, clean;
  std::vector<int32_t> ids;
  int64_t line_no = 0, invalid_lines = 0;
  // Standard input as the table readers take it (gzip, a byte-order mark,
  // UTF-16 told apart); a line longer than --max-record-bytes is an error, so
  // input that never ends a line (/dev/zero) cannot take all memory.
  ByteSource src("-");
  LineReader lines(&src, static_cast<size_t>(o.max_record_bytes));
  while (lines.Next(&line)) {
    line_no = lines.line_number();
    std::string_view text = line;
    if (!IsValidUtf8(line)) {
      size_t replaced = 0;
      clean = SanitizeUtf8(line, &replaced);
      text = clean;
      if (++invalid_lines <= 100) {
        spdlog::warn("{}:{}: invalid UTF-8 ({} replaced by U+FFFD)", src.path(), line_no,
                     CountOf(static_cast<int64_t>(replaced), "sequence"));
      }
    }
    ids.clear();
    tok->Encode(text, &ids);
    std::vector<int32_t> full = tok->WithSpecialTokens(ids, max_len);
    for (size_t i = 0; i < full.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += std::to_string(full[i]);
    }
    out.push_back('\n');
    if (out.size() > (1 << 16)) {
      WriteStdout(out);
      out.clear();
    }
  }
  WriteStdout(out);
  if (invalid_lines > 100) spdlog::warn("{} lines in all had invalid UTF-8", invalid_lines);
  spdlog::debug("tokenize: {} lines", line_no);
  return 0;
}

}  // namespace avrec::cli
