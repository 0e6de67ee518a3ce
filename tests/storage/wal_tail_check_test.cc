// CheckWalTail on hand-built WAL blocks (RocksDB's documented record format): a torn last
// record passes, a record whose length field was changed to run past the end is DATA_LOSS;
// in a WAL ending in zeros, a write with unwritten sectors is cut off and damage without
// them (or with whole records after it) is DATA_LOSS.
// corruption_test.cc checks the same on a real RocksDB WAL.
#include "storage/wal_tail_check.h"

#include "storage/crc32c.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>
#include <algorithm>

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

using CheckResult = absl::StatusOr<std::optional<uint64_t>>;

// CheckWalTail found nothing to repair.
::testing::AssertionResult NeedsNoRepair(const CheckResult& cut) {
  if (!cut.ok()) return ::testing::AssertionFailure() << cut.status();
  if (cut->has_value()) return ::testing::AssertionFailure() << "cut at " << **cut;
  return ::testing::AssertionSuccess();
}

// CheckWalTail calls for a cut at `offset`.
::testing::AssertionResult IsCutAt(const CheckResult& cut, uint64_t offset) {
  if (!cut.ok()) return ::testing::AssertionFailure() << cut.status();
  if (!cut->has_value()) return ::testing::AssertionFailure() << "no cut";
  if (**cut != offset) return ::testing::AssertionFailure() << "cut at " << **cut;
  return ::testing::AssertionSuccess();
}

TEST(WalTailCheckTest, WholeRecordsPass) {
  EXPECT_TRUE(NeedsNoRepair(CheckWalTail("w.log", ThreeRecords())));
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
  const absl::Status s = CheckWalTail("000012.log", log).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("000012.log"), std::string::npos) << s;
  EXPECT_NE(s.message().find(std::to_string(last)), std::string::npos) << s;
}

TEST(WalTailCheckTest, LengthOfAnEarlierRecordRaisedPastTheEndIsDataLoss) {
  std::string log = ThreeRecords();
  log[5] ^= 0x10;  // The first record now "runs" over the two after it and past the end.
  EXPECT_EQ(CheckWalTail("w.log", log).status().code(), absl::StatusCode::kDataLoss);
}

TEST(WalTailCheckTest, ZeroedSpaceAfterTheRecordsPasses) {
  EXPECT_TRUE(NeedsNoRepair(CheckWalTail("w.log", ThreeRecords() + std::string(64, '\0'))));
}

TEST(WalTailCheckTest, UnknownRecordTypesAreLeftToRocksDb) {
  std::string log(32768, '\xff');  // Type 255: not a record type this check knows.
  log += ThreeRecords();
  EXPECT_TRUE(NeedsNoRepair(CheckWalTail("w.log", log)));
}

// A WAL prepared with zeros (prepared_wal_file_system.h), as a crash leaves it: records,
// then the zeros not yet overwritten.
constexpr size_t kPrepared = 4 * 32768;
std::string Prepared(const std::string& records) {
  return records + std::string(kPrepared - records.size(), '\0');
}

TEST(WalTailCheckTest, PreparedWalEndingInZerosNeedsNoRepair) {
  EXPECT_TRUE(NeedsNoRepair(CheckWalTail("w.log", Prepared(ThreeRecords()))));
}

TEST(WalTailCheckTest, TornWriteWithUnwrittenSectorsIsCutAtTheLastWholeRecord) {
  const std::string whole = ThreeRecords();
  // The next write, 2000 bytes, of which the sectors after its first two stayed zeros.
  std::string torn = Record(kFull, std::string(2000, 'd'));
  const size_t written_end = (whole.size() / 512 + 2) * 512;
  std::fill(torn.begin() + static_cast<long>(written_end - whole.size()), torn.end(), '\0');
  EXPECT_TRUE(IsCutAt(CheckWalTail("w.log", Prepared(whole + torn)), whole.size()));
}

TEST(WalTailCheckTest, TornWriteWithOnlyTheStartOfItsHeaderWrittenReadsAsZeroedSpace) {
  // Three bytes of the next write's checksum reached the disk, its length and type did not:
  // RocksDB reads a zero type and length as zeroed space, so there is nothing to repair.
  const std::string whole = ThreeRecords();
  std::string torn = Record(kFull, std::string(2000, 'd'));
  std::fill(torn.begin() + 3, torn.end(), '\0');
  EXPECT_TRUE(NeedsNoRepair(CheckWalTail("w.log", Prepared(whole + torn))));
}

TEST(WalTailCheckTest, TornWriteWhoseHeaderASectorBoundaryCutIsCut) {
  // The next write's header starts 5 bytes before a sector boundary: its checksum and the
  // low byte of its length reached the disk, the sector after the boundary did not. Its
  // type reads 0 and its length lost its high byte (260 reads as 4), so the length says
  // nothing about where the record ends; the zeroed rest of the header's sector does.
  const std::string whole = Record(kFull, std::string(298, 'a')) +
                            Record(kFull, std::string(500, 'b')) +
                            Record(kFull, std::string(200, 'c'));
  ASSERT_EQ(whole.size() % 512, 512u - 5);
  std::string torn = Record(kFull, std::string(260, 'd'));
  std::fill(torn.begin() + 5, torn.end(), '\0');
  EXPECT_TRUE(IsCutAt(CheckWalTail("w.log", Prepared(whole + torn)), whole.size()));
}

