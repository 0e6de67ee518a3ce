// The progress report: the period grammar (ISO weeks, months, custom ranges, bad input),
// what a week's report selects from a two-week project history, the project's time zone
// deciding which week an event belongs to, and the Markdown's key lines.
#include "server/domain/progress_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/text_format.h"
#include "tests/server/domain/test_project_log.h"
#include "server/domain/event_validation.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

absl::Time Utc(int year, int month, int day, int hour = 9) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0), absl::UTCTimeZone());
}

// The test log; events are recorded at the times the tests give.
class Log : public testing::TestProjectLog {
 public:
  void Add(absl::Time recorded_at, const std::string& payload_text) {
    AddAt(recorded_at, payload_text);
  }
};

ReportPeriod Period(const std::string& label) {
  absl::StatusOr<ReportPeriod> period = ParsePeriod(label);
  EXPECT_TRUE(period.ok()) << period.status();
  return period.ok() ? *period : ReportPeriod{};
}

template <typename T, typename Id>
std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<T>& items, Id id_of) {
  std::vector<std::string> ids;
  for (const T& item : items) ids.push_back((item.*id_of)());
  return ids;
}

using Ids_ = std::vector<std::string>;

// ---------------------------------------------------------------------------------------
// Periods

void ExpectPeriod(const std::string& label, const std::string& start, const std::string& end) {
  absl::StatusOr<ReportPeriod> period = ParsePeriod(label);
  ASSERT_TRUE(period.ok()) << label << ": " << period.status();
  EXPECT_EQ(period->label, label);
  EXPECT_EQ(period->start_date, start) << label;
  EXPECT_EQ(period->end_date, end) << label;
}

void ExpectBadPeriod(const std::string& label) {
  absl::StatusOr<ReportPeriod> period = ParsePeriod(label);
  ASSERT_FALSE(period.ok()) << "accepted \"" << label << "\"";
  EXPECT_EQ(period.status().code(), absl::StatusCode::kInvalidArgument) << label;
  const std::string message(period.status().message());
  EXPECT_EQ(message.rfind("period: ", 0), 0u) << message;
  // Every error names the accepted forms, so the CLI user can fix the input.
  EXPECT_NE(message.find("YYYY-Www"), std::string::npos) << message;
  EXPECT_NE(message.find("YYYY-MM-DD..YYYY-MM-DD"), std::string::npos) << message;
}

TEST(ParsePeriodTest, IsoWeeks) {
  ExpectPeriod("2026-W01", "2025-12-29", "2026-01-04");  // Week 1 holds January 4th.
  ExpectPeriod("2026-W47", "2026-11-16", "2026-11-22");
  ExpectPeriod("2026-W53", "2026-12-28", "2027-01-03");  // 2026 starts on a Thursday.
  ExpectPeriod("2020-W53", "2020-12-28", "2021-01-03");
  ExpectPeriod("2021-W01", "2021-01-04", "2021-01-10");
  ExpectPeriod("2021-W52", "2021-12-27", "2022-01-02");
  ExpectBadPeriod("2021-W53");
  ExpectBadPeriod("2026-W00");
  ExpectBadPeriod("2026-W54");
}

TEST(ParsePeriodTest, Months) {
  ExpectPeriod("2026-11", "2026-11-01", "2026-11-30");
  ExpectPeriod("2026-12", "2026-12-01", "2026-12-31");
  ExpectPeriod("2024-02", "2024-02-01", "2024-02-29");  // Leap year.
  ExpectPeriod("2026-02", "2026-02-01", "2026-02-28");
  ExpectPeriod("2000-02", "2000-02-01", "2000-02-29");
  ExpectPeriod("1900-02", "1900-02-01", "1900-02-28");
  ExpectBadPeriod("2026-00");
  ExpectBadPeriod("2026-13");
}

