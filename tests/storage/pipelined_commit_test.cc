// Pipelined group commit in RocksEventLog: the writer prepares a group while the one
// before it is being synced. Syncs are held in the fault-injection file system so that a
// group is deterministically in flight while the next one is prepared on top of it.
#include <pthread.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/fault_injection_fs.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using storage::AppendBatch;
using storage::AppendCallback;
using storage::AppendResult;
using storage::EventRecord;
using storage::RocksEventLog;

// An append's outcome, delivered on the thread that answers it.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<AppendResult> result = absl::UnknownError("not answered");
  pthread_t answered_on{};

  bool Wait() { return done.WaitForNotificationWithTimeout(absl::Seconds(30)); }
};

AppendCallback Deliver(Outcome* outcome) {
  return [outcome](absl::StatusOr<AppendResult> r) {
    outcome->result = std::move(r);
    outcome->answered_on = pthread_self();
    outcome->done.Notify();
  };
}

std::string ThreadName(pthread_t thread) {
  char name[32] = {};
  pthread_getname_np(thread, name, sizeof(name));
  return name;
}

// Run both ways appends reach the disk: prepared and led by the callers' threads (the
// default for small appends), and through the log's own threads.
class PipelinedCommitTest : public FaultFsLogTest,
                            public ::testing::WithParamInterface<size_t> {
 protected:
  void SetUp() override {
    options_.caller_append_max_bytes = GetParam();
    FaultFsLogTest::SetUp();
  }
  void TearDown() override {
    fs_->HoldSyncs(false);
    for (std::thread& t : threads_) t.join();
  }

  // Calls AppendAsync on a thread of its own: a caller that finds no write under way
  // writes and syncs itself, so with syncs held it would not return. Returns once the call
  // has returned or a sync is held.
  void AppendAsync(AppendBatch batch, Outcome* outcome) {
    auto returned = std::make_shared<absl::Notification>();
    const int held_before = fs_->HeldSyncs();
    threads_.emplace_back([this, batch = std::move(batch), outcome, returned]() mutable {
      log_->AppendAsync(std::move(batch), Deliver(outcome));
      returned->Notify();
    });
    for (int i = 0; i < 2000 && !returned->HasBeenNotified(); ++i) {
      if (fs_->HeldSyncs() > held_before) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  // Holds the syncs and starts `batch` as AppendAsync does; true once its synced write is
  // held, so that appends made next are prepared while it is under way.
  bool StartHeldAppend(AppendBatch batch, Outcome* outcome) {
    fs_->HoldSyncs(true);
    AppendAsync(std::move(batch), outcome);
    return fs_->WaitForHeldSync(absl::Seconds(10));
  }
  // Releases the held syncs and waits for `held`, then for each of `later`, which must be
  // answered OK (call under ASSERT_NO_FATAL_FAILURE).
  void ReleaseAndWaitForAll(Outcome& held, absl::Span<Outcome> later) {
    fs_->HoldSyncs(false);
    ASSERT_TRUE(held.Wait());
    for (Outcome& o : later) {
      ASSERT_TRUE(o.Wait());
      ASSERT_TRUE(o.result.ok()) << o.result.status();
    }
  }



  absl::BitGen gen_;
  std::vector<std::thread> threads_;
};

INSTANTIATE_TEST_SUITE_P(
    BothWays, PipelinedCommitTest, ::testing::Values(size_t{4096}, size_t{0}),
    [](const ::testing::TestParamInfo<size_t>& info) {
      return info.param > 0 ? std::string("CallersLead") : std::string("LogThreadsOnly");
    });

// The retry is checked while the original's group is still being synced: its events are
// not in the database yet, only in the writer's view of groups in flight.
TEST_P(PipelinedCommitTest, RetryOfAnAppendStillBeingSyncedAnswersTheOriginalResult) {
  ASSERT_TRUE(log_->Append(RandomBatch(gen_, "p", 2, 64)).ok());
  const AppendBatch original = RandomBatch(gen_, "p", 3, 64);

  Outcome first, retry;
  ASSERT_TRUE(StartHeldAppend(original, &first)) << "the first group never synced";
  AppendAsync(original, &retry);
  fs_->HoldSyncs(false);
  ASSERT_TRUE(first.Wait() && retry.Wait());

  ASSERT_TRUE(first.result.ok()) << first.result.status();
  ASSERT_TRUE(retry.result.ok()) << retry.result.status();
  EXPECT_FALSE(first.result->already_written);
  EXPECT_TRUE(retry.result->already_written);
  EXPECT_EQ(retry.result->first_version, 3u);
  EXPECT_EQ(retry.result->last_version, 5u);
  EXPECT_EQ(retry.result->last_position, first.result->last_position);
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_EQ(events.size(), 5u);
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

// Groups prepared while a sync is on all go into the next synced write: one sync for
// them, not one each (which would make every append wait for the syncs before it).
TEST_P(PipelinedCommitTest, GroupsPreparedDuringASyncShareTheNextSync) {
  ASSERT_TRUE(log_->Append(RandomBatch(gen_, "p", 1, 64)).ok());
  Outcome held;
  ASSERT_TRUE(StartHeldAppend(RandomBatch(gen_, "p", 1, 64), &held))
      << "the first group never synced";
  constexpr int kGroups = 3;
  Outcome later[kGroups];
  for (int g = 0; g < kGroups; ++g) {
    // Each waits for the one before it to be prepared (through the log's threads, each is
    // then a group of its own; on callers' threads they share the open group).
    AppendAsync(RandomBatch(gen_, absl::StrCat("q", g), 1, 64), &later[g]);
    for (int i = 0; i < 1000 && log_->PreparedAppendsForTesting() < static_cast<size_t>(g + 1);
         ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(log_->PreparedAppendsForTesting(), static_cast<size_t>(g + 1));
  }
  const uint64_t syncs_before = fs_->Syncs();
  ASSERT_NO_FATAL_FAILURE(ReleaseAndWaitForAll(held, absl::MakeSpan(later)));
  // The held sync (counted once released), then one for the three groups.
  EXPECT_EQ(fs_->Syncs() - syncs_before, 2u);
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_EQ(events.size(), 2u + kGroups);
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

// A group prepared on top of one whose write then fails assumed events that never reach
// the disk: it must fail too, even an idempotent retry that would otherwise answer
// "already written"; the log then carries on, gap-free, and a restart shows neither.
TEST_P(PipelinedCommitTest, GroupsPreparedOnAFailedWriteFailToo) {
  ASSERT_TRUE(log_->Append(RandomBatch(gen_, "p", 2, 64)).ok());
  const AppendBatch doomed = RandomBatch(gen_, "p", 3, 64);

  Outcome first, retry, next;
  ASSERT_TRUE(StartHeldAppend(doomed, &first)) << "the first group never synced";
  AppendAsync(doomed, &retry);                        // Prepared on top of `doomed`.
  AppendAsync(RandomBatch(gen_, "p", 1, 64), &next);  // With it, or after the failure.
  // Wait (bounded) until the writer has prepared the next group and queued it for the
  // syncer, which is still held in the first group's sync.
  for (int i = 0; i < 1000 && log_->PreparedAppendsForTesting() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(log_->PreparedAppendsForTesting(), 1u) << "nothing was prepared on the held group";
  fs_->FailNextSyncs(1);  // The held sync fails; the disk works again after it.
  fs_->HoldSyncs(false);
  ASSERT_TRUE(first.Wait() && retry.Wait() && next.Wait());

  EXPECT_EQ(first.result.status().code(), absl::StatusCode::kUnavailable)
      << first.result.status();
  EXPECT_EQ(retry.result.status().code(), absl::StatusCode::kUnavailable)
      << "a retry of a failed append answered "
      << (retry.result.ok() ? "OK" : retry.result.status().ToString());
  // `next` failed with the retry's group, or was prepared after the failure and written
  // as version 3.
  if (next.result.ok()) {
    EXPECT_EQ(next.result->first_version, 3u);
  } else {
    EXPECT_EQ(next.result.status().code(), absl::StatusCode::kUnavailable) << next.result.status();
  }
  auto after = log_->Append(RandomBatch(gen_, "p", 1, 64));
  ASSERT_TRUE(after.ok()) << after.status();
  const uint64_t expected = 2 + (next.result.ok() ? 1 : 0) + 1;
  EXPECT_EQ(after->last_version, expected);

  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  auto reopened = RocksEventLog::Open(options_, fs_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(**reopened, &events).ok());
  EXPECT_EQ(events.size(), expected) << "events of failed appends survived";
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

// A small append finding no write under way is written, synced and answered by the
// thread that makes it, before AppendAsync returns: no hand-off to the log's threads.
TEST_P(PipelinedCommitTest, ACallerFindingNoWriteUnderWayAnswersItsOwnAppend) {
  if (GetParam() == 0) GTEST_SKIP() << "appends go through the log's threads here";
  Outcome outcome;
  log_->AppendAsync(RandomBatch(gen_, "p", 1, 64), Deliver(&outcome));
  ASSERT_TRUE(outcome.done.HasBeenNotified()) << "answered after AppendAsync returned";
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(pthread_equal(outcome.answered_on, pthread_self()));
  EXPECT_EQ(log_->LastPosition(), 1u) << "answered before it was durable";
}

// While one caller is in a synced write, other callers' appends are prepared on their own
// threads and queued; the leading caller writes them all in its next sync and answers
// them, in commit order, from its thread.
TEST_P(PipelinedCommitTest, TheLeadingCallerWritesAndAnswersWhatQueuedDuringItsSync) {
  if (GetParam() == 0) GTEST_SKIP() << "appends go through the log's threads here";
  Outcome held;
  ASSERT_TRUE(StartHeldAppend(RandomBatch(gen_, "p", 1, 64), &held))
      << "the first append never synced";
  const pthread_t leader = threads_.back().native_handle();
  constexpr int kAppends = 3;
  Outcome later[kAppends];
  for (int i = 0; i < kAppends; ++i) {
    // On this thread: it returns at once, the append prepared and queued.
    log_->AppendAsync(RandomBatch(gen_, absl::StrCat("q", i), 1, 64), Deliver(&later[i]));
    EXPECT_FALSE(later[i].done.HasBeenNotified()) << "answered during the held sync";
  }
  EXPECT_EQ(log_->PreparedAppendsForTesting(), static_cast<size_t>(kAppends));
  const uint64_t syncs_before = fs_->Syncs();
  fs_->HoldSyncs(false);
  ASSERT_TRUE(held.Wait());
  uint64_t position = 1;
  for (Outcome& o : later) {
    ASSERT_TRUE(o.Wait());
    ASSERT_TRUE(o.result.ok()) << o.result.status();
    EXPECT_EQ(o.result->last_position, ++position);
    EXPECT_TRUE(pthread_equal(o.answered_on, leader)) << "answered on " << ThreadName(o.answered_on);
  }
  EXPECT_EQ(fs_->Syncs() - syncs_before, 2u) << "the queued appends did not share one sync";
}

// The open group is cut at the group byte cap: appends made during a sync then take a
// synced write per cap's worth (here one each), not one write of any size.
TEST_P(PipelinedCommitTest, TheOpenGroupIsCutAtTheGroupByteCap) {
  if (GetParam() == 0) GTEST_SKIP() << "appends go through the log's threads here";
  ASSERT_TRUE(log_->Close().ok());
  options_.max_group_bytes = 1;  // Any append fills a group.
  auto reopened = RocksEventLog::Open(options_, fs_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  log_ = *std::move(reopened);
  Outcome held;
  ASSERT_TRUE(StartHeldAppend(RandomBatch(gen_, "p", 1, 64), &held))
      << "the first append never synced";
  constexpr int kAppends = 3;
  Outcome later[kAppends];
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync(RandomBatch(gen_, absl::StrCat("q", i), 1, 64), Deliver(&later[i]));
  }
  ASSERT_EQ(log_->PreparedAppendsForTesting(), static_cast<size_t>(kAppends));
  const uint64_t syncs_before = fs_->Syncs();
  ASSERT_NO_FATAL_FAILURE(ReleaseAndWaitForAll(held, absl::MakeSpan(later)));
  // The held sync (counted once released), then one for each append's group.
  EXPECT_EQ(fs_->Syncs() - syncs_before, 1u + kAppends) << "the open group outgrew the cap";
}

// Small appends left in the open group for the leader were prepared first, so the large
// append the writer thread prepares meanwhile comes after them: its group is queued after
// theirs and the log's last position is the large append's last once all are answered.
TEST_P(PipelinedCommitTest, ALargeAppendIsQueuedAfterTheOpenGroupPreparedBeforeIt) {
  if (GetParam() == 0) GTEST_SKIP() << "appends go through the log's threads here";
  Outcome held;
  ASSERT_TRUE(StartHeldAppend(RandomBatch(gen_, "p", 1, 64), &held))
      << "the first append never synced";
  Outcome small[2];
  for (int i = 0; i < 2; ++i) {
    log_->AppendAsync(RandomBatch(gen_, absl::StrCat("s", i), 1, 64), Deliver(&small[i]));
  }
  Outcome large;
  log_->AppendAsync(RandomBatch(gen_, "l", 3, 4096), Deliver(&large));  // The writer's.
  for (int i = 0; i < 1000 && log_->PreparedAppendsForTesting() < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(log_->PreparedAppendsForTesting(), 3u);
  fs_->HoldSyncs(false);
  ASSERT_TRUE(held.Wait() && small[0].Wait() && small[1].Wait() && large.Wait());
  ASSERT_TRUE(small[0].result.ok() && small[1].result.ok() && large.result.ok());
  EXPECT_EQ(small[0].result->last_position, 2u);
  EXPECT_EQ(small[1].result->last_position, 3u);
  EXPECT_EQ(large.result->first_version, 1u);
  EXPECT_EQ(large.result->last_position, 6u);
  EXPECT_EQ(log_->LastPosition(), 6u) << "the log's durable end trails what was answered";
  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  EXPECT_EQ(events.size(), 6u);
  EXPECT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
}

// Small appends (callers' threads, one open group) and large ones (the writer thread's
// groups) racing on the same projects: every append is answered OK, once readers can see
// it, with the versions and positions its events hold in the log, which stays gap-free and
// chained.
TEST_P(PipelinedCommitTest, SmallAndLargeAppendsRacingKeepTheLogWholeAndAnswersTrue) {
  constexpr int kSmallThreads = 4, kSmallEach = 150, kLargeThreads = 2, kLargeEach = 20;
  constexpr size_t kLargeEvents = 3;
  struct Answer {
    AppendBatch batch;
    absl::StatusOr<AppendResult> result;
  };
  std::vector<std::vector<Answer>> answers(kSmallThreads + kLargeThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSmallThreads + kLargeThreads; ++t) {
    threads.emplace_back([this, t, &answers] {
      absl::BitGen gen;
      const bool large = t >= kSmallThreads;
      const std::string project = absl::StrCat("m", t % kSmallThreads);
      for (int i = 0; i < (large ? kLargeEach : kSmallEach); ++i) {
        AppendBatch batch = large ? RandomBatch(gen, project, kLargeEvents, 2048)  // 6 KiB
                                  : RandomBatch(gen, project, 1, 64);
        auto result = log_->Append(batch);
        // Answered only once durable, and readers see as far as the answer says.
        if (result.ok()) EXPECT_GE(log_->LastPosition(), result->last_position);
        answers[t].push_back({std::move(batch), std::move(result)});
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<EventRecord> events;
  ASSERT_TRUE(ReadEverything(*log_, &events).ok());
  ASSERT_TRUE(CheckLogStructure(events).ok()) << CheckLogStructure(events);
  ASSERT_EQ(events.size(),
            size_t{kSmallThreads * kSmallEach + kLargeThreads * kLargeEach * kLargeEvents});
  for (const auto& thread_answers : answers) {
    for (const Answer& a : thread_answers) {
      ASSERT_TRUE(a.result.ok()) << a.result.status();
      const size_t n = a.batch.events.size();
      ASSERT_EQ(a.result->last_version - a.result->first_version + 1, n);
      for (size_t k = 0; k < n; ++k) {
        const EventRecord& e = events[a.result->last_position - n + k];  // Positions are 1-based.
        EXPECT_EQ(e.project_id, a.batch.project_id);
        EXPECT_EQ(e.version, a.result->first_version + k);
        EXPECT_EQ(e.event_id, a.batch.events[k].event_id);
      }
    }
  }
}

// A large append is prepared by the log's writer thread and answered by its completion
// thread: AppendAsync returns at once even with the disk held.
TEST_P(PipelinedCommitTest, LargeAppendsGoThroughTheLogsThreads) {
  fs_->HoldSyncs(true);
  Outcome large;
  log_->AppendAsync(RandomBatch(gen_, "p", 3, 4096), Deliver(&large));  // 12 KiB
  ASSERT_TRUE(fs_->WaitForHeldSync(absl::Seconds(10)));
  EXPECT_FALSE(large.done.HasBeenNotified());
  fs_->HoldSyncs(false);
  ASSERT_TRUE(large.Wait());
  ASSERT_TRUE(large.result.ok()) << large.result.status();
  EXPECT_EQ(ThreadName(large.answered_on), "log-completer");
}

// A callback may append again (an asynchronous client chaining its appends): the leader
// that runs it queues the new append and writes it in its next turn.
TEST_P(PipelinedCommitTest, ACallbackMayAppendAgain) {
  Outcome first, second;
  AppendBatch next = RandomBatch(gen_, "p", 1, 64);
  log_->AppendAsync(RandomBatch(gen_, "p", 1, 64),
                    [&, next = std::move(next)](absl::StatusOr<AppendResult> r) mutable {
                      first.result = std::move(r);
                      log_->AppendAsync(std::move(next), Deliver(&second));
                      first.done.Notify();
                    });
  ASSERT_TRUE(first.Wait() && second.Wait());
  ASSERT_TRUE(first.result.ok()) << first.result.status();
  ASSERT_TRUE(second.result.ok()) << second.result.status();
  EXPECT_EQ(second.result->first_version, 2u);
}

// Close waits for a caller that leads a synced write; what it acknowledged is there
// after a reopen.
TEST_P(PipelinedCommitTest, CloseWaitsForACallerInASyncedWrite) {
  Outcome held;
  ASSERT_TRUE(StartHeldAppend(RandomBatch(gen_, "p", 1, 64), &held))
      << "the first append never synced";
  absl::Notification closed;
  absl::Status close_status;
  std::thread closer([&] {
    close_status = log_->Close();
    closed.Notify();
  });
  EXPECT_FALSE(closed.WaitForNotificationWithTimeout(absl::Milliseconds(200)))
      << "closed with a write in flight";
  fs_->HoldSyncs(false);
  ASSERT_TRUE(held.Wait());
  closer.join();
  ASSERT_TRUE(close_status.ok()) << close_status;
  ASSERT_TRUE(held.result.ok()) << held.result.status();
  log_.reset();
  auto reopened = RocksEventLog::Open(options_, fs_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->LastPosition(), 1u);
}

// The log's threads (three stages and the cold-project loader) are named for what they
// do, so that top -H, perf and /proc show which is busy (bench/README.md's per-thread
// figures rely on it).
TEST_P(PipelinedCommitTest, TheStagesRunOnThreadsNamedForThem) {
  std::set<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  EXPECT_TRUE(names.count("log-writer")) << "no thread named log-writer";
  EXPECT_TRUE(names.count("log-syncer")) << "no thread named log-syncer";
  EXPECT_TRUE(names.count("log-completer")) << "no thread named log-completer";
  EXPECT_TRUE(names.count("log-loader")) << "no thread named log-loader";
}

}  // namespace
}  // namespace accord::testing
