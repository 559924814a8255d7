#include "avrec/io.h"

namespace avrec {

bool CsvReader::Next(CsvRecord* rec) {
  rec->fields.clear();
  rec->error.clear();
  // Skip blank lines between records.
  for (;;) {
    int c = src_->Peek();
    if (c < 0) return false;
    if (c == '\n') {
      src_->Get();
      ++line_;
    } else if (c == '\r') {
      src_->Get();
      if (src_->Peek() == '\n') src_->Get();
      ++line_;
    } else {
      break;
    }
  }
  rec->line = line_;
  std::string field;
  const auto set_error = [&](const std::string& msg) {
    if (rec->error.empty()) rec->error = msg;
  };
  for (;;) {
    // At the start of a field.
    field.clear();
    int c = src_->Get();
    bool end_of_record = false;
    if (c == '"') {
      const int64_t open_line = line_;
      for (;;) {
        c = src_->Get();
        if (c < 0) {
          set_error("unterminated quoted field (the quote opened on line " + std::to_string(open_line) +
                    " is never closed)");
          end_of_record = true;
          break;
        }
        if (c == '"') {
          if (src_->Peek() == '"') {
            src_->Get();
            field.push_back('"');
            continue;
          }
          break;  // closing quote
        }
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      // After the closing quote: a delimiter, a line break or the end.
      if (!end_of_record) {
        c = src_->Get();
        if (c != delim_ && c != '\n' && c != '\r' && c >= 0) {
          set_error("unexpected text after the closing quote of field " + std::to_string(rec->fields.size() + 1) +
                    " (quotes inside a quoted field must be doubled)");
          // Resynchronise: keep the rest of the field as literal text.
          while (c >= 0 && c != delim_ && c != '\n' && c != '\r') {
            field.push_back(static_cast<char>(c));
            c = src_->Get();
          }
        }
      }
    } else {
      while (c >= 0 && c != delim_ && c != '\n' && c != '\r') {
        if (c == '"') {
          set_error("quote character inside unquoted field " + std::to_string(rec->fields.size() + 1) +
                    " (a field containing quotes must be quoted, with the quotes doubled)");
        }
        field.push_back(static_cast<char>(c));
        c = src_->Get();
      }
    }
    rec->fields.push_back(field);
    if (end_of_record || c < 0) return true;
    if (c == '\n' || c == '\r') {
      if (c == '\r' && src_->Peek() == '\n') src_->Get();
      ++line_;
      return true;
    }
    // c == delimiter: next field.
  }
}

bool LineReader::Next(std::string* line) {
  line->clear();
  int c = src_->Get();
  if (c < 0) return false;
  ++line_;
  while (c >= 0 && c != '\n') {
    line->push_back(static_cast<char>(c));
    c = src_->Get();
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

}  // namespace avrec
