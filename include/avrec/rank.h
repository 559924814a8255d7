// Top-k selection over users x items, exact and deterministic.
//
// Scores are first computed in float for a block of users against all items
// (a GEMM for cosine similarity), never materialising the full users x items
// matrix; a partial selection keeps the best candidates of each user; their
// scores are then recomputed exactly (double, fixed order) and the final
// order is (exact score descending, item row ascending). A candidate margin
// derived from float rounding bounds guarantees that the result is the exact
// top-k, so output does not depend on block sizes, thread counts or shards.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "avrec/features.h"

namespace avrec {

namespace kernel {
struct PackedItems;
}

struct Scored {
  int item = -1;     // candidate column (see TopKOptions::candidates)
  double score = 0;  // exact score
};

// The ranking order: score descending, then item ascending.
inline bool RanksBefore(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Scores of users against candidate items.
class ScoreSource {
 public:
  virtual ~ScoreSource() = default;
  virtual int users() const = 0;
  virtual int items() const = 0;
  // Float scores of users [begin, end) against every item: out is
  // (end - begin) x items(), row-major. Called from worker threads.
  virtual void Block(int begin, int end, float* out) const = 0;
  // The exact score of one pair.
  virtual double Exact(int user, int item) const = 0;
  // Bound on |float score - exact score|.
  virtual double Margin() const = 0;
};

struct TopKOptions {
  int k = 10;
  int block_users = 256;  // users per block: memory is block_users x items floats per thread
  int threads = 1;
};

// For every user (in order) calls sink(user, best) with at most k items,
// best first. `excluded(user)` lists candidate items the user must not get
// (sorted ascending; may be empty). Sinks are called in user order, from the
// calling thread.
void SelectTopK(const ScoreSource& source, const TopKOptions& options,
                const std::function<const std::vector<int>&(int user)>& excluded,
                const std::function<void(int user, const std::vector<Scored>& best)>& sink);

// The float kernel CosineSource uses on this CPU: "avx512" (chosen at run
// time where the CPU has it) or "eigen" (the build's ISA; AVREC_ISA=avx2
// forces it).
std::string CosineKernelName();

// As SelectTopK, for output text: `format` appends a user's line(s) to *out
// on the worker thread that ranked the user (so formatting runs in parallel
// too); `write` receives the text of a block of users at a time, in user
// order, on the calling thread.
void SelectTopKText(const ScoreSource& source, const TopKOptions& options,
                    const std::function<const std::vector<int>&(int user)>& excluded,
                    const std::function<void(int user, const std::vector<Scored>& best, std::string* out)>& format,
                    const std::function<void(const std::string& text)>& write);

// Cosine similarity of user rows against item rows, times a per-item weight
// (>= 0; empty: 1). Rows of either matrix may be zero (similarity 0).
class CosineSource : public ScoreSource {
 public:
  CosineSource(const RowMatrix& users, const RowMatrix& items, std::vector<double> item_weight = {});
  ~CosineSource() override;
  int users() const override { return static_cast<int>(users_.rows()); }
  int items() const override { return static_cast<int>(items_.rows()); }
  void Block(int begin, int end, float* out) const override;
  double Exact(int user, int item) const override;
  double Margin() const override { return margin_; }

 private:
  const RowMatrix& users_;
  const RowMatrix& items_;
  RowMatrix users_unit_, items_scaled_;  // unit rows; items also times weight
  // items_scaled_ in panels where the AVX-512 kernel runs (items_scaled_ is
  // then released); null where Eigen's GEMM runs.
  std::unique_ptr<kernel::PackedItems> packed_;
  std::vector<double> user_inv_norm_, item_inv_norm_, weight_;
  double margin_ = 0;
};

}  // namespace avrec
