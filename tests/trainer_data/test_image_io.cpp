#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>

#include "fixtures.hpp"
#include "hpt/trainer/image_io.hpp"

using namespace hpt::trainer;
using hpt::trainer::testing::TempDir;

// PNG decodes bit-exactly in grey and RGB; RGBA loses its alpha channel.
TEST_CASE("decode_image reads PNG exactly", "[image_io]") {
  TempDir dir;
  for (int c : {1, 3, 4}) {
    const auto pixels = testing::pattern(c, 5, 4, c);
    const auto path = dir.path() / ("p" + std::to_string(c) + ".png");
    testing::write_png(path, 5, 4, c, pixels);
    const DecodedImage image = decode_image(path.string());
    const int expected_c = c == 4 ? 3 : c;
    REQUIRE(image.width == 5);
    REQUIRE(image.height == 4);
    REQUIRE(image.channels == expected_c);
    for (int i = 0; i < 20; ++i) {
      for (int ch = 0; ch < expected_c; ++ch) {
        REQUIRE(image.pixels[static_cast<size_t>(i * expected_c + ch)] ==
                pixels[static_cast<size_t>(i * c + ch)]);
      }
    }
  }
}

// A quality-100 JPEG of a flat colour decodes within a few levels.
TEST_CASE("decode_image reads JPEG approximately", "[image_io]") {
  TempDir dir;
  const auto pixels = testing::flat(3, 8, 8, 3);
  testing::write_jpg(dir.path() / "a.JPEG", 8, 8, 3, pixels);
  const DecodedImage image = decode_image(dir.str("a.JPEG"));
  REQUIRE(image.channels == 3);
  for (size_t i = 0; i < pixels.size(); ++i) {
    REQUIRE(std::abs(int{image.pixels[i]} - int{pixels[i]}) <= 3);
  }
}

