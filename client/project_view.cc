#include "client/project_view.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace accord::client {
namespace {

namespace v1 = accord::v1;

// Enum names without their type prefix: HEALTH_GREEN -> GREEN.
template <typename Enum>
std::string Short(const std::string& full, std::string_view prefix) {
  return full.rfind(std::string(prefix), 0) == 0 ? full.substr(prefix.size()) : full;
}

std::string Money(const std::string& currency, int64_t minor) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld %s", minor < 0 ? "-" : "",
                static_cast<long long>((minor < 0 ? -minor : minor) / 100),
                static_cast<long long>((minor < 0 ? -minor : minor) % 100), currency.c_str());
  return buf;
}

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

// Empty sections are left out.
void Section(std::string* out, const std::string& title, size_t count) {
  if (count > 0) absl::StrAppend(out, "\n", title, " (", count, ")\n");
}

}  // namespace

std::string RenderProject(const v1::ProjectState& s) {
  std::string out;
  const auto& c = s.charter();
  absl::StrAppend(&out, "Project ", s.project_id(), ": ", c.name().empty() ? "(unnamed)" : c.name(),
                  c.client_org().empty() ? "" : absl::StrCat(" for ", c.client_org()), "\n");
  absl::StrAppend(&out, "  version ", s.version(), ", ",
                  Short<v1::LifecycleStatus>(v1::LifecycleStatus_Name(s.status()), "LIFECYCLE_STATUS_"),
                  ", last activity ", s.has_last_activity() ? Time(s.last_activity()) : "-", "\n");
  if (!c.start_date().empty() || !c.target_end_date().empty()) {
    absl::StrAppend(&out, "  planned ", c.start_date(), " .. ", c.target_end_date(), " (",
                    c.time_zone(), ")", c.manager().empty() ? "" : ", manager " + c.manager(), "\n");
  }
  absl::StrAppend(&out, "  charter ", c.confirmed() ? "confirmed by " + c.confirmed_by() : "not confirmed",
                  "; ", c.goals_size(), " goals; ", c.scope_size(), " scope items\n");
  const auto& h = s.latest_status();
  if (h.health() != v1::HEALTH_UNSPECIFIED) {
    absl::StrAppend(&out, "  health ", Short<v1::Health>(v1::Health_Name(h.health()), "HEALTH_"),
                    " (schedule ", Short<v1::Health>(v1::Health_Name(h.schedule()), "HEALTH_"),
                    ", cost ", Short<v1::Health>(v1::Health_Name(h.cost()), "HEALTH_"),
                    ", quality ", Short<v1::Health>(v1::Health_Name(h.quality()), "HEALTH_"), "), ",
                    h.percent_complete(), "% complete", h.summary().empty() ? "" : ": " + h.summary(),
                    "\n");
  }

  Section(&out, "Team", s.members_size());
  for (const auto& m : s.members()) {
    if (m.removed()) continue;
    absl::StrAppend(&out, "  ", m.principal(), "  ",
                    Short<v1::MemberRole>(v1::MemberRole_Name(m.role()), "MEMBER_ROLE_"), "\n");
  }
  Section(&out, "Milestones", s.milestones_size());
  for (const auto& m : s.milestones()) {
    absl::StrAppend(&out, "  ", m.milestone_id(), "  ", m.title(), "  due ", m.due_date(), "  ",
                    Short<v1::MilestoneStatus>(v1::MilestoneStatus_Name(m.status()), "MILESTONE_STATUS_"),
                    m.reschedules() > 0 ? absl::StrCat("  (rescheduled ", m.reschedules(), "x)") : "",
                    "\n");
  }
  Section(&out, "Budget", s.budget_size());
  for (const auto& b : s.budget()) {
    absl::StrAppend(&out, "  ", b.category(), "  budget ", Money(b.currency_code(), b.budget_minor()),
                    "  actual ", Money(b.currency_code(), b.actual_minor()), "\n");
  }
  Section(&out, "Changes", s.changes_size());
  for (const auto& ch : s.changes()) {
    absl::StrAppend(&out, "  ", ch.change_id(), "  ", ch.title(), "  ",
                    Short<v1::ChangeStatus>(v1::ChangeStatus_Name(ch.status()), "CHANGE_STATUS_"),
                    ch.schedule_impact_days() != 0 ? absl::StrCat("  ", ch.schedule_impact_days(), " days") : "",
                    ch.has_cost_impact() ? "  " + Money(ch.cost_impact().currency_code(), ch.cost_impact().amount_minor()) : "",
                    "\n");
  }
  Section(&out, "Approvals", s.approvals_size());
  for (const auto& a : s.approvals()) {
    absl::StrAppend(&out, "  ", a.approval_id(), "  ",
                    Short<v1::ApprovalSubject>(v1::ApprovalSubject_Name(a.subject()), "APPROVAL_SUBJECT_"),
                    a.subject_id().empty() ? "" : " " + a.subject_id(), "  ",
                    Short<v1::ApprovalRule>(v1::ApprovalRule_Name(a.rule()), "APPROVAL_RULE_"), " of ",
                    absl::StrJoin(a.approvers(), ","), "  ", a.decisions_size(), " decided  ",
                    a.outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED
                        ? "OPEN"
                        : Short<v1::ApprovalOutcome>(v1::ApprovalOutcome_Name(a.outcome()), "APPROVAL_OUTCOME_"),
                    "\n");
  }
  Section(&out, "Risks", s.risks_size());
  for (const auto& r : s.risks()) {
    absl::StrAppend(&out, "  ", r.risk_id(), "  ", r.title(), "  score ", r.score(), "  ",
                    Short<v1::RiskStatus>(v1::RiskStatus_Name(r.status()), "RISK_STATUS_"), "\n");
  }
  Section(&out, "Client owes", s.client_actions_size());
  for (const auto& a : s.client_actions()) {
    absl::StrAppend(&out, "  ", a.action_id(), "  ", a.title(), "  due ", a.due_date(), "  ",
                    Short<v1::ClientActionStatus>(v1::ClientActionStatus_Name(a.status()), "CLIENT_ACTION_STATUS_"),
                    a.overdue() ? "  OVERDUE" : "",
                    a.days_late() > 0 ? absl::StrCat("  ", a.days_late(), " days late") : "",
                    a.reminders() > 0 ? absl::StrCat("  ", a.reminders(), " reminders") : "", "\n");
  }
  Section(&out, "Deliverables", s.deliverables_size());
  for (const auto& d : s.deliverables()) {
    absl::StrAppend(&out, "  ", d.deliverable_id(), "  ", d.title(), "  ",
                    Short<v1::DeliverableStatus>(v1::DeliverableStatus_Name(d.status()), "DELIVERABLE_STATUS_"),
                    d.version().empty() ? "" : "  v" + d.version(), "\n");
  }
  if (s.surveys_size() > 0 || s.feedback_size() > 0) {
    Section(&out, "Satisfaction", s.surveys_size());
    for (const auto& sv : s.surveys()) {
      absl::StrAppend(&out, "  ", sv.survey_id(), sv.has_csat() ? absl::StrCat("  CSAT ", sv.csat()) : "",
                      sv.has_nps() ? absl::StrCat("  NPS ", sv.nps()) : "", "\n");
    }
    absl::StrAppend(&out, "  feedback items: ", s.feedback_size(), "\n");
  }
  Section(&out, "Lessons", s.lessons_size());
  return out;
}

}  // namespace accord::client