TEST(ParsePeriodTest, CustomRanges) {
  ExpectPeriod("2026-11-01..2026-11-15", "2026-11-01", "2026-11-15");
  ExpectPeriod("2026-11-01..2026-11-01", "2026-11-01", "2026-11-01");  // One day.
  ExpectPeriod("2024-12-20..2025-01-10", "2024-12-20", "2025-01-10");
  ExpectBadPeriod("2026-11-15..2026-11-01");  // Ends before it starts.
  ExpectBadPeriod("2026-02-30..2026-03-01");  // No such day.
  ExpectBadPeriod("2026-11-01..");
  ExpectBadPeriod("..2026-11-01");
  ExpectBadPeriod("2026-11-01...2026-11-02");
  ExpectBadPeriod("2026-11-01 .. 2026-11-02");
}

TEST(ParsePeriodTest, RejectsOtherInput) {
  for (const char* bad : {"", "2026", "2026-w47", "2026W47", "2026-W4", "2026-W4x", "2026-W470",
                          "26-11", "2026-1", "2026-111", "2026/11", "2026-11-01", "0000-01",
                          "last week", " 2026-W47"}) {
    ExpectBadPeriod(bad);
  }
}

// ---------------------------------------------------------------------------------------
// A two-week history: weeks 47 (2026-11-16..22) and 48 (2026-11-23..29), UTC project.
// recorded_at never decreases along the log, as the server guarantees.

