// The analyst's report: one self-contained HTML file (inline CSS, SVG drawn
// by a small inline script, no network) with an overview, the sentiment
// model against the stars, the recommendations' coverage, long tail,
// diversity and warnings, a per-user drill-down with search, and optionally
// the night-over-night changes. docs/report.md describes every figure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "avrec/data.h"
#include "avrec/output.h"
#include "avrec/recommend.h"

namespace avrec {

struct ReportOptions {
  int max_users = 300;             // users in the drill-down; beyond, a stable-hash sample
  int reviews_per_user = 12;       // latest reviews shown per user
  int snippet_chars = 120;         // review text shown, in characters
  int max_diversity_lists = 5000;  // lists whose diversity is measured (a stable-hash sample beyond)
};

// The recommendations a report is about, and optionally last night's: read
// first, so that a malformed file fails before the reviews are loaded.
struct ReportLists {
  std::string path;                        // the recommendations (JSON or JSON Lines, avrec's)
  std::vector<UserRecommendations> users;  // every user, in file order; the words only for the first whole_users
  RecommendationLists lists;               // the same lists as item ids
  std::string previous_path;               // last night's, or "" for no comparison
  std::optional<RecommendationLists> previous;
};

// Throws Error(kNoInput / kDataErr) naming the file for an unreadable or
// malformed one. `whole_users`: the users whose reasons and explanations
// are kept (the drill-down's, ReportOptions::max_users); the others keep
// their flags and ranked items (ReadRecommendationLists).
ReportLists ReadReportLists(const std::string& path, const std::string& previous_path, size_t whole_users = SIZE_MAX);

struct ReportInputs {
  ItemTable items;
  std::vector<Review> reviews;
  std::unordered_map<std::string, double> sentiment;  // review_id -> score in [-1, 1]; empty: not scored
  std::string sentiment_model;                        // name, for the overview
  ReportLists recs;
  nlohmann::json manifest;  // the run manifest, or null
  // False when the manifest's outputs do not include the recommendations
  // file as it is now (another run's manifest): the page says so.
  bool manifest_matches = true;
};

// Builds the report.
std::string RenderReport(const ReportInputs& in, const ReportOptions& options);

// The data the page draws, as a JSON object (RenderReport embeds it).
nlohmann::ordered_json ReportData(const ReportInputs& in, const ReportOptions& options);

}  // namespace avrec
