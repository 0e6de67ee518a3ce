// HistoryGenerator: builds random candidate events referencing what the project already
// holds, and keeps only those the server would accept. The projected state is the
// generator's model of ids (tasks, risks, approvals and their approvers, ...): reading
// ids from the state rather than from a list kept on the side means a retraction that
// makes an item vanish can never leave the generator referencing it.
#include "tests/server/history_generator.h"

#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "server/domain/event_validation.h"
#include "server/domain/project_projection.h"
#include "server/domain/rules.h"

namespace accord::testing {
namespace {

namespace v1 = accord::v1;
using google::protobuf::RepeatedPtrField;
using v1::EventPayload;

// Events after the opening ones (project_created + four members) may be retracted or
// corrected; the opening stays so every history keeps its cast.
constexpr size_t kOpeningEvents = 5;
constexpr int kAttemptsPerEvent = 60;

class Generator {
 public:
  Generator(uint64_t seed, const HistoryOptions& options) : rng_(seed), options_(options) {}

  std::vector<GeneratedEvent> Run() {
    Open();
    const bool close = Chance(options_.close_chance);
    // Closing leaves room for a short tail of what a closed project still takes.
    const size_t main_length =
        static_cast<size_t>(options_.length) - (close ? static_cast<size_t>(Uniform(3, 6)) : 0);
    const int max_attempts = options_.length * kAttemptsPerEvent;
    for (int attempt = 0; attempt < max_attempts && out_.size() < main_length; ++attempt) {
      TryOne(PickMainType());
    }
    if (close) {
      for (int attempt = 0; attempt < 50 && state_.status() != v1::LIFECYCLE_STATUS_CLOSED;
           ++attempt) {
        TryOne(EventPayload::kProjectClosed);
      }
      for (int attempt = 0; attempt < max_attempts &&
                            out_.size() < static_cast<size_t>(options_.length);
           ++attempt) {
        static constexpr EventPayload::EventCase kAfterClose[] = {
            EventPayload::kLessonRecorded, EventPayload::kFeedbackReceived,
            EventPayload::kSatisfactionSurveyed};
        TryOne(kAfterClose[Uniform(0, 2)]);
      }
    }
    return std::move(out_);
  }

 private:
  // --- randomness -----------------------------------------------------------------------
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Uniform(0, static_cast<int>(v.size()) - 1)]; }
  // The item of `items` for which `pred` holds, chosen at random; nullptr when none does.
  template <typename T, typename Pred>
  const T* PickWhere(const RepeatedPtrField<T>& items, Pred pred) {
    std::vector<const T*> fit;
    for (const T& item : items) {
      if (pred(item)) fit.push_back(&item);
    }
    return fit.empty() ? nullptr : Pick(fit);
  }
  template <typename T>
  const T* PickAny(const RepeatedPtrField<T>& items) {
    return PickWhere(items, [](const T&) { return true; });
  }

  std::string NewId(std::string_view prefix) {
    return absl::StrCat(std::string(prefix), "-", ++next_id_);
  }
  // A version 4 UUID drawn from the seeded generator, so histories are reproducible.
  std::string NewEventId() {
    const uint64_t a = (rng_() & ~0xF000ull) | 0x4000ull;
    const uint64_t b = (rng_() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
    return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                           b >> 48, b & 0xFFFFFFFFFFFFull);
  }
  std::string Date() { return absl::StrFormat("2026-%02d-%02d", Uniform(1, 12), Uniform(1, 28)); }
  std::string MaybeDate() { return Chance(0.3) ? "" : Date(); }
  // Two dates, the second not before the first.
  std::pair<std::string, std::string> DateRange() {
    const int m = Uniform(1, 11), d = Uniform(1, 28);
    return {absl::StrFormat("2026-%02d-%02d", m, d),
            absl::StrFormat("2026-%02d-%02d", Uniform(m + 1, 12), Uniform(1, 28))};
  }
  std::string Text(std::string_view what) { return absl::StrCat(std::string(what), " ", Uniform(0, 9999)); }
  v1::Money Money() {
    v1::Money m;
    m.set_currency_code(Chance(0.8) ? "EUR" : "USD");
    m.set_amount_minor(Uniform(1, 5000) * 100);
    return m;
  }
  std::string Sha256Hex() {
    std::string hex;
    for (int i = 0; i < 4; ++i) hex += absl::StrFormat("%016x", rng_());
    return hex;
  }
  v1::Health Health() { return static_cast<v1::Health>(Uniform(1, 3)); }

  // --- members --------------------------------------------------------------------------
  static bool IsClientSide(const v1::Member& m) {
    return m.party() == v1::PARTY_CLIENT || m.role() == v1::MEMBER_ROLE_CLIENT_CONTACT ||
           m.role() == v1::MEMBER_ROLE_CLIENT_SPONSOR;
  }
  std::string ActiveMember() {
    const v1::Member* m = PickWhere(state_.members(), [](const v1::Member& m) { return !m.removed(); });
    return m != nullptr ? m->principal() : kManager;
  }
  // A client-side member, or empty when there is none.
  std::string ClientMember() {
    const v1::Member* m = PickWhere(state_.members(), [](const v1::Member& m) {
      return !m.removed() && IsClientSide(m);
    });
    return m != nullptr ? m->principal() : "";
  }
  void AddMember(EventPayload* p, const std::string& principal, v1::MemberRole role, v1::Party party) {
    auto* m = p->mutable_member_added();
    m->set_principal(principal);
    m->set_display_name(absl::StrCat("Member ", principal));
    m->set_role(role);
    m->set_party(party);
  }

