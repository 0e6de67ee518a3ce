// ProjectRulesGuard inside a real log: its memory stays bounded, a project whose state
// was evicted is rebuilt from the log with its rules intact, corrections rebuild from a
// snapshot, and a large cold project's state is read on the log's loader thread.
#include "server/project_rules_guard.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <chrono>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/text_format.h"
#include "server/event_translation.h"
#include "storage/rocksdb_event_log.h"
#include "tests/server/test_server.h"
#include "tests/storage/fault_injection_fs.h"

namespace accord::testing {
namespace {

class ProjectRulesGuardTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenLog(&guard_); }
  void OpenLog(storage::AppendGuard* guard) {
    storage::EventLogOptions options;
    options.data_dir = dir_.Sub("db");
    options.append_guard = guard;
    auto log = storage::OpenEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  // Appends one event (text-format payload) as `actor`; returns the log's answer.
  absl::Status Append(const std::string& project, const std::string& actor,
                      const std::string& payload, const std::string& id = client::NewEventId()) {
    accord::v1::AppendRequest request;
    request.set_project_id(project);
    auto* e = request.add_events();
    e->set_event_id(id);
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(payload, e->mutable_payload()));
    auto batch = server::TranslateAppend(request, {actor, ""});
    if (!batch.ok()) return batch.status();
    return log_->Append(*std::move(batch)).status();
  }

  // An append's answer, delivered on the thread that leads its group commit.
  struct Outcome {
    accord::v1::AppendRequest request;  // The batch points into it until answered.
    absl::Notification done;
    absl::StatusOr<storage::AppendResult> result = absl::UnknownError("not answered");
  };
  // Append without waiting for the answer.
  void AppendAsync(const std::string& project, const std::string& actor,
                   const std::string& payload, Outcome* outcome) {
    accord::v1::AppendRequest& request = outcome->request;
    request.set_project_id(project);
    auto* e = request.add_events();
    e->set_event_id(client::NewEventId());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(payload, e->mutable_payload()));
    auto batch = server::TranslateAppend(request, {actor, ""});
    ASSERT_TRUE(batch.ok()) << batch.status();
    log_->AppendAsync(*std::move(batch), [outcome](absl::StatusOr<storage::AppendResult> r) {
      outcome->result = std::move(r);
      outcome->done.Notify();
    });
  }

  TempDir dir_;
  server::ProjectRulesGuard guard_{/*snapshot_every=*/0, /*max_cached_projects=*/10};
  std::unique_ptr<storage::EventLog> log_;
};

TEST_F(ProjectRulesGuardTest, CacheStaysBoundedAndEvictedProjectsKeepTheirRules) {
  for (int p = 0; p < 50; ++p) {
    const std::string project = absl::StrCat("p", p);
    ASSERT_TRUE(Append(project, "pm", R"(project_created { name: "n" client_org: "c" })").ok());
    ASSERT_TRUE(Append(project, "pm", R"(member_added { principal: "ann" role: MEMBER_ROLE_CLIENT_SPONSOR })").ok());
    ASSERT_TRUE(Append(project, "pm", R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_BUDGET approvers: "ann" rule: APPROVAL_RULE_ALL })").ok());
    ASSERT_TRUE(Append(project, "ann", R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })").ok());
    EXPECT_LE(guard_.cached_projects(), 10u);
  }
  // p0's state was evicted long ago: it is rebuilt from the log and still knows that ann
  // has decided.
  absl::Status again = Append("p0", "ann", R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })");
  EXPECT_TRUE(absl::IsFailedPrecondition(again)) << again;
  EXPECT_NE(again.message().find("approval.decide_once"), std::string::npos) << again;
}

