// The project-state projection: lifecycles of changes, approvals, deliverables, client
// actions, risks and milestones; budget versus actual; retractions and corrections in
// Replay; the "now"-dependent fields; determinism; and one event of every catalog type.
#include "server/domain/project_projection.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "tests/server/domain/test_project_log.h"
#include "server/domain/event_validation.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

const absl::TimeZone kUtc = absl::UTCTimeZone();

absl::Time At(int year, int month, int day, int hour = 9) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0), kUtc);
}

// The test log with its replay.
class Log : public testing::TestProjectLog {
 public:
  v1::ProjectState Replayed(const ReplayOptions& options = {}) const {
    return Replay(events(), options);
  }
};

constexpr char kCreated[] =
    R"(project_created { name: "Portal" client_org: "Acme" manager: "pm" })";

// ---------------------------------------------------------------------------------------

TEST(ProjectProjectionTest, ProjectLifecycleAndEnvelope) {
  Log log;
  log.Add(kCreated);
  v1::ProjectState s = log.Replayed();
  EXPECT_EQ(s.status(), v1::LIFECYCLE_STATUS_ACTIVE);
  EXPECT_EQ(s.charter().time_zone(), "UTC");  // Default when the project names none.
  EXPECT_EQ(s.project_id(), "p1");
  EXPECT_EQ(s.version(), 1u);
  EXPECT_EQ(s.last_event_hash_hex(), std::string(62, '0') + "a1");  // Lower-case hex.
  EXPECT_EQ(s.last_activity().seconds(), absl::ToUnixSeconds(At(2026, 3, 2)));

  log.Add(R"(project_paused { reason: "budget review" })");
  EXPECT_EQ(log.Replayed().status(), v1::LIFECYCLE_STATUS_PAUSED);
  log.Add(R"(project_resumed {})");
  EXPECT_EQ(log.Replayed().status(), v1::LIFECYCLE_STATUS_ACTIVE);
  log.Add(R"(project_closed { final_acceptance: true summary: "shipped" })");
  s = log.Replayed();
  EXPECT_EQ(s.status(), v1::LIFECYCLE_STATUS_CLOSED);
  EXPECT_EQ(s.closed_summary(), "shipped");
  EXPECT_TRUE(s.final_acceptance());
  EXPECT_EQ(s.version(), 4u);
}

TEST(ProjectProjectionTest, ChangeMovesThroughItsLifecycle) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(change_requested { change_id: "C1" title: "SSO" requested_by: PARTY_CLIENT })",
          "client");
  EXPECT_EQ(log.Replayed().changes(0).status(), v1::CHANGE_STATUS_REQUESTED);
  log.Add(R"(change_assessed { change_id: "C1" schedule_impact_days: 5
                               cost_impact { currency_code: "EUR" amount_minor: 900 } })");
  EXPECT_EQ(log.Replayed().changes(0).status(), v1::CHANGE_STATUS_ASSESSED);
  log.Add(R"(change_approved { change_id: "C1" approval_id: "A1" })", "sponsor");
  v1::Change c = log.Replayed().changes(0);
  EXPECT_EQ(c.status(), v1::CHANGE_STATUS_APPROVED);
  EXPECT_EQ(c.approval_id(), "A1");
  EXPECT_EQ(c.requested().version(), 2u);
  EXPECT_EQ(c.requested().actor(), "client");
  EXPECT_EQ(c.decided().version(), 4u);
  EXPECT_EQ(c.decided().actor(), "sponsor");
  EXPECT_EQ(c.schedule_impact_days(), 5);
  EXPECT_EQ(c.cost_impact().amount_minor(), 900);
  log.Add(R"(change_implemented { change_id: "C1" })");
  EXPECT_EQ(log.Replayed().changes(0).status(), v1::CHANGE_STATUS_IMPLEMENTED);

  log.Add(R"(change_requested { change_id: "C2" title: "dark mode" })");
  log.Add(R"(change_rejected { change_id: "C2" })");
  log.Add(R"(change_requested { change_id: "C3" title: "PDF export" })");
  log.Add(R"(change_withdrawn { change_id: "C3" })");
  v1::ProjectState s = log.Replayed();
  ASSERT_EQ(s.changes_size(), 3);
  EXPECT_EQ(s.changes(1).status(), v1::CHANGE_STATUS_REJECTED);
  EXPECT_EQ(s.changes(2).status(), v1::CHANGE_STATUS_WITHDRAWN);
}

// Replays an approval among approvers a, b, c with `rule` and decides it in the given
// order ({approver, approve?}); returns the approval after each decision.
std::vector<v1::Approval> Decide(const std::string& rule, int quorum,
                                 const std::vector<std::pair<std::string, bool>>& decisions) {
  Log log;
  log.Add(kCreated);
  log.Add(absl::StrFormat(R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_SCOPE
                              approvers: ["a", "b", "c"] rule: %s quorum: %d })",
                          rule, quorum));
  std::vector<v1::Approval> after;
  for (const auto& [approver, approve] : decisions) {
    log.Add(absl::StrFormat(R"(approval_decided { approval_id: "A1" approver: "%s" decision: %s })",
                            approver, approve ? "DECISION_APPROVE" : "DECISION_REJECT"),
            approver);
    after.push_back(log.Replayed().approvals(0));
  }
  return after;
}

