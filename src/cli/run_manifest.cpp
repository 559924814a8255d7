// The run manifest: NAME.run.json beside a run's output (or --manifest), for
// a nightly job to archive and CI to diff.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/table.h"
#include "avrec/version.h"
#include "avrec/workspace.h"
#include "cli/commands.h"

namespace avrec::cli {

namespace {

std::string ManifestBeside(const std::string& out, const std::string& given) {
  if (!given.empty()) return given;
  if (out.empty() || out == "-" || out.rfind("/dev/", 0) == 0) return "";
  return out + ".run.json";
}

// The given paths, less the empty ones (options not given).
RunFiles Paths(std::initializer_list<std::string> inputs, std::initializer_list<std::string> outputs) {
  RunFiles f;
  for (const auto& p : inputs) {
    if (!p.empty()) f.inputs.push_back(p);
  }
  for (const auto& p : outputs) {
    if (!p.empty()) f.outputs.push_back(p);
  }
  return f;
}

// A stage that reads the reviews (from files or a workspace) and writes `outputs`.
RunFiles ModelCommandFiles(const PipelineConfig& c, std::initializer_list<std::string> outputs) {
  RunFiles f = Paths({c.inputs.reviews, c.inputs.items, c.scores, c.profiles_in, c.workspace}, outputs);
  f.workspace_input = c.workspace;
  f.tables = {c.inputs.reviews, c.inputs.items};
  return f;
}

nlohmann::ordered_json Describe(const std::string& path, bool hash) {
  nlohmann::ordered_json j;
  j["path"] = path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    j["exists"] = false;
    return j;
  }
  j["bytes"] = static_cast<int64_t>(st.st_size);
  j["modified"] = static_cast<int64_t>(st.st_mtime);
  if (hash && S_ISREG(st.st_mode)) j["sha256"] = Sha256File(path);
  return j;
}

}  // namespace

namespace {

void CheckOutputsAndManifestDistinct(const RunFiles& files) {
  std::vector<std::string> outputs = files.outputs;
  outputs.push_back(files.manifest);
  CheckOutputsDistinct(outputs);
}

}  // namespace

void CheckFiles(const RunFiles& files) {
  CheckDescriptorsOpen(files.inputs, files.outputs);
  for (const std::string& p : files.tables) {
    if (!p.empty()) TableFormatFromName(p);
  }
  for (const std::string& p : files.inputs) {
    if (p.empty()) continue;
    if (p == files.workspace_input) {
      Workspace::CheckExists(p);
    } else {
      CheckInputFile(p);
    }
  }
  CheckOutputsAndManifestDistinct(files);
  CheckOutputNames(files.outputs);
  std::vector<std::string> outputs;
  for (const std::string& p : files.outputs) {
    if (p != files.workspace) outputs.push_back(p);
  }
  CheckOutputsCreatable(files.inputs, outputs, files.creates_folders);
}

void WarnIfNamedForAnotherFormat(const std::string& path, const std::string& verb, SingleFormat format) {
  const std::string ext = DataExtension(path);
  const bool lines = ext == "jsonl" || ext == "ndjson", object = ext == "json", page = ext == "html" || ext == "htm";
  const bool named_for_it = format == SingleFormat::kJsonLines    ? lines
                            : format == SingleFormat::kJsonObject ? object
                                                                  : page;
  if (named_for_it || !(lines || object || page || ext == "csv" || ext == "tsv")) return;
  const char* what = format == SingleFormat::kJsonLines    ? "JSON Lines"
                     : format == SingleFormat::kJsonObject ? "one JSON object"
                                                           : "an HTML page";
  spdlog::warn("{}: {} writes {} (its only format), though the name says {}", path, verb, what, ext);
}

RunFiles FilesOf(const ValidateCommand& c) {
  RunFiles f = Paths({c.config.inputs.reviews, c.config.inputs.items, c.config.workspace}, {});
  f.workspace_input = c.config.workspace;
  f.tables = {c.config.inputs.reviews, c.config.inputs.items};
  return f;
}

RunFiles FilesOf(const TokenizeCommand&) { return Paths({"-"}, {"-"}); }

RunFiles FilesOf(const EmbedCommand& c) { return Paths({c.input}, {c.out}); }

RunFiles FilesOf(const TopKCommand& c) { return Paths({c.users, c.items}, {c.out}); }

RunFiles FilesOf(const SplitCommand& c) {
  RunFiles f = Paths({c.reviews}, {c.train, c.test});
  f.tables = {c.reviews};
  return f;
}

