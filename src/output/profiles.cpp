#include <nlohmann/json.hpp>

#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/numeric.h"
#include "avrec/output.h"
#include "avrec/text.h"

namespace avrec {

void WriteProfiles(const std::string& path, const Profiles& p, const std::vector<std::string>& columns) {
  AtomicFile out(path);
  nlohmann::ordered_json header;
  header["columns"] = columns;
  out.Write(nlohmann::ordered_json{{"header", header}}.dump() + "\n");
  std::vector<double> v(static_cast<size_t>(p.vectors.cols()));
  for (size_t u = 0; u < p.users.size(); ++u) {
    nlohmann::ordered_json j;
    j["user_id"] = p.users[u];
    j["cold_start"] = static_cast<bool>(p.cold_start[u]);
    j["reviews"] = p.history[u].size();
    j["net_share"] = RoundDecimals(u < p.net_share.size() ? p.net_share[u] : 1.0, 6);
    for (Eigen::Index k = 0; k < p.vectors.cols(); ++k) {
      v[static_cast<size_t>(k)] = RoundDecimals(p.vectors(static_cast<Eigen::Index>(u), k), 6);
    }
    j["vector"] = v;
    out.Write(j.dump() + "\n");
  }
  out.Commit();
}

namespace {

[[noreturn]] void Bad(const std::string& path, int64_t line, const std::string& what) {
  Fail(ExitCode::kDataErr, path, ":", line, ": ", what);
}

}  // namespace

ProfileFile ReadProfiles(const std::string& path) {
  ByteSource src(path);
  LineReader lines(&src);
  ProfileFile f;
  std::string line;
  std::vector<float> data;
  bool header = false;
  while (lines.Next(&line)) {
    const int64_t n = lines.line_number();
    if (Trim(line).empty()) continue;
    nlohmann::json j;
    std::string error;
    if (!ParseJson(line, &j, &error)) Bad(path, n, error);
    if (!j.is_object()) Bad(path, n, "not a JSON object");
    if (!header) {
      const auto* cols = j.contains("header") ? &j["header"]["columns"] : nullptr;
      if (cols == nullptr || !cols->is_array()) Bad(path, n, "expected {\"header\": {\"columns\": [...]}} first");
      for (const auto& c : *cols) {
        if (!c.is_string()) Bad(path, n, "field 'header.columns': expected column names");
        f.columns.push_back(c.get<std::string>());
      }
      header = true;
      continue;
    }
    if (!j.contains("user_id") || !j["user_id"].is_string()) Bad(path, n, "field 'user_id': expected text");
    if (!j.contains("vector") || !j["vector"].is_array() || j["vector"].size() != f.columns.size()) {
      Bad(path, n, "field 'vector': expected " + std::to_string(f.columns.size()) + " numbers (one per column)");
    }
    for (const auto& x : j["vector"]) {
      if (!x.is_number() || !std::isfinite(x.get<double>())) Bad(path, n, "field 'vector': expected finite numbers");
      data.push_back(x.get<float>());
    }
    f.users.push_back(j["user_id"].get<std::string>());
    f.cold_start.push_back(j.contains("cold_start") && j["cold_start"].is_boolean() && j["cold_start"].get<bool>());
    double net_share = 1;  // files written before 2026-12-04 have none: nothing known to cancel
    if (j.contains("net_share")) {
      const auto& x = j["net_share"];
      if (!x.is_number() || !(x.get<double>() >= 0 && x.get<double>() <= 1))
        Bad(path, n, "field 'net_share': expected a number from 0 to 1");
      net_share = x.get<double>();
    }
    f.net_share.push_back(net_share);
  }
  if (!header) Bad(path, 1, "empty file: expected a profiles header line");
  f.vectors = Eigen::Map<RowMatrix>(data.data(), static_cast<Eigen::Index>(f.users.size()),
                                    static_cast<Eigen::Index>(f.columns.size()));
  return f;
}

}  // namespace avrec
