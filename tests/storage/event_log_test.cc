// RocksEventLog on a real RocksDB in a temporary directory: appends, reads, optimistic
// concurrency, idempotency, atomicity, reopen and the hash chain.
#include "storage/rocksdb_event_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "storage/event_hash.h"
#include "storage/event_id.h"
#include "tests/test_util.h"

namespace accord::storage {
namespace {

EventId RandomId() {
  thread_local absl::BitGen gen;
  EventId id;
  for (auto& b : id) b = absl::Uniform<uint8_t>(gen);
  return id;
}

ProposedRecord Event(std::string payload) {
  ProposedRecord e;
  e.event_id = RandomId();
  e.event_type = "status_updated";
  e.payload = std::move(payload);
  e.payload_hash = Sha256(e.payload);
  return e;
}

AppendBatch Batch(const std::string& project, std::vector<ProposedRecord> events,
                  ExpectedVersion expected = ExpectedVersion::Any()) {
  AppendBatch b;
  b.project_id = project;
  b.expected = expected;
  b.actor = {"tester", "manager"};
  b.events = std::move(events);
  return b;
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    EventLogOptions options;
    options.data_dir = dir_.Sub("db");
    auto log = RocksEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  void Reopen() {
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
    Open();
  }
  std::vector<EventRecord> ReadAllEvents(bool verify = true) {
    std::vector<EventRecord> all, page;
    ReadLimits limits;
    limits.max_count = 100;
    limits.verify_hashes = verify;
    uint64_t next = 1;
    for (;;) {
      absl::Status s = log_->ReadAll(next, limits, &page);
      EXPECT_TRUE(s.ok()) << s;
      if (!s.ok() || page.empty()) break;
      next = page.back().position + 1;
      for (auto& r : page) all.push_back(std::move(r));
    }
    return all;
  }
  std::vector<EventRecord> ReadProject(const std::string& project, uint64_t from = 0,
                                       ReadDirection dir = ReadDirection::kForwards,
                                       size_t page_size = 1000) {
    std::vector<EventRecord> out;
    ReadLimits limits;
    limits.max_count = page_size;
    EXPECT_TRUE(log_->ReadStream(project, from, dir, limits, &out).ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<RocksEventLog> log_;
};

TEST_F(EventLogTest, AssignsContiguousVersionsAndPositions) {
  auto a = log_->Append(Batch("p1", {Event("a"), Event("b")}));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->first_version, 1u);
  EXPECT_EQ(a->last_version, 2u);
  EXPECT_EQ(a->last_position, 2u);
  auto b = log_->Append(Batch("p2", {Event("c")}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first_version, 1u);
  EXPECT_EQ(b->last_position, 3u);
  auto c = log_->Append(Batch("p1", {Event("d")}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first_version, 3u);
  EXPECT_EQ(c->last_position, 4u);
  EXPECT_EQ(log_->LastPosition(), 4u);
  EXPECT_EQ(*log_->StreamVersion("p1"), 3u);
  EXPECT_EQ(*log_->StreamVersion("p2"), 1u);
  EXPECT_EQ(*log_->StreamVersion("nope"), 0u);

  auto p1 = ReadProject("p1");
  ASSERT_EQ(p1.size(), 3u);
  EXPECT_EQ(p1[0].payload, "a");
  EXPECT_EQ(p1[2].payload, "d");
  EXPECT_EQ(p1[2].position, 4u);
  EXPECT_EQ(p1[0].actor.principal, "tester");
}

TEST_F(EventLogTest, ReadsStreamsBackwardsAndInPages) {
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(log_->Append(Batch("p", {Event(absl::StrCat(i)), Event(absl::StrCat(i, "b"))})).ok());
    ASSERT_TRUE(log_->Append(Batch("other", {Event("x")})).ok());
  }
  auto back = ReadProject("p", 0, ReadDirection::kBackwards);
  ASSERT_EQ(back.size(), 20u);
  for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].version, 20 - i);
  auto from7 = ReadProject("p", 7, ReadDirection::kBackwards, 3);
  ASSERT_EQ(from7.size(), 3u);
  EXPECT_EQ(from7[0].version, 7u);
  EXPECT_EQ(from7[2].version, 5u);
  auto fwd = ReadProject("p", 6, ReadDirection::kForwards, 4);
  ASSERT_EQ(fwd.size(), 4u);
  EXPECT_EQ(fwd[0].version, 6u);
  EXPECT_EQ(fwd[3].version, 9u);
  EXPECT_TRUE(ReadProject("p", 21).empty());
}

TEST_F(EventLogTest, UnknownProjectReadIsNotFound) {
  std::vector<EventRecord> out;
  EXPECT_TRUE(absl::IsNotFound(
      log_->ReadStream("ghost", 0, ReadDirection::kForwards, ReadLimits(), &out)));
}

TEST_F(EventLogTest, ExpectedVersionConflictsAreAbortedWithCurrentVersion) {
  ASSERT_TRUE(log_->Append(Batch("p", {Event("a")}, ExpectedVersion::NoStream())).ok());
  auto again = log_->Append(Batch("p", {Event("b")}, ExpectedVersion::NoStream()));
  EXPECT_TRUE(absl::IsAborted(again.status()));
  EXPECT_NE(again.status().message().find("current version is 1"), std::string::npos)
      << again.status();
  auto exact = log_->Append(Batch("p", {Event("b")}, ExpectedVersion::Exact(5)));
  EXPECT_TRUE(absl::IsAborted(exact.status()));
  auto missing = log_->Append(Batch("q", {Event("b")}, ExpectedVersion::StreamExists()));
  EXPECT_TRUE(absl::IsAborted(missing.status()));
  EXPECT_TRUE(log_->Append(Batch("p", {Event("b")}, ExpectedVersion::Exact(1))).ok());
  EXPECT_TRUE(log_->Append(Batch("p", {Event("c")}, ExpectedVersion::StreamExists())).ok());
  EXPECT_EQ(log_->LastPosition(), 3u);
  EXPECT_EQ(*log_->StreamVersion("q"), 0u);
}

TEST_F(EventLogTest, RetryOfWrittenAppendReturnsOriginalResultWithAnyExpectedVersion) {
  AppendBatch batch = Batch("p", {Event("a"), Event("b")}, ExpectedVersion::NoStream());
  auto first = log_->Append(batch);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(log_->Append(Batch("p", {Event("c")})).ok());
  auto retry = log_->Append(batch);  // no_stream no longer holds; idempotency wins.
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_written);
  EXPECT_EQ(retry->first_version, first->first_version);
  EXPECT_EQ(retry->last_version, first->last_version);
  EXPECT_EQ(retry->last_position, first->last_position);
  EXPECT_EQ(log_->LastPosition(), 3u);
  Reopen();  // The idempotency index is rebuilt from disk.
  auto after_reopen = log_->Append(batch);
  ASSERT_TRUE(after_reopen.ok());
  EXPECT_TRUE(after_reopen->already_written);
  EXPECT_EQ(after_reopen->last_position, 2u);
}

// Bytes in the write-ahead log files of `dir`. RocksDB deletes WAL files in the
// background, so one listed may be gone by the time its size is asked: it counts 0.
uint64_t WalBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() != ".log") continue;
    const uintmax_t size = std::filesystem::file_size(entry.path(), error);
    if (!error) total += size;
  }
  return total;
}

