#include "avrec/workspace.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/options.h"
#include "avrec/text.h"
#include "common/fault.h"

namespace avrec {

namespace {

constexpr int kSchemaVersion = 1;

// Binds a run id, or NULL for none (0).
template <typename Statement>
void BindRun(Statement* s, int i, int64_t run) {
  if (run > 0) {
    s->Bind(i, run);
  } else {
    s->BindNull(i);
  }
}

// The workspace file a connection is on (for messages).
std::string DbPath(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return f != nullptr && *f != '\0' ? f : "workspace";
}

// Why this process cannot use the workspace at `path`, or "" when nothing
// says it cannot: the file itself (to write it), the write-ahead log files
// beside it (another user's session may leave them behind), or the folder
// SQLite would make them in. A reader needs them only readable: avrec
// leaves them beside the workspaces it opens (UseWal).
std::string WhyNotWritable(const std::string& path, bool to_write) {
  if (to_write && ::access(path.c_str(), W_OK) != 0) {
    return errno == EROFS ? std::string("the file is on a read-only file system")
                          : std::string("the file is not writable by this user (") + std::strerror(errno) + ")";
  }
  bool both = true;
  for (const std::string& f : {path + "-wal", path + "-shm"}) {
    if (::access(f.c_str(), F_OK) != 0) {
      both = false;
    } else if (::access(f.c_str(), to_write ? W_OK : R_OK) != 0) {
      return f + " beside it is not " + (to_write ? "writable" : "readable") + " by this user (" +
             std::strerror(errno) + (to_write ? "): did another user's run or session make it?" : ")");
    }
  }
  if (both) return "";  // nothing to create
  if (const std::string why = WhyNoNewFileIn(FolderOf(path)); !why.empty()) {
    if (to_write) return why + ", and SQLite keeps the write-ahead log there (-wal and -shm files)";
    // Removed (the last to close it was another program), or not copied.
    return why + ", and the write-ahead log files a reader needs beside it (" + path + "-wal and " + path +
           "-shm) are not there: open the workspace once as a user who can write the folder (any avrec command " +
           "on it leaves them there), or copy it with them";
  }
  return "";
}

// Maps an SQLite failure to avrec's exit codes, naming the workspace file.
[[noreturn]] void SqliteFail(sqlite3* db, int rc, const std::string& what) {
  const std::string path = DbPath(db);
  const std::string msg = sqlite3_errmsg(db);
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      Fail(ExitCode::kTempFail, path, ": the workspace is locked by another process (", msg,
           "); retry when it has finished (exit code 75)");
    case SQLITE_FULL:
      Fail(ExitCode::kIoErr, path, ": cannot write the workspace: ", msg, " (disk full?)");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      if (const std::string why = WhyNotWritable(path, /*to_write=*/true); !why.empty()) {
        Fail(ExitCode::kCantCreate, path, ": cannot write the workspace: ", why);
      }
      Fail(ExitCode::kIoErr, path, ": I/O error on the workspace: ", msg);
    case SQLITE_IOERR:
      Fail(ExitCode::kIoErr, path, ": I/O error on the workspace: ", msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      Fail(ExitCode::kDataErr, path, ": the workspace file is damaged or not a database: ", msg);
    default:
      Fail(ExitCode::kSoftware, path, ": sqlite error in ", what, ": ", msg);
  }
}

// A prepared statement, finalised on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
    if (rc != SQLITE_OK) SqliteFail(db, rc, std::string("preparing: ") + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& BindDouble(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& BindBlob(int i, const void* data, size_t size) {
    sqlite3_bind_blob(s_, i, data, static_cast<int>(size), SQLITE_TRANSIENT);
    return *this;
  }
  std::string Blob(int col) const {
    const void* b = sqlite3_column_blob(s_, col);
    return b == nullptr ? std::string()
                        : std::string(static_cast<const char*>(b), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // Steps once: true if a row is available.
  bool Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    SqliteFail(db_, rc, "a query");
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

void Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) SqliteFail(db, rc, sql);
}

// Statements prepared once and reset for each use, by their SQL: the
// per-row statements of an ingest or a scoring run, and those Forget runs
// once per id (a snapshot may name a hundred thousand ids).
class Prepared {
 public:
  explicit Prepared(sqlite3* db) : db_(db) {}
  sqlite3* db() const { return db_; }
  Stmt& operator()(const std::string& sql) {
    std::unique_ptr<Stmt>& s = by_sql_[sql];
    if (!s) s = std::make_unique<Stmt>(db_, sql.c_str());
    s->Reset();
    return *s;
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> by_sql_;
};

// A workspace item's tags, stored as a JSON array of strings: false when
// `json` is not one (strings are kept, anything else in it skipped).
bool ParseTags(const std::string& json, std::vector<std::string>* tags) {
  nlohmann::json parsed;
  std::string error;
  if (!ParseJson(json, &parsed, &error) || !parsed.is_array()) return false;
  for (const auto& t : parsed) {
    if (t.is_string()) tags->push_back(t.get<std::string>());
  }
  return true;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
  item_id TEXT PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',          -- JSON array of strings
  description TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  features TEXT NOT NULL DEFAULT '{}',      -- JSON object: column -> number or category
  content_hash TEXT NOT NULL,
  updated_run INTEGER);
CREATE TABLE IF NOT EXISTS feature_columns(
  ordinal INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  modality TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('numeric', 'categorical')));
CREATE TABLE IF NOT EXISTS reviews(
  review_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  text TEXT NOT NULL,
  rating REAL,
  timestamp INTEGER,
  text_key TEXT NOT NULL,                   -- sentiment cache key of the text
  content_hash TEXT NOT NULL,
  updated_run INTEGER);
CREATE INDEX IF NOT EXISTS reviews_by_user ON reviews(user_id);
CREATE INDEX IF NOT EXISTS reviews_by_item ON reviews(item_id);
CREATE TABLE IF NOT EXISTS sentiment_cache(
  model_key TEXT NOT NULL,
  text_key TEXT NOT NULL,
  label TEXT NOT NULL,
  score REAL NOT NULL,
  probs TEXT NOT NULL,                      -- JSON object: label -> probability
  flags TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model_key, text_key));
CREATE TABLE IF NOT EXISTS embedding_cache(
  model_key TEXT NOT NULL,
  text_key TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,                     -- dim float32 values, little-endian
  PRIMARY KEY (model_key, text_key));
CREATE TABLE IF NOT EXISTS runs(
  run_id INTEGER PRIMARY KEY,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  added INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  unchanged INTEGER NOT NULL,
  skipped INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS recommend_users(
  state TEXT NOT NULL,                      -- recommend --only-changed state key
  user_id TEXT NOT NULL,
  fingerprint INTEGER NOT NULL,             -- hash of everything the user's list depends on
  PRIMARY KEY (state, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recommendation_lists(
  run_id INTEGER NOT NULL,                  -- the recommend run (runs.run_id)
  user_id TEXT NOT NULL,
  cold_start INTEGER NOT NULL,
  history INTEGER NOT NULL,
  items TEXT NOT NULL,                      -- JSON array of item ids, best first
  PRIMARY KEY (run_id, user_id));
CREATE TABLE IF NOT EXISTS recommendations(
  run_id INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  score REAL NOT NULL,
  reason TEXT NOT NULL,                     -- the first reason in words
  PRIMARY KEY (run_id, user_id, rank));
)sql";

// Made by the first `avrec forget` (readers of an older workspace must not
// need the write lock to find it missing): the SHA-256 of each id removed.
constexpr const char* kForgottenSchema = R"sql(
CREATE TABLE IF NOT EXISTS forgotten(
  kind TEXT NOT NULL CHECK (kind IN ('user', 'review', 'item')),
  id_sha256 TEXT NOT NULL,
  run_id INTEGER NOT NULL,                  -- the forget run (runs.run_id)
  PRIMARY KEY (kind, id_sha256)) WITHOUT ROWID;
)sql";

bool HasTable(sqlite3* db, const char* name);

std::string ItemFeaturesJson(const ItemTable& t, const Item& item) {
  nlohmann::ordered_json f = nlohmann::ordered_json::object();
  for (size_t i = 0; i < t.numeric_columns.size(); ++i) {
    if (!std::isnan(item.numeric[i])) f[t.numeric_columns[i].name] = item.numeric[i];
  }
  for (size_t i = 0; i < t.categorical_columns.size(); ++i) {
    if (!item.categorical[i].empty()) f[t.categorical_columns[i].name] = item.categorical[i];
  }
  return f.dump();
}

// `begin` opens a transaction around `body`: committed when it returns,
// rolled back when it throws (rethrown). `writes`: the fault point before the
// commit applies.
void RunInTransaction(sqlite3* db, const char* begin, const std::function<void()>& body, bool writes) {
  Exec(db, begin);
  try {
    body();
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (writes) FaultPoint("workspace.commit");
  Exec(db, "COMMIT");
}

}  // namespace

int BusyTimeoutMs() {
  return static_cast<int>(
      WholeNumberFromEnv("AVREC_BUSY_TIMEOUT_MS", 10000, 0, 86400000, "milliseconds from 0 to 86400000 (a day)"));
}

std::string NormalizeReviewText(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    bool blank = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (blank) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string TextKey(const std::string& text) { return Sha256Hex(NormalizeReviewText(text)).substr(0, 32); }

std::string ItemTextKey(const Item& item) { return TextKey(SanitizeUtf8(ItemText(item))); }

namespace {

// rename(from, to) that fails with EEXIST where `to` exists, atomically
// where the file system can (renameat2's RENAME_NOREPLACE; else a hard
// link, which fails on an existing name too; else a check, then rename).
bool RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return false;
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());  // left behind, the next open removes it (RemoveStaleTemps)
    return true;
  }
  if (errno == EEXIST) return false;
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0) {
    errno = EEXIST;
    return false;
  }
  return std::rename(from.c_str(), to.c_str()) == 0;
}

sqlite3* OpenDb(const std::string& file, bool create, bool existed, const std::string& shown) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    if (db != nullptr && sqlite3_system_errno(db) != 0)
      msg += std::string(" (") + std::strerror(sqlite3_system_errno(db)) + ")";
    sqlite3_close(db);
    if (!existed) {
      // SQLite says only "unable to open database file"; the folder is why.
      if (const std::string why = WhyNoNewFileIn(FolderOf(file)); !why.empty()) msg = why;
    }
    Fail(existed ? ExitCode::kNoInput : ExitCode::kCantCreate, shown, ": cannot open workspace: ", msg);
  }
  sqlite3_busy_timeout(db, BusyTimeoutMs());
  NoteInputFile(file);  // no output of this process may replace it
  return db;
}