TEST(WalTailCheckTest, TornWriteWhoseFirstSectorIsMissingIsCut) {
  const std::string whole = ThreeRecords();
  std::string torn = Record(kFull, std::string(3000, 'd'));
  // Only the write's last sector reached the disk.
  const size_t last_sector = ((whole.size() + torn.size()) / 512) * 512 - whole.size();
  std::fill(torn.begin(), torn.begin() + static_cast<long>(last_sector), '\0');
  EXPECT_TRUE(IsCutAt(CheckWalTail("w.log", Prepared(whole + torn)), whole.size()));
}

TEST(WalTailCheckTest, FragmentedRecordWithItsEndUnwrittenIsCut) {
  // FIRST fills the rest of the block; its LAST fragment in the next block is zeros.
  const std::string whole = ThreeRecords();
  const std::string first = Record(2, std::string(32768 - whole.size() - 7, 'e'));
  EXPECT_TRUE(IsCutAt(CheckWalTail("w.log", Prepared(whole + first)), whole.size()));
}

TEST(WalTailCheckTest, FlippedByteInTheLastRecordOfAPreparedWalIsDataLoss) {
  std::string records = ThreeRecords();
  records[records.size() - 100] ^= 0x01;  // In the last payload: no sector of it is zeros.
  const absl::Status s = CheckWalTail("w.log", Prepared(records)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("no sector of it is unwritten"), std::string::npos) << s;
}

TEST(WalTailCheckTest, DamageFollowedByAWholeRecordIsDataLossEvenWithZeros) {
  // A zeroed sector in the first block, and a whole record in the next: not a torn write.
  std::string log = ThreeRecords();
  std::fill(log.begin() + 512, log.begin() + 1024, '\0');
  log += std::string(32768 - log.size(), '\0');
  log += Record(kFull, std::string(100, 'z'));
  const absl::Status s = CheckWalTail("w.log", Prepared(log)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("a whole record follows at byte 32768"), std::string::npos) << s;
}

TEST(WalTailCheckTest, CorruptLengthInsidePreparedSpaceIsDataLoss) {
  std::string records = ThreeRecords();
  const size_t last = records.size() - 207;
  records[last + 4] = static_cast<char>(250);  // 200 -> 250 bytes: 50 zeros now "inside" it.
  const absl::Status s = CheckWalTail("w.log", Prepared(records)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("length field is corrupt"), std::string::npos) << s;
}

// Writes logical records as RocksDB's log::Writer does: fragments (FULL, or FIRST,
// MIDDLE..., LAST) that never cross a 32 KiB block, a block's last < 7 bytes zeroed.
class WalWriter {
 public:
  // Appends one logical record; returns the offset where it starts.
  size_t Add(const std::string& payload) {
    const size_t start = log_.size();
    size_t done = 0;
    bool first = true;
    do {
      size_t left_in_block = 32768 - log_.size() % 32768;
      if (left_in_block < 7) {
        for (size_t i = 0; i < left_in_block; ++i) trailer_.insert(log_.size() + i);
        log_.append(left_in_block, '\0');
        left_in_block = 32768;
      }
      headers_.insert(log_.size());
      const size_t n = std::min(payload.size() - done, left_in_block - 7);
      const bool last = done + n == payload.size();
      const char type = first ? (last ? kFull : 2) : (last ? 4 : 3);
      log_ += Record(type, payload.substr(done, n));
      done += n;
      first = false;
    } while (done < payload.size());
    return start;
  }
  const std::string& log() const { return log_; }
  bool IsHeader(size_t offset) const { return headers_.contains(offset); }
  bool IsTrailer(size_t offset) const { return trailer_.contains(offset); }

 private:
  std::string log_;
  absl::flat_hash_set<size_t> headers_;  // Offsets of physical record headers.
  absl::flat_hash_set<size_t> trailer_;  // Offsets of block trailer bytes.
};

// Random payload bytes without zeros, so no zero run arises inside a record by chance.
std::string RandomPayload(absl::BitGen& gen, size_t size) {
  std::string p(size, '\0');
  for (char& c : p) c = static_cast<char>(absl::Uniform<int>(gen, 1, 256));
  return p;
}

