// The progress report: parsing periods, selecting what a period's report shows from the
// project state as of the period's end, and rendering it as Markdown for the client.
#include "server/domain/progress_report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "server/domain/event_validation.h"
#include "server/domain/project_projection.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

// ---------------------------------------------------------------------------------------
// Days

std::optional<absl::CivilDay> ToDay(std::string_view date) {
  const std::optional<int> key = ParseDate(date);  // yyyymmdd
  if (!key.has_value()) return std::nullopt;
  return absl::CivilDay(*key / 10000, *key / 100 % 100, *key % 100);
}

std::string Padded(int64_t value, size_t width) {
  std::string digits = absl::StrCat(value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// "YYYY-MM-DD" with a four-digit year, as ParseDate reads it back (FormatCivilTime does
// not pad years before 1000).
std::string DateString(absl::CivilDay day) {
  return absl::StrCat(Padded(day.year(), 4), "-", Padded(day.month(), 2), "-",
                      Padded(day.day(), 2));
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// ---------------------------------------------------------------------------------------
// Periods

constexpr char kAcceptedForms[] =
    "expected \"YYYY-Www\" (ISO week, e.g. 2026-W47), \"YYYY-MM\" (calendar month, e.g. "
    "2026-11) or \"YYYY-MM-DD..YYYY-MM-DD\" (inclusive range, e.g. 2026-11-01..2026-11-15)";

absl::Status BadPeriod(std::string_view period, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("period: ", why, " in \"", std::string(period), "\"; ", kAcceptedForms));
}

// A non-empty run of ASCII digits as a number; nullopt otherwise.
std::optional<int> Digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// ISO 8601: week 1 is the week (Monday..Sunday) holding the year's first Thursday, which
// is the week holding January 4th.
absl::CivilDay IsoWeekOneMonday(int year) {
  const absl::CivilDay jan4(year, 1, 4);
  return jan4 - static_cast<int>(absl::GetWeekday(jan4));  // Weekday counts from Monday = 0.
}

int IsoWeeksInYear(int year) {
  return static_cast<int>((IsoWeekOneMonday(year + 1) - IsoWeekOneMonday(year)) / 7);
}

ReportPeriod MakePeriod(std::string_view label, absl::CivilDay first, absl::CivilDay last) {
  return ReportPeriod{std::string(label), DateString(first), DateString(last)};
}

bool IsWeekForm(std::string_view s) {
  return s.size() == 8 && s[4] == '-' && s[5] == 'W';
}

bool IsMonthForm(std::string_view s) { return s.size() == 7 && s[4] == '-'; }

absl::StatusOr<ReportPeriod> ParseWeek(std::string_view period) {
  const std::optional<int> year = Digits(period.substr(0, 4));
  const std::optional<int> week = Digits(period.substr(6, 2));
  if (!year.has_value() || !week.has_value() || *year < 1) {
    return BadPeriod(period, "malformed ISO week");
  }
  const int weeks = IsoWeeksInYear(*year);
  if (*week < 1 || *week > weeks) {
    return BadPeriod(period, absl::StrCat("week ", *week, " does not exist (", *year, " has ",
                                          weeks, " ISO weeks)"));
  }
  const absl::CivilDay monday = IsoWeekOneMonday(*year) + 7 * (*week - 1);
  return MakePeriod(period, monday, monday + 6);
}

absl::StatusOr<ReportPeriod> ParseMonth(std::string_view period) {
  const std::optional<int> year = Digits(period.substr(0, 4));
  const std::optional<int> month = Digits(period.substr(5, 2));
  if (!year.has_value() || !month.has_value() || *year < 1) {
    return BadPeriod(period, "malformed month");
  }
  if (*month < 1 || *month > 12) return BadPeriod(period, "month must be 01..12");
  const absl::CivilMonth civil_month(*year, *month);
  return MakePeriod(period, absl::CivilDay(civil_month),
                    absl::CivilDay(civil_month + 1) - 1);
}

absl::StatusOr<ReportPeriod> ParseRange(std::string_view period, size_t dots) {
  const std::optional<absl::CivilDay> first = ToDay(period.substr(0, dots));
  const std::optional<absl::CivilDay> last = ToDay(period.substr(dots + 2));
  if (!first.has_value() || !last.has_value()) {
    return BadPeriod(period, "range ends must be valid dates");
  }
  if (*last < *first) return BadPeriod(period, "range starts after it ends");
  return MakePeriod(period, *first, *last);
}

// ---------------------------------------------------------------------------------------
// Selecting the report's content

// The period's days in the project's zone. A period whose dates do not parse contains
// no day (ParsePeriod never yields one).
struct DayRange {
  std::optional<absl::CivilDay> first;
  std::optional<absl::CivilDay> last;
  absl::TimeZone zone;

  bool Contains(absl::CivilDay day) const {
    return first.has_value() && last.has_value() && *first <= day && day <= *last;
  }
  bool ContainsDate(std::string_view date) const {
    const std::optional<absl::CivilDay> day = ToDay(date);
    return day.has_value() && Contains(*day);
  }
  // An event reference counts by the day it was recorded, in the project's zone.
  bool ContainsRef(const v1::EventRef& ref) const {
    return ref.has_recorded_at() && Contains(absl::ToCivilDay(ToTime(ref.recorded_at()), zone));
  }
  // The last instant of the period: events recorded at or before it count.
  std::optional<absl::Time> End() const {
    if (!last.has_value()) return std::nullopt;
    return absl::FromCivil(*last + 1, zone) - absl::Nanoseconds(1);
  }
};

// Copies `items` into `out`, stably sorted by `less` (state order breaks ties, so the
// result is deterministic).
template <typename T, typename Less>
void SortedInto(std::vector<const T*> items, Less less,
                google::protobuf::RepeatedPtrField<T>* out) {
  std::stable_sort(items.begin(), items.end(),
                   [&](const T* a, const T* b) { return less(*a, *b); });
  for (const T* item : items) *out->Add() = *item;
}

v1::MilestoneLine LineOf(const v1::Milestone& milestone) {
  v1::MilestoneLine line;
  line.set_milestone_id(milestone.milestone_id());
  line.set_title(milestone.title());
  line.set_due_date(milestone.due_date());
  line.set_status(milestone.status());
  line.set_reached_on(milestone.reached_on());
  return line;
}

void SelectMilestones(const v1::ProjectState& state, const DayRange& range,
                      v1::ProgressReport* report) {
  std::vector<const v1::Milestone*> done;
  std::vector<const v1::Milestone*> due;
  for (const v1::Milestone& milestone : state.milestones()) {
    if (milestone.status() == v1::MILESTONE_STATUS_REACHED) {
      if (range.ContainsDate(milestone.reached_on())) done.push_back(&milestone);
      continue;
    }
    // Due in the period, or before it and still not reached: overdue belongs here too.
    const std::optional<absl::CivilDay> due_day = ToDay(milestone.due_date());
    if (due_day.has_value() && range.last.has_value() && *due_day <= *range.last) {
      due.push_back(&milestone);
    }
  }
  // ISO dates sort as strings.
  std::stable_sort(done.begin(), done.end(), [](const v1::Milestone* a, const v1::Milestone* b) {
    return a->reached_on() < b->reached_on();
  });
  std::stable_sort(due.begin(), due.end(), [](const v1::Milestone* a, const v1::Milestone* b) {
    return a->due_date() < b->due_date();
  });
  for (const v1::Milestone* m : done) *report->add_milestones_done() = LineOf(*m);
  for (const v1::Milestone* m : due) *report->add_milestones_due() = LineOf(*m);
}

constexpr size_t kTopRisks = 5;

void SelectTopRisks(const v1::ProjectState& state, v1::ProgressReport* report) {
  std::vector<const v1::Risk*> live;
  for (const v1::Risk& risk : state.risks()) {
    if (risk.status() == v1::RISK_STATUS_OPEN || risk.status() == v1::RISK_STATUS_OCCURRED) {
      live.push_back(&risk);
    }
  }
  std::stable_sort(live.begin(), live.end(), [](const v1::Risk* a, const v1::Risk* b) {
    if (a->score() != b->score()) return a->score() > b->score();
    return a->risk_id() < b->risk_id();
  });
  if (live.size() > kTopRisks) live.resize(kTopRisks);
  for (const v1::Risk* risk : live) *report->add_top_risks() = *risk;
}

// Not settled yet: awaiting a decision, or approved and awaiting implementation.
bool IsUnsettled(const v1::Change& change) {
  switch (change.status()) {
    case v1::CHANGE_STATUS_REQUESTED:
    case v1::CHANGE_STATUS_ASSESSED:
    case v1::CHANGE_STATUS_APPROVED:
      return true;
    default:
      return false;
  }
}

void SelectChanges(const v1::ProjectState& state, const DayRange& range,
                   v1::ProgressReport* report) {
  for (const v1::Change& change : state.changes()) {
    if (range.ContainsRef(change.requested()) || range.ContainsRef(change.decided()) ||
        IsUnsettled(change)) {
      *report->add_changes() = change;
    }
  }
}

bool IsOpen(const v1::ClientAction& action) {
  return action.status() == v1::CLIENT_ACTION_STATUS_PENDING ||
         action.status() == v1::CLIENT_ACTION_STATUS_ESCALATED;
}

void SelectClientActions(const v1::ProjectState& state, v1::ProgressReport* report) {
  std::vector<const v1::ClientAction*> open;
  std::vector<const v1::ClientAction*> overdue;
  for (const v1::ClientAction& action : state.client_actions()) {
    if (!IsOpen(action)) continue;
    open.push_back(&action);
    if (action.overdue()) overdue.push_back(&action);  // ComputeAsOf ran with the clamped now.
  }
  const auto by_due = [](const v1::ClientAction& a, const v1::ClientAction& b) {
    return a.due_date() < b.due_date();
  };
  SortedInto(open, by_due, report->mutable_client_actions_pending());
  SortedInto(overdue, by_due, report->mutable_client_actions_overdue());
}

void SelectSatisfaction(const v1::ProjectState& state, const DayRange& range,
                        v1::ProgressReport* report) {
  uint32_t surveys = 0;
  uint32_t csat_count = 0, nps_count = 0;
  double csat_sum = 0, nps_sum = 0;
  for (const v1::SurveyResult& survey : state.surveys()) {
    if (!range.ContainsRef(survey.received())) continue;
    ++surveys;
    if (survey.has_csat()) {
      ++csat_count;
      csat_sum += survey.csat();
    }
    if (survey.has_nps()) {
      ++nps_count;
      nps_sum += survey.nps();
    }
  }
  report->set_surveys_in_period(surveys);
  report->set_average_csat(csat_count == 0 ? 0 : csat_sum / csat_count);
  report->set_average_nps(nps_count == 0 ? 0 : nps_sum / nps_count);
  uint32_t feedback = 0;
  for (const v1::FeedbackItem& item : state.feedback()) {
    if (range.ContainsRef(item.received())) ++feedback;
  }
  report->set_feedback_in_period(feedback);
}

// ---------------------------------------------------------------------------------------
// Markdown

// Text on one line: newlines would break a table row or a heading.
std::string OneLine(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

// A table cell: one line, pipes escaped, never empty (an empty cell reads as a mistake).
std::string Cell(const std::string& text) {
  if (text.empty()) return "-";
  return absl::StrReplaceAll(OneLine(text), {{"|", "\\|"}});
}

std::string Row(const std::vector<std::string>& cells) {
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
}

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = Row(header);
  out += Row(std::vector<std::string>(header.size(), "---"));
  for (const auto& row : rows) out += Row(row);
  return out;
}

// One decimal, rounded half away from zero; no locale or printf involved, so the bytes
// are the same everywhere.
std::string OneDecimal(double value) {
  const int64_t tenths = std::llround(value * 10);
  const int64_t magnitude = tenths < 0 ? -tenths : tenths;
  return absl::StrCat(tenths < 0 ? "-" : "", magnitude / 10, ".", magnitude % 10);
}

std::string Plural(int64_t n, const std::string& one, const std::string& many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string HealthWord(v1::Health health) {
  switch (health) {
    case v1::HEALTH_GREEN: return "Green";
    case v1::HEALTH_AMBER: return "Amber";
    case v1::HEALTH_RED: return "Red";
    default: return "Not reported";
  }
}

std::string MilestoneStatusWord(v1::MilestoneStatus status) {
  switch (status) {
    case v1::MILESTONE_STATUS_PLANNED: return "Planned";
    case v1::MILESTONE_STATUS_REACHED: return "Reached";
    case v1::MILESTONE_STATUS_MISSED: return "Missed";
    default: return "-";
  }
}

std::string RiskStatusWord(v1::RiskStatus status) {
  switch (status) {
    case v1::RISK_STATUS_OPEN: return "Open";
    case v1::RISK_STATUS_OCCURRED: return "Occurred";
    case v1::RISK_STATUS_CLOSED: return "Closed";
    default: return "-";
  }
}

std::string StrategyWord(v1::RiskResponseStrategy strategy) {
  switch (strategy) {
    case v1::RISK_RESPONSE_STRATEGY_AVOID: return "Avoid";
    case v1::RISK_RESPONSE_STRATEGY_MITIGATE: return "Mitigate";
    case v1::RISK_RESPONSE_STRATEGY_TRANSFER: return "Transfer";
    case v1::RISK_RESPONSE_STRATEGY_ACCEPT: return "Accept";
    default: return "";
  }
}

std::string ChangeStatusWord(v1::ChangeStatus status) {
  switch (status) {
    case v1::CHANGE_STATUS_REQUESTED: return "Requested";
    case v1::CHANGE_STATUS_ASSESSED: return "Assessed";
    case v1::CHANGE_STATUS_APPROVED: return "Approved";
    case v1::CHANGE_STATUS_REJECTED: return "Rejected";
    case v1::CHANGE_STATUS_IMPLEMENTED: return "Implemented";
    case v1::CHANGE_STATUS_WITHDRAWN: return "Withdrawn";
    default: return "-";
  }
}

std::string PartyWord(v1::Party party) {
  switch (party) {
    case v1::PARTY_CLIENT: return "Client";
    case v1::PARTY_TEAM: return "Team";
    default: return "-";
  }
}

std::string ClientActionKindWord(v1::ClientActionKind kind) {
  switch (kind) {
    case v1::CLIENT_ACTION_KIND_MATERIALS: return "Materials";
    case v1::CLIENT_ACTION_KIND_DATA: return "Data";
    case v1::CLIENT_ACTION_KIND_ACCESS: return "Access";
    case v1::CLIENT_ACTION_KIND_DECISION: return "Decision";
    case v1::CLIENT_ACTION_KIND_REVIEW: return "Review";
    default: return "-";
  }
}

// Digits after the decimal point of a currency's major unit (ISO 4217); two for most.
int MinorDigits(const std::string& currency) {
  static const char* const kNone[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                      "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
                                      "XPF"};
  static const char* const kThree[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  for (const char* code : kNone) {
    if (currency == code) return 0;
  }
  for (const char* code : kThree) {
    if (currency == code) return 3;
  }
  return 2;
}

// "EUR 1,250.00"-style without grouping: "EUR 1250.00", "JPY 5000", "-EUR 3.50".
std::string MoneyText(const v1::Money& money) {
  const int digits = MinorDigits(money.currency_code());
  const int64_t amount = money.amount_minor();
  const uint64_t magnitude = amount < 0 ? 0 - static_cast<uint64_t>(amount) : amount;
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string text = absl::StrCat(amount < 0 ? "-" : "", money.currency_code(), " ",
                                  magnitude / scale);
  if (digits > 0) absl::StrAppend(&text, ".", Padded(magnitude % scale, digits));
  return text;
}

std::string ImpactText(const v1::Change& change) {
  std::vector<std::string> parts;
  if (change.schedule_impact_days() != 0) {
    parts.push_back(absl::StrCat(change.schedule_impact_days() > 0 ? "+" : "",
                                 Plural(change.schedule_impact_days(), "day", "days")));
  }
  if (change.has_cost_impact() && change.cost_impact().amount_minor() != 0) {
    parts.push_back(MoneyText(change.cost_impact()));
  }
  return absl::StrJoin(parts, ", ");
}

std::string HealthSection(const v1::ProgressReport& r) {
  std::string out = "## Health\n\n";
  const v1::Indicators& h = r.health();
  if (h.health() == v1::HEALTH_UNSPECIFIED) return out + "No status update yet.\n\n";
  absl::StrAppend(&out, "**", HealthWord(h.health()), "** - ", h.percent_complete(),
                  "% complete");
  if (!h.summary().empty()) absl::StrAppend(&out, ". ", OneLine(h.summary()));
  out += "\n";
  std::vector<std::string> dimensions;
  if (h.schedule() != v1::HEALTH_UNSPECIFIED) {
    dimensions.push_back("Schedule: " + HealthWord(h.schedule()));
  }
  if (h.cost() != v1::HEALTH_UNSPECIFIED) dimensions.push_back("Cost: " + HealthWord(h.cost()));
  if (h.quality() != v1::HEALTH_UNSPECIFIED) {
    dimensions.push_back("Quality: " + HealthWord(h.quality()));
  }
  if (!dimensions.empty()) absl::StrAppend(&out, "\n", absl::StrJoin(dimensions, ", "), "\n");
  return out + "\n";
}

std::string MilestonesDoneSection(const v1::ProgressReport& r) {
  std::string out = "## Milestones done\n\n";
  if (r.milestones_done().empty()) return out + "No milestones reached in this period.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::MilestoneLine& m : r.milestones_done()) {
    rows.push_back({Cell(m.title()), Cell(m.due_date()), Cell(m.reached_on())});
  }
  return out + Table({"Milestone", "Due", "Reached"}, rows) + "\n";
}

std::string MilestonesDueSection(const v1::ProgressReport& r) {
  std::string out = "## Milestones due\n\n";
  if (r.milestones_due().empty()) return out + "No milestones due in this period.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::MilestoneLine& m : r.milestones_due()) {
    // Due before the period began and still not reached: the client should see it late.
    std::string status = MilestoneStatusWord(m.status());
    if (m.due_date() < r.start_date()) status += ", overdue";
    rows.push_back({Cell(m.title()), Cell(m.due_date()), status});
  }
  return out + Table({"Milestone", "Due", "Status"}, rows) + "\n";
}

std::string RisksSection(const v1::ProgressReport& r) {
  std::string out = "## Top risks\n\n";
  if (r.top_risks().empty()) return out + "No open risks.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::Risk& risk : r.top_risks()) {
    std::string response = StrategyWord(risk.strategy());
    if (!risk.response_plan().empty()) {
      response = response.empty() ? risk.response_plan()
                                  : absl::StrCat(response, ": ", risk.response_plan());
    }
    rows.push_back({Cell(risk.title()),
                    absl::StrCat(risk.score(), " (", risk.probability(), "x", risk.impact(), ")"),
                    RiskStatusWord(risk.status()), Cell(risk.owner()), Cell(response)});
  }
  return out + Table({"Risk", "Score (PxI)", "Status", "Owner", "Response"}, rows) + "\n";
}

std::string ChangesSection(const v1::ProgressReport& r) {
  std::string out = "## Changes\n\n";
  if (r.changes().empty()) return out + "No changes in this period.\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::Change& change : r.changes()) {
    rows.push_back({Cell(change.title()), PartyWord(change.requested_by()),
                    ChangeStatusWord(change.status()), Cell(ImpactText(change))});
  }
  return out + Table({"Change", "Requested by", "Status", "Impact"}, rows) + "\n";
}

