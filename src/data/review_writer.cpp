#include <nlohmann/json.hpp>

#include "avrec/data.h"
#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

namespace {

// RFC 4180: quote a field holding the delimiter, a quote, a line break, or
// blanks at either end; double the quotes inside.
void AppendField(std::string* out, const std::string& f, char delim) {
  bool quote = f.find_first_of(std::string("\"\r\n") + delim) != std::string::npos ||
               (!f.empty() && (f.front() == ' ' || f.back() == ' ' || f.front() == '\t' || f.back() == '\t'));
  if (!quote) {
    *out += f;
    return;
  }
  *out += '"';
  for (char c : f) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

std::string Number(double v) { return nlohmann::json(v).dump(); }

}  // namespace

void WriteReviews(const std::string& path, const std::vector<const Review*>& reviews) {
  if (IsGzipPath(path)) Fail(ExitCode::kUsage, path, ": compressed output is not supported; write plain and gzip it");
  const TableFormat format = DetectTableFormat(path);
  AtomicFile out(path);
  std::string buf;
  if (format == TableFormat::kJsonl) {
    for (const Review* r : reviews) {
      nlohmann::ordered_json j;
      j["review_id"] = r->review_id;
      j["user_id"] = r->user_id;
      j["item_id"] = r->item_id;
      if (r->rating) j["rating"] = *r->rating;
      if (r->timestamp) j["timestamp"] = *r->timestamp;
      j["text"] = r->text;
      buf += j.dump() + "\n";
      if (buf.size() > (1 << 20)) {
        out.Write(buf);
        buf.clear();
      }
    }
  } else {
    const char d = format == TableFormat::kTsv ? '\t' : ',';
    buf = std::string("review_id") + d + "user_id" + d + "item_id" + d + "rating" + d + "timestamp" + d + "text\n";
    for (const Review* r : reviews) {
      AppendField(&buf, r->review_id, d);
      buf += d;
      AppendField(&buf, r->user_id, d);
      buf += d;
      AppendField(&buf, r->item_id, d);
      buf += d;
      if (r->rating) buf += Number(*r->rating);
      buf += d;
      if (r->timestamp) buf += std::to_string(*r->timestamp);
      buf += d;
      AppendField(&buf, r->text, d);
      buf += '\n';
      if (buf.size() > (1 << 20)) {
        out.Write(buf);
        buf.clear();
      }
    }
  }
  out.Write(buf);
  out.Commit();
}

}  // namespace avrec