  // --- appending ------------------------------------------------------------------------
  void Open() {
    EventPayload p;
    auto* c = p.mutable_project_created();
    c->set_name(Text("Project"));
    c->set_client_org(Text("Client"));
    c->set_description("A generated project");
    const auto [start, end] = DateRange();
    c->set_start_date(start);
    c->set_target_end_date(end);
    static const std::vector<std::string> kZones = {"", "UTC", "Asia/Shanghai", "Europe/Berlin",
                                                    "America/New_York"};
    c->set_time_zone(Pick(kZones));
    c->set_manager(kManager);
    TryAppend(p, kManager);
    const struct { const char* who; v1::MemberRole role; v1::Party party; } kCast[] = {
        {kManager, v1::MEMBER_ROLE_MANAGER, v1::PARTY_TEAM},
        {kTeamMember, v1::MEMBER_ROLE_MEMBER, v1::PARTY_TEAM},
        {kSponsor, v1::MEMBER_ROLE_CLIENT_SPONSOR, v1::PARTY_CLIENT},
        {kContact, v1::MEMBER_ROLE_CLIENT_CONTACT, v1::PARTY_CLIENT}};
    for (const auto& member : kCast) {
      EventPayload m;
      AddMember(&m, member.who, member.role, member.party);
      TryAppend(m, kManager);
    }
  }

  // Any type but the opening and the closing; a paused project is usually resumed soon.
  EventPayload::EventCase PickMainType() {
    if (state_.status() == v1::LIFECYCLE_STATUS_PAUSED && Chance(0.3)) {
      return EventPayload::kProjectResumed;
    }
    const auto* oneof = EventPayload::descriptor()->FindOneofByName("event");
    while (true) {
      const int number = oneof->field(Uniform(0, oneof->field_count() - 1))->number();
      const auto type = static_cast<EventPayload::EventCase>(number);
      if (type == EventPayload::kProjectCreated || type == EventPayload::kProjectClosed) continue;
      if (type == EventPayload::kProjectPaused && !Chance(0.3)) continue;
      return type;
    }
  }

  void TryOne(EventPayload::EventCase type) {
    EventPayload payload;
    std::string actor = kManager;
    if (Build(type, &payload, &actor)) TryAppend(payload, actor);
  }

  // Keeps the event when the server would accept it, and advances the state as the
  // server's rules guard does: event by event, with a full replay after a correction.
  bool TryAppend(const EventPayload& payload, const std::string& actor) {
    if (!domain::ValidatePayload(payload, "payload").ok()) return false;
    domain::RuleContext context;
    context.actor = actor;
    context.path = "events[0]";
    auto event_type_of = [this](const std::string& id) -> std::optional<std::string> {
      auto it = type_of_.find(id);
      if (it == type_of_.end()) return std::nullopt;
      return it->second;
    };
    context.event_type_of.emplace(event_type_of);
    if (!domain::CheckRules(state_, payload, context).ok()) return false;

    GeneratedEvent generated;
    generated.proposed.set_event_id(NewEventId());
    *generated.proposed.mutable_payload() = payload;
    generated.actor = actor;

    v1::RecordedEvent recorded;
    recorded.set_project_id("generated");
    recorded.set_version(recorded_.size() + 1);
    recorded.set_event_id(generated.proposed.event_id());
    recorded.set_event_type(domain::EventTypeOf(payload));
    recorded.mutable_actor()->set_principal(actor);
    recorded.mutable_recorded_at()->set_seconds(1780000000 + 3600 * recorded.version());
    *recorded.mutable_payload() = payload;
    type_of_[recorded.event_id()] = recorded.event_type();
    recorded_.push_back(recorded);
    if (domain::NeedsReplay(recorded)) {
      state_ = domain::Replay(recorded_);
    } else {
      domain::ApplyEvent(recorded, &state_);
    }
    out_.push_back(std::move(generated));
    return true;
  }

  // --- payloads -------------------------------------------------------------------------
  // Fills `p` with a candidate of `type` (and `actor` when it is not the manager); false
  // when the project holds nothing such an event could reference.
  bool Build(EventPayload::EventCase type, EventPayload* p, std::string* actor);
  bool BuildCorrection(bool retraction, EventPayload* p);
  EventPayload Replacement(const EventPayload& original);
  // Ids of every item a responsibility may be assigned for.
  std::vector<std::string> ItemIds() const;

  std::mt19937_64 rng_;
  HistoryOptions options_;
  int next_id_ = 0;
  v1::ProjectState state_;
  std::vector<v1::RecordedEvent> recorded_;
  absl::flat_hash_map<std::string, std::string> type_of_;  // Event id -> event type.
  std::vector<GeneratedEvent> out_;
};

std::vector<std::string> Generator::ItemIds() const {
  std::vector<std::string> ids;
  for (const auto& x : state_.tasks()) ids.push_back(x.task_id());
  for (const auto& x : state_.milestones()) ids.push_back(x.milestone_id());
  for (const auto& x : state_.deliverables()) ids.push_back(x.deliverable_id());
  for (const auto& x : state_.changes()) ids.push_back(x.change_id());
  for (const auto& x : state_.risks()) ids.push_back(x.risk_id());
  for (const auto& x : state_.issues()) ids.push_back(x.issue_id());
  for (const auto& x : state_.approvals()) ids.push_back(x.approval_id());
  for (const auto& x : state_.client_actions()) ids.push_back(x.action_id());
  for (const auto& x : state_.action_items()) ids.push_back(x.action_item_id());
  for (const auto& x : state_.charter().goals()) ids.push_back(x.goal_id());
  for (const auto& x : state_.charter().scope()) ids.push_back(x.scope_item_id());
  return ids;
}

