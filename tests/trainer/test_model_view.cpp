#include <filesystem>
#include <fstream>
#include <sstream>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/reports/model_view.hpp"
#include "hpt/trainer/model_view.hpp"
#include "support/temp_dir.hpp"

namespace {

using hpt::trainer::PairSet;

// Two classes: class 0 near (0, 0, 0), class 1 near (10, 0, 0), spread along the first axis
// only, so the first principal component is the first axis.
torch::Tensor two_clusters(torch::Tensor* labels) {
  auto e = torch::zeros({6, 3});
  const float xs[6] = {-1, 0, 1, 9, 10, 11};
  for (int i = 0; i < 6; ++i) {
    e[i][0] = xs[i];
    e[i][1] = 0.01f * static_cast<float>(i % 2);
  }
  *labels = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64);
  return e;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// PCA finds the spread axis, explains nearly all of the variance, and fixes the sign.
TEST_CASE("pca_2d", "[model_view]") {
  torch::Tensor labels;
  const auto e = two_clusters(&labels);
  const auto [xy, explained] = hpt::trainer::pca_2d(e);
  REQUIRE(xy.sizes() == torch::IntArrayRef({6, 2}));
  CHECK(explained[0] > 0.99);
  CHECK(explained[0] + explained[1] == Approx(1.0).margin(1e-6));
  // Centred, along +x: the first point at -6, the last at +6.
  CHECK(xy[0][0].item<float>() == Approx(-6.0).margin(1e-3));
  CHECK(xy[5][0].item<float>() == Approx(6.0).margin(1e-3));
  CHECK(hpt::trainer::pca_2d(e * -1).first[5][0].item<float>() == Approx(-6.0).margin(1e-3));
  // Wider than it has points (the Gram path): the same picture, and the second axis too.
  const auto wide = torch::cat({e, torch::zeros({6, 61})}, 1);
  const auto [wide_xy, wide_explained] = hpt::trainer::pca_2d(wide);
  CHECK(torch::allclose(wide_xy, xy, 1e-4, 1e-4));
  CHECK(wide_explained[0] == Approx(explained[0]));
  CHECK(wide_explained[1] == Approx(explained[1]));
  // A 16384-wide embedding of a few points is quick and small (its covariance took 2 GB).
  const auto huge = torch::cat({e, torch::zeros({6, 16381})}, 1);
  CHECK(torch::allclose(hpt::trainer::pca_2d(huge).first, xy, 1e-4, 1e-4));
  // One point, one dimension: zeros, not NaN.
  const auto one = hpt::trainer::pca_2d(torch::ones({1, 1}));
  CHECK(one.first.abs().sum().item<float>() == 0.0f);
}

// Thumbnails are PNG (base64 of the PNG signature) scaled down to fit, grey or colour.
TEST_CASE("thumbnail_png_base64", "[model_view]") {
  const auto grey =
      hpt::trainer::thumbnail_png_base64(torch::full({56, 56, 1}, 200, torch::kUInt8), 28);
  CHECK(grey.rfind("iVBORw0KGgo", 0) == 0);
  const auto colour = hpt::trainer::thumbnail_png_base64(
      torch::randint(0, 255, {8, 8, 3}, torch::kInt64).to(torch::kUInt8), 28);
  CHECK(colour.rfind("iVBORw0KGgo", 0) == 0);
  CHECK(colour.size() % 4 == 0);
}

// Pairs are drawn with replacement: the hardest wrong pairs of a small split list each image
// pair once, in either order (one pair filled all 8 places, as (a,b) and (b,a)).
TEST_CASE("model_view_json lists each hardest pair once", "[model_view]") {
  torch::Tensor labels;
  const auto e = two_clusters(&labels);
  PairSet pairs;
  pairs.first = {0, 3, 0, 3, 1};
  pairs.second = {3, 0, 3, 0, 4};
  pairs.same = {false, false, false, false, false};
  const std::vector<double> d = {0.1, 0.1, 0.1, 0.1, 0.2};
  hpt::trainer::ModelViewOptions o;
  const auto view =
      hpt::trainer::model_view_json(e, labels, {"a", "b"}, torch::Tensor(), pairs, d, 1.0, o);
  CHECK(view["false_matches"] == 5);
  REQUIRE(view["hardest_false_matches"].size() == 2);
  CHECK(view["hardest_false_matches"][0]["distance"] == 0.1);
  CHECK(view["hardest_false_matches"][1]["distance"] == 0.2);
}

// The document has the points (capped), thumbnails, recall@k and the wrong pairs, hardest
// first; write_model_view writes it and a page the reports library renders.
TEST_CASE("model_view_json and write_model_view", "[model_view]") {
  torch::Tensor labels;
  const auto e = two_clusters(&labels);
  const auto images = torch::zeros({6, 4, 4, 1}, torch::kUInt8);
  PairSet pairs;
  pairs.first = {0, 0, 3, 1};
  pairs.second = {1, 3, 5, 4};
  pairs.same = {true, false, true, false};
  const std::vector<double> d = {1.0, 9.0, 2.0, 9.5};
  hpt::trainer::ModelViewOptions o;
  o.max_points = 4;
  // Threshold 1.5: pair 0 right, pair 1 right (9 > 1.5, different), pair 2 a false non-match
  // (same, 2 > 1.5), pair 3 right. Threshold 9.6: pairs 1 and 3 false matches, 3 nearest first.
  auto view = hpt::trainer::model_view_json(e, labels, {"a", "b"}, images, pairs, d, 1.5, o);
  CHECK(view["format"] == hpt::reports::k_model_view_format);
  CHECK(view["n_images"] == 6);
  REQUIRE(view["points"].size() == 4);
  CHECK(view["thumbnails"].size() == 4);
  CHECK(view["points"][3][3] == 3);
  CHECK(view["recall_at_k"][0] == nlohmann::json({1, 1.0}));
  CHECK(view["false_matches"] == 0);
  CHECK(view["false_non_matches"] == 1);
  CHECK(view["hardest_false_non_matches"][0]["distance"] == 2.0);
  CHECK(view["hardest_false_non_matches"][0]["a"]["label"] == 1);
  view = hpt::trainer::model_view_json(e, labels, {"a", "b"}, torch::Tensor(), pairs, d, 9.6, o);
  REQUIRE(view["hardest_false_matches"].size() == 2);
  CHECK(view["hardest_false_matches"][0]["distance"] == 9.0);
  CHECK_FALSE(view["hardest_false_matches"][0]["a"].contains("thumb"));
  CHECK(view["points"][0][3] == -1);

  hpt::test::TempDir dir;
  hpt::trainer::write_model_view(dir.path().string(), e, labels, {"a", "b"}, images, pairs, d, 1.5,
                                 o);
  const auto back = hpt::reports::read_model_view((dir.path() / "model_view.json").string());
  REQUIRE(back);
  CHECK((*back)["points"].size() == 4);
  const std::string page = read(dir.path() / "model_report.html");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("hpt model report: " + dir.path().string()) != std::string::npos);
  o.title_folder = "runs/best";  // hpt train writes into a staging folder inside --out.
  hpt::trainer::write_model_view(dir.path().string(), e, labels, {"a", "b"}, images, pairs, d, 1.5,
                                 o);
  CHECK(read(dir.path() / "model_report.html").find("hpt model report: runs/best") !=
        std::string::npos);
  CHECK(page.find("<section id=\"model\">") != std::string::npos);
  CHECK_THROWS_AS(hpt::trainer::write_model_view((dir.path() / "missing" / "x").string(), e, labels,
                                                 {"a", "b"}, images, pairs, d, 1.5, o),
                  std::runtime_error);
}