// The index and snapshot families fill their memtables slowly; without the cap they would
// keep every WAL written since their last flush (the log's 64 MiB memtable alone never
// forces one here: 24 MB are written).
TEST(EventLogWalTest, WriteAheadLogOnDiskStaysNearItsCap) {
  testing::TempDir dir;
  EventLogOptions options;
  options.data_dir = dir.Sub("db");
  options.durability = Durability::kNoSyncMayLoseAcked;  // Only the size is tested.
  options.max_wal_bytes = 2 << 20;
  const uint64_t bound = 4 * options.max_wal_bytes;
  auto log = RocksEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string payload(1000, 'w');
  for (int a = 0; a < 240; ++a) {
    std::vector<ProposedRecord> events;
    for (int i = 0; i < 100; ++i) events.push_back(Event(payload));
    ASSERT_TRUE((*log)->Append(Batch(absl::StrCat("p", a % 7), std::move(events))).ok());
  }
  // Flushes and WAL deletions run in the background, and RocksDB checks the cap only when
  // a write comes: on a slow machine the last appends can leave several WAL files behind
  // until the next writes. So keep writing a little, as a live server does, for 10 s at
  // most. (Without the cap these small writes would never flush the small families, and
  // all 24 MB would stay.)
  uint64_t extra = 0;
  uint64_t wal = WalBytes(options.data_dir);
  for (int i = 0; i < 100 && wal > bound; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE((*log)->Append(Batch("tail", {Event("t")})).ok());
    ++extra;
    wal = WalBytes(options.data_dir);
  }
  EXPECT_LE(wal, bound) << "24 MB appended, then " << extra << " small";
  EXPECT_EQ((*log)->LastPosition(), 24000u + extra);
}

