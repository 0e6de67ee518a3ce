// The project-state projection: accord.v1.ProjectState as a pure function of a project's
// recorded events (proto/accord/v1/projects.proto describes the fields). Pure functions
// over protobuf messages and absl; no gRPC, no storage.
//
// Determinism: applying the same events yields byte-identical states (DeterministicBytes).
// Nothing here reads the wall clock; the only "now"-dependent fields (overdue, days_late of
// open items, as_of_now) are filled by ComputeAsOf with a clock the caller passes.
//
// Corrections: an EventRetracted or EventCorrected names an earlier event. Applying events
// one by one cannot undo the earlier one, so a caller holding incremental state must
// rebuild it when NeedsReplay(event) is true — with Replay, or with ReplayOnto from a state
// built before the event it names; ApplyEvent alone only records the Correction entry.
#ifndef ACCORD_SERVER_DOMAIN_PROJECT_PROJECTION_H_
#define ACCORD_SERVER_DOMAIN_PROJECT_PROJECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "accord/v1/common.pb.h"
#include "accord/v1/projects.pb.h"

namespace accord::domain {

class BaseItems;  // lazy_project_state.h

// Applies one recorded event of a project to `state`: the payload's effect, then the
// envelope (version, last_activity, last_event_hash_hex, project_id). References to items
// the state does not hold (a task never planned, ...) are ignored: the append rules reject
// such events, and a projection must not fail on a log it is given. Of the envelope it
// reads only version, event_id, recorded_at, actor.principal, hash and project_id (replays
// fill just those: server/event_translation.h ToApplyEnvelope; keep the two in step).
void ApplyEvent(const accord::v1::RecordedEvent& event, accord::v1::ProjectState* state);

// Where the items of one ProjectState sit in its lists, by id (and the project's time
// zone), so that applying an event finds the item it names without scanning: ApplyEvent
// with an index costs the same however many items the state holds. Built lazily from the
// state on first use and kept in step as events add items (the projection never removes
// or reorders items). An index belongs to one state: use it only with the state it was
// first used with, changed only through ApplyEvent with this index (items appended by
// other means are picked up; anything else, use a fresh index).
class ProjectIndex {
 public:
  ProjectIndex();
  ~ProjectIndex();
  ProjectIndex(const ProjectIndex&) = delete;
  ProjectIndex& operator=(const ProjectIndex&) = delete;

  struct Tables;  // Defined in project_projection.cc.
  Tables& tables() { return *tables_; }

  // Makes `items` (not owned) the not-yet-parsed items of the state's list field
  // `project_state_field` (a ProjectState field number of a list whose items have their
  // id in field 1): an item an event names that is not in the list is parsed from there
  // and appended to it (LazyProjectState). False for any other field.
  bool AttachBaseItems(int project_state_field, BaseItems* items);

