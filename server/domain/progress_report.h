// The progress report for a client (domain.md "progress report"): the period grammar
// (ISO week, calendar month, custom range), the report as a pure function of a project's
// recorded events, and its Markdown rendering. Pure functions over protobuf messages and
// absl; no gRPC, no storage, no wall clock (the caller passes `now`).
#ifndef ACCORD_SERVER_DOMAIN_PROGRESS_REPORT_H_
#define ACCORD_SERVER_DOMAIN_PROGRESS_REPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accord/v1/common.pb.h"
#include "accord/v1/projects.pb.h"
#include "server/domain/project_projection.h"

namespace accord::domain {

// A reporting period: whole days in the project's time zone.
struct ReportPeriod {
  std::string label;       // As given, e.g. "2026-W47".
  std::string start_date;  // "YYYY-MM-DD", first day, inclusive.
  std::string end_date;    // "YYYY-MM-DD", last day, inclusive.
};

// "2026-W47" (ISO 8601 week, Monday..Sunday; weeks 1..52/53 validated), "2026-11" (calendar
// month), "2026-11-01..2026-11-15" (custom inclusive range, start <= end).
// INVALID_ARGUMENT "period: ..." naming the accepted forms otherwise.
absl::StatusOr<ReportPeriod> ParsePeriod(std::string_view period);

// The report for `period` (as ParsePeriod gives it), computed from the project's events in
// stream order: the state as of the end of the period (events recorded up to the end of
// end_date in the project's time zone — project_created.time_zone, UTC by default), with
// `now` (clamped to no later than the period's end) as the clock for overdue items. Fills
// every ProgressReport field, including `markdown` via RenderMarkdown.
//
// What "in the period" means for each list:
// - milestones_done: reached, reached_on within the period; by reached_on.
// - milestones_due: not reached, due_date within the period or before it (overdue); by
//   due_date.
// - top_risks: open or occurred, highest score first (ties by risk_id), at most 5.
// - changes: requested or decided (approved/rejected) within the period, or not yet
//   settled (requested, assessed, or approved and awaiting implementation); stream order.
// - client_actions_pending: every open action; client_actions_overdue: the open ones past
//   due as of the clamped now; both by due_date.
// - surveys/feedback: recorded within the period; averages only over surveys that carry
//   the score.
accord::v1::ProgressReport BuildProgressReport(const std::vector<accord::v1::RecordedEvent>& events,
                                               const ReportPeriod& period, absl::Time now);

// The same in steps, for a caller that reads states without replaying every event (from
// snapshots): BuildProgressReport(events, period, now) equals
//   zone = ProjectZone(latest state);
//   ReportFromState(state as ReportReplayOptions(period, zone, now) ask, period, zone)
// (the report's project_id is the state's).
//
// The project's zone as its latest state names it (charter.time_zone; a correction after
// the period counts too), UTC when unnamed or unknown.
absl::TimeZone ProjectZone(const accord::v1::ProjectState& latest);
// The bounds of the state a report is computed from: recorded up to the end of the
// period's last day in `zone`, and `now` clamped to that end.
ReplayOptions ReportReplayOptions(const ReportPeriod& period, absl::TimeZone zone,
                                  absl::Time now);
// The report from that state.
accord::v1::ProgressReport ReportFromState(const accord::v1::ProjectState& state,
                                           const ReportPeriod& period, absl::TimeZone zone);

// Markdown for the client: title with project, client and period; health line (traffic
// light words and percent complete, summary); milestones done / due (tables); top risks;
// changes; what we need from you (open client actions with due dates and days late);
// satisfaction (surveys, average CSAT/NPS, feedback count). Empty sections say so in one
// line rather than disappearing. Deterministic: the same report gives the same bytes.
std::string RenderMarkdown(const accord::v1::ProgressReport& report);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_PROGRESS_REPORT_H_