// With snapshots every 10 versions: a retraction or correction makes the rules rebuild the
// project's state, from the snapshot before the event it names, not from the start.
class ProjectRulesGuardCorrectionTest : public ProjectRulesGuardTest {
 protected:
  void SetUp() override {
    OpenLog(&snapshotting_guard_);
    ASSERT_TRUE(Append("big", "pm", R"(project_created { name: "n" client_org: "c" })").ok());
    for (int v = 2; v <= kEvents; ++v) {
      ids_.push_back(client::NewEventId());
      ASSERT_TRUE(Append("big", "pm", R"(status_updated { health: HEALTH_GREEN })", ids_.back()).ok());
    }
  }
  // The id of the status update at `version` (version 1 is the project's creation).
  const std::string& IdAt(int version) { return ids_[version - 2]; }
  // Events the rules applied to rebuild state for one more append.
  uint64_t EventsLoadedForNextAppend() {
    const uint64_t before = snapshotting_guard_.loaded_events();
    EXPECT_TRUE(Append("big", "pm", R"(status_updated { health: HEALTH_AMBER })").ok());
    return snapshotting_guard_.loaded_events() - before;
  }

  static constexpr int kEvents = 300;
  server::ProjectRulesGuard snapshotting_guard_{/*snapshot_every=*/10, /*max_cached_projects=*/10};
  std::vector<std::string> ids_;
};

TEST_F(ProjectRulesGuardCorrectionTest, CorrectingARecentEventReplaysFromTheSnapshotBeforeIt) {
  ASSERT_TRUE(Append("big", "pm",
                     absl::StrCat(R"(event_corrected { corrected_event_id: ")", IdAt(295),
                                  R"(" reason: "wrong colour" replacement { status_updated { health: HEALTH_RED } } })"))
                  .ok());
  // From the snapshot at version 290: events 291..301, not all 301.
  const uint64_t loaded = EventsLoadedForNextAppend();
  EXPECT_GT(loaded, 0u) << "the correction did not make the rules rebuild the state";
  EXPECT_LE(loaded, 12u);
}

TEST_F(ProjectRulesGuardCorrectionTest, RetractingAnOldEventReplaysFromTheSnapshotBeforeIt) {
  ASSERT_TRUE(Append("big", "pm",
                     absl::StrCat(R"(event_retracted { retracted_event_id: ")", IdAt(55),
                                  R"(" reason: "sent twice" })"))
                  .ok());
  // From the snapshot at version 50.
  const uint64_t loaded = EventsLoadedForNextAppend();
  EXPECT_GE(loaded, 251u);
  EXPECT_LE(loaded, 252u);
}

// The rules guard as the log sees it, except that its Preload of "big" waits until the
// test releases it, and notes which thread it ran on and how many events it loaded.
class HeldPreloadGuard final : public storage::AppendGuard {
 public:
  explicit HeldPreloadGuard(server::ProjectRulesGuard* rules) : rules_(rules) {}

  absl::Status Admit(const storage::AppendBatch& batch,
                     const std::vector<storage::EventRecord>& recorded,
                     storage::StreamHistory& history) override {
    return rules_->Admit(batch, recorded, history);
  }
  storage::SealedGroup Seal() override { return rules_->Seal(); }
  void Commit() override { rules_->Commit(); }
  void Abort() override { rules_->Abort(); }
  bool HasProject(const std::string& project_id) const override {
    return rules_->HasProject(project_id);
  }
  std::unique_ptr<storage::PreloadedProject> Preload(const std::string& project_id,
                                                     storage::StreamHistory& history) override {
    {
      absl::MutexLock lock(&mu_);
      preloaded_.push_back(project_id);
    }
    if (project_id != "big") return rules_->Preload(project_id, history);
    std::array<char, 16> name{};
    pthread_getname_np(pthread_self(), name.data(), name.size());
    preload_thread = name.data();
    if (!preloading.HasBeenNotified()) preloading.Notify();
    release.WaitForNotification();
    const uint64_t before = rules_->loaded_events();
    auto preloaded = rules_->Preload(project_id, history);
    preload_loaded = rules_->loaded_events() - before;
    return preloaded;
  }
  void Adopt(const std::string& project_id,
             std::unique_ptr<storage::PreloadedProject> preloaded) override {
    rules_->Adopt(project_id, std::move(preloaded));
  }

