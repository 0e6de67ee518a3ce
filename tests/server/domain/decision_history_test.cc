// Decision history: which events are decisions, what each answered, the outcome entry of
// the decision that settles an approval, retractions, and the request's filters.
#include "server/domain/decision_history.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/server/domain/test_project_log.h"
#include "server/domain/event_validation.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

absl::Time At(int year, int month, int day, int hour = 9) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0), absl::UTCTimeZone());
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// The test log with the decision history of its events.
class Log : public testing::TestProjectLog {
 public:
  std::vector<v1::DecisionEntry> History() const { return DecisionHistory(events()); }
};

constexpr char kCreated[] =
    R"(project_created { name: "Portal" client_org: "Acme" manager: "pm" })";

// v2 change CR-1 requested, v3 approval A1 on it by ana and bob under `rule`.
void AddChangeApproval(Log& log, const std::string& rule) {
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })", "client");
  log.Add(absl::StrFormat(R"(approval_requested { approval_id: "A1"
      subject: APPROVAL_SUBJECT_CHANGE subject_id: "CR-1" approvers: ["ana", "bob"]
      rule: %s })",
                          rule));
}

std::string Decide(const std::string& approver, const std::string& decision) {
  return absl::StrFormat(
      R"(approval_decided { approval_id: "A1" approver: "%s" decision: %s comment: "ok" })",
      approver, decision);
}

std::vector<v1::DecisionKind> KindsOf(const std::vector<v1::DecisionEntry>& history) {
  std::vector<v1::DecisionKind> kinds;
  for (const v1::DecisionEntry& entry : history) kinds.push_back(entry.kind());
  return kinds;
}

// ---------------------------------------------------------------------------------------

TEST(DecisionHistoryTest, EventsThatDecideNothingMakeNoEntries) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(status_updated { health: HEALTH_GREEN })");
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })");
  EXPECT_TRUE(log.History().empty());
}

TEST(DecisionHistoryTest, EntryCarriesTheEnvelopeOfItsEvent) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(charter_confirmed { confirmed_by: "sponsor" comment: "as agreed" })", "pm");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 1u);
  const v1::DecisionEntry& entry = history[0];
  EXPECT_EQ(entry.kind(), v1::DECISION_KIND_SCOPE_SIGN_OFF);
  EXPECT_EQ(entry.event_type(), "charter_confirmed");
  EXPECT_EQ(entry.version(), 2u);
  EXPECT_EQ(entry.event_id(), Log::IdOf(2));
  EXPECT_EQ(entry.hash_hex(), std::string(62, '0') + "a2");
  EXPECT_EQ(entry.recorded_at().seconds(), absl::ToUnixSeconds(At(2026, 3, 2, 10)));
  EXPECT_EQ(entry.actor(), "pm");
  EXPECT_EQ(entry.decided_by(), "sponsor");
  EXPECT_EQ(entry.comment(), "as agreed");
  EXPECT_EQ(entry.answers_version(), 0u);  // No approval named.
  EXPECT_FALSE(entry.retracted());
}

TEST(DecisionHistoryTest, CharterConfirmationAnswersTheApprovalItConcluded) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(approval_requested { approval_id: "A0" subject: APPROVAL_SUBJECT_CHARTER
                                  approvers: ["sponsor"] rule: APPROVAL_RULE_ANY })");
  log.Add(R"(charter_confirmed { confirmed_by: "sponsor" approval_id: "A0" })");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].answers_version(), 2u);
  EXPECT_EQ(history[0].answers_event_id(), Log::IdOf(2));
}

TEST(DecisionHistoryTest, AllRuleOutcomeComesWithTheLastApproval) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ALL");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");  // v4: still open.
  log.Add(Decide("bob", "DECISION_APPROVE"), "bob");  // v5: settles it.
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(KindsOf(history), (std::vector<v1::DecisionKind>{v1::DECISION_KIND_APPROVAL_DECISION,
                                                             v1::DECISION_KIND_APPROVAL_DECISION,
                                                             v1::DECISION_KIND_APPROVAL_OUTCOME}));
  EXPECT_EQ(history[0].decided_by(), "ana");
  EXPECT_EQ(history[0].outcome(), "APPROVE");
  EXPECT_EQ(history[0].comment(), "ok");
  EXPECT_EQ(history[0].subject(), "approval A1 (change CR-1)");
  EXPECT_EQ(history[0].answers_version(), 3u);
  EXPECT_EQ(history[1].version(), 5u);
  EXPECT_EQ(history[2].version(), 5u);  // The outcome sits at the deciding event.
  EXPECT_EQ(history[2].event_id(), Log::IdOf(5));
  EXPECT_EQ(history[2].decided_by(), "bob");
  EXPECT_EQ(history[2].outcome(), "APPROVED");
  EXPECT_EQ(history[2].answers_event_id(), Log::IdOf(3));
}

