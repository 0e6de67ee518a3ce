// The project-state projection: one small handler per event type, dispatched by a switch
// over the payload's oneof with no `default:`, so -Wswitch (an error for this file, see
// server/CMakeLists.txt) names any event type added to the catalog without a handler.
// Replay's treatment of retractions and corrections lives at the end.
#include "server/domain/project_projection.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/domain/event_validation.h"
#include "server/domain/lazy_project_state.h"

namespace accord::domain {
namespace projection_internal {

// Positions of one list's items by key: the first item with each key (as a scan from the
// front would find it). Items are only ever appended, so a list longer than what was
// indexed has its new tail indexed; a shorter one, or a hit whose item has another key,
// means the list is not the one indexed, and it is indexed again from scratch.
template <typename T>
class Positions {
 public:
  // The position of the first item whose key (key_of(item)) is `key`, or -1.
  template <typename KeyOf>
  int Find(const google::protobuf::RepeatedPtrField<T>& items, const KeyOf& key_of,
           absl::string_view key) {
    Sync(items, key_of);
    auto it = positions_.find(key);
    if (it == positions_.end()) return -1;
    if (absl::string_view(key_of(items.Get(it->second))) == key) return it->second;
    positions_.clear();
    indexed_ = 0;
    Sync(items, key_of);
    it = positions_.find(key);
    return it == positions_.end() ? -1 : it->second;
  }

  // Records an item appended at `position` (right after a Find that missed) with `key`.
  void Added(absl::string_view key, int position) {
    positions_.emplace(std::string(key), position);
    indexed_ = position + 1;
  }

  // Items of the list not parsed yet (LazyProjectState), or nullptr.
  BaseItems* base = nullptr;

 private:
  template <typename KeyOf>
  void Sync(const google::protobuf::RepeatedPtrField<T>& items, const KeyOf& key_of) {
    if (indexed_ == items.size()) return;
    if (indexed_ > items.size()) {
      positions_.clear();
      indexed_ = 0;
    }
    for (int i = indexed_; i < items.size(); ++i) {
      positions_.emplace(std::string(absl::string_view(key_of(items.Get(i)))), i);
    }
    indexed_ = items.size();
  }

