#include "hpt/trainer/image_io.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "hpt/io/big_endian.hpp"
#include "hpt/io/regular_file.hpp"
#include "hpt/trainer/image_truncation.hpp"

namespace hpt::trainer {

namespace {

// Whether name ends in ext (lower case), in any case.
bool ends_with_extension(const std::string& name, const char* ext) {
  const size_t n = std::strlen(ext);
  return name.size() > n &&
         std::equal(ext, ext + n, name.end() - static_cast<std::ptrdiff_t>(n), [](char e, char c) {
           return e == std::tolower(static_cast<unsigned char>(c));
         });
}

}  // namespace

std::string image_format_named_by(const std::string& path) {
  for (const char* ext : k_image_extensions) {
    if (ends_with_extension(path, ext)) {
      std::string format(ext + 1);
      std::transform(format.begin(), format.end(), format.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      return format == "JPG" ? "JPEG" : format;
    }
  }
  return "";
}

namespace {

// stb's reason for a failed decode of path as a phrase: a cut-off file leaves stb with
// "outofdata", "unexpected end" or, mid-PNG, the torn bytes of a chunk name ("IDA"), so those
// read as truncated; bytes of no format stb knows are "not PNG data" (the format the name
// promises); other reasons ("bad IHDR len") are quoted.
std::string decode_problem(const std::string& path) {
  const char* reason = stbi_failure_reason();
  const std::string r = reason != nullptr ? reason : "";
  static const char* const k_truncated[] = {
      "outofdata", "unexpected end",  "not enough pixels",
      "no IDAT",   "bad zlib header", "expected marker"};  // A JPEG's data ran out.
  // "bad png sig" is left from stb's probe for PNG when the format it did find (a JPEG cut off
  // mid-scan) fails without a reason of its own: it names no problem of this file.
  if (r.size() < 5 || r == "bad png sig") {
    return "truncated or corrupt image data";
  }
  if (std::find(std::begin(k_truncated), std::end(k_truncated), r) != std::end(k_truncated)) {
    return "truncated or corrupt image data (" + r + ")";
  }
  if (r == "unknown image type") {
    const std::string format = image_format_named_by(path);
    return fmt::format("not {} hpt reads ({})",
                       format.empty() ? "an image" : format + " data, nor any other image format",
                       fmt::join(k_image_extensions, " "));
  }
  return "corrupt image (" + r + ")";
}

// A valid image of a kind stb does not decode, named ("" if bytes are none of them): ASCII
// PNM and PBM, run-length BMP, and JPEGs that are lossless, arithmetic-coded or 12-bit.
std::string unsupported_variant(const std::string& b) {
  const auto byte = [&](size_t i) { return i < b.size() ? static_cast<uint8_t>(b[i]) : 0; };
  if (b.size() >= 2 && b[0] == 'P' && (b[1] == '1' || b[1] == '2' || b[1] == '3' || b[1] == '4')) {
    return fmt::format(
        "a {} image (P{}), which hpt does not read: save it as binary PGM/PPM "
        "(P5/P6) or PNG",
        b[1] == '1' || b[1] == '4' ? "PBM" : "plain-text PNM", b[1]);
  }
  if (b.size() >= 34 && b[0] == 'B' && b[1] == 'M' && (byte(30) == 1 || byte(30) == 2) &&
      byte(31) == 0 && byte(32) == 0 && byte(33) == 0) {
    return fmt::format(
        "a run-length-compressed BMP (RLE{}), which hpt does not read: save it "
        "uncompressed or as PNG",
        byte(30) == 1 ? 8 : 4);
  }
  if (byte(0) == 0xFF && byte(1) == 0xD8) {  // JPEG: the first start-of-frame marker says how.
    for (size_t at = 2; at + 4 < b.size();) {
      if (byte(at) != 0xFF) {
        break;
      }
      const uint8_t marker = byte(at + 1);
      const size_t length = (static_cast<size_t>(byte(at + 2)) << 8) | byte(at + 3);
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
        if (marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF) {
          return "a lossless JPEG, which hpt does not read: save it as PNG";
        }
        if (marker >= 0xC9) {
          return "an arithmetic-coded JPEG, which hpt does not read: save it as a baseline JPEG or "
                 "PNG";
        }
        if (byte(at + 4) != 8) {
          return fmt::format(
              "a {}-bit JPEG, which hpt does not read: save it as an 8-bit JPEG "
              "or PNG",
              byte(at + 4));
        }
        break;
      }
      at += 2 + length;
    }
  }
  return "";
}

constexpr char k_png_signature[] = "\x89PNG\r\n\x1a\n";

// A whole chunk of PNG bytes: where it starts, its type and its data's length.
struct PngChunk {
  size_t at;
  std::string type;
  uint32_t length;
};

// The whole chunks of PNG bytes, in order, up to IEND or the first chunk cut short; none for
// bytes that are not PNG.
std::vector<PngChunk> png_chunks(const std::string& b) {
  std::vector<PngChunk> chunks;
  if (b.compare(0, 8, k_png_signature, 8) != 0) {
    return chunks;
  }
  for (size_t at = 8; at + 12 <= b.size();) {
    const uint32_t length = read_be32(reinterpret_cast<const uint8_t*>(b.data()) + at);
    if (length > b.size() - at - 12) {
      break;
    }
    chunks.push_back({at, b.substr(at + 4, 4), length});
    if (chunks.back().type == "IEND") {
      break;
    }
    at += size_t{length} + 12;
  }
  return chunks;
}

// The CRC-32 a chunk stores: of its type and data.
uint32_t png_crc(const char* type_and_data, size_t size) {
  return static_cast<uint32_t>(
      crc32_z(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(type_and_data), size));
}

// The first critical chunk (IHDR, PLTE, IDAT, IEND: an upper-case first letter) of PNG bytes
// whose stored CRC-32 differs from its type and data's, as "corrupt PNG: chunk IDAT fails its
// CRC", or "" (not PNG, or every whole critical chunk checks out; a chunk cut short is left to
// the decoder's truncation checks). stb_image checks no CRC, so a flipped bit in compressed
// data decoded silently into other pixels. Ancillary chunks are not checked, as libpng by
// default only warns about theirs: none changes the pixels hpt keeps.
std::string png_crc_problem(const std::string& b) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(b.data());
  for (const PngChunk& c : png_chunks(b)) {
    const bool critical = std::isupper(static_cast<unsigned char>(c.type[0])) != 0;
    if (critical && png_crc(b.data() + c.at + 4, size_t{c.length} + 4) !=
                        read_be32(bytes + c.at + 8 + c.length)) {
      return fmt::format(
          "corrupt PNG: chunk {} fails its CRC (a damaged file)",
          std::all_of(c.type.begin(), c.type.end(),
                      [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); })
              ? c.type
              : "at byte " + std::to_string(c.at));
    }
  }
  return "";
}