// The names of the tables; Error(kDataErr) when the file is not a database.
std::vector<std::string> Tables(sqlite3* db, const std::string& shown) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    if ((rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED) SqliteFail(db, rc, "opening");
    const int code = rc & 0xFF;
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM) {
      const std::string why = WhyNotWritable(shown, /*to_write=*/false);
      Fail(ExitCode::kNoInput, shown, ": cannot open the workspace: ", why.empty() ? msg : why);
    }
    // A database cut short (a copy interrupted, a full disk under another
    // tool) is a damaged workspace, not another kind of file.
    if (code == SQLITE_CORRUPT) {
      Fail(ExitCode::kDataErr, shown, ": the workspace is damaged (", msg,
           "): restore it from a copy, or build it again with `avrec ingest`");
    }
    Fail(ExitCode::kDataErr, shown, ": not an avrec workspace (", msg, ")");
  }
  std::vector<std::string> out;
  Stmt s(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

constexpr const char* kTableNames[] = {
    "meta", "items",           "feature_columns",      "reviews",        "sentiment_cache", "embedding_cache",
    "runs", "recommend_users", "recommendation_lists", "recommendations"};

bool HasTable(sqlite3* db, const char* name) {
  Stmt s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.Bind(1, std::string(name));
  return s.Step();
}

}  // namespace

