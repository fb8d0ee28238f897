#pragma once
// Big-endian integers in file formats (IDX headers, PNG chunks, the SQLite header).

#include <cstdint>

namespace hpt {

// The 32-bit big-endian unsigned integer at bytes[0..3].
inline uint32_t read_be32(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

}  // namespace hpt
