// Portfolio summaries and client responsiveness, computed from states built by hand as
// ComputeAsOf leaves them (overdue and days_late already set).
#include "server/domain/portfolio.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "server/domain/project_projection.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

v1::ProjectState State(const std::string& text) {
  v1::ProjectState state;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &state)) << text;
  return state;
}

absl::Time Day(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

// The next event of `events`, recorded at noon of `day`.
void Record(std::vector<v1::RecordedEvent>& events, absl::Time day, const std::string& text) {
  v1::RecordedEvent event;
  event.set_project_id("p1");
  event.set_version(events.size() + 1);
  event.set_event_id("e" + std::to_string(event.version()));
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, event.mutable_payload())) << text;
  event.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(day + absl::Hours(12)));
  events.push_back(event);
}

TEST(PortfolioTest, SummaryCopiesIdentityHealthAndEnvelope) {
  const v1::ProjectSummary summary = SummarizeProject(State(R"(
      project_id: "p1" version: 12 last_activity { seconds: 1770000000 }
      status: LIFECYCLE_STATUS_PAUSED
      charter { name: "Portal" client_org: "Acme" }
      latest_status { health: HEALTH_AMBER })"));
  EXPECT_EQ(summary.project_id(), "p1");
  EXPECT_EQ(summary.name(), "Portal");
  EXPECT_EQ(summary.client_org(), "Acme");
  EXPECT_EQ(summary.status(), v1::LIFECYCLE_STATUS_PAUSED);
  EXPECT_EQ(summary.health(), v1::HEALTH_AMBER);
  EXPECT_EQ(summary.last_activity().seconds(), 1770000000);
  EXPECT_EQ(summary.version(), 12u);
}

TEST(PortfolioTest, SummaryCountsOpenWork) {
  const v1::ProjectSummary summary = SummarizeProject(State(R"(
      client_actions { action_id: "a1" status: CLIENT_ACTION_STATUS_PENDING overdue: true }
      client_actions { action_id: "a2" status: CLIENT_ACTION_STATUS_ESCALATED overdue: true }
      client_actions { action_id: "a3" status: CLIENT_ACTION_STATUS_PENDING }
      client_actions { action_id: "a4" status: CLIENT_ACTION_STATUS_DONE days_late: 4 }
      changes { change_id: "c1" status: CHANGE_STATUS_REQUESTED }
      changes { change_id: "c2" status: CHANGE_STATUS_ASSESSED }
      changes { change_id: "c3" status: CHANGE_STATUS_APPROVED }
      changes { change_id: "c4" status: CHANGE_STATUS_IMPLEMENTED }
      changes { change_id: "c5" status: CHANGE_STATUS_REJECTED }
      changes { change_id: "c6" status: CHANGE_STATUS_WITHDRAWN }
      approvals { approval_id: "A1" }
      approvals { approval_id: "A2" outcome: APPROVAL_OUTCOME_APPROVED }
      approvals { approval_id: "A3" outcome: APPROVAL_OUTCOME_REJECTED completed: true }
      risks { risk_id: "r1" status: RISK_STATUS_OPEN }
      risks { risk_id: "r2" status: RISK_STATUS_OCCURRED }
      risks { risk_id: "r3" status: RISK_STATUS_CLOSED })"));
  EXPECT_EQ(summary.overdue_client_actions(), 2u);
  EXPECT_EQ(summary.open_changes(), 3u);  // Approved but not implemented is still open.
  EXPECT_EQ(summary.open_approvals(), 1u);
  EXPECT_EQ(summary.open_risks(), 2u);
}

TEST(PortfolioTest, EmptyProjectHasNothingOpen) {
  const v1::ProjectSummary summary = SummarizeProject(v1::ProjectState());
  EXPECT_EQ(summary.overdue_client_actions(), 0u);
  EXPECT_EQ(summary.open_changes(), 0u);
  EXPECT_EQ(summary.open_approvals(), 0u);
  EXPECT_EQ(summary.open_risks(), 0u);
}

// a1 done on time, a2 done 6 days late, a3 open and 3 days overdue, a4 open not yet due.
constexpr char kClientActions[] = R"(
    project_id: "p1"
    client_actions { action_id: "a1" due_date: "2026-03-10" status: CLIENT_ACTION_STATUS_DONE
                     completed_on: "2026-03-09" }
    client_actions { action_id: "a2" due_date: "2026-03-20" status: CLIENT_ACTION_STATUS_DONE
                     completed_on: "2026-03-26" days_late: 6 reminders: 2
                     escalated_to: "cto" }
    client_actions { action_id: "a3" due_date: "2026-04-02" reminders: 1
                     status: CLIENT_ACTION_STATUS_ESCALATED escalated_to: "cto"
                     days_late: 3 overdue: true }
    client_actions { action_id: "a4" due_date: "2026-04-30" status: CLIENT_ACTION_STATUS_PENDING })";

TEST(ClientResponsivenessTest, TotalsOverAllClientActions) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(State(kClientActions));
  EXPECT_EQ(r.project_id(), "p1");
  EXPECT_EQ(r.requested(), 4u);
  EXPECT_EQ(r.completed(), 2u);
  EXPECT_EQ(r.completed_late(), 1u);
  EXPECT_EQ(r.open(), 2u);
  EXPECT_EQ(r.open_overdue(), 1u);
  EXPECT_DOUBLE_EQ(r.average_days_late(), 3.0);  // (0 + 6) / 2 completed.
  EXPECT_EQ(r.max_days_late(), 6u);
}