constexpr auto kOpen = v1::APPROVAL_OUTCOME_UNSPECIFIED;
constexpr auto kApproved = v1::APPROVAL_OUTCOME_APPROVED;
constexpr auto kRejected = v1::APPROVAL_OUTCOME_REJECTED;

TEST(ProjectProjectionTest, ApprovalRuleAllNeedsEveryoneAndRejectsAtFirstReject) {
  auto all = Decide("APPROVAL_RULE_ALL", 0, {{"a", true}, {"b", true}, {"c", true}});
  EXPECT_EQ(all[0].outcome(), kOpen);
  EXPECT_EQ(all[1].outcome(), kOpen);
  EXPECT_EQ(all[2].outcome(), kApproved);
  EXPECT_EQ(all[2].decisions_size(), 3);
  EXPECT_EQ(all[2].decisions(2).decided().version(), 5u);

  auto early = Decide("APPROVAL_RULE_ALL", 0, {{"a", true}, {"b", false}});
  EXPECT_EQ(early[1].outcome(), kRejected);
}

TEST(ProjectProjectionTest, ApprovalRuleAnyApprovesAtFirstApprove) {
  auto any = Decide("APPROVAL_RULE_ANY", 0, {{"a", false}, {"b", true}});
  EXPECT_EQ(any[0].outcome(), kOpen);
  EXPECT_EQ(any[1].outcome(), kApproved);

  auto none = Decide("APPROVAL_RULE_ANY", 0, {{"a", false}, {"b", false}, {"c", false}});
  EXPECT_EQ(none[1].outcome(), kOpen);
  EXPECT_EQ(none[2].outcome(), kRejected);
}

TEST(ProjectProjectionTest, ApprovalRuleQuorumDecidesAsSoonAsItIsDetermined) {
  auto reached = Decide("APPROVAL_RULE_QUORUM", 2, {{"a", true}, {"b", false}, {"c", true}});
  EXPECT_EQ(reached[1].outcome(), kOpen);
  EXPECT_EQ(reached[2].outcome(), kApproved);

  // After two rejections, one approver left cannot make two approvals.
  auto unreachable = Decide("APPROVAL_RULE_QUORUM", 2, {{"a", false}, {"b", false}});
  EXPECT_EQ(unreachable[0].outcome(), kOpen);
  EXPECT_EQ(unreachable[1].outcome(), kRejected);
}

TEST(ProjectProjectionTest, ApprovalCompletedMarksCompletion) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_BUDGET
                                  approvers: "a" rule: APPROVAL_RULE_ANY })");
  log.Add(R"(approval_decided { approval_id: "A1" approver: "a" decision: DECISION_APPROVE })", "a");
  EXPECT_FALSE(log.Replayed().approvals(0).completed());
  log.Add(R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED })");
  const v1::Approval a = log.Replayed().approvals(0);
  EXPECT_TRUE(a.completed());
  EXPECT_EQ(a.outcome(), kApproved);
  EXPECT_EQ(a.requested().version(), 2u);
}

TEST(ProjectProjectionTest, BudgetVersusActualPerCategoryAndCurrency) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 100000 } })");
  log.Add(R"(cost_recorded { cost_id: "K1" category: "labour" amount { currency_code: "EUR" amount_minor: 30000 } })");
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 120000 } })");
  log.Add(R"(cost_recorded { cost_id: "K2" category: "labour" amount { currency_code: "EUR" amount_minor: 20000 } })");
  log.Add(R"(cost_recorded { cost_id: "K3" category: "travel" amount { currency_code: "USD" amount_minor: 5000 } })");
  const v1::ProjectState s = log.Replayed();
  ASSERT_EQ(s.budget_size(), 2);
  EXPECT_EQ(s.budget(0).category(), "labour");
  EXPECT_EQ(s.budget(0).currency_code(), "EUR");
  EXPECT_EQ(s.budget(0).budget_minor(), 120000);  // Replaced, not added.
  EXPECT_EQ(s.budget(0).actual_minor(), 50000);   // Added up.
  EXPECT_EQ(s.budget(1).category(), "travel");
  EXPECT_EQ(s.budget(1).budget_minor(), 0);
  EXPECT_EQ(s.budget(1).actual_minor(), 5000);
}

