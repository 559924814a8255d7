#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <vector>

#include "avrec/error.h"
#include "avrec/io.h"
#include "common/fault.h"
#include "common/last_words.h"

namespace avrec {

namespace {

// Temporary files in flight, removed by the SIGINT/SIGTERM handler: fixed
// slots, so that the handler only calls async-signal-safe unlink().
constexpr int kSlots = 64;
char g_tmp_paths[kSlots][4096];
std::atomic<bool> g_tmp_used[kSlots];

// The regular files this process reads: (device, inode, name as given).
struct InputFile {
  dev_t dev;
  ino_t ino;
  std::string path;
};
std::mutex g_inputs_mutex;
std::vector<InputFile> g_inputs;

// Whether a noted input is still that file under its name: one deleted since
// may have handed its inode on to an unrelated file.
bool StillThere(const InputFile& in) {
  struct stat now;
  return ::stat(in.path.c_str(), &now) == 0 && now.st_dev == in.dev && now.st_ino == in.ino;
}

[[noreturn]] void FailReplacesInput(const std::string& path, const std::string& input) {
  Fail(ExitCode::kUsage, path, ": is also an input of this command (", input,
       "); refusing to replace it: write the output to another path");
}

// Error(kUsage) when `target` (an existing file or not) is a noted input.
void RefuseToReplaceAnInput(const std::string& path, const std::string& target) {
  struct stat st;
  if (::stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::lock_guard<std::mutex> lock(g_inputs_mutex);
  for (const InputFile& in : g_inputs) {
    if (in.dev == st.st_dev && in.ino == st.st_ino && StillThere(in)) FailReplacesInput(path, in.path);
  }
}

// Why `target`, an existing file, cannot be replaced by this process although
// its folder is writable: a folder with the sticky bit (/tmp, a shared
// drop folder) lets only the file's owner (or the folder's, or root) rename
// over it. "" when it can.
std::string StickyOwnerProblem(const std::string& target) {
  struct stat folder, file;
  const uid_t me = ::geteuid();
  if (me == 0 || ::stat(FolderOf(target).c_str(), &folder) != 0 || (folder.st_mode & S_ISVTX) == 0) return "";
  if (::lstat(target.c_str(), &file) != 0 || file.st_uid == me || folder.st_uid == me) return "";
  return " belongs to another user (uid " + std::to_string(file.st_uid) + ") in " + FolderOf(target) +
         ", a folder with the sticky bit (as /tmp has), where only a file's owner may replace it: write to another "
         "name, or have its owner remove it";
}

int RegisterTemp(const std::string& path) {
  if (path.size() >= sizeof g_tmp_paths[0]) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_tmp_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_tmp_paths[i], path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void ReleaseTemp(int slot) {
  if (slot >= 0) g_tmp_used[slot].store(false);
}

extern "C" void RemoveTempsAndDie(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_tmp_used[i].load()) ::unlink(g_tmp_paths[i]);
  }
  WriteSignalLastWords(sig);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// A path under /dev or /proc (/dev/stdout, /dev/fd/3, /proc/self/fd/1): a
// stream or descriptor, never a file of ours to replace or compare.
bool UnderDevOrProc(const std::string& path) { return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0; }

std::string Base(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Error(kCantCreate): `path` (finally naming `target`) cannot be created,
// for the reason `why`.
[[noreturn]] void FailCannotCreate(const std::string& path, const std::string& target, const std::string& why) {
  const std::string link = target == path ? "" : " (a link to " + target + ")";
  Fail(ExitCode::kCantCreate, path, link, ": cannot create output: ", why);
}

// The same for errno `err` of creating it: the folder's problem where it has
// one, else the OS's word.
[[noreturn]] void FailCannotCreate(const std::string& path, const std::string& target, int err) {
  const std::string why = WhyNoNewFileIn(FolderOf(target));
  FailCannotCreate(path, target, why.empty() ? std::string(std::strerror(err)) : why);
}

// The descriptor a path names (/dev/stdout, /dev/fd/3, /proc/self/fd/3), or
// -1. Writing through it keeps how the caller opened it (appending, say),
// which reopening the path would not.
int InheritedDescriptor(const std::string& path) {
  if (path == "/dev/stdin") return 0;
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) == 0) {
      char* end = nullptr;
      const long fd = std::strtol(path.c_str() + n, &end, 10);
      if (end != path.c_str() + n && *end == '\0' && fd >= 0 && fd < INT_MAX) return static_cast<int>(fd);
    }
  }
  return -1;
}

}  // namespace

