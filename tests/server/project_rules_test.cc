// Domain rules enforced on append, end to end over gRPC: lifecycles, who may decide,
// references, closed projects; each refusal is FAILED_PRECONDITION naming the rule and
// writes nothing; the check and the write are atomic per project.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "google/protobuf/text_format.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

accord::v1::ProposedEvent EventOf(const std::string& payload_text) {
  accord::v1::ProposedEvent e;
  e.set_event_id(client::NewEventId());
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(payload_text, e.mutable_payload()))
      << payload_text;
  return e;
}

class ProjectRulesTest : public ::testing::Test {
 protected:
  absl::StatusOr<accord::v1::AppendResponse> Append(const std::string& actor,
                                                    std::vector<std::string> payloads) {
    std::vector<accord::v1::ProposedEvent> events;
    for (const auto& p : payloads) events.push_back(EventOf(p));
    return server_.Client(actor).Append(AppendOf("acme", events));
  }
  void MustAppend(const std::string& actor, std::vector<std::string> payloads) {
    auto r = Append(actor, std::move(payloads));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // Expects the append to be refused by `rule` with nothing written.
  void ExpectRefused(const std::string& actor, std::vector<std::string> payloads,
                     const std::string& rule) {
    const uint64_t before = server_.log().LastPosition();
    auto r = Append(actor, std::move(payloads));
    EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
    EXPECT_NE(r.status().message().find("rule " + rule), std::string::npos) << r.status();
    EXPECT_EQ(server_.log().LastPosition(), before);
  }
  void SetUpProject() {
    MustAppend("pm", {R"(project_created { name: "Shop" client_org: "Acme" })",
                      R"(member_added { principal: "pm" role: MEMBER_ROLE_MANAGER party: PARTY_TEAM })",
                      R"(member_added { principal: "ann" role: MEMBER_ROLE_CLIENT_SPONSOR party: PARTY_CLIENT })",
                      R"(member_added { principal: "bob" role: MEMBER_ROLE_CLIENT_CONTACT party: PARTY_CLIENT })",
                      R"(change_requested { change_id: "CR-1" title: "Add SSO" requested_by: PARTY_CLIENT })",
                      R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_CHANGE subject_id: "CR-1"
                         approvers: "ann" approvers: "bob" rule: APPROVAL_RULE_ALL })"});
  }

  InProcessServer server_;
};

TEST_F(ProjectRulesTest, SixteenConcurrentDecisionsOfOneApproverLandExactlyOnce) {
  SetUpProject();
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto r = Append("ann", {R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })"});
      if (r.ok()) {
        ++ok;
      } else if (absl::IsFailedPrecondition(r.status())) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 15);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(ProjectRulesTest, ChangeIsApprovedOnlyAfterRequestAndImplementedOnlyAfterApproval) {
  SetUpProject();
  ExpectRefused("pm", {R"(change_approved { change_id: "CR-9" })"}, "reference.exists");
  ExpectRefused("pm", {R"(change_implemented { change_id: "CR-1" })"}, "change.implement_after_approval");
  // Approval named as the decision must actually be approved.
  ExpectRefused("pm", {R"(change_approved { change_id: "CR-1" approval_id: "A1" })"},
                "change.decided_by_its_approval");
  MustAppend("ann", {R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })"});
  MustAppend("bob", {R"(approval_decided { approval_id: "A1" approver: "bob" decision: DECISION_APPROVE })"});
  MustAppend("pm", {R"(change_approved { change_id: "CR-1" approval_id: "A1" })",
                    R"(change_implemented { change_id: "CR-1" })"});
  ExpectRefused("pm", {R"(change_withdrawn { change_id: "CR-1" })"}, "change.withdraw_before_decision");
}

TEST_F(ProjectRulesTest, OnlyListedApproversDecideAndOnlyAsThemselves) {
  SetUpProject();
  ExpectRefused("pm", {R"(approval_decided { approval_id: "A1" approver: "pm" decision: DECISION_APPROVE })"},
                "approval.listed_approvers_only");
  ExpectRefused("pm", {R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })"},
                "approval.decided_by_the_approver");
}

TEST_F(ProjectRulesTest, CompletionMustMatchTheComputedOutcome) {
  SetUpProject();
  ExpectRefused("pm", {R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED })"},
                "approval.outcome_from_decisions");
  MustAppend("bob", {R"(approval_decided { approval_id: "A1" approver: "bob" decision: DECISION_REJECT })"});
  // ALL: one reject decides it; further decisions are refused.
  ExpectRefused("ann", {R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })"},
                "approval.open");
  MustAppend("pm", {R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_REJECTED })"});
}

TEST_F(ProjectRulesTest, DeliverableIsAcceptedOnlyAfterSubmissionAndByTheClient) {
  SetUpProject();
  MustAppend("pm", {R"(acceptance_criteria_defined { deliverable_id: "D1" criteria: "loads in 2s" })"});
  ExpectRefused("ann", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "ann" })"},
                "deliverable.accept_after_submission");
  MustAppend("pm", {R"(deliverable_submitted { deliverable_id: "D1" version: "1" })"});
  ExpectRefused("pm", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "pm" })"},
                "deliverable.accepted_by_client");
  MustAppend("ann", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "ann" })"});
}

TEST_F(ProjectRulesTest, ClosedProjectTakesOnlyLessonsAndFeedback) {
  SetUpProject();
  MustAppend("pm", {R"(project_closed { summary: "done" })"});
  ExpectRefused("pm", {R"(status_updated { health: HEALTH_GREEN })"}, "project.closed");
  MustAppend("pm", {R"(lesson_recorded { lesson_id: "L1" went_well: "weekly demos" })",
                    R"(feedback_received { feedback_id: "F1" text: "thanks" })"});
}

