// Low-level input and output: byte sources (plain or gzip), UTF-8 checks,
// RFC 4180 CSV parsing, JSON Lines splitting, and atomic output files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace avrec {

// ---- byte sources -------------------------------------------------------------

// Reads a file sequentially; a name ending in ".gz" is decompressed with zlib.
// A leading UTF-8 byte-order mark is skipped. Not thread-safe.
class ByteSource {
 public:
  // Throws Error(kNoInput) when the file cannot be opened.
  explicit ByteSource(const std::string& path);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Next byte, or -1 at end of input. Throws Error(kDataErr) on corrupt gzip
  // data and Error(kIoErr) when the read itself fails.
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  // Next byte without consuming it, or -1 at end of input.
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  const std::string& path() const { return path_; }

 private:
  bool Fill();

  std::string path_;
  std::FILE* file_ = nullptr;
  void* gz_ = nullptr;  // gzFile
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool first_fill_ = true;
};

// ---- UTF-8 --------------------------------------------------------------------

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// On failure *bad_offset (if given) receives the offset of the first bad byte.
bool IsValidUtf8(std::string_view s, size_t* bad_offset = nullptr);

// Copy of `s` with every ill-formed sequence replaced by U+FFFD (the "maximal
// subpart" rule of Unicode §3.9). *replaced counts the replacements.
std::string SanitizeUtf8(std::string_view s, size_t* replaced = nullptr);

// ---- CSV ----------------------------------------------------------------------

// One physical record of a CSV/TSV file.
struct CsvRecord {
  int64_t line = 0;                 // 1-based line on which the record starts
  std::vector<std::string> fields;  // unquoted field values
  std::string error;                // non-empty: malformed quoting, fields unreliable
};

// Streaming RFC 4180 reader: fields separated by `delimiter`, records by LF or
// CRLF; a field that starts with a double quote may contain delimiters, line
// breaks and doubled quotes. A quote inside an unquoted field, text after a
// closing quote, or a quote left open at the end of input are reported in
// CsvRecord::error; parsing then resumes at the next record.
class CsvReader {
 public:
  CsvReader(ByteSource* src, char delimiter) : src_(src), delim_(delimiter) {}
  // Reads the next record into *rec; false at end of input. Blank lines
  // (no bytes between two line breaks) are skipped.
  bool Next(CsvRecord* rec);

 private:
  ByteSource* src_;
  char delim_;
  int64_t line_ = 1;
};

// ---- lines ----------------------------------------------------------------------

// Splits input into lines at LF, dropping a trailing CR (CRLF files).
class LineReader {
 public:
  explicit LineReader(ByteSource* src) : src_(src) {}
  // Reads the next line (without its terminator) into *line; false at end.
  bool Next(std::string* line);
  int64_t line_number() const { return line_; }  // of the line last returned

 private:
  ByteSource* src_;
  int64_t line_ = 0;
};

// ---- atomic output ---------------------------------------------------------------

// Writes a file atomically: the bytes go to a temporary file in the same
// folder ("<name>.tmp.<pid>"), which Commit() flushes, fsyncs and renames
// over the target. Destroyed without Commit() (an error, an exception), the
// temporary file is removed and the target is untouched. Path "-" writes to
// stdout directly (no atomicity). Throws Error(kCantCreate) when the file
// cannot be created and Error(kIoErr) when writing fails.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void Write(std::string_view bytes);
  void Commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool committed_ = false;
  bool is_stdout_ = false;
  int slot_ = -1;  // in the signal handler's list of temporary files
};

// Installs SIGINT/SIGTERM/SIGHUP handlers that remove the temporary files of
// unfinished AtomicFiles, then die of the signal. Call once, from main.
void InstallSignalCleanup();

// Whole-file helpers.
std::string ReadFileToString(const std::string& path);  // kNoInput / kIoErr
void WriteFileAtomically(const std::string& path, std::string_view bytes);

// Lower-case file extension after stripping ".gz": "a/b.CSV.gz" -> "csv".
std::string DataExtension(const std::string& path);
bool IsGzipPath(const std::string& path);

}  // namespace avrec
