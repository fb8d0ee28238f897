#include "hpt/trainer/image_truncation.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <optional>

#include "hpt/trainer/image_io.hpp"

namespace hpt::trainer {

namespace {

uint64_t le16(std::string_view b, size_t at) {
  return at + 2 <= b.size()
             ? static_cast<uint8_t>(b[at]) | (uint64_t{static_cast<uint8_t>(b[at + 1])} << 8)
             : 0;
}

uint64_t le32(std::string_view b, size_t at) { return le16(b, at) | (le16(b, at + 2) << 16); }

std::string short_by(size_t have, uint64_t need) {
  return have < need ? fmt::format("{} of {} bytes: its header needs {}", have, need, need) : "";
}

// An uncompressed BMP (BI_RGB, BI_BITFIELDS) holds its rows, each padded to 4 bytes, from the
// data offset on. RLE-compressed ones are left to stb.
std::string bmp_problem(std::string_view b) {
  const uint64_t offset = le32(b, 10);
  const uint64_t header = le32(b, 14);
  uint64_t width = 0;
  uint64_t height = 0;
  uint64_t bpp = 0;
  if (header == 12) {  // OS/2 BITMAPCOREHEADER.
    width = le16(b, 18);
    height = le16(b, 20);
    bpp = le16(b, 24);
  } else {
    const uint64_t compression = le32(b, 30);
    if (header < 40 || (compression != 0 && compression != 3)) {
      return "";
    }
    width = le32(b, 18);
    const auto h = static_cast<int32_t>(le32(b, 22));  // Negative: rows top to bottom.
    height = static_cast<uint64_t>(h < 0 ? -static_cast<int64_t>(h) : h);
    bpp = le16(b, 28);
  }
  const uint64_t row = (bpp * width + 31) / 32 * 4;
  return short_by(b.size(), offset + row * height);
}

// A TGA's pixels follow its 18-byte header, image id and colour map: w x h of them, or for
// types 9-11 run-length packets that must cover as many.
std::string tga_problem(std::string_view b) {
  if (b.size() < 18) {
    return short_by(b.size(), 18);
  }
  const auto type = static_cast<uint8_t>(b[2]);
  const uint64_t map_bytes =
      b[1] != 0 ? le16(b, 5) * ((static_cast<uint64_t>(static_cast<uint8_t>(b[7])) + 7) / 8) : 0;
  const uint64_t start = 18 + static_cast<uint8_t>(b[0]) + map_bytes;
  const uint64_t pixels = le16(b, 12) * le16(b, 14);
  const uint64_t pixel_bytes = (static_cast<uint64_t>(static_cast<uint8_t>(b[16])) + 7) / 8;
  if (type >= 1 && type <= 3) {
    return short_by(b.size(), start + pixels * pixel_bytes);
  }
  if (type < 9 || type > 11) {
    return "";
  }
  uint64_t at = start;
  for (uint64_t covered = 0; covered < pixels;) {
    if (at >= b.size()) {
      return fmt::format("{} bytes: its run-length packets end after {} of {} pixels", b.size(),
                         covered, pixels);
    }
    const auto packet = static_cast<uint8_t>(b[at++]);
    const uint64_t count = (packet & 0x7F) + 1u;
    at += (packet & 0x80) != 0 ? pixel_bytes : count * pixel_bytes;
    covered += count;
  }
  return at > b.size() ? fmt::format("{} bytes: its last run-length packet needs {}", b.size(), at)
                       : "";
}

// Binary PNM (P5 grey, P6 RGB): a text header of width, height and maximum value, one
// whitespace byte, then width x height samples of 1 byte (2 above a maximum of 255).
std::string pnm_problem(std::string_view b) {
  size_t at = 2;
  std::optional<uint64_t> fields[3];
  for (auto& field : fields) {
    while (at < b.size() && (std::isspace(static_cast<unsigned char>(b[at])) || b[at] == '#')) {
      if (b[at] == '#') {
        while (at < b.size() && b[at] != '\n') {
          ++at;
        }
      } else {
        ++at;
      }
    }
    uint64_t value = 0;
    size_t digits = 0;
    for (; at < b.size() && std::isdigit(static_cast<unsigned char>(b[at])) && digits < 10;
         ++at, ++digits) {
      value = value * 10 + static_cast<uint64_t>(b[at] - '0');
    }
    if (digits == 0) {
      return "";  // Not a header this reads: stb's own checks apply.
    }
    field = value;
  }
  const uint64_t channels = b[1] == '6' ? 3 : 1;
  const uint64_t sample = *fields[2] > 255 ? 2 : 1;
  return short_by(b.size(), at + 1 + *fields[0] * *fields[1] * channels * sample);
}

// A GIF: its first image (what stb decodes) must be whole: the blocks before it, its colour table
// and every sub-block of its data up to their terminator. What follows (more frames, the trailer
// byte, padding) is not needed: a file missing only its trailer, or with bytes after it, decodes.
std::string gif_problem(std::string_view b) {
  const auto cut = [&] {
    return fmt::format("{} bytes: the GIF's first image ends before its data does", b.size());
  };
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  size_t at = 13;  // Header and logical screen descriptor.
  if (b.size() < at) {
    return cut();
  }
  if (byte(10) & 0x80) {
    at += 3 * (size_t{1} << ((byte(10) & 7) + 1));  // Global colour table.
  }
  const auto sub_blocks = [&] {  // Past a run of sub-blocks; false if it is cut off.
    while (at < b.size()) {
      const size_t n = byte(at++);
      if (n == 0) {
        return true;
      }
      at += n;
    }
    return false;
  };
  while (at < b.size()) {
    const uint8_t block = byte(at++);
    if (block == 0x21) {  // An extension: its label, then sub-blocks.
      ++at;
      if (!sub_blocks()) {
        return cut();
      }
    } else if (block == 0x2C) {  // The first image: descriptor, colour table, LZW data.
      at += 9;
      if (at > b.size()) {
        return cut();
      }
      if (byte(at - 1) & 0x80) {
        at += 3 * (size_t{1} << ((byte(at - 1) & 7) + 1));
      }
      ++at;  // LZW minimum code size.
      return sub_blocks() ? "" : cut();
    } else {
      return "";  // The trailer, or what the decoder judges.
    }
  }
  return cut();
}

}  // namespace

std::string image_truncation_problem(std::string_view bytes, const std::string& path) {
  if (bytes.substr(0, 2) == "BM") {
    return bmp_problem(bytes);
  }
  if (bytes.substr(0, 4) == "GIF8") {
    return gif_problem(bytes);
  }
  if (bytes.substr(0, 2) == "P5" || bytes.substr(0, 2) == "P6") {
    return pnm_problem(bytes);
  }
  if (image_format_named_by(path) == "TGA") {
    return tga_problem(bytes);
  }
  return "";
}

}  // namespace hpt::trainer