TEST(ProjectProjectionTest, ClientActionLatenessWhenCompletedAndOverdueAsOfNow) {
  Log log;
  log.Add(R"(project_created { name: "Portal" client_org: "Acme" time_zone: "Asia/Shanghai" })");
  // 20:00 UTC on March 2nd is already March 3rd in Shanghai.
  log.SetClock(At(2026, 3, 2, 20));
  log.Add(R"(client_action_requested { action_id: "CA1" kind: CLIENT_ACTION_KIND_DATA
                                       title: "sales data" due_date: "2026-03-10" })");
  log.Add(R"(client_action_requested { action_id: "CA2" kind: CLIENT_ACTION_KIND_ACCESS
                                       title: "VPN" due_date: "2026-03-12" })");
  log.Add(R"(client_reminder_sent { action_id: "CA1" })");
  log.Add(R"(client_reminder_sent { action_id: "CA1" })");
  log.Add(R"(client_action_escalated { action_id: "CA1" escalated_to: "sponsor" })");
  v1::ProjectState s = log.Replayed();
  EXPECT_EQ(s.client_actions(0).requested_on(), "2026-03-03");
  EXPECT_EQ(s.client_actions(0).reminders(), 2u);
  EXPECT_EQ(s.client_actions(0).status(), v1::CLIENT_ACTION_STATUS_ESCALATED);
  EXPECT_EQ(s.client_actions(0).escalated_to(), "sponsor");

  log.Add(R"(client_action_completed { action_id: "CA1" completed_on: "2026-03-14" })");
  s = log.Replayed();
  EXPECT_EQ(s.client_actions(0).status(), v1::CLIENT_ACTION_STATUS_DONE);
  EXPECT_EQ(s.client_actions(0).days_late(), 4);
  EXPECT_EQ(s.client_actions(1).days_late(), 0);  // Open: only ComputeAsOf knows.

  // 17:00 UTC on March 15th is March 16th in Shanghai: CA2 is 4 days past due.
  ComputeAsOf(At(2026, 3, 15, 17), &s);
  EXPECT_EQ(s.as_of_now().seconds(), absl::ToUnixSeconds(At(2026, 3, 15, 17)));
  EXPECT_TRUE(s.client_actions(1).overdue());
  EXPECT_EQ(s.client_actions(1).days_late(), 4);
  EXPECT_FALSE(s.client_actions(0).overdue());
  EXPECT_EQ(s.client_actions(0).days_late(), 4);  // As completed.

  ComputeAsOf(At(2026, 3, 11), &s);
  EXPECT_FALSE(s.client_actions(1).overdue());
  EXPECT_EQ(s.client_actions(1).days_late(), 0);
}

TEST(ProjectProjectionTest, ClientActionCompletedWithoutDateUsesTheRecordedDay) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(client_action_requested { action_id: "CA1" kind: CLIENT_ACTION_KIND_REVIEW
                                       title: "review" due_date: "2026-03-01" })");
  log.SetClock(At(2026, 3, 9));
  log.Add(R"(client_action_completed { action_id: "CA1" })");
  const v1::ClientAction a = log.Replayed().client_actions(0);
  EXPECT_EQ(a.completed_on(), "2026-03-09");
  EXPECT_EQ(a.days_late(), 8);
}

TEST(ProjectProjectionTest, ActionItemsAreOverdueOnlyWhileOpen) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(action_item_assigned { action_item_id: "AI1" title: "minutes" owner: "pm" due_date: "2026-03-05" })");
  log.Add(R"(action_item_assigned { action_item_id: "AI2" title: "room" owner: "pm" due_date: "2026-03-05" })");
  log.Add(R"(action_item_completed { action_item_id: "AI2" })");
  ReplayOptions options;
  options.now = At(2026, 3, 6);
  v1::ProjectState s = log.Replayed(options);
  EXPECT_TRUE(s.action_items(0).overdue());
  EXPECT_FALSE(s.action_items(1).overdue());
  EXPECT_TRUE(s.action_items(1).done());
  ComputeAsOf(At(2026, 3, 5), &s);  // Due today is not overdue.
  EXPECT_FALSE(s.action_items(0).overdue());
}

TEST(ProjectProjectionTest, DeliverableFlowFromCriteriaToAcceptance) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(acceptance_criteria_defined { deliverable_id: "D1" title: "Portal" criteria: ["fast", "safe"] })");
  EXPECT_EQ(log.Replayed().deliverables(0).status(), v1::DELIVERABLE_STATUS_DEFINED);
  log.Add(R"(deliverable_submitted { deliverable_id: "D1" version: "1.0" })");
  EXPECT_EQ(log.Replayed().deliverables(0).status(), v1::DELIVERABLE_STATUS_SUBMITTED);
  log.Add(R"(quality_reviewed { deliverable_id: "D1" result: REVIEW_RESULT_FAIL findings: "slow" })");
  v1::Deliverable d = log.Replayed().deliverables(0);
  EXPECT_EQ(d.status(), v1::DELIVERABLE_STATUS_REVIEWED);
  EXPECT_EQ(d.last_review(), v1::REVIEW_RESULT_FAIL);
  EXPECT_EQ(d.findings(0), "slow");
  log.Add(R"(deliverable_rejected { deliverable_id: "D1" rejected_by: "client" reason: "slow" })", "client");
  d = log.Replayed().deliverables(0);
  EXPECT_EQ(d.status(), v1::DELIVERABLE_STATUS_REJECTED);
  EXPECT_EQ(d.decided_by(), "client");
  EXPECT_EQ(d.decided().version(), 5u);
  log.Add(R"(deliverable_submitted { deliverable_id: "D1" version: "1.1" })");
  log.Add(R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "client" })", "client");
  d = log.Replayed().deliverables(0);
  EXPECT_EQ(d.status(), v1::DELIVERABLE_STATUS_ACCEPTED);
  EXPECT_EQ(d.submissions(), 2u);
  EXPECT_EQ(d.version(), "1.1");
  EXPECT_EQ(d.title(), "Portal");
  EXPECT_EQ(d.criteria_size(), 2);
  EXPECT_EQ(d.decided().version(), 7u);
}

