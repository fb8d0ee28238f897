#include <catch2/catch.hpp>

#include "hpt/io/big_endian.hpp"

// Most significant byte first, every byte's full range (no sign extension).
TEST_CASE("read_be32 reads most significant byte first", "[io]") {
  const unsigned char bytes[] = {0x00, 0x00, 0x08, 0x03, 0xFF, 0xFE, 0x80, 0x01};
  CHECK(hpt::read_be32(bytes) == 0x803u);
  CHECK(hpt::read_be32(bytes + 4) == 0xFFFE8001u);
}
