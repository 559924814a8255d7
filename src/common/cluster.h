// The processes of one run: a single process, or the ranks mpirun started
// (Open MPI through the plugin libavrec_mpi.so, loaded only then). Stages
// split their work by rank; rank 0 alone writes files and the workspace
// (docs/scale.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace avrec {

class Cluster {
 public:
  // The run's cluster. Init() must have been called for MPI runs; until
  // then (and in programs that never call it) a single process.
  static Cluster& Get();
  // Joins the MPI world when this process was started by mpirun (its
  // environment says so), else stays a single process. Throws
  // Error(kSoftware) when the plugin cannot be loaded or MPI fails.
  static void Init();
  // Leaves the MPI world (normal end of the program).
  static void Finalize();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  bool distributed() const { return size_ > 1; }

  void Barrier() const;
  // Every rank's bytes, in rank order, on rank 0; an empty vector elsewhere.
  std::vector<std::string> Gather(const std::string& mine) const;
  // Rank 0's `data` on every rank.
  std::string Broadcast(const std::string& data) const;
  // Ends every rank of the run with `code` (after a failure on this one).
  [[noreturn]] void Abort(int code) const;

 private:
  int rank_ = 0, size_ = 1;
};

// Byte packing for the messages (host byte order: the ranks of one run share
// an architecture).
void PackU64(std::string* out, uint64_t v);
void PackString(std::string* out, const std::string& s);
void PackFloats(std::string* out, const float* v, size_t n);
class Unpacker {
 public:
  explicit Unpacker(std::string bytes) : s_(std::move(bytes)) {}
  uint64_t U64();
  std::string String();
  void Floats(float* v, size_t n);
  bool done() const { return pos_ == s_.size(); }

 private:
  void Need(size_t n) const;
  std::string s_;
  size_t pos_ = 0;
};

}  // namespace avrec
