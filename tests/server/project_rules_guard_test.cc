// ProjectRulesGuard inside a real log: its memory stays bounded, and a project whose state
// was evicted is rebuilt from the log with its rules intact.
#include "server/project_rules_guard.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "server/event_translation.h"
#include "tests/server/test_server.h"

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

}  // namespace
}  // namespace accord::testing