  std::vector<std::string> preloaded() {
    absl::MutexLock lock(&mu_);
    return preloaded_;
  }

  // Written by Preload before `preloading` / after `release`; read by the test after those.
  std::string preload_thread;
  uint64_t preload_loaded = 0;
  absl::Notification preloading;
  absl::Notification release;

 private:
  server::ProjectRulesGuard* const rules_;
  absl::Mutex mu_;
  std::vector<std::string> preloaded_ ABSL_GUARDED_BY(mu_);  // Projects, in call order.
};

// After a restart, "big" (more appends than the log reads inline) is cold: the log reads
// its ids on the loader thread, and the rules' state with them.
class ProjectRulesGuardColdLoadTest : public ProjectRulesGuardTest {
 protected:
  void SetUp() override {
    OpenLog(&first_rules_);
    ASSERT_TRUE(Append("big", "pm", R"(project_created { name: "n" client_org: "c" })").ok());
    ASSERT_TRUE(Append("big", "pm", R"(member_added { principal: "ann" role: MEMBER_ROLE_CLIENT_SPONSOR })").ok());
    ASSERT_TRUE(Append("big", "pm", R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_BUDGET approvers: "ann" rule: APPROVAL_RULE_ALL })").ok());
    ASSERT_TRUE(Append("big", "ann", R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })").ok());
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(Append("big", "pm", R"(status_updated { health: HEALTH_GREEN })").ok());
    }
    ASSERT_TRUE(Append("small", "pm", R"(project_created { name: "s" client_org: "c" })").ok());
    // "wide": few appends (its index is short) but many events for the rules to read.
    ASSERT_TRUE(Append("wide", "pm", R"(project_created { name: "w" client_org: "c" })").ok());
    for (int i = 0; i < 2; ++i) {
      accord::v1::AppendRequest request;
      request.set_project_id("wide");
      for (int e = 0; e < 100; ++e) {
        auto* event = request.add_events();
        event->set_event_id(client::NewEventId());
        event->mutable_payload()->mutable_status_updated()->set_health(accord::v1::HEALTH_GREEN);
      }
      auto batch = server::TranslateAppend(request, {"pm", ""});
      ASSERT_TRUE(batch.ok()) << batch.status();
      ASSERT_TRUE(log_->Append(*std::move(batch)).ok());
    }
    ASSERT_TRUE(log_->Close().ok());
    OpenLog(&held_);  // A fresh guard: nothing in memory.
  }
  void TearDown() override {
    if (!held_.release.HasBeenNotified()) held_.release.Notify();
  }

  server::ProjectRulesGuard first_rules_{/*snapshot_every=*/100};
  server::ProjectRulesGuard rules_{/*snapshot_every=*/100, /*max_cached_projects=*/3};
  HeldPreloadGuard held_{&rules_};
};

