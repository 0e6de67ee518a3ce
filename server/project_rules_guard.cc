#include "server/project_rules_guard.h"

#include "absl/strings/str_cat.h"
#include "server/domain/project_projection.h"
#include "server/domain/rules.h"
#include "server/event_translation.h"
#include "storage/event_id.h"

namespace accord::server {
namespace {

accord::v1::RecordedEvent ToRecorded(const storage::AppendBatch& batch, size_t i,
                                     uint64_t version, storage::Timestamp recorded_at,
                                     accord::v1::EventPayload payload) {
  const storage::ProposedRecord& e = batch.events[i];
  accord::v1::RecordedEvent r;
  r.set_project_id(batch.project_id);
  r.set_version(version);
  r.set_event_id(storage::FormatEventId(e.event_id));
  r.set_event_type(e.event_type);
  const storage::Timestamp occurred = e.occurred_at_set ? e.occurred_at : recorded_at;
  r.mutable_occurred_at()->set_seconds(occurred.seconds);
  r.mutable_occurred_at()->set_nanos(occurred.nanos);
  r.mutable_recorded_at()->set_seconds(recorded_at.seconds);
  r.mutable_recorded_at()->set_nanos(recorded_at.nanos);
  r.mutable_actor()->set_principal(batch.actor.principal);
  r.mutable_actor()->set_role(batch.actor.role);
  r.set_visibility(static_cast<accord::v1::Visibility>(e.visibility));
  r.set_schema_version(e.schema_version);
  *r.mutable_payload() = std::move(payload);
  return r;
}

}  // namespace

absl::StatusOr<accord::v1::ProjectState*> ProjectRulesGuard::StateFor(
    const std::string& project_id, storage::StreamHistory& history) {
  if (auto it = states_.find(project_id); it != states_.end()) return it->second.get();
  std::vector<storage::EventRecord> records;
  if (absl::Status s = history.ReadStream(project_id, &records); !s.ok()) return s;
  std::vector<accord::v1::RecordedEvent> events(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::Status s = ToRecordedEvent(records[i], &events[i]); !s.ok()) return s;
  }
  auto state = std::make_unique<accord::v1::ProjectState>(domain::Replay(events, {}));
  state->set_project_id(project_id);
  auto* raw = state.get();
  states_[project_id] = std::move(state);
  return raw;
}

absl::Status ProjectRulesGuard::Admit(const storage::AppendBatch& batch, uint64_t first_version,
                                      storage::Timestamp recorded_at,
                                      storage::StreamHistory& history) {
  auto state = StateFor(batch.project_id, history);
  if (!state.ok()) return state.status();

  // A multi-event append is checked on a copy, so that a refusal of its k-th event leaves
  // no trace of the first k-1; a single event is checked, then applied in place.
  accord::v1::ProjectState scratch;
  accord::v1::ProjectState* target = *state;
  if (batch.events.size() > 1) {
    scratch = **state;
    target = &scratch;
  }
  std::vector<accord::v1::RecordedEvent> admitted;
  bool needs_replay = false;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    accord::v1::EventPayload payload;
    if (const void* decoded = batch.events[i].decoded_payload; decoded != nullptr) {
      payload = *static_cast<const accord::v1::EventPayload*>(decoded);
    } else if (!payload.ParseFromString(batch.events[i].payload)) {
      return absl::InternalError(absl::StrCat("events[", i, "]: payload does not parse"));
    }
    domain::RuleContext context;
    context.actor = batch.actor.principal;
    context.path = absl::StrCat("events[", i, "]");
    context.event_type_of = [&](const std::string& id) -> std::optional<std::string> {
      for (const auto& earlier : admitted) {
        if (earlier.event_id() == id) return earlier.event_type();
      }
      auto parsed = storage::ParseEventId(id);
      if (!parsed) return std::nullopt;
      auto found = history.FindEvent(batch.project_id, *parsed);
      if (!found.ok() || !found->has_value()) return std::nullopt;
      return (*found)->event_type;
    };
    if (absl::Status s = domain::CheckRules(*target, payload, context); !s.ok()) return s;
    accord::v1::RecordedEvent event =
        ToRecorded(batch, i, first_version + i, recorded_at, std::move(payload));
    needs_replay |= domain::NeedsReplay(event);
    domain::ApplyEvent(event, target);
    admitted.push_back(std::move(event));
  }
  if (target == &scratch) **state = std::move(scratch);
  touched_.push_back(batch.project_id);
  if (needs_replay) stale_.insert(batch.project_id);
  return absl::OkStatus();
}

void ProjectRulesGuard::Commit() {
  for (const std::string& project_id : stale_) states_.erase(project_id);
  stale_.clear();
  touched_.clear();
}

void ProjectRulesGuard::Abort() {
  // What was admitted never reached the log: rebuild those projects from it next time.
  for (const std::string& project_id : touched_) states_.erase(project_id);
  stale_.clear();
  touched_.clear();
}

}  // namespace accord::server
