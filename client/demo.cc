#include "client/demo.h"

#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/accord_client.h"
#include "google/protobuf/text_format.h"

namespace accord::client {
namespace {

// Appends as different people: the server records each event's actor, and the rules
// check that approvers decide for themselves and the client accepts.
class Seeder {
 public:
  Seeder(std::string target, std::string project, absl::Time today)
      : target_(std::move(target)), project_(std::move(project)), today_(today) {}

  // `payloads` are EventPayload text-format literals; "{d-12}" is the date 12 days ago,
  // "{d+5}" the date in 5 days.
  absl::Status As(const std::string& actor, std::vector<std::string> payloads,
                  bool first = false) {
    accord::v1::AppendRequest request;
    request.set_project_id(project_);
    if (first) request.mutable_expected_version()->mutable_no_stream();
    for (const std::string& text : payloads) {
      auto* e = request.add_events();
      e->set_event_id(NewEventId());
      e->set_visibility(accord::v1::VISIBILITY_CLIENT);
      if (!google::protobuf::TextFormat::ParseFromString(Dates(text), e->mutable_payload())) {
        return absl::InternalError(absl::StrCat("demo payload does not parse: ", text));
      }
    }
    auto response = ClientFor(actor).Append(request);
    return response.status();
  }

 private:
  std::string Dates(std::string text) const {
    for (int d = -60; d <= 90; ++d) {
      const std::string key = absl::StrCat("{d", d >= 0 ? "+" : "", d, "}");
      if (text.find(key) == std::string::npos) continue;
      text = absl::StrReplaceAll(
          text, {{key, absl::FormatTime("%Y-%m-%d", today_ + absl::Hours(24 * d),
                                        absl::UTCTimeZone())}});
    }
    return text;
  }
  AccordClient& ClientFor(const std::string& actor) {
    auto& client = clients_[actor];
    if (!client) {
      ClientOptions options;
      options.target = target_;
      options.actor = actor;
      client = std::make_unique<AccordClient>(options);
    }
    return *client;
  }

