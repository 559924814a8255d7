#include "avrec/io.h"
#include "avrec/text.h"

namespace avrec {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when the
// bytes there are ill-formed. *maximal receives the length of the maximal
// subpart to replace by one U+FFFD (Unicode §3.9, Table 3-7).
size_t SequenceLength(std::string_view s, size_t i, size_t* maximal) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  *maximal = 1;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    unsigned char d = b(i + k);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (d < l || d > h) return 0;
    *maximal = k + 1;
  }
  return need + 1;
}

}  // namespace

bool IsValidUtf8(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    // Fast path for ASCII runs.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t maximal;
    size_t n = SequenceLength(s, i, &maximal);
    if (n == 0) {
      if (bad_offset != nullptr) *bad_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

void AppendUtf8(uint32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string GuessLegacyEncoding(std::string_view s) {
  // Text has no control bytes but tab and line ends: binary data is no
  // encoding's. Nor has Windows-1252 text the five bytes it leaves undefined.
  bool cp1252 = true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return "";
    cp1252 = cp1252 && c != 0x81 && c != 0x8D && c != 0x8F && c != 0x90 && c != 0x9D;
  }
  // UTF-8 with a few bad bytes (a character cut, one stray byte) is not
  // another encoding: four in five of its bytes above 0x7F still form
  // characters. (A legacy text forms some by chance: GBK's 0xDC 0xBF.)
  size_t in_utf8 = 0, bad = 0;
  for (size_t i = 0, maximal; i < s.size();) {
    const size_t n = SequenceLength(s, i, &maximal);
    if (n > 1) in_utf8 += n;
    if (n == 0) bad += maximal;
    i += n > 0 ? n : maximal;
  }
  if (bad == 0 || bad * 4 <= in_utf8) return "";
  const auto b = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; };
  const auto in = [](unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; };
  // Read as GBK/GB18030: a byte above 0x7F starts a character of two bytes
  // (the second 0x40-0x7E or 0x80-0xFE) or four (byte, digit, byte, digit).
  size_t chars = 0, in_runs = 0;  // characters; those next to another
  size_t low_seconds = 0;         // two-byte characters whose second byte is 0x40-0x7E
  bool gbk = true, big5 = true;   // every character is one of GBK's; of Big5's
  size_t last_end = SIZE_MAX;     // where the last character ended
  bool last_counted = false;      // it was counted as next to another
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = b(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    if (in(c, 0x81, 0xFE) && in(b(i + 1), 0x30, 0x39) && in(b(i + 2), 0x81, 0xFE) && in(b(i + 3), 0x30, 0x39)) {
      len = 4;
      big5 = false;
    } else if (in(c, 0x81, 0xFE) && (in(b(i + 1), 0x40, 0x7E) || in(b(i + 1), 0x80, 0xFE))) {
      len = 2;
      low_seconds += b(i + 1) <= 0x7E ? 1 : 0;
      big5 = big5 && in(c, 0xA1, 0xF9) && (b(i + 1) <= 0x7E || b(i + 1) >= 0xA1);
    }
    if (len == 0) {
      gbk = false;
      ++i;
      continue;
    }
    ++chars;
    if (i == last_end) {
      in_runs += last_counted ? 1 : 2;
      last_counted = true;
    } else {
      last_counted = false;
    }
    last_end = i + len;
    i += len;
  }
  // Chinese comes in runs of characters; a Western European letter stands
  // among ASCII ones, even where it and the next letter pass for a
  // character ("M\xFCller"). Simplified Chinese in GB2312's range never has
  // a second byte below 0xA1; Big5 has one in 0x40-0x7E in about two
  // characters of five.
  if (gbk && chars > 0 && in_runs * 2 >= chars) return big5 && low_seconds * 5 >= chars ? "Big5" : "GB18030";
  return cp1252 ? "Windows-1252" : "";
}

std::string ConvertCommand(const std::string& encoding, const std::string& path) {
  return "iconv -f " + encoding + " -t UTF-8 " + ShellWord(path) + " > converted";
}

std::string SanitizeUtf8(std::string_view s, size_t* replaced) {
  std::string out;
  out.reserve(s.size());
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t maximal;
    size_t n = SequenceLength(s, i, &maximal);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++count;
      i += maximal;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  if (replaced != nullptr) *replaced = count;
  return out;
}

}  // namespace avrec