// A palette PNG (colour type 3) whose PLTE holds fewer colours than its bit depth can index,
// with its PLTE padded with black to that many (its CRC recomputed); other bytes as given.
// stb_image read a pixel whose index is past the palette from uninitialised memory: the same
// file decoded to other pixels from run to run ("same" and "different" in hpt match). Padded,
// such a pixel is black every time; the other pixels are as before.
std::string png_with_full_palette(std::string b) {
  const std::vector<PngChunk> chunks = png_chunks(b);
  if (chunks.empty() || chunks[0].type != "IHDR" || chunks[0].length < 13) {
    return b;
  }
  const auto byte = [&](size_t at) { return static_cast<uint8_t>(b[at]); };
  const size_t colours = byte(24) <= 8 ? size_t{1} << byte(24) : 0;
  if (byte(25) != 3 || colours == 0) {
    return b;
  }
  for (const PngChunk& c : chunks) {
    if (c.type == "IDAT" || c.type == "IEND") {
      break;
    }
    if (c.type != "PLTE") {
      continue;
    }
    if (c.length % 3 != 0 || c.length / 3 >= colours) {
      return b;
    }
    const std::string chunk =
        "PLTE" + b.substr(c.at + 8, c.length) + std::string((colours - c.length / 3) * 3, '\0');
    const auto be32 = [](uint32_t v) {
      return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
    };
    return b.substr(0, c.at) + be32(static_cast<uint32_t>(chunk.size() - 4)) + chunk +
           be32(png_crc(chunk.data(), chunk.size())) + b.substr(c.at + 12 + c.length);
  }
  return b;
}

