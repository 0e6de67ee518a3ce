// Portfolio summaries and client responsiveness: counts over a ComputeAsOf'd state.
#include "server/domain/portfolio.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

bool IsOpen(const v1::Change& change) {
  return change.status() == v1::CHANGE_STATUS_REQUESTED ||
         change.status() == v1::CHANGE_STATUS_ASSESSED ||
         change.status() == v1::CHANGE_STATUS_APPROVED;  // Approved, not yet implemented.
}

bool IsOpen(const v1::Approval& approval) {
  return approval.outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED;
}

bool IsOpen(const v1::Risk& risk) {
  // An occurred risk still needs handling until it is closed.
  return risk.status() == v1::RISK_STATUS_OPEN || risk.status() == v1::RISK_STATUS_OCCURRED;
}

bool IsDone(const v1::ClientAction& action) {
  return action.status() == v1::CLIENT_ACTION_STATUS_DONE;
}

bool IsOverdue(const v1::ClientAction& action) { return !IsDone(action) && action.overdue(); }

template <typename T>
uint32_t CountOpen(const google::protobuf::RepeatedPtrField<T>& items) {
  return static_cast<uint32_t>(
      std::count_if(items.begin(), items.end(), [](const T& item) { return IsOpen(item); }));
}

// Days late as a count: the projection never makes it negative, but a count must not wrap.
uint32_t DaysLate(const v1::ClientAction& action) {
  return static_cast<uint32_t>(std::max(0, action.days_late()));
}

// Client actions counted the same way for the whole project and for one month.
struct Tally {
  uint32_t due = 0;
  uint32_t completed = 0;
  uint32_t completed_late = 0;
  uint32_t open = 0;
  uint32_t open_overdue = 0;
  uint64_t completed_days_late = 0;  // Sum over completed actions, for the average.
  uint32_t max_days_late = 0;        // Over completed and open overdue actions.

  void Add(const v1::ClientAction& action) {
    ++due;
    const uint32_t days_late = DaysLate(action);
    if (IsDone(action)) {
      ++completed;
      if (days_late > 0) ++completed_late;
      completed_days_late += days_late;
      max_days_late = std::max(max_days_late, days_late);
      return;
    }
    ++open;
    if (IsOverdue(action)) {
      ++open_overdue;
      max_days_late = std::max(max_days_late, days_late);
    }
  }

  // Over completed actions, on-time ones counting 0; 0 when none was completed.
  double AverageDaysLate() const {
    return completed == 0 ? 0.0 : static_cast<double>(completed_days_late) / completed;
  }
};

// "2026-11" of a due date "2026-11-20"; empty when the date is too short to have one.
std::string MonthOf(const std::string& due_date) {
  return due_date.size() >= 7 ? due_date.substr(0, 7) : std::string();
}

}  // namespace

v1::ProjectSummary SummarizeProject(const v1::ProjectState& state) {
  v1::ProjectSummary summary;
  summary.set_project_id(state.project_id());
  summary.set_name(state.charter().name());
  summary.set_client_org(state.charter().client_org());
  summary.set_status(state.status());
  summary.set_health(state.latest_status().health());
  const auto& actions = state.client_actions();
  summary.set_overdue_client_actions(
      static_cast<uint32_t>(std::count_if(actions.begin(), actions.end(), IsOverdue)));
  summary.set_open_changes(CountOpen(state.changes()));
  summary.set_open_approvals(CountOpen(state.approvals()));
  summary.set_open_risks(CountOpen(state.risks()));
  *summary.mutable_last_activity() = state.last_activity();
  summary.set_version(state.version());
  return summary;
}

v1::ClientResponsiveness ComputeResponsiveness(const v1::ProjectState& state) {
  Tally total;
  std::map<std::string, Tally> by_month;  // Ordered: months come out ascending.
  uint32_t reminders = 0;
  uint32_t escalations = 0;
  for (const v1::ClientAction& action : state.client_actions()) {
    total.Add(action);
    const std::string month = MonthOf(action.due_date());
    if (!month.empty()) by_month[month].Add(action);
    reminders += action.reminders();
    // A completed action keeps escalated_to though its status moved on to DONE.
    if (action.status() == v1::CLIENT_ACTION_STATUS_ESCALATED || !action.escalated_to().empty()) {
      ++escalations;
    }
  }

  v1::ClientResponsiveness result;
  result.set_project_id(state.project_id());
  result.set_requested(total.due);
  result.set_completed(total.completed);
  result.set_completed_late(total.completed_late);
  result.set_open(total.open);
  result.set_open_overdue(total.open_overdue);
  result.set_average_days_late(total.AverageDaysLate());
  result.set_max_days_late(total.max_days_late);
  result.set_reminders(reminders);
  result.set_escalations(escalations);
  for (const auto& [month, tally] : by_month) {
    v1::ResponsivenessMonth* line = result.add_by_month();
    line->set_month(month);
    line->set_due(tally.due);
    line->set_completed_on_time(tally.completed - tally.completed_late);
    line->set_completed_late(tally.completed_late);
    line->set_still_open(tally.open);
    line->set_average_days_late(tally.AverageDaysLate());
  }
  return result;
}

}  // namespace accord::domain
