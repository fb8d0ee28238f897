#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "hpt/reports/model_view.hpp"
#include "support/temp_dir.hpp"

namespace {

using hpt::Json;

// A 1x1 PNG, base64.
const char* k_png =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
    "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

// A small view as the trainer writes it: 4 points of 2 classes, one false match.
Json small_view() {
  return Json{{"format", "hpt-model-view"},
              {"version", 1},
              {"split", "test"},
              {"n_images", 4},
              {"embedding_dim", 8},
              {"class_names", {"cat", "<dog>"}},
              {"pca_explained", {0.6, 0.3}},
              {"points", {{0.0, 0.0, 0, 0}, {1.0, 0.5, 0, -1}, {-1.0, 2.0, 1, 1}, {2, 2, 1, 0}}},
              {"thumbnails", {k_png, k_png}},
              {"threshold", 0.75},
              {"recall_at_k", {{1, 0.5}, {5, 0.75}, {10, 1.0}}},
              {"pairs", 10},
              {"false_matches", 1},
              {"false_non_matches", 0},
              {"hardest_false_matches",
               {{{"distance", 0.25},
                 {"a", {{"label", 0}, {"thumb", k_png}}},
                 {"b", {{"label", 1}, {"thumb", k_png}}}}}},
              {"hardest_false_non_matches", Json::array()}};
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

// A small view renders the map (one circle per point, class colours, hover data), recall@k,
// the pair counts and the hardest pairs with their images; class names are escaped.
TEST_CASE("render_model_view draws a small view", "[model_view]") {
  const std::string html = hpt::reports::render_model_view(small_view(), "What <it> learned");
  CHECK(html.rfind("<section id=\"model\"><h2>What &lt;it&gt; learned</h2>", 0) == 0);
  CHECK(count(html, "<circle ") == 4);
  CHECK(html.find("data-k=\"1\"") != std::string::npos);
  CHECK(count(html, "data-k=\"-1\"") == 1);
  CHECK(html.find("60% of the variance") != std::string::npos);
  CHECK(html.find("&lt;dog&gt;") != std::string::npos);
  CHECK(html.find("<dog>") == std::string::npos);
  CHECK(html.find("<td class=\"n\">10</td><td class=\"n\">100.0%</td>") != std::string::npos);
  CHECK(html.find("Of 10 test pairs, 1 are false matches") != std::string::npos);
  CHECK(count(html, "src=\"data:image/png;base64,") == 2);  // The false match's two images.
  CHECK(html.find("No false non-match among the test pairs.") != std::string::npos);
  CHECK(html.find("<script type=\"application/json\" class=\"hpt-emb\">") != std::string::npos);
  CHECK(html.rfind("</section>") == html.size() - 10);
}

// Hostile or malformed views: nothing unescaped, bad thumbnails dropped, malformed points
// skipped, at most 2,000 points drawn, a non-object gives a note.
TEST_CASE("render_model_view on malformed views", "[model_view]") {
  Json v = small_view();
  v["thumbnails"] = {"\"><script>alert(1)</script>", k_png};
  v["hardest_false_matches"][0]["a"]["thumb"] = "x\" onerror=\"alert(1)";
  v["points"].push_back({"x", 1.0, 0});
  v["points"].push_back({1.0, nullptr, 0});
  v["class_names"] = {"</script><script>alert(1)</script>", 7};
  std::string html = hpt::reports::render_model_view(v, "m");
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find("onerror") == std::string::npos);
  CHECK(count(html, "<circle ") == 4);
  CHECK(count(html, "data-k=\"-1\"") == 3);  // Thumbnail 0 (points 0 and 3) was refused.
  CHECK(html.find("(no image)") != std::string::npos);

  Json many = small_view();
  many["points"] = Json::array();
  for (int i = 0; i < 5000; ++i) {
    many["points"].push_back({i * 0.1, i % 7, i % 2, -1});
  }
  CHECK(count(hpt::reports::render_model_view(many, "m"), "<circle ") == 2000);

  CHECK(hpt::reports::render_model_view(Json::array(), "m").find("not a JSON object") !=
        std::string::npos);
  Json empty = Json{{"format", "hpt-model-view"}};
  const std::string bare = hpt::reports::render_model_view(empty, "m");
  CHECK(bare.find("no embedding points") != std::string::npos);
  CHECK(bare.find("No false match") != std::string::npos);
}

// Only a regular file holding a JSON object in the model view format is read.
TEST_CASE("read_model_view", "[model_view]") {
  hpt::test::TempDir dir;
  write(dir.path() / "view.json", small_view().dump());
  const auto view = hpt::reports::read_model_view((dir.path() / "view.json").string());
  REQUIRE(view);
  CHECK((*view)["n_images"] == 4);
  CHECK_FALSE(hpt::reports::read_model_view((dir.path() / "absent.json").string()));
  // Another format, broken JSON, a directory, a symbolic link: no view.
  write(dir.path() / "other.json", Json{{"format", "x"}}.dump());
  CHECK_FALSE(hpt::reports::read_model_view((dir.path() / "other.json").string()));
  write(dir.path() / "broken.json", "{\"format\": \"hpt-model-view\"");
  CHECK_FALSE(hpt::reports::read_model_view((dir.path() / "broken.json").string()));
  CHECK_FALSE(hpt::reports::read_model_view(dir.path().string()));
  std::filesystem::create_symlink(dir.path() / "view.json", dir.path() / "link.json");
  CHECK_FALSE(hpt::reports::read_model_view((dir.path() / "link.json").string()));
}

// The standalone page (hpt train's model_report.html) is a whole document with the report's
// script.
TEST_CASE("render_model_report", "[model_view]") {
  const std::string page = hpt::reports::render_model_report(small_view(), "model <x>");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("<title>model &lt;x&gt;</title>") != std::string::npos);
  CHECK(page.find("<h1>model &lt;x&gt;</h1><section id=\"model\">") != std::string::npos);
  CHECK(page.find("window.HptReport") != std::string::npos);
  CHECK(page.find("src=\"http") == std::string::npos);
}
