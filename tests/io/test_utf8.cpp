#include <catch2/catch.hpp>

#include "hpt/io/utf8.hpp"

using hpt::decode_utf8;
using hpt::utf8_length;

// One to four byte sequences decode to their code point and length.
TEST_CASE("decode_utf8 decodes valid sequences", "[io]") {
  CHECK(decode_utf8("a", 0) == std::pair<char32_t, size_t>{U'a', 1});
  CHECK(decode_utf8("\xc3\xa9", 0) == std::pair<char32_t, size_t>{0xE9, 2});
  CHECK(decode_utf8("\xe2\x82\xac", 0) == std::pair<char32_t, size_t>{0x20AC, 3});
  CHECK(decode_utf8("\xf0\x9f\x98\x80", 0) == std::pair<char32_t, size_t>{0x1F600, 4});
}

// Overlong forms, surrogates, values past U+10FFFF, stray and truncated bytes are invalid.
TEST_CASE("decode_utf8 refuses invalid sequences", "[io]") {
  for (const char* bad : {"\xc0\x80", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80",
                          "\xc3", "\xe2\x82", "\xff"}) {
    CHECK(decode_utf8(bad, 0).second == 0);
  }
}

// Code points, not bytes: what a VARCHAR(n) column counts.
TEST_CASE("utf8_length counts code points", "[io]") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80") == 5);
}

TEST_CASE("utf8_prefix never ends inside a character", "[io]") {
  using hpt::utf8_prefix;
  CHECK(utf8_prefix("abc", 2) == "ab");
  CHECK(utf8_prefix("abc", 10) == "abc");
  CHECK(utf8_prefix("", 3).empty());
  const std::string euros = "\xe2\x82\xac\xe2\x82\xac";  // Two 3-byte characters.
  CHECK(utf8_prefix(euros, 3) == "\xe2\x82\xac");
  CHECK(utf8_prefix(euros, 4) == "\xe2\x82\xac");  // Not half of the second euro.
  CHECK(utf8_prefix(euros, 2).empty());
  CHECK(utf8_prefix(euros, 6) == euros);
}

// Each byte that is not part of valid UTF-8 becomes U+FFFD; valid text is kept as it is.
// shortened: the text when it fits, else a prefix that keeps whole characters and "...".
TEST_CASE("shortened", "[io]") {
  CHECK(hpt::shortened("abc", 3) == "abc");
  CHECK(hpt::shortened("abcd", 3) == "abc...");
  CHECK(hpt::shortened("a\xc3\xa9" "b", 2) == "a...");  // Not half of é.
}

TEST_CASE("valid_utf8 replaces invalid bytes", "[io]") {
  CHECK(hpt::valid_utf8("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");
  CHECK(hpt::valid_utf8("inv\xff.png") == "inv\xef\xbf\xbd.png");
  CHECK(hpt::valid_utf8("cut \xe2\x82") == "cut \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(hpt::valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // A surrogate.
  CHECK(hpt::valid_utf8(std::string_view("a\0b", 3)) == std::string("a\0b", 3));
  CHECK(hpt::valid_utf8("").empty());
}

// Terminal columns: wide CJK/Hangul/fullwidth/emoji 2, combining marks 0; tables pad by them
// (by bytes, "学习率" padded as 9 columns and a column of them came out ragged).
TEST_CASE("display_width and pad_to count terminal columns", "[io]") {
  CHECK(hpt::display_width("") == 0);
  CHECK(hpt::display_width("lr") == 2);
  CHECK(hpt::display_width("\u5b66\u4e60\u7387") == 6);  // 学习率
  CHECK(hpt::display_width("\ud559\uc2b5") == 4);        // 학습 (Hangul)
  CHECK(hpt::display_width("\uff21") == 2);              // Fullwidth A.
  CHECK(hpt::display_width("\U0001F600") == 2);          // An emoji.
  CHECK(hpt::display_width("e\u0301") == 1);             // e + combining acute.
  CHECK(hpt::display_width("caf\u00e9") == 4);           // é precomposed.
  CHECK(hpt::display_width("a\xff") == 2);               // An invalid byte: 1.
  CHECK(hpt::display_width("\u0915\u093f") == 2);        // कि: a spacing vowel sign.
  CHECK(hpt::display_width("\u05e9\u05c1") == 1);        // Hebrew shin + its dot.
  CHECK(hpt::display_width("\U0001F680") == 2);          // 🚀
  CHECK(hpt::pad_to("\u5b66\u4e60", 6) == "\u5b66\u4e60  ");
  CHECK(hpt::pad_to("abc", 2) == "abc");
  CHECK(hpt::pad_to("caf\u00e9", 6) == "caf\u00e9  ");
}
