#include <sys/stat.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "avrec/error.h"
#include "avrec/io.h"

namespace avrec {

namespace {
constexpr size_t kBufferSize = 1 << 16;
}

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

ByteSource::ByteSource(const std::string& path) : path_(path), buf_(kBufferSize) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) Fail(ExitCode::kNoInput, path, ": is a directory, expected a file");
  if (IsGzipPath(path)) {
    gzFile gz = gzopen(path.c_str(), "rb");
    if (gz == nullptr) Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
    gzbuffer(gz, kBufferSize);
    gz_ = gz;
  } else {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) Fail(ExitCode::kNoInput, path, ": cannot open: ", std::strerror(errno));
  }
}

ByteSource::~ByteSource() {
  if (file_ != nullptr) std::fclose(file_);
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

bool ByteSource::Fill() {
  size_t n = 0;
  if (gz_ != nullptr) {
    gzFile gz = static_cast<gzFile>(gz_);
    int got = gzread(gz, buf_.data(), static_cast<unsigned>(buf_.size()));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(gz, &errnum);
      if (errnum == Z_ERRNO) Fail(ExitCode::kIoErr, path_, ": read error: ", std::strerror(errno));
      Fail(ExitCode::kDataErr, path_, ": corrupt gzip data: ", msg);
    }
    if (got == 0) {
      int errnum = 0;
      const char* msg = gzerror(gz, &errnum);
      if (errnum != Z_OK && errnum != Z_STREAM_END) {
        Fail(ExitCode::kDataErr, path_, ": corrupt gzip data: ", msg);
      }
    }
    n = static_cast<size_t>(got);
  } else {
    n = std::fread(buf_.data(), 1, buf_.size(), file_);
    if (n == 0 && std::ferror(file_)) {
      Fail(ExitCode::kIoErr, path_, ": read error: ", std::strerror(errno));
    }
  }
  pos_ = 0;
  end_ = n;
  if (first_fill_) {
    first_fill_ = false;
    if (n >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    if (pos_ == end_) return Fill();
  }
  return n > 0;
}

std::string ReadFileToString(const std::string& path) {
  ByteSource src(path);
  std::string out;
  for (int c = src.Get(); c >= 0; c = src.Get()) out.push_back(static_cast<char>(c));
  return out;
}

}  // namespace avrec
