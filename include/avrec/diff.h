// Night-over-night comparison of two recommendation files: who was added or
// removed, how much each user's top k changed (overlap, rank-biased
// overlap), churn, catalogue coverage, popularity drift, the items that
// entered or left most lists and the users that moved most.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "avrec/output.h"

namespace avrec {

struct DiffOptions {
  int k = 10;
  double rbo_p = 0.9;  // persistence of rank-biased overlap
  int top = 10;        // items and users listed in each ranking of the report
};

// Rank-biased overlap (Webber, Moffat, Zobel 2010), extrapolated, of two
// lists cut at depth k: 1 for identical lists, 0 for disjoint ones. Lists of
// two lengths are compared to the longer one's depth (the paper's RBO_ext
// for uneven lists: the shorter is taken to go on agreeing at its rate).
double RankBiasedOverlap(const std::vector<std::string>& a, const std::vector<std::string>& b, int k, double p);

// The comparison as a JSON object (docs/nightly.md lists its fields). Item
// popularity: in how many users' top k an item is, per file.
nlohmann::ordered_json DiffRecommendations(const RecommendationLists& old_lists, const RecommendationLists& new_lists,
                                           const DiffOptions& options);

// A threshold such as "churn>0.3" or "ndcg@10<0.2": FIELD, then >, <, >=
// or <=, then a number (spaces around either are allowed). `diff --fail-if`
// and `evaluate --fail-if` check theirs against the fields of the object
// they print.
struct Threshold {
  std::string field;      // lower case
  char op = '>';          // '>' or '<'
  bool or_equal = false;  // >= or <=
  double limit = 0;
};
// Error(kUsage) for a malformed threshold.
Threshold ParseThreshold(const std::string& text);
// True when `threshold` holds against `summary` (the check fails), with
// what was compared in `description`. A field that is null (nothing to
// measure) holds too: a gate that cannot be checked does not pass.
// Error(kUsage) for a malformed threshold or a field `summary` lacks; the
// latter's message ends with what `missing_field_hint` says of the field (a
// command's word on when it has one), if anything.
using MissingFieldHint = std::function<std::string(const nlohmann::ordered_json& summary, const std::string& field)>;
bool ThresholdHolds(const nlohmann::ordered_json& summary, const std::string& threshold, std::string* description,
                    const MissingFieldHint& missing_field_hint = {});
// Checks every threshold, logs each that holds as "<command>: <description>
// (--fail-if <threshold>)", and returns how many held.
int FailedThresholds(const std::string& command, const nlohmann::ordered_json& summary,
                     const std::vector<std::string>& thresholds, const MissingFieldHint& missing_field_hint = {});
// Error(kUsage), as ThresholdHolds, for the first of `thresholds` that is
// malformed or names no field of `fields` (a command's fields before its
// inputs are read; their values are not compared).
void CheckThresholdFields(const nlohmann::ordered_json& fields, const std::vector<std::string>& thresholds,
                          const MissingFieldHint& missing_field_hint = {});

}  // namespace avrec