  absl::flat_hash_map<std::string, int> positions_;
  int indexed_ = 0;  // Items [0, indexed_) are in positions_.
};

}  // namespace projection_internal

struct ProjectIndex::Tables {
  template <typename T>
  using Positions = projection_internal::Positions<T>;
  // One per list of the state; budget lines and responsibilities are keyed by two fields.
  std::tuple<Positions<accord::v1::Goal>, Positions<accord::v1::ScopeItem>,
             Positions<accord::v1::Member>, Positions<accord::v1::Milestone>,
             Positions<accord::v1::Task>, Positions<accord::v1::Resource>,
             Positions<accord::v1::BudgetLine>, Positions<accord::v1::Responsibility>,
             Positions<accord::v1::Risk>, Positions<accord::v1::Issue>,
             Positions<accord::v1::Change>, Positions<accord::v1::Approval>,
             Positions<accord::v1::Meeting>, Positions<accord::v1::ActionItem>,
             Positions<accord::v1::ClientAction>, Positions<accord::v1::Deliverable>,
             Positions<accord::v1::FeedbackItem>, Positions<accord::v1::SurveyResult>,
             Positions<accord::v1::Incentive>, Positions<accord::v1::Document>,
             Positions<accord::v1::Lesson>, Positions<std::string>>
      lists;
  std::string scratch_key;  // For two-field keys, reused.
  // The project's zone, loaded for the charter's time_zone when zone_loaded.
  bool zone_loaded = false;
  std::string zone_name;
  absl::TimeZone zone;
  // The last recorded day formatted, and the seconds it spans in `zone`, [from, until):
  // events come in time order, so most fall on the day before them.
  int64_t day_from = 1, day_until = 0;
  std::string day_text;
};

ProjectIndex::ProjectIndex() : tables_(std::make_unique<Tables>()) {}

bool ProjectIndex::AttachBaseItems(int project_state_field, BaseItems* items) {
  return VisitBaseList(project_state_field, [&](auto* item_type) {
    using T = std::remove_pointer_t<decltype(item_type)>;
    std::get<Tables::Positions<T>>(tables_->lists).base = items;
  });
}

template <typename T>
int PositionOf(const google::protobuf::RepeatedPtrField<T>& items,
               const std::string& (T::*id_of)() const, const std::string& id,
               ProjectIndex* index) {
  const auto key_of = [id_of](const T& item) -> const std::string& { return (item.*id_of)(); };
  if (index != nullptr) {
    return std::get<projection_internal::Positions<T>>(index->tables().lists)
        .Find(items, key_of, id);
  }
  for (int i = 0; i < items.size(); ++i) {
    if (key_of(items.Get(i)) == id) return i;
  }
  return -1;
}

#define ACCORD_POSITION_OF(T)                                                            \
  template int PositionOf<accord::v1::T>(const google::protobuf::RepeatedPtrField<accord::v1::T>&, \
                                         const std::string& (accord::v1::T::*)() const,  \
                                         const std::string&, ProjectIndex*);
ACCORD_POSITION_OF(Goal)
ACCORD_POSITION_OF(ScopeItem)
ACCORD_POSITION_OF(Member)
ACCORD_POSITION_OF(Milestone)
ACCORD_POSITION_OF(Task)
ACCORD_POSITION_OF(Risk)
ACCORD_POSITION_OF(Issue)
ACCORD_POSITION_OF(Change)
ACCORD_POSITION_OF(Approval)
ACCORD_POSITION_OF(Meeting)
ACCORD_POSITION_OF(ActionItem)
ACCORD_POSITION_OF(ClientAction)
ACCORD_POSITION_OF(Deliverable)
ACCORD_POSITION_OF(FeedbackItem)
ACCORD_POSITION_OF(SurveyResult)
ACCORD_POSITION_OF(Incentive)
ACCORD_POSITION_OF(Document)
ACCORD_POSITION_OF(Lesson)
ACCORD_POSITION_OF(Resource)
#undef ACCORD_POSITION_OF
ProjectIndex::~ProjectIndex() = default;

namespace {

namespace v1 = accord::v1;
using google::protobuf::RepeatedPtrField;
using google::protobuf::Timestamp;

// ---------------------------------------------------------------------------------------
// Time and dates

absl::Time ToTime(const Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

Timestamp ToTimestamp(absl::Time t) {
  Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // Rounds down, so nanos are >= 0.
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return ts;
}

// Dates in the catalog are days in the project's zone; UTC when it names none we know.
absl::TimeZone ProjectZone(const v1::ProjectState& state) {
  absl::TimeZone zone;
  const std::string& name = state.charter().time_zone();
  if (!name.empty() && absl::LoadTimeZone(name, &zone)) return zone;
  return absl::UTCTimeZone();
}

std::optional<absl::CivilDay> ToDay(std::string_view date) {
  const std::optional<int> key = ParseDate(date);  // yyyymmdd
  if (!key.has_value()) return std::nullopt;
  return absl::CivilDay(*key / 10000, *key / 100 % 100, *key % 100);
}

// Whole days from `due` to `day`, never negative; 0 when `due` is not a date.
int32_t DaysPast(std::string_view due, absl::CivilDay day) {
  const std::optional<absl::CivilDay> due_day = ToDay(due);
  if (!due_day.has_value()) return 0;
  return static_cast<int32_t>(std::max<absl::civil_diff_t>(0, day - *due_day));
}

// ---------------------------------------------------------------------------------------
// The event being applied

// The state being changed and the envelope of the event changing it. Replay applies a
// corrected event's replacement with the original's envelope, so links and default dates
// come from here, never from the payload's own event.
struct Ctx {
  const v1::RecordedEvent& event;
  v1::ProjectState& state;
  ProjectIndex::Tables* index;  // nullptr: find items by scanning.

  // Points `ref` at the event, overwriting every field in place: a replay does this for
  // most events, and assigning a new EventRef would allocate its strings each time.
  void SetRef(v1::EventRef* ref) const {
    ref->set_version(event.version());
    ref->set_event_id(event.event_id());
    *ref->mutable_recorded_at() = event.recorded_at();
    ref->set_actor(event.actor().principal());
  }
  // The day the event was recorded, in the project's zone.
  std::string RecordedDate() const {
    const int64_t seconds = event.recorded_at().seconds();
    if (index != nullptr) {
      const absl::TimeZone zone = Zone();  // First: a zone change resets the cached day.
      if (seconds >= index->day_from && seconds < index->day_until) return index->day_text;
      const absl::CivilDay day = absl::ToCivilDay(ToTime(event.recorded_at()), zone);
      index->day_text = absl::FormatCivilTime(day);
      index->day_from = absl::ToUnixSeconds(absl::FromCivil(day, zone));
      index->day_until = absl::ToUnixSeconds(absl::FromCivil(day + 1, zone));
      return index->day_text;
    }
    return absl::FormatCivilTime(absl::ToCivilDay(ToTime(event.recorded_at()), Zone()));
  }
  // ProjectZone(state), loaded once per zone name when there is an index.
  absl::TimeZone Zone() const {
    if (index == nullptr) return ProjectZone(state);
    const std::string& name = state.charter().time_zone();
    if (!index->zone_loaded || index->zone_name != name) {
      index->zone = ProjectZone(state);
      index->zone_name = name;
      index->zone_loaded = true;
      index->day_from = 1;
      index->day_until = 0;
    }
    return index->zone;
  }
  // Events leave "when" dates empty to mean "the day it was recorded".
  std::string DateOr(const std::string& date) const {
    return date.empty() ? RecordedDate() : date;
  }
};

// ---------------------------------------------------------------------------------------
// Finding items of the state's lists

template <typename T>
auto IdOf(const std::string& (T::*id_of)() const) {
  return [id_of](const T& item) -> const std::string& { return (item.*id_of)(); };
}

// The item of `items` whose id (read by the accessor `id_of`) is `id`, or nullptr: the
// first such item, through the index when there is one.
template <typename T>
T* Find(const Ctx& c, RepeatedPtrField<T>* items, const std::string& (T::*id_of)() const,
        const std::string& id) {
  if (c.index != nullptr) {
    auto& positions = std::get<ProjectIndex::Tables::Positions<T>>(c.index->lists);
    const int position = positions.Find(*items, IdOf(id_of), id);
    if (position >= 0) return items->Mutable(position);
    if (positions.base == nullptr) return nullptr;
    // Not parsed yet? (LazyProjectState)
    const int ordinal = positions.base->Find(id);
    if (ordinal < 0) return nullptr;
    T* item = items->Add();
    const std::string_view bytes = positions.base->item(ordinal);
    if (!item->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      items->RemoveLast();  // Init checked the state parses; cannot happen.
      return nullptr;
    }
    positions.base->Parsed(ordinal, items->size() - 1);
    positions.Added(id, items->size() - 1);
    return item;
  }
  for (T& item : *items) {
    if ((item.*id_of)() == id) return &item;
  }
  return nullptr;
}

// The item with that id, appended when there is none (lists keep first-appearance
// order); `second` is true for a new item, whose id the caller sets.
template <typename T>
std::pair<T*, bool> FindOrAdd(const Ctx& c, RepeatedPtrField<T>* items,
                              const std::string& (T::*id_of)() const, const std::string& id) {
  if (T* found = Find(c, items, id_of, id)) return {found, false};
  T* added = items->Add();
  if (c.index != nullptr) {
    std::get<ProjectIndex::Tables::Positions<T>>(c.index->lists).Added(id, items->size() - 1);
  }
  return {added, true};
}

// Two fields as one key, each length-prefixed so no two pairs give the same key.
absl::string_view PairKey(const std::string& a, const std::string& b, std::string* out) {
  out->clear();
  out->append(std::to_string(a.size())).append(1, ':').append(a);
  out->append(std::to_string(b.size())).append(1, ':').append(b);
  return *out;
}

// ---------------------------------------------------------------------------------------
// Goals, scope and charter

void Apply(const v1::ProjectCreated& e, const Ctx& c) {
  v1::Charter* charter = c.state.mutable_charter();
  charter->set_name(e.name());
  charter->set_client_org(e.client_org());
  charter->set_description(e.description());
  charter->set_start_date(e.start_date());
  charter->set_target_end_date(e.target_end_date());
  charter->set_time_zone(e.time_zone().empty() ? "UTC" : e.time_zone());
  charter->set_manager(e.manager());
  c.state.set_status(v1::LIFECYCLE_STATUS_ACTIVE);
}

void Apply(const v1::GoalSet& e, const Ctx& c) {
  v1::Goal* goal =
      FindOrAdd(c, c.state.mutable_charter()->mutable_goals(), &v1::Goal::goal_id, e.goal_id()).first;
  goal->set_goal_id(e.goal_id());
  goal->set_title(e.title());
  goal->set_metric(e.metric());
  goal->set_target(e.target());
  goal->set_deadline(e.deadline());
  goal->set_description(e.description());
}

void Apply(const v1::ScopeItemAdded& e, const Ctx& c) {
  v1::ScopeItem* item = FindOrAdd(c, c.state.mutable_charter()->mutable_scope(),
                                  &v1::ScopeItem::scope_item_id, e.scope_item_id())
                            .first;
  item->set_scope_item_id(e.scope_item_id());
  item->set_description(e.description());
  item->set_kind(e.kind());
  item->set_removed(false);  // Adding an id again puts it back.
  item->clear_removed_reason();
}

void Apply(const v1::ScopeItemRemoved& e, const Ctx& c) {
  // Kept, flagged: "out of scope since" is part of what the client signed off.
  if (v1::ScopeItem* item = Find(c, c.state.mutable_charter()->mutable_scope(),
                                 &v1::ScopeItem::scope_item_id, e.scope_item_id())) {
    item->set_removed(true);
    item->set_removed_reason(e.reason());
  }
}

void Apply(const v1::CharterConfirmed& e, const Ctx& c) {
  v1::Charter* charter = c.state.mutable_charter();
  charter->set_confirmed(true);
  charter->set_confirmed_by(e.confirmed_by());
  c.SetRef(charter->mutable_confirmed_at());
}

// ---------------------------------------------------------------------------------------
// Team and roles

void Apply(const v1::MemberAdded& e, const Ctx& c) {
  v1::Member* member =
      FindOrAdd(c, c.state.mutable_members(), &v1::Member::principal, e.principal()).first;
  member->set_principal(e.principal());
  member->set_display_name(e.display_name());
  member->set_role(e.role());
  member->set_party(e.party());
  member->set_removed(false);  // Re-adding a removed member brings them back.
}

void Apply(const v1::MemberRoleChanged& e, const Ctx& c) {
  if (v1::Member* member = Find(c, c.state.mutable_members(), &v1::Member::principal, e.principal())) {
    member->set_role(e.role());
  }
}

void Apply(const v1::MemberRemoved& e, const Ctx& c) {
  // Kept, flagged: past decisions still name them.
  if (v1::Member* member = Find(c, c.state.mutable_members(), &v1::Member::principal, e.principal())) {
    member->set_removed(true);
  }
}

// ---------------------------------------------------------------------------------------
// Plan: milestones, tasks, resources, budget

v1::Milestone* FindMilestone(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_milestones(), &v1::Milestone::milestone_id, id);
}

void Reschedule(v1::Milestone* milestone, const std::string& new_due_date) {
  milestone->set_due_date(new_due_date);
  milestone->set_reschedules(milestone->reschedules() + 1);
}

void Apply(const v1::MilestonePlanned& e, const Ctx& c) {
  auto [milestone, is_new] =
      FindOrAdd(c, c.state.mutable_milestones(), &v1::Milestone::milestone_id, e.milestone_id());
  milestone->set_milestone_id(e.milestone_id());
  milestone->set_title(e.title());
  milestone->set_due_date(e.due_date());
  milestone->set_description(e.description());
  if (is_new) {
    milestone->set_original_due_date(e.due_date());
    milestone->set_status(v1::MILESTONE_STATUS_PLANNED);
  }
}

void Apply(const v1::MilestoneRescheduled& e, const Ctx& c) {
  if (v1::Milestone* milestone = FindMilestone(c, e.milestone_id())) {
    Reschedule(milestone, e.new_due_date());
  }
}

void Apply(const v1::MilestoneReached& e, const Ctx& c) {
  if (v1::Milestone* milestone = FindMilestone(c, e.milestone_id())) {
    milestone->set_status(v1::MILESTONE_STATUS_REACHED);
    milestone->set_reached_on(c.DateOr(e.reached_on()));
  }
}

void Apply(const v1::MilestoneMissed& e, const Ctx& c) {
  // MISSED stays until the milestone is reached, even when re-planned at once: reports
  // must still show the miss.
  if (v1::Milestone* milestone = FindMilestone(c, e.milestone_id())) {
    milestone->set_status(v1::MILESTONE_STATUS_MISSED);
    if (!e.new_due_date().empty()) Reschedule(milestone, e.new_due_date());
  }
}

v1::Task* FindTask(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_tasks(), &v1::Task::task_id, id);
}

void Apply(const v1::TaskPlanned& e, const Ctx& c) {
  // Planning a task again revises its plan and keeps its progress.
  auto [task, is_new] = FindOrAdd(c, c.state.mutable_tasks(), &v1::Task::task_id, e.task_id());
  task->set_task_id(e.task_id());
  task->set_title(e.title());
  task->set_owner(e.owner());
  task->set_start_date(e.start_date());
  task->set_due_date(e.due_date());
  *task->mutable_depends_on() = e.depends_on();
  task->set_estimate_hours(e.estimate_hours());
  task->set_milestone_id(e.milestone_id());
  if (is_new) task->set_status(v1::TASK_STATUS_PLANNED);
}

void Apply(const v1::TaskProgressReported& e, const Ctx& c) {
  // Both figures are totals to date; proto3 cannot tell 0 from "not reported", so 0 keeps
  // the previous figure.
  v1::Task* task = FindTask(c, e.task_id());
  if (task == nullptr) return;
  if (e.hours_spent() > 0) task->set_hours_spent(e.hours_spent());
  if (e.percent_complete() == 0) return;
  task->set_percent_complete(e.percent_complete());
  // Progress on a blocked task means it was unblocked; nothing reopens a finished task.
  if (task->status() != v1::TASK_STATUS_DONE) {
    task->set_status(v1::TASK_STATUS_IN_PROGRESS);
    task->clear_blocked_reason();
  }
}

void Apply(const v1::TaskCompleted& e, const Ctx& c) {
  if (v1::Task* task = FindTask(c, e.task_id())) {
    task->set_status(v1::TASK_STATUS_DONE);
    task->set_percent_complete(100);
    task->set_completed_on(c.DateOr(e.completed_on()));
    task->clear_blocked_reason();
  }
}

void Apply(const v1::TaskBlocked& e, const Ctx& c) {
  v1::Task* task = FindTask(c, e.task_id());
  if (task != nullptr && task->status() != v1::TASK_STATUS_DONE) {
    task->set_status(v1::TASK_STATUS_BLOCKED);
    task->set_blocked_reason(e.reason());
  }
}

void Apply(const v1::ResourceAllocated& e, const Ctx& c) {
  v1::Resource* resource =
      FindOrAdd(c, c.state.mutable_resources(), &v1::Resource::resource_id, e.resource_id()).first;
  resource->set_resource_id(e.resource_id());
  resource->set_name(e.name());
  resource->set_role(e.role());
  resource->set_allocation_percent(e.allocation_percent());
  resource->set_start_date(e.start_date());
  resource->set_end_date(e.end_date());
}

// Budget and actuals are kept per (category, currency): amounts in different currencies
// are never added up here.
v1::BudgetLine* BudgetLineFor(const Ctx& c, const std::string& category, const v1::Money& money) {
  if (c.index != nullptr) {
    auto& positions = std::get<ProjectIndex::Tables::Positions<v1::BudgetLine>>(c.index->lists);
    std::string key_of_item;
    const auto key_of = [&key_of_item](const v1::BudgetLine& line) {
      return PairKey(line.category(), line.currency_code(), &key_of_item);
    };
    const absl::string_view key =
        PairKey(category, money.currency_code(), &c.index->scratch_key);
    const int position = positions.Find(c.state.budget(), key_of, key);
    if (position >= 0) return c.state.mutable_budget(position);
    positions.Added(key, c.state.budget_size());
  } else {
    for (v1::BudgetLine& line : *c.state.mutable_budget()) {
      if (line.category() == category && line.currency_code() == money.currency_code()) {
        return &line;
      }
    }
  }
  v1::BudgetLine* line = c.state.add_budget();
  line->set_category(category);
  line->set_currency_code(money.currency_code());
  return line;
}

void Apply(const v1::BudgetSet& e, const Ctx& c) {
  BudgetLineFor(c, e.category(), e.amount())->set_budget_minor(e.amount().amount_minor());
}

void Apply(const v1::CostRecorded& e, const Ctx& c) {
  v1::BudgetLine* line = BudgetLineFor(c, e.category(), e.amount());
  line->set_actual_minor(line->actual_minor() + e.amount().amount_minor());
}

// ---------------------------------------------------------------------------------------
// Responsibilities and communication

void Apply(const v1::ResponsibilityAssigned& e, const Ctx& c) {
  // One letter per (item, person): assigning again replaces it.
  if (c.index != nullptr) {
    auto& positions =
        std::get<ProjectIndex::Tables::Positions<v1::Responsibility>>(c.index->lists);
    std::string key_of_item;
    const auto key_of = [&key_of_item](const v1::Responsibility& r) {
      return PairKey(r.item_id(), r.principal(), &key_of_item);
    };
    const absl::string_view key = PairKey(e.item_id(), e.principal(), &c.index->scratch_key);
    const int position = positions.Find(c.state.responsibilities(), key_of, key);
    if (position >= 0) {
      c.state.mutable_responsibilities(position)->set_raci(e.raci());
      return;
    }
    positions.Added(key, c.state.responsibilities_size());
  } else {
    for (v1::Responsibility& r : *c.state.mutable_responsibilities()) {
      if (r.item_id() == e.item_id() && r.principal() == e.principal()) {
        r.set_raci(e.raci());
        return;
      }
    }
  }
  v1::Responsibility* r = c.state.add_responsibilities();
  r->set_item_id(e.item_id());
  r->set_principal(e.principal());
  r->set_raci(e.raci());
}

void Apply(const v1::CommunicationPlanSet& e, const Ctx& c) {
  *c.state.mutable_communication_plan() = e.entries();
}

void Apply(const v1::MeetingHeld& e, const Ctx& c) {
  v1::Meeting* meeting =
      FindOrAdd(c, c.state.mutable_meetings(), &v1::Meeting::meeting_id, e.meeting_id()).first;
  meeting->set_meeting_id(e.meeting_id());
  meeting->set_title(e.title());
  *meeting->mutable_held_at() = e.held_at();
  *meeting->mutable_attendees() = e.attendees();
  *meeting->mutable_decisions() = e.decisions();
}

void Apply(const v1::ActionItemAssigned& e, const Ctx& c) {
  v1::ActionItem* item = FindOrAdd(c, c.state.mutable_action_items(),
                                   &v1::ActionItem::action_item_id, e.action_item_id())
                             .first;
  item->set_action_item_id(e.action_item_id());
  item->set_title(e.title());
  item->set_owner(e.owner());
  item->set_owner_party(e.owner_party());
  item->set_due_date(e.due_date());
  item->set_meeting_id(e.meeting_id());
}

void Apply(const v1::ActionItemCompleted& e, const Ctx& c) {
  if (v1::ActionItem* item = Find(c, c.state.mutable_action_items(),
                                  &v1::ActionItem::action_item_id, e.action_item_id())) {
    item->set_done(true);
    item->set_completed_on(c.DateOr(e.completed_on()));
    item->set_overdue(false);
  }
}

// ---------------------------------------------------------------------------------------
// Monitoring and reporting

void Apply(const v1::StatusUpdated& e, const Ctx& c) {
  v1::Indicators* status = c.state.mutable_latest_status();
  status->set_health(e.health());
  status->set_schedule(e.schedule());
  status->set_cost(e.cost());
  status->set_quality(e.quality());
  status->set_percent_complete(e.percent_complete());
  status->set_summary(e.summary());
  status->set_period(e.period());
  c.SetRef(status->mutable_updated());
}

void Apply(const v1::ReportPublished& e, const Ctx& c) {
  const auto& ids = c.state.reports_published();
  if (c.index != nullptr) {
    auto& positions = std::get<ProjectIndex::Tables::Positions<std::string>>(c.index->lists);
    const auto key_of = [](const std::string& id) -> const std::string& { return id; };
    if (positions.Find(ids, key_of, e.report_id()) >= 0) return;
    positions.Added(e.report_id(), ids.size());
    c.state.add_reports_published(e.report_id());
    return;
  }
  if (std::find(ids.begin(), ids.end(), e.report_id()) == ids.end()) {
    c.state.add_reports_published(e.report_id());
  }
}

// ---------------------------------------------------------------------------------------
// Risks and issues

v1::Risk* FindRisk(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_risks(), &v1::Risk::risk_id, id);
}

