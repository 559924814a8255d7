#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/model.h"
#include "avrec/options.h"
#include "common/plugin.h"

namespace avrec {

namespace {

constexpr const char* kManifestName = "avrec-model.json";
constexpr const char* kDefaultDirs[][2] = {{"sentiment", "sentiment-minilm-en-zh"}, {"embedding", "all-minilm-l6-v2"}};

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Typed access to manifest fields with messages naming the field.
class Fields {
 public:
  Fields(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[noreturn]] void Bad(const std::string& field, const std::string& what) const {
    Fail(ExitCode::kDataErr, path_, ": field '", field, "': ", what);
  }
  const nlohmann::json* Find(const std::string& dotted) const { return FindConfigKey(j_, dotted); }
  std::string String(const std::string& f, const char* def = nullptr) const {
    const nlohmann::json* v = Find(f);
    if (v == nullptr) {
      if (def != nullptr) return def;
      Bad(f, "missing (expected a string)");
    }
    if (!v->is_string()) Bad(f, "expected a string, found " + v->dump());
    return v->get<std::string>();
  }
  bool Bool(const std::string& f, bool def) const {
    const nlohmann::json* v = Find(f);
    if (v == nullptr) return def;
    if (!v->is_boolean()) Bad(f, "expected true or false, found " + v->dump());
    return v->get<bool>();
  }
  int Int(const std::string& f, int def, int lo, int hi) const {
    const nlohmann::json* v = Find(f);
    if (v == nullptr) {
      if (def >= lo) return def;
      Bad(f, "missing (expected an integer)");
    }
    if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > hi) {
      Bad(f, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " + v->dump());
    }
    return v->get<int>();
  }
  std::vector<std::string> Strings(const std::string& f, bool required) const {
    const nlohmann::json* v = Find(f);
    if (v == nullptr) {
      if (required) Bad(f, "missing (expected a list of strings)");
      return {};
    }
    if (!v->is_array()) Bad(f, "expected a list of strings");
    std::vector<std::string> out;
    for (const auto& e : *v) {
      if (!e.is_string()) Bad(f, "expected a list of strings, found " + e.dump());
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
};

}  // namespace

ModelManifest LoadModelManifest(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!IsDir(dir)) {
    // --text-model takes 'none'; a sentiment model is a directory.
    Fail(ExitCode::kNoInput, dir, ": model directory not found",
         dir == "none" ? " (profiles without sentiment: `avrec recommend --no-sentiment`)" : "");
  }
  const std::string path = dir + "/" + kManifestName;
  if (!IsFile(path)) {
    Fail(ExitCode::kDataErr, dir, ": not an avrec model directory (", kManifestName,
         " is missing; see docs/models.md)");
  }
  ModelManifest m;
  m.dir = dir;
  m.raw = ParseJsonDocument(ReadFileToString(path, kMaxSmallFileBytes), path, ExitCode::kDataErr);
  if (!m.raw.is_object()) Fail(ExitCode::kDataErr, path, ": expected a JSON object");
  Fields f(m.raw, path);
  std::string format = f.String("format");
  if (format != "avrec-model/1") f.Bad("format", "expected \"avrec-model/1\", found \"" + format + "\"");
  m.name = f.String("name");
  m.task = f.String("task");
  if (m.task != "sentiment" && m.task != "embedding") f.Bad("task", "expected \"sentiment\" or \"embedding\"");
  m.torchscript = dir + "/" + f.String("torchscript");
  m.sha256 = f.String("sha256");
  if (m.sha256.size() != 64 || m.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    f.Bad("sha256", "expected 64 lower-case hex digits");
  }
  m.max_length = f.Int("max_length", -1, 8, 8192);
  m.languages = f.Strings("languages", false);

