// Helpers shared by the tests: temporary folders, files, and running the
// built avrec binary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace avrec::test {

// A fresh folder under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& bytes);
// The lines of `text`, without their terminators.
std::vector<std::string> SplitLines(const std::string& text);
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);

struct RunResult {
  int exit_code = -1;  // -1000 - signal when killed by a signal
  std::string out, err;
};

// Runs build/avrec with `args` (stdin from `input`), waiting for it.
RunResult RunAvrec(const std::vector<std::string>& args, const std::string& input = "",
                   const std::vector<std::string>& env = {});

// Runs any program (argv[0] looked up in PATH) the same way.
RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input = "",
                     const std::vector<std::string>& env = {});
std::string AvrecBinary();

// Starts build/avrec with `args` (stdin /dev/null, stdout and stderr to
// /dev/null) without waiting; returns its pid.
int SpawnAvrec(const std::vector<std::string>& args);

// The first column of the first row of a query on an SQLite file (-1 / ""
// when there is no row).
int64_t QueryInt(const std::string& db_path, const std::string& sql);
std::string QueryText(const std::string& db_path, const std::string& sql);

// Path of a file under the source tree.
std::string SourcePath(const std::string& rel);
// ../shared/data, or "" when absent.
std::string SharedData();

// Inputs many tests share: the bundled sample and the tiny test models.
inline const std::string kReviews = SourcePath("data/sample/reviews.csv");
inline const std::string kItems = SourcePath("data/sample/items.csv");
inline const std::string kTinySentiment = SourcePath("tests/data/tiny-sentiment");
inline const std::string kTinyEmbedding = SourcePath("tests/data/tiny-embedding");

}  // namespace avrec::test