// Corrupt and missing files throw errors that name the file.
TEST_CASE("decode_image errors name the file", "[image_io]") {
  TempDir dir;
  testing::write_text(dir.path() / "bad.png", "not a png at all");
  CHECK_THROWS_WITH(decode_image(dir.str("bad.png")), Catch::Contains(dir.str("bad.png")));
  CHECK_THROWS_WITH(decode_image(dir.str("none.jpg")), Catch::Contains(dir.str("none.jpg")));
  // hpt match/embed take any path: a FIFO (no writer: opening it would block forever), a
  // device without end and a folder are refused at once, never read.
  REQUIRE(::mkfifo(dir.str("pipe.png").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(decode_image(dir.str("pipe.png")),
                    "cannot decode image " + dir.str("pipe.png") + ": not a regular file (a FIFO)");
  CHECK_THROWS_WITH(decode_image("/dev/zero"),
                    "cannot decode image /dev/zero: not a regular file (a character device)");
  CHECK_THROWS_WITH(decode_image(dir.path().string()), Catch::EndsWith("(a directory)"));
}

// A PNG cut short anywhere says so in words, never with stb's torn chunk name ("IDA") or nothing.
TEST_CASE("decode_image errors for truncated files are readable", "[image_io]") {
  TempDir dir;
  testing::write_png(dir.path() / "full.png", 16, 16, 3, testing::flat(7, 16, 16, 3));
  const std::string png = testing::read_text(dir.path() / "full.png");
  for (size_t cut : {size_t{20}, size_t{34}, size_t{40}, png.size() - 20}) {
    INFO("cut at " << cut << " of " << png.size());
    testing::write_text(dir.path() / "cut.png", png.substr(0, cut));
    try {
      decode_image(dir.str("cut.png"));
      FAIL("decoded a truncated PNG");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.rfind("cannot decode image " + dir.str("cut.png") + ": ", 0) == 0);
      CHECK((what.find("truncated") != std::string::npos ||
             what.find("corrupt") != std::string::npos));
    }
  }
  testing::write_text(dir.path() / "text.png", "not a png at all");
  CHECK_THROWS_WITH(decode_image(dir.str("text.png")),
                    "cannot decode image " + dir.str("text.png") +
                        ": not PNG data, nor any other image format hpt reads (.jpg .jpeg .png "
                        ".bmp .gif .tga .pgm .ppm .pnm)");
}

// A PNG with one bit flipped inside its IDAT data (a damaged disk or download) fails that
// chunk's CRC-32 and is refused naming the file and the chunk, when decoded alone (hpt match,
// embed) and in a dataset; stb_image checks no CRC and decoded it into other pixels, silently.
TEST_CASE("decode_image refuses a PNG chunk failing its CRC", "[image_io]") {
  TempDir dir;
  testing::write_png(dir.path() / "good.png", 16, 16, 3, testing::pattern(3, 16, 16, 3));
  std::string png = testing::read_text(dir.path() / "good.png");
  const size_t idat = png.find("IDAT");
  REQUIRE(idat != std::string::npos);
  png[idat + 4 + 10] = static_cast<char>(png[idat + 4 + 10] ^ 0x10);
  testing::write_text(dir.path() / "flipped.png", png);
  const std::string want = "cannot decode image " + dir.str("flipped.png") +
                           ": corrupt PNG: chunk IDAT fails its CRC (a damaged file)";
  CHECK_THROWS_WITH(decode_image(dir.str("flipped.png")), want);
  CHECK_THROWS_WITH(decode_images({dir.str("good.png"), dir.str("flipped.png")}, 0, 1), want);
  CHECK_THROWS_WITH(load_image(dir.str("flipped.png"), 8, 8), want);
  CHECK(decode_image(dir.str("good.png")).width == 16);
}

// A zero-byte file and text with an image's name say what the decoder knows, naming the file
// (both were "not an image hpt reads").
TEST_CASE("decode_image says empty file and which format the data is not", "[image_io]") {
  TempDir dir;
  testing::write_text(dir.path() / "zero.png", "");
  CHECK_THROWS_WITH(decode_image(dir.str("zero.png")),
                    "cannot decode image " + dir.str("zero.png") + ": empty file (0 bytes)");
  testing::write_text(dir.path() / "fake.JPEG", "hello");
  CHECK_THROWS_WITH(decode_image(dir.str("fake.JPEG")),
                    Catch::StartsWith("cannot decode image " + dir.str("fake.JPEG") +
                                      ": not JPEG data, nor any other image format hpt reads"));
  testing::write_text(dir.path() / "fake.webp", "hello");
  CHECK_THROWS_WITH(decode_image(dir.str("fake.webp")),
                    Catch::Contains(": not an image hpt reads (.jpg"));
}

// A PNG whose header claims 20000 x 20000 pixels (a decompression bomb's shape) is refused
// from the header, naming the file and the size.
TEST_CASE("decode_image refuses images larger than its limit", "[image_io]") {
  TempDir dir;
  const auto path = dir.path() / "huge.png";
  testing::write_png(path, 16, 16, 1, testing::flat(7, 16, 16, 1));
  std::string png;
  {
    std::ifstream in(path, std::ios::binary);
    png.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(png.substr(12, 4) == "IHDR");
  for (int field : {16, 20}) {  // Width and height, big-endian.
    const uint32_t v = 20000;
    for (int b = 0; b < 4; ++b) {
      png[static_cast<size_t>(field + b)] = static_cast<char>((v >> (24 - 8 * b)) & 0xff);
    }
  }
  uint32_t crc = 0xffffffffu;  // CRC-32 of the chunk type and data, as PNG defines it.
  for (size_t i = 12; i < 29; ++i) {
    crc ^= static_cast<uint8_t>(png[i]);
    for (int k = 0; k < 8; ++k) {
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
  }
  crc ^= 0xffffffffu;
  for (int b = 0; b < 4; ++b) {
    png[static_cast<size_t>(29 + b)] = static_cast<char>((crc >> (24 - 8 * b)) & 0xff);
  }
  std::ofstream(path, std::ios::binary) << png;
  CHECK_THROWS_WITH(decode_image(path.string()),
                    Catch::Contains(path.string()) && Catch::Contains("20000 x 20000 pixels"));
  testing::write_png(path, 16, 16, 1, testing::flat(7, 16, 16, 1));  // Within the limit.
  CHECK(decode_image(path.string()).width == 16);
}

namespace {

// A PNG chunk: its length, type, data and CRC-32.
std::string png_chunk(const std::string& type, const std::string& data) {
  std::string out;
  const auto be32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      out += static_cast<char>((v >> shift) & 0xff);
    }
  };
  be32(static_cast<uint32_t>(data.size()));
  out += type + data;
  const std::string crc_of = type + data;
  be32(static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(crc_of.data()), static_cast<uInt>(crc_of.size()))));
  return out;
}

}  // namespace