void InstallSignalCleanup() {
  std::signal(SIGINT, RemoveTempsAndDie);
  std::signal(SIGTERM, RemoveTempsAndDie);
  std::signal(SIGHUP, RemoveTempsAndDie);
  // The reader of a pipe avrec writes to went away (`avrec ... | head`): the
  // run still dies of it, as a pipeline expects, but cleans up and says so.
  std::signal(SIGPIPE, RemoveTempsAndDie);
  // Past a file size limit (ulimit -f), writes fail with EFBIG (exit 74,
  // temporary files removed) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
}

int RegisterTempFile(const std::string& path) { return RegisterTemp(path); }
void ReleaseTempFile(int slot) { ReleaseTemp(slot); }

namespace {

// The part of a temporary file's name before its pid (TemporaryPath).
std::string TemporaryPrefix(const std::string& path, const std::string& tag) {
  // 255 bytes in a name: the tag, a pid of up to 7 digits and "-journal".
  constexpr size_t kNameMax = 255, kAfterTag = 7 + 8;
  std::string base = Base(path);
  const size_t room = kNameMax - std::min(kNameMax, tag.size() + kAfterTag);
  if (base.size() > room) {
    size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    base.resize(cut);
  }
  return base + tag;
}

}  // namespace

std::string TemporaryPath(const std::string& path, const std::string& tag) {
  const size_t slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return folder + TemporaryPrefix(path, tag) + std::to_string(::getpid());
}

int RemoveStaleTemps(const std::string& path) {
  const std::string dir = FolderOf(path), prefix = TemporaryPrefix(path, ".tmp.");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || (*end != '\0' && *end != '-') || pid == ::getpid()) continue;  // also NAME.tmp.PID-journal
    // A process that no longer exists left it behind.
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH && ::unlink((dir + "/" + name).c_str()) == 0) {
      ++removed;
    }
  }
  ::closedir(d);
  return removed;
}

std::string FollowLinks(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return path;
    const std::string target(buf, static_cast<size_t>(n));
    path = target.front() == '/' ? target : FolderOf(path) + "/" + target;
  }
  Fail(ExitCode::kCantCreate, path, ": too many levels of symbolic links");
}

void NoteInputFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::lock_guard<std::mutex> lock(g_inputs_mutex);
  // Forget inputs that are gone from their names (a long-lived process).
  g_inputs.erase(std::remove_if(g_inputs.begin(), g_inputs.end(), [](const InputFile& in) { return !StillThere(in); }),
                 g_inputs.end());
  for (const InputFile& in : g_inputs) {
    if (in.dev == st.st_dev && in.ino == st.st_ino) return;
  }
  g_inputs.push_back({st.st_dev, st.st_ino, path});
}