void Workspace::CheckExists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    Fail(ExitCode::kNoInput, path, ": no such workspace (create it with `avrec ingest --workspace ", ShellWord(path),
         "`)");
  }
  // SQLite would open /dev/null or a FIFO, fail with "disk I/O error" and
  // leave its journal beside it (/dev/null-journal).
  if (!S_ISREG(st.st_mode)) {
    Fail(ExitCode::kNoInput, path, ": is ",
         S_ISDIR(st.st_mode)    ? "a directory"
         : S_ISFIFO(st.st_mode) ? "a FIFO"
         : S_ISCHR(st.st_mode)  ? "a character device"
         : S_ISBLK(st.st_mode)  ? "a block device"
         : S_ISSOCK(st.st_mode) ? "a socket"
                                : "not a regular file",
         ", expected a workspace file (a workspace is an SQLite database, a regular file with its journal beside it)");
  }
}

std::unique_ptr<Workspace> Workspace::Open(const std::string& path, bool create) {
  struct stat st;
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!create || exists) CheckExists(path);
  if (const size_t slash = path.find_last_of('/'), name = path.size() - (slash == std::string::npos ? 0 : slash + 1);
      name > 247) {
    Fail(ExitCode::kUsage, path, ": a workspace's file name can be at most 247 bytes (this one has ", name,
         "): SQLite keeps its journal beside it as NAME-journal, NAME-wal and NAME-shm");
  }
  // A new workspace is built under a temporary name and appears only when
  // the run that creates it succeeds (Persist); where `path` is a dangling
  // symbolic link, it appears at the link's target, beside which it is built.
  const std::string target = exists ? path : FollowLinks(path);
  RemoveStaleTemps(target);
  const std::string file = exists ? path : TemporaryPath(target);
  sqlite3* db = OpenDb(file, !exists, exists, path);
  std::unique_ptr<Workspace> ws(new Workspace(path, db));
  if (!exists) {
    ws->pending_file_ = file;
    ws->create_at_ = target;
    ws->temp_slot_ = RegisterTempFile(file);
  }
  const std::vector<std::string> tables = Tables(db, path);
  const bool has_meta = std::find(tables.begin(), tables.end(), "meta") != tables.end();
  if (!tables.empty() && !has_meta) Fail(ExitCode::kDataErr, path, ": not an avrec workspace (no meta table)");
  Exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
  if (tables.empty()) {
    // An empty file (touch, mktemp) becomes a workspace only for a command
    // that creates one: a reader would write the schema into it and then
    // find nothing there.
    if (!create) {
      Fail(ExitCode::kNoInput, path, ": an empty file, not yet a workspace (`avrec ingest -w ", ShellWord(path),
           " --reviews ... --items ...` makes one)");
    }
    ws->CreateSchema();
    return ws;
  }
  {
    Stmt s(db, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (!s.Step()) Fail(ExitCode::kDataErr, path, ": not an avrec workspace (no schema_version)");
    const int v = std::atoi(s.Text(0).c_str());
    if (v != kSchemaVersion) {
      Fail(ExitCode::kDataErr, path, ": workspace schema version ", v, " is not supported (this avrec reads version ",
           kSchemaVersion, ")");
    }
  }
  // Tables added within a schema version are created on first open: a write,
  // so only when one is missing (readers must not need the write lock).
  for (const char* t : kTableNames) {
    if (std::find(tables.begin(), tables.end(), t) == tables.end()) {
      ws->InTransaction([&] { Exec(db, kSchema); });
      break;
    }
  }
  ws->UseWal();
  ws->why_read_only_ = WhyNotWritable(path, /*to_write=*/true);
  return ws;
}

int64_t Workspace::CopyIntoMemoryIfReadOnly() {
  if (why_read_only_.empty() || !pending_file_.empty()) return 0;
  sqlite3* memory = nullptr;
  int rc = sqlite3_open(":memory:", &memory);
  if (rc != SQLITE_OK) {
    sqlite3_close(memory);
    Fail(ExitCode::kSoftware, path_, ": cannot open an in-memory database for the dry run");
  }
  sqlite3_backup* copy = sqlite3_backup_init(memory, "main", db_, "main");
  if (copy == nullptr) {
    const std::string msg = sqlite3_errmsg(memory);
    sqlite3_close(memory);
    Fail(ExitCode::kSoftware, path_, ": cannot copy the workspace into memory for the dry run: ", msg);
  }
  rc = sqlite3_backup_step(copy, -1);
  const int pages = sqlite3_backup_pagecount(copy);
  sqlite3_backup_finish(copy);
  if (rc != SQLITE_DONE) {
    sqlite3_close(memory);
    SqliteFail(db_, rc, "copying the workspace into memory for the dry run");
  }
  int64_t bytes = 0;
  {
    Stmt page_size(db_, "PRAGMA page_size");
    if (page_size.Step()) bytes = static_cast<int64_t>(pages) * page_size.Int(0);
  }
  cache_.reset();
  sqlite3_close(db_);
  db_ = memory;
  cache_ = std::make_unique<Cache>(db_);
  Exec(db_, "PRAGMA foreign_keys = ON;");
  why_read_only_.clear();
  return bytes;
}