TEST(DecisionHistoryTest, RecordedOutcomeWithoutNoteSaysItRecordsTheComputedOne) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ANY");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");  // v4: settles it.
  log.Add(R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED })", "pm");
  log.Add(R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED
                                  note: "filed with the contract" })", "pm");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[2].version(), 5u);
  EXPECT_EQ(history[2].kind(), v1::DECISION_KIND_APPROVAL_OUTCOME);
  EXPECT_EQ(history[2].decided_by(), "pm");
  EXPECT_EQ(history[2].comment(), "recorded: the outcome its decisions determined");
  EXPECT_EQ(history[3].comment(), "filed with the contract");
}

TEST(DecisionHistoryTest, AllRuleIsRejectedByTheFirstReject) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ALL");
  log.Add(Decide("ana", "DECISION_REJECT"), "ana");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].outcome(), "REJECT");
  EXPECT_EQ(history[1].kind(), v1::DECISION_KIND_APPROVAL_OUTCOME);
  EXPECT_EQ(history[1].outcome(), "REJECTED");
}

TEST(DecisionHistoryTest, AnyRuleOutcomeComesWithTheFirstApproval) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ANY");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");  // v4: settles it.
  log.Add(Decide("bob", "DECISION_REJECT"), "bob");   // v5: too late to change it.
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(KindsOf(history), (std::vector<v1::DecisionKind>{v1::DECISION_KIND_APPROVAL_DECISION,
                                                             v1::DECISION_KIND_APPROVAL_OUTCOME,
                                                             v1::DECISION_KIND_APPROVAL_DECISION}));
  EXPECT_EQ(history[1].version(), 4u);
  EXPECT_EQ(history[1].outcome(), "APPROVED");
}

TEST(DecisionHistoryTest, ApprovalCompletedIsAnOutcomeEntry) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ANY");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");
  log.Add(R"(approval_completed { approval_id: "A1" outcome: APPROVAL_OUTCOME_APPROVED
                                  note: "recorded" })");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].kind(), v1::DECISION_KIND_APPROVAL_OUTCOME);
  EXPECT_EQ(history[2].event_type(), "approval_completed");
  EXPECT_EQ(history[2].outcome(), "APPROVED");
  EXPECT_EQ(history[2].comment(), "recorded");
  EXPECT_EQ(history[2].answers_version(), 3u);
}

TEST(DecisionHistoryTest, ChangeDecisionAnswersItsRequest) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })", "client");
  log.Add(R"(change_assessed { change_id: "CR-1" schedule_impact_days: 3 })");
  log.Add(R"(change_approved { change_id: "CR-1" approved_by: "sponsor" comment: "go" })");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].kind(), v1::DECISION_KIND_CHANGE_DECISION);
  EXPECT_EQ(history[0].subject(), "change CR-1");
  EXPECT_EQ(history[0].decided_by(), "sponsor");
  EXPECT_EQ(history[0].outcome(), "APPROVED");
  EXPECT_EQ(history[0].comment(), "go");
  EXPECT_EQ(history[0].answers_version(), 2u);
  EXPECT_EQ(history[0].answers_event_id(), Log::IdOf(2));
}

TEST(DecisionHistoryTest, ChangeDecidedByNobodyNamedIsDecidedByItsActor) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })", "client");
  log.Add(R"(change_withdrawn { change_id: "CR-1" reason: "not needed" })", "client");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].decided_by(), "client");
  EXPECT_EQ(history[0].outcome(), "WITHDRAWN");
  EXPECT_EQ(history[0].comment(), "not needed");
}

TEST(DecisionHistoryTest, AcceptanceAnswersTheLatestSubmission) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(deliverable_submitted { deliverable_id: "D1" version: "1" })");
  log.Add(R"(deliverable_rejected { deliverable_id: "D1" rejected_by: "sponsor"
                                    reason: "typos" })");
  log.Add(R"(deliverable_submitted { deliverable_id: "D1" version: "2" })");  // v4
  log.Add(R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "sponsor" })");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].kind(), v1::DECISION_KIND_ACCEPTANCE);
  EXPECT_EQ(history[0].outcome(), "REJECTED");
  EXPECT_EQ(history[0].comment(), "typos");
  EXPECT_EQ(history[0].answers_version(), 2u);
  EXPECT_EQ(history[1].outcome(), "ACCEPTED");
  EXPECT_EQ(history[1].subject(), "deliverable D1");
  EXPECT_EQ(history[1].decided_by(), "sponsor");
  EXPECT_EQ(history[1].answers_version(), 4u);
  EXPECT_EQ(history[1].answers_event_id(), Log::IdOf(4));
}