// A palette PNG with pixels whose index is past its palette (4 colours, index 200): such a
// pixel is black, the others their colour, every time. stb_image read it from uninitialised
// memory, and the same file decoded to other pixels from run to run (hpt match said "same"
// and "different" for one pair; here that memory may happen to read as black too).
TEST_CASE("decode_image reads a palette index past the palette as black", "[image_io]") {
  TempDir dir;
  std::string rows;
  for (int y = 0; y < 4; ++y) {
    rows += std::string("\0", 1) + std::string{'\0', '\1', '\3', static_cast<char>(200)};
  }
  std::string idat(compressBound(static_cast<uLong>(rows.size())), '\0');
  uLongf size = static_cast<uLongf>(idat.size());
  REQUIRE(compress(reinterpret_cast<Bytef*>(idat.data()), &size,
                   reinterpret_cast<const Bytef*>(rows.data()),
                   static_cast<uLong>(rows.size())) == Z_OK);
  idat.resize(size);
  const std::string ihdr("\0\0\0\x04\0\0\0\x04\x08\x03\0\0\0", 13);       // 4 x 4, 8-bit palette.
  const std::string palette("\xff\0\0\0\xff\0\0\0\xff\x10\x20\x30", 12);  // 4 colours.
  testing::write_text(dir.path() / "pal.png", std::string("\x89PNG\r\n\x1a\n", 8) +
                                                  png_chunk("IHDR", ihdr) +
                                                  png_chunk("PLTE", palette) +
                                                  png_chunk("IDAT", idat) + png_chunk("IEND", ""));
  const DecodedImage image = decode_image(dir.str("pal.png"));
  REQUIRE(image.channels == 3);
  REQUIRE(image.pixels.size() == 4 * 4 * 3);
  const std::vector<uint8_t> row = {0xff, 0, 0, 0, 0xff, 0, 0x10, 0x20, 0x30, 0, 0, 0};
  for (int y = 0; y < 4; ++y) {
    CHECK(std::vector<uint8_t>(image.pixels.begin() + y * 12, image.pixels.begin() + y * 12 + 12) ==
          row);
  }
}

// A colour PNG whose header claims 20000 x 20000 pixels (over stb's 2^30 decoded bytes, where its
// header probe fails) is refused naming its size, as a grey one is; it was "corrupt image (too
// large)".
TEST_CASE("decode_image names the size of a colour PNG too large for stb", "[image_io]") {
  TempDir dir;
  const auto chunk = png_chunk;
  const std::string ihdr("\0\0\x4e\x20\0\0\x4e\x20\x08\x02\0\0\0", 13);  // 20000^2 RGB.
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) +
                          chunk("IDAT", std::string("\x78\x9c\x03\0\0\0\0\x01", 8)) +
                          chunk("IEND", "");
  testing::write_text(dir.path() / "bomb.png", png);
  CHECK_THROWS_WITH(decode_image(dir.str("bomb.png")),
                    "cannot decode image " + dir.str("bomb.png") +
                        ": 20000 x 20000 pixels is more than the 67108864 (8192 x 8192) hpt reads");
}