std::string ClientActionsSection(const v1::ProgressReport& r) {
  std::string out = "## What we need from you\n\n";
  if (r.client_actions_pending().empty()) return out + "Nothing outstanding.\n\n";
  absl::StrAppend(&out, Plural(r.client_actions_pending_size(), "open request", "open requests"),
                  ", ", r.client_actions_overdue_size(), " overdue.\n\n");
  std::vector<std::vector<std::string>> rows;
  for (const v1::ClientAction& action : r.client_actions_pending()) {
    std::string status =
        action.overdue() ? Plural(action.days_late(), "day late", "days late") : "Pending";
    if (action.status() == v1::CLIENT_ACTION_STATUS_ESCALATED) status += ", escalated";
    rows.push_back({Cell(action.title()), ClientActionKindWord(action.kind()),
                    Cell(action.due_date()), status});
  }
  return out + Table({"Request", "Kind", "Due", "Status"}, rows) + "\n";
}

std::string SatisfactionSection(const v1::ProgressReport& r) {
  std::string out = "## Satisfaction\n\n";
  if (r.surveys_in_period() == 0 && r.feedback_in_period() == 0) {
    return out + "No surveys or feedback in this period.\n";
  }
  absl::StrAppend(&out, "- Surveys: ", r.surveys_in_period(), "\n");
  // CSAT is 1..5, so 0 means no survey carried one. An NPS answer may be 0; the report
  // cannot tell "all zeros" from "none", and showing 0.0 for none would mislead more.
  if (r.average_csat() > 0) {
    absl::StrAppend(&out, "- Average CSAT: ", OneDecimal(r.average_csat()), " / 5\n");
  }
  if (r.average_nps() > 0) {
    absl::StrAppend(&out, "- Average NPS answer: ", OneDecimal(r.average_nps()), " / 10\n");
  }
  absl::StrAppend(&out, "- Feedback received: ", r.feedback_in_period(), "\n");
  return out;
}

}  // namespace