// The width and height a PNG's IHDR chunk claims, or {0, 0} (not PNG, or too short): read
// here because stb_image's header probe refuses a PNG of over 2^30 decoded bytes as only "too
// large".
std::pair<int64_t, int64_t> png_header_size(const std::string& b) {
  if (b.size() < 24 || b.compare(0, 8, k_png_signature, 8) != 0 || b.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(b.data());
  return {int64_t{read_be32(bytes + 16)}, int64_t{read_be32(bytes + 20)}};
}

}  // namespace

bool has_image_extension(const std::string& name) {
  return std::any_of(std::begin(k_image_extensions), std::end(k_image_extensions),
                     [&](const char* ext) { return ends_with_extension(name, ext); });
}

std::string image_size_problem(int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) {
    return fmt::format("{} x {} pixels is an empty image", width, height);
  }
  if (width > k_max_image_pixels || height > k_max_image_pixels ||
      width * height > k_max_image_pixels) {
    return fmt::format("{} x {} pixels is more than the {} (8192 x 8192) hpt reads", width, height,
                       k_max_image_pixels);
  }
  return "";
}

uint64_t decode_peak_bytes(int64_t width, int64_t height, int channels, int bytes_per_channel) {
  const auto pixels = static_cast<uint64_t>(std::max<int64_t>(width, 0)) *
                      static_cast<uint64_t>(std::max<int64_t>(height, 0));
  const auto native = static_cast<uint64_t>(std::max(channels, 1));
  const uint64_t eight_bit = bytes_per_channel > 1 ? native : 0;
  return pixels *
         (2 * native * static_cast<uint64_t>(std::max(bytes_per_channel, 1)) + eight_bit + 3);
}

void DecodeBudget::acquire(uint64_t bytes) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_freed.wait(lock, [&] { return m_held == 0 || bytes <= m_limit - std::min(m_held, m_limit); });
  m_held += bytes;
}

void DecodeBudget::release(uint64_t bytes) {
  {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_held -= std::min(bytes, m_held);
  }
  m_freed.notify_all();
}

namespace {

// Holds bytes of a budget (none when it is null) for its lifetime.
class BudgetHold {
 public:
  BudgetHold(DecodeBudget* budget, uint64_t bytes) : m_budget(budget), m_bytes(bytes) {
    if (m_budget != nullptr) {
      m_budget->acquire(m_bytes);
    }
  }
  ~BudgetHold() {
    if (m_budget != nullptr) {
      m_budget->release(m_bytes);
    }
  }
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;

 private:
  DecodeBudget* m_budget;
  uint64_t m_bytes;
};

}  // namespace

DecodedImage decode_image(const std::string& path) { return decode_image(path, nullptr); }