TEST_F(ProjectRulesGuardColdLoadTest, ABigColdProjectsRulesAreReadOnTheLoaderWhileOthersAppend) {
  // ann decides A1 again: only a state that knows the first decision refuses it.
  Outcome big;
  AppendAsync("big", "ann",
               R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })",
               &big);
  ASSERT_TRUE(held_.preloading.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the big project's rules were not read by Preload";
  EXPECT_EQ(held_.preload_thread, "log-loader");

  // While the rules' read of "big" is held, another project's append commits.
  Outcome small;
  AppendAsync("small", "pm", R"(status_updated { health: HEALTH_AMBER })", &small);
  ASSERT_TRUE(small.done.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "an append to another project waited for the big project's load";
  EXPECT_TRUE(small.result.ok()) << small.result.status();
  EXPECT_FALSE(big.done.HasBeenNotified());
  const uint64_t loaded_before_release = rules_.loaded_events();

  held_.release.Notify();
  ASSERT_TRUE(big.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsFailedPrecondition(big.result.status())) << big.result.status();
  EXPECT_NE(big.result.status().message().find("approval.decide_once"), std::string::npos)
      << big.result.status();
  // From the snapshot at version 300: events 301..304. Admit used that state, without
  // reading the project again on the writer.
  EXPECT_GT(held_.preload_loaded, 0u);
  EXPECT_LE(held_.preload_loaded, 4u);
  EXPECT_EQ(rules_.loaded_events(), loaded_before_release + held_.preload_loaded);
}

TEST_F(ProjectRulesGuardColdLoadTest, AColdProjectOfManyEventsInFewAppendsIsPreloadedToo) {
  held_.release.Notify();  // Not about "big".
  ASSERT_TRUE(Append("small", "pm", R"(status_updated { health: HEALTH_AMBER })").ok());
  ASSERT_TRUE(Append("wide", "pm", R"(status_updated { health: HEALTH_AMBER })").ok());
  // "small" (one event) is read by the writer itself; "wide" (201 events in three
  // appends) on the loader, rules included.
  EXPECT_EQ(held_.preloaded(), std::vector<std::string>{"wide"});
}

TEST_F(ProjectRulesGuardColdLoadTest, AStateTheRulesEvictedIsReadAgainOnTheLoader) {
  held_.release.Notify();  // Not about holding "big".
  ASSERT_TRUE(Append("big", "pm", R"(status_updated { health: HEALTH_AMBER })").ok());
  // Four more projects push "big" out of the rules' memory (at most 3 states); the log
  // keeps its event ids.
  for (int p = 0; p < 4; ++p) {
    ASSERT_TRUE(Append(absl::StrCat("p", p), "pm", R"(project_created { name: "n" client_org: "c" })").ok());
  }
  absl::Status again = Append("big", "ann", R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })");
  EXPECT_TRUE(absl::IsFailedPrecondition(again)) << again;
  EXPECT_NE(again.message().find("approval.decide_once"), std::string::npos) << again;
  EXPECT_EQ(held_.preloaded(), (std::vector<std::string>{"big", "big"}));
}

// A correction makes the rules drop a large project's state while the correction is still
// on its way to the disk. The project's next append waits until nothing of it is in flight,
// and its state is then read on the loader: the writer does not replay the project while
// every other project's appends queue behind it. Syncs are held in the fault-injection file
// system so that the correction is deterministically in flight.
class ProjectRulesGuardInFlightCorrectionTest : public ProjectRulesGuardTest {
 protected:
  void SetUp() override {
    storage::EventLogOptions options;
    options.data_dir = dir_.Sub("db");
    options.append_guard = &held_;
    fs_ = std::make_shared<FaultInjectionFileSystem>();
    auto log = storage::RocksEventLog::Open(options, fs_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(Append("big", "pm", R"(project_created { name: "n" client_org: "c" })").ok());
    for (int v = 2; v <= 300; ++v) {
      ids_.push_back(client::NewEventId());
      ASSERT_TRUE(Append("big", "pm", R"(status_updated { health: HEALTH_GREEN })", ids_.back()).ok());
    }
    ASSERT_TRUE(Append("small", "pm", R"(project_created { name: "s" client_org: "c" })").ok());
  }
  // Retracts version 5 of "big" and, while that is held in its sync, appends to "big"
  // again. Syncs stay held: the test releases them.
  void AppendBehindACorrectionBeingSynced(Outcome* correction, Outcome* next) {
    fs_->HoldSyncs(true);
    // On a thread of its own: a small append finding no write under way writes and syncs
    // on its caller's thread, which then waits in the held sync.
    correction_thread_ = std::thread([this, correction] {
      AppendAsync("big", "pm",
                  absl::StrCat(R"(event_retracted { retracted_event_id: ")", ids_[3],
                               R"(" reason: "sent twice" })"),
                  correction);
    });
    ASSERT_TRUE(fs_->WaitForHeldSync(absl::Seconds(10))) << "the correction never synced";
    AppendAsync("big", "pm", R"(status_updated { health: HEALTH_AMBER })", next);
  }
  void TearDown() override {
    fs_->HoldSyncs(false);
    if (!held_.release.HasBeenNotified()) held_.release.Notify();
    if (correction_thread_.joinable()) correction_thread_.join();
  }

  std::shared_ptr<FaultInjectionFileSystem> fs_;
  std::thread correction_thread_;
  server::ProjectRulesGuard rules_{/*snapshot_every=*/100};
  HeldPreloadGuard held_{&rules_};
  std::vector<std::string> ids_;  // Of versions 2..300.
};