// A JPEG cut anywhere is said as truncated or corrupt, never as "bad png sig": stb leaves its PNG
// probe's reason behind when the JPEG decoder fails without one of its own.
TEST_CASE("decode_image never blames PNG for a cut-off JPEG", "[image_io]") {
  TempDir dir;
  testing::write_jpg(dir.path() / "full.jpg", 32, 32, 3, testing::pattern(3, 32, 32, 3));
  const std::string jpeg = testing::read_text(dir.path() / "full.jpg");
  REQUIRE(jpeg.size() > 600);
  int refused = 0;
  for (size_t cut = 2; cut < jpeg.size(); ++cut) {
    testing::write_text(dir.path() / "cut.jpg", jpeg.substr(0, cut));
    try {
      decode_image(dir.str("cut.jpg"));
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      INFO("cut at " << cut << ": " << what);
      CHECK(what.find("png") == std::string::npos);
      CHECK((what.find("truncated") != std::string::npos ||
             what.find("corrupt") != std::string::npos));
      ++refused;
    }
  }
  CHECK(refused == static_cast<int>(jpeg.size()) - 2);
}

// Decodes that run at once share a memory budget: a decode that would exceed it waits for
// another to finish, one decode always runs however large (else a huge image would wait for
// ever), and decode_images on many threads with a tight budget decodes every image. Each
// decode of an 8192 x 8192 16-bit RGBA PNG (a 500 KB file) took 1 GB on every core at once.
TEST_CASE("decodes share a memory budget", "[image_io]") {
  CHECK(decode_peak_bytes(100, 100, 3, 1) == 100 * 100 * 9);
  CHECK(decode_peak_bytes(8192, 8192, 4, 2) == uint64_t{8192} * 8192 * 23);

  DecodeBudget budget(100);
  budget.acquire(60);
  std::atomic<bool> second{false};
  std::thread other([&] {
    budget.acquire(60);
    second = true;
    budget.release(60);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(second);  // 60 + 60 > 100: it waits.
  budget.release(60);
  other.join();
  CHECK(second);
  budget.acquire(1000);  // Over the whole budget, with none held: it runs.
  budget.release(1000);

  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 24; ++i) {
    paths.push_back(dir.str(std::to_string(i) + ".png"));
    testing::write_png(paths.back(), 16, 16, 3, testing::pattern(i, 16, 16, 3));
  }
  const PackedImages packed = decode_images(paths, 0, 8, 24 * 16 * 16 * 3 + 1);
  REQUIRE(packed.count == 24);
  for (int i = 0; i < 24; ++i) {
    const auto begin = packed.pixels.begin() + i * 16 * 16 * 3;
    CHECK(std::vector<uint8_t>(begin, begin + 16 * 16 * 3) == testing::pattern(i, 16, 16, 3));
  }
}

// Halving with the area filter averages 2x2 blocks; growing a flat image keeps it flat.
TEST_CASE("resize_image averages when shrinking", "[image_io]") {
  DecodedImage image{4, 4, 1, {}};
  for (int i = 0; i < 16; ++i) {
    image.pixels.push_back(static_cast<uint8_t>(i * 10));
  }
  const DecodedImage small = resize_image(image, 2);
  REQUIRE(small.pixels.size() == 4);
  // Block (0,0): 0, 10, 40, 50 -> 25; block (1,1): 100, 110, 140, 150 -> 125.
  CHECK(std::abs(int{small.pixels[0]} - 25) <= 1);
  CHECK(std::abs(int{small.pixels[3]} - 125) <= 1);
  const DecodedImage big = resize_image(DecodedImage{2, 2, 3, std::vector<uint8_t>(12, 77)}, 5);
  CHECK(big.pixels == std::vector<uint8_t>(75, 77));
}

// Grey -> RGB replicates; RGB -> grey uses 601 luma.
TEST_CASE("convert_channels", "[image_io]") {
  const DecodedImage grey{1, 1, 1, {90}};
  CHECK(convert_channels(grey, 3).pixels == std::vector<uint8_t>{90, 90, 90});
  const DecodedImage rgb{1, 1, 3, {255, 0, 0}};
  CHECK(convert_channels(rgb, 1).pixels == std::vector<uint8_t>{76});
  CHECK_THROWS_AS(convert_channels(rgb, 2), std::invalid_argument);
}

// A batch with one colour image is packed as RGB; mismatched sizes name the odd file.
TEST_CASE("decode_images packs and unifies channels", "[image_io]") {
  TempDir dir;
  testing::write_png(dir.path() / "0.png", 3, 2, 1, testing::pattern(0, 3, 2, 1));
  testing::write_png(dir.path() / "1.png", 3, 2, 3, testing::pattern(1, 3, 2, 3));
  const PackedImages packed = decode_images({dir.str("0.png"), dir.str("1.png")}, 0, 2);
  CHECK(packed.count == 2);
  CHECK(packed.channels == 3);
  const auto grey = testing::pattern(0, 3, 2, 1);
  for (size_t i = 0; i < grey.size(); ++i) {
    CHECK(packed.pixels[i * 3 + 2] == grey[i]);
  }
  const auto rgb = testing::pattern(1, 3, 2, 3);
  CHECK(std::vector<uint8_t>(packed.pixels.begin() + 18, packed.pixels.end()) == rgb);
  testing::write_png(dir.path() / "2.png", 4, 2, 1, testing::pattern(2, 4, 2, 1));
  CHECK_THROWS_WITH(decode_images({dir.str("0.png"), dir.str("2.png")}, 0),
                    Catch::Contains(dir.str("2.png")));
  CHECK(decode_images({dir.str("0.png"), dir.str("2.png")}, 6).width == 6);
}

// Behind a colour first image, grey images are replicated into RGB as they are decoded, on any
// number of threads; behind a grey one, colour images widen the set to RGB at the end.
TEST_CASE("decode_images packs each image into its slot", "[image_io]") {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 12; ++i) {
    paths.push_back(dir.str(std::to_string(i) + ".png"));
    testing::write_png(paths.back(), 3, 2, i % 3 == 1 ? 1 : 3,
                       testing::pattern(i, 3, 2, i % 3 == 1 ? 1 : 3));
  }
  for (int threads : {1, 4}) {
    for (size_t first : {size_t{0}, size_t{1}}) {  // Colour first, grey first.
      const std::vector<std::string> set(paths.begin() + static_cast<std::ptrdiff_t>(first),
                                         paths.end());
      const PackedImages packed = decode_images(set, 0, threads);
      REQUIRE(packed.channels == 3);
      for (size_t k = 0; k < set.size(); ++k) {
        const int i = static_cast<int>(k + first);
        const auto native = testing::pattern(i, 3, 2, i % 3 == 1 ? 1 : 3);
        const auto begin = packed.pixels.begin() + static_cast<std::ptrdiff_t>(k * 18);
        const std::vector<uint8_t> got(begin, begin + 18);
        if (i % 3 == 1) {
          CHECK(convert_channels(DecodedImage{3, 2, 1, native}, 3).pixels == got);
        } else {
          CHECK(native == got);
        }
      }
    }
  }
}

