// Small text helpers shared by every module: trimming, strict number
// parsing, and making untrusted text safe to print in a message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
// Also escapes the C1 controls U+0080..U+009F, and \' and \\.
std::string EscapeForMessage(std::string_view s, size_t max_chars = 80);

// A line for a terminal or a log file: `text` whole, with the bytes a
// terminal would act on (control bytes, C1 controls, invalid UTF-8) escaped
// as EscapeForMessage writes them, quotes and backslashes kept. Every line
// avrec writes to stderr in text form passes through it, so a file name or
// id holding a line break or an escape sequence stays in one plain line.
std::string EscapeControls(std::string_view text);

// `word` as one word of a shell command a message prints to be pasted: as
// it is where every byte is a letter, a digit, one of -_./=:,+@% or part of
// a UTF-8 character; otherwise in single quotes, a quote inside written
// '\''. Control bytes stay for EscapeControls to show.
std::string ShellWord(std::string_view word);

// "1 rating", "2 ratings": a count and a noun that takes an 's' in the plural.
std::string CountOf(int64_t n, std::string_view noun);

// Names for a message, each escaped: "'a', 'b', 'c'"; past `max_names`,
// "... and N more".
std::string JoinForMessage(const std::vector<std::string>& names, size_t max_names, size_t max_chars_each = 40);

// Levenshtein distance between two byte strings (for "did you mean").
size_t EditDistance(std::string_view a, std::string_view b);

// Whether a name `d` edits away from one `length` bytes long reads as a
// misspelling of it rather than another name: at most a third of the name
// changed, or 3 edits, and never half of it (so 'a' suggests nothing).
bool IsNearMisspelling(size_t d, size_t length);

// The name of `known` nearest `name` when it is a near misspelling of it
// (IsNearMisspelling against the longer of the two), else empty.
std::string NearestName(const std::string& name, const std::vector<std::string>& known);

// ---- sentences and languages (reasons people read) ---------------------------

// Decodes the code point at *pos and advances past it; an invalid byte reads
// as U+FFFD and advances by one. False at the end.
bool NextCodePoint(std::string_view s, size_t* pos, char32_t* cp);

// CJK ideographs (the unified blocks and extension A, compatibility forms).
bool IsCjkIdeograph(char32_t cp);

// The sentences of a review: split after . ! ? followed by a blank or the
// end, after 。！？；… and at line breaks; trimmed, empty ones dropped.
std::vector<std::string> SplitSentences(std::string_view text);

// `text` cut to at most `max_chars` code points, at a word boundary where
// there is one near the end, with "…" appended when cut.
std::string ShortSnippet(std::string_view text, size_t max_chars);

// "zh" when CJK ideographs carry the text (at least two, and at least a third
// as many as Latin letters), "en" when Latin letters do, "" for neither.
std::string TextLanguage(std::string_view text);

}  // namespace avrec