TEST_F(ProjectRulesGuardInFlightCorrectionTest, NextAppendWaitsForTheCorrectionAndIsReadOnTheLoader) {
  Outcome correction, next;
  ASSERT_NO_FATAL_FAILURE(AppendBehindACorrectionBeingSynced(&correction, &next));
  fs_->HoldSyncs(false);

  ASSERT_TRUE(correction.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(correction.result.ok()) << correction.result.status();
  ASSERT_TRUE(held_.preloading.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the state the correction dropped was not read by Preload (the writer read it)";
  EXPECT_EQ(held_.preload_thread, "log-loader");
  // While the loader holds the big project, another project's append commits.
  EXPECT_TRUE(Append("small", "pm", R"(status_updated { health: HEALTH_RED })").ok());
  EXPECT_FALSE(next.done.HasBeenNotified());

  held_.release.Notify();
  ASSERT_TRUE(next.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(next.result.ok()) << next.result.status();
  EXPECT_EQ(next.result->first_version, 302u);
  // From the start (no snapshot before version 5): all 301 events, on the loader.
  EXPECT_EQ(held_.preload_loaded, 301u);
}

TEST_F(ProjectRulesGuardInFlightCorrectionTest, NextAppendCarriesOnWhenTheCorrectionFailsToWrite) {
  held_.release.Notify();  // Not about holding the load.
  Outcome correction, next;
  ASSERT_NO_FATAL_FAILURE(AppendBehindACorrectionBeingSynced(&correction, &next));
  fs_->FailNextSyncs(1);
  fs_->HoldSyncs(false);

  ASSERT_TRUE(correction.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsUnavailable(correction.result.status())) << correction.result.status();
  ASSERT_TRUE(next.done.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the append waiting for the failed correction was never answered";
  ASSERT_TRUE(next.result.ok()) << next.result.status();
  EXPECT_EQ(next.result->first_version, 301u);  // The correction was never written.
  // Its state was read from the log after the failure, on the loader.
  EXPECT_EQ(held_.preloaded(), std::vector<std::string>{"big"});
  EXPECT_EQ(held_.preload_thread, "log-loader");
}

TEST_F(ProjectRulesGuardInFlightCorrectionTest, CloseCommitsTheAppendWaitingBehindACorrection) {
  held_.release.Notify();  // Not about holding the load.
  Outcome correction, next;
  ASSERT_NO_FATAL_FAILURE(AppendBehindACorrectionBeingSynced(&correction, &next));
  std::future<absl::Status> closing = std::async(std::launch::async, [&] { return log_->Close(); });
  EXPECT_EQ(closing.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  fs_->HoldSyncs(false);
  const absl::Status close_status = closing.get();
  ASSERT_TRUE(close_status.ok()) << close_status;
  ASSERT_TRUE(correction.done.HasBeenNotified() && next.done.HasBeenNotified())
      << "Close returned before answering the appends";
  EXPECT_TRUE(correction.result.ok()) << correction.result.status();
  ASSERT_TRUE(next.result.ok()) << next.result.status();
  EXPECT_EQ(next.result->first_version, 302u);
}

}  // namespace
}  // namespace accord::testing