 private:
  std::unique_ptr<Tables> tables_;
};

// The position in `items` (one of a state's lists) of the first item whose `id_of()` is
// `id`, or -1: through `index` when given (it must be the index kept with that state),
// else by scanning. Instantiated for every list type of ProjectState (project_projection.cc).
template <typename T>
int PositionOf(const google::protobuf::RepeatedPtrField<T>& items,
               const std::string& (T::*id_of)() const, const std::string& id,
               ProjectIndex* index);

// ApplyEvent(event, state), finding items through `index` (see ProjectIndex). Byte for
// byte the same result.
void ApplyEvent(const accord::v1::RecordedEvent& event, accord::v1::ProjectState* state,
                ProjectIndex* index);

// ApplyEvent(event, state, index) in two halves, for callers applying many events in a
// row: the payload's effect of each, then the envelope of the last one only (as Replay
// does: no effect reads the envelope's fields of the state). Same result.
void ApplyEventEffect(const accord::v1::RecordedEvent& event, accord::v1::ProjectState* state,
                      ProjectIndex* index);
void ApplyEventEnvelope(const accord::v1::RecordedEvent& last, accord::v1::ProjectState* state);

// The id of the event `payload` retracts or corrects, or nullptr for any other event.
const std::string* CorrectionTarget(const accord::v1::EventPayload& payload);

// True when `event` retracts or corrects an earlier event, so state built incrementally
// must be rebuilt with Replay over the whole stream (or with ReplayOnto from a state built
// before the event it names).
bool NeedsReplay(const accord::v1::RecordedEvent& event);

// The ids that retractions and corrections among `events` name and that are not the id of
// one of `events`: a state built up to just before `events` cannot take such a correction
// in (ReplayOnto needs a starting point before the event it names).
std::vector<std::string> CorrectionTargetsOutside(
    const std::vector<accord::v1::RecordedEvent>& events);

// Applies `events`, the stream right after the version `state` was built to (by Replay, or
// by ApplyEvent over events none of which needed a replay, or a snapshot of either), so
// that the result is what Replay over the whole stream gives: the retractions and
// corrections among `events` take effect. Valid only when every event they name that
// exists in the stream is among `events` (CorrectionTargetsOutside names the others).
void ReplayOnto(const std::vector<accord::v1::RecordedEvent>& events,
                accord::v1::ProjectState* state, ProjectIndex* index);

struct ReplayOptions {
  // Stop after this stream version; 0 means no limit.
  uint64_t up_to_version = 0;
  // Stop after the last event recorded at or before this time.
  std::optional<absl::Time> recorded_up_to;
  // When set, ComputeAsOf(*now, ...) runs on the result.
  std::optional<absl::Time> now;
};

// Rebuilds a project's state from its events, in stream order. Retractions and corrections
// among the replayed events (those within the options' limits, so a state "as of" a
// moment ignores later corrections) take effect: a retracted event is skipped, a corrected
// event's latest `replacement` is applied in its place with the original envelope. A
// retraction or correction that is itself retracted stops counting; the latest correction
// of an event wins. Each retraction or correction applied adds a Correction entry.
accord::v1::ProjectState Replay(const std::vector<accord::v1::RecordedEvent>& events,
                                const ReplayOptions& options = {});

// Replay for a stream too long to hold in memory: `stream` is called twice, each time
// calling the visitor it gets with every event to replay, in stream order, and returning
// the first error a visitor call returned (or its own). The first pass keeps only the
// retractions and corrections, the second applies each event's effective payload, so
// memory is bounded by the corrections, not the stream. Same state as Replay(events,
// options) over the events streamed (which must already be within the options' limits;
// only options.now is used here).
using EventVisitor = absl::FunctionRef<absl::Status(const accord::v1::RecordedEvent&)>;
absl::Status ReplayInTwoPasses(absl::FunctionRef<absl::Status(EventVisitor)> stream,
                               const ReplayOptions& options, accord::v1::ProjectState* state);

// Sets as_of_now and the fields that depend on it, in the project's time zone: overdue of
// open action items and client actions, and days_late of open client actions (days since
// the due date, never negative).
void ComputeAsOf(absl::Time now, accord::v1::ProjectState* state);

// What ComputeAsOf computes for one item, for callers that hold items as bytes
// (LazyProjectState). `today` is ProjectDay(now, state).
absl::CivilDay ProjectDay(absl::Time now, const accord::v1::ProjectState& state);
// An action item's `overdue`.
bool ActionItemOverdue(bool done, std::string_view due_date, absl::CivilDay today);
// A client action's `days_late` and `overdue`; a done one keeps its days_late.
struct ClientActionLateness {
  int32_t days_late;
  bool overdue;
};
ClientActionLateness ClientActionLatenessAsOf(accord::v1::ClientActionStatus status,
                                              std::string_view due_date, int32_t days_late,
                                              absl::CivilDay today);

// Serialization with deterministic map ordering, for comparing states byte for byte.
std::string DeterministicBytes(const accord::v1::ProjectState& state);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_PROJECT_PROJECTION_H_
