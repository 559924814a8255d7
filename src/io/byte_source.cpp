#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

namespace {

constexpr size_t kBufferSize = 1 << 16;

// What the first bytes of a text file say about its encoding when it is not
// UTF-8: a byte-order mark, or NUL bytes in the pattern of UTF-16/32 text.
// Returns "" for anything that may be UTF-8.
std::string ForeignEncoding(const char* p, size_t n) {
  const auto starts = [&](const char* bom, size_t len) { return n >= len && std::memcmp(p, bom, len) == 0; };
  // Files that are not text at all, by their magic numbers, with what to do.
  static const struct {
    const char* magic;
    size_t len;
    const char* what;
  } kMagic[] = {
      {"\x1F\x8B", 2, "gzip-compressed data (name it with .gz at the end, or decompress it with gunzip)"},
      {"PK\x03\x04", 4, "a ZIP archive (an Excel workbook? save it as CSV UTF-8)"},
      {"SQLite format 3", 16, "an SQLite database (an avrec workspace? give it as --workspace)"},
      {"\xFD"
       "7zXZ",
       6, "xz-compressed data (decompress it with unxz)"},
      {"\x28\xB5\x2F\xFD", 4, "zstd-compressed data (decompress it with unzstd)"},
      {"%PDF-", 5, "a PDF document"},
      {"\x89PNG", 4, "a PNG image"},
      {"\xFF\xD8\xFF", 3, "a JPEG image"},
  };
  for (const auto& m : kMagic) {
    if (starts(m.magic, m.len)) return m.what;
  }
  if (starts("\xFF\xFE\x00\x00", 4)) return "UTF-32LE";
  if (starts("\x00\x00\xFE\xFF", 4)) return "UTF-32BE";
  if (starts("\xFF\xFE", 2)) return "UTF-16LE";
  if (starts("\xFE\xFF", 2)) return "UTF-16BE";
  const size_t k = std::min<size_t>(n, 256);
  size_t nul_even = 0, nul_odd = 0;
  for (size_t i = 0; i < k; ++i) {
    if (p[i] == '\0') ++(i % 2 == 0 ? nul_even : nul_odd);
  }
  if (k >= 8 && nul_even + nul_odd == k) return "binary data (only NUL bytes)";
  // UTF-16 puts a NUL beside every ASCII character (the header, ids,
  // digits, commas), on one side; other scripts put few on the other side
  // (Chinese: characters such as U+4E00, 一). UTF-32 has NULs on both.
  const size_t some = std::max<size_t>(2, k / 16);
  if (k >= 8 && nul_odd >= some && nul_odd >= 4 * nul_even) return "UTF-16LE";
  if (k >= 8 && nul_even >= some && nul_even >= 4 * nul_odd) return "UTF-16BE";
  if (k >= 8 && nul_even + nul_odd >= k / 2) return "UTF-32 or binary data";
  return "";
}

}  // namespace

bool IsGzipPath(const std::string& path) { return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }

std::string DataExtension(const std::string& path) {
  std::string p = IsGzipPath(path) ? path.substr(0, path.size() - 3) : path;
  size_t slash = p.find_last_of('/');
  size_t dot = p.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = p.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool FormatFromContent(const std::string& path) {
  if (path == "-") return true;
  const std::string ext = DataExtension(path);
  return ext.empty() || ext == "txt" || ext == "dat" || ext == "data";
}

struct ByteSource::Gzip {
  z_stream z{};
  std::vector<char> in = std::vector<char>(kBufferSize);
  bool started = false;      // the magic number was checked
  bool member_done = false;  // the last member ended; anything after must be another member
  bool eof = false;
};

void CheckInputFile(const std::string& path) {
  if (path == "-") return;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
  if (S_ISDIR(st.st_mode)) Fail(ExitCode::kNoInput, path, ": is a directory, expected a file");
  if (::access(path.c_str(), R_OK) != 0) Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
}

ByteSource::ByteSource(const std::string& path, Rewrite rewrite) : path_(path), buf_(kBufferSize) {
  if (path == "-") {
    fd_ = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) Fail(ExitCode::kNoInput, "-: cannot read standard input: ", std::strerror(errno));
    gzip_by_content_ = true;
    return;
  }
  CheckInputFile(path);
  struct stat st;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    regular_ = true;
    opened_size_ = static_cast<int64_t>(st.st_size);
    opened_mtime_s_ = static_cast<int64_t>(st.st_mtim.tv_sec);
    opened_mtime_ns_ = static_cast<int64_t>(st.st_mtim.tv_nsec);
  }
  if (rewrite == Rewrite::kNo) NoteInputFile(path);
  if (IsGzipPath(path)) {
    StartGzip();
  } else {
    gzip_by_content_ = FormatFromContent(path);
  }
}

void ByteSource::CheckUnchangedAtEnd() {
  if (!regular_ || checked_at_end_) return;
  checked_at_end_ = true;
  struct stat st;
  if (::fstat(fd_, &st) != 0) Fail(ExitCode::kIoErr, path_, ": cannot stat: ", std::strerror(errno));
  const auto size = static_cast<int64_t>(st.st_size);
  if (size == opened_size_ && st.st_mtim.tv_sec == opened_mtime_s_ && st.st_mtim.tv_nsec == opened_mtime_ns_) return;
  Fail(ExitCode::kTempFail, path_, ": changed while it was read (", opened_size_, " bytes when opened, ", size,
       " now): is it still being written? Run again once its writer is done");
}

void ByteSource::StartGzip() {
  gz_ = std::make_unique<Gzip>();
  if (inflateInit2(&gz_->z, 16 + MAX_WBITS) != Z_OK) Fail(ExitCode::kSoftware, "zlib: inflateInit2 failed");
}

