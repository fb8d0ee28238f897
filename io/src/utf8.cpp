#include "hpt/io/utf8.hpp"

#include <algorithm>

namespace hpt {

std::pair<char32_t, size_t> decode_utf8(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  const size_t len = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
  if (len == 0 || i + len > text.size()) {
    return {0, 0};
  }
  char32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) >> 6) != 0x2) {
      return {0, 0};
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < k_min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {0, 0};
  }
  return {cp, len};
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  size_t cut = std::min(text.size(), max_bytes);
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return text.substr(0, cut);
}

std::string shortened(std::string_view text, size_t max_bytes) {
  return text.size() > max_bytes ? std::string(utf8_prefix(text, max_bytes)) + "..."
                                 : std::string(text);
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = decode_utf8(text, i).second;
    out += len == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(i, len);
    i += len == 0 ? 1 : len;
  }
  return out;
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  return n;
}

namespace {

struct Range {
  char32_t first, last;
};

// Unicode's East Asian Wide (W) and Fullwidth (F) blocks, as Markus Kuhn's wcwidth.
constexpr Range k_wide[] = {
    {0x1100, 0x115F},   {0x2329, 0x232A},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
    {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},
    {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF},
    {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD}};
// Combining marks (Latin, Cyrillic, Hebrew, Arabic, Devanagari and the generic blocks), Hangul
// Jamo vowels and finals (they join the initial before them), zero-width spaces, joiners and
// invisible operators, variation selectors.
constexpr Range k_zero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x0951, 0x0957},
    {0x0962, 0x0963}, {0x1160, 0x11FF}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF}};

template <size_t N>
bool in(const Range (&ranges)[N], char32_t c) {
  for (const Range& r : ranges) {
    if (c >= r.first && c <= r.last) {
      return true;
    }
  }
  return false;
}

}  // namespace

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const auto [c, len] = decode_utf8(text, i);
    width += len == 0 ? 1 : in(k_zero, c) ? 0 : in(k_wide, c) ? 2 : 1;
    i += len == 0 ? 1 : len;
  }
  return width;
}

std::string pad_to(std::string_view text, size_t width) {
  const size_t w = display_width(text);
  std::string out(text);
  out.append(w < width ? width - w : 0, ' ');
  return out;
}

}  // namespace hpt
