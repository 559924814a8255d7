// The fault suite: avrec as a hostile but realistic user and machine treat it.
// Every case asserts the exit code, the message (PATH:LINE where a line is at
// fault) and that no file or workspace was changed, lost or left
// half-written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include "avrec/io.h"
#include "avrec/log.h"
#include "avrec/text.h"
#include "test_util.h"

namespace avrec {
namespace {

using test::AvrecBinary;
using test::FileExists;
using test::kItems;
using test::kReviews;
using test::kTinyEmbedding;
using test::kTinySentiment;
using test::ReadFile;
using test::RunAvrec;
using test::RunProgram;
using test::RunResult;
using test::SourcePath;
using test::TempDir;
using test::WriteFile;

// Files in a folder (names), sorted.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool HasTempFile(const std::string& dir) {
  for (const auto& f : Listing(dir)) {
    if (f.find(".tmp.") != std::string::npos || f.find(".old.") != std::string::npos) return true;
  }
  return false;
}

std::string Sql(const std::string& db, const std::string& sql) {
  RunResult r = RunProgram({"sqlite3", db, sql});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(r.out.substr(0, r.out.find_last_not_of('\n') + 1));
}

// A scores file of the sample (tiny model), made once.
const std::string& SampleScores() {
  static TempDir dir;
  static std::string path = [] {
    const std::string p = dir / "scores.jsonl";
    RunResult r =
        RunAvrec({"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", p, "--precision", "bf16"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }();
  return path;
}

// Commands that write one output file, each with its output flag last.
std::vector<std::vector<std::string>> OutputCommands(const TempDir& dir) {
  WriteFile(dir / "u.csv", "id,a,b\nu1,1,0\nu2,0,1\n");
  WriteFile(dir / "i.csv", "id,a,b\ni1,1,1\ni2,1,0\n");
  WriteFile(dir / "texts.csv", "id,text\nt1,great song\n");
  WriteFile(dir / "truth.csv", "user_id,item_id\nu001,s0001\n");
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u001\",\"items\":[{\"item_id\":\"s0001\"}]}\n");
  const std::vector<std::string> model = {"--reviews", kReviews,       "--items",      kItems,
                                          "--scores",  SampleScores(), "--text-model", "none"};
  std::vector<std::string> recommend = {"recommend"}, profile = {"profile"};
  recommend.insert(recommend.end(), model.begin(), model.end());
  profile.insert(profile.end(), model.begin(), model.end());
  recommend.push_back("--out");
  profile.push_back("--out");
  return {{"score", "--model", kTinySentiment, "--reviews", kReviews, "--out"},
          recommend,
          profile,
          {"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--out"},
          {"topk", "--users", dir / "u.csv", "--items", dir / "i.csv", "--out"},
          {"embed", "--model", kTinyEmbedding, "--input", dir / "texts.csv", "--out"},
          {"split", "--reviews", kReviews, "--format", "csv", "--test", dir / "split-test.csv", "--train"}};
}

// Reads what is written to `fifo` while `run` runs (never blocking when the
// writer fails before opening it).
std::string ReadFifoWhile(const std::string& fifo, const std::function<void()>& run) {
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  EXPECT_GE(fd, 0);
  std::atomic<bool> done{false};
  std::thread t([&] {
    run();
    done = true;
  });
  std::string got;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (done) {
      while (::read(fd, buf, sizeof buf) > 0) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.join();
  ::close(fd);
  return got;
}

// ---- outputs --------------------------------------------------------------------

// split writes reviews in the format its outputs' names give; a name that
// gives none (a device, a FIFO) is a usage error that says to give --format,
// and with it the same bytes go through.
TEST(Outputs, SplitToANameWithoutAFormatAsksForOne) {
  TempDir dir;
  RunResult r = RunAvrec({"split", "--reviews", kReviews, "--test", dir / "t.csv", "--train", "/dev/stdout"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("/dev/stdout: cannot tell the output format from the name (.csv, .tsv or .jsonl); give "
                       "--format csv, tsv or jsonl"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(dir / "t.csv"));
  r = RunAvrec({"split", "--reviews", kReviews, "--test", dir / "t.csv", "--train", "/dev/stdout", "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("review_id,user_id,item_id,rating,timestamp,text\n", 0), 0u) << r.out.substr(0, 80);
  RunAvrec({"split", "--reviews", kReviews, "--test", dir / "t2.csv", "--train", dir / "train.csv"});
  EXPECT_EQ(r.out, ReadFile(dir / "train.csv"));
}

TEST(Outputs, DevicesPipesAndLinksAreWrittenThroughNotReplaced) {
  TempDir dir;
  for (auto cmd : OutputCommands(dir)) {
    const std::string verb = cmd[0];
    // /dev/null stays the device.
    auto args = cmd;
    args.push_back("/dev/null");
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    struct stat st;
    ASSERT_EQ(::stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << verb << " replaced /dev/null";
    // /dev/stdout: the bytes arrive on stdout, appended where the shell points.
    args = cmd;
    args.push_back("/dev/stdout");
    r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << verb;
    // A symbolic link: its target is replaced, the link stays.
    WriteFile(dir / ("target-" + verb), "old");
    std::filesystem::remove(dir / ("link-" + verb));
    std::filesystem::create_symlink(dir / ("target-" + verb), dir / ("link-" + verb));
    args = cmd;
    args.push_back(dir / ("link-" + verb));
    r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    EXPECT_TRUE(std::filesystem::is_symlink(dir / ("link-" + verb))) << verb;
    EXPECT_NE(ReadFile(dir / ("target-" + verb)), "old") << verb;
    // A dangling link into a missing folder: exit 73 naming the link, its
    // target and the folder; the link stays as it was.
    std::filesystem::remove(dir / ("dangling-" + verb));
    std::filesystem::create_symlink(dir / "gone/t", dir / ("dangling-" + verb));
    args = cmd;
    args.push_back(dir / ("dangling-" + verb));
    r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 73) << verb << ": " << r.err;
    EXPECT_NE(r.err.find("dangling-" + verb + " (a link to " + dir / "gone/t" + "): cannot create output: the folder " +
                         dir / "gone" + " does not exist"),
              std::string::npos)
        << verb << ": " << r.err;
    EXPECT_TRUE(std::filesystem::is_symlink(dir / ("dangling-" + verb))) << verb;
    // A FIFO: written straight through to the reader.
    const std::string fifo = dir / ("fifo-" + verb);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    args = cmd;
    args.push_back(fifo);
    std::string got = ReadFifoWhile(fifo, [&] { r = RunAvrec(args); });
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    EXPECT_FALSE(got.empty()) << verb;
    ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << verb << " replaced the FIFO";
  }
  EXPECT_FALSE(HasTempFile(dir.path()));
}

// Runs avrec as an unprivileged user (root ignores file permissions).
RunResult RunUnprivileged(const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  argv.push_back(test::AvrecBinary());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

TEST(Outputs, ReadOnlyFolderIsExit73AndLeavesNothing) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string ro = dir / "ro";
  std::filesystem::create_directory(ro);
  WriteFile(ro + "/existing.json", "old");
  ::chmod(ro.c_str(), 0555);
  const std::string scores = dir / "s.jsonl";
  WriteFile(scores, ReadFile(SampleScores()));
  ::chmod(scores.c_str(), 0644);
  RunResult r = RunUnprivileged({"recommend", "--reviews", kReviews, "--items", kItems, "--scores", scores,
                                 "--text-model", "none", "--out", ro + "/existing.json"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(ro + "/existing.json: cannot create output"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(ro + "/existing.json"), "old");
  EXPECT_EQ(Listing(ro), std::vector<std::string>{"existing.json"});
  // An output path that is a folder.
  r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", dir.path()});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

// What could only fail when the finished output is put in place (a missing
// or unwritable folder, an input named as the output, another user's file
// in a sticky folder) fails before any work: a nightly job learns of its
// typo in a millisecond, not after an hour of scoring.
TEST(Outputs, AnOutputThatCannotBeWrittenFailsBeforeAnyWork) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string reviews = dir / "r.csv";
  WriteFile(reviews, ReadFile(kReviews));
  ::chmod(reviews.c_str(), 0644);
  auto score = [&](const std::string& out, bool unprivileged = false) {
    const std::vector<std::string> args = {"score", "--model", kTinySentiment, "--reviews", reviews, "--out", out};
    RunResult r = unprivileged ? RunUnprivileged(args) : RunAvrec(args);
    EXPECT_EQ(r.err.find("scored by"), std::string::npos) << out << ": the work was done first\n" << r.err;
    return r;
  };
  RunResult r = score(dir / "missing/s.jsonl");
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(dir / "missing/s.jsonl: cannot create output: the folder " + dir / "missing does not exist"),
            std::string::npos)
      << r.err;
  r = score(reviews + "/s.jsonl");  // a file where a folder was meant
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find("/s.jsonl: cannot create output: " + reviews + " is not a folder"), std::string::npos) << r.err;
  std::filesystem::create_hard_link(reviews, dir / "same.csv");
  r = score(dir / "same.csv");
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find(dir / "same.csv: is also an input of this command (" + reviews + ")"), std::string::npos)
      << r.err;
  const std::string ro = dir / "ro";
  std::filesystem::create_directory(ro);
  ::chmod(ro.c_str(), 0555);
  r = score(ro + "/s.jsonl", /*unprivileged=*/true);
  if (::geteuid() == 0 || ::access(ro.c_str(), W_OK) != 0) {
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find(ro + "/s.jsonl: cannot create output: the folder " + ro + " is not writable by this user"),
              std::string::npos)
        << r.err;
  }
  EXPECT_TRUE(Listing(ro).empty());
  // run makes missing folders, so it checks the nearest folder there is.
  ::chmod(dir.path().c_str(), 0777);  // the workspace could be made
  r = RunUnprivileged({"run", "--config", SourcePath("data/sample/pipeline.json"), "-w", dir / "ws.avrec", "--out",
                       ro + "/new/l.json"});
  if (::geteuid() == 0) {
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find("the folder " + ro + " is not writable by this user"), std::string::npos) << r.err;
    EXPECT_FALSE(FileExists(dir / "ws.avrec")) << "ingested before failing";
  }
  // Another user's file in a sticky folder (root makes the file, nobody
  // tries to replace it).
  if (::geteuid() == 0) {
    const std::string sticky = dir / "sticky";
    std::filesystem::create_directory(sticky);
    ::chmod(sticky.c_str(), 01777);
    WriteFile(sticky + "/s.jsonl", "root's");
    ::chmod((sticky + "/s.jsonl").c_str(), 0644);
    r = score(sticky + "/s.jsonl", /*unprivileged=*/true);
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find(sticky + "/s.jsonl: belongs to another user (uid 0) in " + sticky +
                         ", a folder with the sticky bit"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(ReadFile(sticky + "/s.jsonl"), "root's");
  }
}

// Runs `args` with at most `kb` KiB of disk: a small tmpfs mounted at
// `mount_dir` in a private mount namespace where that is allowed, else
// RLIMIT_FSIZE (ulimit -f). Returns the result.
RunResult RunWithDiskOf(int kb, const std::string& mount_dir, const std::vector<std::string>& args,
                        const std::string& setup = "", bool prefer_tmpfs = true) {
  std::string quoted;
  for (const auto& a : args) quoted += " '" + a + "'";
  const std::string body = setup + " exec " + test::AvrecBinary() + quoted;
  if (prefer_tmpfs) {
    RunResult r = RunProgram({"unshare", "-m", "sh", "-c",
                              "mount -t tmpfs -o size=" + std::to_string(kb) + "k none '" + mount_dir +
                                  "' 2>/dev/null || exit 99; " + body});
    if (r.exit_code != 99) return r;
  }
  return RunProgram({"sh", "-c", "ulimit -f " + std::to_string(kb) + "; " + body});
}

TEST(Outputs, DiskFullIsExit74AndLeavesTheOldFile) {
  for (bool tmpfs : {true, false}) {  // a full file system; a file size limit
    TempDir dir;
    const std::string out = dir / "small";
    std::filesystem::create_directory(out);
    // The recommendations of the sample are about 2 MB; 256 KiB of disk.
    RunResult r = RunWithDiskOf(256, out,
                                {"recommend", "--reviews", kReviews, "--items", kItems, "--scores", SampleScores(),
                                 "--text-model", "none", "--out", out + "/recs.json"},
                                "echo old > '" + out + "/recs.json';", tmpfs);
    EXPECT_EQ(r.exit_code, 74) << r.err;
    EXPECT_NE(r.err.find("recs.json: write error"), std::string::npos) << r.err;
    // With tmpfs the mount is gone now; with ulimit the old file is there.
    if (FileExists(out + "/recs.json")) {
      EXPECT_EQ(ReadFile(out + "/recs.json"), "old\n");
    }
    EXPECT_FALSE(HasTempFile(out));
  }
}

TEST(Workspace, DiskFullDuringIngestIsExit74AndChangesNothing) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  {
    std::ofstream f(dir / "big.csv");
    f << "review_id,user_id,item_id,text\n";
    for (int i = 0; i < 30000; ++i)
      f << "b" << i << ",u" << i % 100 << ",s0004,a longer review text number " << i << "\n";
  }
  RunResult r = RunWithDiskOf(1024, dir.path(), {"ingest", "-w", ws, "--reviews", dir / "big.csv"}, "", false);
  EXPECT_EQ(r.exit_code, 74) << r.err;
  EXPECT_NE(r.err.find(ws), std::string::npos) << r.err;  // the message names the workspace
  EXPECT_EQ(Sql(ws, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Sql(ws, "SELECT count(*) FROM reviews"), "0");
}

// An input or output on a descriptor the shell closed (`>&-`, `<&-`) fails
// before any work, with the exit code of an output that cannot be created
// (73) or an input that cannot be read (66); an open one is written through.
TEST(Outputs, ClosedDescriptorsFailBeforeAnyWork) {
  TempDir dir;
  const std::string avrec = "cd '" + dir.path() + "' && '" + test::AvrecBinary() + "'";
  const std::string quick =
      " --items '" + std::string(kItems) + "' --algorithm popular --no-sentiment --text-model none --log-level info";
  const std::string reviews = " --reviews '" + std::string(kReviews) + "'";
  for (const char* out : {"-", "/dev/stdout"}) {
    RunResult r = RunProgram({"bash", "-c", avrec + " recommend" + reviews + quick + " --out " + out + " >&-"});
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find(std::string(out) + ": standard output is closed (was the command started with >&-?)"),
              std::string::npos)
        << r.err;
  }
  RunResult r = RunProgram({"bash", "-c", avrec + " recommend --reviews -" + quick + " --out x.json <&-"});
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find("-: standard input is closed"), std::string::npos) << r.err;
  r = RunProgram(
      {"bash", "-c",
       avrec + " run --config '" + SourcePath("data/sample/pipeline.json") + "' -w w.avrec --out /dev/fd/7"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find("/dev/fd/7: descriptor 7 is closed (was the command started with 7>&-?)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(dir / "w.avrec"));
  // Open, the same descriptor is written straight through.
  r = RunProgram({"bash", "-c", avrec + " recommend" + reviews + quick + " --out /dev/fd/7 7>out.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir / "out.json").find("avrec-recommendations/1"), std::string::npos);
}

// Two outputs of one command that name the same file (as given, through a
// link, or through another name of its folder) are a usage error before any
// work: the manifest would replace the lists, the test half the train half.
TEST(Outputs, TwoOutputsNamingOneFileAreAUsageError) {
  TempDir dir;
  WriteFile(dir / "recs.json", "last night's lists");
  std::filesystem::create_symlink(dir / "recs.json", dir / "link.json");
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"}]}\n");
  WriteFile(dir / "truth.csv", "user_id,item_id\nu,a\n");
  const std::vector<std::vector<std::string>> commands = {
      {"recommend", "--reviews", kReviews, "--items", kItems, "--algorithm", "popular", "--no-sentiment",
       "--text-model", "none", "--out", dir / "recs.json", "--manifest", dir / "link.json"},
      {"split", "--reviews", kReviews, "--train", dir / "t.csv", "--test", dir.path() + "/./t.csv"},
      {"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--out", dir / "m.json", "--per-user",
       dir / "m.json"}};
  for (const auto& args : commands) {
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("name the same file as two outputs of this command"), std::string::npos)
        << args[0] << ": " << r.err;
  }
  EXPECT_EQ(ReadFile(dir / "recs.json"), "last night's lists");  // nor did the failed run's manifest replace it
  EXPECT_FALSE(FileExists(dir / "t.csv"));
  EXPECT_FALSE(FileExists(dir / "m.json"));
  // Streams are not files: the metrics to standard output and --out /dev/stdout is fine.
  RunResult r =
      RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--out", "/dev/stdout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Standard input can feed one input: two inputs read from it (as "-" or
// /dev/stdin from a pipe) are a usage error before any reading, since the
// second would see nothing; a file redirected with < is opened anew by each
// /dev/stdin, and one "-" beside files reads as usual.
TEST(Inputs, TwoInputsFromOnePipeAreAUsageError) {
  TempDir dir;
  const std::string avrec = "'" + test::AvrecBinary() + "'";
  const std::string pipe = "cat '" + std::string(kReviews) + "' | ";
  for (const std::string items : {"-", "/dev/stdin"}) {
    RunResult r = RunProgram({"bash", "-c", pipe + avrec + " validate --reviews - --items " + items});
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find("two inputs read standard input ('-' and '" + items +
                         "'), which can feed only one; give the others as files"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("duplicate item_id"), std::string::npos) << "read before refusing:\n" << r.err;
  }
  RunResult r = RunProgram({"bash", "-c", pipe + avrec + " evaluate --recs - --truth /dev/fd/0"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  r = RunProgram({"bash", "-c", pipe + avrec + " validate --reviews - --items '" + std::string(kItems) + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir / "twice.csv", "user_id,item_id,text\nu,i,fine\n");
  r = RunProgram(
      {"bash", "-c", avrec + " validate --reviews /dev/stdin --items /dev/stdin < '" + (dir / "twice.csv") + "'"});
  EXPECT_NE(r.exit_code, 64) << r.err;  // read twice from the file (and found wanting as items: no matter)
  EXPECT_EQ(r.err.find("standard input"), std::string::npos) << r.err;
}

// The verbs that print their result (evaluate, diff, tokenize) or help fail
// when standard output loses it: a full disk is 74, a closed descriptor 73
// before any work. Exit 0 means the output arrived.
TEST(Outputs, LostStandardOutputIsAnErrorInEveryVerb) {
  if (!FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string lists = dir / "recs.jsonl";
  WriteFile(lists, "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"b\"}]}\n");
  WriteFile(dir / "truth.csv", "user_id,item_id\nu,a\n");
  const std::string avrec = "'" + test::AvrecBinary() + "'";
  const std::vector<std::string> commands = {
      "evaluate --recs '" + lists + "' --truth '" + (dir / "truth.csv") + "' --out '" + (dir / "m.json") + "'",
      "diff --old '" + lists + "' --new '" + lists + "'", "tokenize <<< 'a sick beat'"};
  for (const std::string& c : commands) {
    RunResult r = RunProgram({"bash", "-c", avrec + " " + c + " >/dev/full"});
    EXPECT_EQ(r.exit_code, 74) << c << "\n" << r.err;
    EXPECT_NE(r.err.find("standard output: write error: No space left on device"), std::string::npos) << r.err;
    r = RunProgram({"bash", "-c", avrec + " " + c + " >&-"});
    EXPECT_EQ(r.exit_code, 73) << c << "\n" << r.err;
    EXPECT_NE(r.err.find("-: standard output is closed"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(FileExists(dir / "m.json"));  // the closed case failed before writing it
  for (const char* flag : {"--help", "--version"}) {
    RunResult r = RunProgram({"bash", "-c", avrec + " " + flag + " >/dev/full"});
    EXPECT_EQ(r.exit_code, 74) << flag << "\n" << r.err;
  }
  // Written, the same commands succeed.
  EXPECT_EQ(RunProgram({"bash", "-c", avrec + " " + commands[1] + " >/dev/null"}).exit_code, 0);
}

// report reads the recommendations, last night's and the run manifest
// before the reviews: a broken one fails at once, named, with nothing written.
TEST(Outputs, ReportFailsOnABrokenPreviousFileBeforeReadingTheReviews) {
  TempDir dir;
  const std::string lists = dir / "recs.jsonl";
  WriteFile(lists,
            "{\"user_id\":\"u\",\"cold_start\":false,\"history\":1,\"items\":[{\"item_id\":\"a\",\"rank\":1,"
            "\"score\":0.5,\"reasons\":[]}]}\n");
  WriteFile(dir / "previous.jsonl", "{\"user_id\":\"u\",\"items\":[{\"item_id\":\n");
  // The reviews and items are no such files: an error about them would mean
  // they were read first.
  WriteFile(dir / "unread.csv", "not,reviews\n");
  WriteFile(dir / "unread_items.csv", "not,items\n");
  RunResult r = RunAvrec({"report", "--recs", lists, "--previous", dir / "previous.jsonl", "--reviews",
                          dir / "unread.csv", "--items", dir / "unread_items.csv", "--out", dir / "page.html"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find(dir / "previous.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("unread"), std::string::npos) << r.err;
  // A broken manifest; JSON that is not a run manifest (a recommendations
  // document given as --manifest).
  WriteFile(dir / "run.json", "{\"format\": ");
  WriteFile(dir / "recs.json", "{\"avrec_version\": \"0.1.0\", \"users\": []}\n");
  for (const std::string& said : {dir / "run.json", dir / "recs.json: not an avrec run manifest"}) {
    const std::string manifest = said.substr(0, said.find(':'));
    r = RunAvrec({"report", "--recs", lists, "--manifest", manifest, "--reviews", dir / "unread.csv", "--items",
                  dir / "unread_items.csv", "--out", dir / "page.html"});
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    EXPECT_FALSE(FileExists(dir / "page.html"));
  }
  // Options that cannot work, and inputs that are not there, fail before
  // the lists are read (a night's lists take a while): the lists here are
  // broken, and that is not what is said.
  WriteFile(dir / "broken_recs.jsonl", "{\"user_id\": \n");
  r = RunAvrec({"report", "--recs", dir / "broken_recs.jsonl", "--workspace", dir / "missing.avrec", "--out",
                dir / "page.html"});
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find(dir / "missing.avrec: no such workspace"), std::string::npos) << r.err;
  r = RunAvrec({"report", "--recs", dir / "broken_recs.jsonl", "--reviews", dir / "unread.csv", "--items",
                dir / "missing_items.csv", "--out", dir / "page.html"});
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find(dir / "missing_items.csv: cannot open: No such file or directory"), std::string::npos) << r.err;
  for (const std::vector<std::string>& data :
       std::vector<std::vector<std::string>>{{"--items", dir / "unread_items.csv"}, {}}) {
    std::vector<std::string> args = {"report", "--recs", dir / "broken_recs.jsonl", "--out", dir / "page.html"};
    args.insert(args.end(), data.begin(), data.end());
    r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find(data.empty() ? "give --workspace PATH, or --reviews PATH (and --items PATH)"
                                      : "--items needs --reviews PATH too (or give --workspace)"),
              std::string::npos)
        << r.err;
  }
}

// report reads the lists once, so they may come through a pipe (stdin, a
// process substitution) like every other input, and a recommendations file
// in avrec's format but laid out by another writer (one compact line) is
// read whole: every user of the lists reaches the drill-down.
TEST(Inputs, ReportReadsItsListsFromAPipeAndAnyLayout) {
  TempDir dir;
  const std::string lists = dir / "recs.json";
  RunResult r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--algorithm", "item-knn",
                          "--no-sentiment", "--text-model", "none", "--out", lists});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(lists));
  WriteFile(dir / "compact.json", doc.dump());
  const std::string first = doc["users"].front()["user_id"], last = doc["users"].back()["user_id"];
  const std::string avrec = "'" + test::AvrecBinary() + "'";
  const std::string inputs = " --reviews '" + kReviews + "' --items '" + kItems + "' --max-users 1000 --out ";
  const std::vector<std::string> commands = {
      avrec + " report --recs '" + lists + "'" + inputs + "'" + dir / "file.html" + "'",
      "cat '" + lists + "' | " + avrec + " report --recs -" + inputs + "'" + dir / "stdin.html" + "'",
      avrec + " report --recs <(cat '" + lists + "')" + inputs + "'" + dir / "fifo.html" + "'",
      avrec + " report --recs '" + dir / "compact.json" + "'" + inputs + "'" + dir / "compact.html" + "'"};
  for (const std::string& c : commands) {
    r = RunProgram({"bash", "-c", c});
    EXPECT_EQ(r.exit_code, 0) << c << "\n" << r.err;
  }
  for (const char* page : {"file.html", "stdin.html", "fifo.html", "compact.html"}) {
    const std::string html = ReadFile(dir / page);
    EXPECT_NE(html.find("{\"id\":\"" + first + "\""), std::string::npos) << page;
    EXPECT_NE(html.find("{\"id\":\"" + last + "\""), std::string::npos) << page;
  }
  // The manifest recommend wrote is found beside the lists and is theirs;
  // given with other lists (the same users, other bytes) it is shown marked
  // as another run's, with a warning.
  EXPECT_NE(ReadFile(dir / "file.html").find("\"manifest_matches\":true"), std::string::npos);
  r = RunProgram({"bash", "-c",
                  avrec + " report --recs '" + dir / "compact.json" + "' --manifest '" + lists + ".run.json'" + inputs +
                      "'" + dir / "other.html" + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("none of this manifest's outputs is " + dir / "compact.json" + " as it is now"),
            std::string::npos)
      << r.err;
  EXPECT_NE(ReadFile(dir / "other.html").find("\"manifest_matches\":false"), std::string::npos);
}

// A mistyped output that names an input (directly, through a link, or the
// workspace) is a usage error and the input stays as it was.
TEST(Outputs, AnOutputNeverReplacesAnInput) {
  TempDir dir;
  std::filesystem::copy_file(kReviews, dir / "r.csv");
  std::filesystem::copy_file(kItems, dir / "i.csv");
  ::symlink((dir / "i.csv").c_str(), (dir / "link.json").c_str());
  const std::string reviews = ReadFile(dir / "r.csv"), items = ReadFile(dir / "i.csv");
  const std::vector<std::string> recommend = {"recommend",   "--reviews", dir / "r.csv",  "--items",
                                              dir / "i.csv", "--scores",  SampleScores(), "--text-model",
                                              "none",        "--format",  "jsonl"};
  const std::vector<std::vector<std::string>> cases = {
      {"split", "--reviews", dir / "r.csv", "--train", dir / "r.csv", "--test", dir / "t.csv"},
      {"--out", dir / "i.csv"},
      {"--out", dir / "link.json"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c;
    if (c[0] == "--out") {
      args = recommend;
      args.insert(args.end(), c.begin(), c.end());
    }
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find("is also an input of this command"), std::string::npos) << r.err;
  }
  EXPECT_EQ(ReadFile(dir / "r.csv"), reviews);
  EXPECT_EQ(ReadFile(dir / "i.csv"), items);
  EXPECT_FALSE(FileExists(dir / "t.csv"));  // split writes both or neither
  // The recommendations read by evaluate, and the workspace.
  auto args = recommend;
  args.insert(args.end(), {"--out", dir / "recs.jsonl"});
  ASSERT_EQ(RunAvrec(args).exit_code, 0);
  const std::string recs = ReadFile(dir / "recs.jsonl");
  RunResult r =
      RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", kReviews, "--per-user", dir / "recs.jsonl"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(ReadFile(dir / "recs.jsonl"), recs);
  ASSERT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--reviews", kReviews, "--items", kItems}).exit_code, 0);
  r = RunAvrec({"recommend", "-w", dir / "w.avrec", "--scores", SampleScores(), "--text-model", "none", "--out",
                dir / "w.avrec"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  r = RunAvrec({"recommend", "-w", dir / "w.avrec", "--scores", SampleScores(), "--text-model", "none", "--out",
                dir / "fine.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Outputs, SplitWritesBothOrNeither) {
  TempDir dir;
  WriteFile(dir / "train.csv", "old train");
  WriteFile(dir / "test.csv", "old test");
  std::filesystem::create_directory(dir / "dir.csv");
  // The test output cannot be created: the train file must not change either.
  RunResult r = RunAvrec({"split", "--reviews", kReviews, "--train", dir / "train.csv", "--test", dir / "dir.csv"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_EQ(ReadFile(dir / "train.csv"), "old train");
  // Disk full while writing: neither changes (and no temporary file stays).
  const std::string small = dir / "small";
  std::filesystem::create_directory(small);
  r = RunWithDiskOf(300, small,
                    {"split", "--reviews", kReviews, "--train", small + "/train.csv", "--test", small + "/test.csv"},
                    "echo old > '" + small + "/train.csv'; echo old > '" + small + "/test.csv';");
  EXPECT_EQ(r.exit_code, 74) << r.err;
  if (FileExists(small + "/train.csv")) {
    EXPECT_EQ(ReadFile(small + "/train.csv"), "old\n");
    EXPECT_EQ(ReadFile(small + "/test.csv"), "old\n");
  }
  EXPECT_FALSE(HasTempFile(small));
  // And when it works, both are new.
  r = RunAvrec({"split", "--reviews", kReviews, "--train", dir / "train.csv", "--test", dir / "test.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir / "train.csv"), "old train");
  EXPECT_NE(ReadFile(dir / "test.csv"), "old test");
}

TEST(Outputs, TemporaryFilesOfDeadProcessesAreRemoved) {
  TempDir dir;
  // pid 4194304 is above Linux's pid_max: no such process.
  WriteFile(dir / "o.jsonl.tmp.4194304", "stale");
  const std::string live = dir / ("o.jsonl.tmp." + std::to_string(::getppid()));
  WriteFile(live, "in flight");
  RunResult r = RunAvrec({"score", "--model", kTinySentiment, "--reviews", kReviews, "--out", dir / "o.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(FileExists(dir / "o.jsonl.tmp.4194304"));
  EXPECT_TRUE(FileExists(live));  // its process still runs
}

// A nightly job replacing a list someone made private must not publish it:
// the new file has the old one's permission bits (whatever the umask), and a
// link planted under the temporary name (a shared folder) is not followed.
TEST(Outputs, AReplacedFileKeepsItsPermissionsAndAPlantedLinkIsNotFollowed) {
  TempDir dir;
  const auto mode_of = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  };
  WriteFile(dir / "l.json", "last night");
  ASSERT_EQ(::chmod((dir / "l.json").c_str(), 0640), 0);
  WriteFile(dir / "train.csv", "old");
  WriteFile(dir / "test.csv", "old");
  ASSERT_EQ(::chmod((dir / "train.csv").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((dir / "test.csv").c_str(), 0664), 0);  // group-writable: the umask 022 would take that away
  RunResult r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--no-sentiment", "--text-model",
                          "none", "--top-n", "2", "--out", dir / "l.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir / "l.json"), "last night");
  EXPECT_EQ(mode_of(dir / "l.json"), 0640);
  r = RunAvrec(
      {"split", "--reviews", kReviews, "--method", "random", "--train", dir / "train.csv", "--test", dir / "test.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir / "train.csv"), 0600);
  EXPECT_EQ(mode_of(dir / "test.csv"), 0664);
  // A new file gets what the umask allows.
  r = RunProgram({"sh", "-c", "umask 077 && exec \"$0\" \"$@\"", test::AvrecBinary(), "split", "--reviews", kReviews,
                  "--method", "random", "--train", dir / "new1.csv", "--test", dir / "new2.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir / "new1.csv"), 0600);

  // This process's temporary name, taken by a link to a file that must not change.
  WriteFile(dir / "victim", "precious");
  const std::string out = dir / "o.txt";
  ASSERT_EQ(::symlink((dir / "victim").c_str(), (out + ".tmp." + std::to_string(::getpid())).c_str()), 0);
  {
    AtomicFile f(out);
    f.Write("new");
    f.Commit();
  }
  EXPECT_EQ(ReadFile(dir / "victim"), "precious");
  EXPECT_EQ(ReadFile(out), "new");
  EXPECT_FALSE(FileExists(out + ".tmp." + std::to_string(::getpid())));
}

// Any name a folder can hold is an output: the temporary name beside it
// (NAME.tmp.PID) is cut short where NAME itself fills the 255 bytes.
TEST(Outputs, TheLongestFileNamesAreOutputsToo) {
  TempDir dir;
  std::string utf8;  // 125 two-byte characters and ".json": 255 bytes
  for (int i = 0; i < 125; ++i) utf8 += "\xC3\xA9";
  const std::string lists = dir / (std::string(250, 'l') + ".json"), accented = dir / (utf8 + ".json");
  const std::string train = dir / (std::string(251, 't') + ".csv"), test = dir / (std::string(251, 'u') + ".csv");
  // A temporary file of a dead process under the cut name is removed as any other.
  const std::string stale = TemporaryPath(lists);
  const std::string dead = stale.substr(0, stale.rfind('.') + 1) + "4194304";
  WriteFile(dead, "stale");
  RunResult r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--no-sentiment", "--text-model",
                          "none", "--top-n", "2", "--out", lists});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(ReadFile(lists))["users"].size(), 200u);
  EXPECT_FALSE(FileExists(dead));
  r = RunAvrec({"split", "--reviews", kReviews, "--method", "random", "--train", train, "--test", test});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunAvrec({"split", "--reviews", kReviews, "--method", "random", "--train", train, "--test", accented + ".csv"});
  EXPECT_EQ(r.exit_code, 73) << r.err;  // a name that cannot exist: said before any work
  EXPECT_NE(r.err.find(".json.csv: a file name of 259 bytes; its folder holds names of at most 255"), std::string::npos)
      << r.err;
  {
    AtomicFile f(accented);
    f.Write("x");
    f.Commit();
  }
  EXPECT_EQ(ReadFile(accented), "x");
  // Every file in the folder is one of the outputs (or the run manifest, whose own name is too long to write).
  std::vector<std::string> names = Listing(dir.path());
  EXPECT_EQ(names.size(), 4u);
  // A workspace's name leaves room for SQLite's NAME-journal.
  r = RunAvrec({"ingest", "-w", dir / std::string(248, 'w'), "--items", kItems});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("a workspace's file name can be at most 247 bytes (this one has 248)"), std::string::npos)
      << r.err;
  EXPECT_EQ(RunAvrec({"ingest", "-w", dir / std::string(247, 'w'), "--items", kItems}).exit_code, 0);
}

// ---- kill -9 -------------------------------------------------------------------------

RunResult KillAt(const std::string& point, int n, const std::vector<std::string>& args) {
  return RunAvrec(args, "", {"AVREC_FAULT=" + point + ":" + std::to_string(n)});
}

TEST(Kill, ScoreKilledAfterThreeChunksResumesWithIdenticalResults) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--reviews", kReviews, "--items", kItems}).exit_code, 0);
  const std::vector<std::string> score = {"score", "-w",          ws,    "--model", kTinySentiment, "--commit-every",
                                          "200",   "--precision", "bf16"};
  RunResult r = KillAt("score.commit", 3, score);
  EXPECT_EQ(r.exit_code, -1000 - SIGKILL) << r.err;
  EXPECT_EQ(Sql(ws, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Sql(ws, "SELECT count(*) FROM sentiment_cache"), "600");  // three chunks kept
  auto out = score;
  out.insert(out.end(), {"--out", dir / "resumed.jsonl"});
  r = RunAvrec(out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("600 reused from the workspace cache"), std::string::npos) << r.err;
  // The same bytes as one uninterrupted run.
  r = RunAvrec(
      {"score", "--model", kTinySentiment, "--reviews", kReviews, "--precision", "bf16", "--out", dir / "full.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ReadFile(dir / "full.jsonl") == ReadFile(dir / "resumed.jsonl"));
}

TEST(Kill, KilledBeforeTheCommitLeavesTheWorkspaceAsItWas) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  RunResult r = KillAt("workspace.commit", 1, {"ingest", "-w", ws, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, -1000 - SIGKILL);
  EXPECT_EQ(Sql(ws, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Sql(ws, "SELECT count(*) FROM reviews"), "0");
  // A new workspace killed before its commit does not appear at all.
  r = KillAt("workspace.commit", 1, {"ingest", "-w", dir / "new.avrec", "--items", kItems});
  EXPECT_EQ(r.exit_code, -1000 - SIGKILL);
  EXPECT_FALSE(FileExists(dir / "new.avrec"));
  // ... and its leftovers are cleaned by the next run (which leaves the
  // workspace's log files beside it; the last to close w.avrec was the
  // test's own SQLite connection, which removes them).
  ASSERT_EQ(RunAvrec({"ingest", "-w", dir / "new.avrec", "--items", kItems}).exit_code, 0);
  EXPECT_EQ(Listing(dir.path()), (std::vector<std::string>{"new.avrec", "new.avrec-shm", "new.avrec-wal", "w.avrec"}));
}

// The sample's recommendations, with its cached scores and no text model.
std::vector<std::string> RecommendSampleTo(const std::string& out) {
  return {"recommend",    "--reviews",    kReviews, "--items", kItems, "--scores",
          SampleScores(), "--text-model", "none",   "--out",   out};
}

TEST(Kill, KilledRecommendLeavesTheOldOutput) {
  TempDir dir;
  WriteFile(dir / "recs.json", "old");
  const std::vector<std::string> rec = RecommendSampleTo(dir / "recs.json");
  for (const auto& [point, n] :
       std::vector<std::pair<std::string, int>>{{"recommend.user", 100}, {"output.rename", 1}}) {
    RunResult r = KillAt(point, n, rec);
    EXPECT_EQ(r.exit_code, -1000 - SIGKILL) << point;
    EXPECT_EQ(ReadFile(dir / "recs.json"), "old") << point;
  }
  RunResult r = RunAvrec(rec);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The killed runs' temporary files are gone; the run manifest is beside the output.
  EXPECT_EQ(Listing(dir.path()), (std::vector<std::string>{"recs.json", "recs.json.run.json"}));
  EXPECT_NO_THROW(nlohmann::json::parse(ReadFile(dir / "recs.json")));
}

// A scheduler's SIGTERM, a user's Ctrl-C, a closed terminal's SIGHUP, the
// SIGPIPE of a pipe whose reader left (`avrec ... 2>&1 | head`): the run
// removes its temporary files itself, dies of the signal (exit 128 + n in
// the shell), and its log still ends as a finished run's does.
TEST(Kill, ASignalledRunRemovesItsTemporariesAndItsLogSaysHowItEnded) {
  TempDir dir;
  WriteFile(dir / "recs.json", "old");
  const std::vector<std::string> rec = RecommendSampleTo(dir / "recs.json");
  // Mid-list (the list half written to its temporary file) and at the rename.
  for (const auto& [name, number, point] :
       std::vector<std::tuple<std::string, int, std::string>>{{"TERM", SIGTERM, "recommend.user:100"},
                                                              {"INT", SIGINT, "output.rename:1"},
                                                              {"HUP", SIGHUP, "recommend.user:150"},
                                                              {"PIPE", SIGPIPE, "recommend.user:120"}}) {
    const RunResult r = RunAvrec(rec, "", {"AVREC_FAULT=" + point, "AVREC_FAULT_SIGNAL=" + name});
    EXPECT_EQ(r.exit_code, -1000 - number) << name << ": " << r.err;
    EXPECT_EQ(ReadFile(dir / "recs.json"), "old");
    EXPECT_EQ(Listing(dir.path()), (std::vector<std::string>{"recs.json"})) << name;  // no next run needed
    const std::regex end("avrec: error: terminated by SIG" + name +
                         " after [0-9]+\\.[0-9]{3} s \\(temporary files removed\\)\n"
                         "avrec: info: done: exit " +
                         std::to_string(128 + number) + " after [0-9]+\\.[0-9]{3} s\n$");
    EXPECT_TRUE(std::regex_search(r.err, end)) << r.err;
  }
  // JSON logs: an error event naming the signal, then run_end with the exit code.
  auto json = rec;
  json.insert(json.begin(), {"--log-format", "json"});
  RunResult r = RunAvrec(json, "", {"AVREC_FAULT=recommend.user:100", "AVREC_FAULT_SIGNAL=TERM"});
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_GE(lines.size(), 2u) << r.err;
  const nlohmann::json& signal = lines[lines.size() - 2];
  const nlohmann::json& end = lines.back();
  EXPECT_EQ(signal["event"], "signal");
  EXPECT_EQ(signal["level"], "error");
  EXPECT_EQ(signal["signal"], "SIGTERM");
  EXPECT_EQ(end["event"], "run_end");
  EXPECT_EQ(end["exit_code"], 143);
  EXPECT_TRUE(end["seconds"].is_number());
  EXPECT_EQ(end["subcommand"], "recommend");
  EXPECT_EQ(end["run_id"], lines.front()["run_id"]);
  // The time, written without the C library's help, is the run's UTC date.
  const std::string ts = end["ts"], run_id = end["run_id"];
  EXPECT_TRUE(std::regex_match(ts, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z")))
      << ts;
  EXPECT_EQ(ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2), run_id.substr(0, 8));
  // The log level holds: at warn, the error line and no done line.
  auto quiet = rec;
  quiet.insert(quiet.begin(), {"--log-level", "warn"});
  r = RunAvrec(quiet, "", {"AVREC_FAULT=recommend.user:100", "AVREC_FAULT_SIGNAL=TERM"});
  EXPECT_NE(r.err.find("terminated by SIGTERM"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("done: exit"), std::string::npos) << r.err;
}

// A real pipe whose reader leaves early: the run dies of SIGPIPE (141, as
// `cat | head` does; even where its parent ignores SIGPIPE, as this test's
// does), with the line that says so in its log and no file left behind.
TEST(Kill, APipeWhoseReaderLeftEndsTheRunAndItsLogSaysSo) {
  TempDir dir;
  std::string command;
  for (const std::string& a : RecommendSampleTo("/dev/stdout")) command += " " + ShellWord(a);
  command = ShellWord(AvrecBinary()) + command + " --format jsonl --top-n 300 2>" + ShellWord(dir / "err.txt") +
            " | head -c 100 >/dev/null; echo ${PIPESTATUS[0]}";
  RunResult r = RunProgram({"bash", "-c", command});
  EXPECT_EQ(r.out, "141\n") << r.err;
  EXPECT_TRUE(std::regex_search(ReadFile(dir / "err.txt"),
                                std::regex("avrec: error: terminated by SIGPIPE after [0-9.]+ s \\(temporary files "
                                           "removed\\)\navrec: info: done: exit 141 after [0-9.]+ s\n$")))
      << ReadFile(dir / "err.txt");
  EXPECT_EQ(Listing(dir.path()), (std::vector<std::string>{"err.txt"}));
}

TEST(Kill, KillsAtRandomInstantsNeverLeaveHalfWrittenState) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  {
    std::ofstream f(dir / "more.csv");
    f << "review_id,user_id,item_id,text\n";
    for (int i = 0; i < 60000; ++i) f << "m" << i << ",u" << (i % 300) << ",s0002,more review " << i << "\n";
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    const std::vector<std::vector<std::string>> jobs = {
        {"ingest", "-w", ws, "--reviews", dir / "more.csv"},
        {"score", "-w", ws, "--model", kTinySentiment, "--commit-every", "500"},
        {"recommend", "-w", ws, "--text-model", "none", "--model", kTinySentiment, "--out", dir / "recs.json"}};
    const auto& job = jobs[static_cast<size_t>(round) % jobs.size()];
    const std::string before = Sql(ws, "SELECT count(*) FROM reviews");
    const int pid = test::SpawnAvrec(job);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 600)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(Sql(ws, "PRAGMA integrity_check"), "ok") << job[0];
    const std::string after = Sql(ws, "SELECT count(*) FROM reviews");
    EXPECT_TRUE(after == before || after == std::to_string(2864 + 60000)) << job[0] << ": " << after;
    if (FileExists(dir / "recs.json")) {
      EXPECT_NO_THROW(nlohmann::json::parse(ReadFile(dir / "recs.json")));
    }
  }
  // Whatever was killed, the next runs complete and clean up after it.
  for (const auto& job : std::vector<std::vector<std::string>>{
           {"ingest", "-w", ws, "--reviews", dir / "more.csv"},
           {"score", "-w", ws, "--model", kTinySentiment},
           {"recommend", "-w", ws, "--text-model", "none", "--out", dir / "recs.json"}}) {
    RunResult r = RunAvrec(job);
    EXPECT_EQ(r.exit_code, 0) << job[0] << ": " << r.err;
  }
  EXPECT_FALSE(HasTempFile(dir.path()));
}

// ---- crashes and runaway memory ------------------------------------------------------------

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(Hostile, DeeplyNestedJsonIsExit65WithPathAndLine) {
  TempDir dir;
  const std::string deep = Nested(100000);
  WriteFile(dir / "r.jsonl", "{\"user_id\":\"u\",\"item_id\":\"i\",\"text\":\"ok\"}\n{\"user_id\":" + deep + "}\n");
  RunResult r = RunAvrec({"validate", "--reviews", dir / "r.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "r.jsonl:2: JSON nested deeper than 64 levels"), std::string::npos) << r.err;
  WriteFile(dir / "i.jsonl", "{\"item_id\":\"i\",\"tags\":" + deep + "}\n");
  r = RunAvrec({"validate", "--items", dir / "i.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "i.jsonl:1:"), std::string::npos) << r.err;
  WriteFile(dir / "truth.jsonl", "{\"user_id\":" + deep + "}\n");
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u\",\"items\":[{\"item_id\":\"i\"}]}\n");
  r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "truth.jsonl:1:"), std::string::npos) << r.err;
  WriteFile(dir / "c.json", "{\"recommend\":" + deep + "}");
  r = RunAvrec({"validate", "--config", dir / "c.json", "--items", kItems});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find(dir / "c.json: JSON nested deeper"), std::string::npos) << r.err;
  WriteFile(dir / "recs2.jsonl", "{\"user_id\":\"u\",\"items\":" + deep + "}\n");
  r = RunAvrec({"evaluate", "--recs", dir / "recs2.jsonl", "--truth", kReviews});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "recs2.jsonl:1:"), std::string::npos) << r.err;
}

TEST(Hostile, HugeKClampsToTheCatalogue) {
  TempDir dir;
  RunResult r =
      RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--scores", SampleScores(), "--text-model",
                "none", "--top-n", "2147483647", "--format", "jsonl", "--out", dir / "r.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir / "r.jsonl");
  std::string line;
  std::getline(in, line);  // header
  std::getline(in, line);
  auto u = nlohmann::json::parse(line);
  EXPECT_EQ(u["items"].size() + static_cast<size_t>(u["history"].get<int>()) >= 300u, true);
  WriteFile(dir / "u.csv", "id,a\nu1,1\n");
  WriteFile(dir / "i.csv", "id,a\ni1,1\ni2,2\n");
  r = RunAvrec(
      {"topk", "--users", dir / "u.csv", "--items", dir / "i.csv", "--k", "2147483647", "--out", dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir / "t.jsonl"))["items"].size(), 2u);
  r = RunAvrec({"evaluate", "--recs", dir / "r.jsonl", "--truth", kReviews, "--k", "2147483647"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Hostile, AbsurdThreadCountsAreCutWithAWarning) {
  TempDir dir;
  RunResult r = RunAvrec(
      {"score", "--model", kTinySentiment, "--reviews", kReviews, "--threads", "100000", "--out", dir / "s.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--threads 100000: using"), std::string::npos) << r.err;
  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--scores", SampleScores(), "--text-model",
                "none", "--threads", "2147483647", "--out", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir / "u.csv", "id,a\nu1,1\n");
  r = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--threads", "2147483647", "--out",
                dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Every verb checks its options' ranges before reading anything (topk used
// to accept --k -1 and a --block-users so large that its block count
// overflowed).
TEST(Hostile, OutOfRangeOptionsAreUsageErrorsInEveryVerb) {
  TempDir dir;
  WriteFile(dir / "u.csv", "id,a\nu1,1\nu2,2\n");
  WriteFile(dir / "i.csv", "id,a\ni1,1\ni2,2\ni1,3\n");
  const std::vector<std::vector<std::string>> bad = {
      {"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--k", "-1", "--out", dir / "t.jsonl"},
      {"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--k", "0", "--out", dir / "t.jsonl"},
      {"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--threads", "-3", "--out", dir / "t.jsonl"},
      {"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--block-users", "0", "--out", dir / "t.jsonl"},
      {"diff", "--old", dir / "u.csv", "--new", dir / "u.csv", "--k", "0"},
      {"score", "--model", kTinySentiment, "--reviews", kReviews, "--threads", "-1", "--out", dir / "t.jsonl"},
  };
  for (const auto& args : bad) {
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << args[0] << " " << args[args.size() - 3] << ": " << r.err;
    EXPECT_NE(r.err.find("expected a number from"), std::string::npos) << r.err;
    EXPECT_FALSE(test::FileExists(dir / "t.jsonl"));
  }
  // run's own --threads (the config's is checked like every other key).
  RunResult run = RunAvrec({"run", "--config", SourcePath("data/sample/pipeline.json"), "--threads", "-5",
                            "--workspace", dir / "w.avrec", "--out", dir / "t.jsonl"});
  EXPECT_EQ(run.exit_code, 64) << run.err;
  EXPECT_NE(run.err.find("--threads"), std::string::npos) << run.err;
  EXPECT_FALSE(test::FileExists(dir / "w.avrec"));
  // The largest block allowed is cut to the users there are.
  RunResult r = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "u.csv", "--block-users", "1000000",
                          "--out", dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string lists = ReadFile(dir / "t.jsonl");
  EXPECT_EQ(std::count(lists.begin(), lists.end(), '\n'), 2);
  // A duplicate item is named with both of its lines.
  r = RunAvrec({"topk", "--users", dir / "u.csv", "--items", dir / "i.csv", "--out", dir / "d.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("i.csv:4: duplicate item id 'i1' (first on line 2)"), std::string::npos) << r.err;
}

// topk's ids are checked like every other reader's: an id that is not UTF-8
// used to end in an internal error (exit 70) when its line was written, and a
// repeated user id gave two lines nothing told apart.
TEST(Hostile, TopkRefusesIdsItCannotWriteOrTellApart) {
  TempDir dir;
  WriteFile(dir / "i.csv", "id,a\ni1,1\ni2,2\n");
  WriteFile(dir / "bad_utf8.csv", "id,a\nu1,1\nu\xff,2\n");
  RunResult r = RunAvrec({"topk", "--users", dir / "bad_utf8.csv", "--items", dir / "i.csv", "--out", dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("bad_utf8.csv:3: id: invalid UTF-8 at byte 2 of the field"), std::string::npos) << r.err;
  r = RunAvrec({"topk", "--users", dir / "i.csv", "--items", dir / "bad_utf8.csv", "--out", dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("bad_utf8.csv:3: id: invalid UTF-8"), std::string::npos) << r.err;
  // A repeated user id, and an id with a line break, shown escaped.
  WriteFile(dir / "dup.csv", "id,a\n\"u\n1\",1\nu2,2\n\"u\n1\",3\n");
  r = RunAvrec({"topk", "--users", dir / "dup.csv", "--items", dir / "dup.csv", "--out", dir / "t.jsonl"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("dup.csv:5: duplicate user id 'u\\n1' (first on line 2)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dup.csv:5: duplicate item id 'u\\n1' (first on line 2)"), std::string::npos) << r.err;
  EXPECT_FALSE(test::FileExists(dir / "t.jsonl"));
}

// Options that cannot work together fail before anything is read (a
// --shard past its count, and --only-changed without a workspace, used to
// fail after the reviews were read and scored): the reviews here are no
// reviews file, and that is not what is said.
TEST(Hostile, OptionsThatCannotWorkTogetherFailBeforeAnyWork) {
  TempDir dir;
  WriteFile(dir / "unread.csv", "not,reviews\n");
  ASSERT_EQ(RunAvrec({"ingest", "--workspace", dir / "w.avrec", "--items", kItems}).exit_code, 0);
  const std::vector<std::string> base = {"recommend", "--reviews", dir / "unread.csv", "--items",
                                         kItems,      "--out",     dir / "r.json"};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--shard", "5/4"}, "--shard: expected K/N with 0 <= K < N, got 5/4"},
      {{"--shard", "1-4"}, "--shard: expected K/N, e.g. 0/4, got '1-4'"},
      {{"--only-changed"}, "--only-changed and --to-workspace need --workspace"},
      {{"--to-workspace"}, "--only-changed and --to-workspace need --workspace"},
      {{"--only-changed", "--workspace", dir / "w.avrec", "--format", "csv"}, "--only-changed needs --format json"},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << extra[0] << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("unread.csv"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(test::FileExists(dir / "r.json"));
  // An input that is not there fails before the others are read, though
  // it is read last (a scores file after the reviews and the items).
  RunResult r = RunAvrec({"recommend", "--reviews", dir / "unread.csv", "--items", kItems, "--scores",
                          dir / "missing.scores.jsonl", "--out", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find(dir / "missing.scores.jsonl: cannot open: No such file or directory"), std::string::npos)
      << r.err;
}

TEST(Hostile, EndlessLinesHitTheRecordLimit) {
  TempDir dir;
  RunResult r = RunAvrec({"validate", "--reviews", "/dev/zero"});
  EXPECT_NE(r.exit_code, 0);
  r = RunAvrec({"ingest", "-w", dir / "w.avrec", "--reviews", "/dev/zero.jsonl"});
  EXPECT_EQ(r.exit_code, 66);  // no such file: the extension tells the format
  ::symlink("/dev/zero", (dir / "zero.jsonl").c_str());
  r = RunAvrec({"validate", "--reviews", dir / "zero.jsonl"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find(dir / "zero.jsonl:1: not UTF-8"), std::string::npos) << r.err;
  // A long line of ordinary bytes: the record limit.
  WriteFile(dir / "long.jsonl", "{\"text\":\"" + std::string(300000, 'a') + "\"}\n");
  r = RunAvrec({"validate", "--reviews", dir / "long.jsonl", "--max-record-bytes", "100000"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "long.jsonl:1: record longer than 100000 bytes"), std::string::npos) << r.err;
  WriteFile(dir / "long.csv", "user_id,item_id,text\nu,i,\"" + std::string(300000, 'a') + "\"\n");
  r = RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems, "--reviews", dir / "long.csv", "--max-record-bytes",
                "100000"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "long.csv:2: record longer than"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir / "w.avrec"));
}

// ---- exit codes and nonsense -------------------------------------------------------------

TEST(Hostile, NumbersBeyondDoubleAreDataErrorsSkippedWhenLenient) {
  TempDir dir;
  WriteFile(dir / "r.jsonl",
            "{\"user_id\":\"u1\",\"item_id\":\"s0001\",\"text\":\"ok\",\"rating\":4}\n"
            "{\"user_id\":\"u2\",\"item_id\":\"s0001\",\"text\":\"ok\",\"rating\":1e309}\n"
            "{\"user_id\":\"u3\",\"item_id\":\"s0001\",\"text\":\"ok\",\"rating\":" +
                std::string(400, '9') + "}\n");
  RunResult r = RunAvrec({"validate", "--reviews", dir / "r.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "r.jsonl:2: number out of range"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir / "r.jsonl:3: number out of range"), std::string::npos) << r.err;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "r.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "r.jsonl", "--lenient"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 added, 0 updated, 0 unchanged, 2 invalid skipped"), std::string::npos) << r.err;
  WriteFile(dir / "i.jsonl", "{\"item_id\":\"a\",\"audio.tempo\":1e400}\n");
  r = RunAvrec({"validate", "--items", dir / "i.jsonl"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find(dir / "i.jsonl:1:"), std::string::npos) << r.err;
  WriteFile(dir / "c.json", "{\"recommend\": {\"top_n\": 1e309}}");
  r = RunAvrec({"validate", "--config", dir / "c.json", "--items", kItems});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find(dir / "c.json: number out of range"), std::string::npos) << r.err;
}

TEST(Hostile, EveryNumericOptionIsCheckedAndNamed) {
  TempDir dir;
  const std::vector<std::string> base = {"recommend",    "--reviews",    kReviews, "--items", kItems,        "--scores",
                                         SampleScores(), "--text-model", "none",   "--out",   dir / "r.json"};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--knn-neighbors", "-1"}, "--knn-neighbors"},
      {{"--quality-weight", "1e308"}, "--quality-weight"},
      {{"--popularity-weight", "nan"}, "--popularity-weight"},
      {{"--popularity-weight", "1e308"}, "--popularity-weight"},
      {{"--sentiment-share", "nan"}, "--sentiment-share"},
      {{"--hybrid-content", "inf"}, "--hybrid-content"},
      {{"--rating-min", "5", "--rating-max", "1"}, "--rating-min"},
      {{"--top-n", "0"}, "--top-n"},
      {{"--half-life-days", "-3"}, "--half-life-days"},
      {{"--modality-weight", "audio=nan"}, "--modality-weight"},
      {{"--shard", "3/2"}, "--shard"},
      {{"--now", "someday"}, "--now"},
  };
  for (const auto& [extra, name] : cases) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << extra[0] << " " << extra[1] << ": " << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
  }
  EXPECT_FALSE(FileExists(dir / "r.json"));
}

// A list that names an item twice (a peer's exporter with a bug) is scored
// with each item once, at its first rank, and the run says so.
TEST(Hostile, RepeatedItemsInAListCountOnceAndAreWarned) {
  TempDir dir;
  WriteFile(dir / "truth.csv", "user_id,item_id\nu1,a\nu2,b\n");
  WriteFile(dir / "twice.jsonl",
            "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"a\"},{\"item_id\":\"c\"}]}\n"
            "{\"user_id\":\"u2\",\"items\":[{\"item_id\":\"c\"},{\"item_id\":\"b\"}]}\n");
  WriteFile(dir / "once.jsonl",
            "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"a\"},{\"item_id\":\"c\"}]}\n"
            "{\"user_id\":\"u2\",\"items\":[{\"item_id\":\"c\"},{\"item_id\":\"b\"}]}\n");
  const RunResult twice =
      RunAvrec({"evaluate", "--recs", dir / "twice.jsonl", "--truth", dir / "truth.csv", "--k", "2"});
  const RunResult once = RunAvrec({"evaluate", "--recs", dir / "once.jsonl", "--truth", dir / "truth.csv", "--k", "2"});
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_EQ(twice.out, once.out);
  EXPECT_NE(twice.err.find(dir / "twice.jsonl" +
                           ": 1 of 2 lists name an item more than once (user 'u1', for one); each item counts once, "
                           "at its first rank"),
            std::string::npos)
      << twice.err;
  EXPECT_EQ(once.err.find("more than once"), std::string::npos);
}

// Two nights' lists concatenated (`cat a.jsonl b.jsonl`) give a user two
// lists: evaluate, diff and report read the later one, and say so once per
// file, with where the first such user is listed.
TEST(Hostile, AUserListedTwiceIsReadOnceAndWarned) {
  TempDir dir;
  WriteFile(dir / "truth.csv", "user_id,item_id\nu1,a\nu2,b\n");
  const std::string night1 =
      "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"c\"}]}\n{\"user_id\":\"u2\",\"items\":[{\"item_id\":\"b\"}]}\n";
  const std::string night2 =
      "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"a\"}]}\n{\"user_id\":\"u2\",\"items\":[{\"item_id\":\"b\"}]}\n";
  WriteFile(dir / "both.jsonl", night1 + night2);
  WriteFile(dir / "night2.jsonl", night2);
  const RunResult both = RunAvrec({"evaluate", "--recs", dir / "both.jsonl", "--truth", dir / "truth.csv"});
  const RunResult last = RunAvrec({"evaluate", "--recs", dir / "night2.jsonl", "--truth", dir / "truth.csv"});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_EQ(both.out, last.out);
  const std::string p = dir / "both.jsonl";
  EXPECT_NE(both.err.find(p + ": 2 users have more than one list (user 'u1' at " + p + ":1, then " + p +
                          ":3, for one: two files concatenated?); each user's last list is the one read"),
            std::string::npos)
      << both.err;
  EXPECT_EQ(last.err.find("more than one list"), std::string::npos) << last.err;
  const RunResult diff = RunAvrec({"diff", "--old", dir / "night2.jsonl", "--new", dir / "both.jsonl"});
  EXPECT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.err.find("2 users have more than one list"), std::string::npos) << diff.err;
}

// Lists and truth whose ids are spelled differently score 0 with exit 0;
// the run says which ids never meet, with one from each file.
TEST(Hostile, IdsThatNeverMeetAreWarned) {
  TempDir dir;
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"i1\"}]}\n");
  WriteFile(dir / "upper_users.csv", "user_id,item_id\nU1,i1\n");
  WriteFile(dir / "upper_items.csv", "user_id,item_id\nu1,I1\n");
  const std::string recs = dir / "recs.jsonl";
  RunResult r = RunAvrec({"evaluate", "--recs", recs, "--truth", dir / "upper_users.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(dir / "upper_users.csv: no user here has a list in " + recs +
                       " (user 'u1' there, 'U1' here, for example)"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"evaluate", "--recs", recs, "--truth", dir / "upper_items.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(dir / "upper_items.csv: not one item listed in " + recs +
                       " is among its items (item 'i1' there, 'I1' here, for example)"),
            std::string::npos)
      << r.err;
  WriteFile(dir / "same.csv", "user_id,item_id\nu1,i2\nu2,i1\n");  // u1 missed, but the ids meet
  r = RunAvrec({"evaluate", "--recs", recs, "--truth", dir / "same.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // Every row below --relevant-min-rating: no user evaluated, but the ids
  // meet, and the run says why the metrics are null, not that they differ.
  WriteFile(dir / "low.csv", "user_id,item_id,rating\nu1,i1,2\n");
  r = RunAvrec({"evaluate", "--recs", recs, "--truth", dir / "low.csv", "--relevant-min-rating", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("has a list in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("every truth row is below --relevant-min-rating"), std::string::npos) << r.err;
}

// A rating evaluate cannot read is an invalid row, named, as ingest names
// it: it was read as no rating, below any --relevant-min-rating and
// ungraded, and the metrics changed with exit 0. A missing marker is absent.
TEST(Hostile, EvaluateNamesAnUnreadableRating) {
  TempDir dir;
  WriteFile(dir / "recs.jsonl", "{\"user_id\":\"u1\",\"items\":[{\"item_id\":\"i1\"}]}\n");
  WriteFile(dir / "truth.csv", "user_id,item_id,rating\nu1,i1,NA\nu1,i2,five\n");
  RunResult r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(dir / "truth.csv:3: field 'rating': expected a finite number, got 'five'"), std::string::npos)
      << r.err;
  // A gate naming a field no evaluation prints is told before the truth is
  // read (a night's evaluation may read for minutes).
  r = RunAvrec(
      {"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--k", "5", "--fail-if", "ndgc@5<0.1"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(r.err.find("truth.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--fail-if: no field 'ndgc@5' (did you mean 'ndcg@5'?)"), std::string::npos) << r.err;
  // So is one of a metric that an input not given computes, with that input.
  r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--fail-if", "ild@10>0.5"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_EQ(r.err.find("truth.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--fail-if: no field 'ild@10' (fields: precision@10, "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; ild comes with --items with features\n"), std::string::npos) << r.err;
  r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv", "--no-graded", "--fail-if",
                "disliked@10>0"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("; disliked comes with grades: ratings in --truth, or --truth-scores (and no --no-graded)"),
            std::string::npos)
      << r.err;
  WriteFile(dir / "truth.csv", "user_id,item_id,rating\nu1,i1,NA\nu1,i2,5\n");
  r = RunAvrec({"evaluate", "--recs", dir / "recs.jsonl", "--truth", dir / "truth.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["users_evaluated"], 1);
}

// A text column under a modality prefix is one-hot encoded; an id-like one
// (a URL per item) used to add a column per item, and a catalogue of 120,000
// items was killed by the kernel after 24 GB. Values of one item get no
// column (warned), and item vectors wider than a third of the memory avrec
// may take are refused before they are allocated, naming the column. So is
// a JSON Lines items file whose records each bring a key of their own (its
// table grows by the square of its length: 20,000 such records took 17 GB).
// $AVREC_MEMORY_MB stands in for a smaller machine.
TEST(Hostile, InputsThatWouldOutgrowMemoryAreRefusedNotKilled) {
  TempDir dir;
  std::string reviews = "user_id,item_id,rating,text\n", unique = "item_id,audio.tempo,visual.url\n";
  for (int i = 0; i < 10; ++i) {
    reviews += "u" + std::to_string(i % 3) + ",i" + std::to_string(i) + ",4,good\n";
    unique += "i" + std::to_string(i) + "," + std::to_string(i) + ",https://x/" + std::to_string(i) + "\n";
  }
  WriteFile(dir / "r.csv", reviews);
  WriteFile(dir / "unique.csv", unique);
  const std::vector<std::string> base = {"recommend",      "--reviews", dir / "r.csv",  "--text-model", "none",
                                         "--no-sentiment", "--out",     dir / "l.json", "--items"};
  auto with = [&](const std::string& items, const std::string& memory_mb) {
    auto args = base;
    args.push_back(items);
    return RunAvrec(args, "", {"AVREC_MEMORY_MB=" + memory_mb});
  };
  RunResult r = with(dir / "unique.csv", "64");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("categorical column 'visual.url': no value is shared by two items"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("10 items x 1 dimension ("), std::string::npos) << r.err;
  // Two items per value: 2,000 columns for 4,000 items, 32 MB of floats.
  std::string wide = "item_id,audio.tempo,audio.artist\n";
  for (int i = 0; i < 4000; ++i) {
    wide += "i" + std::to_string(i) + "," + std::to_string(i % 7) + ",a" + std::to_string(i / 2) + "\n";
  }
  WriteFile(dir / "wide.csv", wide);
  r = with(dir / "wide.csv", "64");
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find(dir / "wide.csv: item vectors of 4000 items x 2001 dimensions take 32.0 MB, more than a "
                             "third of the 67.1 MB avrec may take"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the categorical column 'audio.artist' alone has 2000 values shared by two or more items"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(with(dir / "wide.csv", "128").exit_code, 0);
  // A key per record.
  std::string keys;
  for (int i = 0; i < 2000; ++i) {
    keys += "{\"item_id\":\"i" + std::to_string(i) + "\",\"audio.k" + std::to_string(i) + "\":1}\n";
  }
  WriteFile(dir / "keys.jsonl", keys);
  r = RunAvrec({"validate", "--items", dir / "keys.jsonl"}, "", {"AVREC_MEMORY_MB=16"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find(" distinct keys (the latest 'audio.k"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("do most records bring keys of their own?"), std::string::npos) << r.err;
  r = RunAvrec({"validate", "--items", dir / "keys.jsonl"}, "", {"AVREC_MEMORY_MB=many"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("AVREC_MEMORY_MB: expected a whole number of MiB from 1 to 2^40, found 'many'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(HasTempFile(dir.path()));
}

// A config file is small by nature: `--config /dev/urandom` used to read
// until memory ran out.
TEST(Hostile, AnEndlessConfigIsRefused) {
  TempDir dir;
  WriteFile(dir / "big.json", "{\"threads\": 1" + std::string(17 << 20, ' ') + "}");
  for (const std::string& config : {std::string("/dev/urandom"), dir / "big.json"}) {
    RunResult r = RunAvrec({"recommend", "--config", config, "--reviews", kReviews, "--out", dir / "l.json"});
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find(config + ": longer than 16 MiB, which no file of this kind is"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(FileExists(dir / "l.json"));
}

// A file may be named in any bytes, but avrec records its options in JSON:
// a name that is not UTF-8 is a usage error before any work, in every verb
// and in run (it used to end in an internal error, exit 70, after the work,
// when the first stage's event went into the run manifest).
TEST(Hostile, ArgumentsThatAreNotUtf8AreUsageErrors) {
  TempDir dir;
  const std::string latin1 = dir / "r\xE9views.csv";
  WriteFile(latin1, ReadFile(kReviews));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"validate", "--reviews", latin1}, "--reviews: "},
      {{"recommend", "--reviews", kReviews, "--items", kItems, "--scores", SampleScores(), "--text-model", "none",
        "--out", dir / "o\xFF.json"},
       "--out: "},
      {{"recommend", "--config", dir / "c\xFF.json", "--out", dir / "o.json"}, "--config: "},
      {{"run", "--config", SourcePath("data/sample/pipeline.json"), "--workspace", dir / "w\xFF"}, "--workspace: "},
      {{"run", "--config", SourcePath("data/sample/pipeline.json"), "--set", "recommend.out=\xC3"}, "--set: "},
  };
  for (const auto& [args, name] : cases) {
    RunResult r = RunAvrec(args);
    EXPECT_EQ(r.exit_code, 64) << args[0] << " " << name << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is not valid UTF-8"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(FileExists(dir / "o\xFF.json"));
  EXPECT_FALSE(FileExists(dir / "o.json"));
  EXPECT_FALSE(FileExists(dir / "w\xFF"));
}

TEST(Hostile, EvaluatingNoRecommendationsIsAnError) {
  TempDir dir;
  WriteFile(dir / "empty.jsonl", "");
  WriteFile(dir / "header.jsonl", "{\"header\":{\"format\":\"avrec-recommendations/1\"}}\n");
  for (const char* f : {"empty.jsonl", "header.jsonl"}) {
    RunResult r = RunAvrec({"evaluate", "--recs", dir / f, "--truth", kReviews});
    EXPECT_EQ(r.exit_code, 65) << f;
    EXPECT_NE(r.err.find(dir / f), std::string::npos) << r.err;
  }
}

// A failed export gives an empty or header-only reviews file: lists from it
// are empty for everyone, and must not replace last night's (exit 0 with
// "users": [] did); validate warns of it, and split refuses it.
TEST(Hostile, NoReviewsAtAllKeepsLastNightsOutput) {
  TempDir dir;
  WriteFile(dir / "empty.csv", "");
  WriteFile(dir / "header.csv", "user_id,item_id,text,rating\n");
  WriteFile(dir / "lists.json", "last night");
  const std::vector<std::string> rest = {"--items", kItems, "--no-sentiment", "--text-model", "none", "--out"};
  for (const std::string verb : {"recommend", "profile"}) {
    for (const std::string file : {"empty.csv", "header.csv"}) {
      std::vector<std::string> args = {verb, "--reviews", dir / file};
      args.insert(args.end(), rest.begin(), rest.end());
      args.push_back(dir / "lists.json");
      RunResult r = RunAvrec(args);
      EXPECT_EQ(r.exit_code, 65) << verb << " " << file << ": " << r.err;
      const std::string said = file == "empty.csv" ? "empty.csv:1: file is empty"
                                                   : "header.csv: no reviews, so no user to rank for (an empty or "
                                                     "header-only file?)";
      EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
      EXPECT_EQ(ReadFile(dir / "lists.json"), "last night");
    }
  }
  // validate, which checks the format: valid, with a warning; an items
  // file with only a header is warned the same way.
  WriteFile(dir / "items.csv", "item_id,title\n");
  RunResult r = RunAvrec({"validate", "--reviews", dir / "header.csv", "--items", dir / "items.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"header.csv: holds no review", "items.csv: holds no item"}) {
    EXPECT_NE(r.err.find(dir / f + ": valid, but empty (an export that failed?)"), std::string::npos) << r.err;
  }
  // split has nothing to split: exit 65, neither side written. A split
  // whose test side is empty (every user with one review) is warned.
  r = RunAvrec({"split", "--reviews", dir / "header.csv", "--train", dir / "a.csv", "--test", dir / "b.csv"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("header.csv: no reviews to split (an empty or header-only file?); nothing was written"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(dir / "a.csv"));
  EXPECT_FALSE(FileExists(dir / "b.csv"));
  WriteFile(dir / "single.csv", "user_id,item_id,text\nu1,i1,fine\nu2,i1,dull\n");
  r = RunAvrec({"split", "--reviews", dir / "single.csv", "--train", dir / "a.csv", "--test", dir / "b.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("b.csv: no review went to test (every user has a single review, which stays in train)"),
            std::string::npos)
      << r.err;
  // A workspace with items and no reviews, as recommend and run find it.
  ASSERT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems}).exit_code, 0);
  r = RunAvrec(
      {"recommend", "-w", dir / "w.avrec", "--no-sentiment", "--text-model", "none", "--out", dir / "lists.json"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("w.avrec: no reviews"), std::string::npos) << r.err;
  r = RunAvrec({"run", "--config", SourcePath("data/sample/pipeline.json"), "--set", "score.model=" + kTinySentiment,
                "--set", "features.text_model=none", "--set", "reviews.path=" + dir / "header.csv", "-w",
                dir / "w.avrec", "--out", dir / "lists.json"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_NE(r.err.find("w.avrec: no reviews"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir / "lists.json"), "last night");
  // A header-only day on a workspace that has reviews is a quiet night, not an error.
  ASSERT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--reviews", kReviews}).exit_code, 0);
  r = RunAvrec({"run", "--config", SourcePath("data/sample/pipeline.json"), "--set", "score.model=" + kTinySentiment,
                "--set", "features.text_model=none", "--set", "reviews.path=" + dir / "header.csv", "-w",
                dir / "w.avrec", "--out", dir / "lists.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ---- concurrency and the workspace -------------------------------------------------------

// An sqlite3 shell kept open on `db` after running `sql` (its stdin stays
// open until Close).
struct SqliteSession {
  int pid = -1, in_fd = -1;
  SqliteSession(const std::string& db, const std::string& sql) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(p[0], 0);
      ::close(p[0]);
      ::close(p[1]);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::execlp("sqlite3", "sqlite3", db.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[0]);
    in_fd = p[1];
    const std::string cmd = sql + "\n";
    EXPECT_EQ(::write(in_fd, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ~SqliteSession() {
    ::close(in_fd);
    int status;
    ::waitpid(pid, &status, 0);
  }
};

TEST(Workspace, AnOpenReaderBlocksNeitherIngestNorRecommend) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  ASSERT_EQ(RunAvrec({"score", "-w", ws, "--model", kTinySentiment}).exit_code, 0);
  SqliteSession analyst(ws, "BEGIN; SELECT count(*) FROM reviews;");
  WriteFile(dir / "new.csv", "review_id,user_id,item_id,text\nn1,u001,s0005,new review\n");
  // No waiting for a lock at all: a blocked writer would exit 75 at once.
  RunResult r = RunAvrec({"ingest", "-w", ws, "--reviews", dir / "new.csv"}, "", {"AVREC_BUSY_TIMEOUT_MS=0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunAvrec({"recommend", "-w", ws, "--text-model", "none", "--model", kTinySentiment, "--out", dir / "r.json"}, "",
               {"AVREC_BUSY_TIMEOUT_MS=0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// forget while an analyst's sqlite3 session holds an older snapshot: the
// rows are gone for every new reader at once, and the run says that their
// bytes stay in the log until that session ends; run again then, it finds
// nothing more to remove and nothing of them is left in the files.
TEST(Workspace, ForgetBesideAnOpenReaderSaysWhereTheBytesStay) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  const std::string user = test::QueryText(ws, "SELECT user_id FROM reviews ORDER BY review_id LIMIT 1");
  const std::string text = test::QueryText(ws, "SELECT text FROM reviews WHERE user_id = '" + user +
                                                   "' AND text NOT IN (SELECT text FROM reviews WHERE user_id <> '" +
                                                   user + "') ORDER BY length(text) DESC LIMIT 1");
  ASSERT_GT(text.size(), 20u);
  const auto in_files = [&] {
    return (ReadFile(ws) + (FileExists(ws + "-wal") ? ReadFile(ws + "-wal") : "")).find(text) != std::string::npos;
  };
  {
    SqliteSession analyst(ws, "BEGIN; SELECT count(*) FROM reviews;");
    RunResult r = RunAvrec({"forget", "-w", ws, "--user", user});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("holds part of the write-ahead log"), std::string::npos) << r.err;
    EXPECT_EQ(test::QueryInt(ws, "SELECT count(*) FROM reviews WHERE user_id = '" + user + "'"), 0);
    EXPECT_TRUE(in_files());  // as the warning says
  }
  RunResult r = RunAvrec({"forget", "-w", ws, "--user", user});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("write-ahead log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 id given held nothing here"), std::string::npos) << r.err;
  EXPECT_FALSE(in_files());
}

// A reviews file still being written (another process appends to it while
// avrec reads) is exit 75, like a busy workspace, so the nightly wrapper
// retries; the workspace stays as it was and no half-read file lands.
TEST(Workspace, AnInputStillBeingWrittenIsExit75AndChangesNothing) {
  TempDir dir;
  const std::string ws = dir / "w.avrec", growing = dir / "growing.csv";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  const std::string body = ReadFile(kReviews);
  for (const char* verb : {"ingest", "validate"}) {
    WriteFile(growing, body);
    const std::string script =
        "(n=0; while :; do n=$((n+1)); echo \"x$n,u001,s0001,5,2024-01-01T00:00:00Z,more\" >> '" + growing +
        "'; done) & w=$!; sleep 0.2; timeout 60 '" + test::AvrecBinary() + "' " + verb + " -w '" + ws +
        "' --reviews '" + growing + "'; rc=$?; kill $w; wait $w 2>/dev/null; exit $rc";
    RunResult r = RunProgram({"bash", "-c", script});
    EXPECT_EQ(r.exit_code, 75) << verb << "\n" << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
    EXPECT_NE(r.err.find(growing + ": changed while it was read ("), std::string::npos) << verb;
    EXPECT_NE(r.err.find("is it still being written?"), std::string::npos) << verb;
  }
  EXPECT_EQ(Sql(ws, "SELECT count(*) FROM reviews"), "0");  // nothing of it landed
  // Once the writer is done, the same file goes in whole.
  RunResult r = RunAvrec({"ingest", "-w", ws, "--reviews", growing});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(Sql(ws, "SELECT count(*) FROM reviews"), "0");
}

TEST(Workspace, AWriterHoldingTheLockGivesExit75NamingTheFile) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  const std::string before = Sql(ws, "SELECT count(*) FROM reviews");
  SqliteSession other(ws, "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('x', 'y');");
  RunResult r = RunAvrec({"ingest", "-w", ws, "--reviews", kReviews}, "", {"AVREC_BUSY_TIMEOUT_MS=300"});
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find(ws + ": the workspace is locked by another process"), std::string::npos) << r.err;
  r = RunAvrec({"score", "-w", ws, "--model", kTinySentiment}, "", {"AVREC_BUSY_TIMEOUT_MS=300"});
  EXPECT_TRUE(r.exit_code == 75 || r.exit_code == 0) << r.err;  // nothing to score needs no lock
}

// Two ingests of 20,000 reviews each, started together into `ws` with
// `extra` on each command line: each lands (exit 0) or is told to retry
// (75), and the workspace holds the reviews of those that landed, intact.
void ExpectTwoIngestsAtOnceBothLandOrOneRetries(const TempDir& dir, const std::string& ws,
                                                const std::vector<std::string>& extra) {
  for (int k = 0; k < 2; ++k) {
    std::ofstream f(dir / ("r" + std::to_string(k) + ".csv"));
    f << "review_id,user_id,item_id,text\n";
    for (int i = 0; i < 20000; ++i) f << "w" << k << "_" << i << ",u" << i % 100 << ",s0004,text " << i << "\n";
  }
  RunResult runs[2];
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      std::vector<std::string> args = {"ingest", "-w", ws, "--reviews", dir / ("r" + std::to_string(k) + ".csv")};
      args.insert(args.end(), extra.begin(), extra.end());
      runs[k] = RunAvrec(args);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const RunResult& r : runs) EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 75) << r.err;
  const int landed = (runs[0].exit_code == 0) + (runs[1].exit_code == 0);
  EXPECT_GE(landed, 1);
  EXPECT_EQ(Sql(ws, "SELECT count(*) FROM reviews"), std::to_string(20000 * landed));
  EXPECT_EQ(Sql(ws, "PRAGMA integrity_check"), "ok");
}

TEST(Workspace, TwoWritersAtOnceBothLandOrOneRetries) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  ExpectTwoIngestsAtOnceBothLandOrOneRetries(dir, ws, {});
}

// The same with two first runs, which both build a new workspace: the one
// that finishes second used to rename its own over the other's, and both
// said exit 0 (on the sample split in two, 943 of 2,864 reviews were left).
TEST(Workspace, TwoFirstIngestsAtOnceBothLandOrOneRetries) {
  TempDir dir;
  ExpectTwoIngestsAtOnceBothLandOrOneRetries(dir, dir / "w.avrec", {"--items", kItems});
}

TEST(Workspace, FailedRunsCreateNoWorkspace) {
  TempDir dir;
  RunResult r = RunAvrec({"ingest", "-w", dir / "w.avrec", "--reviews", dir / "missing.csv"});
  EXPECT_EQ(r.exit_code, 66);
  WriteFile(dir / "bad.csv", "user_id,item_id,text\nu1,,x\n");
  r = RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems, "--reviews", dir / "bad.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_TRUE(Listing(dir.path()) == (std::vector<std::string>{"bad.csv"}));
}

TEST(Workspace, AMissingWorkspaceBesideFilesFailsBeforeAnyWork) {
  // recommend opens a workspace given beside --reviews/--items (its snippet
  // cache) only after reading and scoring: on real data, an hour later. A
  // model directory that does not exist shows the scoring never started.
  TempDir dir;
  for (const std::string verb : {"recommend", "profile"}) {
    RunResult r = RunAvrec({verb, "--reviews", kReviews, "--items", kItems, "--workspace", dir / "none.avrec",
                            "--model", dir / "no-model", "--out", dir / "out.json"});
    EXPECT_EQ(r.exit_code, 66) << verb << r.err;
    EXPECT_NE(r.err.find("none.avrec: no such workspace"), std::string::npos) << verb << r.err;
    EXPECT_EQ(r.err.find("no-model"), std::string::npos) << verb << r.err;
    EXPECT_TRUE(Listing(dir.path()) == (std::vector<std::string>{"out.json.run.json"})) << verb;  // its exit code
  }
}

// A workspace someone else owns (a published copy, a folder of the team's)
// is read where the user may read it, and otherwise named with what is not
// writable, not called "not an avrec workspace".
TEST(Workspace, WhatTheUserCannotWriteIsNamedNotCalledDamage) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string folder = dir / "team", ws = folder + "/w.avrec";
  std::filesystem::create_directory(folder);
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  // The write-ahead log files stay beside it, the log empty: a reader
  // that cannot write the folder, nor the files, reads the workspace, and
  // what it computes (scores of unscored reviews, snippets) is not cached.
  ASSERT_TRUE(test::FileExists(ws + "-wal") && test::FileExists(ws + "-shm"));
  EXPECT_EQ(std::filesystem::file_size(ws + "-wal"), 0u);
  for (const std::string& f : {ws, ws + "-wal", ws + "-shm"}) ::chmod(f.c_str(), 0444);
  ::chmod(folder.c_str(), 0555);
  const std::string before = ReadFile(ws);
  const std::vector<std::string> read = {"validate", "-w", ws, "--reviews", kReviews};
  RunResult r = RunUnprivileged(read);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunUnprivileged(
      {"recommend", "-w", ws, "--model", kTinySentiment, "--text-model", "none", "--out", "/dev/stdout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"users\": ["), std::string::npos) << r.out.substr(0, 200);
  EXPECT_NE(r.err.find(ws + ": the 2736 scores computed now are not cached: the file is not writable by this user"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(not cached: the workspace is read-only for this user)"), std::string::npos) << r.err;
  // Scoring it is what the user cannot do: refused before any work.
  r = RunUnprivileged({"score", "-w", ws, "--model", kTinySentiment});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(ws + ": cannot write the workspace: the file is not writable by this user (Permission "
                            "denied); `avrec score --out PATH` writes the scores to a file instead"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("score: "), std::string::npos) << r.err;
  // So is keeping a recommend run's state or lists there.
  r = RunUnprivileged({"recommend", "-w", ws, "--model", kTinySentiment, "--text-model", "none", "--only-changed",
                       "--out", "/dev/null"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(ws + ": --only-changed keeps its state in the workspace, and it cannot be written: the file "
                            "is not writable by this user"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("scores computed now"), std::string::npos) << r.err;  // before any scoring
  // A dry run changes nothing, so the user may run one: it works on a copy
  // of the workspace in memory. The change itself is refused.
  r = RunUnprivileged({"forget", "-w", ws, "--user", "u010", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(ws + ": the file is not writable by this user (Permission denied): the dry run works on a "
                            "copy of it in memory ("),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("dry run, nothing changed: would forget 1 user, 0 reviews and 0 items (12 reviews"),
            std::string::npos)
      << r.err;
  r = RunUnprivileged({"ingest", "-w", ws, "--items", kItems, "--reviews", kReviews, "--snapshot", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dry run, nothing changed: workspace " + ws + " would hold"), std::string::npos) << r.err;
  r = RunUnprivileged({"forget", "-w", ws, "--user", "u010"});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_EQ(ReadFile(ws), before);
  // Without them (removed by another program, or not copied), the folder
  // and what to do are named.
  ::chmod(folder.c_str(), 0755);
  std::filesystem::remove(ws + "-wal");
  std::filesystem::remove(ws + "-shm");
  ::chmod(folder.c_str(), 0555);
  r = RunUnprivileged(read);
  EXPECT_EQ(r.exit_code, 66) << r.err;
  EXPECT_NE(r.err.find(ws + ": cannot open the workspace: the folder " + folder + " is not writable by this user"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the write-ahead log files a reader needs beside it (" + ws + "-wal and " + ws +
                       "-shm) are not there: open the workspace once as a user who can write the folder"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not an avrec workspace"), std::string::npos) << r.err;
  // A new workspace there, or in a folder that is not there: the folder is
  // named (SQLite says only "unable to open database file").
  r = RunUnprivileged({"ingest", "-w", folder + "/new.avrec", "--items", kItems, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(folder + "/new.avrec: cannot open workspace: the folder " + folder +
                       " is not writable by this user (Permission denied)"),
            std::string::npos)
      << r.err;
  r = RunAvrec({"ingest", "-w", dir / "none/new.avrec", "--items", kItems, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(": cannot open workspace: the folder " + dir / "none" + " does not exist"), std::string::npos)
      << r.err;
  r = RunAvrec({"ingest", "-w", std::string(kItems) + "/new.avrec", "--items", kItems, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(": cannot open workspace: " + std::string(kItems) + " is not a folder"), std::string::npos)
      << r.err;
  // The folder writable: reading works, writing names the file.
  ::chmod(folder.c_str(), 0777);
  r = RunUnprivileged(read);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunUnprivileged({"ingest", "-w", ws, "--reviews", kReviews});
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(": cannot write the workspace: the file is not writable by this user"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(ws), before);
  ::chmod(folder.c_str(), 0755);
}

// A workspace folder mounted read-only (a container's `-v /srv/avrec:/data:ro`)
// is read, by root too, what the run computes not cached. The mount lives
// in a mount namespace of its own (unshare), so nothing outlives the test;
// where the machine allows no such namespace, the test is skipped.
TEST(Workspace, AReadOnlyMountIsRead) {
  TempDir dir;
  const std::string folder = dir / "nightly", mounted = dir / "ro";
  std::filesystem::create_directory(folder);
  std::filesystem::create_directory(mounted);
  ASSERT_EQ(RunAvrec({"ingest", "-w", folder + "/w.avrec", "--items", kItems, "--reviews", kReviews}).exit_code, 0);
  const std::string before = ReadFile(folder + "/w.avrec");
  const std::string ws = mounted + "/w.avrec";
  const auto in_ro_mount = [&](const std::string& command) {
    return RunProgram({"unshare", "-m", "sh", "-c",
                       "mount --bind '" + folder + "' '" + mounted + "' && mount -o remount,bind,ro '" + mounted +
                           "' && { touch '" + mounted + "/probe' 2>/dev/null && exit 99; " + command + "; }"});
  };
  RunResult r = in_ro_mount("true");
  if (r.exit_code != 0) GTEST_SKIP() << "no read-only bind mount here: " << r.err;
  r = in_ro_mount("'" + test::AvrecBinary() + "' recommend -w '" + ws + "' --model '" + kTinySentiment +
                  "' --text-model none --out /dev/stdout");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"users\": ["), std::string::npos) << r.out.substr(0, 200);
  EXPECT_NE(r.err.find(ws + ": the 2736 scores computed now are not cached: the file is on a read-only file system"),
            std::string::npos)
      << r.err;
  r = in_ro_mount("'" + test::AvrecBinary() + "' score -w '" + ws + "' --model '" + kTinySentiment + "'");
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_NE(r.err.find(ws + ": cannot write the workspace: the file is on a read-only file system"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(folder + "/w.avrec"), before);
}

// The lock timeout comes from the environment, where "30s" is an easy slip:
// anything but whole milliseconds is a usage error before any work (it was
// read as 30 ms, and "abc" as 0).
TEST(Workspace, AMalformedLockTimeoutIsAUsageError) {
  TempDir dir;
  for (const std::string value : {"30s", "abc", "-5", "1e3", "86400001", "99999999999999999999"}) {
    RunResult r =
        RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems}, "", {"AVREC_BUSY_TIMEOUT_MS=" + value});
    EXPECT_EQ(r.exit_code, 64) << value << ": " << r.err;
    EXPECT_NE(r.err.find("AVREC_BUSY_TIMEOUT_MS: expected a whole number of milliseconds from 0 to 86400000 (a day), "
                         "found '" +
                         value + "'"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(FileExists(dir / "w.avrec"));
  }
  EXPECT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems}, "", {"AVREC_BUSY_TIMEOUT_MS=0"}).exit_code,
            0);
  EXPECT_EQ(RunAvrec({"ingest", "-w", dir / "w.avrec", "--items", kItems}, "", {"AVREC_BUSY_TIMEOUT_MS="}).exit_code,
            0);  // empty: the default
}

// ---- messages --------------------------------------------------------------------------

std::string Gzip(const std::string& text) {
  std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(Messages, Utf16AndBinaryInputSayHowToConvert) {
  TempDir dir;
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string("user_id,item_id,text\nu,i,hi\n")) utf16 += std::string{c, '\0'};
  WriteFile(dir / "r.csv", utf16);
  RunResult r = RunAvrec({"validate", "--reviews", dir / "r.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("looks like UTF-16LE; convert it with: iconv -f UTF-16LE -t UTF-8"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\0'), std::string::npos);
  // No BOM: told by the NUL pattern.
  WriteFile(dir / "r2.csv", utf16.substr(2));
  r = RunAvrec({"validate", "--reviews", dir / "r2.csv"});
  EXPECT_NE(r.err.find("UTF-16LE"), std::string::npos) << r.err;
  // Nor when most of the text is Chinese (好吃 is U+597D U+5403; U+4E00,
  // 一, one of the commonest, has a NUL low byte), little- or big-endian.
  std::u16string text = u"user_id,item_id,text\nu,i,";
  for (int i = 0; i < 100; ++i) text += i % 25 == 0 ? u"\u4E00" : u"\u597D\u5403";
  text += u"\n";
  for (const bool big : {false, true}) {
    std::string bytes;
    for (char16_t c : text) {
      const char lo = static_cast<char>(c & 0xFF), hi = static_cast<char>(c >> 8);
      bytes += big ? std::string{hi, lo} : std::string{lo, hi};
    }
    WriteFile(dir / "zh16.csv", bytes);
    r = RunAvrec({"validate", "--reviews", dir / "zh16.csv"});
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_NE(r.err.find(big ? "looks like UTF-16BE" : "looks like UTF-16LE"), std::string::npos) << r.err;
  }
  // Chinese from a Windows tool, in GBK (很快，好吃 and 味道足): each line
  // is named (味 is 0xCE 0xB6, which UTF-8 reads as one character), and the
  // first says what the file looks like and how to convert it.
  WriteFile(dir / "gbk.csv",
            "user_id,item_id,text\nu,i,\xBA\xDC\xBF\xEC\xA3\xAC\xBA\xC3\xB3\xD4\nu,j,\xCE\xB6\xB5\xC0\xD7\xE3\n");
  r = RunAvrec({"validate", "--reviews", dir / "gbk.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("gbk.csv:2: field 'text': invalid UTF-8 at byte 1 of the field; the file looks like GB18030 "
                       "(GBK, Chinese): convert it with: iconv -f GB18030 -t UTF-8 " +
                       (dir / "gbk.csv") + " > converted"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("gbk.csv:3: field 'text': invalid UTF-8 at byte 3 of the field\n"), std::string::npos) << r.err;
  // Files that are not text say what they are and what to do.
  WriteFile(dir / "zipped.csv", Gzip("user_id,item_id,text\nu,i,hi\n"));
  WriteFile(dir / "book.csv", std::string("PK\x03\x04\x14\0\x06\0", 8) + std::string(64, 'x'));
  WriteFile(dir / "ws", std::string("SQLite format 3\0", 16) + std::string(64, '\0'));
  for (const auto& [name, what] : std::vector<std::pair<std::string, std::string>>{
           {"zipped.csv", "gzip-compressed data (name it with .gz at the end, or decompress it with gunzip)"},
           {"book.csv", "a ZIP archive (an Excel workbook? save it as CSV UTF-8)"},
           {"ws", "an SQLite database (an avrec workspace? give it as --workspace)"}}) {
    r = RunAvrec({"validate", "--reviews", dir / name});
    EXPECT_EQ(r.exit_code, 65) << name;
    EXPECT_NE(r.err.find(name + ":1: not UTF-8: the file looks like " + what), std::string::npos) << r.err;
  }
  // A header in GBK (用户 for user_id) too.
  WriteFile(dir / "gbk_header.csv", "\xD3\xC3\xBB\xA7,item_id,text\nu,i,ok\n");
  r = RunAvrec({"validate", "--reviews", dir / "gbk_header.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("gbk_header.csv:1: header: column 1 name is not valid UTF-8; the file looks like GB18030"),
            std::string::npos)
      << r.err;
}

// The commands messages print paste into a shell as they are, where the
// file's path or its column names hold blanks (a folder "my data", an
// Excel export's "Review Text"): pasted, they read the file.
TEST(Messages, PrintedCommandsPasteIntoAShell) {
  TempDir dir;
  const std::string folder = dir / "my data";
  std::filesystem::create_directory(folder);
  const auto pasted = [&](const std::string& err, const std::string& from, const std::string& to) {
    const size_t at = err.find(from);
    if (at == std::string::npos) return std::string();
    const size_t end = err.find(to, at);
    return end == std::string::npos ? std::string() : err.substr(at + from.size(), end - at - from.size());
  };
  // GBK Chinese: the iconv command.
  WriteFile(folder + "/gbk file.csv", "user_id,item_id,text\nu,i,\xBA\xDC\xBF\xEC\n");
  RunResult r = RunAvrec({"validate", "--reviews", folder + "/gbk file.csv"});
  EXPECT_EQ(r.exit_code, 65);
  const std::string iconv = pasted(r.err, "convert it with: ", "\n");
  EXPECT_EQ(iconv, "iconv -f GB18030 -t UTF-8 '" + folder + "/gbk file.csv' > converted") << r.err;
  ASSERT_EQ(RunProgram({"sh", "-c", "cd '" + dir.path() + "' && " + iconv}).exit_code, 0) << iconv;
  EXPECT_EQ(RunAvrec({"validate", "--reviews", dir / "converted"}).exit_code, 0);
  // Column names with blanks: the --map the header suggests.
  const std::string csv = folder + "/export.csv";
  WriteFile(csv, "User ID,Product ID,Review Text,Stars\nu1,p1,great record,5\nu2,p1,too long,2\n");
  r = RunAvrec({"validate", "--reviews", csv});
  EXPECT_EQ(r.exit_code, 65);
  const std::string map = pasted(r.err, "--map ", " reads the file's columns");
  EXPECT_EQ(map, "'user_id=User ID,item_id=Product ID,text=Review Text,rating=Stars'") << r.err;
  r = RunProgram({"sh", "-c", "'" + test::AvrecBinary() + "' validate --reviews '" + csv + "' --map " + map});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 valid reviews by 2 users (2 with a rating"), std::string::npos) << r.err;
  // A missing workspace: the ingest that makes it.
  r = RunAvrec({"recommend", "-w", folder + "/w.avrec", "--out", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_NE(r.err.find("create it with `avrec ingest --workspace '" + folder + "/w.avrec'`"), std::string::npos)
      << r.err;
}

// A stage that first trains a model (EASE: seconds) and then ranks every
// user within a second reported "1/610, ETA 7799 s": the rate counted from
// the start. It counts from the first tick; until a second there is no ETA.
TEST(Progress, RateAndEtaCountFromTheFirstTick) {
  if (::isatty(STDERR_FILENO) == 1) GTEST_SKIP() << "stderr is a terminal: progress draws a bar, not events";
  std::vector<nlohmann::json> events;
  SetEventObserver([&](const std::string& event, const nlohmann::json& fields) {
    if (event == "progress") events.push_back(fields);
  });
  {
    Progress progress("rank", 100, std::chrono::milliseconds(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the work before the first item
    progress.Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    progress.Tick(9);
  }
  SetEventObserver(nullptr);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["done"], 1);
  EXPECT_EQ(events[0]["total"], 100);
  EXPECT_FALSE(events[0].contains("eta_s")) << events[0];
  EXPECT_EQ(events[0]["rate_per_s"], 0.0);
  EXPECT_EQ(events[1]["done"], 10);
  ASSERT_TRUE(events[1].contains("eta_s")) << events[1];
  // 9 items over the time since the first tick, not 10 over all of it.
  EXPECT_GT(events[1]["rate_per_s"].get<double>(), 0.0);
}

// A reader's progress is counted in bytes of its file (ingest and validate
// of a reviews file: the rows are not known before the end).
TEST(Progress, BytesOfAFileAreCountedInMegabytes) {
  if (::isatty(STDERR_FILENO) == 1) GTEST_SKIP() << "stderr is a terminal: progress draws a bar, not events";
  std::vector<nlohmann::json> events;
  SetEventObserver([&](const std::string& event, const nlohmann::json& fields) {
    if (event == "progress") events.push_back(fields);
  });
  {
    Progress progress("ingest", 0, std::chrono::milliseconds(0), Progress::Unit::kBytes);
    progress.Set(1000000, 4000000);
    progress.Set(3000000, -1);  // a pipe: no total
  }
  SetEventObserver(nullptr);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["unit"], "bytes");
  EXPECT_EQ(events[0]["done"], 1000000);
  EXPECT_EQ(events[0]["total"], 4000000);
  EXPECT_EQ(events[1]["done"], 3000000);
  EXPECT_FALSE(events[1].contains("total")) << events[1];
}

TEST(Messages, ControlBytesAreEscaped) {
  TempDir dir;
  WriteFile(dir / "r.csv", std::string("user_id,item_id,text,rating\nu,i,hi,\x01\x1b[31mred\n"));
  RunResult r = RunAvrec({"validate", "--reviews", dir / "r.csv"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("'\\x01\\x1B[31mred'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);

  // A file name is printed as given, but for the bytes a terminal acts on:
  // an escape sequence, a C1 control (U+009B, the one-byte CSI) and a line
  // break that would forge a second log line all come out escaped, in every
  // kind of line that names the file: a row problem, an error, a usage error.
  const std::string hostile =
      "x\x1b[31m\xC2\x9B"
      "2J\navrec: info: fake.csv";
  const std::string shown =
      "x\\x1B[31m\\xC2\\x9B"
      "2J\\navrec: info: fake.csv";
  WriteFile(dir / hostile, "user_id,item_id,text,rating\nu,i,hi,lots\n");
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"validate", "--reviews", dir / hostile}, shown + ":2: field 'rating'"},
           {{"validate", "--reviews", dir / (hostile + ".gone.csv")}, shown + ".gone.csv: cannot open"},
           {{"validate", "--reviews", dir / (hostile + ".xlsx")}, shown + ".xlsx"}}) {
    r = RunAvrec(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\xC2\x9B"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\navrec: info: fake"), std::string::npos) << r.err;
  }
  // The JSON log carries the name exactly (JSON escapes what it must).
  r = RunAvrec({"--log-format", "json", "validate", "--reviews", dir / hostile});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("x\\u001b[31m\xC2\x9B"
                       "2J\\navrec: info: fake.csv"),
            std::string::npos)
      << r.err;
}

// Columns the options name that the file lacks (a misspelling, a column
// the feed dropped): the run goes on, and says so, naming the columns the
// file has that avrec does not read. A misspelt modality weight, which
// would change nothing, stops the run before anything is scored.
TEST(Messages, ColumnsTheOptionsNameButTheFileLacksAreSaid) {
  TempDir dir;
  WriteFile(dir / "r.csv", "user_id,item_id,text,Stars\nu,i1,good,5\n");
  WriteFile(dir / "r.jsonl", "{\"user_id\":\"u\",\"item_id\":\"i1\",\"text\":\"good\",\"Stars\":5}\n");
  for (const char* name : {"r.csv", "r.jsonl"}) {
    RunResult r = RunAvrec({"validate", "--reviews", dir / name, "--map", "rating=stars"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(
                  dir / name +
                  ": --map 'rating=stars': the file has no column 'stars' (did you mean 'Stars'?); columns of the file "
                  "avrec does not read: 'Stars'"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("0 with a rating"), std::string::npos) << r.err;
    r = RunAvrec({"validate", "--reviews", dir / name, "--map", "rating=Stars"});
    EXPECT_EQ(r.err.find("--map"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("1 with a rating"), std::string::npos) << r.err;
  }
  WriteFile(dir / "i.csv", "item_id,name,audio.tempo,genre\ni1,One,120,rock\ni2,Two,90,rock\n");
  RunResult r = RunAvrec({"validate", "--items", dir / "i.csv", "--categorical", "genere", "--numeric", "bpm",
                          "--items-map", "title=nmae"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string unread = "; columns of the file avrec does not read: 'name', 'genre'";
  for (const std::string& w :
       {"--categorical 'genere': the file has no such column (did you mean 'genre'?)" + unread,
        "--numeric 'bpm': the file has no such column" + unread,
        "--items-map 'title=nmae': the file has no column 'nmae' (did you mean 'name'?)" + unread}) {
    EXPECT_NE(r.err.find(dir / "i.csv: " + w), std::string::npos) << w << "\n" << r.err;
  }
  r = RunAvrec({"validate", "--items", dir / "i.csv", "--categorical", "genre", "--items-map", "title=name"});
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;

  r = RunAvrec({"recommend", "--reviews", kReviews, "--items", kItems, "--text-model", "none", "--out", dir / "o.json",
                "--modality-weight", "audo=1.5"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("--modality-weight 'audo' (config features.modality_weights): " + kItems +
                       " has no modality 'audo' (did you mean 'audio'?) (it has 'audio', 'visual', and 'text'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("score:"), std::string::npos) << "scored before the check:\n" << r.err;
  EXPECT_FALSE(FileExists(dir / "o.json"));
}

TEST(Messages, GzipIsReadStrictly) {
  TempDir dir;
  const std::string a = "user_id,item_id,text\nu1,i,one\n", b = "u2,i,two\n";
  WriteFile(dir / "plain.csv.gz", a);
  RunResult r = RunAvrec({"validate", "--reviews", dir / "plain.csv.gz"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("not gzip data"), std::string::npos) << r.err;
  WriteFile(dir / "junk.csv.gz", Gzip(a) + "garbage");
  r = RunAvrec({"validate", "--reviews", dir / "junk.csv.gz"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("after the end of the gzip data"), std::string::npos) << r.err;
  WriteFile(dir / "cut.csv.gz", Gzip(a).substr(0, 20));
  r = RunAvrec({"validate", "--reviews", dir / "cut.csv.gz"});
  EXPECT_EQ(r.exit_code, 65);
  WriteFile(dir / "two.csv.gz", Gzip(a) + Gzip(b));  // concatenated members: one stream
  r = RunAvrec({"validate", "--reviews", dir / "two.csv.gz"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 valid reviews"), std::string::npos) << r.err;
}

TEST(Messages, ValidateAndIngestDecideAlike) {
  TempDir dir;
  const std::string ws = dir / "w.avrec";
  ASSERT_EQ(RunAvrec({"ingest", "-w", ws, "--items", kItems}).exit_code, 0);
  struct Case {
    std::string name, content, message;
    int code;
  };
  const std::vector<Case> cases = {
      {"dup.jsonl", "{\"user_id\":\"u\",\"user_id\":\"v\",\"item_id\":\"s0001\",\"text\":\"x\"}\n",
       "key 'user_id' appears twice", 65},
      {"nul.jsonl", "{\"user_id\":\"u\",\"item_id\":\"s0001\",\"text\":\"a\\u0000b\"}\n", "contains a NUL byte", 65},
      {"unknown.csv", "user_id,item_id,text\nu,nope,x\n", "item_id 'nope' is not among the workspace's items", 65},
      {"quoted.jsonl", "{\"user_id\":\"u\",\"item_id\":\"s0001\",\"text\":\"x\",\"rating\":\"4\"}\n",
       "JSON strings read as numbers: 1 rating", 0},
  };
  for (const Case& c : cases) {
    WriteFile(dir / c.name, c.content);
    RunResult v = RunAvrec({"validate", "-w", ws, "--reviews", dir / c.name});
    RunResult i = RunAvrec({"ingest", "-w", ws, "--reviews", dir / c.name});
    EXPECT_EQ(v.exit_code, c.code) << c.name << ": " << v.err;
    EXPECT_EQ(i.exit_code, c.code) << c.name << ": " << i.err;
    EXPECT_NE(v.err.find(c.message), std::string::npos) << c.name << ": " << v.err;
    EXPECT_NE(i.err.find(c.message), std::string::npos) << c.name << ": " << i.err;
  }
  RunResult r = RunAvrec({"validate", "--items", kItems, "--numeric", "visual.dominant_colour", "--categorical",
                          "visual.dominant_colour"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("declared both numeric and categorical"), std::string::npos) << r.err;
  r = RunAvrec({"validate", "--reviews", kReviews});
  EXPECT_NE(r.err.find("item ids not checked"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace avrec