DecodedImage decode_image(const std::string& path, DecodeBudget* budget) {
  // Read once, from a regular file only: a FIFO would block forever, /dev/zero never end.
  std::string bytes;
  try {
    bytes = read_regular_file(path, k_max_image_file_bytes);
  } catch (const FileError& e) {
    throw std::runtime_error(std::string("cannot decode image ") + e.what());
  }
  if (bytes.empty()) {
    throw std::runtime_error(fmt::format("cannot decode image {}: empty file (0 bytes)", path));
  }
  if (const std::string problem = png_crc_problem(bytes); !problem.empty()) {
    throw std::runtime_error(fmt::format("cannot decode image {}: {}", path, problem));
  }
  bytes = png_with_full_palette(std::move(bytes));
  const auto* encoded = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int size = static_cast<int>(bytes.size());
  int width = 0;
  int height = 0;
  int native = 0;
  // The header first: a few hundred compressed bytes can claim gigabytes of pixels.
  if (stbi_info_from_memory(encoded, size, &width, &height, &native) != 0) {
    // A top-down BMP's header holds a negative height, which its decoder reads as upright rows.
    if (const std::string problem = image_size_problem(width, std::abs(int64_t{height}));
        !problem.empty()) {
      throw std::runtime_error(fmt::format("cannot decode image {}: {}", path, problem));
    }
  } else if (const auto [png_width, png_height] = png_header_size(bytes); png_width > 0) {
    if (const std::string problem = image_size_problem(png_width, png_height); !problem.empty()) {
      throw std::runtime_error(fmt::format("cannot decode image {}: {}", path, problem));
    }
  }
  const BudgetHold hold(budget,
                        decode_peak_bytes(width, std::abs(int64_t{height}), native,
                                          stbi_is_16_bit_from_memory(encoded, size) != 0 ? 2 : 1));
  std::unique_ptr<uint8_t, void (*)(void*)> data(
      stbi_load_from_memory(encoded, size, &width, &height, &native, 0), stbi_image_free);
  if (!data) {
    const std::string variant = unsupported_variant(bytes);
    throw std::runtime_error(fmt::format("cannot decode image {}: {}", path,
                                         variant.empty() ? decode_problem(path) : variant));
  }
  if (const std::string problem = image_size_problem(width, height); !problem.empty()) {
    throw std::runtime_error(fmt::format("cannot decode image {}: {}", path, problem));
  }
  if (const std::string cut = image_truncation_problem(bytes, path); !cut.empty()) {
    throw std::runtime_error(
        fmt::format("cannot decode image {}: truncated image data ({})", path, cut));
  }
  DecodedImage image;
  image.width = width;
  image.height = height;
  image.channels = native >= 3 ? 3 : 1;  // Drop alpha (grey+alpha -> grey, RGBA -> RGB).
  const size_t pixels = static_cast<size_t>(width) * height;
  image.pixels.resize(pixels * image.channels);
  if (native == image.channels) {
    std::memcpy(image.pixels.data(), data.get(), image.pixels.size());
  } else {
    for (size_t i = 0; i < pixels; ++i) {
      for (int c = 0; c < image.channels; ++c) {
        image.pixels[i * image.channels + c] = data.get()[i * native + c];
      }
    }
  }
  return image;
}

DecodedImage resize_image(const DecodedImage& image, int size) {
  return resize_image(image, size, size);
}

DecodedImage resize_image(const DecodedImage& image, int width, int height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument(
        fmt::format("resize_image: sizes must be > 0, got {} x {}", width, height));
  }
  if (image.width == width && image.height == height) {
    return image;
  }
  // stb_image_resize asserts (aborts) on an empty source; callers name the file first.
  if (const std::string problem = image_size_problem(image.width, image.height); !problem.empty()) {
    throw std::invalid_argument("resize_image: " + problem);
  }
  DecodedImage out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  out.pixels.resize(static_cast<size_t>(width) * height * image.channels);
  const bool shrinking = width < image.width && height < image.height;
  const stbir_filter filter = shrinking ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
  const int ok = stbir_resize_uint8_generic(image.pixels.data(), image.width, image.height, 0,
                                            out.pixels.data(), width, height, 0, image.channels,
                                            STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, filter,
                                            STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) {
    throw std::runtime_error(fmt::format("cannot resize a {}x{} image to {}x{}", image.width,
                                         image.height, width, height));
  }
  return out;
}

DecodedImage load_image(const std::string& path, int width, int height, DecodeBudget* budget) {
  DecodedImage image = decode_image(path, budget);
  if (width > 0 && height > 0) {
    image = resize_image(image, width, height);
  }
  return image;
}