// A set of images too large for memory (a folder of photos at their native size) is refused
// from its first image, before the rest is decoded, saying what to set.
TEST_CASE("decode_images refuses a set larger than its memory", "[image_io]") {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    testing::write_png(dir.path() / (std::to_string(i) + ".png"), 8, 4, 3,
                       testing::pattern(i, 8, 4, 3));
    paths.push_back(dir.str(std::to_string(i) + ".png"));
  }
  CHECK(decode_images(paths, 0, 2, 4 * 8 * 4 * 3).count == 4);  // Exactly fits.
  CHECK_THROWS_WITH(decode_images(paths, 0, 2, 4 * 8 * 4 * 3 - 1),
                    "4 images of 8 x 4 x 3 take 0.0 GB decoded, more than this machine's 0.0 GB "
                    "of memory; set image_size to resize them");
  CHECK_THROWS_WITH(decode_images(paths, 16, 2, 1000),
                    Catch::StartsWith("4 images of 16 x 16 x 3 take") &&
                        Catch::EndsWith("; lower image_size to resize them"));
  CHECK(physical_memory_bytes() > (uint64_t{1} << 28));
  CHECK(image_memory_problem(1e9, 1000000000).empty());
  CHECK(image_memory_problem(432e9, 25300000000) ==
        "take 432.0 GB decoded, more than this machine's 25.3 GB of memory");
  CHECK(image_memory_problem(1e18).size() > 0);  // Beyond any machine.
  CHECK(usable_memory_bytes() <= physical_memory_bytes());
}

