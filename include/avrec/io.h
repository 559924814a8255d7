// Low-level input and output: byte sources (plain or gzip), UTF-8 checks,
// RFC 4180 CSV parsing, JSON Lines splitting, and atomic output files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avrec/error.h"

namespace avrec {

// ---- byte sources -------------------------------------------------------------

// Reads a file sequentially; "-" is standard input. A name ending in ".gz" is
// decompressed with zlib (concatenated members allowed; a file that is not
// gzip data, or bytes after the last member, are Error(kDataErr)); so is a
// file whose name has no data extension (stdin, /dev/fd/N, a bare FIFO) when
// its first bytes are gzip's magic number. A leading UTF-8 byte-order mark is
// skipped; a UTF-16/32 file (by BOM or NUL pattern) is Error(kDataErr) saying
// how to convert it. Works on pipes and FIFOs. Not thread-safe.
class ByteSource {
 public:
  // Whether this process may replace the file it reads (an incremental run's
  // previous output); otherwise the file is noted as an input (NoteInputFile).
  enum class Rewrite { kNo, kAllowed };
  // Throws Error(kNoInput) when the file cannot be opened. A regular file is
  // checked again at the end of the input, or as soon as more bytes than
  // its size at opening have been read: when its size or modification time
  // moved since it was opened (a writer still appending, a copy still in
  // progress), reading it fails with Error(kTempFail), so a nightly job
  // retries instead of taking a half-written file (or reading forever). A
  // file replaced by a rename meanwhile is read whole as it was (the
  // descriptor keeps it).
  explicit ByteSource(const std::string& path, Rewrite rewrite = Rewrite::kNo);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Next byte, or -1 at end of input. Throws Error(kDataErr) on corrupt gzip
  // data, Error(kIoErr) when the read itself fails, Error(kTempFail) when the
  // file changed while it was read (above).
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  // Next byte without consuming it, or -1 at end of input.
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  // The unread buffered bytes (more are read when none are left), empty at
  // the end of input; Consume(n) takes the first n of them. For readers that
  // scan runs of bytes instead of one at a time.
  std::string_view Window() {
    if (pos_ == end_ && !Fill()) return {};
    return {buf_.data() + pos_, end_ - pos_};
  }
  void Consume(size_t n) { pos_ += n; }
  // The unread bytes up to and including the first line end (all of them at
  // the end of input, or when no line ends within `limit` bytes), without
  // consuming them: what a reader looks at to tell a format.
  std::string_view PeekLine(size_t limit);
  const std::string& path() const { return path_; }
  // Bytes taken from the file so far (compressed ones for gzip), and a
  // regular file's size when opened (-1 for a pipe, a FIFO or a terminal;
  // 0 for a pseudo-file). For progress.
  int64_t file_bytes_read() const { return read_bytes_; }
  int64_t file_size() const { return regular_ ? opened_size_ : -1; }

 private:
  struct Gzip;
  bool Fill();
  size_t Read(char* dst, size_t size);
  size_t ReadRaw(char* dst, size_t size);
  size_t ReadGzip(char* dst, size_t size);
  void StartGzip();
  void CheckUnchangedAtEnd();

  std::string path_;
  int fd_ = -1;
  // A regular file's size and modification time when opened (seconds,
  // nanoseconds); checked once: at the end of the input, or when more bytes
  // than that size have arrived.
  bool regular_ = false, checked_at_end_ = false;
  int64_t opened_size_ = 0, opened_mtime_s_ = 0, opened_mtime_ns_ = 0;
  int64_t read_bytes_ = 0;  // raw bytes read so far
  std::unique_ptr<Gzip> gz_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool first_fill_ = true;
  bool gzip_by_content_ = false;  // no data extension: gzip when the bytes say so
};

// What ByteSource checks before it opens `path`, without opening it (a
// FIFO would wait for its writer): Error(kNoInput) when it does not exist,
// is a folder, or cannot be read by this user. "-" passes.
void CheckInputFile(const std::string& path);

// ---- UTF-8 --------------------------------------------------------------------

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// On failure *bad_offset (if given) receives the offset of the first bad byte.
bool IsValidUtf8(std::string_view s, size_t* bad_offset = nullptr);
// Appends the UTF-8 encoding of `code_point` (at most U+10FFFF, not a surrogate).
void AppendUtf8(uint32_t code_point, std::string* out);

// What a text that is not UTF-8 most likely is, for the message that says
// so: "GB18030" when its bytes above 0x7F pair up as GBK/GB18030
// characters do and those characters come in runs (Chinese exported by
// Windows tools), "Big5" when those pairs are also Big5's and a fifth or
// more of their second bytes are ASCII letters, "" when most of its bytes
// above 0x7F are well-formed UTF-8 (UTF-8 with a character cut or a stray
// byte) or when it holds control bytes (binary data), else "Windows-1252"
// (Western European text: "caf\xE9") unless it holds a byte Windows-1252
// leaves undefined.
std::string GuessLegacyEncoding(std::string_view s);

// The command that converts `path` from `encoding` to UTF-8, for messages:
// "iconv -f ENCODING -t UTF-8 PATH > converted".
std::string ConvertCommand(const std::string& encoding, const std::string& path);

// Copy of `s` with every ill-formed sequence replaced by U+FFFD (the "maximal
// subpart" rule of Unicode §3.9). *replaced counts the replacements.
std::string SanitizeUtf8(std::string_view s, size_t* replaced = nullptr);

// ---- CSV ----------------------------------------------------------------------

// Longest record (a CSV record or a JSON line) read by default: a bound on
// memory for input that never ends a line (/dev/zero, a binary file).
constexpr size_t kDefaultMaxRecordBytes = size_t{64} << 20;

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
  CsvReader(ByteSource* src, char delimiter, size_t max_record_bytes = kDefaultMaxRecordBytes)
      : src_(src), delim_(delimiter), max_bytes_(max_record_bytes) {}
  // Reads the next record into *rec; false at end of input. Blank lines
  // (no bytes between two line breaks) are skipped. A record longer than
  // max_record_bytes is Error(kDataErr) "PATH:LINE: ...".
  bool Next(CsvRecord* rec);
  // The header's column names: an error in a field then names its column
  // ("field 6 ('text')"), not only its number.
  void NameFields(std::vector<std::string> names) { names_ = std::move(names); }

