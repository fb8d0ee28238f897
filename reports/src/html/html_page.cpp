#include "hpt/reports/html_page.hpp"

#include <fmt/format.h>

#include <iterator>

#include "embedded/report_css.hpp"
#include "embedded/report_js.hpp"
#include "hpt/reports/svg.hpp"

namespace hpt::reports {

std::string_view report_css() { return embedded::report_css(); }
std::string_view report_js() { return embedded::report_js(); }

std::string render_page(const std::string& title, const std::string& body,
                        std::string_view extra_head, std::string_view extra_js) {
  std::string out;
  out.reserve(body.size() + report_css().size() + report_js().size() + extra_head.size() +
              extra_js.size() + 512);
  fmt::format_to(std::back_inserter(out),
                 "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
                 "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}"
                 "</title><style>{}</style>{}</head><body>",
                 html_escape(title), report_css(), extra_head);
  fmt::format_to(std::back_inserter(out), "{}<div id=\"tip\"></div><script>{}</script>", body,
                 report_js());
  if (!extra_js.empty()) {
    fmt::format_to(std::back_inserter(out), "<script>{}</script>", extra_js);
  }
  out += "</body></html>\n";
  return out;
}

void append_note(std::string& out, const std::string& text) {
  if (!text.empty()) {
    fmt::format_to(std::back_inserter(out), "<p class=\"note\">{}</p>", html_escape(text));
  }
}

std::string script_json(const Json& value) {
  const std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string safe;
  safe.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      safe += "\\u003c";
    } else {
      safe += c;
    }
  }
  return safe;
}

}  // namespace hpt::reports