// The writer's in-memory event ids are bounded: idle projects are dropped and reloaded
// from the project index on their next append, where idempotency and versions still hold.
TEST(EventLogEvictionTest, EventIdsInMemoryAreBoundedAndEvictedProjectsStillAnswerRetries) {
  testing::TempDir dir;
  EventLogOptions options;
  options.data_dir = dir.Sub("db");
  options.max_cached_event_ids = 8;
  auto log = RocksEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<AppendBatch> first_appends;
  for (int p = 0; p < 6; ++p) {
    AppendBatch batch = Batch(absl::StrCat("p", p),
                              {Event("a"), Event("b"), Event("c"), Event("d")},
                              ExpectedVersion::NoStream());
    ASSERT_TRUE((*log)->Append(batch).ok());
    first_appends.push_back(std::move(batch));
    // At most the budget plus the one group prepared since the last eviction.
    EXPECT_LE((*log)->CachedEventIdsForTesting(), 8u + 4u) << "after project " << p;
  }
  // p0 was dropped long ago: its retry is recognized from the index on disk...
  auto retry = (*log)->Append(first_appends[0]);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_written);
  EXPECT_EQ(retry->first_version, 1u);
  EXPECT_EQ(retry->last_version, 4u);
  // ... and it goes on at its version, with its chain.
  auto next = (*log)->Append(Batch("p0", {Event("e")}, ExpectedVersion::Exact(4)));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->first_version, 5u);
  std::vector<EventRecord> events;
  ReadLimits limits;
  limits.verify_hashes = true;
  ASSERT_TRUE((*log)->ReadStream("p0", 1, ReadDirection::kForwards, limits, &events).ok());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4].prev_hash, events[3].hash);
  EXPECT_LE((*log)->CachedEventIdsForTesting(), 8u + 4u);
}

TEST_F(EventLogTest, SameEventIdWithDifferentContentIsFailedPrecondition) {
  ProposedRecord e = Event("original");
  ASSERT_TRUE(log_->Append(Batch("p", {e})).ok());
  e.payload = "changed";
  e.payload_hash = Sha256(e.payload);
  auto r = log_->Append(Batch("p", {e}));
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(log_->LastPosition(), 1u);
}

TEST_F(EventLogTest, PartialRepeatOfEarlierAppendIsFailedPreconditionAndWritesNothing) {
  ProposedRecord a = Event("a");
  ASSERT_TRUE(log_->Append(Batch("p", {a})).ok());
  auto r = log_->Append(Batch("p", {Event("new"), a}));
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(log_->LastPosition(), 1u);
}

TEST_F(EventLogTest, EventIdsAreUniquePerProjectNotGlobally) {
  ProposedRecord a = Event("a");
  ASSERT_TRUE(log_->Append(Batch("p", {a})).ok());
  auto other = log_->Append(Batch("q", {a}));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->already_written);
}

TEST_F(EventLogTest, DuplicateIdsWithinOneAppendAreRejected) {
  ProposedRecord a = Event("a");
  auto r = log_->Append(Batch("p", {a, a}));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_EQ(log_->LastPosition(), 0u);
}

TEST_F(EventLogTest, ReopenRestoresVersionsPositionsAndChain) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(log_->Append(Batch(absl::StrCat("p", i % 3), {Event(absl::StrCat(i)), Event("x")})).ok());
  }
  const auto before = ReadAllEvents();
  Reopen();
  const auto after = ReadAllEvents();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].position, after[i].position);
    EXPECT_EQ(before[i].version, after[i].version);
    EXPECT_EQ(before[i].payload, after[i].payload);
    EXPECT_EQ(before[i].hash, after[i].hash);
    EXPECT_EQ(before[i].recorded_at, after[i].recorded_at);
  }
  // Appends continue where they left off, chained to the last hash before the reopen.
  auto next = log_->Append(Batch("p0", {Event("after")}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->last_position, 101u);
  auto p0 = ReadProject("p0");
  ASSERT_GE(p0.size(), 2u);
  EXPECT_EQ(p0.back().prev_hash, p0[p0.size() - 2].hash);
}

TEST_F(EventLogTest, HashChainRecomputesAndLinksEachProject) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(log_->Append(Batch(absl::StrCat("p", i % 4), {Event(absl::StrCat(i))})).ok());
  }
  std::map<std::string, Sha256Digest> last;
  Timestamp prev_time;
  for (const EventRecord& r : ReadAllEvents(/*verify=*/true)) {
    Sha256Digest expected_prev{};
    if (auto it = last.find(r.project_id); it != last.end()) expected_prev = it->second;
    EXPECT_EQ(r.prev_hash, expected_prev) << r.project_id << "@" << r.version;
    last[r.project_id] = r.hash;
    EXPECT_GE(r.recorded_at, prev_time);  // Server clock never decreases along the log.
    prev_time = r.recorded_at;
  }
}

