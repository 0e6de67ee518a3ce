// A whole client project, end to end over gRPC: the `accord demo` seeder plays the
// practices of the source articles (charter signed off by the client, plan, status
// updates, a risk that occurs, a change assessed and approved by two approvers, a client
// action chased with reminders and escalated, a deliverable accepted, CSAT collected, and
// a second project closed with lessons). The test asserts state, decision history, report
// and responsiveness at several points, and that every rule broken on purpose is refused.
#include <gtest/gtest.h>

#include "client/demo.h"
#include "google/protobuf/text_format.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

namespace v1 = accord::v1;

// The seeder's dates are relative to this day; the clock for "overdue" is the same day.
const absl::Time kToday = absl::FromCivil(absl::CivilSecond(2026, 11, 20, 3, 0, 0), absl::UTCTimeZone());

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

class ClientProjectScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(client::SeedDemo(server_.target(), "shop", kToday).ok());
  }
  v1::ProjectState State(const std::string& project, uint64_t as_of_version = 0) {
    v1::GetProjectRequest request;
    request.set_project_id(project);
    if (as_of_version > 0) request.set_as_of_version(as_of_version);
    *request.mutable_now() = Ts(kToday);
    auto state = server_.Client().GetProject(request);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : v1::ProjectState();
  }
  // Appends one event as `actor`, expecting refusal by `rule` with nothing written.
  void ExpectRefused(const std::string& project, const std::string& actor,
                     const std::string& payload, const std::string& rule) {
    v1::ProposedEvent e;
    e.set_event_id(client::NewEventId());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(payload, e.mutable_payload()));
    const uint64_t before = server_.log().LastPosition();
    auto r = server_.Client(actor).Append(AppendOf(project, {e}));
    EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << payload << " -> " << r.status();
    EXPECT_NE(r.status().message().find("rule " + rule), std::string::npos) << r.status();
    EXPECT_EQ(server_.log().LastPosition(), before);
  }

  InProcessServer server_;
};

TEST_F(ClientProjectScenarioTest, CharterIsSignedOffByTheClientEarly) {
  const v1::ProjectState early = State("shop", 12);
  EXPECT_TRUE(early.charter().confirmed());
  EXPECT_EQ(early.charter().confirmed_by(), "carol");
  EXPECT_EQ(early.charter().scope_size(), 3);
  EXPECT_EQ(early.milestones_size(), 0);  // The plan came after the sign-off.
  const v1::ProjectState before = State("shop", 11);
  EXPECT_FALSE(before.charter().confirmed());
}

TEST_F(ClientProjectScenarioTest, FinalStateShowsEveryPractice) {
  const v1::ProjectState s = State("shop");
  EXPECT_EQ(s.status(), v1::LIFECYCLE_STATUS_ACTIVE);
  EXPECT_EQ(s.latest_status().health(), v1::HEALTH_AMBER);
  EXPECT_EQ(s.latest_status().percent_complete(), 40u);
  ASSERT_EQ(s.changes_size(), 1);
  EXPECT_EQ(s.changes(0).status(), v1::CHANGE_STATUS_APPROVED);
  EXPECT_EQ(s.changes(0).schedule_impact_days(), 10);
  bool saw_change_approval = false;
  for (const auto& a : s.approvals()) {
    if (a.approval_id() != "A-CR1") continue;
    saw_change_approval = true;
    EXPECT_EQ(a.decisions_size(), 2);
    EXPECT_EQ(a.outcome(), v1::APPROVAL_OUTCOME_APPROVED);
    EXPECT_TRUE(a.completed());
  }
  EXPECT_TRUE(saw_change_approval);
  ASSERT_EQ(s.client_actions_size(), 2);
  EXPECT_EQ(s.client_actions(0).status(), v1::CLIENT_ACTION_STATUS_DONE);
  EXPECT_EQ(s.client_actions(0).days_late(), 4);  // Due d-12, done d-8.
  EXPECT_EQ(s.client_actions(0).reminders(), 1u);
  EXPECT_EQ(s.client_actions(0).escalated_to(), "carol");
  EXPECT_TRUE(s.client_actions(1).overdue());     // Product photos, due d-3.
  ASSERT_EQ(s.deliverables_size(), 1);
  EXPECT_EQ(s.deliverables(0).status(), v1::DELIVERABLE_STATUS_ACCEPTED);
  ASSERT_GE(s.risks_size(), 1);
  EXPECT_EQ(s.risks(0).status(), v1::RISK_STATUS_OCCURRED);
  EXPECT_EQ(s.risks(0).score(), 12u);
  ASSERT_EQ(s.milestones_size(), 3);
  EXPECT_EQ(s.milestones(0).status(), v1::MILESTONE_STATUS_REACHED);
  EXPECT_EQ(s.milestones(2).reschedules(), 1u);
  bool saw_labour = false;
  for (const auto& b : s.budget()) {
    if (b.category() != "labour") continue;
    saw_labour = true;
    EXPECT_EQ(b.budget_minor(), 12000000);
    EXPECT_EQ(b.actual_minor(), 4500000);
  }
  EXPECT_TRUE(saw_labour);
  ASSERT_EQ(s.surveys_size(), 1);
  EXPECT_EQ(s.surveys(0).csat(), 4u);
}