void SetScore(v1::Risk* risk) { risk->set_score(risk->probability() * risk->impact()); }

void Apply(const v1::RiskIdentified& e, const Ctx& c) {
  auto [risk, is_new] = FindOrAdd(c, c.state.mutable_risks(), &v1::Risk::risk_id, e.risk_id());
  risk->set_risk_id(e.risk_id());
  risk->set_title(e.title());
  risk->set_category(e.category());
  risk->set_probability(e.probability());
  risk->set_impact(e.impact());
  risk->set_owner(e.owner());
  risk->set_description(e.description());
  SetScore(risk);
  if (is_new) risk->set_status(v1::RISK_STATUS_OPEN);
}

void Apply(const v1::RiskAssessed& e, const Ctx& c) {
  // 0 is outside 1..5, so it means "not reassessed".
  v1::Risk* risk = FindRisk(c, e.risk_id());
  if (risk == nullptr) return;
  if (e.probability() > 0) risk->set_probability(e.probability());
  if (e.impact() > 0) risk->set_impact(e.impact());
  SetScore(risk);
}

void Apply(const v1::RiskResponsePlanned& e, const Ctx& c) {
  v1::Risk* risk = FindRisk(c, e.risk_id());
  if (risk == nullptr) return;
  risk->set_strategy(e.strategy());
  risk->set_response_plan(e.plan());
  if (!e.owner().empty()) risk->set_owner(e.owner());
}