TEST_F(ProjectRulesTest, ReferencesMustExist) {
  SetUpProject();
  ExpectRefused("pm", {R"(task_planned { task_id: "T2" title: "t" depends_on: "T1" })"}, "reference.exists");
  ExpectRefused("pm", {R"(client_reminder_sent { action_id: "CA-1" })"}, "reference.exists");
  ExpectRefused("pm", {R"(issue_raised { issue_id: "I1" title: "x" risk_id: "R9" })"}, "reference.exists");
}

TEST_F(ProjectRulesTest, ARefusedEventRefusesItsWholeAppend) {
  SetUpProject();
  ExpectRefused("pm", {R"(task_planned { task_id: "T1" title: "ok" })",
                       R"(task_planned { task_id: "T1" title: "again" })"},
                "task.unique_id");
  MustAppend("pm", {R"(task_planned { task_id: "T1" title: "ok" })"});  // T1 was not kept.
}

// The guard applies an append's events in place; refusing the k-th drops the state, which
// is rebuilt from the latest snapshot and the events after it (snapshots every 2 here).
TEST_F(ProjectRulesTest, StateRebuiltAfterAPartlyAppliedRefusalKeepsEveryEarlierEvent) {
  InProcessServer server(absl::Milliseconds(200), /*snapshot_every=*/2);
  auto append = [&](std::vector<std::string> payloads) {
    std::vector<accord::v1::ProposedEvent> events;
    for (const auto& p : payloads) events.push_back(EventOf(p));
    return server.Client("pm").Append(AppendOf("acme", events));
  };
  ASSERT_TRUE(append({R"(project_created { name: "Shop" client_org: "Acme" })",
                      R"(member_added { principal: "pm" role: MEMBER_ROLE_MANAGER party: PARTY_TEAM })",
                      R"(task_planned { task_id: "T1" title: "one" })"})
                  .ok());
  ASSERT_TRUE(append({R"(task_planned { task_id: "T2" title: "two" })"}).ok());
  // Refused at its third event, after T3 and T4 were applied to the cached state.
  auto refused = append({R"(task_planned { task_id: "T3" title: "three" })",
                         R"(task_planned { task_id: "T4" title: "four" })",
                         R"(task_completed { task_id: "T9" })"});
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  // T3 and T4 are gone; T1 and T2 (one before the latest snapshot, one after) are kept.
  EXPECT_TRUE(append({R"(task_planned { task_id: "T3" title: "three" })"}).ok());
  EXPECT_TRUE(append({R"(task_planned { task_id: "T4" title: "four" })"}).ok());
  for (const char* kept : {"T1", "T2"}) {
    auto again = append({absl::StrCat(R"(task_planned { task_id: ")", kept, R"(" title: "x" })")});
    EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << kept << ": " << again.status();
  }
  EXPECT_TRUE(append({R"(task_completed { task_id: "T2" })"}).ok());
}

TEST_F(ProjectRulesTest, ProjectCreatedOnlyFirst) {
  SetUpProject();
  ExpectRefused("pm", {R"(project_created { name: "again" client_org: "Acme" })"}, "project.created_first");
}

TEST_F(ProjectRulesTest, RetractionNamesAnExistingEventAndCorrectionKeepsItsType) {
  SetUpProject();
  ExpectRefused("pm", {R"(event_retracted { retracted_event_id: "0f8fad5b-d9cb-469f-a165-70867728950e" reason: "x" })"},
                "correction.names_an_event");
  auto status = EventOf(R"(status_updated { health: HEALTH_RED summary: "typo" })");
  ASSERT_TRUE(server_.Client("pm").Append(AppendOf("acme", {status})).ok());
  ExpectRefused("pm", {absl::StrCat(R"(event_corrected { corrected_event_id: ")", status.event_id(),
                                    R"(" reason: "wrong type" replacement { risk_closed { risk_id: "R1" } } })")},
                "correction.same_type");
  MustAppend("pm", {absl::StrCat(R"(event_corrected { corrected_event_id: ")", status.event_id(),
                                 R"(" reason: "was amber" replacement { status_updated { health: HEALTH_AMBER } } })")});
  accord::v1::GetProjectRequest request;
  request.set_project_id("acme");
  auto state = server_.Client().GetProject(request);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->latest_status().health(), accord::v1::HEALTH_AMBER);
  ASSERT_EQ(state->corrections_size(), 1);
  EXPECT_EQ(state->corrections(0).event_id(), status.event_id());
}

TEST_F(ProjectRulesTest, GetProjectAsOfVersionShowsTheStateThen) {
  SetUpProject();
  MustAppend("ann", {R"(approval_decided { approval_id: "A1" approver: "ann" decision: DECISION_APPROVE })"});
  accord::v1::GetProjectRequest request;
  request.set_project_id("acme");
  request.set_as_of_version(5);
  auto then = server_.Client().GetProject(request);
  ASSERT_TRUE(then.ok()) << then.status();
  EXPECT_EQ(then->version(), 5u);
  EXPECT_EQ(then->approvals_size(), 0);
  EXPECT_EQ(then->changes_size(), 1);
  request.clear_as_of_version();
  auto now = server_.Client().GetProject(request);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->approvals_size(), 1);
  EXPECT_EQ(now->approvals(0).decisions_size(), 1);
  request.set_as_of_version(99);
  EXPECT_EQ(server_.Client().GetProject(request).status().code(), absl::StatusCode::kOutOfRange);
  request.set_project_id("ghost");
  request.clear_as_of_version();
  EXPECT_TRUE(absl::IsNotFound(server_.Client().GetProject(request).status()));
}

}  // namespace
}  // namespace accord::testing
