#pragma once
// The page every hpt HTML view is built on (the study report, the dashboard, hpt-train's
// model_report.html): the report's stylesheet and script, the page shell, and the small pieces
// each page writes (notes, JSON for a script element).

#include <string>
#include <string_view>

#include "hpt/tuner/distribution.hpp"

namespace hpt::reports {

// The report's stylesheet and script (reports/web/report.css and report.js, embedded at build
// time).
std::string_view report_css();
std::string_view report_js();

// A self-contained page with nothing remote: title (escaped), the report's stylesheet, then
// extra_head (more <head> content), body, a tooltip element, the report's script, then
// extra_js (a script run after it).
std::string render_page(const std::string& title, const std::string& body,
                        std::string_view extra_head = {}, std::string_view extra_js = {});

// Appends <p class="note">text</p> (escaped); nothing for an empty text.
void append_note(std::string& out, const std::string& text);

// Text of a JSON value for an inline <script type="application/json"> element: "<" is written
// as \u003c so that no "</script>" or "<!--" can end it; invalid UTF-8 becomes U+FFFD.
std::string script_json(const Json& value);

}  // namespace hpt::reports
