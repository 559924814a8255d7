// What ranking needs to know about items beyond their vectors: who reviewed
// them (popularity, histories), what reviewers felt (quality), which are
// candidates, and the per-item weight of docs/model.md.
#pragma once

#include <string>
#include <vector>

#include "avrec/features.h"
#include "avrec/profile.h"
#include "avrec/recommend.h"

namespace avrec {

struct ItemStats {
  std::vector<std::vector<int>> user_items;  // per profile user: distinct item rows, ascending
  std::vector<double> popularity;            // per item row: distinct reviewers
  std::vector<double> quality;               // per item row: mean feeling of its reviews; 0 without
  double users = 1;                          // number of profile users, at least 1
};

// Counts from the profiles' histories. Quality is computed only when
// `with_quality` (it costs a pass over every review).
ItemStats ComputeItemStats(const Profiles& profiles, int n_items, bool with_quality);

// Candidate item rows, ascending: the catalogue, within `allow` when it is
// not empty, minus `deny`. Unknown ids are ignored.
std::vector<int> SelectCandidates(const ItemMatrix& items, const std::vector<std::string>& allow,
                                  const std::vector<std::string>& deny);

// Weight of each candidate (same order), >= 0:
// 1 + popularity, novelty and quality terms (RecommendOptions).
std::vector<double> ItemWeights(const ItemStats& stats, const std::vector<int>& candidates,
                                const RecommendOptions& options);

// For each ranked user (profile rows `users`), the candidate columns to skip
// (seen items unless include_seen), ascending.
std::vector<std::vector<int>> Exclusions(const ItemStats& stats, const std::vector<int>& users,
                                         const std::vector<int>& candidates, int n_items, bool include_seen);

}  // namespace avrec
