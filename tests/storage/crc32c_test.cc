// Crc32c against the standard check value, and piecewise extension (which exercises the
// 8-byte loop and the byte tail of the SSE4.2 path on every alignment).
#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace accord::storage {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);  // CRC-32C check value.
  EXPECT_EQ(Crc32c(0, ""), 0u);
}

TEST(Crc32cTest, ExtendingPieceByPieceEqualsOneCall) {
  std::mt19937 rng(7);
  std::string data(1 << 16, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const uint32_t whole = Crc32c(0, data);
  for (size_t piece : {1u, 3u, 7u, 8u, 9u, 4095u}) {
    uint32_t crc = 0;
    for (size_t at = 0; at < data.size(); at += piece) {
      crc = Crc32c(crc, std::string_view(data).substr(at, piece));
    }
    EXPECT_EQ(crc, whole) << "pieces of " << piece;
  }
  // Byte at a time (the byte loop only) against the word loop.
  uint32_t bytewise = 0;
  for (char c : data) bytewise = Crc32c(bytewise, std::string_view(&c, 1));
  EXPECT_EQ(bytewise, whole);
}

}  // namespace
}  // namespace accord::storage
