#include "server/domain/rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/domain/project_projection.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;
using v1::EventPayload;
using v1::ProjectState;

absl::Status Broken(const RuleContext& ctx, std::string_view rule, const std::string& what) {
  const std::string where =
      ctx.index >= 0 ? absl::StrCat(ctx.path, "[", ctx.index, "]") : ctx.path;
  return absl::FailedPreconditionError(
      absl::StrCat(where, ": rule ", std::string(rule), ": ", what));
}

// The first item of `items` whose id (read by `id_of`) is `id`, or nullptr; through the
// project's index when the caller keeps one (RuleContext::project_index), so a check costs
// the same however many items the state holds.
template <typename T>
const T* Find(const google::protobuf::RepeatedPtrField<T>& items, const std::string& id,
              const std::string& (T::*id_of)() const, ProjectIndex* ix) {
  const int position = PositionOf(items, id_of, id, ix);
  return position < 0 ? nullptr : &items.Get(position);
}

const v1::Member* ActiveMember(const ProjectState& s, ProjectIndex* ix, const std::string& principal) {
  const v1::Member* m = Find(s.members(), principal, &v1::Member::principal, ix);
  return m != nullptr && !m->removed() ? m : nullptr;
}

bool IsClientSide(const v1::Member& m) {
  return m.party() == v1::PARTY_CLIENT || m.role() == v1::MEMBER_ROLE_CLIENT_CONTACT ||
         m.role() == v1::MEMBER_ROLE_CLIENT_SPONSOR;
}

#define ID_OF(Type, field) &v1::Type::field, ix

const v1::Change* FindChange(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.changes(), id, ID_OF(Change, change_id));
}
const v1::Approval* FindApproval(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.approvals(), id, ID_OF(Approval, approval_id));
}
const v1::Deliverable* FindDeliverable(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.deliverables(), id, ID_OF(Deliverable, deliverable_id));
}
const v1::Milestone* FindMilestone(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.milestones(), id, ID_OF(Milestone, milestone_id));
}
const v1::Task* FindTask(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.tasks(), id, ID_OF(Task, task_id));
}
const v1::Risk* FindRisk(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.risks(), id, ID_OF(Risk, risk_id));
}
const v1::Issue* FindIssue(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.issues(), id, ID_OF(Issue, issue_id));
}
const v1::ClientAction* FindClientAction(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.client_actions(), id, ID_OF(ClientAction, action_id));
}
const v1::ActionItem* FindActionItem(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return Find(s.action_items(), id, ID_OF(ActionItem, action_item_id));
}

// Rejects a new item whose id is already taken in its kind.
absl::Status MustBeNew(const RuleContext& ctx, bool exists, std::string_view kind,
                       const std::string& id) {
  if (!exists) return absl::OkStatus();
  return Broken(ctx, absl::StrCat(std::string(kind), ".unique_id"),
                absl::StrCat(std::string(kind), " ", id, " already exists in this project"));
}

// Rejects a reference to an item that does not exist (empty optional references pass).
absl::Status MustExist(const RuleContext& ctx, bool exists, std::string_view kind,
                       const std::string& id, bool optional = false) {
  if (exists || (optional && id.empty())) return absl::OkStatus();
  return Broken(ctx, "reference.exists",
                absl::StrCat(std::string(kind), " ", id, " does not exist in this project"));
}

std::string Name(v1::ChangeStatus s) { return v1::ChangeStatus_Name(s); }

bool ItemExists(const ProjectState& s, ProjectIndex* ix, const std::string& id) {
  return FindTask(s, ix, id) || FindMilestone(s, ix, id) || FindDeliverable(s, ix, id) || FindChange(s, ix, id) ||
         FindRisk(s, ix, id) || FindIssue(s, ix, id) || FindApproval(s, ix, id) || FindClientAction(s, ix, id) ||
         FindActionItem(s, ix, id) ||
         Find(s.charter().goals(), id, ID_OF(Goal, goal_id)) ||
         Find(s.charter().scope(), id, ID_OF(ScopeItem, scope_item_id));
}