TEST(DecisionHistoryTest, ClosureIsAnEntry) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(project_closed { final_acceptance: true summary: "shipped" })");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].kind(), v1::DECISION_KIND_CLOSURE);
  EXPECT_EQ(history[0].decided_by(), "pm");
  EXPECT_EQ(history[0].comment(), "shipped");
}

TEST(DecisionHistoryTest, RetractionMarksTheDecisionAndAddsACorrection) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })");
  log.Add(R"(change_rejected { change_id: "CR-1" rejected_by: "sponsor" })");  // v3
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "wrong CR" })",
                          Log::IdOf(3)),
          "auditor");
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].kind(), v1::DECISION_KIND_CHANGE_DECISION);
  EXPECT_TRUE(history[0].retracted());  // Stays in the history, marked.
  EXPECT_EQ(history[1].kind(), v1::DECISION_KIND_CORRECTION);
  EXPECT_FALSE(history[1].retracted());
  EXPECT_EQ(history[1].outcome(), "RETRACTED");
  EXPECT_EQ(history[1].comment(), "wrong CR");
  EXPECT_EQ(history[1].subject(), "change_rejected v3");
  EXPECT_EQ(history[1].decided_by(), "auditor");
  EXPECT_EQ(history[1].answers_version(), 3u);
  EXPECT_EQ(history[1].answers_event_id(), Log::IdOf(3));
}

TEST(DecisionHistoryTest, CorrectionAlsoMarksTheDecision) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(deliverable_submitted { deliverable_id: "D1" })");
  log.Add(R"(deliverable_accepted { deliverable_id: "D1" accepted_by: "sponsr" })");  // v3
  log.Add(absl::StrFormat(R"(event_corrected { corrected_event_id: "%s" reason: "typo"
      replacement { deliverable_accepted { deliverable_id: "D1" accepted_by: "sponsor" } } })",
                          Log::IdOf(3)));
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0].retracted());
  EXPECT_EQ(history[1].outcome(), "CORRECTED");
}

TEST(DecisionHistoryTest, RetractedRetractionUndoesNothing) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(project_closed { summary: "done" })");  // v2
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "r" })",
                          Log::IdOf(2)));  // v3
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "r" })",
                          Log::IdOf(3)));  // v4
  const std::vector<v1::DecisionEntry> history = log.History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_FALSE(history[0].retracted());  // The closure counts again.
  EXPECT_TRUE(history[1].retracted());
  EXPECT_FALSE(history[2].retracted());
}

TEST(DecisionHistoryTest, RetractedApprovalNoLongerCountsTowardsTheOutcome) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ALL");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");  // v4
  log.Add(
      absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "r" })", Log::IdOf(4)));
  log.Add(Decide("bob", "DECISION_APPROVE"), "bob");  // Alone: not all approvers yet.
  const std::vector<v1::DecisionEntry> history = log.History();
  EXPECT_EQ(KindsOf(history), (std::vector<v1::DecisionKind>{v1::DECISION_KIND_APPROVAL_DECISION,
                                                             v1::DECISION_KIND_CORRECTION,
                                                             v1::DECISION_KIND_APPROVAL_DECISION}));
}

// --- filters ---

v1::DecisionEntry EntryOf(v1::DecisionKind kind, const std::string& actor,
                          const std::string& decided_by, absl::Time recorded_at) {
  v1::DecisionEntry entry;
  entry.set_kind(kind);
  entry.set_actor(actor);
  entry.set_decided_by(decided_by);
  *entry.mutable_recorded_at() = Ts(recorded_at);
  return entry;
}

