// Small text helpers shared by every module: trimming, strict number
// parsing, and making untrusted text safe to print in a message.
#pragma once

#include <string>
#include <string_view>

namespace avrec {

// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view Trim(std::string_view s);

// Parses a finite decimal number (leading/trailing blanks allowed). NaN,
// infinities, hex floats and numbers beyond the range of double are rejected.
bool ParseFiniteDouble(std::string_view s, double* out);

// Parses a whole decimal integer that fits an int (blanks allowed around it).
bool ParseInt(std::string_view s, int* out);

// `s` quoted for an error message: at most `max_chars` bytes (cut at a UTF-8
// boundary, "..." appended), control bytes and invalid UTF-8 written as
// \n, \t, \0, \xHH, so a message never carries raw NULs or escape sequences.
std::string EscapeForMessage(std::string_view s, size_t max_chars = 80);

}  // namespace avrec
