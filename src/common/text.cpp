#include "avrec/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace avrec {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

bool ParseFiniteDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  // from_chars accepts "nan"/"inf" spellings; reject anything but digits here.
  char f = s.front() == '-' && s.size() > 1 ? s[1] : s.front();
  if (!((f >= '0' && f <= '9') || f == '.')) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool ParseInt(std::string_view s, int* out) {
  s = Trim(s);
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return false;
  *out = v;
  return true;
}

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || (n > 1 && c < 0xC2) || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

std::string JoinForMessage(const std::vector<std::string>& names, size_t max_names, size_t max_chars_each) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_names; ++i) {
    out += (i == 0 ? "" : ", ") + EscapeForMessage(names[i], max_chars_each);
  }
  if (names.size() > max_names) out += " and " + std::to_string(names.size() - max_names) + " more";
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool IsNearMisspelling(size_t d, size_t length) { return d <= std::max<size_t>(3, length / 3) && 2 * d <= length; }

std::string NearestName(const std::string& name, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max(), best_len = 0;
  for (const auto& k : known) {
    // One more than twice as long as the other is never near (d is at least
    // the difference): skip the distance, which a hostile name makes slow.
    if (name.size() > 2 * k.size() || k.size() > 2 * name.size()) continue;
    const size_t d = EditDistance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
      best_len = std::max(name.size(), k.size());
    }
  }
  return !best.empty() && IsNearMisspelling(best_d, best_len) ? best : "";
}

namespace {

// Appends `s` to *out with the bytes a terminal acts on escaped: C0 controls
// and DEL (\n, \t, \r, \0, else \xHH), the C1 controls U+0080..U+009F
// (a UTF-8 terminal may read U+009B as the start of an escape sequence) and
// bytes that are not UTF-8, as \xHH each. `quoted`: also \' and \\, so
// the text reads back unambiguously between quotes. Stops before the byte
// that would take the escaped text past `max_bytes`; returns whether it cut.
bool AppendEscaped(std::string_view s, size_t max_bytes, bool quoted, std::string* out) {
  const size_t begin = out->size();
  for (size_t i = 0; i < s.size();) {
    if (out->size() - begin >= max_bytes) return true;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = Utf8Length(s, i);
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (n > 1 && !c1) {
      out->append(s.substr(i, n));
      i += n;
      continue;
    }
    const size_t shown = c1 ? 2 : 1;
    for (size_t k = 0; k < shown; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      const char* named = b == '\n'             ? "\\n"
                          : b == '\t'           ? "\\t"
                          : b == '\r'           ? "\\r"
                          : b == '\0'           ? "\\0"
                          : quoted && b == '\'' ? "\\'"
                          : quoted && b == '\\' ? "\\\\"
                                                : nullptr;
      if (named != nullptr) {
        *out += named;
      } else if (n == 1 && b >= 0x20 && b != 0x7F) {
        *out += static_cast<char>(b);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", b);
        *out += buf;
      }
    }
    i += shown;
  }
  return false;
}

}  // namespace

std::string EscapeForMessage(std::string_view s, size_t max_chars) {
  std::string out = "'";
  if (AppendEscaped(s, max_chars, /*quoted=*/true, &out)) out += "...";
  return out + "'";
}

std::string CountOf(int64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string ShellWord(std::string_view word) {
  const auto plain = [](unsigned char c) {
    return std::isalnum(c) != 0 || c >= 0x80 ||
           std::string_view("-_./=:,+@%").find(static_cast<char>(c)) != std::string_view::npos;
  };
  if (!word.empty() && std::all_of(word.begin(), word.end(), [&](char c) { return plain(c); })) {
    return std::string(word);
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string EscapeControls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(text, std::string::npos, /*quoted=*/false, &out);
  return out;
}

bool NextCodePoint(std::string_view s, size_t* pos, char32_t* cp) {
  if (*pos >= s.size()) return false;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(*pos);
  int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  char32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < n; ++k) {
    if (*pos + static_cast<size_t>(k) >= s.size() || (byte(*pos + static_cast<size_t>(k)) >> 6) != 0x2) {
      n = 0;
      break;
    }
    v = (v << 6) | (byte(*pos + static_cast<size_t>(k)) & 0x3F);
  }
  if (n == 0) {
    *cp = 0xFFFD;
    *pos += 1;
    return true;
  }
  *cp = v;
  *pos += static_cast<size_t>(n);
  return true;
}

bool IsCjkIdeograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x2FA1F);
}

std::vector<std::string> SplitSentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0, pos = 0;
  const auto cut = [&](size_t end) {
    const std::string_view t = Trim(text.substr(start, end - start));
    if (!t.empty()) out.emplace_back(t);
    start = end;
  };
  char32_t cp = 0;
  while (NextCodePoint(text, &pos, &cp)) {
    const bool cjk_end = cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF1B || cp == 0x2026;
    const bool latin_end = (cp == '.' || cp == '!' || cp == '?') &&
                           (pos >= text.size() || text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t');
    if (cp == '\n' || cp == '\r') {
      cut(pos - 1);
    } else if (cjk_end || latin_end) {
      // Runs of closing marks stay with their sentence ("!!", "。。。", "…").
      size_t next = pos;
      char32_t more = 0;
      while (next < text.size()) {
        size_t probe = next;
        NextCodePoint(text, &probe, &more);
        if (!(more == '.' || more == '!' || more == '?' || more == 0x3002 || more == 0xFF01 || more == 0xFF1F ||
              more == 0x2026 || more == 0x201D || more == '"' || more == 0x300D)) {
          break;
        }
        next = probe;
      }
      pos = next;
      cut(pos);
    }
  }
  cut(text.size());
  return out;
}

std::string ShortSnippet(std::string_view text, size_t max_chars) {
  std::vector<size_t> starts;  // byte offset of each code point
  size_t pos = 0;
  char32_t cp = 0;
  while (starts.size() <= max_chars) {
    const size_t at = pos;
    if (!NextCodePoint(text, &pos, &cp)) break;
    starts.push_back(at);
  }
  if (starts.size() <= max_chars) return std::string(text);
  size_t end = starts[max_chars - 1];  // room for the "…"
  // A blank in the last third: cut there, not inside a word.
  for (size_t k = max_chars - 1; k > max_chars * 2 / 3; --k) {
    if (text[starts[k]] == ' ') {
      end = starts[k];
      break;
    }
  }
  return std::string(Trim(text.substr(0, end))) + "\u2026";
}

std::string TextLanguage(std::string_view text) {
  size_t pos = 0, cjk = 0, latin = 0;
  char32_t cp = 0;
  while (NextCodePoint(text, &pos, &cp)) {
    cjk += IsCjkIdeograph(cp);
    latin += (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  if (cjk >= 2 && cjk * 3 >= latin) return "zh";
  return latin > 0 ? "en" : "";
}

}  // namespace avrec