void Apply(const v1::RiskOccurred& e, const Ctx& c) {
  v1::Risk* risk = FindRisk(c, e.risk_id());
  if (risk == nullptr) return;
  risk->set_status(v1::RISK_STATUS_OCCURRED);
  if (!e.issue_id().empty()) risk->set_issue_id(e.issue_id());
}

void Apply(const v1::IssueRaised& e, const Ctx& c) {
  v1::Issue* issue = FindOrAdd(c, c.state.mutable_issues(), &v1::Issue::issue_id, e.issue_id()).first;
  issue->set_issue_id(e.issue_id());
  issue->set_title(e.title());
  issue->set_severity(e.severity());
  issue->set_owner(e.owner());
  issue->set_risk_id(e.risk_id());
  // The link works both ways whichever of RiskOccurred and IssueRaised named it first.
  v1::Risk* risk = e.risk_id().empty() ? nullptr : FindRisk(c, e.risk_id());
  if (risk != nullptr && risk->issue_id().empty()) risk->set_issue_id(e.issue_id());
}

void Apply(const v1::IssueResolved& e, const Ctx& c) {
  if (v1::Issue* issue = Find(c, c.state.mutable_issues(), &v1::Issue::issue_id, e.issue_id())) {
    issue->set_resolved(true);
    issue->set_resolution(e.resolution());
    issue->set_resolved_on(c.DateOr(e.resolved_on()));
  }
}

void Apply(const v1::RiskClosed& e, const Ctx& c) {
  if (v1::Risk* risk = FindRisk(c, e.risk_id())) risk->set_status(v1::RISK_STATUS_CLOSED);
}

// ---------------------------------------------------------------------------------------
// Change control

v1::Change* FindChange(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_changes(), &v1::Change::change_id, id);
}

void SetChangeStatus(const Ctx& c, const std::string& change_id, v1::ChangeStatus status) {
  if (v1::Change* change = FindChange(c, change_id)) change->set_status(status);
}

// Approval or rejection: who decided is the event's actor (see `decided`).
void DecideChange(const Ctx& c, const std::string& change_id, v1::ChangeStatus status,
                  const std::string& approval_id) {
  v1::Change* change = FindChange(c, change_id);
  if (change == nullptr) return;
  change->set_status(status);
  if (!approval_id.empty()) change->set_approval_id(approval_id);
  c.SetRef(change->mutable_decided());
}

void Apply(const v1::ChangeRequested& e, const Ctx& c) {
  v1::Change* change =
      FindOrAdd(c, c.state.mutable_changes(), &v1::Change::change_id, e.change_id()).first;
  change->set_change_id(e.change_id());
  change->set_title(e.title());
  change->set_requested_by(e.requested_by());
  change->set_reason(e.reason());
  change->set_scope_impact(e.scope_impact());
  change->set_status(v1::CHANGE_STATUS_REQUESTED);
  c.SetRef(change->mutable_requested());
}

void Apply(const v1::ChangeAssessed& e, const Ctx& c) {
  v1::Change* change = FindChange(c, e.change_id());
  if (change == nullptr) return;
  change->set_schedule_impact_days(e.schedule_impact_days());
  if (e.has_cost_impact()) *change->mutable_cost_impact() = e.cost_impact();
  if (!e.scope_impact().empty()) change->set_scope_impact(e.scope_impact());
  // A late assessment adds figures but does not undo a decision.
  if (change->status() == v1::CHANGE_STATUS_REQUESTED) change->set_status(v1::CHANGE_STATUS_ASSESSED);
}

void Apply(const v1::ChangeApproved& e, const Ctx& c) {
  DecideChange(c, e.change_id(), v1::CHANGE_STATUS_APPROVED, e.approval_id());
}