RunFiles FilesOf(const EvaluateCommand& c) {  // the metrics always go to standard output too
  RunFiles f = Paths({c.recs, c.baseline, c.truth, c.train, c.items, c.truth_scores}, {"-", c.out, c.per_user});
  f.tables = {c.truth, c.train, c.items};
  return f;
}

RunFiles FilesOf(const DiffCommand& c) { return Paths({c.old_path, c.new_path}, {"-", c.out}); }

RunFiles FilesOf(const ReportCommand& c) {
  const PipelineConfig& p = c.config;
  RunFiles f =
      Paths({p.inputs.reviews, p.inputs.items, p.scores, p.workspace, c.recs, c.previous, c.manifest}, {c.out});
  f.workspace_input = p.workspace;
  f.tables = {p.inputs.reviews, p.inputs.items};
  return f;
}

RunFiles FilesOf(const IngestCommand& c) {
  RunFiles f = Paths({c.config.inputs.reviews, c.config.inputs.items}, {c.config.workspace});
  f.workspace = c.config.workspace;
  f.tables = {c.config.inputs.reviews, c.config.inputs.items};
  f.manifest = c.config.manifest;  // only when asked: the output is a database
  return f;
}

RunFiles FilesOf(const ForgetCommand& c) {
  RunFiles f = Paths({c.user_ids, c.review_ids, c.item_ids, c.workspace}, {});
  f.workspace_input = c.workspace;
  return f;
}

RunFiles FilesOf(const ScoreCommand& c) {
  RunFiles f = ModelCommandFiles(c.config, {c.config.score_out});
  f.manifest = ManifestBeside(c.config.score_out, c.config.manifest);
  return f;
}

RunFiles FilesOf(const ProfileCommand& c) {
  RunFiles f = ModelCommandFiles(c.config, {c.config.profile_out});
  f.manifest = ManifestBeside(c.config.profile_out, c.config.manifest);
  return f;
}

RunFiles FilesOf(const RecommendCommand& c) {
  RunFiles f = ModelCommandFiles(c.config, {c.config.out});
  for (const auto& p : {c.config.allow_list, c.config.deny_list, c.config.users}) {
    if (!p.empty()) f.inputs.push_back(p);
  }
  f.manifest = ManifestBeside(c.config.out, c.config.manifest);
  return f;
}

RunManifest::RunManifest() : started_at_(LogTimestamp()) {}

void RunManifest::Observe(const std::string& event, const nlohmann::json& fields) {
  if (event == "stage_end") stages_.push_back(nlohmann::ordered_json::parse(fields.dump()));
  if (event == "stage_end" && fields.contains("config_hash")) config_hash_ = fields["config_hash"];
  if (fields.contains("model_sha256")) {
    const std::string kind = event == "text_embedded" ? "embedding" : "sentiment";
    models_[kind] = {{"name", fields.value("model", "")}, {"sha256", fields["model_sha256"]}};
  }
}

void RunManifest::Write(const RunFiles& files, int exit_code, double seconds) const {
  if (files.manifest.empty()) return;
  try {
    CheckOutputNames({files.manifest});  // an output's name near the limit leaves no room for .run.json
  } catch (const Error& e) {
    spdlog::warn("run manifest not written: {}; --manifest FILE writes it under another name", e.what());
    return;
  }
  try {
    nlohmann::ordered_json j;
    j["format"] = "avrec-run/1";
    j["run_id"] = RunId();
    j["avrec_version"] = AVREC_VERSION;
    j["started_at"] = started_at_;
    j["ended_at"] = LogTimestamp();
    j["seconds"] = std::round(seconds * 1000) / 1000;
    j["exit_code"] = exit_code;
    if (!config_hash_.empty()) j["config_hash"] = config_hash_;
    j["models"] = models_;
    nlohmann::ordered_json in = nlohmann::ordered_json::array(), out = nlohmann::ordered_json::array();
    for (const auto& p : files.inputs) in.push_back(Describe(p, p.find(".avrec") == std::string::npos));
    for (const auto& p : files.outputs) out.push_back(Describe(p, exit_code == 0));
    j["inputs"] = in;
    j["outputs"] = out;
    j["stages"] = stages_;
    CheckOutputsAndManifestDistinct(files);  // named as an output, it would replace it (the run failed on that)
    WriteFileAtomically(files.manifest, j.dump(2) + "\n");
  } catch (const std::exception& e) {
    spdlog::warn("run manifest {} not written: {}", files.manifest, e.what());
  }
}

}  // namespace avrec::cli