TEST(ProjectProjectionTest, RiskScoreAndOccurrenceBecomingAnIssue) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(risk_identified { risk_id: "R1" title: "vendor late" probability: 3 impact: 4 })");
  EXPECT_EQ(log.Replayed().risks(0).score(), 12u);
  log.Add(R"(risk_assessed { risk_id: "R1" impact: 5 })");  // Probability stays 3.
  EXPECT_EQ(log.Replayed().risks(0).score(), 15u);
  log.Add(R"(risk_response_planned { risk_id: "R1" strategy: RISK_RESPONSE_STRATEGY_MITIGATE plan: "second vendor" })");
  log.Add(R"(risk_occurred { risk_id: "R1" })");
  log.Add(R"(issue_raised { issue_id: "I1" title: "vendor is late" risk_id: "R1" severity: SEVERITY_HIGH })");
  v1::ProjectState s = log.Replayed();
  EXPECT_EQ(s.risks(0).status(), v1::RISK_STATUS_OCCURRED);
  EXPECT_EQ(s.risks(0).strategy(), v1::RISK_RESPONSE_STRATEGY_MITIGATE);
  EXPECT_EQ(s.risks(0).issue_id(), "I1");
  EXPECT_EQ(s.issues(0).risk_id(), "R1");
  log.Add(R"(issue_resolved { issue_id: "I1" resolution: "switched vendor" })");
  log.Add(R"(risk_closed { risk_id: "R1" })");
  s = log.Replayed();
  EXPECT_TRUE(s.issues(0).resolved());
  EXPECT_EQ(s.issues(0).resolved_on(), "2026-03-02");
  EXPECT_EQ(s.risks(0).status(), v1::RISK_STATUS_CLOSED);
}

TEST(ProjectProjectionTest, TaskStatuses) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(task_planned { task_id: "T1" title: "build" estimate_hours: 10 })");
  EXPECT_EQ(log.Replayed().tasks(0).status(), v1::TASK_STATUS_PLANNED);
  log.Add(R"(task_progress_reported { task_id: "T1" hours_spent: 2 })");  // No percent yet.
  EXPECT_EQ(log.Replayed().tasks(0).status(), v1::TASK_STATUS_PLANNED);
  log.Add(R"(task_progress_reported { task_id: "T1" percent_complete: 30 })");
  EXPECT_EQ(log.Replayed().tasks(0).status(), v1::TASK_STATUS_IN_PROGRESS);
  log.Add(R"(task_blocked { task_id: "T1" reason: "no access" })");
  EXPECT_EQ(log.Replayed().tasks(0).blocked_reason(), "no access");
  log.Add(R"(task_progress_reported { task_id: "T1" percent_complete: 60 hours_spent: 7 })");
  v1::Task t = log.Replayed().tasks(0);
  EXPECT_EQ(t.status(), v1::TASK_STATUS_IN_PROGRESS);
  EXPECT_EQ(t.blocked_reason(), "");
  EXPECT_EQ(t.hours_spent(), 7u);
  log.Add(R"(task_completed { task_id: "T1" completed_on: "2026-03-04" })");
  t = log.Replayed().tasks(0);
  EXPECT_EQ(t.status(), v1::TASK_STATUS_DONE);
  EXPECT_EQ(t.percent_complete(), 100u);
  EXPECT_EQ(t.completed_on(), "2026-03-04");
}