Log TwoWeekHistory() {
  Log log;
  log.Add(Utc(2026, 11, 2), R"(project_created { name: "Portal" client_org: "Acme" })");
  log.Add(Utc(2026, 11, 2), R"(milestone_planned { milestone_id: "M0" title: "Kickoff pack"
                                                    due_date: "2026-11-10" })");
  log.Add(Utc(2026, 11, 2), R"(milestone_planned { milestone_id: "M1" title: "Design"
                                                    due_date: "2026-11-18" })");
  log.Add(Utc(2026, 11, 2), R"(milestone_planned { milestone_id: "M2" title: "Beta"
                                                    due_date: "2026-11-25" })");
  log.Add(Utc(2026, 11, 2), R"(milestone_planned { milestone_id: "M3" title: "Contract"
                                                    due_date: "2026-11-05" })");
  // Risks: scores 4, 20, 12, 12, 25 (closed), 1 (occurred), 2.
  log.Add(Utc(2026, 11, 3), R"(risk_identified { risk_id: "R1" title: "Hosting" probability: 2 impact: 2 })");
  log.Add(Utc(2026, 11, 3), R"(risk_identified { risk_id: "R2" title: "Key person" probability: 4 impact: 5
                                                  owner: "pm" })");
  log.Add(Utc(2026, 11, 3), R"(risk_identified { risk_id: "R4" title: "Vendor API" probability: 4 impact: 3 })");
  log.Add(Utc(2026, 11, 3), R"(risk_identified { risk_id: "R3" title: "Data quality" probability: 3 impact: 4 })");
  log.Add(Utc(2026, 11, 3), R"(risk_identified { risk_id: "R5" title: "Budget cut" probability: 5 impact: 5 })");
  log.Add(Utc(2026, 11, 4), R"(risk_closed { risk_id: "R5" })");
  log.Add(Utc(2026, 11, 4), R"(risk_identified { risk_id: "R6" title: "Typo" probability: 1 impact: 1 })");
  log.Add(Utc(2026, 11, 4), R"(risk_occurred { risk_id: "R6" })");
  log.Add(Utc(2026, 11, 4), R"(risk_identified { risk_id: "R7" title: "Holidays" probability: 1 impact: 2 })");
  log.Add(Utc(2026, 11, 4), R"(risk_response_planned { risk_id: "R2" strategy: RISK_RESPONSE_STRATEGY_MITIGATE
                                                        plan: "pair on the core" })");
  // Changes: C1 settled before the period; C2 requested in it; C3 decided in it; C4 open.
  log.Add(Utc(2026, 11, 4), R"(change_requested { change_id: "C1" title: "Logo swap" })");
  log.Add(Utc(2026, 11, 4), R"(change_approved { change_id: "C1" })");
  log.Add(Utc(2026, 11, 5), R"(change_implemented { change_id: "C1" })");
  log.Add(Utc(2026, 11, 5), R"(change_requested { change_id: "C3" title: "Dark mode" })");
  log.Add(Utc(2026, 11, 6), R"(change_requested { change_id: "C4" title: "PDF export" })");
  log.Add(Utc(2026, 11, 6), R"(milestone_reached { milestone_id: "M3" })");
  log.Add(Utc(2026, 11, 7), R"(change_assessed { change_id: "C4" schedule_impact_days: 3
                               cost_impact { currency_code: "EUR" amount_minor: 125050 } })");
  // Client actions: CA1 overdue in week 47, CA2 due in week 48, CA3 done.
  log.Add(Utc(2026, 11, 10), R"(client_action_requested { action_id: "CA1" kind: CLIENT_ACTION_KIND_ACCESS
                                 title: "API keys" due_date: "2026-11-17" })");
  log.Add(Utc(2026, 11, 10), R"(client_action_requested { action_id: "CA2" kind: CLIENT_ACTION_KIND_MATERIALS
                                 title: "Brand assets" due_date: "2026-11-27" })");
  log.Add(Utc(2026, 11, 10), R"(client_action_requested { action_id: "CA3" kind: CLIENT_ACTION_KIND_DATA
                                 title: "Sample data" due_date: "2026-11-12" })");
  log.Add(Utc(2026, 11, 11), R"(client_action_completed { action_id: "CA3" })");
  log.Add(Utc(2026, 11, 12), R"(satisfaction_surveyed { survey_id: "S0" csat: 1 nps: 0 })");
  // Week 47.
  log.Add(Utc(2026, 11, 16, 0), R"(change_requested { change_id: "C2" title: "SSO" requested_by: PARTY_CLIENT })");
  log.Add(Utc(2026, 11, 18), R"(milestone_reached { milestone_id: "M1" })");
  log.Add(Utc(2026, 11, 18), R"(change_rejected { change_id: "C3" })");
  log.Add(Utc(2026, 11, 18), R"(satisfaction_surveyed { survey_id: "S1" csat: 4 nps: 8 })");
  log.Add(Utc(2026, 11, 19), R"(satisfaction_surveyed { survey_id: "S2" csat: 5 })");
  log.Add(Utc(2026, 11, 19), R"(satisfaction_surveyed { survey_id: "S3" nps: 6 })");
  log.Add(Utc(2026, 11, 19), R"(feedback_received { feedback_id: "F1" text: "nice demo" })");
  log.Add(Utc(2026, 11, 20), R"(status_updated { health: HEALTH_AMBER schedule: HEALTH_AMBER
                                 percent_complete: 40 summary: "Waiting on API keys" })");
  log.Add(Utc(2026, 11, 22, 23), R"(feedback_received { feedback_id: "F2" text: "late sunday" })");
  // Week 48: none of this may show in week 47's report.
  log.Add(Utc(2026, 11, 23, 0), R"(status_updated { health: HEALTH_RED percent_complete: 45 })");
  log.Add(Utc(2026, 11, 23), R"(milestone_reached { milestone_id: "M0" })");
  log.Add(Utc(2026, 11, 24), R"(client_action_completed { action_id: "CA1" })");
  log.Add(Utc(2026, 11, 24), R"(satisfaction_surveyed { survey_id: "S4" csat: 1 })");
  log.Add(Utc(2026, 11, 24), R"(risk_identified { risk_id: "R8" title: "Late" probability: 5 impact: 5 })");
  return log;
}

constexpr uint64_t kLastVersionOfWeek47 = 36;  // F2, the Sunday 23:00 feedback.