void CheckDescriptorsOpen(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
  // Standard input as a stream can feed one input only; a regular file
  // redirected with < is opened anew by each /dev/stdin.
  struct stat in_st;
  const bool stdin_stream = ::fstat(0, &in_st) == 0 && !S_ISREG(in_st.st_mode);
  const std::string* first_stdin = nullptr;
  for (const std::string& path : inputs) {
    if (path != "-" && InheritedDescriptor(path) != 0) continue;
    if (path == "-" || stdin_stream) {
      if (first_stdin != nullptr) {
        Fail(ExitCode::kUsage, "two inputs read standard input ('", *first_stdin, "' and '", path,
             "'), which can feed only one; give the others as files");
      }
      first_stdin = &path;
    }
  }
  for (const bool output : {false, true}) {
    for (const std::string& path : output ? outputs : inputs) {
      const int fd = path == "-" ? (output ? 1 : 0) : InheritedDescriptor(path);
      if (fd < 0 || ::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
      const std::string what = fd == 0   ? "standard input"
                               : fd == 1 ? "standard output"
                                         : "descriptor " + std::to_string(fd);
      const std::string redirect = (fd == 0 || fd == 1 ? "" : std::to_string(fd)) + (output ? ">&-" : "<&-");
      Fail(output ? ExitCode::kCantCreate : ExitCode::kNoInput, path, ": ", what,
           " is closed (was the command started with ", redirect, "?)");
    }
  }
}

void CheckOutputsDistinct(const std::vector<std::string>& outputs) {
  std::vector<std::pair<std::string, const std::string*>> seen;  // (the file it finally names, as given)
  for (const std::string& path : outputs) {
    if (path.empty() || path == "-" || UnderDevOrProc(path)) continue;
    const std::string target = FollowLinks(path);
    char dir[PATH_MAX];
    const std::string file =
        ::realpath(FolderOf(target).c_str(), dir) != nullptr ? std::string(dir) + "/" + Base(target) : target;
    for (const auto& [other_file, other] : seen) {
      if (other_file == file) {
        Fail(ExitCode::kUsage, "'", *other, "' and '", path,
             "' name the same file as two outputs of this command (the second would replace the first); give each "
             "its own path");
      }
    }
    seen.emplace_back(file, &path);
  }
}

void CheckOutputsCreatable(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                           bool creates_folders) {
  for (const std::string& path : outputs) {
    if (path.empty() || path == "-" || UnderDevOrProc(path)) continue;
    struct stat st;
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) Fail(ExitCode::kCantCreate, path, ": is a directory, expected a file path");
    if (exists && !S_ISREG(st.st_mode)) continue;  // a FIFO, a device: written straight through
    const std::string target = FollowLinks(path);
    if (exists) {
      for (const std::string& in : inputs) {
        struct stat is;
        if (in != "-" && !UnderDevOrProc(in) && ::stat(in.c_str(), &is) == 0 && is.st_dev == st.st_dev &&
            is.st_ino == st.st_ino) {
          FailReplacesInput(path, in);
        }
      }
    }
    // The folder the file is created in (or, where the command creates
    // missing folders, the nearest one there is) must take a new name.
    std::string folder = FolderOf(target);
    struct stat fs;
    while (::stat(folder.c_str(), &fs) != 0 && errno == ENOENT && creates_folders && folder != "/" && folder != ".") {
      folder = FolderOf(folder);
    }
    if (const std::string why = WhyNoNewFileIn(folder); !why.empty()) FailCannotCreate(path, target, why);
    const std::string sticky = exists ? StickyOwnerProblem(target) : "";
    if (!sticky.empty()) Fail(ExitCode::kCantCreate, path, ":", sticky);
  }
}

void CheckOutputNames(const std::vector<std::string>& outputs) {
  for (const std::string& path : outputs) {
    if (path.empty() || path == "-" || UnderDevOrProc(path)) continue;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) continue;  // a FIFO, a device
    if (IsGzipPath(path)) {
      Fail(ExitCode::kUsage, path,
           ": avrec writes no compressed output; write to - and pipe it through gzip (... | gzip > ", path, ")");
    }
    const std::string target = FollowLinks(path), name = Base(target);
    const long max = ::pathconf(FolderOf(target).c_str(), _PC_NAME_MAX);
    const size_t limit = max > 0 ? static_cast<size_t>(max) : 255;
    if (name.size() > limit) {
      Fail(ExitCode::kCantCreate, path, ": a file name of ", name.size(), " bytes; its folder holds names of at most ",
           limit);
    }
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    direct_ = true;
    f_ = stdout;
    return;
  }
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) {  // follows links, /dev/stdout -> /proc/self/fd/1 -> a pipe included
    if (S_ISDIR(st.st_mode)) Fail(ExitCode::kCantCreate, path_, ": is a directory, expected a file path");
    const bool descriptor = UnderDevOrProc(path_);
    if (descriptor || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISBLK(st.st_mode)) {
      // A device, a pipe, a socket, or an open descriptor (/dev/stdout while
      // the shell appends to a file): written straight through. There is no
      // file of ours to replace, and no atomicity to have.
      direct_ = true;
      const int fd = InheritedDescriptor(path_);
      f_ = fd >= 0 ? ::fdopen(::dup(fd), "wb") : std::fopen(path_.c_str(), "wb");
      if (f_ == nullptr) Fail(ExitCode::kCantCreate, path_, ": cannot open for writing: ", std::strerror(errno));
      return;
    }
  }
  target_ = FollowLinks(path_);
  RefuseToReplaceAnInput(path_, target_);
  RemoveStaleTemps(target_);
  tmp_ = TemporaryPath(target_);
  slot_ = RegisterTemp(tmp_);
  // The new file takes the permissions (and, where allowed, the group) of the
  // one it replaces: a list someone made private stays private, from the
  // first byte. O_EXCL | O_NOFOLLOW: a link planted under the temporary
  // name (a shared folder) is never followed; the name holds this pid, so
  // whatever is there was left by a process that is gone, and is removed.
  struct stat old;
  const bool replaces = ::stat(target_.c_str(), &old) == 0 && S_ISREG(old.st_mode);
  const mode_t mode = replaces ? (old.st_mode & 0777) : 0666;
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp_.c_str(), flags, mode);
  if (fd < 0 && errno == EEXIST && ::unlink(tmp_.c_str()) == 0) fd = ::open(tmp_.c_str(), flags, mode);
  if (fd >= 0 && replaces) {
    if (::fchown(fd, static_cast<uid_t>(-1), old.st_gid) != 0) {
      // not a member of that group: the file keeps this process's group
    }
    ::fchmod(fd, mode);  // exactly the old bits, whatever the umask took away
  }
  f_ = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
  if (f_ == nullptr) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ReleaseTemp(slot_);
    FailCannotCreate(path_, target_, err);
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (direct_) {
    if (f_ != nullptr && f_ != stdout) std::fclose(f_);
    return;
  }
  if (f_ != nullptr) std::fclose(f_);
  std::remove(tmp_.c_str());
  ReleaseTemp(slot_);
}