 private:
  bool ReadQuoted(CsvRecord* rec, std::string* field, size_t* bytes);
  void CheckSize(size_t bytes, int64_t line) const;
  std::string FieldLabel(size_t number) const;

  ByteSource* src_;
  char delim_;
  size_t max_bytes_;
  int64_t line_ = 1;
  std::vector<std::string> names_;
};

// Appends one field to a CSV/TSV record (RFC 4180): quoted when it holds the
// delimiter, a quote, a line break, or blanks at either end, with the quotes
// inside doubled.
void AppendCsvField(std::string* out, const std::string& field, char delimiter);

// ---- lines ----------------------------------------------------------------------

// Splits input into lines at LF, dropping a trailing CR (CRLF files).
class LineReader {
 public:
  explicit LineReader(ByteSource* src, size_t max_line_bytes = kDefaultMaxRecordBytes)
      : src_(src), max_bytes_(max_line_bytes) {}
  // Reads the next line (without its terminator) into *line; false at end. A
  // line longer than max_line_bytes is Error(kDataErr) "PATH:LINE: ...".
  bool Next(std::string* line);
  int64_t line_number() const { return line_; }  // of the line last returned

 private:
  ByteSource* src_;
  size_t max_bytes_;
  int64_t line_ = 0;
};

// The message of a record over the size limit (shared by the readers).
[[noreturn]] void FailRecordTooLong(const std::string& path, int64_t line, size_t limit);

// ---- atomic output ---------------------------------------------------------------

// Writes an output file so that readers never see it half-written:
// - a regular file or a new path: the bytes go to "<target>.tmp.<pid>" in the
//   same folder, which Commit() flushes, fsyncs and renames over the target
//   (then fsyncs the folder); destroyed without Commit() (an error, an
//   exception) the temporary file is removed and the target is untouched;
//   a file replaced keeps its permission bits and, where this process may
//   set it, its group; a link under the temporary name is never followed;
// - a symbolic link: its final target is what gets replaced, the link stays;
// - a character device, FIFO or socket (/dev/null, a named pipe), or any
//   existing path under /dev or /proc (/dev/stdout, /dev/fd/3, whatever the
//   descriptor is open on): written straight through, no temporary file;
// - "-": stdout, written straight through.
// Temporary files left by processes that no longer exist are removed first.
// Throws Error(kCantCreate) when the file cannot be created (a directory, a
// read-only folder) and Error(kIoErr) when writing fails (disk full).
// An AtomicFile never replaces a file this process noted as an input (by
// device and inode, so links count): a mistyped --out that names the reviews,
// the items or the workspace is Error(kUsage) before anything is written, or at
// Commit() when the input was opened after the output.
void NoteInputFile(const std::string& path);

// Fails now, before any work, when an input or output names a descriptor
// this process was started without (a shell's `<&-` or `>&-`): "-" is
// standard input as an input and standard output as an output; /dev/stdin,
// /dev/stdout, /dev/fd/N and /proc/self/fd/N name theirs. Exit 66 for an
// input, 73 for an output. Two inputs that both read standard input (as a
// pipe or terminal: "-" always) are Error(kUsage): the second would see
// nothing. Other paths are left to the readers and writers.
void CheckDescriptorsOpen(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);