absl::StatusOr<ReportPeriod> ParsePeriod(std::string_view period) {
  if (const size_t dots = period.find(".."); dots != std::string_view::npos) {
    return ParseRange(period, dots);
  }
  if (IsWeekForm(period)) return ParseWeek(period);
  if (IsMonthForm(period)) return ParseMonth(period);
  return BadPeriod(period, "unrecognised period");
}

absl::TimeZone ProjectZone(const v1::ProjectState& latest) {
  absl::TimeZone zone;
  const std::string& name = latest.charter().time_zone();
  if (!name.empty() && absl::LoadTimeZone(name, &zone)) return zone;
  return absl::UTCTimeZone();
}

ReplayOptions ReportReplayOptions(const ReportPeriod& period, absl::TimeZone zone,
                                  absl::Time now) {
  const DayRange range{ToDay(period.start_date), ToDay(period.end_date), zone};
  ReplayOptions options;
  options.recorded_up_to = range.End();
  // The clock for overdue items never runs past the period: a report for a past week
  // shows what was overdue then, not what is overdue today.
  options.now = options.recorded_up_to.has_value() ? std::min(now, *options.recorded_up_to) : now;
  return options;
}

v1::ProgressReport BuildProgressReport(const std::vector<v1::RecordedEvent>& events,
                                       const ReportPeriod& period, absl::Time now) {
  const absl::TimeZone zone = ProjectZone(Replay(events));
  v1::ProjectState state = Replay(events, ReportReplayOptions(period, zone, now));
  // Before the project's first event the state names no project; the report still does.
  if (state.project_id().empty() && !events.empty()) {
    state.set_project_id(events.front().project_id());
  }
  return ReportFromState(state, period, zone);
}

