// Disk-full suite for RocksEventLog on real RocksDB over FaultInjectionFileSystem: while
// the disk refuses writes, appends fail with UNAVAILABLE ("disk full") and change nothing;
// once space is back, appends succeed on the same open log (it resumes RocksDB itself),
// positions stay gap-free, and a restart shows exactly the acknowledged events.
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/event_id.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/fault_injection_fs.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using storage::AppendResult;
using storage::EventId;
using storage::EventLogOptions;
using storage::EventRecord;
using storage::RocksEventLog;

constexpr char kProject[] = "disk-full";
constexpr int kAppendsBeforeFull = 20;
constexpr int kRefusedAppends = 3;  // The first is refused by the write, the rest by Resume.
constexpr int kAppendsAfterFull = 10;

// Each test runs twice: WALs that grow as written, and WALs prepared with zeros
// (storage/prepared_wal_file_system.h; the parameter is their size).
class DiskFullTest : public FaultFsLogTest, public ::testing::WithParamInterface<uint64_t> {
 protected:
  void SetUp() override {
    options_.prepared_wal_bytes = GetParam();
    ASSERT_NO_FATAL_FAILURE(FaultFsLogTest::SetUp());
    if (GetParam() > 0) {
      const std::vector<std::string> wals = FilesWithSuffix(options_.data_dir, ".log");
      ASSERT_EQ(wals.size(), 1u);
      ASSERT_EQ(FileSize(wals[0]), GetParam()) << "the WAL is not a prepared one";
    }
    for (int i = 0; i < kAppendsBeforeFull; ++i) ASSERT_TRUE(AppendAcked().ok());
  }

  // Appends one event; remembers it as acknowledged or refused.
  absl::StatusOr<AppendResult> AppendAcked() {
    storage::AppendBatch batch = RandomBatch(gen_, kProject, 1, 64);
    const EventId id = batch.events[0].event_id;
    absl::StatusOr<AppendResult> result = log_->Append(std::move(batch));
    (result.ok() ? acked_ids_ : refused_ids_).push_back(id);
    return result;
  }

  // Closes the log, reopens the directory on the real file system and reads every event,
  // which must form a gap-free log with intact hash chains.
  void CloseReopenAndReadAll(std::vector<EventRecord>* events) {
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
    auto reopened = RocksEventLog::Open(options_);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    ASSERT_TRUE(ReadEverything(**reopened, events).ok());
    ASSERT_TRUE(CheckLogStructure(*events).ok()) << CheckLogStructure(*events);
  }

  // Fills the disk and makes kRefusedAppends appends, each of which must be refused.
  void AppendWhileDiskFull() {
    fs_->SetNoSpace(true);
    for (int i = 0; i < kRefusedAppends; ++i) {
      absl::StatusOr<AppendResult> result = AppendAcked();
      ASSERT_FALSE(result.ok()) << "append " << i << " succeeded on a full disk";
      EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
      EXPECT_TRUE(absl::StrContains(result.status().message(), "disk full"))
          << result.status();
    }
  }

  absl::BitGen gen_;
  std::vector<EventId> acked_ids_;
  std::vector<EventId> refused_ids_;
};

TEST_P(DiskFullTest, AppendsOnAFullDiskFailUnavailableAndChangeNothing) {
  const uint64_t position_before = log_->LastPosition();
  ASSERT_EQ(position_before, static_cast<uint64_t>(kAppendsBeforeFull));
  AppendWhileDiskFull();
  EXPECT_GT(fs_->RefusedWrites(), 0u) << "the file system never refused a write";
  EXPECT_EQ(log_->LastPosition(), position_before);
  absl::StatusOr<uint64_t> version = log_->StreamVersion(kProject);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, static_cast<uint64_t>(kAppendsBeforeFull));

  // Everything acknowledged before is still readable, in order, from the open log.
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  ASSERT_EQ(events.size(), acked_ids_.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].event_id, acked_ids_[i]);
  fs_->SetNoSpace(false);
}

TEST_P(DiskFullTest, AppendsSucceedAgainWithoutReopenOnceSpaceIsBack) {
  const uint64_t position_before = log_->LastPosition();
  AppendWhileDiskFull();
  fs_->SetNoSpace(false);
  for (int i = 0; i < kAppendsAfterFull; ++i) {
    absl::StatusOr<AppendResult> result = AppendAcked();
    ASSERT_TRUE(result.ok()) << "append " << i << " after space came back: " << result.status();
    // Gap-free: the refused appends used no position or version.
    EXPECT_EQ(result->last_position, position_before + i + 1);
    EXPECT_EQ(result->first_version, static_cast<uint64_t>(kAppendsBeforeFull + i + 1));
  }
  EXPECT_EQ(log_->LastPosition(), position_before + kAppendsAfterFull);
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
  EXPECT_EQ(events.size(), acked_ids_.size());
}