void Workspace::UseWal() {
  // The log files stay beside the workspace when this connection closes
  // last (checkpointed first, the log then truncated to nothing): a reader
  // that cannot write the folder (an analyst's account, a published copy)
  // opens the workspace with them, where SQLite would otherwise have to
  // create them there, and fail.
  int keep = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &keep);
  Exec(db_, "PRAGMA journal_size_limit = 67108864");
  // Write-ahead logging: readers (an analyst's sqlite3 session, another
  // avrec reading) never block the nightly writer, nor it them. Persistent
  // in the file; switching needs a moment without other connections.
  {
    Stmt s(db_, "PRAGMA journal_mode");
    if (s.Step() && s.Text(0) == "wal") return;
  }
  const int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK && (rc & 0xFF) != SQLITE_BUSY && (rc & 0xFF) != SQLITE_LOCKED) SqliteFail(db_, rc, "WAL");
  // The log files appear at the first read; a run that reads nothing more
  // (the first ingest, which built the workspace under another name) would
  // close it without them.
  if (rc == SQLITE_OK) Exec(db_, "SELECT count(*) FROM sqlite_master");
}

struct Workspace::Cache : Prepared {
  using Prepared::Prepared;
};

void Workspace::Persist() {
  if (pending_file_.empty()) return;
  cache_.reset();
  sqlite3_close(db_);
  db_ = nullptr;
  // Never over a workspace another process created meanwhile (two first
  // ingests started together): the rename would drop everything that one
  // stored, and both would report success.
  if (!RenameNoReplace(pending_file_, create_at_)) {
    if (errno == EEXIST) {
      Fail(ExitCode::kTempFail, path_,
           ": another process created this workspace while this run was building it; nothing of this run was kept: "
           "run it again and it adds to that workspace (exit code 75)");
    }
    Fail(ExitCode::kCantCreate, path_, ": cannot move the new workspace into place: ", std::strerror(errno));
  }
  ReleaseTempFile(temp_slot_);
  pending_file_.clear();
  db_ = OpenDb(path_, false, true, path_);
  cache_ = std::make_unique<Cache>(db_);
  Exec(db_, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
  UseWal();
}

Workspace::Workspace(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), cache_(std::make_unique<Cache>(db)) {}

Workspace::~Workspace() {
  cache_.reset();
  sqlite3_close(db_);
  if (!pending_file_.empty()) {  // created by a run that did not succeed
    std::remove(pending_file_.c_str());
    std::remove((pending_file_ + "-journal").c_str());
    ReleaseTempFile(temp_slot_);
  }
}

void Workspace::CreateSchema() {
  InTransaction([&] {
    Exec(db_, kSchema);
    Stmt s(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?), ('created_by', 'avrec')");
    s.Bind(1, std::to_string(kSchemaVersion));
    s.Step();
  });
}

void Workspace::InSnapshot(const std::function<void()>& body) { RunInTransaction(db_, "BEGIN DEFERRED", body, false); }

void Workspace::InTransaction(const std::function<void()>& body) {
  RunInTransaction(db_, "BEGIN IMMEDIATE", body, true);
}

UpsertCounts Workspace::UpsertItems(const ItemTable& t) {
  UpsertCounts counts;
  // Register feature columns.
  {
    Stmt find(db_, "SELECT type FROM feature_columns WHERE name = ?");
    Stmt add(db_, "INSERT INTO feature_columns(name, modality, type) VALUES (?, ?, ?)");
    const auto reg = [&](const FeatureColumn& c, const std::string& type) {
      find.Reset();
      find.Bind(1, c.name);
      if (find.Step()) {
        if (find.Text(0) != type) {
          Fail(ExitCode::kDataErr, t.path, ": column '", c.name, "' is ", type, " here but ", find.Text(0),
               " in the workspace");
        }
        return;
      }
      add.Reset();
      add.Bind(1, c.name).Bind(2, c.modality).Bind(3, type);
      add.Step();
    };
    for (const auto& c : t.numeric_columns) reg(c, "numeric");
    for (const auto& c : t.categorical_columns) reg(c, "categorical");
  }
  Stmt get(db_, "SELECT content_hash FROM items WHERE item_id = ?");
  Stmt put(db_,
           "INSERT INTO items(item_id, title, tags, description, kind, features, content_hash, updated_run) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(item_id) DO UPDATE SET title = ?2, tags = ?3, "
           "description = ?4, kind = ?5, features = ?6, content_hash = ?7, updated_run = ?8");
  for (const Item& item : t.items) {
    std::string tags = nlohmann::json(item.tags).dump();
    std::string features = ItemFeaturesJson(t, item);
    std::string hash =
        Sha256Hex(item.title + '\x1f' + tags + '\x1f' + item.description + '\x1f' + item.kind + '\x1f' + features);
    get.Reset();
    get.Bind(1, item.item_id);
    bool exists = get.Step();
    if (exists && get.Text(0) == hash) {
      ++counts.unchanged;
      continue;
    }
    ++(exists ? counts.updated : counts.added);
    put.Reset();
    put.Bind(1, item.item_id).Bind(2, item.title).Bind(3, tags).Bind(4, item.description).Bind(5, item.kind);
    put.Bind(6, features).Bind(7, hash);
    BindRun(&put, 8, current_run_);
    put.Step();
  }
  return counts;
}

void Workspace::UpsertReview(const Review& r, UpsertCounts* counts) {
  std::string key = TextKey(r.text);
  std::string content = r.user_id + '\x1f' + r.item_id + '\x1f' + r.text + '\x1f' +
                        (r.rating ? nlohmann::json(*r.rating).dump() : "") + '\x1f' +
                        (r.timestamp ? std::to_string(*r.timestamp) : "");
  std::string hash = Sha256Hex(content);
  Stmt& get = (*cache_)("SELECT content_hash, user_id, item_id FROM reviews WHERE review_id = ?");
  get.Bind(1, r.review_id);
  bool exists = get.Step();
  bool same = exists && get.Text(0) == hash;
  if (exists && !same && (get.Text(1) != r.user_id || get.Text(2) != r.item_id)) {
    if (counts->reassigned++ == 0) {
      counts->first_reassigned = "review " + r.review_id + " was user " + get.Text(1) + "'s of item " + get.Text(2) +
                                 ", now user " + r.user_id + "'s of item " + r.item_id;
    }
  }
  get.Reset();
  if (same) {
    ++counts->unchanged;
    return;
  }
  ++(exists ? counts->updated : counts->added);
  Stmt& put = (*cache_)(
      "INSERT INTO reviews(review_id, user_id, item_id, text, rating, timestamp, text_key, content_hash, "
      "updated_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(review_id) DO UPDATE SET "
      "user_id = ?2, item_id = ?3, text = ?4, rating = ?5, timestamp = ?6, text_key = ?7, "
      "content_hash = ?8, updated_run = ?9");
  put.Bind(1, r.review_id).Bind(2, r.user_id).Bind(3, r.item_id).Bind(4, r.text);
  if (r.rating)
    put.BindDouble(5, *r.rating);
  else
    put.BindNull(5);
  if (r.timestamp)
    put.Bind(6, *r.timestamp);
  else
    put.BindNull(6);
  put.Bind(7, key).Bind(8, hash);
  BindRun(&put, 9, current_run_);
  put.Step();
  put.Reset();
}

int64_t Workspace::BeginRun(const std::string& kind, const std::string& source) {
  Stmt s(db_, "INSERT INTO runs(kind, source, added, updated, unchanged, skipped) VALUES (?, ?, 0, 0, 0, 0)");
  s.Bind(1, kind).Bind(2, source);
  s.Step();
  current_run_ = sqlite3_last_insert_rowid(db_);
  return current_run_;
}

void Workspace::FinishRun(int64_t run, const UpsertCounts& c, int64_t skipped) {
  Stmt s(db_, "UPDATE runs SET added = ?, updated = ?, unchanged = ?, skipped = ? WHERE run_id = ?");
  s.Bind(1, c.added).Bind(2, c.updated).Bind(3, c.unchanged).Bind(4, skipped).Bind(5, run);
  s.Step();
  current_run_ = 0;
}

int64_t Workspace::LastRun() {
  Stmt s(db_, "SELECT coalesce(max(run_id), 0) FROM runs");
  s.Step();
  return s.Int(0);
}

int64_t Workspace::ItemsChangedSince(int64_t run) {
  // Items removed count too: forgotten, or no longer in a snapshot's items
  // file (its run's `updated`).
  std::string sql =
      "SELECT (SELECT count(*) FROM items WHERE updated_run > ?1) + (SELECT coalesce(sum(updated), 0) FROM runs "
      "WHERE kind = 'snapshot-items' AND run_id > ?1)";
  if (HasTable(db_, "forgotten")) sql += " + (SELECT count(*) FROM forgotten WHERE kind = 'item' AND run_id > ?1)";
  Stmt s(db_, sql.c_str());
  s.Bind(1, run);
  s.Step();
  return s.Int(0);
}

namespace {

// Whether `digests` holds the SHA-256 of `id` (hashed only when it holds any).
bool HoldsDigestOf(const std::unordered_set<std::string>& digests, const std::string& id) {
  return !digests.empty() && digests.count(Sha256Hex(id)) != 0;
}

}  // namespace

bool ForgottenIds::HasItem(const std::string& item_id) const { return HoldsDigestOf(items, item_id); }

bool ForgottenIds::HasUser(const std::string& user_id) const { return HoldsDigestOf(users, user_id); }

bool ForgottenIds::Skips(const Review& r) const {
  return HasUser(r.user_id) || HoldsDigestOf(reviews, r.review_id) || HasItem(r.item_id);
}

ForgottenIds Workspace::LoadForgotten() {
  ForgottenIds out;
  if (!HasTable(db_, "forgotten")) return out;
  Stmt s(db_, "SELECT kind, id_sha256 FROM forgotten");
  while (s.Step()) {
    const std::string kind = s.Text(0);
    (kind == "user" ? out.users : kind == "review" ? out.reviews : out.items).insert(s.Text(1));
  }
  return out;
}

namespace {

// Runs `sql` with `id` bound to ?1 and returns the rows it changed.
int64_t Changes(Prepared& prepared, const std::string& sql, const std::string& id) {
  Stmt& s = prepared(sql);
  s.Bind(1, id);
  s.Step();
  return sqlite3_changes64(prepared.db());
}

// An id that held nothing: one an earlier forget named (its digest was
// remembered already), or one unknown here.
void CountHeldNothing(const std::string& id, bool named_before, ForgetCounts* c) {
  if (named_before) {
    ++c->forgotten_before;
  } else {
    c->unknown.push_back(id);
  }
}

// The users of forget_named that hold reviews, stored lists or fingerprints,
// and those that hold nothing.
void CountNamedUsers(sqlite3* db, const std::set<std::string>& named_before, ForgetCounts* c) {
  Stmt held(db,
            "SELECT user_id, user_id IN (SELECT user_id FROM reviews) OR user_id IN (SELECT user_id FROM "
            "recommendation_lists) OR user_id IN (SELECT user_id FROM recommend_users) FROM forget_named ORDER BY "
            "user_id");
  while (held.Step()) {
    if (held.Int(1) != 0) {
      ++c->users;
    } else {
      CountHeldNothing(held.Text(0), named_before.count(held.Text(0)) != 0, c);
    }
  }
}

// Adds to forget_keys the cache key of each sentence of the reviews `where`
// selects (?1 bound to `id`, when given): recommend's model snippets cache
// the score of each sentence of a review of two or more under its own key.
// A sentence another review shares loses its cached score too: it is scored
// again when next quoted.
void AddSentenceKeys(Prepared& prepared, const std::string& where, const std::string* id) {
  Stmt& texts = prepared("SELECT text" + where);
  if (id != nullptr) texts.Bind(1, *id);
  while (texts.Step()) {
    const std::vector<std::string> sentences = SplitSentences(texts.Text(0));
    if (sentences.size() < 2) continue;
    for (const std::string& sentence : sentences) {
      Changes(prepared, "INSERT OR IGNORE INTO forget_keys VALUES (?1)", TextKey(sentence));
    }
  }
}

// Adds to forget_item_keys the embedding cache key of item `id`'s text.
void AddItemTextKey(Prepared& prepared, const std::string& id) {
  Stmt& s = prepared("SELECT title, tags, description FROM items WHERE item_id = ?1");
  s.Bind(1, id);
  if (!s.Step()) return;
  Item item;
  item.title = s.Text(0);
  ParseTags(s.Text(1), &item.tags);
  item.description = s.Text(2);
  s.Reset();  // the statement outlives Forget: no read left open
  Changes(prepared, "INSERT OR IGNORE INTO forget_item_keys VALUES (?1)", ItemTextKey(item));
}

}  // namespace

ForgetCounts& ForgetCounts::operator+=(const ForgetCounts& o) {
  users += o.users;
  reviews += o.reviews;
  items += o.items;
  forgotten_before += o.forgotten_before;
  unknown.insert(unknown.end(), o.unknown.begin(), o.unknown.end());
  reviews_removed += o.reviews_removed;
  lists_removed += o.lists_removed;
  scores_removed += o.scores_removed;
  embeddings_removed += o.embeddings_removed;
  return *this;
}

ForgetCounts Workspace::Forget(const ForgetIds& ids, int64_t run, bool remember_ids) {
  Exec(db_, "PRAGMA secure_delete = ON");  // removed rows are zeroed in their pages
  if (remember_ids) Exec(db_, kForgottenSchema);
  // The texts of the reviews removed: their cached scores go too, unless
  // another review has the same text. Their authors: the lists stored for
  // them go, for a list's reasons quote the user's reviews.
  Exec(db_,
       "CREATE TEMP TABLE IF NOT EXISTS forget_keys(text_key TEXT PRIMARY KEY); DELETE FROM forget_keys; "
       "CREATE TEMP TABLE IF NOT EXISTS forget_users(user_id TEXT PRIMARY KEY); DELETE FROM forget_users; "
       "CREATE TEMP TABLE IF NOT EXISTS forget_named(user_id TEXT PRIMARY KEY); DELETE FROM forget_named; "
       "CREATE TEMP TABLE IF NOT EXISTS forget_item_keys(text_key TEXT PRIMARY KEY); DELETE FROM forget_item_keys;");
  ForgetCounts c;
  Prepared& prepared = *cache_;
  std::set<std::string> users_named_before;
  const auto each = [&](const std::vector<std::string>& list, const char* kind, int64_t* found,
                        const std::function<int64_t(const std::string&)>& remove) {
    for (const std::string& id : std::set<std::string>(list.begin(), list.end())) {
      const int64_t removed = remove(id);
      bool named_before = false;
      if (remember_ids) {
        Stmt& remember = prepared("INSERT OR IGNORE INTO forgotten(kind, id_sha256, run_id) VALUES (?, ?, ?)");
        remember.Bind(1, std::string(kind)).Bind(2, Sha256Hex(id)).Bind(3, run);
        remember.Step();
        named_before = sqlite3_changes64(db_) == 0;
      }
      if (found == nullptr) {
        if (named_before) users_named_before.insert(id);
      } else if (removed > 0) {
        ++*found;
      } else {
        CountHeldNothing(id, named_before, &c);
      }
    }
  };
  const auto reviews_where = [&](const char* column, const std::string& id) {
    const std::string where = std::string(" FROM reviews WHERE ") + column + " = ?1";
    Changes(prepared, "INSERT OR IGNORE INTO forget_keys SELECT text_key" + where, id);
    AddSentenceKeys(prepared, where, &id);
    Changes(prepared, "INSERT OR IGNORE INTO forget_users SELECT user_id" + where, id);
    const int64_t n = Changes(prepared, "DELETE" + where, id);
    c.reviews_removed += n;
    return n;
  };
  // Users in one pass over each table (stored lists and fingerprints have no
  // index by user): the named ones first, then what they held, and their
  // reviews go last, so that a review or item named too counts as held.
  each(ids.users, "user", nullptr,
       [&](const std::string& id) { return Changes(prepared, "INSERT OR IGNORE INTO forget_named VALUES (?1)", id); });
  CountNamedUsers(db_, users_named_before, &c);
  each(ids.reviews, "review", &c.reviews, [&](const std::string& id) { return reviews_where("review_id", id); });
  each(ids.items, "item", &c.items, [&](const std::string& id) {
    AddItemTextKey(prepared, id);
    return reviews_where("item_id", id) + Changes(prepared, "DELETE FROM items WHERE item_id = ?1", id);
  });
  const std::string named = " FROM reviews WHERE user_id IN (SELECT user_id FROM forget_named)";
  Exec(db_, ("INSERT OR IGNORE INTO forget_keys SELECT text_key" + named).c_str());
  AddSentenceKeys(prepared, named, nullptr);
  Exec(db_, "INSERT OR IGNORE INTO forget_users SELECT user_id FROM forget_named");
  Exec(db_, ("DELETE" + named).c_str());
  c.reviews_removed += sqlite3_changes64(db_);
  Exec(db_, "DELETE FROM recommend_users WHERE user_id IN (SELECT user_id FROM forget_named)");
  Exec(db_, "DELETE FROM recommendation_lists WHERE user_id IN (SELECT user_id FROM forget_users)");
  c.lists_removed = sqlite3_changes64(db_);
  Exec(db_, "DELETE FROM recommendations WHERE user_id IN (SELECT user_id FROM forget_users)");
  Exec(db_,
       "DELETE FROM sentiment_cache WHERE text_key IN (SELECT text_key FROM forget_keys) AND "
       "text_key NOT IN (SELECT text_key FROM reviews)");
  c.scores_removed = sqlite3_changes64(db_);
  // An item text another item shares loses its embedding too: it is
  // embedded again by the next run that needs it.
  Exec(db_, "DELETE FROM embedding_cache WHERE text_key IN (SELECT text_key FROM forget_item_keys)");
  c.embeddings_removed = sqlite3_changes64(db_);
  Exec(db_,
       "DELETE FROM forget_keys; DELETE FROM forget_users; DELETE FROM forget_named; DELETE FROM forget_item_keys;");
  return c;
}

bool Workspace::CheckpointAndTruncateLog() {
  int log = 0, copied = 0;
  // A reader's transaction can last hours (an analyst's session): waited
  // for a second at most, then left to a later checkpoint.
  sqlite3_busy_timeout(db_, std::min(BusyTimeoutMs(), 1000));
  const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &copied);
  sqlite3_busy_timeout(db_, BusyTimeoutMs());
  if (rc == SQLITE_BUSY) return false;
  if (rc != SQLITE_OK) SqliteFail(db_, rc, "a checkpoint");
  return log == copied;
}