void Apply(const v1::ChangeRejected& e, const Ctx& c) {
  DecideChange(c, e.change_id(), v1::CHANGE_STATUS_REJECTED, e.approval_id());
}

void Apply(const v1::ChangeImplemented& e, const Ctx& c) {
  SetChangeStatus(c, e.change_id(), v1::CHANGE_STATUS_IMPLEMENTED);
}

void Apply(const v1::ChangeWithdrawn& e, const Ctx& c) {
  SetChangeStatus(c, e.change_id(), v1::CHANGE_STATUS_WITHDRAWN);
}

// ---------------------------------------------------------------------------------------
// Approvals

// The outcome the rule gives the decisions so far; UNSPECIFIED while still open. Each
// listed approver counts once, with their first decision; others do not count.
v1::ApprovalOutcome ComputeOutcome(const v1::Approval& approval) {
  const absl::flat_hash_set<std::string> approvers(approval.approvers().begin(),
                                                   approval.approvers().end());
  absl::flat_hash_set<std::string> counted;
  int approvals = 0, rejections = 0;
  for (const v1::ApproverDecision& d : approval.decisions()) {
    if (!approvers.contains(d.approver()) || !counted.insert(d.approver()).second) continue;
    if (d.decision() == v1::DECISION_APPROVE) ++approvals;
    if (d.decision() == v1::DECISION_REJECT) ++rejections;
  }
  const int total = static_cast<int>(approvers.size());
  const int undecided = total - approvals - rejections;
  if (total == 0) return v1::APPROVAL_OUTCOME_UNSPECIFIED;
  switch (approval.rule()) {
    case v1::APPROVAL_RULE_ALL:
      if (rejections > 0) return v1::APPROVAL_OUTCOME_REJECTED;
      if (approvals == total) return v1::APPROVAL_OUTCOME_APPROVED;
      break;
    case v1::APPROVAL_RULE_ANY:
      if (approvals > 0) return v1::APPROVAL_OUTCOME_APPROVED;
      if (rejections == total) return v1::APPROVAL_OUTCOME_REJECTED;
      break;
    case v1::APPROVAL_RULE_QUORUM: {
      const int quorum = std::max<int>(1, static_cast<int>(approval.quorum()));
      if (approvals >= quorum) return v1::APPROVAL_OUTCOME_APPROVED;
      if (approvals + undecided < quorum) return v1::APPROVAL_OUTCOME_REJECTED;
      break;
    }
    default:  // An unspecified rule decides nothing; ApprovalCompleted may record it.
      break;
  }
  return v1::APPROVAL_OUTCOME_UNSPECIFIED;
}

v1::Approval* FindApproval(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_approvals(), &v1::Approval::approval_id, id);
}

void Apply(const v1::ApprovalRequested& e, const Ctx& c) {
  v1::Approval* approval =
      FindOrAdd(c, c.state.mutable_approvals(), &v1::Approval::approval_id, e.approval_id()).first;
  approval->set_approval_id(e.approval_id());
  approval->set_subject(e.subject());
  approval->set_subject_id(e.subject_id());
  *approval->mutable_approvers() = e.approvers();
  approval->set_rule(e.rule());
  approval->set_quorum(e.quorum());
  approval->set_due_date(e.due_date());
  c.SetRef(approval->mutable_requested());
}

void Apply(const v1::ApprovalDecided& e, const Ctx& c) {
  v1::Approval* approval = FindApproval(c, e.approval_id());
  if (approval == nullptr) return;
  v1::ApproverDecision* decision = approval->add_decisions();
  decision->set_approver(e.approver());
  decision->set_decision(e.decision());
  decision->set_comment(e.comment());
  c.SetRef(decision->mutable_decided());
  // Once determined the outcome stays: later decisions are recorded, not counted.
  if (approval->outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED) {
    approval->set_outcome(ComputeOutcome(*approval));
  }
}

void Apply(const v1::ApprovalCompleted& e, const Ctx& c) {
  // The server accepts this event only when its outcome matches the computed one; the
  // event's outcome is used only where the rule computed none (an unspecified rule).
  v1::Approval* approval = FindApproval(c, e.approval_id());
  if (approval == nullptr) return;
  approval->set_completed(true);
  if (approval->outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED) approval->set_outcome(e.outcome());
}

// ---------------------------------------------------------------------------------------
// Quality and acceptance

v1::Deliverable* FindDeliverable(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_deliverables(), &v1::Deliverable::deliverable_id, id);
}

// Criteria and submissions may come first; either names the deliverable.
v1::Deliverable* FindOrAddDeliverable(const Ctx& c, const std::string& id,
                                      const std::string& title) {
  v1::Deliverable* deliverable =
      FindOrAdd(c, c.state.mutable_deliverables(), &v1::Deliverable::deliverable_id, id).first;
  deliverable->set_deliverable_id(id);
  if (!title.empty()) deliverable->set_title(title);
  return deliverable;
}

void DecideDeliverable(const Ctx& c, const std::string& id, v1::DeliverableStatus status,
                       const std::string& decided_by) {
  v1::Deliverable* deliverable = FindDeliverable(c, id);
  if (deliverable == nullptr) return;
  deliverable->set_status(status);
  deliverable->set_decided_by(decided_by);
  c.SetRef(deliverable->mutable_decided());
}

void Apply(const v1::AcceptanceCriteriaDefined& e, const Ctx& c) {
  v1::Deliverable* deliverable = FindOrAddDeliverable(c, e.deliverable_id(), e.title());
  *deliverable->mutable_criteria() = e.criteria();
  if (deliverable->status() == v1::DELIVERABLE_STATUS_UNSPECIFIED) {
    deliverable->set_status(v1::DELIVERABLE_STATUS_DEFINED);
  }
}

void Apply(const v1::DeliverableSubmitted& e, const Ctx& c) {
  v1::Deliverable* deliverable = FindOrAddDeliverable(c, e.deliverable_id(), e.title());
  deliverable->set_version(e.version());
  deliverable->set_uri(e.uri());
  deliverable->set_status(v1::DELIVERABLE_STATUS_SUBMITTED);
  deliverable->set_submissions(deliverable->submissions() + 1);
}

void Apply(const v1::QualityReviewed& e, const Ctx& c) {
  if (v1::Deliverable* deliverable = FindDeliverable(c, e.deliverable_id())) {
    deliverable->set_status(v1::DELIVERABLE_STATUS_REVIEWED);
    deliverable->set_last_review(e.result());
    *deliverable->mutable_findings() = e.findings();
  }
}

void Apply(const v1::DeliverableAccepted& e, const Ctx& c) {
  DecideDeliverable(c, e.deliverable_id(), v1::DELIVERABLE_STATUS_ACCEPTED, e.accepted_by());
}

void Apply(const v1::DeliverableRejected& e, const Ctx& c) {
  DecideDeliverable(c, e.deliverable_id(), v1::DELIVERABLE_STATUS_REJECTED, e.rejected_by());
}

// ---------------------------------------------------------------------------------------
// What the client owes

v1::ClientAction* FindClientAction(const Ctx& c, const std::string& id) {
  return Find(c, c.state.mutable_client_actions(), &v1::ClientAction::action_id, id);
}

void Apply(const v1::ClientActionRequested& e, const Ctx& c) {
  auto [action, is_new] =
      FindOrAdd(c, c.state.mutable_client_actions(), &v1::ClientAction::action_id, e.action_id());
  action->set_action_id(e.action_id());
  action->set_kind(e.kind());
  action->set_title(e.title());
  action->set_due_date(e.due_date());
  action->set_requested_from(e.requested_from());
  if (is_new) {
    action->set_requested_on(c.RecordedDate());
    action->set_status(v1::CLIENT_ACTION_STATUS_PENDING);
  }
}

