#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/text.h"

namespace avrec {

void FailRecordTooLong(const std::string& path, int64_t line, size_t limit) {
  Fail(ExitCode::kDataErr, path, ":", line, ": record longer than ", limit,
       " bytes (a line that never ends, or binary data?); raise --max-record-bytes if the data is real");
}

void CsvReader::CheckSize(size_t bytes, int64_t line) const {
  if (bytes > max_bytes_) FailRecordTooLong(src_->path(), line, max_bytes_);
}

std::string CsvReader::FieldLabel(size_t number) const {
  std::string label = "field " + std::to_string(number);
  if (number >= 1 && number <= names_.size() && !names_[number - 1].empty()) {
    label += " (" + EscapeForMessage(names_[number - 1], 60) + ")";
  }
  return label;
}

// Reads a quoted field after its opening quote, up to and including the
// closing one. Returns false at the end of input (quote left open).
bool CsvReader::ReadQuoted(CsvRecord* rec, std::string* field, size_t* bytes) {
  for (;;) {
    const int c = src_->Get();
    CheckSize(++*bytes, rec->line);
    if (c < 0) return false;
    if (c == '"') {
      if (src_->Peek() != '"') return true;  // the closing quote
      src_->Get();
    }
    if (c == '\n') ++line_;
    field->push_back(static_cast<char>(c));
  }
}

bool CsvReader::Next(CsvRecord* rec) {
  rec->fields.clear();
  rec->error.clear();
  // Skip blank lines between records.
  for (int c = src_->Peek(); c == '\n' || c == '\r'; c = src_->Peek()) {
    src_->Get();
    if (c == '\r' && src_->Peek() == '\n') src_->Get();
    ++line_;
  }
  if (src_->Peek() < 0) return false;
  rec->line = line_;
  const auto set_error = [&](const std::string& msg) {
    if (rec->error.empty()) rec->error = msg;
  };
  std::string field;
  size_t bytes = 0;
  for (;;) {
    // At the start of a field.
    field.clear();
    int c = src_->Get();
    bool end_of_record = false;
    const bool quoted = c == '"';
    if (quoted) {
      const int64_t open_line = line_;
      end_of_record = !ReadQuoted(rec, &field, &bytes);
      if (end_of_record) {
        set_error("unterminated quoted " + FieldLabel(rec->fields.size() + 1) + ": the quote opened on line " +
                  std::to_string(open_line) + " is never closed");
      } else {
        // After the closing quote: a delimiter, a line break or the end.
        c = src_->Get();
        if (c != delim_ && c != '\n' && c != '\r' && c >= 0) {
          set_error("unexpected text after the closing quote of " + FieldLabel(rec->fields.size() + 1) +
                    ": quotes inside a quoted field must be doubled");
        }
      }
    }
    // Unquoted text (or, after a bad closing quote, the rest kept literally).
    while (!end_of_record && c >= 0 && c != delim_ && c != '\n' && c != '\r') {
      if (c == '"' && !quoted) {
        set_error("quote character inside unquoted " + FieldLabel(rec->fields.size() + 1) +
                  ": a field containing quotes must be quoted, with the quotes doubled");
      }
      field.push_back(static_cast<char>(c));
      CheckSize(++bytes, rec->line);
      c = src_->Get();
    }
    rec->fields.push_back(field);
    if (end_of_record || c < 0) return true;
    if (c == '\n' || c == '\r') {
      if (c == '\r' && src_->Peek() == '\n') src_->Get();
      ++line_;
      return true;
    }
    CheckSize(++bytes, rec->line);  // c == delimiter: next field
  }
}

void AppendCsvField(std::string* out, const std::string& f, char delim) {
  const bool quote = f.find_first_of(std::string("\"\r\n") + delim) != std::string::npos ||
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

bool LineReader::Next(std::string* line) {
  line->clear();
  int c = src_->Get();
  if (c < 0) return false;
  ++line_;
  while (c >= 0 && c != '\n') {
    line->push_back(static_cast<char>(c));
    if (line->size() > max_bytes_) FailRecordTooLong(src_->path(), line_, max_bytes_);
    c = src_->Get();
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

}  // namespace avrec
