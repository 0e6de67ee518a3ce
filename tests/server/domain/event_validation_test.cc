// The catalog's stated constraints (required, format, range, length) and the cross-field
// rules, enforced by the generic payload validator.
#include "server/domain/event_validation.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"
#include "server/domain/upcasting.h"

namespace accord::domain {
namespace {

using accord::v1::EventPayload;

EventPayload Parse(const std::string& text) {
  EventPayload p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

// Expects INVALID_ARGUMENT whose message starts with `field` (the full field path).
void ExpectInvalid(const std::string& text, const std::string& field) {
  absl::Status s = ValidatePayload(Parse(text), "events[0].payload");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << text << " -> " << s;
  EXPECT_EQ(s.message().rfind(field, 0), 0u) << s;
}

void ExpectValid(const std::string& text) {
  absl::Status s = ValidatePayload(Parse(text), "events[0].payload");
  EXPECT_TRUE(s.ok()) << text << " -> " << s;
}

TEST(EventValidationTest, RangesFromTheCatalogAreEnforced) {
  ExpectValid(R"(risk_identified { risk_id: "R1" title: "vendor late" probability: 5 impact: 1 })");
  ExpectInvalid(R"(risk_identified { risk_id: "R1" title: "x" probability: 6 })",
                "events[0].payload.risk_identified.probability: must be in 1..5");
  ExpectInvalid(R"(risk_assessed { risk_id: "R1" impact: 9 })",
                "events[0].payload.risk_assessed.impact");
  ExpectInvalid(R"(status_updated { health: HEALTH_GREEN percent_complete: 101 })",
                "events[0].payload.status_updated.percent_complete");
}

TEST(EventValidationTest, OptionalScoresAreCheckedOnlyWhenPresent) {
  ExpectValid(R"(satisfaction_surveyed { survey_id: "s1" nps: 0 })");  // NPS 0 is an answer.
  ExpectValid(R"(satisfaction_surveyed { survey_id: "s1" csat: 5 nps: 10 })");
  ExpectInvalid(R"(satisfaction_surveyed { survey_id: "s1" csat: 0 })",
                "events[0].payload.satisfaction_surveyed.csat: must be in 1..5");
  ExpectInvalid(R"(satisfaction_surveyed { survey_id: "s1" nps: 11 })",
                "events[0].payload.satisfaction_surveyed.nps");
}

TEST(EventValidationTest, RequiredFieldsMustBeSet) {
  ExpectInvalid(R"(milestone_planned { milestone_id: "M1" title: "beta" })",
                "events[0].payload.milestone_planned.due_date: is required");
  ExpectInvalid(R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_CHANGE rule: APPROVAL_RULE_ALL })",
                "events[0].payload.approval_requested.approvers: is required");
  ExpectInvalid(R"(budget_set { category: "labour" })", "events[0].payload.budget_set.amount");
}

TEST(EventValidationTest, FormatsAreChecked) {
  ExpectInvalid(R"(milestone_planned { milestone_id: "M 1" title: "t" due_date: "2026-12-01" })",
                "events[0].payload.milestone_planned.milestone_id: must match");
  ExpectInvalid(R"(milestone_planned { milestone_id: "M1" title: "t" due_date: "2026-02-30" })",
                "events[0].payload.milestone_planned.due_date: must be a date");
  ExpectInvalid(R"(cost_recorded { cost_id: "c1" category: "travel" amount { currency_code: "eur" amount_minor: 5 } })",
                "events[0].payload.cost_recorded.amount.currency_code");
  ExpectInvalid(R"(task_planned { task_id: "T1" title: "t" depends_on: "bad id" })",
                "events[0].payload.task_planned.depends_on[0]");
  ExpectValid(R"(cost_recorded { cost_id: "c1" category: "travel" amount { currency_code: "EUR" amount_minor: 12550 } incurred_on: "2024-02-29" })");
}

TEST(EventValidationTest, UnknownEnumValuesAreRejected) {
  EventPayload p = Parse(R"(status_updated { health: HEALTH_GREEN })");
  p.mutable_status_updated()->set_cost(static_cast<accord::v1::Health>(42));
  absl::Status s = ValidatePayload(p, "e");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("e.status_updated.cost: unknown enum value 42"), std::string::npos) << s;
}