TEST(ProgressReportTest, WeekReportSelectsByPeriod) {
  const Log log = TwoWeekHistory();
  ASSERT_EQ(log.events()[kLastVersionOfWeek47 - 1].payload().feedback_received().feedback_id(), "F2");
  const v1::ProgressReport r =
      BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 12, 1));

  EXPECT_EQ(r.project_id(), "p1");
  EXPECT_EQ(r.project_name(), "Portal");
  EXPECT_EQ(r.client_org(), "Acme");
  EXPECT_EQ(r.period(), "2026-W47");
  EXPECT_EQ(r.start_date(), "2026-11-16");
  EXPECT_EQ(r.end_date(), "2026-11-22");
  EXPECT_EQ(r.as_of_version(), kLastVersionOfWeek47);  // Later events do not count.
  EXPECT_EQ(r.health().health(), v1::HEALTH_AMBER);     // Not week 48's red.
  EXPECT_EQ(r.health().percent_complete(), 40u);

  // M1 reached in the period; M3 reached before it; M0 overdue (reached only next week);
  // M2 due next week.
  EXPECT_EQ(Ids(r.milestones_done(), &v1::MilestoneLine::milestone_id), Ids_({"M1"}));
  EXPECT_EQ(r.milestones_done(0).reached_on(), "2026-11-18");
  EXPECT_EQ(Ids(r.milestones_due(), &v1::MilestoneLine::milestone_id), Ids_({"M0"}));

  // Highest score first, ties by id, closed excluded, occurred kept, at most five; R8 is
  // identified after the period.
  EXPECT_EQ(Ids(r.top_risks(), &v1::Risk::risk_id), Ids_({"R2", "R3", "R4", "R1", "R7"}));
  EXPECT_EQ(r.top_risks(0).score(), 20u);

  EXPECT_EQ(Ids(r.changes(), &v1::Change::change_id), Ids_({"C3", "C4", "C2"}));

  EXPECT_EQ(Ids(r.client_actions_pending(), &v1::ClientAction::action_id), Ids_({"CA1", "CA2"}));
  ASSERT_EQ(Ids(r.client_actions_overdue(), &v1::ClientAction::action_id), Ids_({"CA1"}));
  // Late as of the period's last day (now is clamped), not as of December 1st.
  EXPECT_EQ(r.client_actions_overdue(0).days_late(), 5);
  EXPECT_FALSE(r.client_actions_pending(1).overdue());

  EXPECT_EQ(r.surveys_in_period(), 3u);
  EXPECT_DOUBLE_EQ(r.average_csat(), 4.5);  // S1 and S2; S3 has no CSAT; S0, S4 outside.
  EXPECT_DOUBLE_EQ(r.average_nps(), 7.0);   // S1 and S3.
  EXPECT_EQ(r.feedback_in_period(), 2u);
  EXPECT_EQ(r.markdown(), RenderMarkdown(r));
}

TEST(ProgressReportTest, NextWeekMovesOn) {
  const Log log = TwoWeekHistory();
  const v1::ProgressReport r =
      BuildProgressReport(log.events(), Period("2026-W48"), Utc(2026, 11, 26));
  EXPECT_EQ(r.as_of_version(), log.events().size());
  EXPECT_EQ(r.health().health(), v1::HEALTH_RED);
  EXPECT_EQ(Ids(r.milestones_done(), &v1::MilestoneLine::milestone_id), Ids_({"M0"}));
  EXPECT_EQ(Ids(r.milestones_due(), &v1::MilestoneLine::milestone_id), Ids_({"M2"}));
  EXPECT_EQ(r.top_risks(0).risk_id(), "R8");
  // C2 is still open; C3 was decided last week.
  EXPECT_EQ(Ids(r.changes(), &v1::Change::change_id), Ids_({"C4", "C2"}));
  // CA2 is due 11-27 and `now` is 11-26: pending, not overdue.
  EXPECT_EQ(Ids(r.client_actions_pending(), &v1::ClientAction::action_id), Ids_({"CA2"}));
  EXPECT_TRUE(r.client_actions_overdue().empty());
  EXPECT_EQ(r.surveys_in_period(), 1u);
  EXPECT_DOUBLE_EQ(r.average_csat(), 1.0);
  EXPECT_DOUBLE_EQ(r.average_nps(), 0.0);  // No NPS answer this week.
  EXPECT_EQ(r.feedback_in_period(), 0u);
}