// A grey first image sizes the set as grey; a colour image behind it widens the set to RGB, and
// the grey and RGB buffers, held together while it widens, are checked then: the set was
// accepted as grey and held up to 7x that (grey, colour images aside, RGB) at the end.
TEST_CASE("decode_images checks memory again when colour widens a grey set", "[image_io]") {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) {
    const int channels = i == 3 ? 3 : 1;
    testing::write_png(dir.path() / (std::to_string(i) + ".png"), 8, 4, channels,
                       testing::pattern(i, 8, 4, channels));
    paths.push_back(dir.str(std::to_string(i) + ".png"));
  }
  const uint64_t area = 8 * 4 * paths.size();
  for (int threads : {1, 3}) {
    const PackedImages packed = decode_images(paths, 0, threads, area * 4);  // Exactly fits.
    CHECK(packed.channels == 3);
    CHECK(packed.pixels.size() == area * 3);
    CHECK_THROWS_WITH(
        decode_images(paths, 0, threads, area * 4 - 1),
        fmt::format("6 images of 8 x 4 widened to RGB (grey {}, colour {}) take 0.0 GB decoded, "
                    "more than this machine's 0.0 GB of memory; set image_size to resize them",
                    paths[0], paths[3]));
  }
  CHECK(decode_images(paths, 0, 2).channels == 3);  // This machine's memory.
  paths.erase(paths.begin() + 3);  // All grey: the grey set's size is all it needs.
  CHECK(decode_images(paths, 0, 2, 8 * 4 * paths.size()).channels == 1);
}

// An address-space limit (ulimit -v) bounds the memory the rule allows by what it leaves (the
// address space in use counts: LibTorch alone takes most of a GB), and the message says so: a
// data set sized to the machine failed in LibTorch's allocator, naming nothing.
TEST_CASE("the memory rule honours this process's address-space limit", "[image_io]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // The limit in a child: LibTorch here keeps running.
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    statm >> pages;
    const uint64_t used = pages * static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE));
    const uint64_t limit = used + (uint64_t{2} << 30);
    const rlimit as{limit, limit};
    const uint64_t room = ::setrlimit(RLIMIT_AS, &as) == 0 ? usable_memory_bytes() : 0;
    // A machine whose cgroup leaves less (a small CI container) bounds it lower still.
    const uint64_t cgroup = cgroup_memory_headroom("/proc/self/cgroup", "/sys/fs/cgroup");
    const bool ok = room <= (uint64_t{2} << 30) && room > std::min(uint64_t{3} << 29, cgroup / 2) &&
                    image_memory_problem(4e9).find(
                        "of memory this process may still use (what "
                        "its cgroup's limit or ulimit -v leaves)") != std::string::npos;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// Cgroup limits leave limit - usage, the least over the path and its parents; inside a v1
