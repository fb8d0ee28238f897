#pragma once
// UTF-8 decoding shared by every check of text from outside (configs, databases, workers).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace hpt {

// The code point of the UTF-8 sequence starting at text[i] and its length in bytes (1 to 4);
// length 0 if the bytes there are not valid UTF-8: a stray continuation byte, a truncated
// sequence, an overlong form, a surrogate or a value beyond U+10FFFF. Requires i < text.size().
std::pair<char32_t, size_t> decode_utf8(std::string_view text, size_t i);

// Number of Unicode code points in UTF-8 text (what PostgreSQL's VARCHAR(n) counts): the
// bytes that do not continue a sequence.
size_t utf8_length(std::string_view text);

// The columns UTF-8 text takes in a terminal, about as wcwidth(3) counts them: East Asian wide
// and fullwidth characters (CJK, Hangul syllables, fullwidth forms, most emoji) take 2; the
// combining marks of the common scripts (utf8.cpp lists the blocks), Hangul Jamo vowels,
// variation selectors and zero-width spaces 0; anything else (an invalid byte too) 1.
size_t display_width(std::string_view text);

// text followed by the spaces that make it `width` columns wide (display_width; none when it
// is wider): how a table column is padded.
std::string pad_to(std::string_view text, size_t width);

// The longest prefix of text at most max_bytes long that does not end inside a UTF-8
// sequence: how a name or message is cut for display without leaving half a character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

// text, or when longer than max_bytes its utf8_prefix followed by "...": a long value quoted in
// a one-line message.
std::string shortened(std::string_view text, size_t max_bytes);

// text with each byte that is not part of valid UTF-8 (decode_utf8) replaced by U+FFFD: how a
// name from outside (a file name, a class folder) is shown in JSON, TSV or HTML.
std::string valid_utf8(std::string_view text);

}  // namespace hpt
