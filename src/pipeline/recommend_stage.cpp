// The recommend stage: ranking into the output file, incremental runs
// (--only-changed) and lists stored in the workspace (--to-workspace).
//
// An incremental run keeps, in the workspace, a state per set of options
// (meta "recommend.state/KEY") and a fingerprint per user (recommend_users):
// a hash of everything the user's list depends on given the items, the
// options and the models. The next run with the same options reranks the
// users whose fingerprint changed (plus the cold-start ones, whose lists come
// from popularity) and copies every other user's list, byte for byte, from
// the previous output; when the rest of the inputs changed too (items, the
// models, the rating scale, an algorithm that ranks each user with everyone's
// reviews), it reranks everyone and logs why. docs/nightly.md.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "avrec/error.h"
#include "avrec/hash.h"
#include "avrec/io.h"
#include "avrec/json.h"
#include "avrec/log.h"
#include "avrec/pipeline.h"
#include "avrec/text.h"
#include "avrec/version.h"
#include "common/cluster.h"
#include "common/fault.h"
#include "pipeline/snippets.h"

namespace avrec {

namespace {

constexpr const char* kStatePrefix = "recommend.state/";
constexpr size_t kNarrateBlock = 256;  // ranked users whose snippets are scored in one batch

// The ranking options with the lists read and the shard parsed.
RecommendOptions RankOptions(const PipelineConfig& c) {
  RecommendOptions r = c.recommend;
  r.threads = c.threads;
  if (!c.allow_list.empty()) r.allow = ReadIdList(c.allow_list);
  if (!c.deny_list.empty()) r.deny = ReadIdList(c.deny_list);
  c.ApplyShard(&r);
  r.Validate();
  return r;
}

OutputHeader HeaderFor(const PipelineConfig& c, const ModelInputs& in, const RecommendOptions& r) {
  OutputHeader h;
  h.algorithm = AlgorithmName(r.algorithm);
  h.top_n = r.top_n;
  h.config_hash = c.RecommendConfigHash();
  if (in.has_sentiment) {
    h.sentiment_model = in.sentiment.model_name;
    h.sentiment_sha256 = in.sentiment.model_sha256;
  }
  h.embedding_model = in.items.model_name;
  h.embedding_sha256 = in.items.model_sha256;
  h.created_at = c.created_at;
  h.shard = r.shard;
  h.shards = r.shards;
  return h;
}

using ReviewIndex = std::unordered_map<std::string, const Review*>;

// Hash of everything a user's list depends on besides the items, the options
// and the models: the history (items, reviews and their texts, weights,
// preferences, sentiment, rating, time), the profile vector and the
// cold-start flag.
uint64_t Fingerprint(const Profiles& p, const ItemMatrix& items, const ReviewIndex& reviews, int u) {
  std::string b;
  const auto put = [&b](const void* data, size_t n) { b.append(static_cast<const char*>(data), n); };
  const auto put_opt = [&](const auto& v) {
    b += v ? '1' : '0';
    if (v) put(&*v, sizeof(*v));
  };
  const size_t row = static_cast<size_t>(u);
  b += p.cold_start[row] ? 'c' : 'w';
  for (const Interaction& x : p.history[row]) {
    b += items.ids[static_cast<size_t>(x.item)];
    b += '\x1f';
    b += x.review_id;
    b += '\x1f';
    // The text: snippets and the explanations' language come from it.
    auto text = reviews.find(x.review_id);
    const uint64_t text_hash = text == reviews.end() ? 0 : Fnv1a64(text->second->text);
    put(&text_hash, sizeof(text_hash));
    put(&x.weight, sizeof(x.weight));
    put(&x.preference, sizeof(x.preference));
    put_opt(x.sentiment);
    put_opt(x.rating);
    put_opt(x.timestamp);
  }
  if (p.vectors.cols() > 0) put(p.vectors.row(u).data(), sizeof(float) * static_cast<size_t>(p.vectors.cols()));
  return Fnv1a64(b);
}

// Whether a user's list depends only on their own reviews once the items
// are fixed (content scores without item weights from everyone's reviews).
bool RanksEachUserAlone(const RecommendOptions& r) {
  return (r.algorithm == Algorithm::kSentimentContent || r.algorithm == Algorithm::kContent) &&
         r.popularity_weight == 0 && r.novelty_weight == 0 && r.quality_weight == 0 && !r.avoid_below;
}

// What an incremental run does.
struct Plan {
  bool incremental = false;            // some users' lists are copied from `previous`
  std::string reason;                  // why everyone is ranked, when not incremental
  std::vector<char> rerank;            // per profile user: ranked in this run
  std::string previous;                // the previous output
  int64_t changed = 0;                 // users whose fingerprint changed (new users included)
  nlohmann::json state;                // this run's state (saved when it succeeds)
  std::vector<uint64_t> fingerprints;  // per ranked-or-copied user, in `users` order
};

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path a = std::filesystem::absolute(path, ec);
  return ec ? path : a.lexically_normal().string();
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Decides which users an --only-changed run reranks. `users`: the profile
// rows of the shard, in output order.
Plan PlanRun(const PipelineConfig& c, const RecommendOptions& r, const OutputHeader& header, const ModelInputs& in,
             const Profiles& profiles, const ReviewIndex& reviews, const std::vector<int>& users, Workspace* ws) {
  Plan plan;
  plan.rerank.assign(profiles.users.size(), 1);
  plan.fingerprints.reserve(users.size());
  for (int u : users) plan.fingerprints.push_back(Fingerprint(profiles, in.items.matrix, reviews, u));
  plan.state = {{"avrec_version", AVREC_VERSION},
                {"format", c.RecommendFormat()},
                {"sentiment_sha256", header.sentiment_sha256},
                {"embedding_sha256", header.embedding_sha256},
                {"watermark", in.data.last_run},
                {"rating_min", profiles.rating_min},
                {"rating_max", profiles.rating_max},
                {"reference_time", profiles.reference_time}};
  const auto full = [&](std::string why) {
    plan.reason = std::move(why);
    return plan;
  };
  if (!c.profiles_in.empty()) return full("user vectors come from a --profiles file");
  const std::string saved = ws->GetMeta(kStatePrefix + c.IncrementalKey());
  if (saved.empty()) return full("no previous --only-changed run with these options on this workspace");
  nlohmann::json prev;
  std::string error;
  if (!ParseJson(saved, &prev, &error) || !prev.is_object()) return full("the saved state is unreadable");
  for (const char* key : {"avrec_version", "format", "sentiment_sha256", "embedding_sha256"}) {
    if (prev.value(key, nlohmann::json()) != plan.state[key]) return full(std::string(key) + " changed");
  }
  plan.previous = prev.value("out", "");
  if (!IsRegularFile(plan.previous)) return full("the previous output " + plan.previous + " is gone");
  if (Sha256File(plan.previous) != prev.value("out_sha256", "")) {
    return full("the previous output " + plan.previous + " was modified since");
  }
  const int64_t items = ws->ItemsChangedSince(prev.value("watermark", int64_t{0}));
  if (items > 0) return full(CountOf(items, "item") + " added, changed or removed since");
  if (c.profile.use_rating &&
      (prev.value("rating_min", 0.0) != profiles.rating_min || prev.value("rating_max", 0.0) != profiles.rating_max)) {
    return full("the rating scale changed");
  }
  if (c.profile.half_life_days > 0 && prev.value("reference_time", int64_t{0}) != profiles.reference_time) {
    return full("the reference time of the time decay moved");
  }
  const std::unordered_map<std::string, uint64_t> before = ws->LoadFingerprints(c.IncrementalKey());
  size_t kept = 0;
  for (size_t i = 0; i < users.size(); ++i) {
    const int u = users[i];
    const auto it = before.find(profiles.users[static_cast<size_t>(u)]);
    const bool same = it != before.end() && it->second == plan.fingerprints[i];
    kept += it != before.end();
    plan.rerank[static_cast<size_t>(u)] = same ? 0 : 1;
    plan.changed += same ? 0 : 1;
  }
  const size_t removed = before.size() - kept;
  if (plan.changed > 0 || removed > 0) {
    if (!RanksEachUserAlone(r)) {
      return full(fmt::format("{} users changed and {} ranks each user with everyone's reviews", plan.changed,
                              AlgorithmName(r.algorithm)));
    }
    // Cold-start lists come from popularity, which the changed reviews moved.
    for (int u : users) {
      if (profiles.cold_start[static_cast<size_t>(u)]) plan.rerank[static_cast<size_t>(u)] = 1;
    }
  }
  plan.incremental = true;
  return plan;
}

std::vector<Workspace::ListEntry> ListEntries(const UserRecommendations& u) {
  std::vector<Workspace::ListEntry> out;
  for (const RecommendedItem& it : u.items) out.push_back({it.item_id, it.score, ReasonText(it)});
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string PipelineConfig::IncrementalKey() const {
  PipelineConfig copy = *this;
  copy.inputs.reviews.clear();  // the data is the workspace's, tracked there
  copy.inputs.items.clear();
  OptionSet set;
  copy.inputs.Describe(&set);
  copy.DescribeModelInputs(&set);
  copy.DescribeRecommend(&set);
  return set.Hash().substr(0, 16) + "/" + (shard.empty() ? "0/1" : shard);
}

namespace {

// Where the shard's lists go, in output order. Users wait in a queue until a
// block of ranked ones has its snippets scored in one batch; then every
// queued user is narrated (ranked now) or taken as it was (copied from the
// previous output), written by rank 0 or serialised for it by the others,
// and stored in the workspace with --to-workspace.
class ListSink {
 public:
  // `previous`: the file copied lists come from (for messages).
  ListSink(const PipelineConfig& c, RecommendationFormat format, const OutputHeader& header, SnippetFinder* snippets,
           const Narrator* narrator, Workspace* ws, int64_t run, std::string previous)
      : c_(c),
        format_(format),
        snippets_(snippets),
        narrator_(narrator),
        ws_(ws),
        run_(run),
        previous_(std::move(previous)) {
    if (Cluster::Get().root())
      writer_ = std::make_unique<RecommendationWriter>(c.out, format, header, c.spreadsheet_safe);
  }

  void AddRanked(UserRecommendations u) {
    queue_.push_back({false, "", std::move(u)});
    if (++ranked_in_queue_ >= kNarrateBlock) Flush();
  }
  void AddCopied(std::string user_json) { queue_.push_back({true, std::move(user_json), {}}); }

  void Flush() {
    std::vector<UserRecommendations*> ranked;
    for (Pending& p : queue_) {
      if (!p.copied) ranked.push_back(&p.rec);
    }
    snippets_->Prepare(ranked);
    for (Pending& p : queue_) {
      if (p.copied) {
        writer_->AddSerialized(p.text);
        if (c_.to_workspace) Store(ParsedUser(p.text));
        continue;
      }
      narrator_->Narrate(&p.rec, [&](const Reason& why) { return snippets_->Get(why); });
      if (writer_) {
        writer_->Add(p.rec);
      } else {
        PackString(&mine_, SerializeUser(p.rec, format_, c_.spreadsheet_safe));
      }
      Store(p.rec);
    }
    queue_.clear();
    ranked_in_queue_ = 0;
  }

  // Under mpirun: every rank sends rank 0 its users (as they will be
  // written), its counts and the snippet sentences it scored; rank 0 writes
  // them in rank order. Returns false on the other ranks (they are done).
  bool GatherRanks(RecommendStats* st) {
    const Cluster& cluster = Cluster::Get();
    if (!cluster.distributed()) return true;
    std::string message;
    PackU64(&message, static_cast<uint64_t>(st->users));
    PackU64(&message, static_cast<uint64_t>(st->cold_start));
    PackString(&message, mine_);
    PackString(&message, cluster.root() ? std::string() : snippets_->PackFresh());
    const std::vector<std::string> parts = cluster.Gather(message);
    for (size_t k = 1; k < parts.size(); ++k) {
      Unpacker part(parts[k]);
      st->users += static_cast<int64_t>(part.U64());
      st->cold_start += static_cast<int64_t>(part.U64());
      Unpacker users_of_rank(part.String());
      while (!users_of_rank.done()) writer_->AddSerialized(users_of_rank.String());
      snippets_->UnpackFresh(part.String());
    }
    return cluster.root();
  }

  void Commit() { writer_->Commit(); }

 private:
  struct Pending {
    bool copied = false;
    std::string text;         // copied: the user's JSON from the previous output
    UserRecommendations rec;  // ranked now
  };

  UserRecommendations ParsedUser(const std::string& text) const {
    nlohmann::json j;
    std::string error;
    if (!ParseJson(text, &j, &error)) Fail(ExitCode::kDataErr, previous_, ": ", error);
    return UserFromJson(j);
  }
  void Store(const UserRecommendations& u) {
    if (c_.to_workspace) ws_->StoreList(run_, u.user_id, u.cold_start, u.history, ListEntries(u));
  }

  const PipelineConfig& c_;
  const RecommendationFormat format_;
  SnippetFinder* snippets_;
  const Narrator* narrator_;
  Workspace* ws_;
  const int64_t run_;
  const std::string previous_;
  std::unique_ptr<RecommendationWriter> writer_;  // rank 0 only
  std::string mine_;                              // another rank's users, serialised for rank 0
  std::vector<Pending> queue_;
  size_t ranked_in_queue_ = 0;
};

// An incremental run's copies: walks the previous output alongside the
// users in output order, queueing the lists of users not ranked now.
class PreviousLists {
 public:
  PreviousLists(const Plan& plan, RecommendationFormat format, const Profiles& profiles, const std::vector<int>& users)
      : path_(plan.previous), profiles_(profiles), users_(users) {
    if (plan.incremental) file_ = std::make_unique<RecommendationFileUsers>(plan.previous, format);
  }

  // Queues the users before profile row `stop` (-1: all the rest) and steps
  // over `stop` itself, which is ranked now.
  void CopyUntil(int stop, ListSink* sink) {
    if (!file_) return;
    std::string id, text;
    bool cold = false;
    for (; next_ < users_.size() && users_[next_] != stop; ++next_) {
      const std::string& want = profiles_.users[static_cast<size_t>(users_[next_])];
      do {
        if (!file_->Next(&id, &text, &cold)) {
          Fail(ExitCode::kDataErr, path_, ": user ", EscapeForMessage(want), " is missing from the previous output");
        }
      } while (id != want);
      sink->AddCopied(std::move(text));
      ++copied_;
      copied_cold_ += cold;
    }
    if (next_ < users_.size()) ++next_;
  }
  int64_t copied() const { return copied_; }
  int64_t copied_cold() const { return copied_cold_; }

 private:
  const std::string path_;
  const Profiles& profiles_;
  const std::vector<int>& users_;
  std::unique_ptr<RecommendationFileUsers> file_;
  size_t next_ = 0;  // position in `users_` of the next user to write
  int64_t copied_ = 0;
  int64_t copied_cold_ = 0;
};

// The ranking options of this process: under mpirun each rank ranks a
// contiguous part of the shard (in output order).
RecommendOptions RankOptionsOfThisRank(const PipelineConfig& c) {
  RecommendOptions r = RankOptions(c);
  const Cluster& cluster = Cluster::Get();
  if (cluster.distributed()) {
    r.shard = r.shard * cluster.size() + cluster.rank();
    r.shards *= cluster.size();
  }
  return r;
}

// The allow and deny lists against the catalogue. An allow list that names
// no item of it (an empty file, a stale list, ids in another form) would
// leave every list empty with exit 0, and an empty file is never "allow
// everything": both are data errors, as is a deny list that leaves nothing.
// Unknown ids in either list are counted in a warning with an example: a deny
// list in the wrong form lets through what it was meant to hold back.
void CheckItemLists(const PipelineConfig& c, const RecommendOptions& r, const ItemMatrix& items) {
  const auto known = [&](const std::vector<std::string>& ids, const std::string& path, bool deny) {
    std::vector<int> rows;
    const std::string* first_unknown = nullptr;
    for (const std::string& id : ids) {
      const int row = items.Find(id);
      if (row >= 0) {
        rows.push_back(row);
      } else if (first_unknown == nullptr) {
        first_unknown = &id;
      }
    }
    if (first_unknown != nullptr && !rows.empty()) {
      spdlog::warn("{}: {} of its {} ids name no item of the catalogue (ignored), e.g. {}", path,
                   ids.size() - rows.size(), ids.size(), EscapeForMessage(*first_unknown));
    } else if (first_unknown != nullptr && deny) {
      spdlog::warn("{}: none of its {} ids is an item of the catalogue, e.g. {}: it holds back nothing", path,
                   ids.size(), EscapeForMessage(*first_unknown));
    }
    return std::make_pair(rows, first_unknown == nullptr ? std::string() : *first_unknown);
  };
  std::vector<char> candidate(items.ids.size(), c.allow_list.empty() ? 1 : 0);
  if (!c.allow_list.empty()) {
    if (r.allow.empty()) {
      Fail(ExitCode::kDataErr, c.allow_list,
           ": names no item ids, so no item may be recommended (an allow list lets through only the items it names; "
           "leave out --allow-list to allow every item)");
    }
    const auto [rows, unknown] = known(r.allow, c.allow_list, false);
    if (rows.empty()) {
      Fail(ExitCode::kDataErr, c.allow_list, ": none of its ", r.allow.size(),
           " ids is an item of the catalogue (the first: ", EscapeForMessage(unknown),
           "), so no item may be recommended; are the ids in another form?");
    }
    for (int row : rows) candidate[static_cast<size_t>(row)] = 1;
  }
  if (!c.deny_list.empty()) {
    for (int row : known(r.deny, c.deny_list, true).first) candidate[static_cast<size_t>(row)] = 0;
  }
  if (std::find(candidate.begin(), candidate.end(), 1) == candidate.end()) {
    Fail(ExitCode::kDataErr, c.deny_list, ": holds back every item ",
         c.allow_list.empty() ? "of the catalogue" : "the allow list names", ", so no item may be recommended");
  }
}

// Of the shard's `users`, those ranked in this run (the others' lists are
// copied from the previous output).
int64_t UsersToRank(const Plan& plan, const std::vector<int>& users) {
  if (!plan.incremental) return static_cast<int64_t>(users.size());
  int64_t rerank = 0;
  for (int u : users) rerank += plan.rerank[static_cast<size_t>(u)];
  return rerank;
}

void LogPlan(const Plan& plan, const std::vector<int>& users) {
  if (!plan.incremental) {
    InfoEvent("incremental", {{"mode", "full"}, {"reason", plan.reason}},
              "incremental: ranking every user (" + plan.reason + ")");
    return;
  }
  const int64_t rerank = UsersToRank(plan, users);
  const int64_t copied = static_cast<int64_t>(users.size()) - rerank;
  InfoEvent("incremental",
            {{"mode", "incremental"},
             {"changed_users", plan.changed},
             {"reranked", rerank},
             {"copied", copied},
             {"previous", plan.previous}},
            fmt::format("incremental: {} of {} users changed; reranking {}, copying {} from {}", plan.changed,
                        users.size(), rerank, copied, plan.previous));
}

// After a successful --only-changed run: what the next one compares with.
void SaveIncrementalState(const PipelineConfig& c, Plan* plan, const Profiles& profiles, const std::vector<int>& users,
                          Workspace* ws) {
  const std::string out = AbsolutePath(c.out);
  if (!IsRegularFile(out)) {
    spdlog::warn("--only-changed: {} is not a regular file; the next run cannot copy from it and ranks everyone",
                 c.out);
    return;
  }
  plan->state["out"] = out;
  plan->state["out_sha256"] = Sha256File(out);
  std::vector<std::pair<std::string, uint64_t>> fps;
  fps.reserve(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    fps.emplace_back(profiles.users[static_cast<size_t>(users[i])], plan->fingerprints[i]);
  }
  ws->SetMeta(kStatePrefix + c.IncrementalKey(), plan->state.dump());
  ws->StoreFingerprints(c.IncrementalKey(), fps);
}

// Snippet sentences are only a cache: a busy workspace, or one this user
// may only read (an analyst's account), costs the next run a little time,
// not this one its result.
void CacheSnippets(SnippetFinder* snippets, Workspace* ws) {
  if (!ws->why_read_only().empty()) return;  // LogSnippetCost says so
  try {
    ws->InTransaction([&] { snippets->Save(); });
  } catch (const Error& e) {
    if (e.code() != ExitCode::kTempFail && e.code() != ExitCode::kCantCreate) throw;
    spdlog::warn("snippets not cached: {}", e.what());
  }
}

void LogStageEnd(const PipelineConfig& c, const RecommendOptions& r, const OutputHeader& header,
                 const RecommendStats& st, int64_t copied, double secs) {
  InfoEvent(
      "stage_end",
      {{"stage", "recommend"},
       {"algorithm", AlgorithmName(r.algorithm)},
       {"config_hash", header.config_hash},
       {"users", st.users},
       {"copied", copied},
       {"cold_start", st.cold_start},
       {"top_n", r.top_n},
       {"candidates", st.candidates},
       {"avoided", st.avoided},
       {"out", c.out},
       {"seconds", std::round(secs * 100) / 100}},
      fmt::format("recommend ({}): {} ({} cold-start{}), top {} of {} candidate items{}; {:.1f} s; "
                  "written to {}",
                  AlgorithmName(r.algorithm), CountOf(st.users, "user"), st.cold_start,
                  copied > 0 ? fmt::format(", {} copied from the previous run", copied) : "", r.top_n, st.candidates,
                  r.avoid_below
                      ? fmt::format(" ({} user-item pairs predicted below {} held back)", st.avoided, *r.avoid_below)
                      : "",
                  secs, c.out));
}

// The options, together and against the catalogue, before any work; the
// output's format.
RecommendationFormat CheckBeforeRanking(const PipelineConfig& c, const RecommendOptions& r, const ItemMatrix& items) {
  CheckItemLists(c, r, items);
  const RecommendationFormat format = ParseRecommendationFormat(c.RecommendFormat());
  c.WarnOfFormatAgainstExtension();
  if (c.spreadsheet_safe && format != RecommendationFormat::kCsv && format != RecommendationFormat::kTsv) {
    spdlog::warn("--spreadsheet-safe: {} is written as JSON, which it leaves as it is (it is for csv and tsv)", c.out);
  }
  c.Validate();  // options together (the verbs check them before any work too)
  return format;
}

// What quoting the reviews cost, when the sentiment model scored sentences.
// `ws`: the workspace that caches them, if any.
void LogSnippetCost(const SnippetFinder& snippets, const Workspace* ws) {
  if (snippets.scored() == 0) return;
  // Without a workspace this is paid on every run, and it can be most of
  // the stage's time (Amazon Digital Music: 66 of 70 s).
  spdlog::info("snippets: {} sentences of {} cited reviews scored by the sentiment model in {:.1f} s{}",
               snippets.scored(), snippets.scored_reviews(), snippets.seconds(),
               ws == nullptr ? "; a workspace (--workspace) caches them for the next run, --snippets first "
                               "quotes without the model"
               : ws->why_read_only().empty() ? " (cached in the workspace for the next run)"
                                             : " (not cached: the workspace is read-only for this user)");
}

// The --users file's ids, less those `avrec forget` removed from the workspace.
std::vector<std::string> ColdStartUsers(const PipelineConfig& c, const Dataset& data) {
  if (c.users.empty()) return {};
  std::vector<std::string> ids = ReadIdList(c.users);
  const auto forgotten =
      std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return data.forgotten.HasUser(id); });
  if (forgotten != ids.end()) {
    spdlog::info("{}: no list for {} `avrec forget` removed", c.users,
                 CountOf(static_cast<int64_t>(ids.end() - forgotten), "user"));
    ids.erase(forgotten, ids.end());
  }
  return ids;
}

}  // namespace

RecommendStats RecommendStage(const PipelineConfig& c, const ModelInputs& in, Workspace* open_ws) {
  if (c.out.empty()) Fail(ExitCode::kUsage, "recommend: --out PATH is required");
  const auto t0 = std::chrono::steady_clock::now();
  const RecommendOptions r = RankOptionsOfThisRank(c);
  const RecommendationFormat format = CheckBeforeRanking(c, r, in.items.matrix);
  const bool tracked = c.only_changed || c.to_workspace;
  const ProfileOptions po = ProfileOptionsFor(r.algorithm, c.profile);
  const std::vector<std::string> extra = ColdStartUsers(c, in.data);
  ProfileFile file;
  if (!c.profiles_in.empty()) file = ReadProfiles(c.profiles_in);
  const Profiles profiles = BuildUserProfiles(in.data.reviews, in.has_sentiment ? &in.sentiment : nullptr, in.items, po,
                                              extra, c.profiles_in.empty() ? nullptr : &file);
  const OutputHeader header = HeaderFor(c, in, r);

  ReviewIndex reviews;
  for (const Review& rv : in.data.reviews) reviews.emplace(rv.review_id, &rv);
  const SnippetMode snippet_mode = ParseSnippetMode(c.snippets);
  std::unique_ptr<Workspace> own_ws;
  Workspace* ws = open_ws;
  const bool caches_snippets = snippet_mode == SnippetMode::kModel && !c.workspace.empty();
  if ((tracked || caches_snippets) && ws == nullptr) {
    own_ws = Workspace::Open(c.workspace, false);
    ws = own_ws.get();
  }
  SnippetFinder snippets(reviews, snippet_mode, c.sentiment_model, c.EncoderWithThreads(), ws);
  const Narrator narrator(in.data.item_table, in.data.reviews, ParseReasonLanguage(c.reason_language));
  const std::vector<int> users = ShardRows(profiles, r.shard, r.shards);  // in output order
  Plan plan;
  if (c.only_changed) {
    plan = PlanRun(c, r, header, in, profiles, reviews, users, ws);
    LogPlan(plan, users);
  }

  RecommendStats st;
  int64_t copied = 0;
  const auto body = [&] {
    const int64_t run = tracked ? ws->BeginRun("recommend", AbsolutePath(c.out)) : 0;
    ListSink sink(c, format, header, &snippets, &narrator, ws, run, plan.previous);
    PreviousLists previous(plan, format, profiles, users);
    Progress progress("recommend", UsersToRank(plan, users));
    st = Rank(
        in.items, profiles, r,
        [&](const UserRecommendations& u) {
          previous.CopyUntil(profiles.Find(u.user_id), &sink);
          sink.AddRanked(u);
          progress.Tick();
          FaultPoint("recommend.user");
        },
        plan.incremental ? &plan.rerank : nullptr);
    previous.CopyUntil(-1, &sink);
    sink.Flush();
    progress.Finish();
    if (!sink.GatherRanks(&st)) return;
    sink.Commit();
    copied = previous.copied();
    st.users += copied;
    st.cold_start += previous.copied_cold();
    if (c.only_changed) SaveIncrementalState(c, &plan, profiles, users, ws);
    if (tracked) {
      snippets.Save();
      UpsertCounts counts;
      counts.added = st.users - copied;
      counts.unchanged = copied;
      ws->FinishRun(run, counts, 0);
      if (c.to_workspace) ws->PruneLists(c.keep_lists);
    }
  };
  if (tracked) {
    ws->InTransaction(body);
  } else {
    body();
    if (caches_snippets && Cluster::Get().root()) CacheSnippets(&snippets, ws);
  }
  LogStageEnd(c, r, header, st, copied, SecondsSince(t0));
  LogSnippetCost(snippets, caches_snippets ? ws : nullptr);
  return st;
}

}  // namespace avrec
