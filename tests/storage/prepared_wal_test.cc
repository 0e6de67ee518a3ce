// Prepared write-ahead logs (storage/prepared_wal_file_system.h) on real RocksDB files: a
// new WAL is the spare written with zeros ahead of time, a clean close trims it to its data,
// and after a crash — the WAL ending in zeros, or in a write with unwritten sectors — the
// log reopens with every acknowledged event, while a damaged acknowledged record is still
// DATA_LOSS (storage/wal_tail_check.h).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "gtest/gtest.h"
#include "storage/prepared_wal_file_system.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using storage::EventLogOptions;
using storage::EventRecord;
using storage::ProposedRecord;
using storage::RocksEventLog;

constexpr uint64_t kPrepared = uint64_t{1} << 20;
constexpr int kEvents = 50;
// Each append a WAL record of several 512-byte sectors, so a test can unwrite some.
constexpr size_t kPayloadBytes = 2000;

// The offset just past the last non-zero byte of `path`.
uint64_t DataEnd(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == '\0') --end;
  return end;
}

void ZeroRange(const std::string& path, uint64_t from, uint64_t to) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(from));
  const std::string zeros(to - from, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
}

class PreparedWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.Sub("log");
    options_.prepared_wal_bytes = kPrepared;
  }

  // Appends kEvents single-event appends, each acknowledged (synced), to `log`.
  void AppendEvents(RocksEventLog& log) {
    absl::BitGen gen;
    for (int i = 0; i < kEvents; ++i) {
      storage::AppendBatch batch = RandomBatch(gen, "p", 1, kPayloadBytes);
      written_.push_back(batch.events[0]);
      auto result = log.Append(std::move(batch));
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  // Opens the log, appends, and copies its directory while it is open — the files as a
  // process crash leaves them (what was written is in the page cache) — to `crashed`.
  void WriteAndCrash(const std::string& crashed) {
    auto log = RocksEventLog::Open(options_);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_NO_FATAL_FAILURE(AppendEvents(**log));
    std::filesystem::copy(options_.data_dir, crashed, std::filesystem::copy_options::recursive);
    ASSERT_TRUE((*log)->Close().ok());
  }

  std::string SoleWal(const std::string& dir) {
    const std::vector<std::string> wals = FilesWithSuffix(dir, ".log");
    EXPECT_EQ(wals.size(), 1u);
    return wals.empty() ? "" : wals.back();
  }

  // Reopens `dir` and checks it holds the first `count` events written, unchanged.
  void ExpectEvents(const std::string& dir, size_t count) {
    EventLogOptions options = options_;
    options.data_dir = dir;
    auto log = RocksEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->LastPosition(), count);
    std::vector<EventRecord> events;
    ASSERT_TRUE(ReadEverything(**log, &events).ok());
    ASSERT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
    ASSERT_EQ(events.size(), count);
    for (size_t i = 0; i < count; ++i) {
      EXPECT_EQ(events[i].event_id, written_[i].event_id) << "position " << i + 1;
      EXPECT_EQ(events[i].payload, written_[i].payload) << "position " << i + 1;
    }
  }

  TempDir dir_;
  EventLogOptions options_;
  std::vector<ProposedRecord> written_;
};

TEST_F(PreparedWalTest, NewWalIsTheZeroedSpareAndACleanCloseTrimsIt) {
  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string wal = SoleWal(options_.data_dir);
  EXPECT_EQ(FileSize(wal), kPrepared) << "the WAL was not created from the prepared spare";
  ASSERT_NO_FATAL_FAILURE(AppendEvents(**log));
  EXPECT_EQ(FileSize(wal), kPrepared) << "appends grew the prepared WAL";
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_LT(FileSize(wal), kPrepared);
  EXPECT_GT(FileSize(wal), kEvents * kPayloadBytes);
  EXPECT_EQ(DataEnd(wal), FileSize(wal)) << "zeros left after the data on a clean close";
  ExpectEvents(options_.data_dir, kEvents);
}