void Apply(const v1::ClientReminderSent& e, const Ctx& c) {
  if (v1::ClientAction* action = FindClientAction(c, e.action_id())) {
    action->set_reminders(action->reminders() + 1);
  }
}

void Apply(const v1::ClientActionEscalated& e, const Ctx& c) {
  v1::ClientAction* action = FindClientAction(c, e.action_id());
  if (action == nullptr || action->status() == v1::CLIENT_ACTION_STATUS_DONE) return;
  action->set_status(v1::CLIENT_ACTION_STATUS_ESCALATED);
  action->set_escalated_to(e.escalated_to());
}

void Apply(const v1::ClientActionCompleted& e, const Ctx& c) {
  v1::ClientAction* action = FindClientAction(c, e.action_id());
  if (action == nullptr) return;
  action->set_status(v1::CLIENT_ACTION_STATUS_DONE);
  action->set_completed_on(c.DateOr(e.completed_on()));
  const std::optional<absl::CivilDay> completed = ToDay(action->completed_on());
  action->set_days_late(completed.has_value() ? DaysPast(action->due_date(), *completed) : 0);
  action->set_overdue(false);
}

// ---------------------------------------------------------------------------------------
// Feedback, satisfaction, incentives, documents

void Apply(const v1::FeedbackReceived& e, const Ctx& c) {
  v1::FeedbackItem* item =
      FindOrAdd(c, c.state.mutable_feedback(), &v1::FeedbackItem::feedback_id, e.feedback_id()).first;
  item->set_feedback_id(e.feedback_id());
  item->set_channel(e.channel());
  item->set_sentiment(e.sentiment());
  item->set_text(e.text());
  item->set_subject(e.subject());
  item->set_from(e.from());
  c.SetRef(item->mutable_received());
}

void Apply(const v1::SatisfactionSurveyed& e, const Ctx& c) {
  // NPS 0 is an answer, so presence (proto3 optional) and not the value says "answered".
  v1::SurveyResult* survey =
      FindOrAdd(c, c.state.mutable_surveys(), &v1::SurveyResult::survey_id, e.survey_id()).first;
  survey->set_survey_id(e.survey_id());
  survey->set_has_csat(e.has_csat());
  survey->set_csat(e.csat());
  survey->set_has_nps(e.has_nps());
  survey->set_nps(e.nps());
  survey->set_comment(e.comment());
  c.SetRef(survey->mutable_received());
}

void Apply(const v1::IncentiveSet& e, const Ctx& c) {
  v1::Incentive* incentive =
      FindOrAdd(c, c.state.mutable_incentives(), &v1::Incentive::incentive_id, e.incentive_id()).first;
  incentive->set_incentive_id(e.incentive_id());
  incentive->set_milestone_id(e.milestone_id());
  incentive->set_description(e.description());
  *incentive->mutable_reward() = e.reward();
}

void Apply(const v1::IncentiveEarned& e, const Ctx& c) {
  if (v1::Incentive* incentive =
          Find(c, c.state.mutable_incentives(), &v1::Incentive::incentive_id, e.incentive_id())) {
    incentive->set_earned(true);
    incentive->set_earned_on(c.DateOr(e.earned_on()));
  }
}

void Apply(const v1::DocumentShared& e, const Ctx& c) {
  // Sharing a document id again is a new version of it.
  v1::Document* document =
      FindOrAdd(c, c.state.mutable_documents(), &v1::Document::document_id, e.document_id()).first;
  document->set_document_id(e.document_id());
  document->set_title(e.title());
  document->set_version(e.version());
  document->set_uri(e.uri());
  document->set_content_sha256(e.content_sha256());
}

// ---------------------------------------------------------------------------------------
// Lifecycle and closing

void Apply(const v1::ProjectPaused&, const Ctx& c) {
  if (c.state.status() == v1::LIFECYCLE_STATUS_ACTIVE) c.state.set_status(v1::LIFECYCLE_STATUS_PAUSED);
}

void Apply(const v1::ProjectResumed&, const Ctx& c) {
  if (c.state.status() == v1::LIFECYCLE_STATUS_PAUSED) c.state.set_status(v1::LIFECYCLE_STATUS_ACTIVE);
}

void Apply(const v1::ProjectClosed& e, const Ctx& c) {
  c.state.set_status(v1::LIFECYCLE_STATUS_CLOSED);
  c.state.set_closed_summary(e.summary());
  c.state.set_final_acceptance(e.final_acceptance());
}

void Apply(const v1::LessonRecorded& e, const Ctx& c) {
  v1::Lesson* lesson =
      FindOrAdd(c, c.state.mutable_lessons(), &v1::Lesson::lesson_id, e.lesson_id()).first;
  lesson->set_lesson_id(e.lesson_id());
  lesson->set_went_well(e.went_well());
  lesson->set_went_badly(e.went_badly());
  lesson->set_action(e.action());
}

// ---------------------------------------------------------------------------------------
// Corrections: applying one records it; undoing the named event is Replay's job.

void AddCorrection(const Ctx& c, const std::string& event_id, bool retracted,
                   const std::string& reason) {
  v1::Correction* correction = c.state.add_corrections();
  correction->set_event_id(event_id);
  correction->set_by_event_id(c.event.event_id());
  correction->set_by_version(c.event.version());
  correction->set_retracted(retracted);
  correction->set_reason(reason);
}

void Apply(const v1::EventRetracted& e, const Ctx& c) {
  AddCorrection(c, e.retracted_event_id(), /*retracted=*/true, e.reason());
}

void Apply(const v1::EventCorrected& e, const Ctx& c) {
  AddCorrection(c, e.corrected_event_id(), /*retracted=*/false, e.reason());
}

// ---------------------------------------------------------------------------------------
// Dispatch