  TokenizerSpec& t = m.tokenizer;
  t.kind = f.String("tokenizer.kind");
  if (t.kind == "wordpiece") {
    t.file = dir + "/" + f.String("tokenizer.vocab");
    t.clean_text = f.Bool("tokenizer.clean_text", true);
    t.chinese_chars = f.Bool("tokenizer.handle_chinese_chars", true);
    t.lowercase = f.Bool("tokenizer.lowercase", true);
    t.strip_accents = f.Bool("tokenizer.strip_accents", t.lowercase);
    t.continuing_prefix = f.String("tokenizer.continuing_subword_prefix", "##");
    t.max_input_chars_per_word = f.Int("tokenizer.max_input_chars_per_word", 100, 1, 1 << 20);
    t.cls = f.String("tokenizer.cls_token", "[CLS]");
    t.sep = f.String("tokenizer.sep_token", "[SEP]");
    t.pad = f.String("tokenizer.pad_token", "[PAD]");
    t.unk = f.String("tokenizer.unk_token", "[UNK]");
  } else if (t.kind == "sentencepiece") {
    t.file = dir + "/" + f.String("tokenizer.model");
    t.cls = f.String("tokenizer.bos_token", "<s>");
    t.sep = f.String("tokenizer.eos_token", "</s>");
    t.pad = f.String("tokenizer.pad_token", "<pad>");
    t.unk = f.String("tokenizer.unk_token", "<unk>");
  } else {
    f.Bad("tokenizer.kind", "expected \"wordpiece\" or \"sentencepiece\", found \"" + t.kind + "\"");
  }
  t.added_tokens = f.Strings("tokenizer.added_tokens", false);
  if (!IsFile(t.file)) f.Bad(t.kind == "wordpiece" ? "tokenizer.vocab" : "tokenizer.model", t.file + " not found");

  if (m.task == "sentiment") {
    m.labels = f.Strings("labels", true);
    if (m.labels.size() < 2) f.Bad("labels", "expected at least two labels");
    const nlohmann::json* scores = f.Find("label_scores");
    if (scores == nullptr || !scores->is_object())
      f.Bad("label_scores", "expected an object label -> score in [-1, 1]");
    for (const auto& label : m.labels) {
      if (!scores->contains(label) || !(*scores)[label].is_number()) {
        f.Bad("label_scores", "no score for label '" + label + "'");
      }
      double s = (*scores)[label].get<double>();
      if (!(s >= -1 && s <= 1)) f.Bad("label_scores." + label, "expected a number in [-1, 1]");
      m.label_scores.push_back(s);
    }
  } else {
    m.embedding_dim = f.Int("embedding.dim", -1, 1, 65536);
  }
  return m;
}

void VerifyModelChecksum(const ModelManifest& m) {
  if (!IsFile(m.torchscript)) {
    Fail(ExitCode::kDataErr, m.dir, "/", kManifestName, ": field 'torchscript': ", m.torchscript, " not found");
  }
  std::string actual = Sha256File(m.torchscript);
  if (actual != m.sha256) {
    Fail(ExitCode::kDataErr, m.dir, "/", kManifestName, ": field 'sha256': the TorchScript file's checksum is ", actual,
         ", the manifest says ", m.sha256, " (the file is corrupt or was replaced)");
  }
}

std::string DefaultModelDir(const std::string& task) {
  std::string name;
  for (const auto& d : kDefaultDirs) {
    if (task == d[0]) name = d[1];
  }
  AVREC_CHECK(!name.empty(), "unknown model task ", task);
  std::vector<std::string> roots;
  if (const char* env = std::getenv("AVREC_MODELS"); env != nullptr && *env != '\0') roots.push_back(env);
  std::string exe = ExecutableDir();
  roots.push_back(exe + "/../models");
  roots.push_back(exe + "/../../models");
  roots.push_back(exe + "/../share/avrec/models");
  roots.push_back(std::string(AVREC_INSTALL_DATADIR) + "/models");
  roots.push_back(std::string(AVREC_SOURCE_DIR) + "/models");
  for (const auto& r : roots) {
    if (IsFile(r + "/" + name + "/" + kManifestName)) return r + "/" + name;
  }
  Fail(ExitCode::kNoInput, "the default ", task, " model (", name,
       ") was not found; looked in $AVREC_MODELS, next to the executable and in ", AVREC_SOURCE_DIR, "/models");
}

}  // namespace avrec
