#include <fmt/format.h>

#include <string>
#include <vector>

#include "catch_torch.hpp"
#include "fixtures.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/image_truncation.hpp"

using hpt::trainer::decode_image;
using hpt::trainer::image_truncation_problem;
using hpt::trainer::testing::TempDir;

namespace {

// The bytes stb_image_write makes for a 7 x 5 RGB image (odd width: BMP rows are padded).
std::string encoded(const std::string& format, bool rle = false) {
  std::string out;
  const auto pixels = hpt::trainer::testing::pattern(3, 7, 5, 3);
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<size_t>(size));
  };
  if (format == "bmp") {
    stbi_write_bmp_to_func(append, &out, 7, 5, 3, pixels.data());
  } else {
    stbi_write_tga_with_rle = rle ? 1 : 0;
    stbi_write_tga_to_func(append, &out, 7, 5, 3, pixels.data());
    stbi_write_tga_with_rle = 1;
  }
  return out;
}

// A binary PNM with a comment in its header.
std::string pnm(char kind, int width, int height) {
  const int channels = kind == '6' ? 3 : 1;
  return std::string("P") + kind + "\n# made by a test\n" + std::to_string(width) + " " +
         std::to_string(height) + "\n255\n" + std::string(width * height * channels, '\x40');
}

// A 1 x 1 GIF89a: header, screen, a 2-colour table, one image's LZW data, the trailer.
const std::string k_gif(
    "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
    "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b",
    35);

}  // namespace

// Whole files pass; every cut after a format's header is named with the bytes it needs (a cut
// inside a PNM's text header is left to stb, which refuses it).
TEST_CASE("image_truncation_problem finds cut-off BMP, TGA, PNM and GIF", "[image_io]") {
  struct Case {
    std::string name;
    std::string bytes;
  };
  const std::vector<Case> cases = {{"x.bmp", encoded("bmp")},       {"x.tga", encoded("tga")},
                                   {"x.TGA", encoded("tga", true)}, {"x.pgm", pnm('5', 16, 12)},
                                   {"x.ppm", pnm('6', 16, 12)},     {"x.gif", k_gif}};
  for (const auto& c : cases) {
    INFO(c.name);
    REQUIRE(c.bytes.size() > 20);
    CHECK(image_truncation_problem(c.bytes, c.name).empty());
    // (A GIF's last byte, its trailer, is not needed: its first image is whole without it.)
    const bool gif = c.name == "x.gif";
    for (size_t cut : {gif ? size_t{20} : c.bytes.size() - 1, c.bytes.size() / 2,
                       gif ? size_t{31} : size_t{34}}) {
      INFO("cut to " << cut);
      CHECK_FALSE(image_truncation_problem(c.bytes.substr(0, cut), c.name).empty());
    }
  }
  const std::string bmp = encoded("bmp");
  CHECK(image_truncation_problem(bmp.substr(0, 100), "x.bmp") ==
        fmt::format("100 of {} bytes: its header needs {}", bmp.size(), bmp.size()));
  CHECK(image_truncation_problem(k_gif.substr(0, 30), "x.gif") ==
        "30 bytes: the GIF's first image ends before its data does");
  CHECK(image_truncation_problem(k_gif.substr(0, 16), "x.gif") ==
        "16 bytes: the GIF's first image ends before its data does");
  // Its first image whole: no trailer, or padding after it, still decodes.
  CHECK(image_truncation_problem(k_gif.substr(0, 34), "x.gif").empty());
  CHECK(image_truncation_problem(k_gif + std::string(4, '\0'), "x.gif").empty());
  // PNG, JPEG and names of no checked format are left to stb's own checks.
  CHECK(image_truncation_problem("\x89PNG\r\n", "x.png").empty());
  CHECK(image_truncation_problem(encoded("tga").substr(0, 30), "x.png").empty());
}

// decode_image refuses what stb would fill with zeros, naming the file.
TEST_CASE("decode_image refuses a cut-off BMP", "[image_io]") {
  TempDir dir;
  const std::string bmp = encoded("bmp");
  hpt::trainer::testing::write_text(dir.path() / "whole.bmp", bmp);
  CHECK(decode_image(dir.str("whole.bmp")).width == 7);
  hpt::trainer::testing::write_text(dir.path() / "whole.gif", k_gif);  // The fixture is a GIF.
  CHECK(decode_image(dir.str("whole.gif")).width == 1);
  hpt::trainer::testing::write_text(dir.path() / "whole.gif", k_gif);  // The fixture is a GIF.
  CHECK(decode_image(dir.str("whole.gif")).width == 1);
  hpt::trainer::testing::write_text(dir.path() / "cut.bmp", bmp.substr(0, bmp.size() - 10));
  CHECK_THROWS_WITH(decode_image(dir.str("cut.bmp")),
                    fmt::format("cannot decode image {}: truncated image data ({} of {} bytes: "
                                "its header needs {})",
                                dir.str("cut.bmp"), bmp.size() - 10, bmp.size(), bmp.size()));
}