// Builds over the first `n` events of `log` and returns the builder.
std::unique_ptr<DecisionHistoryBuilder> BuildOverPrefix(const Log& log, size_t n) {
  const std::vector<v1::RecordedEvent>& events = log.events();
  auto read = [&](EventVisitor visit) -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      if (absl::Status s = visit(events[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  auto state_at = [&](uint64_t version) -> absl::StatusOr<v1::ProjectState> {
    ReplayOptions options;
    options.up_to_version = version;
    return Replay(events, options);
  };
  auto built = DecisionHistoryBuilder::Build(read, state_at);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *std::move(built) : nullptr;
}

// Extends `history` with the events of `log` after its version.
absl::StatusOr<bool> ExtendToEnd(const Log& log, DecisionHistoryBuilder& history) {
  return history.Extend([&](EventVisitor visit) -> absl::Status {
    for (const v1::RecordedEvent& event : log.events()) {
      if (event.version() <= history.version()) continue;
      if (absl::Status s = visit(event); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

TEST(DecisionHistoryBuilderTest, ExtendedHistoryEqualsHistoryOverTheLongerStream) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ALL");
  log.Add(Decide("ana", "DECISION_APPROVE"));  // v4
  auto history = BuildOverPrefix(log, 4);
  ASSERT_NE(history, nullptr);
  ASSERT_EQ(history->version(), 4u);
  log.Add(Decide("bob", "DECISION_APPROVE"));  // v5: settles A1, needs v2-v4's state.
  log.Add(R"(change_approved { change_id: "CR-1" approved_by: "sponsor" })");
  auto extended = ExtendToEnd(log, *history);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_TRUE(*extended);
  EXPECT_EQ(history->version(), 6u);
  const std::vector<v1::DecisionEntry> expected = log.History();
  ASSERT_EQ(history->entries().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(history->entries()[i],
                                                                   expected[i]))
        << "entry " << i << ":\n" << history->entries()[i].DebugString() << "expected:\n"
        << expected[i].DebugString();
  }
  EXPECT_EQ(KindsOf(history->entries()),
            (std::vector<v1::DecisionKind>{v1::DECISION_KIND_APPROVAL_DECISION,
                                           v1::DECISION_KIND_APPROVAL_DECISION,
                                           v1::DECISION_KIND_APPROVAL_OUTCOME,
                                           v1::DECISION_KIND_CHANGE_DECISION}));
}

TEST(DecisionHistoryBuilderTest, ARetractionSinceIsNotAddedAndAsksForANewBuild) {
  Log log;
  log.Add(kCreated);
  log.Add(R"(change_requested { change_id: "CR-1" title: "SSO" })");
  log.Add(R"(change_rejected { change_id: "CR-1" rejected_by: "sponsor" })");  // v3
  auto history = BuildOverPrefix(log, 3);
  ASSERT_NE(history, nullptr);
  log.Add(R"(status_updated { health: HEALTH_GREEN })");
  log.Add(absl::StrFormat(R"(event_retracted { retracted_event_id: "%s" reason: "r" })",
                          Log::IdOf(3)));
  auto extended = ExtendToEnd(log, *history);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_FALSE(*extended);
  EXPECT_EQ(history->version(), 3u);  // Nothing added, not even the status update.
  ASSERT_EQ(history->entries().size(), 1u);
  EXPECT_FALSE(history->entries()[0].retracted());
}

TEST(DecisionHistoryFilterTest, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(MatchesFilter(EntryOf(v1::DECISION_KIND_CLOSURE, "pm", "pm", At(2026, 3, 2)),
                            v1::GetDecisionHistoryRequest()));
}

TEST(DecisionHistoryFilterTest, KindsKeepOnlyTheKindsNamed) {
  v1::GetDecisionHistoryRequest filter;
  filter.add_kinds(v1::DECISION_KIND_ACCEPTANCE);
  filter.add_kinds(v1::DECISION_KIND_CLOSURE);
  const absl::Time t = At(2026, 3, 2);
  EXPECT_TRUE(MatchesFilter(EntryOf(v1::DECISION_KIND_CLOSURE, "pm", "pm", t), filter));
  EXPECT_FALSE(MatchesFilter(EntryOf(v1::DECISION_KIND_CHANGE_DECISION, "pm", "pm", t), filter));
}

TEST(DecisionHistoryFilterTest, ActorMatchesWhoAppendedOrWhoDecided) {
  v1::GetDecisionHistoryRequest filter;
  filter.set_actor("sponsor");
  const absl::Time t = At(2026, 3, 2);
  const v1::DecisionKind kind = v1::DECISION_KIND_ACCEPTANCE;
  EXPECT_TRUE(MatchesFilter(EntryOf(kind, "sponsor", "sponsor", t), filter));
  EXPECT_TRUE(MatchesFilter(EntryOf(kind, "pm", "sponsor", t), filter));  // On their behalf.
  EXPECT_TRUE(MatchesFilter(EntryOf(kind, "sponsor", "", t), filter));
  EXPECT_FALSE(MatchesFilter(EntryOf(kind, "pm", "client", t), filter));
}

TEST(DecisionHistoryFilterTest, TimeRangeIncludesFromAndExcludesTo) {
  v1::GetDecisionHistoryRequest filter;
  *filter.mutable_from_time() = Ts(At(2026, 3, 2));
  *filter.mutable_to_time() = Ts(At(2026, 3, 3));
  const auto at = [](absl::Time t) { return EntryOf(v1::DECISION_KIND_CLOSURE, "pm", "pm", t); };
  EXPECT_FALSE(MatchesFilter(at(At(2026, 3, 2) - absl::Seconds(1)), filter));
  EXPECT_TRUE(MatchesFilter(at(At(2026, 3, 2)), filter));
  EXPECT_TRUE(MatchesFilter(at(At(2026, 3, 3) - absl::Seconds(1)), filter));
  EXPECT_FALSE(MatchesFilter(at(At(2026, 3, 3)), filter));
}

TEST(DecisionHistoryFilterTest, OpenEndedTimeRange) {
  v1::GetDecisionHistoryRequest filter;
  *filter.mutable_from_time() = Ts(At(2026, 3, 2));
  const v1::DecisionEntry late = EntryOf(v1::DECISION_KIND_CLOSURE, "pm", "pm", At(2030, 1, 1));
  EXPECT_TRUE(MatchesFilter(late, filter));  // No to_time: no upper bound.
  filter.clear_from_time();
  *filter.mutable_to_time() = Ts(At(2026, 3, 2));
  EXPECT_FALSE(MatchesFilter(late, filter));
}

TEST(DecisionHistoryFilterTest, ValidFiltersPass) {
  v1::GetDecisionHistoryRequest filter;
  EXPECT_TRUE(ValidateFilter(filter).ok());
  filter.add_kinds(v1::DECISION_KIND_CORRECTION);
  *filter.mutable_from_time() = Ts(At(2026, 3, 2));
  *filter.mutable_to_time() = Ts(At(2026, 3, 3));
  EXPECT_TRUE(ValidateFilter(filter).ok());
}

TEST(DecisionHistoryFilterTest, UnknownOrUnspecifiedKindIsInvalidAndNamesItsIndex) {
  v1::GetDecisionHistoryRequest filter;
  filter.add_kinds(v1::DECISION_KIND_CLOSURE);
  filter.add_kinds(static_cast<v1::DecisionKind>(99));
  absl::Status status = ValidateFilter(filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "kinds[1]: not a decision kind: 99");
  filter.set_kinds(1, v1::DECISION_KIND_UNSPECIFIED);
  EXPECT_EQ(ValidateFilter(filter).message(), "kinds[1]: not a decision kind: 0");
}

TEST(DecisionHistoryFilterTest, TimeOutOfTimestampRangeIsInvalid) {
  v1::GetDecisionHistoryRequest filter;
  filter.mutable_from_time()->set_nanos(-1);
  EXPECT_EQ(ValidateFilter(filter).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(ValidateFilter(filter).message(), "from_time: timestamp out of range"));
  filter.clear_from_time();
  filter.mutable_to_time()->set_seconds(253402300800);  // 10000-01-01.
  EXPECT_TRUE(absl::StartsWith(ValidateFilter(filter).message(), "to_time: timestamp out of range"));
}

TEST(DecisionHistoryFilterTest, ToTimeMustBeAfterFromTime) {
  v1::GetDecisionHistoryRequest filter;
  *filter.mutable_from_time() = Ts(At(2026, 3, 2));
  *filter.mutable_to_time() = Ts(At(2026, 3, 2));
  absl::Status status = ValidateFilter(filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "to_time: must be after from_time");
}

TEST(DecisionHistoryFilterTest, FiltersApplyToABuiltHistory) {
  Log log;
  log.Add(kCreated);
  AddChangeApproval(log, "APPROVAL_RULE_ALL");
  log.Add(Decide("ana", "DECISION_APPROVE"), "ana");
  log.Add(Decide("bob", "DECISION_APPROVE"), "bob");
  v1::GetDecisionHistoryRequest filter;
  filter.add_kinds(v1::DECISION_KIND_APPROVAL_DECISION);
  filter.set_actor("bob");
  std::vector<v1::DecisionEntry> kept;
  for (const v1::DecisionEntry& entry : log.History()) {
    if (MatchesFilter(entry, filter)) kept.push_back(entry);
  }
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].version(), 5u);
}

}  // namespace
}  // namespace accord::domain