absl::Status CheckChange(const ProjectState& s, const EventPayload& e, const RuleContext& ctx) {
  ProjectIndex* const ix = ctx.project_index;
  auto status_is = [&](const std::string& id, std::string_view rule, std::string_view verb,
                       std::initializer_list<v1::ChangeStatus> allowed) -> absl::Status {
    const v1::Change* c = FindChange(s, ix, id);
    if (absl::Status st = MustExist(ctx, c != nullptr, "change", id); !st.ok()) return st;
    if (std::find(allowed.begin(), allowed.end(), c->status()) != allowed.end()) {
      return absl::OkStatus();
    }
    return Broken(ctx, rule, absl::StrCat("change ", id, " is ", Name(c->status()), "; it can be ",
                                          std::string(verb)));
  };
  // An approval named as the decision must be about this change and have this outcome.
  auto decided_by = [&](const std::string& change_id, const std::string& approval_id,
                        v1::ApprovalOutcome want) -> absl::Status {
    if (approval_id.empty()) return absl::OkStatus();
    const v1::Approval* a = FindApproval(s, ix, approval_id);
    if (absl::Status st = MustExist(ctx, a != nullptr, "approval", approval_id); !st.ok()) return st;
    if (a->subject() != v1::APPROVAL_SUBJECT_CHANGE || a->subject_id() != change_id) {
      return Broken(ctx, "change.decided_by_its_approval",
                    absl::StrCat("approval ", approval_id, " is not about change ", change_id));
    }
    if (a->outcome() != want) {
      return Broken(ctx, "change.decided_by_its_approval",
                    absl::StrCat("approval ", approval_id, " has outcome ",
                                 v1::ApprovalOutcome_Name(a->outcome()), ", not ",
                                 v1::ApprovalOutcome_Name(want)));
    }
    return absl::OkStatus();
  };
  using C = v1::ChangeStatus;
  switch (e.event_case()) {
    case EventPayload::kChangeRequested:
      return MustBeNew(ctx, FindChange(s, ix, e.change_requested().change_id()), "change",
                       e.change_requested().change_id());
    case EventPayload::kChangeAssessed:
      return status_is(e.change_assessed().change_id(), "change.assess_while_open",
                       "assessed only while requested or assessed",
                       {C::CHANGE_STATUS_REQUESTED, C::CHANGE_STATUS_ASSESSED});
    case EventPayload::kChangeApproved: {
      const auto& a = e.change_approved();
      if (auto st = status_is(a.change_id(), "change.approve_after_request",
                              "approved only after it was requested and before a decision",
                              {C::CHANGE_STATUS_REQUESTED, C::CHANGE_STATUS_ASSESSED});
          !st.ok()) {
        return st;
      }
      return decided_by(a.change_id(), a.approval_id(), v1::APPROVAL_OUTCOME_APPROVED);
    }
    case EventPayload::kChangeRejected: {
      const auto& r = e.change_rejected();
      if (auto st = status_is(r.change_id(), "change.reject_after_request",
                              "rejected only after it was requested and before a decision",
                              {C::CHANGE_STATUS_REQUESTED, C::CHANGE_STATUS_ASSESSED});
          !st.ok()) {
        return st;
      }
      return decided_by(r.change_id(), r.approval_id(), v1::APPROVAL_OUTCOME_REJECTED);
    }
    case EventPayload::kChangeImplemented:
      return status_is(e.change_implemented().change_id(), "change.implement_after_approval",
                       "implemented only after approval", {C::CHANGE_STATUS_APPROVED});
    case EventPayload::kChangeWithdrawn:
      return status_is(e.change_withdrawn().change_id(), "change.withdraw_before_decision",
                       "withdrawn only before a decision",
                       {C::CHANGE_STATUS_REQUESTED, C::CHANGE_STATUS_ASSESSED});
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckApproval(const ProjectState& s, const EventPayload& e, const RuleContext& ctx) {
  ProjectIndex* const ix = ctx.project_index;
  switch (e.event_case()) {
    case EventPayload::kApprovalRequested: {
      const auto& r = e.approval_requested();
      if (auto st = MustBeNew(ctx, FindApproval(s, ix, r.approval_id()), "approval", r.approval_id());
          !st.ok()) {
        return st;
      }
      for (const std::string& approver : r.approvers()) {
        if (ActiveMember(s, ix, approver) == nullptr) {
          return Broken(ctx, "approval.approvers_are_members",
                        absl::StrCat("approver ", approver, " of approval ", r.approval_id(),
                                     " is not a member of this project"));
        }
      }
      switch (r.subject()) {
        case v1::APPROVAL_SUBJECT_CHANGE:
          return MustExist(ctx, FindChange(s, ix, r.subject_id()), "change", r.subject_id());
        case v1::APPROVAL_SUBJECT_DELIVERABLE:
          return MustExist(ctx, FindDeliverable(s, ix, r.subject_id()), "deliverable", r.subject_id());
        case v1::APPROVAL_SUBJECT_MILESTONE:
          return MustExist(ctx, FindMilestone(s, ix, r.subject_id()), "milestone", r.subject_id());
        default:
          return absl::OkStatus();
      }
    }
    case EventPayload::kApprovalDecided: {
      const auto& d = e.approval_decided();
      const v1::Approval* a = FindApproval(s, ix, d.approval_id());
      if (auto st = MustExist(ctx, a, "approval", d.approval_id()); !st.ok()) return st;
      if (std::find(a->approvers().begin(), a->approvers().end(), d.approver()) ==
          a->approvers().end()) {
        return Broken(ctx, "approval.listed_approvers_only",
                      absl::StrCat(d.approver(), " is not an approver of approval ",
                                   d.approval_id()));
      }
      if (d.approver() != ctx.actor) {
        return Broken(ctx, "approval.decided_by_the_approver",
                      absl::StrCat("the decision of ", d.approver(), " on approval ",
                                   d.approval_id(), " must be appended by ", d.approver(),
                                   ", not by ", ctx.actor));
      }
      for (const auto& prior : a->decisions()) {
        if (prior.approver() == d.approver()) {
          return Broken(ctx, "approval.decide_once",
                        absl::StrCat(d.approver(), " already decided approval ", d.approval_id(),
                                     " at version ", prior.decided().version()));
        }
      }
      if (a->outcome() != v1::APPROVAL_OUTCOME_UNSPECIFIED || a->completed()) {
        return Broken(ctx, "approval.open",
                      absl::StrCat("approval ", d.approval_id(), " is already decided: ",
                                   v1::ApprovalOutcome_Name(a->outcome())));
      }
      return absl::OkStatus();
    }
    case EventPayload::kApprovalCompleted: {
      const auto& c = e.approval_completed();
      const v1::Approval* a = FindApproval(s, ix, c.approval_id());
      if (auto st = MustExist(ctx, a, "approval", c.approval_id()); !st.ok()) return st;
      if (a->completed()) {
        return Broken(ctx, "approval.complete_once",
                      absl::StrCat("approval ", c.approval_id(), " was already completed"));
      }
      if (a->outcome() != c.outcome()) {
        return Broken(ctx, "approval.outcome_from_decisions",
                      absl::StrCat("approval ", c.approval_id(), " has computed outcome ",
                                   v1::ApprovalOutcome_Name(a->outcome()), " from its ",
                                   a->decisions_size(), " decisions; the event says ",
                                   v1::ApprovalOutcome_Name(c.outcome())));
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckDeliverable(const ProjectState& s, const EventPayload& e,
                              const RuleContext& ctx) {
  ProjectIndex* const ix = ctx.project_index;
  using D = v1::DeliverableStatus;
  auto client_decider = [&](const std::string& who, std::string_view rule) -> absl::Status {
    const v1::Member* m = ActiveMember(s, ix, who);
    if (m != nullptr && IsClientSide(*m)) return absl::OkStatus();
    return Broken(ctx, rule, absl::StrCat(who, " is not a client-side member of this project"));
  };
  auto after_submission = [&](const std::string& id, std::string_view verb) -> absl::Status {
    const v1::Deliverable* d = FindDeliverable(s, ix, id);
    if (auto st = MustExist(ctx, d, "deliverable", id); !st.ok()) return st;
    if (d->status() == D::DELIVERABLE_STATUS_SUBMITTED || d->status() == D::DELIVERABLE_STATUS_REVIEWED) {
      return absl::OkStatus();
    }
    return Broken(ctx, absl::StrCat("deliverable.", std::string(verb), "_after_submission"),
                  absl::StrCat("deliverable ", id, " is ", v1::DeliverableStatus_Name(d->status()),
                               "; it can be ", std::string(verb), "ed only after a submission"));
  };
  switch (e.event_case()) {
    case EventPayload::kDeliverableSubmitted: {
      const v1::Deliverable* d = FindDeliverable(s, ix, e.deliverable_submitted().deliverable_id());
      if (d != nullptr && d->status() == D::DELIVERABLE_STATUS_ACCEPTED) {
        return Broken(ctx, "deliverable.accepted_is_final",
                      absl::StrCat("deliverable ", d->deliverable_id(), " was already accepted"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kQualityReviewed:
      return after_submission(e.quality_reviewed().deliverable_id(), "review");
    case EventPayload::kDeliverableAccepted:
      if (auto st = after_submission(e.deliverable_accepted().deliverable_id(), "accept"); !st.ok()) {
        return st;
      }
      return client_decider(e.deliverable_accepted().accepted_by(), "deliverable.accepted_by_client");
    case EventPayload::kDeliverableRejected:
      if (auto st = after_submission(e.deliverable_rejected().deliverable_id(), "reject"); !st.ok()) {
        return st;
      }
      return client_decider(e.deliverable_rejected().rejected_by(), "deliverable.rejected_by_client");
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckPlanAndRegisters(const ProjectState& s, const EventPayload& e,
                                   const RuleContext& ctx) {
  ProjectIndex* const ix = ctx.project_index;
  auto open_client_action = [&](const std::string& id) -> absl::Status {
    const v1::ClientAction* a = FindClientAction(s, ix, id);
    if (auto st = MustExist(ctx, a, "client action", id); !st.ok()) return st;
    if (a->status() == v1::CLIENT_ACTION_STATUS_DONE) {
      return Broken(ctx, "client_action.open",
                    absl::StrCat("client action ", id, " is already done"));
    }
    return absl::OkStatus();
  };
  auto open_task = [&](const std::string& id) -> absl::Status {
    const v1::Task* t = FindTask(s, ix, id);
    if (auto st = MustExist(ctx, t, "task", id); !st.ok()) return st;
    if (t->status() == v1::TASK_STATUS_DONE) {
      return Broken(ctx, "task.open", absl::StrCat("task ", id, " is already done"));
    }
    return absl::OkStatus();
  };
  auto planned_milestone = [&](const std::string& id, std::string_view verb) -> absl::Status {
    const v1::Milestone* m = FindMilestone(s, ix, id);
    if (auto st = MustExist(ctx, m, "milestone", id); !st.ok()) return st;
    if (m->status() == v1::MILESTONE_STATUS_REACHED) {
      return Broken(ctx, "milestone.reached_is_final",
                    absl::StrCat("milestone ", id, " was already reached; it cannot be ",
                                 std::string(verb)));
    }
    return absl::OkStatus();
  };
  auto open_risk = [&](const std::string& id) -> absl::Status {
    const v1::Risk* r = FindRisk(s, ix, id);
    if (auto st = MustExist(ctx, r, "risk", id); !st.ok()) return st;
    if (r->status() == v1::RISK_STATUS_CLOSED) {
      return Broken(ctx, "risk.open", absl::StrCat("risk ", id, " is closed"));
    }
    return absl::OkStatus();
  };
  auto member = [&](const std::string& principal, std::string_view rule) -> absl::Status {
    if (ActiveMember(s, ix, principal) != nullptr) return absl::OkStatus();
    return Broken(ctx, rule, absl::StrCat(principal, " is not a member of this project"));
  };

  switch (e.event_case()) {
    case EventPayload::kScopeItemAdded:
      return MustBeNew(ctx, Find(s.charter().scope(), e.scope_item_added().scope_item_id(),
                                 ID_OF(ScopeItem, scope_item_id)),
                       "scope item", e.scope_item_added().scope_item_id());
    case EventPayload::kScopeItemRemoved: {
      const auto* item = Find(s.charter().scope(), e.scope_item_removed().scope_item_id(),
                              ID_OF(ScopeItem, scope_item_id));
      if (auto st = MustExist(ctx, item, "scope item", e.scope_item_removed().scope_item_id());
          !st.ok()) {
        return st;
      }
      if (item->removed()) {
        return Broken(ctx, "scope.remove_once",
                      absl::StrCat("scope item ", item->scope_item_id(), " was already removed"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kCharterConfirmed: {
      const auto& c = e.charter_confirmed();
      const v1::Member* m = ActiveMember(s, ix, c.confirmed_by());
      if (m == nullptr || !IsClientSide(*m)) {
        return Broken(ctx, "charter.confirmed_by_client",
                      absl::StrCat(c.confirmed_by(), " is not a client-side member of this project"));
      }
      if (!c.approval_id().empty()) {
        const v1::Approval* a = FindApproval(s, ix, c.approval_id());
        if (auto st = MustExist(ctx, a, "approval", c.approval_id()); !st.ok()) return st;
        if (a->outcome() != v1::APPROVAL_OUTCOME_APPROVED) {
          return Broken(ctx, "charter.approved_first",
                        absl::StrCat("approval ", c.approval_id(), " is not approved"));
        }
      }
      return absl::OkStatus();
    }
    case EventPayload::kMemberAdded:
      if (ActiveMember(s, ix, e.member_added().principal()) != nullptr) {
        return Broken(ctx, "member.unique",
                      absl::StrCat(e.member_added().principal(), " is already a member"));
      }
      return absl::OkStatus();
    case EventPayload::kMemberRoleChanged:
      return member(e.member_role_changed().principal(), "member.exists");
    case EventPayload::kMemberRemoved:
      return member(e.member_removed().principal(), "member.exists");
    case EventPayload::kMilestonePlanned:
      return MustBeNew(ctx, FindMilestone(s, ix, e.milestone_planned().milestone_id()), "milestone",
                       e.milestone_planned().milestone_id());
    case EventPayload::kMilestoneRescheduled:
      return planned_milestone(e.milestone_rescheduled().milestone_id(), "rescheduled");
    case EventPayload::kMilestoneReached:
      return planned_milestone(e.milestone_reached().milestone_id(), "reached again");
    case EventPayload::kMilestoneMissed:
      return planned_milestone(e.milestone_missed().milestone_id(), "missed");
    case EventPayload::kTaskPlanned: {
      const auto& t = e.task_planned();
      if (auto st = MustBeNew(ctx, FindTask(s, ix, t.task_id()), "task", t.task_id()); !st.ok()) return st;
      for (const std::string& dep : t.depends_on()) {
        if (auto st = MustExist(ctx, FindTask(s, ix, dep), "task", dep); !st.ok()) return st;
      }
      return MustExist(ctx, FindMilestone(s, ix, t.milestone_id()), "milestone", t.milestone_id(), true);
    }
    case EventPayload::kTaskProgressReported:
      return open_task(e.task_progress_reported().task_id());
    case EventPayload::kTaskCompleted:
      return open_task(e.task_completed().task_id());
    case EventPayload::kTaskBlocked:
      return open_task(e.task_blocked().task_id());
    case EventPayload::kResponsibilityAssigned: {
      const auto& r = e.responsibility_assigned();
      if (auto st = MustExist(ctx, ItemExists(s, ix, r.item_id()), "item", r.item_id()); !st.ok()) return st;
      return member(r.principal(), "responsibility.assigned_to_member");
    }
    case EventPayload::kActionItemAssigned: {
      const auto& a = e.action_item_assigned();
      if (auto st = MustBeNew(ctx, FindActionItem(s, ix, a.action_item_id()), "action item", a.action_item_id());
          !st.ok()) {
        return st;
      }
      return MustExist(ctx, Find(s.meetings(), a.meeting_id(), ID_OF(Meeting, meeting_id)), "meeting",
                       a.meeting_id(), true);
    }
    case EventPayload::kActionItemCompleted: {
      const v1::ActionItem* a = FindActionItem(s, ix, e.action_item_completed().action_item_id());
      if (auto st = MustExist(ctx, a, "action item", e.action_item_completed().action_item_id()); !st.ok()) {
        return st;
      }
      if (a->done()) {
        return Broken(ctx, "action_item.open",
                      absl::StrCat("action item ", a->action_item_id(), " is already done"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kRiskIdentified:
      return MustBeNew(ctx, FindRisk(s, ix, e.risk_identified().risk_id()), "risk",
                       e.risk_identified().risk_id());
    case EventPayload::kRiskAssessed:
      return open_risk(e.risk_assessed().risk_id());
    case EventPayload::kRiskResponsePlanned:
      return open_risk(e.risk_response_planned().risk_id());
    case EventPayload::kRiskOccurred:
      return open_risk(e.risk_occurred().risk_id());
    case EventPayload::kRiskClosed:
      return open_risk(e.risk_closed().risk_id());
    case EventPayload::kIssueRaised: {
      const auto& i = e.issue_raised();
      if (auto st = MustBeNew(ctx, FindIssue(s, ix, i.issue_id()), "issue", i.issue_id()); !st.ok()) return st;
      return MustExist(ctx, FindRisk(s, ix, i.risk_id()), "risk", i.risk_id(), true);
    }
    case EventPayload::kIssueResolved: {
      const v1::Issue* i = FindIssue(s, ix, e.issue_resolved().issue_id());
      if (auto st = MustExist(ctx, i, "issue", e.issue_resolved().issue_id()); !st.ok()) return st;
      if (i->resolved()) {
        return Broken(ctx, "issue.open", absl::StrCat("issue ", i->issue_id(), " is already resolved"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kClientActionRequested:
      return MustBeNew(ctx, FindClientAction(s, ix, e.client_action_requested().action_id()),
                       "client action", e.client_action_requested().action_id());
    case EventPayload::kClientReminderSent:
      return open_client_action(e.client_reminder_sent().action_id());
    case EventPayload::kClientActionEscalated:
      return open_client_action(e.client_action_escalated().action_id());
    case EventPayload::kClientActionCompleted:
      return open_client_action(e.client_action_completed().action_id());
    case EventPayload::kFeedbackReceived:
      return MustBeNew(ctx, Find(s.feedback(), e.feedback_received().feedback_id(),
                                 ID_OF(FeedbackItem, feedback_id)),
                       "feedback", e.feedback_received().feedback_id());
    case EventPayload::kSatisfactionSurveyed:
      return MustBeNew(ctx, Find(s.surveys(), e.satisfaction_surveyed().survey_id(),
                                 ID_OF(SurveyResult, survey_id)),
                       "survey", e.satisfaction_surveyed().survey_id());
    case EventPayload::kIncentiveSet: {
      const auto& i = e.incentive_set();
      if (auto st = MustBeNew(ctx, Find(s.incentives(), i.incentive_id(), ID_OF(Incentive, incentive_id)),
                              "incentive", i.incentive_id());
          !st.ok()) {
        return st;
      }
      return MustExist(ctx, FindMilestone(s, ix, i.milestone_id()), "milestone", i.milestone_id(), true);
    }
    case EventPayload::kIncentiveEarned: {
      const auto* i = Find(s.incentives(), e.incentive_earned().incentive_id(),
                           ID_OF(Incentive, incentive_id));
      if (auto st = MustExist(ctx, i, "incentive", e.incentive_earned().incentive_id()); !st.ok()) {
        return st;
      }
      if (i->earned()) {
        return Broken(ctx, "incentive.earn_once",
                      absl::StrCat("incentive ", i->incentive_id(), " was already earned"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kLessonRecorded:
      return MustBeNew(ctx, Find(s.lessons(), e.lesson_recorded().lesson_id(), ID_OF(Lesson, lesson_id)),
                       "lesson", e.lesson_recorded().lesson_id());
    case EventPayload::kDocumentShared:
      return absl::OkStatus();  // A new version of a document may be shared again.
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckCorrection(const ProjectState& s, const EventPayload& e, const RuleContext& ctx) {
  const bool retraction = e.event_case() == EventPayload::kEventRetracted;
  const std::string& target = *CorrectionTarget(e);
  std::optional<std::string> type = ctx.event_type_of ? (*ctx.event_type_of)(target) : std::nullopt;
  if (!type.has_value()) {
    return Broken(ctx, "correction.names_an_event",
                  absl::StrCat("event ", target, " does not exist in this project"));
  }
  if (*type == "event_retracted" || *type == "event_corrected" || *type == "project_created") {
    return Broken(ctx, "correction.names_an_event",
                  absl::StrCat("event ", target, " is a ", *type, ", which cannot be ",
                               retraction ? "retracted" : "corrected"));
  }
  for (const auto& c : s.corrections()) {
    if (c.event_id() == target && c.retracted()) {
      return Broken(ctx, "correction.not_retracted",
                    absl::StrCat("event ", target, " was already retracted at version ", c.by_version()));
    }
  }
  if (!retraction) {
    const std::string replacement = EventPayload::descriptor()
                                        ->FindFieldByNumber(e.event_corrected().replacement().event_case())
                                        ->name();
    if (replacement != *type) {
      return Broken(ctx, "correction.same_type",
                    absl::StrCat("event ", target, " is a ", *type, "; its replacement is a ",
                                 replacement));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRules(const ProjectState& state, const EventPayload& event,
                        const RuleContext& ctx) {
  const auto type = event.event_case();
  // Lifecycle of the project itself.
  if (type == EventPayload::kProjectCreated) {
    if (state.version() > 0) {
      return Broken(ctx, "project.created_first",
                    absl::StrCat("project_created must be a project's first event; this project "
                                 "is at version ", state.version()));
    }
    return absl::OkStatus();
  }
  if (state.status() == v1::LIFECYCLE_STATUS_CLOSED &&
      type != EventPayload::kLessonRecorded && type != EventPayload::kFeedbackReceived &&
      type != EventPayload::kSatisfactionSurveyed) {
    return Broken(ctx, "project.closed",
                  "the project is closed; it takes only lesson_recorded, feedback_received and "
                  "satisfaction_surveyed");
  }
  switch (type) {
    case EventPayload::kProjectPaused:
      if (state.status() == v1::LIFECYCLE_STATUS_PAUSED) {
        return Broken(ctx, "project.pause_when_active", "the project is already paused");
      }
      return absl::OkStatus();
    case EventPayload::kProjectResumed:
      if (state.status() != v1::LIFECYCLE_STATUS_PAUSED) {
        return Broken(ctx, "project.resume_when_paused", "the project is not paused");
      }
      return absl::OkStatus();
    case EventPayload::kEventRetracted:
    case EventPayload::kEventCorrected:
      return CheckCorrection(state, event, ctx);
    default:
      break;
  }
  if (auto st = CheckChange(state, event, ctx); !st.ok()) return st;
  if (auto st = CheckApproval(state, event, ctx); !st.ok()) return st;
  if (auto st = CheckDeliverable(state, event, ctx); !st.ok()) return st;
  return CheckPlanAndRegisters(state, event, ctx);
}

}  // namespace accord::domain