std::unordered_map<std::string, uint64_t> Workspace::LoadFingerprints(const std::string& state) {
  std::unordered_map<std::string, uint64_t> out;
  Stmt s(db_, "SELECT user_id, fingerprint FROM recommend_users WHERE state = ?");
  s.Bind(1, state);
  while (s.Step()) out.emplace(s.Text(0), static_cast<uint64_t>(s.Int(1)));
  return out;
}

void Workspace::StoreFingerprints(const std::string& state,
                                  const std::vector<std::pair<std::string, uint64_t>>& users) {
  Stmt del(db_, "DELETE FROM recommend_users WHERE state = ?");
  del.Bind(1, state);
  del.Step();
  Stmt put(db_, "INSERT INTO recommend_users(state, user_id, fingerprint) VALUES (?, ?, ?)");
  for (const auto& [user, fingerprint] : users) {
    put.Reset();
    put.Bind(1, state).Bind(2, user).Bind(3, static_cast<int64_t>(fingerprint));
    put.Step();
  }
}

void Workspace::StoreList(int64_t run, const std::string& user_id, bool cold_start, int history,
                          const std::vector<ListEntry>& items) {
  Stmt& list = (*cache_)(
      "INSERT OR REPLACE INTO recommendation_lists(run_id, user_id, cold_start, history, items) "
      "VALUES (?, ?, ?, ?, ?)");
  nlohmann::json ids = nlohmann::json::array();
  for (const ListEntry& e : items) ids.push_back(e.item_id);
  list.Bind(1, run).Bind(2, user_id).Bind(3, int64_t{cold_start}).Bind(4, int64_t{history}).Bind(5, ids.dump());
  list.Step();
  Stmt& row = (*cache_)(
      "INSERT OR REPLACE INTO recommendations(run_id, user_id, rank, item_id, score, reason) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  for (size_t r = 0; r < items.size(); ++r) {
    row.Reset();
    row.Bind(1, run).Bind(2, user_id).Bind(3, static_cast<int64_t>(r + 1)).Bind(4, items[r].item_id);
    row.BindDouble(5, items[r].score).Bind(6, items[r].reason);
    row.Step();
  }
}