TEST(ProjectProjectionTest, MilestoneRescheduleKeepsOriginalDueDate) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(milestone_planned { milestone_id: "M1" title: "beta" due_date: "2026-05-01" })");
  log.Add(R"(milestone_rescheduled { milestone_id: "M1" new_due_date: "2026-05-15" })");
  log.Add(R"(milestone_rescheduled { milestone_id: "M1" new_due_date: "2026-06-01" })");
  v1::Milestone m = log.Replayed().milestones(0);
  EXPECT_EQ(m.due_date(), "2026-06-01");
  EXPECT_EQ(m.original_due_date(), "2026-05-01");
  EXPECT_EQ(m.reschedules(), 2u);
  EXPECT_EQ(m.status(), v1::MILESTONE_STATUS_PLANNED);
  log.Add(R"(milestone_missed { milestone_id: "M1" new_due_date: "2026-06-15" })");
  m = log.Replayed().milestones(0);
  EXPECT_EQ(m.status(), v1::MILESTONE_STATUS_MISSED);
  EXPECT_EQ(m.due_date(), "2026-06-15");
  EXPECT_EQ(m.reschedules(), 3u);
  EXPECT_EQ(m.original_due_date(), "2026-05-01");
  log.SetClock(At(2026, 6, 14));
  log.Add(R"(milestone_reached { milestone_id: "M1" })");
  m = log.Replayed().milestones(0);
  EXPECT_EQ(m.status(), v1::MILESTONE_STATUS_REACHED);
  EXPECT_EQ(m.reached_on(), "2026-06-14");
}

TEST(ProjectProjectionTest, ResponsibilityReplacesTheLetterOfThePair) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(responsibility_assigned { item_id: "T1" principal: "dev" raci: RACI_CONSULTED })");
  log.Add(R"(responsibility_assigned { item_id: "T1" principal: "pm" raci: RACI_ACCOUNTABLE })");
  log.Add(R"(responsibility_assigned { item_id: "T1" principal: "dev" raci: RACI_RESPONSIBLE })");
  const v1::ProjectState s = log.Replayed();
  ASSERT_EQ(s.responsibilities_size(), 2);
  EXPECT_EQ(s.responsibilities(0).principal(), "dev");
  EXPECT_EQ(s.responsibilities(0).raci(), v1::RACI_RESPONSIBLE);
}

TEST(ProjectProjectionTest, RetractionSkipsTheEventInReplayAndIsListed) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(task_planned { task_id: "T1" title: "build" })");
  log.Add(R"(task_planned { task_id: "T2" title: "test" })");
  const v1::RecordedEvent retraction = log.Add(absl::StrFormat(
      R"(event_retracted { retracted_event_id: "%s" reason: "wrong project" })", Log::IdOf(2)));
  EXPECT_TRUE(NeedsReplay(retraction));

  const v1::ProjectState s = log.Replayed();
  ASSERT_EQ(s.tasks_size(), 1);
  EXPECT_EQ(s.tasks(0).task_id(), "T2");
  EXPECT_EQ(s.version(), 4u);
  ASSERT_EQ(s.corrections_size(), 1);
  EXPECT_EQ(s.corrections(0).event_id(), Log::IdOf(2));
  EXPECT_EQ(s.corrections(0).by_event_id(), Log::IdOf(4));
  EXPECT_EQ(s.corrections(0).by_version(), 4u);
  EXPECT_TRUE(s.corrections(0).retracted());
  EXPECT_EQ(s.corrections(0).reason(), "wrong project");

  // As of version 3 the retraction had not happened.
  ReplayOptions as_of_3;
  as_of_3.up_to_version = 3;
  EXPECT_EQ(log.Replayed(as_of_3).tasks_size(), 2);

  // Applied incrementally the retraction is recorded but cannot undo: hence NeedsReplay.
  v1::ProjectState incremental;
  for (const auto& e : log.events()) ApplyEvent(e, &incremental);
  EXPECT_EQ(incremental.tasks_size(), 2);
  EXPECT_EQ(incremental.corrections_size(), 1);
}

TEST(ProjectProjectionTest, CorrectionAppliesTheReplacementInPlace) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 1000 } })");
  log.Add(R"(change_requested { change_id: "C1" title: "SSO" })", "client");
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "typo"
        replacement { budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 10000 } } } })",
                          Log::IdOf(2)));
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "title"
        replacement { change_requested { change_id: "C1" title: "Single sign-on" } } })",
                          Log::IdOf(3)));
  const v1::ProjectState s = log.Replayed();
  EXPECT_EQ(s.budget(0).budget_minor(), 10000);
  EXPECT_EQ(s.changes(0).title(), "Single sign-on");
  // The replacement keeps the original's place in the log.
  EXPECT_EQ(s.changes(0).requested().version(), 3u);
  EXPECT_EQ(s.changes(0).requested().actor(), "client");
  EXPECT_EQ(s.version(), 5u);
  ASSERT_EQ(s.corrections_size(), 2);
  EXPECT_FALSE(s.corrections(0).retracted());
  EXPECT_EQ(s.corrections(0).event_id(), Log::IdOf(2));
  EXPECT_EQ(s.corrections(1).by_version(), 5u);
}

TEST(ProjectProjectionTest, RetractedCorrectionNoLongerCounts) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 1000 } })");
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "typo"
        replacement { budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 5 } } } })",
                          Log::IdOf(2)));
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "was right" })",
                          Log::IdOf(3)));
  const v1::ProjectState s = log.Replayed();
  EXPECT_EQ(s.budget(0).budget_minor(), 1000);
  ASSERT_EQ(s.corrections_size(), 1);  // The retracted correction is skipped whole.
  EXPECT_EQ(s.corrections(0).event_id(), Log::IdOf(3));
}

