// Corruption suite for RocksEventLog on real RocksDB files: a flipped byte in the middle of
// the write-ahead log or of a table file must surface as DATA_LOSS, never as a log that
// silently got shorter or different; a torn WAL tail (the last write cut short, as a crash
// mid-write leaves it) must reopen and keep every event before the tear.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using storage::EventLogOptions;
using storage::EventRecord;
using storage::ProposedRecord;
using storage::RocksEventLog;

// Enough events, each its own synced append and WAL record, for a WAL of several 32 KiB
// blocks, so "the middle" is well before the last block (where a tear is expected).
constexpr int kEvents = 400;
constexpr size_t kPayloadBytes = 256;

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.data_dir = dir_.Sub("log"); }

  // Opens a fresh log, appends kEvents events one append each (kSync), optionally flushes
  // them to table files, and closes it.
  void WriteLog(bool flush) {
    auto log = RocksEventLog::Open(options_);
    ASSERT_TRUE(log.ok()) << log.status();
    absl::BitGen gen;
    for (int i = 0; i < kEvents; ++i) {
      storage::AppendBatch batch = RandomBatch(gen, i % 2 ? "odd" : "even", 1, kPayloadBytes);
      written_.push_back(batch.events[0]);
      auto result = (*log)->Append(std::move(batch));
      ASSERT_TRUE(result.ok()) << result.status();
      ASSERT_EQ(result->last_position, static_cast<uint64_t>(i + 1));
    }
    if (flush) {
      ASSERT_TRUE((*log)->FlushForTesting().ok());
    }
    ASSERT_TRUE((*log)->Close().ok());
  }

  // The one WAL file, after checking that it (not a table) holds the events.
  // Stores `state` as project p's snapshot at version 10 (big enough for a blob file),
  // flushed, and closes the log.
  void WriteSnapshotToABlobFile(const std::string& state) {
    auto log = RocksEventLog::Open(options_);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->PutSnapshot("p", 10, state).ok());
    ASSERT_TRUE((*log)->FlushForTesting().ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  std::string SoleWalHoldingTheEvents() {
    const std::vector<std::string> wals = FilesWithSuffix(options_.data_dir, ".log");
    EXPECT_EQ(wals.size(), 1u);
    EXPECT_TRUE(FilesWithSuffix(options_.data_dir, ".sst").empty())
        << "closing the log flushed the memtables; the WAL no longer holds the events";
    if (wals.empty()) return "";
    EXPECT_GT(FileSize(wals.back()), kEvents * kPayloadBytes);
    return wals.back();
  }

  // Checks that `events` are the first events written, unchanged.
  void ExpectPrefixOfWritten(const std::vector<EventRecord>& events) {
    ASSERT_LE(events.size(), written_.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].position, i + 1);
      EXPECT_EQ(events[i].event_id, written_[i].event_id) << "position " << i + 1;
      EXPECT_EQ(events[i].payload, written_[i].payload) << "position " << i + 1;
    }
  }

  TempDir dir_;
  EventLogOptions options_;
  std::vector<ProposedRecord> written_;  // In position order.
};

TEST_F(CorruptionTest, FlippedByteInTheWalFailsOpenWithDataLoss) {
  WriteLog(/*flush=*/false);
  const std::string wal = SoleWalHoldingTheEvents();
  ASSERT_FALSE(wal.empty());
  ASSERT_TRUE(FlipByte(wal, FileSize(wal) / 2).ok());

  auto log = RocksEventLog::Open(options_);
  ASSERT_FALSE(log.ok()) << "opened a corrupt WAL; LastPosition " << (*log)->LastPosition()
                         << " of " << kEvents;
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
}

TEST_F(CorruptionTest, FlippedByteInATableIsDataLossNotAShorterLog) {
  WriteLog(/*flush=*/true);
  std::vector<std::string> tables = FilesWithSuffix(options_.data_dir, ".sst");
  ASSERT_FALSE(tables.empty()) << "FlushForTesting wrote no table file";
  const std::string largest = *std::max_element(
      tables.begin(), tables.end(),
      [](const std::string& a, const std::string& b) { return FileSize(a) < FileSize(b); });
  ASSERT_GT(FileSize(largest), kEvents * kPayloadBytes / 2) << "the events are not in " << largest;
  ASSERT_TRUE(FlipByte(largest, FileSize(largest) / 2).ok());

  auto log = RocksEventLog::Open(options_);
  if (!log.ok()) {
    EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
    return;
  }
  std::vector<EventRecord> events;
  absl::Status read = ReadEverything(**log, &events);
  EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss)
      << read << "; read " << events.size() << " of " << kEvents << " events";
  // Whatever came back before the error must be the log as written.
  ExpectPrefixOfWritten(events);
}