TEST_P(DiskFullTest, RestartAfterDiskFullShowsExactlyTheAcknowledgedEvents) {
  AppendWhileDiskFull();
  fs_->SetNoSpace(false);
  for (int i = 0; i < kAppendsAfterFull; ++i) ASSERT_TRUE(AppendAcked().ok());
  std::vector<EventRecord> events;
  ASSERT_NO_FATAL_FAILURE(CloseReopenAndReadAll(&events));
  ASSERT_EQ(events.size(), acked_ids_.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event_id, acked_ids_[i]) << "position " << i + 1;
  }
  absl::flat_hash_set<EventId, storage::EventIdHash> refused(refused_ids_.begin(),
                                                              refused_ids_.end());
  for (const EventRecord& e : events) {
    EXPECT_FALSE(refused.contains(e.event_id))
        << "refused event " << storage::FormatEventId(e.event_id) << " appeared at position "
        << e.position;
  }
}

// The log prepares a group while the one before it is being synced, so when the disk fills
// under load, groups prepared on top of the failed one are in flight too: they must all
// fail unwritten, and the log must carry on gap-free once space is back.
TEST_P(DiskFullTest, DiskFillingUnderConcurrentLoadKeepsEveryAckAndWritesNoRefusal) {
  constexpr int kWriters = 8;
  constexpr int kAppendsEach = 80;
  absl::Mutex mu;
  absl::flat_hash_set<EventId, storage::EventIdHash> acked, refused;
  std::atomic<int> acked_count{0};
  // The second half of every writer's appends waits until the disk is full, so the load
  // cannot end before it fills, however the threads are scheduled (bounded wait).
  absl::Notification filled;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      absl::BitGen gen;
      for (int i = 0; i < kAppendsEach; ++i) {
        if (i == kAppendsEach / 2) filled.WaitForNotificationWithTimeout(absl::Seconds(10));
        storage::AppendBatch batch =
            RandomBatch(gen, absl::StrCat("load-", w % 4), 1 + i % 3, 64);
        std::vector<EventId> ids;
        for (const auto& e : batch.events) ids.push_back(e.event_id);
        absl::StatusOr<AppendResult> result = log_->Append(std::move(batch));
        absl::MutexLock lock(&mu);
        if (result.ok()) {
          acked.insert(ids.begin(), ids.end());
          acked_count.fetch_add(1);
        } else {
          EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
          refused.insert(ids.begin(), ids.end());
        }
      }
    });
  }
  // Fill the disk mid-load (bounded wait), hold it full until a write has been refused and
  // a little longer (appends prepared on top of the failed one fail too), then free it.
  for (int i = 0; i < 500 && acked_count.load() < kWriters * kAppendsEach / 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  fs_->SetNoSpace(true);
  filled.Notify();
  for (int i = 0; i < 2500 && fs_->RefusedWrites() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  fs_->SetNoSpace(false);
  for (auto& t : writers) t.join();
  ASSERT_GT(fs_->RefusedWrites(), 0u) << "no write was attempted while the disk was full";
  EXPECT_FALSE(refused.empty());

  // The same open log takes appends again and stays gap-free.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(AppendAcked().ok());
  for (const EventId& id : acked_ids_) acked.insert(id);
  std::vector<EventRecord> events;
  ASSERT_NO_FATAL_FAILURE(CloseReopenAndReadAll(&events));
  absl::flat_hash_set<EventId, storage::EventIdHash> stored;
  for (const EventRecord& e : events) {
    stored.insert(e.event_id);
    EXPECT_FALSE(refused.contains(e.event_id))
        << "refused event " << storage::FormatEventId(e.event_id) << " is at position "
        << e.position;
  }
  EXPECT_EQ(stored.size(), events.size());
  for (const EventId& id : acked) {
    EXPECT_TRUE(stored.contains(id)) << "acknowledged " << storage::FormatEventId(id) << " lost";
  }
}

INSTANTIATE_TEST_SUITE_P(WalFiles, DiskFullTest, ::testing::Values(0, uint64_t{1} << 20),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return std::string(info.param == 0 ? "Growing" : "Prepared");
                         });

}  // namespace
}  // namespace accord::testing