// Replay in two passes (a stream read twice, only corrections kept) against Replay, on the
// cases of EffectivePayloads: a corrected correction, retracted corrections and
// retractions, two corrections of one event (the latest wins), a correction naming a
// later event or an unknown id (each only records itself).
TEST(ProjectProjectionTest, ReplayInTwoPassesEqualsReplayWhateverTheCorrections) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 1000 } })");
  log.Add(R"(budget_set { category: "hosting" amount { currency_code: "EUR" amount_minor: 10 } })");
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "a"
        replacement { budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 2000 } } } })",
                          Log::IdOf(2)));                                                   // 4
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "b"
        replacement { budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 3000 } } } })",
                          Log::IdOf(2)));                                                   // 5
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "c"
        replacement { event_corrected { corrected_event_id: "%s" reason: "c2"
          replacement { budget_set { category: "hosting" amount { currency_code: "EUR" amount_minor: 20 } } } } } })",
                          Log::IdOf(5), Log::IdOf(3)));                                     // 6
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "d" })",
                          Log::IdOf(9)));                                                   // 7: later
  log.Add(R"(event_retracted { retracted_event_id: "00000000-0000-4000-8000-999999999999" reason: "e" })");
  log.Add(R"(change_requested { change_id: "C1" title: "SSO" })");                          // 9
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "f" })",
                          Log::IdOf(4)));                                                   // 10
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "g" })",
                          Log::IdOf(10)));                                                  // 11
  const std::vector<v1::RecordedEvent>& events = log.events();
  for (size_t n = 1; n <= events.size(); ++n) {
    const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + n);
    int passes = 0;
    v1::ProjectState two_passes;
    ASSERT_TRUE(ReplayInTwoPasses(
                    [&](EventVisitor visit) {
                      ++passes;
                      for (const v1::RecordedEvent& e : prefix) {
                        if (absl::Status s = visit(e); !s.ok()) return s;
                      }
                      return absl::OkStatus();
                    },
                    {}, &two_passes)
                    .ok());
    EXPECT_EQ(passes, 2);
    ASSERT_EQ(DeterministicBytes(two_passes), DeterministicBytes(Replay(prefix)))
        << "first " << n << " events";
  }
}

TEST(ProjectProjectionTest, ReplayInTwoPassesRefusesAStreamThatChangedBetweenPasses) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 1000 } })");
  size_t shown = 1;
  v1::ProjectState state;
  absl::Status s = ReplayInTwoPasses(
      [&](EventVisitor visit) {
        for (size_t i = 0; i < shown; ++i) {
          if (absl::Status v = visit(log.events()[i]); !v.ok()) return v;
        }
        shown = 2;  // An append landed between the passes.
        return absl::OkStatus();
      },
      {}, &state);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
}

TEST(ProjectProjectionTest, ReplayIsDeterministicAndMatchesIncrementalApply) {
  Log log;
  log.Add(R"(project_created { name: "Portal" client_org: "Acme" time_zone: "Europe/Berlin" })");
  log.Add(R"(goal_set { goal_id: "G1" title: "conversion" target: "+15%" })");
  log.Add(R"(milestone_planned { milestone_id: "M1" title: "beta" due_date: "2026-05-01" })");
  log.Add(R"(risk_identified { risk_id: "R1" title: "vendor" probability: 2 impact: 2 })");
  log.Add(R"(satisfaction_surveyed { survey_id: "S1" csat: 4 })");
  log.Add(R"(client_action_requested { action_id: "CA1" kind: CLIENT_ACTION_KIND_DATA
                                       title: "data" due_date: "2026-03-03" })");
  ReplayOptions options;
  options.now = At(2026, 4, 1);
  const std::string first = DeterministicBytes(log.Replayed(options));
  const std::string second = DeterministicBytes(log.Replayed(options));
  EXPECT_EQ(first, second);

  v1::ProjectState incremental;
  for (const auto& e : log.events()) ApplyEvent(e, &incremental);
  ComputeAsOf(At(2026, 4, 1), &incremental);
  EXPECT_EQ(DeterministicBytes(incremental), first);
}

TEST(ProjectProjectionTest, SurveyPresenceComesFromOptionalFields) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(satisfaction_surveyed { survey_id: "S1" nps: 0 })");
  const v1::SurveyResult r = log.Replayed().surveys(0);
  EXPECT_TRUE(r.has_nps());
  EXPECT_EQ(r.nps(), 0u);
  EXPECT_FALSE(r.has_csat());
}

// ---------------------------------------------------------------------------------------
// One event of every type of the catalog.