DecodedImage convert_channels(const DecodedImage& image, int channels) {
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument(
        fmt::format("convert_channels: channels must be 1 or 3, got {}", channels));
  }
  if (image.channels == channels) {
    return image;
  }
  DecodedImage out;
  out.width = image.width;
  out.height = image.height;
  out.channels = channels;
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  out.pixels.resize(pixels * channels);
  if (channels == 3) {
    for (size_t i = 0; i < pixels; ++i) {
      std::fill_n(out.pixels.begin() + static_cast<std::ptrdiff_t>(3 * i), 3, image.pixels[i]);
    }
  } else {
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t* p = &image.pixels[3 * i];
      const int luma = (299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000;
      out.pixels[i] = static_cast<uint8_t>(luma);
    }
  }
  return out;
}

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) {
    return std::numeric_limits<uint64_t>::max();
  }
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

namespace {

// A cgroup memory file's bytes, or UINT64_MAX for "max", a missing file or other text.
uint64_t cgroup_bytes(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text.empty() ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::numeric_limits<uint64_t>::max();
  }
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::numeric_limits<uint64_t>::max();
  }
}

// What a cgroup folder's limit leaves: limit - usage (0 when used up), UINT64_MAX without one.
uint64_t cgroup_headroom(const std::string& folder, const char* limit_file,
                         const char* usage_file) {
  const uint64_t limit = cgroup_bytes(folder + "/" + limit_file);
  if (limit == std::numeric_limits<uint64_t>::max()) {
    return limit;
  }
  const uint64_t used = cgroup_bytes(folder + "/" + usage_file);
  if (used == std::numeric_limits<uint64_t>::max()) {
    return limit;  // No usage to read: the limit alone.
  }
  return used >= limit ? 0 : limit - used;
}

// This process's address space in bytes (/proc/self/statm), or 0 when unknown.
uint64_t address_space_used() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0;
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return (in >> pages) && page_size > 0 ? pages * static_cast<uint64_t>(page_size) : 0;
}

}  // namespace

uint64_t cgroup_memory_headroom(const std::string& proc_cgroup, const std::string& cgroup_root) {
  std::ifstream in(proc_cgroup);
  uint64_t room = std::numeric_limits<uint64_t>::max();
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) {
      continue;
    }
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    const bool v2 = controllers.empty();
    if (!v2 && ("," + controllers + ",").find(",memory,") == std::string::npos) {
      continue;
    }
    const std::string mount = v2 ? cgroup_root : cgroup_root + "/memory";
    // Every level up to the mount's root: a parent's limit binds too, and inside a container
    // the path names the host's cgroup while the mount's root is the container's own.
    for (;;) {
      room = std::min(room, v2 ? cgroup_headroom(mount + path, "memory.max", "memory.current")
                               : cgroup_headroom(mount + path, "memory.limit_in_bytes",
                                                 "memory.usage_in_bytes"));
      if (path.empty() || path == "/") {
        break;
      }
      path = path.substr(0, path.rfind('/'));
    }
  }
  return room;
}

uint64_t usable_memory_bytes() {
  uint64_t bytes = std::min(physical_memory_bytes(),
                            cgroup_memory_headroom("/proc/self/cgroup", "/sys/fs/cgroup"));
  struct rlimit as {};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const uint64_t used = address_space_used();  // LibTorch alone takes most of a GB.
    const uint64_t limit = static_cast<uint64_t>(as.rlim_cur);
    bytes = std::min(bytes, used < limit ? limit - used : 0);
  }
  return bytes;
}

std::string memory_text(uint64_t memory_bytes) {
  const double gb = static_cast<double>(memory_bytes) / 1e9;
  if (memory_bytes < physical_memory_bytes() && memory_bytes == usable_memory_bytes()) {
    return fmt::format(
        "the {:.1f} GB of memory this process may still use (what its cgroup's "
        "limit or ulimit -v leaves)",
        gb);
  }
  return fmt::format("this machine's {:.1f} GB of memory", gb);
}

std::string image_memory_problem(double bytes, uint64_t memory_bytes) {
  if (memory_bytes == 0) {
    memory_bytes = usable_memory_bytes();
  }
  if (bytes <= static_cast<double>(memory_bytes)) {
    return "";
  }
  return fmt::format("take {:.1f} GB decoded, more than {}", bytes / 1e9,
                     memory_text(memory_bytes));
}