bool Generator::Build(EventPayload::EventCase type, EventPayload* p, std::string* actor) {
  using E = EventPayload;
  using C = v1::ChangeStatus;
  const auto open_change = [](const v1::Change& c) {
    return c.status() == C::CHANGE_STATUS_REQUESTED || c.status() == C::CHANGE_STATUS_ASSESSED;
  };
  const auto open_task = [](const v1::Task& t) { return t.status() != v1::TASK_STATUS_DONE; };
  const auto open_milestone = [](const v1::Milestone& m) {
    return m.status() != v1::MILESTONE_STATUS_REACHED;
  };
  const auto open_risk = [](const v1::Risk& r) { return r.status() != v1::RISK_STATUS_CLOSED; };
  const auto open_client_action = [](const v1::ClientAction& a) {
    return a.status() != v1::CLIENT_ACTION_STATUS_DONE;
  };
  const auto submitted = [](const v1::Deliverable& d) {
    return d.status() == v1::DELIVERABLE_STATUS_SUBMITTED ||
           d.status() == v1::DELIVERABLE_STATUS_REVIEWED;
  };
  // An approval of `subject_id` with `outcome`, or empty (an approval is optional there).
  const auto deciding_approval = [&](v1::ApprovalSubject subject, const std::string& subject_id,
                                     v1::ApprovalOutcome outcome) -> std::string {
    const v1::Approval* a = PickWhere(state_.approvals(), [&](const v1::Approval& a) {
      return a.subject() == subject && (subject_id.empty() || a.subject_id() == subject_id) &&
             a.outcome() == outcome;
    });
    return a != nullptr && Chance(0.8) ? a->approval_id() : "";
  };

  switch (type) {
    case E::kProjectCreated:
      return false;  // Only as the opening event.
    case E::kStatusUpdated: {
      auto* e = p->mutable_status_updated();
      e->set_health(Health());
      if (Chance(0.5)) e->set_schedule(Health());
      if (Chance(0.5)) e->set_cost(Health());
      if (Chance(0.5)) e->set_quality(Health());
      e->set_percent_complete(Uniform(0, 100));
      e->set_summary(Text("Status"));
      e->set_period(absl::StrFormat("2026-W%02d", Uniform(1, 52)));
      return true;
    }
    case E::kChangeRequested: {
      auto* e = p->mutable_change_requested();
      e->set_change_id(NewId("CR"));
      e->set_title(Text("Change"));
      e->set_description(Text("Because"));
      e->set_reason(Text("Reason"));
      e->set_requested_by(static_cast<v1::Party>(Uniform(1, 2)));
      e->set_scope_impact(Text("Scope"));
      return true;
    }
    case E::kApprovalDecided: {
      const v1::Approval* a = PickWhere(state_.approvals(), [](const v1::Approval& a) {
        return a.outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED && !a.completed();
      });
      if (a == nullptr) return false;
      std::vector<std::string> undecided;
      for (const std::string& approver : a->approvers()) {
        bool decided = false;
        for (const auto& d : a->decisions()) decided |= d.approver() == approver;
        if (!decided) undecided.push_back(approver);
      }
      if (undecided.empty()) return false;
      auto* e = p->mutable_approval_decided();
      e->set_approval_id(a->approval_id());
      e->set_approver(Pick(undecided));
      e->set_decision(Chance(0.7) ? v1::DECISION_APPROVE : v1::DECISION_REJECT);
      e->set_comment(Text("Decided"));
      *actor = e->approver();  // Only the approver may append their decision.
      return true;
    }
    case E::kFeedbackReceived: {
      auto* e = p->mutable_feedback_received();
      e->set_feedback_id(NewId("FB"));
      e->set_channel(Chance(0.5) ? "email" : "meeting");
      e->set_sentiment(static_cast<v1::Sentiment>(Uniform(0, 3)));
      e->set_text(Text("Feedback"));
      e->set_subject(Text("About"));
      e->set_from(kSponsor);
      *actor = Chance(0.5) ? kSponsor : kManager;
      return true;
    }
    case E::kGoalSet: {
      auto* e = p->mutable_goal_set();
      const v1::Goal* existing = Chance(0.3) ? PickAny(state_.charter().goals()) : nullptr;
      e->set_goal_id(existing != nullptr ? existing->goal_id() : NewId("G"));
      e->set_title(Text("Goal"));
      e->set_metric(Text("Metric"));
      e->set_target(absl::StrCat("+", Uniform(1, 50), "%"));
      e->set_deadline(MaybeDate());
      return true;
    }
    case E::kScopeItemAdded: {
      auto* e = p->mutable_scope_item_added();
      e->set_scope_item_id(NewId("S"));
      e->set_description(Text("Scope item"));
      e->set_kind(static_cast<v1::ScopeKind>(Uniform(1, 2)));
      return true;
    }
    case E::kScopeItemRemoved: {
      const v1::ScopeItem* s =
          PickWhere(state_.charter().scope(), [](const v1::ScopeItem& s) { return !s.removed(); });
      if (s == nullptr) return false;
      p->mutable_scope_item_removed()->set_scope_item_id(s->scope_item_id());
      p->mutable_scope_item_removed()->set_reason(Text("Dropped"));
      return true;
    }
    case E::kCharterConfirmed: {
      const std::string who = ClientMember();
      if (who.empty()) return false;
      auto* e = p->mutable_charter_confirmed();
      e->set_confirmed_by(who);
      e->set_comment(Text("Signed"));
      e->set_approval_id(deciding_approval(v1::APPROVAL_SUBJECT_CHARTER, "", v1::APPROVAL_OUTCOME_APPROVED));
      *actor = who;
      return true;
    }
    case E::kMemberAdded: {
      // A newcomer, or a removed member coming back.
      const v1::Member* back = PickWhere(state_.members(), [](const v1::Member& m) { return m.removed(); });
      const std::string who = back != nullptr && Chance(0.5) ? back->principal() : NewId("guest");
      const auto role = static_cast<v1::MemberRole>(Uniform(1, 5));
      const bool client = role == v1::MEMBER_ROLE_CLIENT_CONTACT || role == v1::MEMBER_ROLE_CLIENT_SPONSOR;
      AddMember(p, who, role, client ? v1::PARTY_CLIENT : v1::PARTY_TEAM);
      return true;
    }
    case E::kMemberRoleChanged: {
      auto* e = p->mutable_member_role_changed();
      e->set_principal(ActiveMember());
      e->set_role(static_cast<v1::MemberRole>(Uniform(1, 5)));
      return true;
    }
    case E::kMemberRemoved: {
      // Only guests leave, so the opening cast can always decide and accept.
      const v1::Member* m = PickWhere(state_.members(), [](const v1::Member& m) {
        return !m.removed() && m.principal().rfind("guest-", 0) == 0;
      });
      if (m == nullptr) return false;
      p->mutable_member_removed()->set_principal(m->principal());
      p->mutable_member_removed()->set_reason(Text("Left"));
      return true;
    }
    case E::kMilestonePlanned: {
      auto* e = p->mutable_milestone_planned();
      e->set_milestone_id(NewId("M"));
      e->set_title(Text("Milestone"));
      e->set_due_date(Date());
      e->set_description(Text("Milestone description"));
      return true;
    }
    case E::kMilestoneRescheduled: {
      const v1::Milestone* m = PickWhere(state_.milestones(), open_milestone);
      if (m == nullptr) return false;
      auto* e = p->mutable_milestone_rescheduled();
      e->set_milestone_id(m->milestone_id());
      e->set_new_due_date(Date());
      e->set_reason(Text("Slipped"));
      return true;
    }
    case E::kMilestoneReached: {
      const v1::Milestone* m = PickWhere(state_.milestones(), open_milestone);
      if (m == nullptr) return false;
      p->mutable_milestone_reached()->set_milestone_id(m->milestone_id());
      p->mutable_milestone_reached()->set_reached_on(MaybeDate());
      return true;
    }
    case E::kMilestoneMissed: {
      const v1::Milestone* m = PickWhere(state_.milestones(), open_milestone);
      if (m == nullptr) return false;
      auto* e = p->mutable_milestone_missed();
      e->set_milestone_id(m->milestone_id());
      e->set_reason(Text("Missed"));
      e->set_new_due_date(MaybeDate());
      return true;
    }
    case E::kTaskPlanned: {
      auto* e = p->mutable_task_planned();
      e->set_task_id(NewId("T"));
      e->set_title(Text("Task"));
      e->set_owner(ActiveMember());
      const auto [start, due] = DateRange();
      e->set_start_date(start);
      e->set_due_date(due);
      for (int i = Uniform(0, 2); i > 0; --i) {
        if (const v1::Task* dep = PickAny(state_.tasks())) e->add_depends_on(dep->task_id());
      }
      e->set_estimate_hours(Uniform(0, 200));
      if (const v1::Milestone* m = PickAny(state_.milestones()); m != nullptr && Chance(0.6)) {
        e->set_milestone_id(m->milestone_id());
      }
      return true;
    }
    case E::kTaskProgressReported: {
      const v1::Task* t = PickWhere(state_.tasks(), open_task);
      if (t == nullptr) return false;
      auto* e = p->mutable_task_progress_reported();
      e->set_task_id(t->task_id());
      e->set_percent_complete(Uniform(0, 99));
      e->set_hours_spent(Uniform(0, 300));
      e->set_note(Text("Progress"));
      *actor = kTeamMember;
      return true;
    }
    case E::kTaskCompleted: {
      const v1::Task* t = PickWhere(state_.tasks(), open_task);
      if (t == nullptr) return false;
      p->mutable_task_completed()->set_task_id(t->task_id());
      p->mutable_task_completed()->set_completed_on(MaybeDate());
      *actor = kTeamMember;
      return true;
    }
    case E::kTaskBlocked: {
      const v1::Task* t = PickWhere(state_.tasks(), open_task);
      if (t == nullptr) return false;
      p->mutable_task_blocked()->set_task_id(t->task_id());
      p->mutable_task_blocked()->set_reason(Text("Waiting"));
      *actor = kTeamMember;
      return true;
    }
    case E::kResourceAllocated: {
      auto* e = p->mutable_resource_allocated();
      const v1::Resource* existing = Chance(0.3) ? PickAny(state_.resources()) : nullptr;
      e->set_resource_id(existing != nullptr ? existing->resource_id() : NewId("R"));
      e->set_name(Text("Resource"));
      e->set_role("engineer");
      e->set_allocation_percent(Uniform(0, 100));
      const auto [start, end] = DateRange();
      e->set_start_date(start);
      e->set_end_date(end);
      return true;
    }
    case E::kBudgetSet: {
      static const std::vector<std::string> kCategories = {"labour", "travel", "licences"};
      auto* e = p->mutable_budget_set();
      e->set_category(Pick(kCategories));
      *e->mutable_amount() = Money();
      e->set_note(Text("Budget"));
      return true;
    }
    case E::kCostRecorded: {
      static const std::vector<std::string> kCategories = {"labour", "travel", "licences", "misc"};
      auto* e = p->mutable_cost_recorded();
      e->set_cost_id(NewId("C"));
      e->set_category(Pick(kCategories));
      *e->mutable_amount() = Money();
      e->set_incurred_on(MaybeDate());
      e->set_description(Text("Cost"));
      return true;
    }
    case E::kResponsibilityAssigned: {
      const std::vector<std::string> items = ItemIds();
      if (items.empty()) return false;
      auto* e = p->mutable_responsibility_assigned();
      e->set_item_id(Pick(items));
      e->set_principal(ActiveMember());
      e->set_raci(static_cast<v1::Raci>(Uniform(1, 4)));
      return true;
    }
    case E::kCommunicationPlanSet: {
      auto* e = p->mutable_communication_plan_set();
      for (int i = Uniform(1, 3); i > 0; --i) {
        auto* entry = e->add_entries();
        entry->set_audience(Text("Audience"));
        entry->set_channel(Chance(0.5) ? "weekly call" : "email");
        entry->set_cadence(Chance(0.5) ? "weekly" : "monthly");
        entry->set_owner(ActiveMember());
      }
      return true;
    }
    case E::kMeetingHeld: {
      auto* e = p->mutable_meeting_held();
      e->set_meeting_id(NewId("MT"));
      e->set_title(Text("Meeting"));
      // No held_at: ValidatePayload throws std::out_of_range on any google.protobuf
      // message field (its rule table holds accord.v1 messages only), so a set held_at
      // cannot be validated today. Set it here once that is fixed.
      for (int i = Uniform(1, 3); i > 0; --i) e->add_attendees(ActiveMember());
      e->set_minutes(Text("Minutes"));
      if (Chance(0.5)) e->add_decisions(Text("Decision"));
      return true;
    }
    case E::kActionItemAssigned: {
      auto* e = p->mutable_action_item_assigned();
      e->set_action_item_id(NewId("AI"));
      e->set_title(Text("Follow up"));
      const bool client = Chance(0.4);
      e->set_owner(client ? kContact : ActiveMember());
      e->set_owner_party(client ? v1::PARTY_CLIENT : v1::PARTY_TEAM);
      e->set_due_date(MaybeDate());
      if (const v1::Meeting* m = PickAny(state_.meetings()); m != nullptr && Chance(0.7)) {
        e->set_meeting_id(m->meeting_id());
      }
      return true;
    }
    case E::kActionItemCompleted: {
      const v1::ActionItem* a =
          PickWhere(state_.action_items(), [](const v1::ActionItem& a) { return !a.done(); });
      if (a == nullptr) return false;
      p->mutable_action_item_completed()->set_action_item_id(a->action_item_id());
      p->mutable_action_item_completed()->set_completed_on(MaybeDate());
      return true;
    }
    case E::kReportPublished: {
      auto* e = p->mutable_report_published();
      e->set_report_id(NewId("RP"));
      e->set_period(absl::StrFormat("2026-%02d", Uniform(1, 12)));
      e->set_uri(absl::StrCat("https://reports.example/", e->report_id()));
      e->set_summary(Text("Report"));
      return true;
    }
    case E::kRiskIdentified: {
      auto* e = p->mutable_risk_identified();
      e->set_risk_id(NewId("RK"));
      e->set_title(Text("Risk"));
      e->set_category(Chance(0.5) ? "schedule" : "technical");
      e->set_probability(Uniform(1, 5));
      e->set_impact(Uniform(1, 5));
      e->set_owner(ActiveMember());
      e->set_description(Text("Risk description"));
      return true;
    }
    case E::kRiskAssessed: {
      const v1::Risk* r = PickWhere(state_.risks(), open_risk);
      if (r == nullptr) return false;
      auto* e = p->mutable_risk_assessed();
      e->set_risk_id(r->risk_id());
      e->set_probability(Uniform(1, 5));
      e->set_impact(Uniform(1, 5));
      e->set_note(Text("Reassessed"));
      return true;
    }
    case E::kRiskResponsePlanned: {
      const v1::Risk* r = PickWhere(state_.risks(), open_risk);
      if (r == nullptr) return false;
      auto* e = p->mutable_risk_response_planned();
      e->set_risk_id(r->risk_id());
      e->set_strategy(static_cast<v1::RiskResponseStrategy>(Uniform(1, 4)));
      e->set_plan(Text("Plan"));
      e->set_owner(ActiveMember());
      return true;
    }
    case E::kRiskOccurred: {
      const v1::Risk* r = PickWhere(state_.risks(), open_risk);
      if (r == nullptr) return false;
      auto* e = p->mutable_risk_occurred();
      e->set_risk_id(r->risk_id());
      e->set_occurred_on(MaybeDate());
      e->set_description(Text("It happened"));
      if (const v1::Issue* i = PickAny(state_.issues()); i != nullptr && Chance(0.5)) {
        e->set_issue_id(i->issue_id());
      }
      return true;
    }
    case E::kIssueRaised: {
      auto* e = p->mutable_issue_raised();
      e->set_issue_id(NewId("IS"));
      e->set_title(Text("Issue"));
      e->set_severity(static_cast<v1::Severity>(Uniform(0, 4)));
      e->set_owner(ActiveMember());
      if (const v1::Risk* r = PickAny(state_.risks()); r != nullptr && Chance(0.5)) {
        e->set_risk_id(r->risk_id());
      }
      e->set_description(Text("Issue description"));
      return true;
    }
    case E::kIssueResolved: {
      const v1::Issue* i = PickWhere(state_.issues(), [](const v1::Issue& i) { return !i.resolved(); });
      if (i == nullptr) return false;
      auto* e = p->mutable_issue_resolved();
      e->set_issue_id(i->issue_id());
      e->set_resolution(Text("Fixed"));
      e->set_resolved_on(MaybeDate());
      return true;
    }
    case E::kRiskClosed: {
      const v1::Risk* r = PickWhere(state_.risks(), open_risk);
      if (r == nullptr) return false;
      p->mutable_risk_closed()->set_risk_id(r->risk_id());
      p->mutable_risk_closed()->set_reason(Text("Gone"));
      return true;
    }
    case E::kChangeAssessed: {
      const v1::Change* c = PickWhere(state_.changes(), open_change);
      if (c == nullptr) return false;
      auto* e = p->mutable_change_assessed();
      e->set_change_id(c->change_id());
      e->set_schedule_impact_days(Uniform(-10, 60));
      *e->mutable_cost_impact() = Money();
      e->set_scope_impact(Text("Impact"));
      e->set_recommendation(Text("Recommend"));
      return true;
    }
    case E::kChangeApproved:
    case E::kChangeRejected: {
      const v1::Change* c = PickWhere(state_.changes(), open_change);
      if (c == nullptr) return false;
      const bool approve = type == E::kChangeApproved;
      const std::string approval = deciding_approval(
          v1::APPROVAL_SUBJECT_CHANGE, c->change_id(),
          approve ? v1::APPROVAL_OUTCOME_APPROVED : v1::APPROVAL_OUTCOME_REJECTED);
      if (approve) {
        auto* e = p->mutable_change_approved();
        e->set_change_id(c->change_id());
        e->set_approval_id(approval);
        e->set_approved_by(kSponsor);
        e->set_comment(Text("Go"));
      } else {
        auto* e = p->mutable_change_rejected();
        e->set_change_id(c->change_id());
        e->set_approval_id(approval);
        e->set_rejected_by(kSponsor);
        e->set_comment(Text("No"));
      }
      return true;
    }
    case E::kChangeImplemented: {
      const v1::Change* c = PickWhere(state_.changes(), [](const v1::Change& c) {
        return c.status() == C::CHANGE_STATUS_APPROVED;
      });
      if (c == nullptr) return false;
      p->mutable_change_implemented()->set_change_id(c->change_id());
      p->mutable_change_implemented()->set_implemented_on(MaybeDate());
      return true;
    }
    case E::kChangeWithdrawn: {
      const v1::Change* c = PickWhere(state_.changes(), open_change);
      if (c == nullptr) return false;
      p->mutable_change_withdrawn()->set_change_id(c->change_id());
      p->mutable_change_withdrawn()->set_reason(Text("Not needed"));
      return true;
    }
    case E::kApprovalRequested: {
      auto* e = p->mutable_approval_requested();
      e->set_approval_id(NewId("A"));
      auto subject = static_cast<v1::ApprovalSubject>(Uniform(1, 6));
      std::string subject_id;
      if (subject == v1::APPROVAL_SUBJECT_CHANGE) {
        if (const v1::Change* c = PickWhere(state_.changes(), open_change)) subject_id = c->change_id();
      } else if (subject == v1::APPROVAL_SUBJECT_DELIVERABLE) {
        if (const v1::Deliverable* d = PickAny(state_.deliverables())) subject_id = d->deliverable_id();
      } else if (subject == v1::APPROVAL_SUBJECT_MILESTONE) {
        if (const v1::Milestone* m = PickAny(state_.milestones())) subject_id = m->milestone_id();
      }
      const bool needs_subject = subject == v1::APPROVAL_SUBJECT_CHANGE ||
                                 subject == v1::APPROVAL_SUBJECT_DELIVERABLE ||
                                 subject == v1::APPROVAL_SUBJECT_MILESTONE;
      if (needs_subject && subject_id.empty()) subject = v1::APPROVAL_SUBJECT_SCOPE;
      e->set_subject(subject);
      e->set_subject_id(subject_id);
      // One to three distinct approvers, mostly from the opening cast.
      std::vector<std::string> approvers = {kSponsor, kContact, kManager, ActiveMember()};
      std::shuffle(approvers.begin(), approvers.end(), rng_);
      const int count = Uniform(1, 3);
      for (const std::string& who : approvers) {
        if (e->approvers_size() == count) break;
        if (std::find(e->approvers().begin(), e->approvers().end(), who) == e->approvers().end()) {
          e->add_approvers(who);
        }
      }
      e->set_rule(static_cast<v1::ApprovalRule>(Uniform(1, 3)));
      if (e->rule() == v1::APPROVAL_RULE_QUORUM) e->set_quorum(Uniform(1, e->approvers_size()));
      e->set_due_date(MaybeDate());
      e->set_description(Text("Please decide"));
      return true;
    }
    case E::kApprovalCompleted: {
      const v1::Approval* a = PickWhere(state_.approvals(), [](const v1::Approval& a) {
        return a.outcome() != v1::APPROVAL_OUTCOME_UNSPECIFIED && !a.completed();
      });
      if (a == nullptr) return false;
      p->mutable_approval_completed()->set_approval_id(a->approval_id());
      p->mutable_approval_completed()->set_outcome(a->outcome());
      p->mutable_approval_completed()->set_note(Text("Recorded"));
      return true;
    }
    case E::kAcceptanceCriteriaDefined: {
      auto* e = p->mutable_acceptance_criteria_defined();
      const v1::Deliverable* existing = Chance(0.3) ? PickAny(state_.deliverables()) : nullptr;
      e->set_deliverable_id(existing != nullptr ? existing->deliverable_id() : NewId("D"));
      e->set_title(Text("Deliverable"));
      for (int i = Uniform(1, 3); i > 0; --i) e->add_criteria(Text("Criterion"));
      return true;
    }
    case E::kDeliverableSubmitted: {
      const v1::Deliverable* d = PickWhere(state_.deliverables(), [](const v1::Deliverable& d) {
        return d.status() != v1::DELIVERABLE_STATUS_ACCEPTED;
      });
      auto* e = p->mutable_deliverable_submitted();
      e->set_deliverable_id(d != nullptr && Chance(0.8) ? d->deliverable_id() : NewId("D"));
      e->set_title(Text("Deliverable"));
      e->set_version(absl::StrCat("v", Uniform(1, 9)));
      e->set_uri(absl::StrCat("https://files.example/", e->deliverable_id()));
      e->set_submitted_on(MaybeDate());
      return true;
    }
    case E::kQualityReviewed: {
      const v1::Deliverable* d = PickWhere(state_.deliverables(), submitted);
      if (d == nullptr) return false;
      auto* e = p->mutable_quality_reviewed();
      e->set_deliverable_id(d->deliverable_id());
      e->set_result(static_cast<v1::ReviewResult>(Uniform(1, 2)));
      if (Chance(0.5)) e->add_findings(Text("Finding"));
      e->set_reviewer(kTeamMember);
      return true;
    }
    case E::kDeliverableAccepted:
    case E::kDeliverableRejected: {
      const v1::Deliverable* d = PickWhere(state_.deliverables(), submitted);
      const std::string who = ClientMember();
      if (d == nullptr || who.empty()) return false;
      if (type == E::kDeliverableAccepted) {
        p->mutable_deliverable_accepted()->set_deliverable_id(d->deliverable_id());
        p->mutable_deliverable_accepted()->set_accepted_by(who);
        p->mutable_deliverable_accepted()->set_comment(Text("Accepted"));
      } else {
        p->mutable_deliverable_rejected()->set_deliverable_id(d->deliverable_id());
        p->mutable_deliverable_rejected()->set_rejected_by(who);
        p->mutable_deliverable_rejected()->set_reason(Text("Not yet"));
      }
      *actor = who;  // The client decides acceptance, so the client appends it.
      return true;
    }
    case E::kClientActionRequested: {
      auto* e = p->mutable_client_action_requested();
      e->set_action_id(NewId("CA"));
      e->set_kind(static_cast<v1::ClientActionKind>(Uniform(1, 5)));
      e->set_title(Text("Please send"));
      e->set_due_date(Date());
      e->set_requested_from(kContact);
      return true;
    }
    case E::kClientReminderSent: {
      const v1::ClientAction* a = PickWhere(state_.client_actions(), open_client_action);
      if (a == nullptr) return false;
      p->mutable_client_reminder_sent()->set_action_id(a->action_id());
      p->mutable_client_reminder_sent()->set_channel("email");
      return true;
    }
    case E::kClientActionEscalated: {
      const v1::ClientAction* a = PickWhere(state_.client_actions(), open_client_action);
      if (a == nullptr) return false;
      p->mutable_client_action_escalated()->set_action_id(a->action_id());
      p->mutable_client_action_escalated()->set_escalated_to(kSponsor);
      p->mutable_client_action_escalated()->set_reason(Text("Late"));
      return true;
    }
    case E::kClientActionCompleted: {
      const v1::ClientAction* a = PickWhere(state_.client_actions(), open_client_action);
      if (a == nullptr) return false;
      p->mutable_client_action_completed()->set_action_id(a->action_id());
      p->mutable_client_action_completed()->set_completed_on(MaybeDate());
      *actor = kContact;
      return true;
    }
    case E::kSatisfactionSurveyed: {
      auto* e = p->mutable_satisfaction_surveyed();
      e->set_survey_id(NewId("SV"));
      if (Chance(0.8)) e->set_csat(Uniform(1, 5));
      if (Chance(0.8)) e->set_nps(Uniform(0, 10));
      e->set_comment(Text("Survey"));
      e->set_respondent(kSponsor);
      *actor = Chance(0.5) ? kSponsor : kManager;
      return true;
    }
    case E::kIncentiveSet: {
      auto* e = p->mutable_incentive_set();
      e->set_incentive_id(NewId("IN"));
      if (const v1::Milestone* m = PickAny(state_.milestones()); m != nullptr && Chance(0.7)) {
        e->set_milestone_id(m->milestone_id());
      }
      e->set_description(Text("Bonus"));
      *e->mutable_reward() = Money();
      return true;
    }
    case E::kIncentiveEarned: {
      const v1::Incentive* i =
          PickWhere(state_.incentives(), [](const v1::Incentive& i) { return !i.earned(); });
      if (i == nullptr) return false;
      p->mutable_incentive_earned()->set_incentive_id(i->incentive_id());
      p->mutable_incentive_earned()->set_earned_on(MaybeDate());
      return true;
    }
    case E::kDocumentShared: {
      auto* e = p->mutable_document_shared();
      const v1::Document* existing = Chance(0.3) ? PickAny(state_.documents()) : nullptr;
      e->set_document_id(existing != nullptr ? existing->document_id() : NewId("DOC"));
      e->set_title(Text("Document"));
      e->set_version(absl::StrCat(Uniform(1, 5), ".0"));
      e->set_uri(absl::StrCat("https://docs.example/", e->document_id()));
      if (Chance(0.7)) e->set_content_sha256(Sha256Hex());
      return true;
    }
    case E::kProjectPaused:
      if (state_.status() != v1::LIFECYCLE_STATUS_ACTIVE) return false;
      p->mutable_project_paused()->set_reason(Text("Client on holiday"));
      return true;
    case E::kProjectResumed:
      if (state_.status() != v1::LIFECYCLE_STATUS_PAUSED) return false;
      p->mutable_project_resumed()->set_note(Text("Back"));
      return true;
    case E::kProjectClosed: {
      auto* e = p->mutable_project_closed();
      e->set_final_acceptance(Chance(0.7));
      e->set_summary(Text("Done"));
      e->set_closed_by(kManager);
      return true;
    }
    case E::kLessonRecorded: {
      auto* e = p->mutable_lesson_recorded();
      e->set_lesson_id(NewId("L"));
      e->set_went_well(Text("Well"));
      e->set_went_badly(Text("Badly"));
      e->set_action(Text("Next time"));
      return true;
    }
    case E::kEventRetracted:
      return BuildCorrection(/*retraction=*/true, p);
    case E::kEventCorrected:
      return BuildCorrection(/*retraction=*/false, p);
    case E::EVENT_NOT_SET:
      return false;
  }
  return false;
}