void ApplyPayloadEffect(const v1::EventPayload& p, const Ctx& c) {
  using P = v1::EventPayload;
  switch (p.event_case()) {
    case P::kProjectCreated: return Apply(p.project_created(), c);
    case P::kStatusUpdated: return Apply(p.status_updated(), c);
    case P::kChangeRequested: return Apply(p.change_requested(), c);
    case P::kApprovalDecided: return Apply(p.approval_decided(), c);
    case P::kFeedbackReceived: return Apply(p.feedback_received(), c);
    case P::kGoalSet: return Apply(p.goal_set(), c);
    case P::kScopeItemAdded: return Apply(p.scope_item_added(), c);
    case P::kScopeItemRemoved: return Apply(p.scope_item_removed(), c);
    case P::kCharterConfirmed: return Apply(p.charter_confirmed(), c);
    case P::kMemberAdded: return Apply(p.member_added(), c);
    case P::kMemberRoleChanged: return Apply(p.member_role_changed(), c);
    case P::kMemberRemoved: return Apply(p.member_removed(), c);
    case P::kMilestonePlanned: return Apply(p.milestone_planned(), c);
    case P::kMilestoneRescheduled: return Apply(p.milestone_rescheduled(), c);
    case P::kMilestoneReached: return Apply(p.milestone_reached(), c);
    case P::kMilestoneMissed: return Apply(p.milestone_missed(), c);
    case P::kTaskPlanned: return Apply(p.task_planned(), c);
    case P::kTaskProgressReported: return Apply(p.task_progress_reported(), c);
    case P::kTaskCompleted: return Apply(p.task_completed(), c);
    case P::kTaskBlocked: return Apply(p.task_blocked(), c);
    case P::kResourceAllocated: return Apply(p.resource_allocated(), c);
    case P::kBudgetSet: return Apply(p.budget_set(), c);
    case P::kCostRecorded: return Apply(p.cost_recorded(), c);
    case P::kResponsibilityAssigned: return Apply(p.responsibility_assigned(), c);
    case P::kCommunicationPlanSet: return Apply(p.communication_plan_set(), c);
    case P::kMeetingHeld: return Apply(p.meeting_held(), c);
    case P::kActionItemAssigned: return Apply(p.action_item_assigned(), c);
    case P::kActionItemCompleted: return Apply(p.action_item_completed(), c);
    case P::kReportPublished: return Apply(p.report_published(), c);
    case P::kRiskIdentified: return Apply(p.risk_identified(), c);
    case P::kRiskAssessed: return Apply(p.risk_assessed(), c);
    case P::kRiskResponsePlanned: return Apply(p.risk_response_planned(), c);
    case P::kRiskOccurred: return Apply(p.risk_occurred(), c);
    case P::kIssueRaised: return Apply(p.issue_raised(), c);
    case P::kIssueResolved: return Apply(p.issue_resolved(), c);
    case P::kRiskClosed: return Apply(p.risk_closed(), c);
    case P::kChangeAssessed: return Apply(p.change_assessed(), c);
    case P::kChangeApproved: return Apply(p.change_approved(), c);
    case P::kChangeRejected: return Apply(p.change_rejected(), c);
    case P::kChangeImplemented: return Apply(p.change_implemented(), c);
    case P::kChangeWithdrawn: return Apply(p.change_withdrawn(), c);
    case P::kApprovalRequested: return Apply(p.approval_requested(), c);
    case P::kApprovalCompleted: return Apply(p.approval_completed(), c);
    case P::kAcceptanceCriteriaDefined: return Apply(p.acceptance_criteria_defined(), c);
    case P::kDeliverableSubmitted: return Apply(p.deliverable_submitted(), c);
    case P::kQualityReviewed: return Apply(p.quality_reviewed(), c);
    case P::kDeliverableAccepted: return Apply(p.deliverable_accepted(), c);
    case P::kDeliverableRejected: return Apply(p.deliverable_rejected(), c);
    case P::kClientActionRequested: return Apply(p.client_action_requested(), c);
    case P::kClientReminderSent: return Apply(p.client_reminder_sent(), c);
    case P::kClientActionEscalated: return Apply(p.client_action_escalated(), c);
    case P::kClientActionCompleted: return Apply(p.client_action_completed(), c);
    case P::kSatisfactionSurveyed: return Apply(p.satisfaction_surveyed(), c);
    case P::kIncentiveSet: return Apply(p.incentive_set(), c);
    case P::kIncentiveEarned: return Apply(p.incentive_earned(), c);
    case P::kDocumentShared: return Apply(p.document_shared(), c);
    case P::kProjectPaused: return Apply(p.project_paused(), c);
    case P::kProjectResumed: return Apply(p.project_resumed(), c);
    case P::kProjectClosed: return Apply(p.project_closed(), c);
    case P::kLessonRecorded: return Apply(p.lesson_recorded(), c);
    case P::kEventRetracted: return Apply(p.event_retracted(), c);
    case P::kEventCorrected: return Apply(p.event_corrected(), c);
    case P::EVENT_NOT_SET:  // Rejected on append; a replacement may be empty. No effect.
      return;
  }
}

// The envelope's fields of the state. No payload effect reads them, so Replay sets them
// once, after its last event; the project id is the last non-empty one.
void ApplyEnvelope(const v1::RecordedEvent& event, v1::ProjectState* state) {
  if (!event.project_id().empty()) state->set_project_id(event.project_id());
  state->set_version(event.version());
  *state->mutable_last_activity() = event.recorded_at();
  // Hex in place: the string keeps its buffer from event to event during a replay.
  std::string* hex = state->mutable_last_event_hash_hex();
  const std::string& hash = event.hash();
  hex->resize(hash.size() * 2);
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < hash.size(); ++i) {
    (*hex)[2 * i] = kDigits[static_cast<unsigned char>(hash[i]) >> 4];
    (*hex)[2 * i + 1] = kDigits[static_cast<unsigned char>(hash[i]) & 0xf];
  }
}

// `payload` with `event`'s envelope: the event's own payload, or a correction's replacement.
void ApplyPayload(const v1::EventPayload& payload, const v1::RecordedEvent& event,
                  v1::ProjectState* state, ProjectIndex::Tables* index) {
  ApplyPayloadEffect(payload, Ctx{event, *state, index});
  ApplyEnvelope(event, state);
}

// ---------------------------------------------------------------------------------------
// Replay with corrections

// What Replay applies for each of the first `count` events: its payload, the replacement
// of the correction that counts for it, or nullptr when it is retracted. Settled newest
// first, so each event's own fate is known before it acts on older ones: a retracted
// correction corrects nothing, and of several corrections of an event the latest wins.
// Targets must be earlier events; a correction naming a later or unknown event only
// records itself.
std::vector<const v1::EventPayload*> EffectivePayloads(
    const std::vector<v1::RecordedEvent>& events, size_t count) {
  std::vector<const v1::EventPayload*> effective(count);
  bool any_correction = false;
  for (size_t i = 0; i < count; ++i) {
    effective[i] = &events[i].payload();
    any_correction |= CorrectionTarget(*effective[i]) != nullptr;
  }
  if (!any_correction) return effective;
  absl::flat_hash_map<absl::string_view, size_t> index_of;  // Views into `events`.
  index_of.reserve(count);
  for (size_t i = 0; i < count; ++i) index_of.emplace(events[i].event_id(), i);
  std::vector<bool> settled(count, false);  // A later event already decided its fate.
  for (size_t i = count; i-- > 0;) {
    if (effective[i] == nullptr) continue;
    const std::string* target_id = CorrectionTarget(*effective[i]);
    if (target_id == nullptr) continue;
    const auto it = index_of.find(*target_id);
    if (it == index_of.end() || it->second >= i || settled[it->second]) continue;
    settled[it->second] = true;
    effective[it->second] = effective[i]->has_event_corrected()
                                ? &effective[i]->event_corrected().replacement()
                                : nullptr;
  }
  return effective;
}

// How many leading events are within the options' limits (events come in stream order
// and recorded_at never decreases along it).
size_t CountWithinLimits(const std::vector<v1::RecordedEvent>& events,
                         const ReplayOptions& options) {
  size_t count = 0;
  for (const v1::RecordedEvent& event : events) {
    if (options.up_to_version != 0 && event.version() > options.up_to_version) break;
    if (options.recorded_up_to.has_value() &&
        ToTime(event.recorded_at()) > *options.recorded_up_to) {
      break;
    }
    ++count;
  }
  return count;
}

}  // namespace

void ApplyEvent(const v1::RecordedEvent& event, v1::ProjectState* state) {
  ApplyPayload(event.payload(), event, state, /*index=*/nullptr);
}

void ApplyEvent(const v1::RecordedEvent& event, v1::ProjectState* state, ProjectIndex* index) {
  ApplyPayload(event.payload(), event, state, &index->tables());
}

void ApplyEventEffect(const v1::RecordedEvent& event, v1::ProjectState* state,
                      ProjectIndex* index) {
  ApplyPayloadEffect(event.payload(), Ctx{event, *state, &index->tables()});
}

void ApplyEventEnvelope(const v1::RecordedEvent& last, v1::ProjectState* state) {
  ApplyEnvelope(last, state);
}

const std::string* CorrectionTarget(const v1::EventPayload& payload) {
  if (payload.has_event_retracted()) return &payload.event_retracted().retracted_event_id();
  if (payload.has_event_corrected()) return &payload.event_corrected().corrected_event_id();
  return nullptr;
}

