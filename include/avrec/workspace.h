// The workspace: one SQLite database file that persists between nightly runs.
// It holds the ingested items and reviews and the sentiment cache; an analyst
// can open it with the sqlite3 shell (schema in docs/workspace.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "avrec/data.h"

struct sqlite3;

namespace avrec {

// Counts of one ingest.
struct UpsertCounts {
  int64_t added = 0;
  int64_t updated = 0;    // same id, different content
  int64_t unchanged = 0;  // same id, same content
  // Reviews updated to another user or item: an edit changes a review's
  // text, rating or time, so this is more likely one id used for two reviews
  // (two sources numbered alike). The first is described for the log.
  int64_t reassigned = 0;
  std::string first_reassigned;
};

// A cached sentiment result, keyed by (model checksum, text key).
struct CachedSentiment {
  std::string label;
  double score = 0;
  std::string probs_json;  // {"negative":0.1,"positive":0.9}
  std::string flags;       // "" or e.g. "empty_text", "truncated"
};

// Normalised form of a review text for the sentiment cache: blanks trimmed and
// runs of whitespace collapsed to one space. TextKey is its SHA-256 (hex, 32
// digits).
std::string NormalizeReviewText(const std::string& text);
std::string TextKey(const std::string& text);
// The embedding cache's key of an item's text (ItemText, made valid UTF-8).
std::string ItemTextKey(const Item& item);

// What `avrec forget` asks to remove: ids of users, reviews and items.
struct ForgetIds {
  std::vector<std::string> users, reviews, items;
};

// What Workspace::Forget removed (or, rolled back, would remove).
struct ForgetCounts {
  int64_t users = 0, reviews = 0, items = 0;  // ids given of which the workspace held something
  // Ids given of which it held nothing: those an earlier forget named, and
  // the others (by kind, each kind sorted).
  int64_t forgotten_before = 0;
  std::vector<std::string> unknown;
  int64_t not_found() const { return forgotten_before + static_cast<int64_t>(unknown.size()); }
  int64_t reviews_removed = 0;  // every review removed: by id, the users', the items'
  int64_t lists_removed = 0;    // stored lists (--to-workspace) of the users and of the reviews' authors
  // Cached sentiment of the texts no remaining review has, and of the
  // sentences of the reviews removed (recommend's snippets).
  int64_t scores_removed = 0;
  int64_t embeddings_removed = 0;  // cached text embeddings of the items removed

  // Adds another Forget's counts (the unknown ids appended after these).
  ForgetCounts& operator+=(const ForgetCounts& o);
};

// The ids `avrec forget` removed, kept as SHA-256 digests so that an ingest
// skips what the next export still holds of them.
struct ForgottenIds {
  std::unordered_set<std::string> users, reviews, items;  // SHA-256 hex of each id
  bool empty() const { return users.empty() && reviews.empty() && items.empty(); }
  bool HasUser(const std::string& user_id) const;
  bool HasItem(const std::string& item_id) const;
  // The review itself, its user or its item was forgotten.
  bool Skips(const Review& r) const;
};

// How long to wait for another process's lock (ms): $AVREC_BUSY_TIMEOUT_MS,
// or 10 s when it is unset. Error(kUsage) when it is anything but a whole
// number of milliseconds up to a day ("30s" used to be read as 30 ms).
int BusyTimeoutMs();

// Owns one connection. Not thread-safe: use from one thread.
class Workspace {
 public:
  // Opens the database at `path`, creating it (and its schema) when `create`
  // is true: a new workspace is built under a temporary name and appears at
  // `path` only on Persist(); destroyed before, it leaves nothing. Existing
  // workspaces use write-ahead logging, so readers never block writers.
  // Throws Error(kNoInput) if it does not exist and !create,
  // Error(kCantCreate) if it cannot be created, Error(kDataErr) if the file is
  // not an avrec workspace, Error(kTempFail) when another process holds the
  // lock longer than $AVREC_BUSY_TIMEOUT_MS (default 10 s).
  static std::unique_ptr<Workspace> Open(const std::string& path, bool create);
  // Open's check of a workspace to read: Error(kNoInput) saying how to
  // create one when `path` does not exist, or when it is a folder.
  static void CheckExists(const std::string& path);
  // Why this process may not write the workspace (the file, its log files,
  // or the folder where those are missing), or "" when it may. A command
  // whose purpose is to write then fails (exit 73, naming what); what a
  // reader computes and would cache (sentiment scores, item embeddings,
  // snippet sentences) is kept in memory for the run only.
  const std::string& why_read_only() const { return why_read_only_; }
  // For a dry run where this process may not write the workspace (an
  // analyst's account, a published copy): its database is copied into
  // memory, where the run's changes are made and dropped with it. Returns
  // the copy's size in bytes; 0, and nothing done, when the workspace can
  // be written (a dry run's transaction is rolled back there) or is new.
  int64_t CopyIntoMemoryIfReadOnly();
  // A workspace this process created: moves it into place (call when the run
  // that created it has succeeded). No-op otherwise.
  void Persist();
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // Runs `body` inside one write transaction (BEGIN IMMEDIATE): committed when
  // it returns, rolled back when it throws (the exception propagates). A
  // killed process leaves the database as it was before the transaction.
  void InTransaction(const std::function<void()>& body);