bool Generator::BuildCorrection(bool retraction, EventPayload* p) {
  std::vector<size_t> targets;
  for (size_t i = kOpeningEvents; i < recorded_.size(); ++i) {
    const EventPayload& payload = recorded_[i].payload();
    if (payload.has_event_retracted() || payload.has_event_corrected()) continue;
    bool retracted = false;
    for (const auto& c : state_.corrections()) {
      retracted |= c.retracted() && c.event_id() == recorded_[i].event_id();
    }
    if (!retracted) targets.push_back(i);
  }
  if (targets.empty()) return false;
  const v1::RecordedEvent& target = recorded_[Pick(targets)];
  if (retraction) {
    p->mutable_event_retracted()->set_retracted_event_id(target.event_id());
    p->mutable_event_retracted()->set_reason(Text("Recorded by mistake"));
  } else {
    auto* e = p->mutable_event_corrected();
    e->set_corrected_event_id(target.event_id());
    e->set_reason(Text("Wrong figures"));
    *e->mutable_replacement() = Replacement(target.payload());
  }
  return true;
}

// The original with different figures where the projection derives something from them
// (risk score, budget lines, indicators, task progress), else with one free-text field
// rewritten. Ids stay, so the replacement is about the same item.
EventPayload Generator::Replacement(const EventPayload& original) {
  EventPayload r = original;
  switch (r.event_case()) {
    case EventPayload::kRiskIdentified:
      r.mutable_risk_identified()->set_probability(Uniform(1, 5));
      r.mutable_risk_identified()->set_impact(Uniform(1, 5));
      return r;
    case EventPayload::kRiskAssessed:
      r.mutable_risk_assessed()->set_probability(Uniform(1, 5));
      r.mutable_risk_assessed()->set_impact(Uniform(1, 5));
      return r;
    case EventPayload::kCostRecorded:
      r.mutable_cost_recorded()->mutable_amount()->set_amount_minor(Uniform(1, 5000) * 100);
      return r;
    case EventPayload::kBudgetSet:
      r.mutable_budget_set()->mutable_amount()->set_amount_minor(Uniform(1, 5000) * 100);
      return r;
    case EventPayload::kStatusUpdated:
      r.mutable_status_updated()->set_health(Health());
      r.mutable_status_updated()->set_percent_complete(Uniform(0, 100));
      return r;
    case EventPayload::kTaskProgressReported:
      r.mutable_task_progress_reported()->set_percent_complete(Uniform(1, 99));
      return r;
    default:
      break;
  }
  static const char* const kFreeText[] = {"note",       "comment",   "reason",      "summary",
                                          "description", "text",      "minutes",     "plan",
                                          "resolution", "went_well", "display_name", "title"};
  const auto* field = EventPayload::descriptor()->FindFieldByNumber(r.event_case());
  google::protobuf::Message* inner = r.GetReflection()->MutableMessage(&r, field);
  const auto* descriptor = inner->GetDescriptor();
  for (const char* name : kFreeText) {
    const auto* f = descriptor->FindFieldByName(name);
    if (f != nullptr && f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
        !f->is_repeated()) {
      inner->GetReflection()->SetString(inner, f, Text("Corrected"));
      break;
    }
  }
  return r;
}

}  // namespace

std::vector<GeneratedEvent> GenerateHistory(uint64_t seed, const HistoryOptions& options) {
  return Generator(seed, options).Run();
}

std::set<std::string> EventTypesOf(const std::vector<GeneratedEvent>& history) {
  std::set<std::string> types;
  for (const GeneratedEvent& e : history) types.insert(domain::EventTypeOf(e.proposed.payload()));
  return types;
}

bool EndsAppend(const GeneratedEvent& event) {
  return event.proposed.payload().has_event_retracted() ||
         event.proposed.payload().has_event_corrected();
}

}  // namespace accord::testing
