#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "hpt/io/terminal_text.hpp"

using hpt::shell_word;
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

// A suggested command's path reads back as one word: plain paths as they are, others quoted.
TEST_CASE("shell_word", "[terminal]") {
  CHECK(shell_word("out/fashion_mnist_trials/fashion_mnist/17") ==
        "out/fashion_mnist_trials/fashion_mnist/17");
  CHECK(shell_word("/tmp/my runs/p/0") == "'/tmp/my runs/p/0'");
  CHECK(shell_word("/x/sp ace/x;touch PWNED;y") == "'/x/sp ace/x;touch PWNED;y'");
  CHECK(shell_word("/x/q$(id)") == "'/x/q$(id)'");
  CHECK(shell_word("it's") == "'it'\\''s'");
  CHECK(shell_word("") == "''");
  CHECK(shell_word("caf\xc3\xa9") == "'caf\xc3\xa9'");
}

// What a shell makes of the word is the text again (sh reads it back through printf).
TEST_CASE("shell_word reads back through sh", "[terminal]") {
  for (const std::string& text : std::vector<std::string>{"/tmp/my runs/p/0", "a'b\"c$d`e\\f", "x;rm -rf y|z&w", "*?[~]#!",
                                 "plain/path-1.2", "tab\there"}) {
    INFO(text);
    FILE* p = ::popen(("printf %s " + shell_word(text)).c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[256];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
      out.append(buf, n);
    }
    CHECK(::pclose(p) == 0);
    CHECK(out == text);
  }
}