TEST_F(ClientProjectScenarioTest, DecisionHistoryNamesWhoWhenWhyAndWhatItAnswered) {
  v1::GetDecisionHistoryRequest request;
  request.set_project_id("shop");
  auto history = server_.Client().GetDecisionHistory(request);
  ASSERT_TRUE(history.ok()) << history.status();
  int approver_decisions = 0, outcomes = 0, sign_offs = 0, change_decisions = 0, acceptances = 0;
  for (const auto& d : history->decisions()) {
    EXPECT_EQ(d.hash_hex().size(), 64u);
    switch (d.kind()) {
      case v1::DECISION_KIND_APPROVAL_DECISION: ++approver_decisions; break;
      case v1::DECISION_KIND_APPROVAL_OUTCOME: ++outcomes; break;
      case v1::DECISION_KIND_SCOPE_SIGN_OFF: ++sign_offs; break;
      case v1::DECISION_KIND_CHANGE_DECISION:
        ++change_decisions;
        EXPECT_EQ(d.subject(), "change CR-1");
        EXPECT_GT(d.answers_version(), 0u);  // The change_requested event.
        break;
      case v1::DECISION_KIND_ACCEPTANCE: ++acceptances; EXPECT_EQ(d.decided_by(), "carol"); break;
      default: break;
    }
  }
  EXPECT_EQ(approver_decisions, 3);  // Charter by carol; CR-1 by carol and alice.
  EXPECT_GE(outcomes, 2);
  EXPECT_EQ(sign_offs, 1);
  EXPECT_EQ(change_decisions, 1);
  EXPECT_EQ(acceptances, 1);

  request.add_kinds(v1::DECISION_KIND_APPROVAL_DECISION);
  request.set_actor("alice");
  auto alice = server_.Client().GetDecisionHistory(request);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->decisions_size(), 1);
  EXPECT_EQ(alice->decisions(0).comment(), "Team capacity confirmed");
}

TEST_F(ClientProjectScenarioTest, MonthlyReportAndClientResponsiveness) {
  v1::GetReportRequest request;
  request.set_project_id("shop");
  request.set_period(absl::FormatTime("%Y-%m", kToday, absl::UTCTimeZone()));
  *request.mutable_now() = Ts(kToday);
  auto report = server_.Client().GetReport(request);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->project_name(), "Website relaunch");
  EXPECT_EQ(report->health().health(), v1::HEALTH_AMBER);
  EXPECT_DOUBLE_EQ(report->average_csat(), 4.0);
  EXPECT_EQ(report->client_actions_overdue_size(), 1);
  EXPECT_NE(report->markdown().find("Product photos"), std::string::npos) << report->markdown();

  v1::GetClientResponsivenessRequest r;
  r.set_project_id("shop");
  *r.mutable_now() = Ts(kToday);
  auto responsiveness = server_.Client().GetClientResponsiveness(r);
  ASSERT_TRUE(responsiveness.ok()) << responsiveness.status();
  ASSERT_EQ(responsiveness->projects_size(), 1);
  const auto& shop = responsiveness->projects(0);
  EXPECT_EQ(shop.requested(), 2u);
  EXPECT_EQ(shop.completed_late(), 1u);
  EXPECT_EQ(shop.open_overdue(), 1u);
  EXPECT_EQ(shop.escalations(), 1u);

  v1::ListProjectsRequest list;
  *list.mutable_now() = Ts(kToday);
  auto portfolio = server_.Client().ListProjects(list);
  ASSERT_TRUE(portfolio.ok());
  ASSERT_EQ(portfolio->projects_size(), 2);
  EXPECT_EQ(portfolio->projects(0).project_id(), "shop");
  EXPECT_EQ(portfolio->projects(0).overdue_client_actions(), 1u);
  EXPECT_EQ(portfolio->projects(1).status(), v1::LIFECYCLE_STATUS_CLOSED);
}