// The events every case below starts from: one open item of each kind.
const char* const kBase[] = {
    R"(project_created { name: "Portal" client_org: "Acme" manager: "pm" })",
    R"(member_added { principal: "dev" role: MEMBER_ROLE_MEMBER party: PARTY_TEAM })",
    R"(scope_item_added { scope_item_id: "S1" description: "checkout" kind: SCOPE_KIND_IN_SCOPE })",
    R"(milestone_planned { milestone_id: "M1" title: "beta" due_date: "2026-05-01" })",
    R"(task_planned { task_id: "T1" title: "build" })",
    R"(risk_identified { risk_id: "R1" title: "vendor late" probability: 2 impact: 3 })",
    R"(issue_raised { issue_id: "I1" title: "login broken" })",
    R"(change_requested { change_id: "C1" title: "SSO" })",
    R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_CHANGE subject_id: "C1"
                            approvers: ["client", "pm"] rule: APPROVAL_RULE_ALL })",
    R"(acceptance_criteria_defined { deliverable_id: "D1" criteria: "loads in 2s" })",
    R"(client_action_requested { action_id: "CA1" kind: CLIENT_ACTION_KIND_DATA title: "data"
                                 due_date: "2026-03-10" })",
    R"(action_item_assigned { action_item_id: "AI1" title: "minutes" owner: "pm" })",
    R"(incentive_set { incentive_id: "IN1" description: "early beta" })",
};

struct Case {
  std::string payload;
  std::string before = "";  // An event the case needs first, if any.
};

// Keyed by event type. Every type must change the state visibly; project_resumed does so
// only from a paused project, hence its `before`.
std::map<std::string, Case> EveryTypeCases() {
  const std::string first_event = Log::IdOf(1);
  return {
      {"project_created", {R"(project_created { name: "Portal 2" client_org: "Acme" })"}},
      {"status_updated", {R"(status_updated { health: HEALTH_AMBER })"}},
      {"change_requested", {R"(change_requested { change_id: "C2" title: "dark mode" })"}},
      {"approval_decided", {R"(approval_decided { approval_id: "A1" approver: "client" decision: DECISION_APPROVE })"}},
      {"feedback_received", {R"(feedback_received { feedback_id: "F1" sentiment: SENTIMENT_POSITIVE })"}},
      {"goal_set", {R"(goal_set { goal_id: "G1" title: "conversion +15%" })"}},
      {"scope_item_added", {R"(scope_item_added { scope_item_id: "S2" description: "app" kind: SCOPE_KIND_OUT_OF_SCOPE })"}},
      {"scope_item_removed", {R"(scope_item_removed { scope_item_id: "S1" })"}},
      {"charter_confirmed", {R"(charter_confirmed { confirmed_by: "client" })"}},
      {"member_added", {R"(member_added { principal: "qa" role: MEMBER_ROLE_MEMBER })"}},
      {"member_role_changed", {R"(member_role_changed { principal: "dev" role: MEMBER_ROLE_MANAGER })"}},
      {"member_removed", {R"(member_removed { principal: "dev" })"}},
      {"milestone_planned", {R"(milestone_planned { milestone_id: "M2" title: "launch" due_date: "2026-06-01" })"}},
      {"milestone_rescheduled", {R"(milestone_rescheduled { milestone_id: "M1" new_due_date: "2026-05-15" })"}},
      {"milestone_reached", {R"(milestone_reached { milestone_id: "M1" })"}},
      {"milestone_missed", {R"(milestone_missed { milestone_id: "M1" })"}},
      {"task_planned", {R"(task_planned { task_id: "T2" title: "test" depends_on: "T1" })"}},
      {"task_progress_reported", {R"(task_progress_reported { task_id: "T1" percent_complete: 40 })"}},
      {"task_completed", {R"(task_completed { task_id: "T1" })"}},
      {"task_blocked", {R"(task_blocked { task_id: "T1" reason: "no access" })"}},
      {"resource_allocated", {R"(resource_allocated { resource_id: "RS1" name: "Ana" allocation_percent: 50 })"}},
      {"budget_set", {R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 100 } })"}},
      {"cost_recorded", {R"(cost_recorded { cost_id: "K1" category: "labour" amount { currency_code: "EUR" amount_minor: 25 } })"}},
      {"responsibility_assigned", {R"(responsibility_assigned { item_id: "T1" principal: "dev" raci: RACI_RESPONSIBLE })"}},
      {"communication_plan_set", {R"(communication_plan_set { entries { audience: "sponsor" channel: "weekly call" } })"}},
      {"meeting_held", {R"(meeting_held { meeting_id: "MT1" title: "kickoff" })"}},
      {"action_item_assigned", {R"(action_item_assigned { action_item_id: "AI2" title: "room" owner: "dev" })"}},
      {"action_item_completed", {R"(action_item_completed { action_item_id: "AI1" })"}},
      {"report_published", {R"(report_published { report_id: "RP1" period: "2026-W10" })"}},
      {"risk_identified", {R"(risk_identified { risk_id: "R2" title: "scope creep" })"}},
      {"risk_assessed", {R"(risk_assessed { risk_id: "R1" probability: 4 })"}},
      {"risk_response_planned", {R"(risk_response_planned { risk_id: "R1" strategy: RISK_RESPONSE_STRATEGY_AVOID })"}},
      {"risk_occurred", {R"(risk_occurred { risk_id: "R1" })"}},
      {"issue_raised", {R"(issue_raised { issue_id: "I2" title: "slow page" })"}},
      {"issue_resolved", {R"(issue_resolved { issue_id: "I1" })"}},
      {"risk_closed", {R"(risk_closed { risk_id: "R1" })"}},
      {"change_assessed", {R"(change_assessed { change_id: "C1" schedule_impact_days: 5 })"}},
      {"change_approved", {R"(change_approved { change_id: "C1" })"}},
      {"change_rejected", {R"(change_rejected { change_id: "C1" })"}},
      {"change_implemented", {R"(change_implemented { change_id: "C1" })"}},
      {"change_withdrawn", {R"(change_withdrawn { change_id: "C1" })"}},
      {"approval_requested", {R"(approval_requested { approval_id: "A2" subject: APPROVAL_SUBJECT_BUDGET approvers: "client" rule: APPROVAL_RULE_ANY })"}},
      {"approval_completed", {R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED })"}},
      {"acceptance_criteria_defined", {R"(acceptance_criteria_defined { deliverable_id: "D2" criteria: "offline" })"}},
      {"deliverable_submitted", {R"(deliverable_submitted { deliverable_id: "D1" version: "1.0" })"}},
      {"quality_reviewed", {R"(quality_reviewed { deliverable_id: "D1" result: REVIEW_RESULT_PASS })"}},
      {"deliverable_accepted", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "client" })"}},
      {"deliverable_rejected", {R"(deliverable_rejected { deliverable_id: "D1" rejected_by: "client" reason: "slow" })"}},
      {"client_action_requested", {R"(client_action_requested { action_id: "CA2" kind: CLIENT_ACTION_KIND_ACCESS title: "VPN" due_date: "2026-03-20" })"}},
      {"client_reminder_sent", {R"(client_reminder_sent { action_id: "CA1" })"}},
      {"client_action_escalated", {R"(client_action_escalated { action_id: "CA1" escalated_to: "sponsor" })"}},
      {"client_action_completed", {R"(client_action_completed { action_id: "CA1" })"}},
      {"satisfaction_surveyed", {R"(satisfaction_surveyed { survey_id: "SV1" nps: 0 })"}},
      {"incentive_set", {R"(incentive_set { incentive_id: "IN2" description: "on-time launch" })"}},
      {"incentive_earned", {R"(incentive_earned { incentive_id: "IN1" })"}},
      {"document_shared", {R"(document_shared { document_id: "DOC1" title: "SOW" })"}},
      {"project_paused", {R"(project_paused { reason: "budget review" })"}},
      {"project_resumed", {R"(project_resumed {})", R"(project_paused {})"}},
      {"project_closed", {R"(project_closed { final_acceptance: true })"}},
      {"lesson_recorded", {R"(lesson_recorded { lesson_id: "L1" went_well: "demos" })"}},
      {"event_retracted", {absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "dup" })", first_event)}},
      {"event_corrected", {absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "typo"
                                               replacement { project_created { name: "Portal" client_org: "Acme Ltd" } } })",
                                           first_event)}},
  };
}