ByteSource::~ByteSource() {
  if (gz_) inflateEnd(&gz_->z);
  if (fd_ >= 0) ::close(fd_);
}

size_t ByteSource::ReadRaw(char* dst, size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd_, dst, size);
    if (n > 0) read_bytes_ += n;
    if (n > 0 && regular_ && read_bytes_ > opened_size_ && opened_size_ > 0) {
      // Past the size it had when opened: a writer is appending (and might
      // keep the read going forever). Pseudo-files that say 0 are let be.
      CheckUnchangedAtEnd();
    }
    if (n == 0 && size > 0) CheckUnchangedAtEnd();
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) Fail(ExitCode::kIoErr, path_, ": read error: ", std::strerror(errno));
  }
}

size_t ByteSource::ReadGzip(char* dst, size_t size) {
  Gzip& g = *gz_;
  g.z.next_out = reinterpret_cast<Bytef*>(dst);
  g.z.avail_out = static_cast<uInt>(size);
  while (g.z.avail_out == size && !g.eof) {
    if (g.z.avail_in == 0) {
      const size_t n = ReadRaw(g.in.data(), g.in.size());
      if (n == 0) {
        if (!g.member_done) Fail(ExitCode::kDataErr, path_, ": corrupt gzip data: unexpected end of file");
        g.eof = true;
        break;
      }
      g.z.next_in = reinterpret_cast<Bytef*>(g.in.data());
      g.z.avail_in = static_cast<uInt>(n);
      if (!g.started &&
          (n < 2 || static_cast<unsigned char>(g.in[0]) != 0x1F || static_cast<unsigned char>(g.in[1]) != 0x8B)) {
        Fail(ExitCode::kDataErr, path_, ": not gzip data (the name ends in .gz); rename the file without .gz");
      }
      g.started = true;
    }
    if (g.member_done) {
      // Another member may follow (concatenated .gz files); anything else is junk.
      if (static_cast<unsigned char>(g.z.next_in[0]) != 0x1F ||
          (g.z.avail_in >= 2 && static_cast<unsigned char>(g.z.next_in[1]) != 0x8B)) {
        Fail(ExitCode::kDataErr, path_, ": unexpected bytes after the end of the gzip data (trailing junk)");
      }
      inflateReset(&g.z);
      g.member_done = false;
    }
    const int rc = inflate(&g.z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      g.member_done = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      Fail(ExitCode::kDataErr, path_, ": corrupt gzip data: ", g.z.msg != nullptr ? g.z.msg : "inflate failed");
    }
  }
  return size - g.z.avail_out;
}

size_t ByteSource::Read(char* dst, size_t size) { return gz_ ? ReadGzip(dst, size) : ReadRaw(dst, size); }

bool ByteSource::Fill() {
  size_t n = 0;
  if (first_fill_ && gzip_by_content_) {
    // The first raw bytes decide; if they are gzip's, they become its input.
    std::vector<char> first(kBufferSize);
    size_t raw = 0;
    for (size_t got = 1; raw < 2 && got > 0; raw += got) {  // a pipe may hand over one byte first
      got = ReadRaw(first.data() + raw, first.size() - raw);
    }
    if (raw >= 2 && static_cast<unsigned char>(first[0]) == 0x1F && static_cast<unsigned char>(first[1]) == 0x8B) {
      StartGzip();
      gz_->in.swap(first);
      gz_->z.next_in = reinterpret_cast<Bytef*>(gz_->in.data());
      gz_->z.avail_in = static_cast<uInt>(raw);
      gz_->started = true;
      n = ReadGzip(buf_.data(), buf_.size());
    } else {
      std::memcpy(buf_.data(), first.data(), raw);
      n = raw;
    }
  } else {
    n = Read(buf_.data(), buf_.size());
  }
  pos_ = 0;
  end_ = n;
  if (first_fill_) {
    first_fill_ = false;
    const std::string foreign = ForeignEncoding(buf_.data(), n);
    if (!foreign.empty()) {
      Fail(ExitCode::kDataErr, path_, ":1: not UTF-8: the file looks like ", foreign,
           foreign.rfind("UTF", 0) == 0
               ? "; convert it with: " + ConvertCommand(foreign.substr(0, foreign.find(' ')), path_)
               : "");
    }
    if (n >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    if (pos_ == end_ && n > 0) return Fill();
  }
  return n > 0;
}

std::string_view ByteSource::PeekLine(size_t limit) {
  if (pos_ == end_ && !Fill()) return {};
  for (;;) {
    const char* begin = buf_.data() + pos_;
    const void* nl = std::memchr(begin, '\n', end_ - pos_);
    if (nl != nullptr) return {begin, static_cast<size_t>(static_cast<const char*>(nl) - begin) + 1};
    if (end_ - pos_ >= limit) return {begin, end_ - pos_};
    // Move the unread bytes to the front, make room and read more.
    if (pos_ > 0) {
      std::memmove(buf_.data(), begin, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const size_t n = Read(buf_.data() + end_, buf_.size() - end_);
    if (n == 0) return {buf_.data(), end_};
    end_ += n;
  }
}

std::string ReadFileToString(const std::string& path, size_t max_bytes, ExitCode too_long) {
  ByteSource src(path);
  std::string out;
  for (int c = src.Get(); c >= 0; c = src.Get()) {
    if (out.size() == max_bytes) {
      Fail(too_long, path, ": longer than ", max_bytes >> 20, " MiB, which no file of this kind is (the wrong file?)");
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace avrec