TEST_F(ClientProjectScenarioTest, ListRpcsPageWithPageSizeAndToken) {
  v1::ListProjectsRequest list;
  list.set_page_size(1);
  auto first = server_.Client().ListProjects(list);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->projects_size(), 1);
  EXPECT_EQ(first->projects(0).project_id(), "shop");
  ASSERT_FALSE(first->next_page_token().empty());
  list.set_page_token(first->next_page_token());
  auto second = server_.Client().ListProjects(list);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->projects_size(), 1);
  EXPECT_EQ(second->projects(0).project_id(), "shop-closed");
  EXPECT_TRUE(second->next_page_token().empty());

  v1::GetDecisionHistoryRequest history;
  history.set_project_id("shop");
  history.set_page_size(2);
  std::vector<uint64_t> versions;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = server_.Client().GetDecisionHistory(history);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& d : page->decisions()) versions.push_back(d.version());
    if (page->next_page_token().empty()) break;
    history.set_page_token(page->next_page_token());
  }
  history.clear_page_token();
  history.set_page_size(1000);
  auto all = server_.Client().GetDecisionHistory(history);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(versions.size(), static_cast<size_t>(all->decisions_size()));
  for (size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i], all->decisions(i).version());

  list.set_page_size(5000);
  EXPECT_TRUE(absl::IsInvalidArgument(server_.Client().ListProjects(list).status()));
}

// Every time a Projects request carries is checked against Timestamp's range, and the
// history's filters against their rules, before anything is read.
TEST_F(ClientProjectScenarioTest, RequestTimesAndFiltersOutOfRangeAreRefusedNamingTheField) {
  google::protobuf::Timestamp bad;
  bad.set_seconds(absl::ToUnixSeconds(kToday));
  bad.set_nanos(1'000'000'000);
  auto refused = [](const absl::Status& status, const std::string& field) {
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << field << ": " << status;
    EXPECT_EQ(status.message().substr(0, field.size() + 1), field + ":") << status;
  };
  v1::GetProjectRequest project;
  project.set_project_id("shop");
  *project.mutable_as_of_time() = bad;
  refused(server_.Client().GetProject(project).status(), "as_of_time");
  project.clear_as_of_time();
  *project.mutable_now() = bad;
  refused(server_.Client().GetProject(project).status(), "now");

  v1::ListProjectsRequest list;
  *list.mutable_now() = bad;
  refused(server_.Client().ListProjects(list).status(), "now");
  v1::GetReportRequest report;
  report.set_project_id("shop");
  report.set_period("2026-11");
  *report.mutable_now() = bad;
  refused(server_.Client().GetReport(report).status(), "now");
  v1::GetClientResponsivenessRequest responsiveness;
  *responsiveness.mutable_now() = bad;
  refused(server_.Client().GetClientResponsiveness(responsiveness).status(), "now");

  v1::GetDecisionHistoryRequest history;
  history.set_project_id("shop");
  *history.mutable_from_time() = bad;
  refused(server_.Client().GetDecisionHistory(history).status(), "from_time");
  history.clear_from_time();
  *history.mutable_from_time() = Ts(kToday);
  *history.mutable_to_time() = Ts(kToday - absl::Hours(1));
  refused(server_.Client().GetDecisionHistory(history).status(), "to_time");
  history.clear_from_time();
  history.clear_to_time();
  history.add_kinds(static_cast<v1::DecisionKind>(42));
  refused(server_.Client().GetDecisionHistory(history).status(), "kinds[0]");
}

TEST_F(ClientProjectScenarioTest, EveryRuleBrokenOnPurposeIsRefused) {
  ExpectRefused("shop", "alice", R"(change_approved { change_id: "CR-1" })", "change.approve_after_request");
  ExpectRefused("shop", "alice", R"(change_implemented { change_id: "CR-9" })", "reference.exists");
  ExpectRefused("shop", "bob", R"(approval_decided { approval_id: "A-CR1" approver: "bob" decision: DECISION_APPROVE })",
                "approval.listed_approvers_only");
  ExpectRefused("shop", "carol", R"(approval_decided { approval_id: "A-CR1" approver: "carol" decision: DECISION_REJECT })",
                "approval.decide_once");
  ExpectRefused("shop", "carol", R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "carol" })",
                "deliverable.accept_after_submission");
  ExpectRefused("shop", "alice", R"(client_reminder_sent { action_id: "CA-1" })", "client_action.open");
  ExpectRefused("shop", "alice", R"(milestone_reached { milestone_id: "M1" })", "milestone.reached_is_final");
  ExpectRefused("shop", "alice", R"(charter_confirmed { confirmed_by: "bob" })", "charter.confirmed_by_client");
  ExpectRefused("shop-closed", "alice", R"(status_updated { health: HEALTH_GREEN })", "project.closed");
}

}  // namespace
}  // namespace accord::testing