TEST_F(EventLogTest, SixteenWritersWithExactVersionsNeverLoseOrDuplicate) {
  constexpr int kWriters = 16, kPerWriter = 25;
  std::atomic<int> conflicts{0}, others{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kPerWriter;) {
        const uint64_t v = *log_->StreamVersion("race");
        auto r = log_->Append(Batch("race", {Event(absl::StrCat(w, ":", n))},
                                    ExpectedVersion::Exact(v)));
        if (r.ok()) {
          EXPECT_EQ(r->first_version, v + 1);
          ++n;
        } else if (absl::IsAborted(r.status())) {
          ++conflicts;
        } else {
          ++others;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(others.load(), 0);
  auto events = ReadProject("race", 0, ReadDirection::kForwards, 100000);
  ASSERT_EQ(events.size(), size_t{kWriters * kPerWriter});
  std::set<std::string> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].version, i + 1);
    EXPECT_TRUE(seen.insert(events[i].payload).second) << "duplicate " << events[i].payload;
  }
}

TEST_F(EventLogTest, ConcurrentAppendsShareGroupCommits) {
  // Many threads appending at once: all succeed, positions gap-free.
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(log_->Append(Batch(absl::StrCat("g", t), {Event("x")})).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto all = ReadAllEvents();
  ASSERT_EQ(all.size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].position, i + 1);
}

class RecordingListener : public CommitListener {
 public:
  void OnCommit(const CommitNotice& n) override {
    absl::MutexLock lock(&mu_);
    last_position = n.last_position;
    for (const auto& s : n.streams) versions[std::string(s.first)] = s.second;
  }
  absl::Mutex mu_;
  uint64_t last_position = 0;
  std::map<std::string, uint64_t> versions;
};

TEST_F(EventLogTest, CommitListenersHearEveryCommit) {
  RecordingListener listener;
  log_->AddCommitListener(&listener);
  ASSERT_TRUE(log_->Append(Batch("p", {Event("a"), Event("b")})).ok());
  ASSERT_TRUE(log_->Append(Batch("q", {Event("c")})).ok());
  log_->RemoveCommitListener(&listener);
  ASSERT_TRUE(log_->Append(Batch("q", {Event("d")})).ok());
  absl::MutexLock lock(&listener.mu_);
  EXPECT_EQ(listener.last_position, 3u);
  EXPECT_EQ(listener.versions["p"], 2u);
  EXPECT_EQ(listener.versions["q"], 1u);
}

TEST_F(EventLogTest, ListsProjectsInOrderAndPages) {
  for (const char* p : {"b", "a-b", "a", "c", "a0"}) {
    ASSERT_TRUE(log_->Append(Batch(p, {Event("x"), Event("y")})).ok());
    ASSERT_TRUE(log_->Append(Batch(p, {Event("z")})).ok());  // Several chunks per project.
  }
  std::vector<std::string> all;
  ASSERT_TRUE(log_->ListProjects("", 100, &all).ok());
  EXPECT_EQ(all, (std::vector<std::string>{"a", "a-b", "a0", "b", "c"}));
  std::vector<std::string> page;
  ASSERT_TRUE(log_->ListProjects("a-b", 2, &page).ok());
  EXPECT_EQ(page, (std::vector<std::string>{"a0", "b"}));
  ASSERT_TRUE(log_->ListProjects("c", 2, &page).ok());
  EXPECT_TRUE(page.empty());
}

TEST_F(EventLogTest, AppendAfterCloseIsUnavailable) {
  ASSERT_TRUE(log_->Close().ok());
  auto r = log_->Append(Batch("p", {Event("a")}));
  EXPECT_TRUE(absl::IsUnavailable(r.status()));
}

TEST_F(EventLogTest, SnapshotReadInPlaceOutlivesNewReadsAndHoldsOffClose) {
  const std::string state(1 << 20, 's');  // Big enough to live in a blob.
  ASSERT_TRUE(log_->PutSnapshot("p", 10, state).ok());
  auto held = log_->FloorSnapshot("p", 15);
  ASSERT_TRUE(held.ok() && held->has_value()) << held.status();
  EXPECT_EQ((*held)->version, 10u);
  ASSERT_TRUE(log_->PutSnapshot("p", 10, std::string(1 << 20, 't')).ok());  // Replaced.
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    EXPECT_TRUE(log_->Close().ok());
    closed = true;
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(closed) << "Close must wait for the snapshot still held";
  EXPECT_EQ((*held)->bytes, state);  // The bytes read stay as they were.
  held->reset();
  closer.join();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(absl::IsUnavailable(log_->FloorSnapshot("p", 15).status()));
}

}  // namespace
}  // namespace accord::storage
