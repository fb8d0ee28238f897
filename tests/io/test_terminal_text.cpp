#include <catch2/catch.hpp>

#include "hpt/io/terminal_text.hpp"

using hpt::terminal_text;

// Printable ASCII and UTF-8 text of any script pass unchanged.
TEST_CASE("terminal_text keeps printable text", "[io]") {
  CHECK(terminal_text("lr=0.1 {\"a\": [1, 2]} \\ ok") == "lr=0.1 {\"a\": [1, 2]} \\ ok");
  CHECK(terminal_text("d\xc3\xa9j\xc3\xa0 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80") ==
        "d\xc3\xa9j\xc3\xa0 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
}

// ESC sequences, other C0 controls and DEL are shown, not sent to the terminal.
TEST_CASE("terminal_text escapes C0 controls and DEL", "[io]") {
  CHECK(terminal_text("\x1b]0;pwned\x07\x1b[2Jx") == "\\x1b]0;pwned\\x07\\x1b[2Jx");
  CHECK(terminal_text("a\nb\tc\rd\x7f") == "a\\nb\\tc\\rd\\x7f");
  CHECK(terminal_text(std::string("a\0b", 3)) == "a\\x00b");
}

// C1 controls (CSI as U+009B), bidi overrides and line separators are escaped as \uNNNN.
TEST_CASE("terminal_text escapes C1 controls and bidi overrides", "[io]") {
  CHECK(terminal_text("\xc2\x9b"
                      "2J") == "\\u009b2J");
  CHECK(terminal_text("abc\xe2\x80\xae"
                      "fed") == "abc\\u202efed");
  CHECK(terminal_text("\xe2\x81\xa6x\xe2\x80\xa8") == "\\u2066x\\u2028");
}

// Bytes that are not UTF-8 (stray continuation, truncated, overlong, surrogate) are \xNN.
TEST_CASE("terminal_text escapes invalid UTF-8 bytes", "[io]") {
  CHECK(terminal_text("\x80") == "\\x80");
  CHECK(terminal_text("a\xc3") == "a\\xc3");
  CHECK(terminal_text("\xc0\x9b") == "\\xc0\\x9b");
  CHECK(terminal_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(terminal_text("\x9b[31m") == "\\x9b[31m");
}