// 2,000 random logs, each prepared with zeros, whose last write is torn at random: some of
// its 512-byte sectors (at least one holding ≥ kMinUnwrittenRun of its bytes) read as
// zeros. The check must cut exactly the torn record off — never report DATA_LOSS, never
// cut an earlier record. With a flipped bit in an earlier record instead, or in the last
// one, it must report DATA_LOSS.
TEST(WalTailCheckTest, RandomTornLastWritesAreCutAndRandomFlipsAreDataLoss) {
  absl::BitGen gen;
  for (int round = 0; round < 2000; ++round) {
    WalWriter w;
    const int records = absl::Uniform<int>(gen, 1, 12);
    size_t last_start = 0;
    for (int r = 0; r < records; ++r) {
      // Mostly small, sometimes spanning blocks (fragments).
      const size_t size = absl::Bernoulli(gen, 0.2) ? absl::Uniform<size_t>(gen, 1, 70000)
                                                    : absl::Uniform<size_t>(gen, 1, 3000);
      last_start = w.Add(RandomPayload(gen, size));
    }
    const std::string whole = w.log();
    const size_t end = whole.size();
    const std::string prepared = whole + std::string(3 * 32768 + 4096, '\0');
    SCOPED_TRACE(absl::StrCat("round ", round, ", last record ", last_start, "..", end));

    // The torn write: each sector of [last_start, end) unwritten with probability 1/3, and
    // at least one that holds >= kMinUnwrittenRun bytes of it.
    std::string torn = prepared;
    std::vector<size_t> candidates;
    bool any = false;
    for (size_t s = last_start / 512 * 512; s < end; s += 512) {
      const size_t lo = std::max(s, last_start), hi = std::min(s + 512, end);
      if (hi - lo >= kMinUnwrittenRun) candidates.push_back(s);
      if (absl::Bernoulli(gen, 1.0 / 3)) {
        std::fill(torn.begin() + static_cast<long>(lo), torn.begin() + static_cast<long>(hi), '\0');
        any = any || hi - lo >= kMinUnwrittenRun;
      }
    }
    // A record of a few bytes split over two sectors holds fewer than kMinUnwrittenRun in
    // each: the rule promises nothing for it (unwritten, it may read as DATA_LOSS).
    if (candidates.empty()) continue;
    if (!any) {
      const size_t s = candidates[absl::Uniform<size_t>(gen, 0, candidates.size())];
      std::fill(torn.begin() + static_cast<long>(std::max(s, last_start)),
                torn.begin() + static_cast<long>(std::min(s + 512, end)), '\0');
    }
    const auto cut = CheckWalTail("w.log", torn);
    ASSERT_TRUE(cut.ok()) << cut.status();
    if (cut->has_value()) {
      EXPECT_EQ(**cut, last_start);
    } else {
      // Only when RocksDB reads the rest as zeroed space: the record's header is gone.
      EXPECT_EQ(torn.substr(last_start + 4, 3), std::string(3, '\0'));
    }

    // Untouched, the prepared log needs nothing.
    const auto clean = CheckWalTail("w.log", prepared);
    ASSERT_TRUE(clean.ok()) << clean.status();
    EXPECT_FALSE(clean->has_value());

    // One flipped bit anywhere in the records: DATA_LOSS, except in a block's zero trailer
    // (never read) or where it turns a header's type into one this check leaves to RocksDB
    // (which rejects an unknown type itself).
    std::string flipped = prepared;
    const size_t at = absl::Uniform<size_t>(gen, 0, end);
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << absl::Uniform<int>(gen, 0, 8)));
    const bool type_byte = at >= 6 && w.IsHeader(at - 6);
    const auto flip = CheckWalTail("w.log", flipped);
    if (w.IsTrailer(at) || (type_byte && static_cast<uint8_t>(flipped[at]) > 4)) {
      ASSERT_TRUE(flip.ok()) << flip.status();
      EXPECT_FALSE(flip->has_value());
    } else {
      EXPECT_EQ(flip.status().code(), absl::StatusCode::kDataLoss)
          << "flip at " << at << ": "
          << (flip.ok() ? (flip->has_value() ? absl::StrCat("cut at ", **flip) : "passed")
                        : flip.status().ToString());
    }
  }
}

TEST(WalTailCheckTest, RepairFindsTheCorruptWalAndIgnoresOtherFiles) {
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
  std::vector<std::string> repairs;
  EXPECT_TRUE(RepairWalTails(dir.Sub("db"), &repairs).ok());
  EXPECT_TRUE(repairs.empty());
  write("000009.log", corrupt);
  const absl::Status s = RepairWalTails(dir.Sub("db"), &repairs);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("000009.log"), std::string::npos) << s;
  EXPECT_TRUE(RepairWalTails(dir.Sub("missing"), &repairs).ok());
}

TEST(WalTailCheckTest, RepairCutsATornWriteOffTheFile) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("db"));
  const std::string whole = ThreeRecords();
  std::string torn = Record(kFull, std::string(2000, 'd'));
  std::fill(torn.begin() + 600, torn.end(), '\0');
  std::ofstream(dir.Sub("db/000007.log"), std::ios::binary) << Prepared(whole + torn);
  std::vector<std::string> repairs;
  ASSERT_TRUE(RepairWalTails(dir.Sub("db"), &repairs).ok());
  EXPECT_EQ(std::filesystem::file_size(dir.Sub("db/000007.log")), whole.size());
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_NE(repairs[0].find("000007.log"), std::string::npos) << repairs[0];
  // Repaired once, the file needs nothing more.
  repairs.clear();
  ASSERT_TRUE(RepairWalTails(dir.Sub("db"), &repairs).ok());
  EXPECT_TRUE(repairs.empty());
}

}  // namespace
}  // namespace accord::storage
