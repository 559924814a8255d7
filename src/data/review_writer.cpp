#include <nlohmann/json.hpp>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

namespace {

std::string Number(double v) { return nlohmann::json(v).dump(); }

}  // namespace

TableFormat OutputFormat(const std::string& path, const std::string& format) {
  if (format == "csv") return TableFormat::kCsv;
  if (format == "tsv") return TableFormat::kTsv;
  if (format == "jsonl") return TableFormat::kJsonl;
  if (!format.empty()) Fail(ExitCode::kUsage, "--format: expected csv, tsv or jsonl, got '", format, "'");
  if (IsGzipPath(path)) Fail(ExitCode::kUsage, path, ": compressed output is not supported; write plain and gzip it");
  if (const auto by_name = TableFormatOfExtension(path)) return *by_name;
  // /dev/stdout, a FIFO, a name without an extension
  Fail(ExitCode::kUsage, path, ": cannot tell the output format from the name (.csv, .tsv or .jsonl); give --format ",
       "csv, tsv or jsonl");
}

void WriteReviews(const std::string& path, const std::vector<const Review*>& reviews) {
  const TableFormat format = OutputFormat(path, "");
  AtomicFile out(path);
  WriteReviewsTo(&out, format, reviews);
  out.Commit();
}

void WriteReviewsTo(AtomicFile* file, TableFormat format, const std::vector<const Review*>& reviews) {
  AtomicFile& out = *file;  // buffered: one Write per record is fine
  if (format == TableFormat::kJsonl) {
    for (const Review* r : reviews) {
      nlohmann::ordered_json j;
      j["review_id"] = r->review_id;
      j["user_id"] = r->user_id;
      j["item_id"] = r->item_id;
      if (r->rating) j["rating"] = *r->rating;
      if (r->timestamp) j["timestamp"] = *r->timestamp;
      j["text"] = r->text;
      out.Write(j.dump() + "\n");
    }
  } else {
    const char d = format == TableFormat::kTsv ? '\t' : ',';
    out.Write(std::string("review_id") + d + "user_id" + d + "item_id" + d + "rating" + d + "timestamp" + d + "text\n");
    std::string line;
    for (const Review* r : reviews) {
      line.clear();
      AppendCsvField(&line, r->review_id, d);
      line += d;
      AppendCsvField(&line, r->user_id, d);
      line += d;
      AppendCsvField(&line, r->item_id, d);
      line += d;
      if (r->rating) line += Number(*r->rating);
      line += d;
      if (r->timestamp) line += std::to_string(*r->timestamp);
      line += d;
      AppendCsvField(&line, r->text, d);
      line += '\n';
      out.Write(line);
    }
  }
}

}  // namespace avrec