v1::ProgressReport ReportFromState(const v1::ProjectState& state, const ReportPeriod& period,
                                   absl::TimeZone zone) {
  const DayRange range{ToDay(period.start_date), ToDay(period.end_date), zone};
  v1::ProgressReport report;
  report.set_project_id(state.project_id());
  report.set_project_name(state.charter().name());
  report.set_client_org(state.charter().client_org());
  report.set_period(period.label);
  report.set_start_date(period.start_date);
  report.set_end_date(period.end_date);
  report.set_as_of_version(state.version());
  *report.mutable_health() = state.latest_status();
  SelectMilestones(state, range, &report);
  SelectTopRisks(state, &report);
  SelectChanges(state, range, &report);
  SelectClientActions(state, &report);
  SelectSatisfaction(state, range, &report);
  report.set_markdown(RenderMarkdown(report));
  return report;
}

std::string RenderMarkdown(const v1::ProgressReport& r) {
  const std::string project = r.project_name().empty() ? r.project_id() : r.project_name();
  std::string out = absl::StrCat("# Progress report: ", OneLine(project));
  if (!r.client_org().empty()) absl::StrAppend(&out, " for ", OneLine(r.client_org()));
  absl::StrAppend(&out, "\n\n**Period:** ", OneLine(r.period()), " (", r.start_date(), " to ",
                  r.end_date(), ")  \n**As of:** version ", r.as_of_version(),
                  " of the project log\n\n");
  out += HealthSection(r);
  out += MilestonesDoneSection(r);
  out += MilestonesDueSection(r);
  out += RisksSection(r);
  out += ChangesSection(r);
  out += ClientActionsSection(r);
  out += SatisfactionSection(r);
  return out;
}

}  // namespace accord::domain
