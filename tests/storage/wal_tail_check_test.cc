// CheckWalTail on hand-built WAL blocks (RocksDB's documented record format): a torn last
// record passes, a record whose length field was changed to run past the end is DATA_LOSS.
// corruption_test.cc checks the same on a real RocksDB WAL.
#include "storage/wal_tail_check.h"

#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_util.h"

namespace accord::storage {
namespace {

constexpr char kFull = 1;

uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// One physical record: masked CRC32C of type and payload, length, type, payload.
std::string Record(char type, const std::string& payload) {
  std::string typed(1, type);
  typed += payload;
  const uint32_t crc = Mask(Crc32c(0, typed));
  std::string r;
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<char>(crc >> (8 * i)));
  r.push_back(static_cast<char>(payload.size() & 0xFF));
  r.push_back(static_cast<char>(payload.size() >> 8));
  r.push_back(type);
  return r + payload;
}

std::string ThreeRecords() {
  return Record(kFull, std::string(300, 'a')) + Record(kFull, std::string(500, 'b')) +
         Record(kFull, std::string(200, 'c'));
}

TEST(WalTailCheckTest, WholeRecordsPass) {
  EXPECT_TRUE(CheckWalTail("w.log", ThreeRecords()).ok());
}

TEST(WalTailCheckTest, TornLastRecordPasses) {
  const std::string log = ThreeRecords();
  for (size_t cut : {1u, 5u, 150u, 206u}) {  // Into the last payload, and into its header.
    EXPECT_TRUE(CheckWalTail("w.log", log.substr(0, log.size() - cut)).ok()) << cut;
  }
}

TEST(WalTailCheckTest, LengthOfLastRecordRaisedPastTheEndIsDataLoss) {
  std::string log = ThreeRecords();
  const size_t last = log.size() - 207;
  log[last + 5] ^= 0x40;  // High length byte: 200 + 16384 bytes, past the end.
  const absl::Status s = CheckWalTail("000012.log", log, 65536);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("000012.log"), std::string::npos) << s;
  EXPECT_NE(s.message().find(std::to_string(65536 + last)), std::string::npos) << s;
}

TEST(WalTailCheckTest, LengthOfAnEarlierRecordRaisedPastTheEndIsDataLoss) {
  std::string log = ThreeRecords();
  log[5] ^= 0x10;  // The first record now "runs" over the two after it and past the end.
  EXPECT_EQ(CheckWalTail("w.log", log).code(), absl::StatusCode::kDataLoss);
}

TEST(WalTailCheckTest, ZeroedSpaceAfterTheRecordsPasses) {
  EXPECT_TRUE(CheckWalTail("w.log", ThreeRecords() + std::string(64, '\0')).ok());
}

TEST(WalTailCheckTest, OnlyTheLastBlockIsLookedAt) {
  std::string log(32768, '\xff');  // A first block that is not a valid record at all.
  log += ThreeRecords();
  EXPECT_TRUE(CheckWalTail("w.log", log).ok());
}

TEST(WalTailCheckTest, DirectoryCheckFindsTheCorruptWalAndIgnoresOtherFiles) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("db"));
  auto write = [&](const std::string& name, const std::string& contents) {
    std::ofstream(dir.Sub("db/" + name), std::ios::binary) << contents;
  };
  std::string corrupt = ThreeRecords();
  corrupt[5] ^= 0x10;
  write("LOG", corrupt);               // Not a WAL.
  write("MANIFEST-000005", corrupt);   // Not a WAL.
  write("000004.log", ThreeRecords());
  EXPECT_TRUE(CheckWalTails(dir.Sub("db")).ok());
  write("000009.log", corrupt);
  const absl::Status s = CheckWalTails(dir.Sub("db"));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("000009.log"), std::string::npos) << s;
  EXPECT_TRUE(CheckWalTails(dir.Sub("missing")).ok());
}

}  // namespace
}  // namespace accord::storage