int64_t Workspace::PruneLists(int keep) {
  // The recommend runs that stored lists, newest first; older than `keep` go.
  std::vector<int64_t> runs;
  {
    Stmt s(db_, "SELECT DISTINCT run_id FROM recommendation_lists ORDER BY run_id DESC");
    while (s.Step()) runs.push_back(s.Int(0));
  }
  int64_t removed = 0;
  for (size_t i = static_cast<size_t>(std::max(keep, 0)); i < runs.size(); ++i) {
    for (const char* sql :
         {"DELETE FROM recommendation_lists WHERE run_id = ?", "DELETE FROM recommendations WHERE run_id = ?"}) {
      Stmt d(db_, sql);
      d.Bind(1, runs[i]);
      d.Step();
    }
    ++removed;
  }
  return removed;
}

std::vector<std::string> Workspace::ReviewIds(const std::function<bool(const std::string&)>& pick) {
  std::vector<std::string> out;
  Stmt s(db_, "SELECT review_id FROM reviews ORDER BY review_id");
  while (s.Step()) {
    std::string id = s.Text(0);
    if (pick(id)) out.push_back(std::move(id));
  }
  return out;
}

std::vector<std::string> Workspace::ItemIds() {
  std::vector<std::string> out;
  Stmt s(db_, "SELECT item_id FROM items ORDER BY item_id");
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

int64_t Workspace::CountReviews() {
  Stmt s(db_, "SELECT count(*) FROM reviews");
  s.Step();
  return s.Int(0);
}

int64_t Workspace::CountItems() {
  Stmt s(db_, "SELECT count(*) FROM items");
  s.Step();
  return s.Int(0);
}

ItemTable Workspace::LoadItems() {
  ItemTable t;
  t.path = path_ + " (items)";
  std::map<std::string, std::pair<bool, int>> columns;  // name -> (categorical, index)
  {
    Stmt s(db_, "SELECT name, modality, type FROM feature_columns ORDER BY ordinal");
    while (s.Step()) {
      bool cat = s.Text(2) == "categorical";
      auto& list = cat ? t.categorical_columns : t.numeric_columns;
      columns[s.Text(0)] = {cat, static_cast<int>(list.size())};
      list.push_back({s.Text(0), s.Text(1)});
    }
  }
  Stmt s(db_, "SELECT item_id, title, tags, description, kind, features FROM items ORDER BY item_id");
  while (s.Step()) {
    Item item;
    item.item_id = s.Text(0);
    item.title = s.Text(1);
    nlohmann::json f;
    std::string error;
    if (!ParseTags(s.Text(2), &item.tags) || !ParseJson(s.Text(5), &f, &error) || !f.is_object()) {
      Fail(ExitCode::kDataErr, path_, ": the workspace is damaged: item '", item.item_id,
           "' has malformed tags or features (was it edited by hand?)");
    }
    item.description = s.Text(3);
    item.kind = s.Text(4);
    item.numeric.assign(t.numeric_columns.size(), std::numeric_limits<double>::quiet_NaN());
    item.categorical.assign(t.categorical_columns.size(), "");
    for (auto it = f.begin(); it != f.end(); ++it) {
      auto c = columns.find(it.key());
      if (c == columns.end()) continue;
      if (c->second.first ? !it.value().is_string() : !it.value().is_number()) {
        Fail(ExitCode::kDataErr, path_, ": the workspace is damaged: item '", item.item_id, "' feature '", it.key(),
             "' has the wrong type (was it edited by hand?)");
      }
      if (c->second.first) {
        item.categorical[c->second.second] = it.value().get<std::string>();
      } else {
        item.numeric[c->second.second] = it.value().get<double>();
      }
    }
    t.items.push_back(std::move(item));
  }
  for (const Item& item : t.items) {
    for (double v : item.numeric) t.missing_numeric += std::isnan(v) ? 1 : 0;
  }
  t.records = static_cast<int64_t>(t.items.size());
  t.BuildIndex();
  return t;
}

std::vector<Review> Workspace::LoadReviews() {
  std::vector<Review> out;
  Stmt s(db_, "SELECT review_id, user_id, item_id, text, rating, timestamp FROM reviews ORDER BY review_id");
  while (s.Step()) {
    Review r;
    r.review_id = s.Text(0);
    r.user_id = s.Text(1);
    r.item_id = s.Text(2);
    r.text = s.Text(3);
    if (!s.IsNull(4)) r.rating = s.Double(4);
    if (!s.IsNull(5)) r.timestamp = s.Int(5);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<CachedSentiment> Workspace::FindSentiment(const std::string& model_key, const std::string& text_key) {
  Stmt& s = (*cache_)("SELECT label, score, probs, flags FROM sentiment_cache WHERE model_key = ? AND text_key = ?");
  s.Bind(1, model_key).Bind(2, text_key);
  if (!s.Step()) return std::nullopt;
  CachedSentiment c{s.Text(0), s.Double(1), s.Text(2), s.Text(3)};
  s.Reset();
  return c;
}

void Workspace::StoreSentiment(const std::string& model_key, const std::string& text_key, const CachedSentiment& c) {
  Stmt& s = (*cache_)(
      "INSERT OR REPLACE INTO sentiment_cache(model_key, text_key, label, score, probs, flags) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  s.Bind(1, model_key).Bind(2, text_key).Bind(3, c.label).BindDouble(4, c.score).Bind(5, c.probs_json);
  s.Bind(6, c.flags);
  s.Step();
  s.Reset();
}

void Workspace::ForEachReviewSentiment(
    const std::string& result_key,
    const std::function<void(const std::string& review_id, const CachedSentiment&)>& fn) {
  Stmt s(db_,
         "SELECT r.review_id, c.label, c.score, c.probs, c.flags FROM reviews r JOIN sentiment_cache c "
         "ON c.text_key = r.text_key AND c.model_key = ? ORDER BY r.review_id");
  s.Bind(1, result_key);
  while (s.Step()) fn(s.Text(0), CachedSentiment{s.Text(1), s.Double(2), s.Text(3), s.Text(4)});
}

std::string Workspace::GetMeta(const std::string& key) {
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  s.Bind(1, key);
  return s.Step() ? s.Text(0) : std::string();
}

void Workspace::SetMeta(const std::string& key, const std::string& value) {
  Stmt s(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  s.Bind(1, key).Bind(2, value);
  s.Step();
}

bool Workspace::FindEmbedding(const std::string& model_key, const std::string& text_key, std::vector<float>* v) {
  Stmt s(db_, "SELECT dim, vector FROM embedding_cache WHERE model_key = ? AND text_key = ?");
  s.Bind(1, model_key).Bind(2, text_key);
  if (!s.Step()) return false;
  std::string blob = s.Blob(1);
  const int64_t dim = s.Int(0);
  if (static_cast<int64_t>(blob.size()) != dim * 4) return false;
  v->resize(static_cast<size_t>(dim));
  std::memcpy(v->data(), blob.data(), blob.size());
  return true;
}

void Workspace::StoreEmbedding(const std::string& model_key, const std::string& text_key, const float* v, int dim) {
  Stmt s(db_, "INSERT OR REPLACE INTO embedding_cache(model_key, text_key, dim, vector) VALUES (?, ?, ?, ?)");
  s.Bind(1, model_key).Bind(2, text_key).Bind(3, static_cast<int64_t>(dim));
  s.BindBlob(4, v, static_cast<size_t>(dim) * sizeof(float));
  s.Step();
}

}  // namespace avrec