TEST_F(CorruptionTest, TornWalTailReopensAndKeepsEveryEarlierEvent) {
  WriteLog(/*flush=*/false);
  const std::string wal = SoleWalHoldingTheEvents();
  ASSERT_FALSE(wal.empty());
  // Cut into the last record (the last append: one event of kPayloadBytes payload).
  std::filesystem::resize_file(wal, FileSize(wal) - 5);

  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->LastPosition(), static_cast<uint64_t>(kEvents - 1));
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(**log, &events).ok());
  ASSERT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
  EXPECT_EQ(events.size(), static_cast<size_t>(kEvents - 1));
  ExpectPrefixOfWritten(events);
}

// RocksDB 7.8's WAL reader checks a record's length before its checksum, and in the
// file's last 32 KiB block a length running past the end of the file is taken for a writer
// that died mid-record (a torn tail), which kTolerateCorruptedTailRecords drops silently:
// one flipped bit in the high length byte of the last block's first record made the log
// reopen without the acknowledged events of that block (LastPosition 377 of 400).
// storage/wal_tail_check.h tells the two apart before RocksDB recovers.
TEST_F(CorruptionTest, FlippedLengthByteInTheLastWalBlockFailsOpenWithDataLoss) {
  WriteLog(/*flush=*/false);
  const std::string wal = SoleWalHoldingTheEvents();
  ASSERT_FALSE(wal.empty());
  constexpr uint64_t kBlockSize = 32768;  // log::kBlockSize
  const uint64_t size = FileSize(wal);
  const uint64_t last_block = (size - 1) / kBlockSize * kBlockSize;
  ASSERT_GT(size - last_block, 7u) << "the last block holds no record header";
  // Header: checksum (4), length (2, little-endian), type (1).
  ASSERT_TRUE(FlipByte(wal, last_block + 5).ok());

  auto log = RocksEventLog::Open(options_);
  ASSERT_FALSE(log.ok()) << "opened a corrupt WAL; LastPosition " << (*log)->LastPosition()
                         << " of " << kEvents;
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
}

// Snapshots are checked by their own CRC-32C (RocksDB's blob checksums are skipped for
// speed): a byte flipped in a snapshot's blob file is DATA_LOSS on the read, and again on
// the next read although the bad bytes now sit in the blob cache.
TEST_F(CorruptionTest, FlippedByteInASnapshotBlobIsDataLossOnEveryRead) {
  const std::string state(1 << 20, 's');
  ASSERT_NO_FATAL_FAILURE(WriteSnapshotToABlobFile(state));
  const std::vector<std::string> blobs = FilesWithSuffix(options_.data_dir, ".blob");
  ASSERT_EQ(blobs.size(), 1u);
  ASSERT_TRUE(FlipByte(blobs[0], FileSize(blobs[0]) / 2).ok());

  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int read = 0; read < 2; ++read) {
    auto snapshot = (*log)->FloorSnapshot("p", 10);
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss)
        << "read " << read << ": "
        << (snapshot.ok() ? "no error" : snapshot.status().ToString());
  }
}

TEST_F(CorruptionTest, IntactSnapshotBlobReadsBackAfterReopen) {
  const std::string state(1 << 20, 's');
  ASSERT_NO_FATAL_FAILURE(WriteSnapshotToABlobFile(state));
  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int read = 0; read < 2; ++read) {  // From the blob file, then from the cache.
    auto snapshot = (*log)->FloorSnapshot("p", 10);
    ASSERT_TRUE(snapshot.ok() && snapshot->has_value()) << snapshot.status();
    EXPECT_EQ((*snapshot)->bytes, state);
  }
}

}  // namespace
}  // namespace accord::testing