PackedImages decode_images(const std::vector<std::string>& paths, int image_size, int threads,
                           uint64_t memory_bytes) {
  const size_t n = paths.size();
  PackedImages packed;
  packed.count = static_cast<int64_t>(n);
  if (n == 0) {
    return packed;
  }
  const DecodedImage first = load_image(paths[0], image_size, image_size);
  const std::string resize_hint = image_size > 0 ? "lower" : "set";
  // The whole set, sized by its first image, before the others fill memory.
  const double bytes = static_cast<double>(n) * first.width * first.height * first.channels;
  if (const std::string problem = image_memory_problem(bytes, memory_bytes); !problem.empty()) {
    throw std::runtime_error(
        fmt::format("{} images of {} x {} x {} {}; {} image_size to resize them", n, first.width,
                    first.height, first.channels, problem, resize_hint));
  }
  // Each image goes into its slot of one buffer as soon as it is decoded, in the buffer's
  // channels. Behind a grey first image, the first colour image widens the buffer to RGB at
  // once (grey slots replicated; memory-checked for the grey and RGB buffers held together).
  const int width = first.width;
  const int height = first.height;
  const size_t area = static_cast<size_t>(height) * width;
  int channels = first.channels;
  std::shared_mutex widening;   // Shared: writing a slot; exclusive: widening the buffer.
  std::atomic<size_t> next{1};  // The next image to decode.
  packed.pixels.resize(area * channels * n);
  std::memcpy(packed.pixels.data(), first.pixels.data(), area * channels);
  auto widen = [&](const std::string& colour_path) {
    std::unique_lock<std::shared_mutex> lock(widening);
    if (channels == 3) {
      return;  // Another thread widened it.
    }
    const double held = static_cast<double>(n) * area * 4;
    if (const std::string problem = image_memory_problem(held, memory_bytes); !problem.empty()) {
      next = n;  // No thread decodes more.
      throw std::runtime_error(fmt::format(
          "{} images of {} x {} widened to RGB (grey {}, colour {}) {}; {} image_size to resize "
          "them",
          n, width, height, paths[0], colour_path, problem, resize_hint));
    }
    std::vector<uint8_t> wide(area * 3 * n);
    for (size_t p = 0; p < area * n; ++p) {
      std::fill_n(wide.data() + 3 * p, 3, packed.pixels[p]);
    }
    packed.pixels = std::move(wide);
    channels = 3;
  };
  std::vector<std::exception_ptr> errors(n);
  DecodeBudget budget((memory_bytes != 0 ? memory_bytes : usable_memory_bytes()) / 2);
  auto work = [&]() {
    for (size_t i = next++; i < n; i = next++) {
      try {
        DecodedImage image = load_image(paths[i], image_size, image_size, &budget);
        if (image_size <= 0 && (image.width != width || image.height != height)) {
          throw std::runtime_error(
              fmt::format("image {} is {}x{} but {} is {}x{}; set image_size to resize them",
                          paths[i], image.width, image.height, paths[0], width, height));
        }
        std::shared_lock<std::shared_mutex> lock(widening);
        if (image.channels == 3 && channels == 1) {
          lock.unlock();
          widen(paths[i]);
          lock.lock();
        }
        image = convert_channels(image, channels);
        std::memcpy(packed.pixels.data() + i * area * channels, image.pixels.data(),
                    area * channels);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  threads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(n, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& thread : pool) {
    thread.join();
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);  // The first failing file, independent of timing.
    }
  }
  packed.height = height;
  packed.width = width;
  packed.channels = channels;
  return packed;
}

std::string encode_png(const uint8_t* pixels, int width, int height, int channels) {
  int length = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> png(
      stbi_write_png_to_mem(pixels, width * channels, width, height, channels, &length),
      [](void* p) { STBIW_FREE(p); });
  if (!png) {
    throw std::runtime_error(
        fmt::format("cannot encode a {}x{}x{} image as PNG", width, height, channels));
  }
  return std::string(reinterpret_cast<const char*>(png.get()), static_cast<size_t>(length));
}

}  // namespace hpt::trainer