TEST(EventValidationTest, CrossFieldRules) {
  ExpectInvalid(R"(project_created { name: "n" client_org: "c" start_date: "2026-05-01" target_end_date: "2026-04-30" })",
                "events[0].payload.project_created.target_end_date: must not be before start_date");
  ExpectInvalid(R"(task_planned { task_id: "T1" title: "t" depends_on: "T1" })",
                "events[0].payload.task_planned.depends_on");
  ExpectInvalid(R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_CHANGE
                    approvers: "ann" approvers: "bob" rule: APPROVAL_RULE_QUORUM quorum: 3 })",
                "events[0].payload.approval_requested.quorum");
  ExpectInvalid(R"(approval_requested { approval_id: "A1" subject: APPROVAL_SUBJECT_CHANGE
                    approvers: "ann" approvers: "ann" rule: APPROVAL_RULE_ALL })",
                "events[0].payload.approval_requested.approvers[1]");
}

TEST(EventValidationTest, CorrectionsValidateTheirReplacement) {
  ExpectValid(R"(event_corrected { corrected_event_id: "0f8fad5b-d9cb-469f-a165-70867728950e" reason: "typo"
                 replacement { status_updated { health: HEALTH_AMBER } } })");
  ExpectInvalid(R"(event_corrected { corrected_event_id: "x" reason: "typo"
                   replacement { status_updated { percent_complete: 5 } } })",
                "events[0].payload.event_corrected.replacement.status_updated.health");
  ExpectInvalid(R"(event_retracted { retracted_event_id: "x" })",
                "events[0].payload.event_retracted.reason: is required");
}

TEST(EventValidationTest, TimestampsInsideEventsAreValidatedNotFatal) {
  ExpectValid(R"(meeting_held { meeting_id: "MTG-1" title: "kick-off" held_at { seconds: 1795000000 } })");
  ExpectInvalid(R"(meeting_held { meeting_id: "MTG-1" title: "kick-off" held_at { seconds: 1 nanos: -5 } })",
                "events[0].payload.meeting_held.held_at: timestamp out of range");
}

TEST(EventValidationTest, EventTypeIsTheOneofFieldName) {
  EXPECT_EQ(EventTypeOf(Parse(R"(client_reminder_sent { action_id: "a" })")), "client_reminder_sent");
  EXPECT_EQ(EventTypeOf(EventPayload()), "");
}

TEST(EventValidationTest, EveryEventTypeHasAValidatorEntry) {
  // A payload with each oneof field set to its default message validates without
  // crashing; types with required fields report the first one.
  const auto* oneof = EventPayload::descriptor()->FindOneofByName("event");
  ASSERT_EQ(oneof->field_count(), 62);
  for (int i = 0; i < oneof->field_count(); ++i) {
    EventPayload p;
    p.GetReflection()->MutableMessage(&p, oneof->field(i));
    absl::Status s = ValidatePayload(p, "p");
    EXPECT_TRUE(s.ok() || absl::IsInvalidArgument(s)) << oneof->field(i)->name() << ": " << s;
  }
}

}  // namespace
}  // namespace accord::domain

namespace accord::domain {
namespace {

TEST(UpcastingTest, CurrentSchemaIsReadAsIs) {
  accord::v1::EventPayload p;
  p.mutable_status_updated()->set_health(accord::v1::HEALTH_RED);
  const std::string before = p.SerializeAsString();
  ASSERT_TRUE(Upcast(kCurrentSchemaVersion, &p).ok());
  EXPECT_EQ(p.SerializeAsString(), before);
}

TEST(UpcastingTest, NewerSchemaThanThisBuildIsFailedPrecondition) {
  accord::v1::EventPayload p;
  p.mutable_status_updated()->set_health(accord::v1::HEALTH_RED);
  absl::Status s = Upcast(kCurrentSchemaVersion + 1, &p);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("status_updated"), std::string::npos) << s;
}

}  // namespace
}  // namespace accord::domain