  // Runs `body` inside a read transaction: everything it reads is one
  // consistent snapshot, whatever other processes commit meanwhile.
  void InSnapshot(const std::function<void()>& body);

  // Starts a run (ingest, recommend) in the runs table and returns its
  // run_id; items and reviews the upserts below add or change until
  // FinishRun carry it in updated_run.
  int64_t BeginRun(const std::string& kind, const std::string& source);
  void FinishRun(int64_t run, const UpsertCounts& counts, int64_t skipped);
  // Inserts or updates items by item_id. Feature columns unknown to the
  // workspace are registered.
  UpsertCounts UpsertItems(const ItemTable& items);
  // Inserts or updates one review by review_id; `counts` is incremented.
  void UpsertReview(const Review& review, UpsertCounts* counts);

  // Change tracking: the latest run id (0: none); the number of items added,
  // changed or forgotten by runs after `run` (recommend --only-changed compares each
  // user's fingerprint, which also sees a review that moved to another user).
  int64_t LastRun();
  int64_t ItemsChangedSince(int64_t run);

  // Removes, within the caller's transaction and run (BeginRun "forget"):
  // each user's reviews, stored lists and --only-changed fingerprints; each
  // review; each item and its reviews; the stored lists of every user whose
  // review was removed (their reasons may quote it); the cached sentiment of
  // texts no review has any more. Every id is remembered as its SHA-256 (table
  // `forgotten`, with the run) so that later ingests skip it. Removed rows
  // are overwritten in the file, not only unlinked (secure_delete).
  // `remember` false: removed the same way, not remembered (a snapshot ingest
  // that no longer holds them).
  ForgetCounts Forget(const ForgetIds& ids, int64_t run, bool remember = true);
  // The ids forgotten so far (none in a workspace never given any).
  ForgottenIds LoadForgotten();
  // Copies the write-ahead log into the workspace file and truncates it, so
  // that rows removed are in neither file. False when a reader's open
  // transaction kept part of the log (it is copied by a later checkpoint).
  bool CheckpointAndTruncateLog();

  // recommend --only-changed: a fingerprint per user under a state key
  // (StoreFingerprints replaces the state's set).
  std::unordered_map<std::string, uint64_t> LoadFingerprints(const std::string& state);
  void StoreFingerprints(const std::string& state, const std::vector<std::pair<std::string, uint64_t>>& users);

  // recommend --to-workspace: one user's list under a recommend run, and the
  // lists of all but the `keep` latest such runs removed (returns how many
  // runs were).
  struct ListEntry {
    std::string item_id;
    double score = 0;
    std::string reason;
  };
  void StoreList(int64_t run, const std::string& user_id, bool cold_start, int history,
                 const std::vector<ListEntry>& items);
  int64_t PruneLists(int keep);

  std::vector<std::string> ItemIds();
  // The review ids `pick` says yes to, read one at a time (a snapshot
  // ingest's absent reviews, out of millions).
  std::vector<std::string> ReviewIds(const std::function<bool(const std::string&)>& pick);
  int64_t CountReviews();
  int64_t CountItems();

  // All items (feature columns in registration order), ordered by item_id.
  ItemTable LoadItems();
  // All reviews ordered by review_id.
  std::vector<Review> LoadReviews();

  // Sentiment cache.
  std::optional<CachedSentiment> FindSentiment(const std::string& model_key, const std::string& text_key);
  void StoreSentiment(const std::string& model_key, const std::string& text_key, const CachedSentiment& s);

  // Sentiment of every review under `result_key`, joined through the text key.
  void ForEachReviewSentiment(const std::string& result_key,
                              const std::function<void(const std::string& review_id, const CachedSentiment&)>& fn);

  // Text embedding cache: vectors keyed by (model result key, text key).
  bool FindEmbedding(const std::string& model_key, const std::string& text_key, std::vector<float>* v);
  void StoreEmbedding(const std::string& model_key, const std::string& text_key, const float* v, int dim);

  // Key-value settings in the meta table ("" when absent).
  std::string GetMeta(const std::string& key);
  void SetMeta(const std::string& key, const std::string& value);

  const std::string& path() const { return path_; }

 private:
  struct Cache;  // prepared statements reused across calls
  Workspace(std::string path, sqlite3* db);
  void CreateSchema();
  void UseWal();

  std::string path_;
  std::string why_read_only_;
  std::string pending_file_;  // a new workspace's temporary file until Persist()
  std::string create_at_;     // where Persist() puts it: path_, or a dangling link's target
  int temp_slot_ = -1;        // its slot in the signal handler's list
  int64_t current_run_ = 0;   // the run upserts are attributed to (0: none)
  sqlite3* db_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace avrec