TEST_F(PreparedWalTest, NextWalTakesTheSpareWrittenInTheBackground) {
  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string spare =
      options_.data_dir + "/" + storage::PreparedWalFileSystem::kSpareName;
  // The first spare went to the first WAL; wait (bounded) for the next one.
  for (int i = 0; i < 200 && !(std::filesystem::exists(spare) && FileSize(spare) == kPrepared);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(FileSize(spare), kPrepared) << "no spare was prepared in the background";
  ASSERT_TRUE((*log)->FlushForTesting().ok());  // Switches to a new WAL.
  ASSERT_NO_FATAL_FAILURE(AppendEvents(**log));
  std::vector<std::string> wals = FilesWithSuffix(options_.data_dir, ".log");
  ASSERT_FALSE(wals.empty());
  std::sort(wals.begin(), wals.end());
  EXPECT_EQ(FileSize(wals.back()), kPrepared) << wals.back() << " was not the spare";
  ASSERT_TRUE((*log)->Close().ok());
}

TEST_F(PreparedWalTest, CrashLeavesZerosAfterTheDataAndEveryEventReopens) {
  const std::string crashed = dir_.Sub("crashed");
  ASSERT_NO_FATAL_FAILURE(WriteAndCrash(crashed));
  const std::string wal = SoleWal(crashed);
  ASSERT_EQ(FileSize(wal), kPrepared);
  ASSERT_LT(DataEnd(wal), kPrepared) << "no zeros after the data: not a prepared WAL";
  ExpectEvents(crashed, kEvents);
}

TEST_F(PreparedWalTest, WriteWithUnwrittenSectorsIsCutAndEveryEarlierEventKept) {
  const std::string crashed = dir_.Sub("crashed");
  ASSERT_NO_FATAL_FAILURE(WriteAndCrash(crashed));
  const std::string wal = SoleWal(crashed);
  // A power cut during the last write: its last sectors never reached the disk (they read
  // as the zeros the file was prepared with). The record is over 2,000 bytes long.
  const uint64_t end = DataEnd(wal);
  const uint64_t from = (end - 1024) / 512 * 512 + 512;
  ZeroRange(wal, from, end);
  ExpectEvents(crashed, kEvents - 1);
  // The cut is reported for the operator (accordd logs it at startup).
  EventLogOptions options = options_;
  options.data_dir = crashed;
  options.prepared_wal_bytes = 0;
  // Reopened once already by ExpectEvents: cut then, nothing to repair now.
  auto log = RocksEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE((*log)->RecoveryNotes().empty());
}

TEST_F(PreparedWalTest, CutOfATornWriteIsReportedInRecoveryNotes) {
  const std::string crashed = dir_.Sub("crashed");
  ASSERT_NO_FATAL_FAILURE(WriteAndCrash(crashed));
  const std::string wal = SoleWal(crashed);
  const uint64_t end = DataEnd(wal);
  ZeroRange(wal, (end - 1024) / 512 * 512 + 512, end);
  EventLogOptions options = options_;
  options.data_dir = crashed;
  auto log = RocksEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::vector<std::string> notes = (*log)->RecoveryNotes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("cut a torn write"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find(std::filesystem::path(wal).filename().string()), std::string::npos)
      << notes[0];
}

TEST_F(PreparedWalTest, FlippedByteInTheLastAcknowledgedRecordIsDataLoss) {
  const std::string crashed = dir_.Sub("crashed");
  ASSERT_NO_FATAL_FAILURE(WriteAndCrash(crashed));
  const std::string wal = SoleWal(crashed);
  ASSERT_TRUE(FlipByte(wal, DataEnd(wal) - 100).ok());
  EventLogOptions options = options_;
  options.data_dir = crashed;
  auto log = RocksEventLog::Open(options);
  ASSERT_FALSE(log.ok()) << "opened a corrupt WAL; LastPosition " << (*log)->LastPosition();
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
}

// The repair runs before RocksDB opens the database, and may cut a WAL: it must never touch
// a directory another log has open (here in the same process; RocksDB's lock is the same
// across processes). A sector of the open log's last record is zeroed, as a reader can see a
// write still being copied in: the second open must fail without cutting the file.
TEST_F(PreparedWalTest, OpeningADirectoryInUseFailsWithoutTouchingItsWal) {
  auto log = RocksEventLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_NO_FATAL_FAILURE(AppendEvents(**log));
  const std::string wal = SoleWal(options_.data_dir);
  const uint64_t end = DataEnd(wal);
  ZeroRange(wal, (end - 1024) / 512 * 512 + 512, end);
  const uint64_t size = FileSize(wal);

  auto second = RocksEventLog::Open(options_);
  EXPECT_FALSE(second.ok()) << "opened a directory already in use";
  EXPECT_EQ(FileSize(wal), size) << "the second open cut the first one's WAL";
  ASSERT_TRUE((*log)->Close().ok());
}

}  // namespace
}  // namespace accord::testing