// Fails now, before any work (Error(kUsage)), when two outputs of one command
// name the same file (as given, through links, or through a folder's other
// names): `--out x.json --manifest x.json` would replace the lists with the
// manifest. Standard output, devices and descriptors are streams, not files,
// and are not compared.
void CheckOutputsDistinct(const std::vector<std::string>& outputs);

// Fails now, before any work, for output names avrec cannot honour: one
// ending in ".gz" (Error(kUsage): avrec writes no compressed output, and
// would put plain text under a gzip name), one longer than its folder holds
// (Error(kCantCreate), 255 bytes on Linux's file systems; found otherwise
// only when the finished file is renamed into place). Streams and devices
// are not names.
void CheckOutputNames(const std::vector<std::string>& outputs);

// Fails now, before any work, for an output the command could only fail to
// write at the end: a folder that does not exist (unless `creates_folders`:
// then the nearest existing one must take new names), or that this user
// cannot write (Error(kCantCreate), naming the folder); a path that is a
// folder; an existing file that is also one of `inputs` (Error(kUsage), as
// AtomicFile refuses it later); a file in a sticky folder (/tmp) that belongs
// to another user, which only its owner may replace. Streams, devices and
// FIFOs are written straight through and not checked.
void CheckOutputsCreatable(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                           bool creates_folders);
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
  friend void CommitTogether(AtomicFile* a, AtomicFile* b);
  void Finish();   // flush, fsync and close
  void Replace();  // rename the temporary file over the target

  std::string path_, target_, tmp_;
  std::FILE* f_ = nullptr;
  bool direct_ = false;  // written straight through (stdout, a device, a pipe)
  bool finished_ = false;
  bool committed_ = false;
  int slot_ = -1;  // in the signal handler's list of temporary files
};

// Commits two files so that both change or neither does (a failure to put
// the second in place restores the first). For outputs that belong
// together, e.g. the train and test halves of a split.
void CommitTogether(AtomicFile* a, AtomicFile* b);

// Registers a temporary file for the signal handler to remove
// (InstallSignalCleanup); returns its slot (-1 when none is free).
int RegisterTempFile(const std::string& path);
void ReleaseTempFile(int slot);

// This process's temporary name for `path`: "<path>.tmp.<pid>" beside it,
// `tag` in place of ".tmp." if given. A file name longer than the 255 bytes
// a folder entry holds is cut short before the tag (at a character
// boundary), leaving room for SQLite's "-journal" after the pid: any name
// that can be an output has a temporary name.
std::string TemporaryPath(const std::string& path, const std::string& tag = ".tmp.");

// Removes the temporary files of `path` (TemporaryPath) whose process no
// longer exists (left by a killed run); returns how many.
int RemoveStaleTemps(const std::string& path);

// The file a path finally names: symbolic links followed, also a dangling
// one (its target is what gets created). Error(kCantCreate) past 40 links.
std::string FollowLinks(std::string path);

// The folder a path is in: "." for a bare name, "/" for a file at the root.
std::string FolderOf(const std::string& path);

// Why this process cannot make a new file in `folder`, or "" when nothing
// says it cannot: "the folder F does not exist", "F is not a folder", "the
// folder F is not writable by this user (Permission denied)", "the folder F
// cannot be reached (...)". For outputs and new workspaces alike.
std::string WhyNoNewFileIn(const std::string& folder);

// Installs SIGINT/SIGTERM/SIGHUP handlers that remove the temporary files of
// unfinished AtomicFiles, then die of the signal, and ignores SIGXFSZ (so a
// file size limit is a write error). Call once, from main.
void InstallSignalCleanup();

// Whole-file helpers.
// Error(kNoInput) / Error(kIoErr); a file (or stream: /dev/urandom) longer
// than `max_bytes` is Error(`too_long`) naming it and the limit, for files
// that are small by nature (a config, a manifest).
std::string ReadFileToString(const std::string& path, size_t max_bytes = SIZE_MAX,
                             ExitCode too_long = ExitCode::kDataErr);
// The longest config or manifest file read: 16 MiB.
constexpr size_t kMaxSmallFileBytes = size_t{16} << 20;
void WriteFileAtomically(const std::string& path, std::string_view bytes);
// Writes to standard output and flushes it; a full disk, a closed descriptor
// or a reader that went away is kIoErr naming standard output, never a
// silent exit 0.
void WriteStdout(std::string_view bytes);
// Flushes standard output (C and C++ streams); kIoErr when anything written
// to it since the start was lost. Main calls it before reporting success.
void CheckStdoutWritten();

// Lower-case file extension after stripping ".gz": "a/b.CSV.gz" -> "csv".
std::string DataExtension(const std::string& path);
// Whether an input's name says nothing of its format, so that its content
// must: "-" (stdin), a name without an extension (/dev/fd/N, a FIFO), or one
// whose extension says only "text" (.txt, .dat, .data: Last.fm's files).
bool FormatFromContent(const std::string& path);
bool IsGzipPath(const std::string& path);

}  // namespace avrec
