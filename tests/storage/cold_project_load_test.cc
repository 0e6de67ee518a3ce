// RocksEventLog's cold-project loads: after a restart, a project with a long index is read
// by the loader thread, not the writer, so appends to other projects go on meanwhile; the
// cold project's own appends wait, keep their order, and are not lost when the log closes.
// A hook holds the loader on the big project, so "meanwhile" is deterministic.
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/append_guard.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using storage::AppendBatch;
using storage::AppendResult;
using storage::EventLogOptions;
using storage::ExpectedVersion;
using storage::RocksEventLog;

// Appends made to the big project before the restart: more than the writer reads inline.
constexpr uint64_t kBigAppends = 400;

struct Outcome {
  absl::Notification done;
  absl::StatusOr<AppendResult> result = absl::UnknownError("not answered");
  bool Wait(absl::Duration timeout = absl::Seconds(30)) {
    return done.WaitForNotificationWithTimeout(timeout);
  }
};

class ColdProjectLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.Sub("log");
    Open();
    // "big": one index entry per append, so its load scans kBigAppends entries.
    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (uint64_t i = 0; i < kBigAppends; ++i) {
      outcomes.push_back(std::make_unique<Outcome>());
      AppendAsync(RandomBatch(gen_, "big", 1, 32), outcomes.back().get());
    }
    for (auto& o : outcomes) {
      ASSERT_TRUE(o->Wait());
      ASSERT_TRUE(o->result.ok()) << o->result.status();
    }
    ASSERT_TRUE(log_->Append(RandomBatch(gen_, "small", 2, 32)).ok());
    // Restart: every project is cold.
    ASSERT_TRUE(log_->Close().ok());
    Open();
    log_->SetColdLoadHookForTesting([this](const std::string& project_id) {
      {
        absl::MutexLock lock(&mu_);
        loaded_by_loader_.insert(project_id);
      }
      if (project_id != "big") return;
      big_loading_.Notify();
      release_big_.WaitForNotification();
    });
  }

  void TearDown() override {
    if (!release_big_.HasBeenNotified()) release_big_.Notify();
  }

  void Open() {
    auto log = RocksEventLog::Open(options_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void AppendAsync(AppendBatch batch, Outcome* outcome) {
    log_->AppendAsync(std::move(batch), [outcome](absl::StatusOr<AppendResult> r) {
      outcome->result = std::move(r);
      outcome->done.Notify();
    });
  }

  std::set<std::string> LoadedByLoader() {
    absl::MutexLock lock(&mu_);
    return loaded_by_loader_;
  }

  TempDir dir_;
  EventLogOptions options_;
  std::unique_ptr<RocksEventLog> log_;
  absl::BitGen gen_;
  absl::Notification big_loading_;
  absl::Notification release_big_;
  absl::Mutex mu_;
  std::set<std::string> loaded_by_loader_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ColdProjectLoadTest, OtherProjectsAppendWhileALargeColdProjectLoads) {
  Outcome big;
  AppendAsync(RandomBatch(gen_, "big", 1, 32), &big);
  ASSERT_TRUE(big_loading_.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "the big project was not handed to the loader";

  // A small cold project and a new one commit while the big one is still being read.
  Outcome small, fresh;
  AppendAsync(RandomBatch(gen_, "small", 1, 32), &small);
  AppendAsync(RandomBatch(gen_, "fresh", 1, 32), &fresh);
  ASSERT_TRUE(small.Wait() && fresh.Wait());
  ASSERT_TRUE(small.result.ok()) << small.result.status();
  ASSERT_TRUE(fresh.result.ok()) << fresh.result.status();
  EXPECT_EQ(small.result->first_version, 3u);
  EXPECT_EQ(fresh.result->first_version, 1u);
  EXPECT_FALSE(big.done.HasBeenNotified()) << "the big project's append did not wait for its load";

  release_big_.Notify();
  ASSERT_TRUE(big.Wait());
  ASSERT_TRUE(big.result.ok()) << big.result.status();
  EXPECT_EQ(big.result->first_version, kBigAppends + 1);
  // Small and new projects are read by the writer itself.
  EXPECT_EQ(LoadedByLoader(), std::set<std::string>{"big"});
}

TEST_F(ColdProjectLoadTest, AppendsWaitingForTheirProjectsLoadKeepTheirOrder) {
  // Exact expected versions: each succeeds only if the ones before it were applied first.
  constexpr int kAppends = 6;
  std::vector<std::unique_ptr<Outcome>> outcomes;
  for (int i = 0; i < kAppends; ++i) {
    outcomes.push_back(std::make_unique<Outcome>());
    AppendBatch batch = RandomBatch(gen_, "big", 1, 32);
    batch.expected = ExpectedVersion::Exact(kBigAppends + i);
    AppendAsync(std::move(batch), outcomes.back().get());
    if (i == 0) {
      ASSERT_TRUE(big_loading_.WaitForNotificationWithTimeout(absl::Seconds(30)));
    }
  }
  release_big_.Notify();
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(outcomes[i]->Wait());
    ASSERT_TRUE(outcomes[i]->result.ok()) << i << ": " << outcomes[i]->result.status();
    EXPECT_EQ(outcomes[i]->result->first_version, kBigAppends + 1 + i);
  }
}

TEST_F(ColdProjectLoadTest, CloseWaitsForAColdLoadAndCommitsTheAppendsWaitingForIt) {
  Outcome big;
  AppendAsync(RandomBatch(gen_, "big", 2, 32), &big);
  ASSERT_TRUE(big_loading_.WaitForNotificationWithTimeout(absl::Seconds(30)));
  std::future<absl::Status> closing = std::async(std::launch::async, [&] { return log_->Close(); });
  // Close must not finish (or drop the append) while the load is held.
  EXPECT_EQ(closing.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release_big_.Notify();
  const absl::Status close_status = closing.get();
  ASSERT_TRUE(close_status.ok()) << close_status;
  ASSERT_TRUE(big.Wait());
  ASSERT_TRUE(big.result.ok()) << big.result.status();
  EXPECT_EQ(big.result->last_version, kBigAppends + 2);

  Open();
  auto version = log_->StreamVersion("big");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, kBigAppends + 2);
  std::vector<storage::EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

// Refuses every append of exactly three events (and admits the rest): lets a test put a
// refused append between admitted ones of one group.
class RefuseThreeEventAppends final : public storage::AppendGuard {
 public:
  absl::Status Admit(const AppendBatch& batch, const std::vector<storage::EventRecord>&,
                     storage::StreamHistory&) override {
    if (batch.events.size() == 3) return absl::FailedPreconditionError("three events");
    return absl::OkStatus();
  }
  storage::SealedGroup Seal() override { return {}; }
  void Commit() override {}
  void Abort() override {}
};

class ColdProjectLoadWithGuardTest : public ColdProjectLoadTest {
 protected:
  void SetUp() override {
    options_.append_guard = &guard_;
    ColdProjectLoadTest::SetUp();
  }
  RefuseThreeEventAppends guard_;
};

// The appends waiting for the big project's load are prepared in one group when it
// arrives: an admitted one, one the guard refuses, one admitted after it, and a retry of
// that last one, which the log checks against the group's own records (not yet in the
// database). The refused append's records must be gone from the group, or the retry
// would be compared with them.
TEST_F(ColdProjectLoadWithGuardTest, ARefusedAppendLeavesNoRecordsInItsGroup) {
  Outcome first, refused, admitted, retry;
  AppendAsync(RandomBatch(gen_, "big", 1, 32), &first);
  ASSERT_TRUE(big_loading_.WaitForNotificationWithTimeout(absl::Seconds(30)));
  AppendAsync(RandomBatch(gen_, "big", 3, 32), &refused);
  const AppendBatch later = RandomBatch(gen_, "big", 2, 32);
  AppendAsync(later, &admitted);
  AppendAsync(later, &retry);
  release_big_.Notify();
  ASSERT_TRUE(first.Wait() && refused.Wait() && admitted.Wait() && retry.Wait());

  ASSERT_TRUE(first.result.ok()) << first.result.status();
  EXPECT_EQ(refused.result.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(admitted.result.ok()) << admitted.result.status();
  EXPECT_EQ(admitted.result->first_version, kBigAppends + 2);
  ASSERT_TRUE(retry.result.ok()) << retry.result.status();
  EXPECT_TRUE(retry.result->already_written);
  EXPECT_EQ(retry.result->last_position, admitted.result->last_position);
  std::vector<storage::EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_EQ(events.size(), kBigAppends + 2 + 1 + 2);  // "small" has 2.
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

}  // namespace
}  // namespace accord::testing