void AtomicFile::Write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) {
    Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
  }
}

void AtomicFile::Finish() {
  if (finished_) return;
  finished_ = true;
  if (direct_) {
    if (std::fflush(f_) != 0) Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
    if (f_ != stdout && std::fclose(f_) != 0) {
      f_ = nullptr;
      Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
    }
    f_ = nullptr;
    return;
  }
  if (std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0) {
    Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
  }
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) Fail(ExitCode::kIoErr, path_, ": write error: ", std::strerror(errno));
}

void AtomicFile::Replace() {
  RefuseToReplaceAnInput(path_, target_);  // an input opened after this output
  FaultPoint("output.rename");
  if (std::rename(tmp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    const std::string sticky = err == EPERM ? StickyOwnerProblem(target_) : "";
    if (!sticky.empty()) Fail(ExitCode::kCantCreate, path_, ":", sticky);
    Fail(ExitCode::kCantCreate, path_, ": cannot rename ", tmp_, " into place: ", std::strerror(err));
  }
  ReleaseTemp(slot_);
  // Make the rename itself durable.
  const int dir = ::open(FolderOf(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void AtomicFile::Commit() {
  if (committed_) return;
  Finish();
  if (!direct_) Replace();
  committed_ = true;
}

void CommitTogether(AtomicFile* a, AtomicFile* b) {
  a->Finish();
  b->Finish();
  if (a->direct_ || b->direct_) {  // nothing to roll back on a stream
    a->Commit();
    b->Commit();
    return;
  }
  // Keep the current version of a's target, so that a failure to replace b
  // can put it back: then both or neither changed.
  const std::string backup = TemporaryPath(a->target_, ".old.");
  const bool had_old = ::link(a->target_.c_str(), backup.c_str()) == 0;
  a->Replace();
  try {
    b->Replace();
  } catch (...) {
    if (had_old) {
      std::rename(backup.c_str(), a->target_.c_str());
    } else {
      std::remove(a->target_.c_str());
    }
    throw;
  }
  if (had_old) std::remove(backup.c_str());
  a->committed_ = b->committed_ = true;
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.Write(bytes);
  f.Commit();
}

namespace {

// kIoErr when standard output lost anything; `write_errno`: the error of a
// write just made (0: none), named when the flush reports none of its own.
void CheckStdout(int write_errno) {
  errno = 0;
  std::cout.flush();
  const bool lost = std::fflush(stdout) != 0 || std::ferror(stdout) != 0 || !std::cout;
  const int error = errno != 0 ? errno : write_errno != 0 ? write_errno : EIO;
  if (lost) Fail(ExitCode::kIoErr, "standard output: write error: ", std::strerror(error));
}

}  // namespace

void WriteStdout(std::string_view bytes) {
  errno = 0;
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size();
  CheckStdout(written ? 0 : errno);
}

void CheckStdoutWritten() { CheckStdout(0); }

std::string FolderOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string WhyNoNewFileIn(const std::string& folder) {
  struct stat st;
  if (::stat(folder.c_str(), &st) != 0) {
    if (errno == ENOENT) return "the folder " + folder + " does not exist";
    if (errno == ENOTDIR) return folder + " is not a folder";  // a file on the way
    return "the folder " + folder + " cannot be reached (" + std::strerror(errno) + ")";
  }
  if (!S_ISDIR(st.st_mode)) return folder + " is not a folder";
  if (::faccessat(AT_FDCWD, folder.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return "the folder " + folder + " is not writable by this user (" + std::strerror(errno) + ")";
  }
  return "";
}

}  // namespace avrec