bool NeedsReplay(const v1::RecordedEvent& event) {
  return CorrectionTarget(event.payload()) != nullptr;
}

std::vector<std::string> CorrectionTargetsOutside(const std::vector<v1::RecordedEvent>& events) {
  std::vector<std::string> outside;
  absl::flat_hash_set<absl::string_view> ids;  // Built only when a correction is there.
  for (const v1::RecordedEvent& event : events) {
    const std::string* target = CorrectionTarget(event.payload());
    if (target == nullptr) continue;
    if (ids.empty()) {
      ids.reserve(events.size());
      for (const v1::RecordedEvent& e : events) ids.insert(e.event_id());
    }
    if (!ids.contains(*target)) outside.push_back(*target);
  }
  return outside;
}

namespace {

// Applies the first `count` events to `state` as Replay does: each one's effective payload
// (EffectivePayloads), then the envelope of the last one applied.
void ApplyEffectiveEvents(const std::vector<v1::RecordedEvent>& events, size_t count,
                          v1::ProjectState* state, ProjectIndex* index) {
  const std::vector<const v1::EventPayload*> effective = EffectivePayloads(events, count);
  const v1::RecordedEvent* last = nullptr;             // The last event applied,
  const v1::RecordedEvent* last_with_project = nullptr;  // and the last naming the project.
  for (size_t i = 0; i < count; ++i) {
    // A retracted event is skipped whole; its retraction, later, advances the version.
    if (effective[i] == nullptr) continue;
    ApplyPayloadEffect(*effective[i], Ctx{events[i], *state, &index->tables()});
    last = &events[i];
    if (!last->project_id().empty()) last_with_project = last;
  }
  // What applying each event's envelope in turn leaves.
  if (last_with_project != nullptr) state->set_project_id(last_with_project->project_id());
  if (last != nullptr) ApplyEnvelope(*last, state);
}

}  // namespace

void ReplayOnto(const std::vector<v1::RecordedEvent>& events, v1::ProjectState* state,
                ProjectIndex* index) {
  ApplyEffectiveEvents(events, events.size(), state, index);
}

v1::ProjectState Replay(const std::vector<v1::RecordedEvent>& events,
                        const ReplayOptions& options) {
  v1::ProjectState state;
  ProjectIndex index;
  ApplyEffectiveEvents(events, CountWithinLimits(events, options), &state, &index);
  if (options.now.has_value()) ComputeAsOf(*options.now, &state);
  return state;
}

absl::Status ReplayInTwoPasses(absl::FunctionRef<absl::Status(EventVisitor)> stream,
                               const ReplayOptions& options, v1::ProjectState* state) {
  // Pass 1: the retractions and corrections, with their ordinals in the stream.
  struct Correction {
    uint64_t ordinal;
    v1::RecordedEvent event;
    const v1::EventPayload* effective;  // Its own payload, or what a later one made it.
  };
  std::vector<Correction> corrections;
  absl::flat_hash_map<std::string, size_t> correction_by_id;  // Into `corrections`.
  uint64_t ordinal = 0;
  absl::Status s = stream([&](const v1::RecordedEvent& event) {
    if (CorrectionTarget(event.payload()) != nullptr) {
      correction_by_id.emplace(event.event_id(), corrections.size());
      corrections.push_back({ordinal, event, nullptr});
    }
    ++ordinal;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  const uint64_t first_pass_events = ordinal;
  for (Correction& c : corrections) c.effective = &c.event.payload();

  // Fates, newest first as EffectivePayloads settles them. A correction naming another
  // correction is settled here (both ordinals are known); one naming any other event
  // becomes a candidate for it, newest first, and the second pass takes the newest
  // candidate that comes after the event (an earlier one only records itself).
  std::vector<bool> settled(corrections.size(), false);
  struct Candidate {
    uint64_t ordinal;
    const v1::EventPayload* effective;  // nullptr: retracted.
  };
  absl::flat_hash_map<std::string, std::vector<Candidate>> candidates;
  for (size_t k = corrections.size(); k-- > 0;) {
    const Correction& c = corrections[k];
    if (c.effective == nullptr) continue;
    const std::string* target_id = CorrectionTarget(*c.effective);
    if (target_id == nullptr) continue;
    const v1::EventPayload* fate = c.effective->has_event_corrected()
                                       ? &c.effective->event_corrected().replacement()
                                       : nullptr;
    if (auto it = correction_by_id.find(*target_id); it != correction_by_id.end()) {
      const size_t t = it->second;
      if (corrections[t].ordinal >= c.ordinal || settled[t]) continue;
      settled[t] = true;
      corrections[t].effective = fate;
      continue;
    }
    candidates[*target_id].push_back({c.ordinal, fate});
  }

  // Pass 2: every event's effective payload, in order (the envelope after each: no effect
  // reads the envelope's fields, so the last one's is what stays, as in Replay).
  state->Clear();
  ProjectIndex index;
  size_t next_correction = 0;
  ordinal = 0;
  s = stream([&](const v1::RecordedEvent& event) {
    const v1::EventPayload* effective = &event.payload();
    if (next_correction < corrections.size() &&
        corrections[next_correction].ordinal == ordinal) {
      effective = corrections[next_correction++].effective;
    } else if (auto it = candidates.find(event.event_id()); it != candidates.end()) {
      for (const Candidate& c : it->second) {
        if (c.ordinal > ordinal) {
          effective = c.effective;
          break;
        }
      }
    }
    ++ordinal;
    if (effective == nullptr) return absl::OkStatus();  // Retracted.
    ApplyPayloadEffect(*effective, Ctx{event, *state, &index.tables()});
    ApplyEnvelope(event, state);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (ordinal != first_pass_events) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the stream replayed in two passes gave ", first_pass_events, " events, then ",
        ordinal, ": bound it (up_to_version) so both passes see the same events"));
  }
  if (options.now.has_value()) ComputeAsOf(*options.now, state);
  return absl::OkStatus();
}

absl::CivilDay ProjectDay(absl::Time now, const v1::ProjectState& state) {
  return absl::ToCivilDay(now, ProjectZone(state));
}

bool ActionItemOverdue(bool done, std::string_view due_date, absl::CivilDay today) {
  return !done && DaysPast(due_date, today) > 0;
}

ClientActionLateness ClientActionLatenessAsOf(v1::ClientActionStatus status,
                                              std::string_view due_date, int32_t days_late,
                                              absl::CivilDay today) {
  // Done: days_late keeps how late it was completed.
  if (status == v1::CLIENT_ACTION_STATUS_DONE) return {days_late, false};
  const int32_t late = DaysPast(due_date, today);
  return {late, late > 0};
}

void ComputeAsOf(absl::Time now, v1::ProjectState* state) {
  *state->mutable_as_of_now() = ToTimestamp(now);
  const absl::CivilDay today = ProjectDay(now, *state);
  for (v1::ActionItem& item : *state->mutable_action_items()) {
    item.set_overdue(ActionItemOverdue(item.done(), item.due_date(), today));
  }
  for (v1::ClientAction& action : *state->mutable_client_actions()) {
    const ClientActionLateness lateness =
        ClientActionLatenessAsOf(action.status(), action.due_date(), action.days_late(), today);
    action.set_days_late(lateness.days_late);
    action.set_overdue(lateness.overdue);
  }
}

std::string DeterministicBytes(const v1::ProjectState& state) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    state.SerializeToCodedStream(&coded);
  }  // The coded stream flushes into `bytes` when it goes.
  return bytes;
}

}  // namespace accord::domain