TEST(ProgressReportTest, MonthAndCustomRange) {
  const Log log = TwoWeekHistory();
  const v1::ProgressReport month =
      BuildProgressReport(log.events(), Period("2026-11"), Utc(2026, 12, 15));
  EXPECT_EQ(month.as_of_version(), log.events().size());
  EXPECT_EQ(Ids(month.milestones_done(), &v1::MilestoneLine::milestone_id),
            Ids_({"M3", "M1", "M0"}));  // By reached_on.
  EXPECT_EQ(month.surveys_in_period(), 5u);
  // As of the month's last day CA1 is done and CA2 (due 11-27) is late.
  ASSERT_EQ(month.client_actions_overdue_size(), 1);
  EXPECT_EQ(month.client_actions_overdue(0).action_id(), "CA2");
  EXPECT_EQ(month.client_actions_overdue(0).days_late(), 3);  // 11-27 -> 11-30.

  // A range ending before anything happened: an empty project, no failure.
  const v1::ProgressReport before =
      BuildProgressReport(log.events(), Period("2026-10-01..2026-10-31"), Utc(2026, 12, 15));
  EXPECT_EQ(before.as_of_version(), 0u);
  EXPECT_EQ(before.project_id(), "p1");
  EXPECT_TRUE(before.milestones_due().empty());
}

TEST(ProgressReportTest, NowBeforePeriodEndIsTheClock) {
  const Log log = TwoWeekHistory();
  // Mid-week: CA1 (due 11-17) is 1 day late on 11-18.
  const v1::ProgressReport r =
      BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 11, 18, 12));
  ASSERT_EQ(r.client_actions_overdue_size(), 1);
  EXPECT_EQ(r.client_actions_overdue(0).days_late(), 1);
}

// The project's zone decides the day an event belongs to: 2026-11-22T17:00Z is Monday
// 2026-11-23 01:00 in Shanghai, so week 48 there, week 47 in UTC.
TEST(ProgressReportTest, ProjectTimeZoneDecidesTheWeek) {
  for (const std::string zone : {"Asia/Shanghai", ""}) {
    SCOPED_TRACE(zone.empty() ? "UTC" : zone);
    Log log;
    log.Add(Utc(2026, 11, 2), absl::StrCat(R"(project_created { name: "Portal" client_org: "Acme" time_zone: ")",
                                           zone, R"(" })"));
    log.Add(Utc(2026, 11, 2), R"(milestone_planned { milestone_id: "M1" title: "Design"
                                                      due_date: "2026-11-30" })");
    log.Add(Utc(2026, 11, 22, 17), R"(milestone_reached { milestone_id: "M1" })");
    log.Add(Utc(2026, 11, 22, 17), R"(feedback_received { feedback_id: "F1" })");
    const v1::ProgressReport w47 =
        BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 12, 1));
    const v1::ProgressReport w48 =
        BuildProgressReport(log.events(), Period("2026-W48"), Utc(2026, 12, 1));
    if (zone.empty()) {
      EXPECT_EQ(w47.as_of_version(), 4u);
      EXPECT_EQ(w47.milestones_done_size(), 1);
      EXPECT_EQ(w47.feedback_in_period(), 1u);
      EXPECT_EQ(w48.milestones_done_size(), 0);
      continue;
    }
    EXPECT_EQ(w47.as_of_version(), 2u);  // The events are after Sunday ends in Shanghai.
    EXPECT_EQ(w47.milestones_done_size(), 0);
    EXPECT_EQ(w47.feedback_in_period(), 0u);
    EXPECT_EQ(w48.as_of_version(), 4u);
    ASSERT_EQ(w48.milestones_done_size(), 1);
    EXPECT_EQ(w48.milestones_done(0).reached_on(), "2026-11-23");
    EXPECT_EQ(w48.feedback_in_period(), 1u);
  }
}