TEST(ClientResponsivenessTest, MaxDaysLateIncludesOpenOverdueActions) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(State(R"(
      client_actions { due_date: "2026-03-10" status: CLIENT_ACTION_STATUS_DONE days_late: 2 }
      client_actions { due_date: "2026-03-01" status: CLIENT_ACTION_STATUS_PENDING
                       days_late: 9 overdue: true })"));
  EXPECT_EQ(r.max_days_late(), 9u);
  EXPECT_DOUBLE_EQ(r.average_days_late(), 2.0);  // The open one is not averaged.
}

TEST(ClientResponsivenessTest, CountsRemindersAndEscalatedActions) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(State(kClientActions));
  EXPECT_EQ(r.reminders(), 3u);
  EXPECT_EQ(r.escalations(), 2u);  // a2 was escalated before it was done.
}

TEST(ClientResponsivenessTest, GroupsByMonthOfTheDueDateAscending) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(State(kClientActions));
  ASSERT_EQ(r.by_month_size(), 2);
  const v1::ResponsivenessMonth& march = r.by_month(0);
  EXPECT_EQ(march.month(), "2026-03");
  EXPECT_EQ(march.due(), 2u);
  EXPECT_EQ(march.completed_on_time(), 1u);
  EXPECT_EQ(march.completed_late(), 1u);
  EXPECT_EQ(march.still_open(), 0u);
  EXPECT_DOUBLE_EQ(march.average_days_late(), 3.0);
  const v1::ResponsivenessMonth& april = r.by_month(1);
  EXPECT_EQ(april.month(), "2026-04");
  EXPECT_EQ(april.due(), 2u);
  EXPECT_EQ(april.completed_on_time(), 0u);
  EXPECT_EQ(april.still_open(), 2u);
  EXPECT_DOUBLE_EQ(april.average_days_late(), 0.0);  // Nothing completed yet.
}

TEST(ClientResponsivenessTest, MonthsSortAcrossYears) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(State(R"(
      client_actions { due_date: "2027-01-05" status: CLIENT_ACTION_STATUS_PENDING }
      client_actions { due_date: "2026-12-20" status: CLIENT_ACTION_STATUS_PENDING })"));
  ASSERT_EQ(r.by_month_size(), 2);
  EXPECT_EQ(r.by_month(0).month(), "2026-12");
  EXPECT_EQ(r.by_month(1).month(), "2027-01");
}

// The same questions over a state the projection built: the contract with ComputeAsOf.
TEST(ClientResponsivenessTest, WorksOnAReplayedStateAsOfNow) {
  std::vector<v1::RecordedEvent> events;
  Record(events, Day(2026, 3, 1), R"(project_created { name: "Portal" client_org: "Acme" })");
  Record(events, Day(2026, 3, 1), R"(client_action_requested { action_id: "a1"
      kind: CLIENT_ACTION_KIND_DATA title: "export" due_date: "2026-03-05" })");
  Record(events, Day(2026, 3, 1), R"(client_action_requested { action_id: "a2"
      kind: CLIENT_ACTION_KIND_ACCESS title: "VPN" due_date: "2026-03-10" })");
  Record(events, Day(2026, 3, 8), R"(client_action_completed { action_id: "a1" })");
  ReplayOptions options;
  options.now = Day(2026, 3, 14);
  const v1::ProjectState state = Replay(events, options);

  const v1::ClientResponsiveness r = ComputeResponsiveness(state);
  EXPECT_EQ(r.completed_late(), 1u);  // a1: completed 3 days after its due date.
  EXPECT_EQ(r.open_overdue(), 1u);    // a2: 4 days overdue on the 14th.
  EXPECT_DOUBLE_EQ(r.average_days_late(), 3.0);
  EXPECT_EQ(r.max_days_late(), 4u);
  EXPECT_EQ(SummarizeProject(state).overdue_client_actions(), 1u);
}

TEST(ClientResponsivenessTest, NoClientActionsGivesZeros) {
  const v1::ClientResponsiveness r = ComputeResponsiveness(v1::ProjectState());
  EXPECT_EQ(r.requested(), 0u);
  EXPECT_DOUBLE_EQ(r.average_days_late(), 0.0);
  EXPECT_EQ(r.by_month_size(), 0);
}

}  // namespace
}  // namespace accord::domain