// container the path names the host's cgroup, which is not mounted there: the mount's own root
// (the container's cgroup) still counts (it was missed).
TEST_CASE("cgroup_memory_headroom reads v2 and v1 limits", "[image_io]") {
  TempDir dir;
  const auto root = dir.path() / "sys";
  const auto write = [](const std::filesystem::path& file, const std::string& text) {
    testing::write_text(file, text + "\n");
  };
  // v2: a job's cgroup under a parent holding the tighter limit.
  write(dir.path() / "v2", "0::/jobs/job7");
  write(root / "jobs/job7/memory.max", "max");
  write(root / "jobs/memory.max", "8000000000");
  write(root / "jobs/memory.current", "3000000000");
  CHECK(cgroup_memory_headroom(dir.str("v2"), root.string()) == 5000000000);
  write(root / "jobs/job7/memory.max", "4000000000");
  write(root / "jobs/job7/memory.current", "1000000000");
  CHECK(cgroup_memory_headroom(dir.str("v2"), root.string()) == 3000000000);
  // v1 in a container: only the mount's root exists.
  write(dir.path() / "v1", "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/");
  write(root / "memory/memory.limit_in_bytes", "2000000000");
  write(root / "memory/memory.usage_in_bytes", "500000000");
  CHECK(cgroup_memory_headroom(dir.str("v1"), root.string()) == 1500000000);
  // No limit (v1's "unlimited" is a huge number; v2's "max"), no file: no bound.
  write(root / "memory/memory.limit_in_bytes", "9223372036854771712");
  write(root / "memory/memory.usage_in_bytes", "0");
  CHECK(cgroup_memory_headroom(dir.str("v1"), root.string()) == 9223372036854771712u);
  CHECK(cgroup_memory_headroom(dir.str("none"), root.string()) ==
        std::numeric_limits<uint64_t>::max());
}

// encode_png's bytes decode back to the same pixels (grey and RGB).
TEST_CASE("encode_png round-trips through decode_image", "[image_io]") {
  TempDir dir;
  for (int c : {1, 3}) {
    const auto pixels = testing::pattern(c, 6, 3, c);
    const std::string png = encode_png(pixels.data(), 6, 3, c);
    REQUIRE(png.compare(1, 3, "PNG") == 0);
    const auto path = dir.path() / ("e" + std::to_string(c) + ".png");
    {
      std::ofstream out(path, std::ios::binary);
      out << png;
    }
    const DecodedImage image = decode_image(path.string());
    REQUIRE(image.width == 6);
    REQUIRE(image.height == 3);
    REQUIRE(image.channels == c);
    REQUIRE(image.pixels == std::vector<uint8_t>(pixels.begin(), pixels.end()));
  }
}

// A zero-size image (a PNM header of 0 x 0, a .png name) is one line naming the file, never
// stb_image_resize's abort; resize_image itself refuses an empty image.
TEST_CASE("decode_image and resize_image refuse empty images", "[image_io]") {
  TempDir dir;
  for (const char* header : {"P5\n0 0\n255\n", "P5\n0 4\n255\n", "P5\n4 0\n255\n"}) {
    INFO(header);
    const auto path = dir.path() / "z.png";
    std::ofstream(path, std::ios::binary) << header;
    CHECK_THROWS_WITH(
        decode_image(path.string()),
        Catch::StartsWith("cannot decode image " + path.string() + ": ") && !Catch::Contains("\n"));
  }
  std::ofstream(dir.path() / "z.png", std::ios::binary) << "P5\n0 0\n255\n";
  CHECK_THROWS_WITH(decode_images({dir.str("z.png")}, 16, 1),
                    Catch::Contains(dir.str("z.png")) && Catch::Contains("0 x 0 pixels"));
  CHECK_THROWS_WITH(resize_image(DecodedImage{0, 0, 1, {}}, 16),
                    "resize_image: 0 x 0 pixels is an empty image");
  CHECK(image_size_problem(1, 1).empty());
  CHECK_FALSE(image_size_problem(int64_t{1} << 31, 0).empty());
  CHECK_FALSE(image_size_problem(1, 100000000).empty());
}

// The extension list is the one folder datasets use; any case counts, a bare extension or a
// near-miss does not.
TEST_CASE("has_image_extension", "[image_io]") {
  for (const char* name :
       {"a.jpg", "b.JPEG", "dir/c.Png", "d.bmp", "e.gif", "f.tga", "g.pgm", "h.PPM", "i.pnm"}) {
    CHECK(has_image_extension(name));
  }
  for (const char* name : {".jpg", "a.jpg.txt", "a.webp", "a.tiff", "a.jpgx", "png", ""}) {
    CHECK_FALSE(has_image_extension(name));
  }
}

