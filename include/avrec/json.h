// Parsing JSON from untrusted input (data files, config files, model
// manifests): nesting depth bounded, numbers beyond double's range and
// repeated keys rejected, messages free of raw control bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "avrec/error.h"

namespace avrec {

// Deepest nesting of arrays and objects accepted (records and configs need
// a handful of levels; 100,000 levels would overflow the stack of code that
// walks the tree).
constexpr int kMaxJsonDepth = 64;

// Parses `text` as one JSON value. Returns false with a one-line reason in
// *error when it is not valid JSON, nests deeper than kMaxJsonDepth, holds a
// number beyond the range of double, or repeats a key within one object.
bool ParseJson(std::string_view text, nlohmann::json* out, std::string* error);

// ParseJson, throwing Error(code) "PATH: reason" on failure (an empty or
// blank file is "PATH: the file is empty ...").
nlohmann::json ParseJsonDocument(std::string_view text, const std::string& path, ExitCode code);

// ParseJson's reasons that readers of JSON share: nesting past
// kMaxJsonDepth, a key repeated in one object.
std::string JsonDepthText();
std::string JsonDuplicateKeyText(const std::string& key);

}  // namespace avrec