// The state without the envelope fields every event advances.
std::string Content(v1::ProjectState state) {
  state.clear_project_id();
  state.clear_version();
  state.clear_last_activity();
  state.clear_last_event_hash_hex();
  return DeterministicBytes(state);
}

TEST(ProjectProjectionTest, EveryEventTypeChangesTheState) {
  const std::map<std::string, Case> cases = EveryTypeCases();
  const google::protobuf::OneofDescriptor* oneof = v1::EventPayload::descriptor()->oneof_decl(0);
  ASSERT_EQ(oneof->field_count(), static_cast<int>(cases.size()))
      << "a case per event type of the catalog, no more";
  for (int i = 0; i < oneof->field_count(); ++i) {
    const std::string type = oneof->field(i)->name();
    SCOPED_TRACE(type);
    const auto it = cases.find(type);
    if (it == cases.end()) {
      ADD_FAILURE() << "no case for event type " << type;
      continue;
    }
    const Case& c = it->second;
    Log log;
    for (const char* base : kBase) log.Add(base);
    if (!c.before.empty()) log.Add(c.before);
    v1::ProjectState state = log.Replayed();
    const std::string before = Content(state);

    const v1::RecordedEvent event = log.Add(c.payload);
    ASSERT_EQ(event.event_type(), type);
    EXPECT_TRUE(ValidatePayload(event.payload(), type).ok())
        << ValidatePayload(event.payload(), type);
    ApplyEvent(event, &state);
    EXPECT_NE(Content(state), before) << "applying " << c.payload << " changed nothing";
    EXPECT_EQ(state.version(), event.version());
  }
}

}  // namespace
}  // namespace accord::domain
