#include <catch2/catch.hpp>

#include "hpt/reports/html_page.hpp"

using hpt::Json;

// A page is one self-contained document: the title escaped, the report's stylesheet before the
// extra head, the body, the tooltip, the report's script before the extra one.
TEST_CASE("render_page", "[html_page]") {
  CHECK_FALSE(hpt::reports::report_css().empty());
  CHECK(hpt::reports::report_js().find("window.HptReport") != std::string::npos);
  const std::string page =
      hpt::reports::render_page("a <b>", "<p>body</p>", "<style>.x{}</style>", "var y;");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("<title>a &lt;b&gt;</title>") != std::string::npos);
  CHECK(page.find("</style><style>.x{}</style></head><body><p>body</p><div id=\"tip\"></div>"
                  "<script>") != std::string::npos);
  CHECK(page.find("</script><script>var y;</script></body></html>\n") != std::string::npos);
  CHECK(page.find("src=\"http") == std::string::npos);
  const std::string bare = hpt::reports::render_page("t", "");
  CHECK(bare.find("<link") == std::string::npos);
  CHECK(bare.find("<script></script>") == std::string::npos);
}

// Notes are escaped paragraphs; an empty note writes nothing.
TEST_CASE("append_note", "[html_page]") {
  std::string out;
  hpt::reports::append_note(out, "");
  CHECK(out.empty());
  hpt::reports::append_note(out, "1 < 2");
  CHECK(out == "<p class=\"note\">1 &lt; 2</p>");
}

// script_json cannot close its script element; invalid UTF-8 becomes U+FFFD.
TEST_CASE("script_json", "[html_page]") {
  const std::string text = hpt::reports::script_json(Json{{"a", "</script><!--\xff"}});
  CHECK(text.find('<') == std::string::npos);
  CHECK(Json::parse(text)["a"] == "</script><!--\uFFFD");
}