// ---------------------------------------------------------------------------------------
// Markdown

void ExpectContains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "missing: " << part << "\nin:\n" << text;
}

TEST(RenderMarkdownTest, KeyLines) {
  const Log log = TwoWeekHistory();
  const v1::ProgressReport r =
      BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 12, 1));
  const std::string& md = r.markdown();
  EXPECT_EQ(md.rfind("# Progress report: Portal for Acme\n", 0), 0u) << md;
  ExpectContains(md, "**Period:** 2026-W47 (2026-11-16 to 2026-11-22)");
  ExpectContains(md, "**As of:** version 36 of the project log");
  ExpectContains(md, "## Health\n\n**Amber** - 40% complete. Waiting on API keys\n");
  ExpectContains(md, "\nSchedule: Amber\n");  // Only the indicators that were set.
  ExpectContains(md, "## Milestones done\n\n| Milestone | Due | Reached |\n");
  ExpectContains(md, "| Design | 2026-11-18 | 2026-11-18 |\n");
  ExpectContains(md, "| Kickoff pack | 2026-11-10 | Planned, overdue |\n");
  ExpectContains(md, "| Key person | 20 (4x5) | Open | pm | Mitigate: pair on the core |\n");
  ExpectContains(md, "| PDF export | - | Assessed | +3 days, EUR 1250.50 |\n");
  ExpectContains(md, "| SSO | Client | Requested | - |\n");
  ExpectContains(md, "## What we need from you\n\n2 open requests, 1 overdue.\n");
  ExpectContains(md, "| API keys | Access | 2026-11-17 | 5 days late |\n");
  ExpectContains(md, "| Brand assets | Materials | 2026-11-27 | Pending |\n");
  ExpectContains(md, "- Surveys: 3\n");
  ExpectContains(md, "- Average CSAT: 4.5 / 5\n");
  ExpectContains(md, "- Average NPS answer: 7.0 / 10\n");
  ExpectContains(md, "- Feedback received: 2\n");
  // Sections come in the client's reading order.
  EXPECT_LT(md.find("## Health"), md.find("## Milestones done"));
  EXPECT_LT(md.find("## Milestones due"), md.find("## Top risks"));
  EXPECT_LT(md.find("## Changes"), md.find("## What we need from you"));
  EXPECT_LT(md.find("## What we need from you"), md.find("## Satisfaction"));
  // Deterministic: the same log gives the same bytes.
  EXPECT_EQ(BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 12, 1)).SerializeAsString(),
            r.SerializeAsString());
}

TEST(RenderMarkdownTest, EmptySectionsSaySo) {
  Log log;
  log.Add(Utc(2026, 11, 2), R"(project_created { name: "Portal" client_org: "Acme" })");
  const std::string md =
      BuildProgressReport(log.events(), Period("2026-W47"), Utc(2026, 12, 1)).markdown();
  for (const char* line : {"No status update yet.", "No milestones reached in this period.",
                           "No milestones due in this period.", "No open risks.",
                           "No changes in this period.", "Nothing outstanding.",
                           "No surveys or feedback in this period."}) {
    ExpectContains(md, line);
  }
}

TEST(RenderMarkdownTest, CellsStayOnTheirRow) {
  v1::ProgressReport r;
  r.set_project_name("Portal");
  v1::MilestoneLine* m = r.add_milestones_done();
  m->set_title("A | B\nC");
  m->set_due_date("2026-11-18");
  m->set_reached_on("2026-11-18");
  ExpectContains(RenderMarkdown(r), "| A \\| B C | 2026-11-18 | 2026-11-18 |\n");
}

}  // namespace
}  // namespace accord::domain