  std::string target_, project_;
  absl::Time today_;
  std::map<std::string, std::unique_ptr<AccordClient>> clients_;
};

#define SEED(call)                            \
  do {                                        \
    if (absl::Status _s = (call); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (0)

absl::Status SeedActiveProject(Seeder& s) {
  SEED(s.As("alice", {R"(project_created { name: "Website relaunch" client_org: "Acme Retail"
                         description: "New storefront and checkout" start_date: "{d-40}"
                         target_end_date: "{d+60}" time_zone: "Asia/Shanghai" manager: "alice" })"},
            /*first=*/true));
  SEED(s.As("alice", {R"(member_added { principal: "alice" display_name: "Alice Wang" role: MEMBER_ROLE_MANAGER party: PARTY_TEAM })",
                      R"(member_added { principal: "bob" display_name: "Bob Li" role: MEMBER_ROLE_MEMBER party: PARTY_TEAM })",
                      R"(member_added { principal: "carol" display_name: "Carol Zhang" role: MEMBER_ROLE_CLIENT_SPONSOR party: PARTY_CLIENT })",
                      R"(member_added { principal: "dave" display_name: "Dave Chen" role: MEMBER_ROLE_CLIENT_CONTACT party: PARTY_CLIENT })",
                      R"(goal_set { goal_id: "G1" title: "Raise online conversion" metric: "checkout conversion" target: "+15%" deadline: "{d+60}" })",
                      R"(scope_item_added { scope_item_id: "S1" description: "Responsive storefront" kind: SCOPE_KIND_IN_SCOPE })",
                      R"(scope_item_added { scope_item_id: "S2" description: "Checkout redesign" kind: SCOPE_KIND_IN_SCOPE })",
                      R"(scope_item_added { scope_item_id: "S3" description: "ERP integration" kind: SCOPE_KIND_OUT_OF_SCOPE })",
                      R"(approval_requested { approval_id: "A-CHARTER" subject: APPROVAL_SUBJECT_CHARTER approvers: "carol" rule: APPROVAL_RULE_ALL })"}));
  SEED(s.As("carol", {R"(approval_decided { approval_id: "A-CHARTER" approver: "carol" decision: DECISION_APPROVE comment: "Scope matches our brief" })"}));
  SEED(s.As("carol", {R"(charter_confirmed { confirmed_by: "carol" approval_id: "A-CHARTER" comment: "Signed off in the kick-off" })"}));
  SEED(s.As("alice", {R"(milestone_planned { milestone_id: "M1" title: "Design sign-off" due_date: "{d-10}" })",
                      R"(milestone_planned { milestone_id: "M2" title: "Beta launch" due_date: "{d+20}" })",
                      R"(milestone_planned { milestone_id: "M3" title: "Go-live" due_date: "{d+55}" })",
                      R"(task_planned { task_id: "T1" title: "Storefront templates" owner: "bob" start_date: "{d-30}" due_date: "{d-5}" milestone_id: "M2" estimate_hours: 120 })",
                      R"(task_planned { task_id: "T2" title: "Checkout flow" owner: "bob" start_date: "{d-5}" due_date: "{d+15}" depends_on: "T1" milestone_id: "M2" estimate_hours: 160 })",
                      R"(responsibility_assigned { item_id: "M2" principal: "alice" raci: RACI_ACCOUNTABLE })",
                      R"(responsibility_assigned { item_id: "T2" principal: "bob" raci: RACI_RESPONSIBLE })",
                      R"(communication_plan_set { entries { audience: "client sponsor" channel: "weekly call" cadence: "weekly" owner: "alice" } entries { audience: "client contact" channel: "chat" cadence: "daily" owner: "bob" } })",
                      R"(budget_set { category: "labour" amount { currency_code: "EUR" amount_minor: 12000000 } })",
                      R"(budget_set { category: "hosting" amount { currency_code: "EUR" amount_minor: 600000 } })"}));
  SEED(s.As("alice", {R"(meeting_held { meeting_id: "MTG-1" title: "Kick-off" attendees: "alice" attendees: "carol" attendees: "dave" decisions: "Weekly status call on Mondays" })",
                      R"(action_item_assigned { action_item_id: "AI-1" title: "Share brand guidelines" owner: "dave" owner_party: PARTY_CLIENT due_date: "{d-5}" meeting_id: "MTG-1" })",
                      R"(client_action_requested { action_id: "CA-1" kind: CLIENT_ACTION_KIND_ACCESS title: "Staging server credentials" due_date: "{d-12}" requested_from: "dave" })",
                      R"(client_action_requested { action_id: "CA-2" kind: CLIENT_ACTION_KIND_MATERIALS title: "Product photos" due_date: "{d-3}" requested_from: "dave" })"}));
  SEED(s.As("bob", {R"(status_updated { health: HEALTH_GREEN schedule: HEALTH_GREEN cost: HEALTH_GREEN quality: HEALTH_GREEN percent_complete: 15 summary: "Design under way" period: "week 1" })"}));
  SEED(s.As("alice", {R"(client_reminder_sent { action_id: "CA-1" channel: "email" note: "Blocking the staging deploy" })",
                      R"(client_action_escalated { action_id: "CA-1" escalated_to: "carol" reason: "Two weeks without access" })"}));
  SEED(s.As("dave", {R"(client_action_completed { action_id: "CA-1" completed_on: "{d-8}" })"}));
  SEED(s.As("alice", {R"(milestone_reached { milestone_id: "M1" reached_on: "{d-9}" })",
                      R"(risk_identified { risk_id: "R1" title: "Payment provider changes its API" category: "technical" probability: 3 impact: 4 owner: "bob" })",
                      R"(risk_response_planned { risk_id: "R1" strategy: RISK_RESPONSE_STRATEGY_MITIGATE plan: "Adapter layer, contract tests" })",
                      R"(risk_identified { risk_id: "R2" title: "Client content late" category: "client" probability: 4 impact: 3 owner: "alice" })"}));
  SEED(s.As("bob", {R"(risk_occurred { risk_id: "R1" occurred_on: "{d-6}" description: "v2 API announced" issue_id: "I1" })",
                    R"(issue_raised { issue_id: "I1" title: "Migrate to payment API v2" severity: SEVERITY_HIGH owner: "bob" risk_id: "R1" })"}));
  SEED(s.As("carol", {R"(change_requested { change_id: "CR-1" title: "Add single sign-on" reason: "Staff use corporate accounts" requested_by: PARTY_CLIENT scope_impact: "New login flow" })"}));
  SEED(s.As("alice", {R"(change_assessed { change_id: "CR-1" schedule_impact_days: 10 cost_impact { currency_code: "EUR" amount_minor: 800000 } recommendation: "Approve; move go-live by 10 days" })",
                      R"(approval_requested { approval_id: "A-CR1" subject: APPROVAL_SUBJECT_CHANGE subject_id: "CR-1" approvers: "carol" approvers: "alice" rule: APPROVAL_RULE_ALL })"}));
  SEED(s.As("carol", {R"(approval_decided { approval_id: "A-CR1" approver: "carol" decision: DECISION_APPROVE comment: "Worth the delay" })"}));
  SEED(s.As("alice", {R"(approval_decided { approval_id: "A-CR1" approver: "alice" decision: DECISION_APPROVE comment: "Team capacity confirmed" })",
                      R"(approval_completed { approval_id: "A-CR1" outcome: APPROVAL_OUTCOME_APPROVED })",
                      R"(change_approved { change_id: "CR-1" approval_id: "A-CR1" approved_by: "carol" })",
                      R"(milestone_rescheduled { milestone_id: "M3" new_due_date: "{d+65}" reason: "CR-1 single sign-on" })"}));
  SEED(s.As("bob", {R"(cost_recorded { cost_id: "C1" category: "labour" amount { currency_code: "EUR" amount_minor: 4500000 } incurred_on: "{d-2}" })",
                    R"(task_completed { task_id: "T1" completed_on: "{d-4}" })",
                    R"(status_updated { health: HEALTH_AMBER schedule: HEALTH_AMBER cost: HEALTH_GREEN quality: HEALTH_GREEN percent_complete: 40 summary: "SSO adds 10 days; payment API migration in progress" period: "week 5" })"}));
  SEED(s.As("alice", {R"(acceptance_criteria_defined { deliverable_id: "D1" title: "Storefront beta" criteria: "Pages load in under 2 s" criteria: "Works on the last two iOS and Android versions" })",
                      R"(deliverable_submitted { deliverable_id: "D1" title: "Storefront beta" version: "1.0" uri: "https://staging.example/shop" submitted_on: "{d-2}" })",
                      R"(quality_reviewed { deliverable_id: "D1" result: REVIEW_RESULT_PASS reviewer: "bob" })"}));
  SEED(s.As("carol", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "carol" comment: "Looks great" })"}));
  SEED(s.As("dave", {R"(feedback_received { feedback_id: "F1" channel: "weekly call" sentiment: SENTIMENT_POSITIVE text: "Quick turnaround on the beta" from: "dave" })",
                     R"(satisfaction_surveyed { survey_id: "SV1" csat: 4 nps: 8 comment: "Good communication" respondent: "carol" })"}));
  return absl::OkStatus();
}

absl::Status SeedClosedProject(Seeder& s) {
  SEED(s.As("alice", {R"(project_created { name: "Intranet refresh" client_org: "Acme Retail" start_date: "{d-60}" target_end_date: "{d-5}" manager: "alice" })"},
            /*first=*/true));
  SEED(s.As("alice", {R"(member_added { principal: "alice" role: MEMBER_ROLE_MANAGER party: PARTY_TEAM })",
                      R"(member_added { principal: "carol" role: MEMBER_ROLE_CLIENT_SPONSOR party: PARTY_CLIENT })",
                      R"(milestone_planned { milestone_id: "M1" title: "Launch" due_date: "{d-10}" })",
                      R"(acceptance_criteria_defined { deliverable_id: "D1" title: "Intranet" criteria: "SSO login works" })",
                      R"(deliverable_submitted { deliverable_id: "D1" version: "1.0" })"}));
  SEED(s.As("carol", {R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "carol" })"}));
  SEED(s.As("alice", {R"(milestone_reached { milestone_id: "M1" })",
                      R"(status_updated { health: HEALTH_GREEN percent_complete: 100 summary: "Delivered" })",
                      R"(project_closed { final_acceptance: true summary: "Delivered on time" closed_by: "alice" })",
                      R"(lesson_recorded { lesson_id: "L1" went_well: "Weekly demos kept the client close" went_badly: "Content arrived late" action: "Ask for content in the charter" })"}));
  SEED(s.As("carol", {R"(satisfaction_surveyed { survey_id: "SV1" csat: 5 nps: 9 respondent: "carol" })"}));
  return absl::OkStatus();
}

}  // namespace

absl::Status SeedDemo(const std::string& target, const std::string& prefix, absl::Time today) {
  Seeder active(target, prefix, today);
  SEED(SeedActiveProject(active));
  Seeder closed(target, prefix + "-closed", today);
  return SeedClosedProject(closed);
}

}  // namespace accord::client