// A BMP whose header height is negative stores its rows top to bottom (Windows' top-down DIB);
// it used to be refused as "2 x -2 pixels is an empty image".
TEST_CASE("decode_image reads a top-down BMP", "[image_io]") {
  TempDir dir;
  auto le = [](std::string& out, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
  };
  for (const int sign : {-1, 1}) {
    std::string b = "BM";
    le(b, 54 + 16, 4);
    le(b, 0, 4);
    le(b, 54, 4);
    le(b, 40, 4);
    le(b, 2, 4);
    le(b, static_cast<uint32_t>(sign * 2), 4);
    le(b, 1, 2);
    le(b, 24, 2);
    for (int i = 0; i < 6; ++i) {
      le(b, 0, 4);
    }
    // Stored rows (BGR, padded to 8 bytes): first red, green; then blue, white.
    const std::string first = std::string("\x00\x00\xff\x00\xff\x00\x00\x00", 8);
    const std::string second = std::string("\xff\x00\x00\xff\xff\xff\x00\x00", 8);
    b += first + second;
    const auto path = dir.path() / (sign < 0 ? "down.bmp" : "up.bmp");
    std::ofstream(path, std::ios::binary) << b;
    const DecodedImage image = decode_image(path.string());
    REQUIRE(image.width == 2);
    REQUIRE(image.height == 2);
    REQUIRE(image.channels == 3);
    // Top-down: the first stored row is the top one; bottom-up: the last.
    const std::vector<uint8_t> top = sign < 0 ? std::vector<uint8_t>{255, 0, 0, 0, 255, 0}
                                              : std::vector<uint8_t>{0, 0, 255, 255, 255, 255};
    CHECK(std::vector<uint8_t>(image.pixels.begin(), image.pixels.begin() + 6) == top);
  }
}

// Valid images of kinds stb does not decode are named as such, with what to save them as (they
// read as "not PGM data" or "corrupt image (BMP RLE)").
TEST_CASE("decode_image names image variants it does not read", "[image_io]") {
  TempDir dir;
  const auto refused = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.path() / name, std::ios::binary) << bytes;
    try {
      decode_image((dir.path() / name).string());
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("decoded");
  };
  CHECK_THAT(refused("a.pgm", "P2\n2 1\n255\n0 255\n"),
             Catch::EndsWith("a plain-text PNM image (P2), which hpt does not read: save it as "
                             "binary PGM/PPM (P5/P6) or PNG"));
  CHECK_THAT(refused("b.pbm", "P4\n8 1\n\xff"), Catch::Contains("a PBM image (P4)"));
  std::string rle = "BM" + std::string(28, '\0');
  rle[10] = 54;
  rle[14] = 40;
  rle[18] = 2;
  rle[22] = 2;
  rle[26] = 1;
  rle[28] = 8;
  rle += std::string("\x01\x00\x00\x00", 4) + std::string(40, '\0');
  CHECK_THAT(refused("c.bmp", rle), Catch::Contains("a run-length-compressed BMP (RLE8)"));
  // A JPEG's first frame marker: SOF3 (lossless), SOF9 (arithmetic), SOF0 with 12 bits.
  const auto jpeg = [](unsigned char marker, unsigned char bits) {
    return std::string("\xff\xd8\xff", 3) + static_cast<char>(marker) + std::string("\x00\x0b", 2) +
           static_cast<char>(bits) + std::string("\x00\x01\x00\x01\x01\x01\x11\x00", 8) +
           std::string("\xff\xd9", 2);
  };
  CHECK_THAT(refused("d.jpg", jpeg(0xC3, 8)), Catch::Contains("a lossless JPEG"));
  CHECK_THAT(refused("e.jpg", jpeg(0xC9, 8)), Catch::Contains("an arithmetic-coded JPEG"));
  CHECK_THAT(refused("f.jpg", jpeg(0xC0, 12)), Catch::Contains("a 12-bit JPEG"));
}
