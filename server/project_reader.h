// Reads a project's state from the log by replaying its stream (up to a version or a
// time), for the Projects service. Knows the EventLog and the domain projection, not gRPC.
#ifndef ACCORD_SERVER_PROJECT_READER_H_
#define ACCORD_SERVER_PROJECT_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "accord/v1/projects.pb.h"
#include "server/domain/decision_history.h"
#include "server/domain/project_projection.h"
#include "storage/event_log.h"

namespace accord::server {

// The project's events in version order from `from_version`, up to options.up_to_version
// and options.recorded_up_to (options.now is not used here). NOT_FOUND if it has none.
absl::StatusOr<std::vector<accord::v1::RecordedEvent>> ReadProjectEvents(
    storage::EventLog& log, const std::string& project_id, const domain::ReplayOptions& options,
    uint64_t from_version = 1);

// Calls `visit` with each of the project's events in version order, from `from_version`
// up to `up_to_version` (0: all), one at a time (the event is reused: copy what is kept).
// Reads page by page without filling the block cache, so a long stream costs no memory.
absl::Status VisitProjectEvents(storage::EventLog& log, const std::string& project_id,
                                uint64_t up_to_version, domain::EventVisitor visit,
                                uint64_t from_version = 1);

// The current version of `project_id`; NOT_FOUND when it has no events.
absl::StatusOr<uint64_t> CurrentVersion(storage::EventLog& log, const std::string& project_id);

// The state of `project_id` as `options` ask, replayed from the log alone (no snapshot):
// what a rebuild computes. Applies the events page by page without keeping them; a stream
// holding a retraction or correction is read twice (domain::ReplayInTwoPasses), keeping
// only those. `*events_read`, when given, is set to the events replayed.
// NOT_FOUND if the project has no events (within the bounds).
absl::StatusOr<accord::v1::ProjectState> ReplayProjectFromLog(
    storage::EventLog& log, const std::string& project_id, const domain::ReplayOptions& options,
    uint64_t* events_read = nullptr);
// The same into `*state`, which must be empty and may live on an arena: a rebuild keeps
// each project's state on one, so its tens of thousands of items cost no malloc/free each.
absl::Status ReplayProjectFromLogInto(storage::EventLog& log, const std::string& project_id,
                                      const domain::ReplayOptions& options,
                                      accord::v1::ProjectState* state,
                                      uint64_t* events_read = nullptr);

// The state of `project_id` as `options` ask (its up_to_version / recorded_up_to / now),
// serialized (appended to `*out`): what GetProject sends. Reads start from the latest
// snapshot at or before the version wanted (a time bound is first turned into the last
// version recorded by then) and parse of it only the items the events after it touch
// (domain::LazyProjectState), so a past state of a long project costs about a copy of the
// snapshot's bytes, not a parse of it. When a retraction or correction follows that
// snapshot, they start from the snapshot before the earliest event the corrections name.
// Without a usable snapshot they replay the log. `*events_applied`, when given, is set to
// the events applied on top of the starting point. NOT_FOUND if the project has no events;
// OUT_OF_RANGE if up_to_version is beyond its current version.
absl::Status ReadProjectStateBytes(storage::EventLog& log, const std::string& project_id,
                                   const domain::ReplayOptions& options, std::string* out,
                                   uint64_t* events_applied = nullptr);
// The same, parsed.
absl::StatusOr<accord::v1::ProjectState> ReadProjectState(storage::EventLog& log,
                                                          const std::string& project_id,
                                                          const domain::ReplayOptions& options);

// The decision history of `project_id` (domain::DecisionHistory) up to its current
// version: the log streamed twice (memory bounded by the decisions, not the stream), both
// passes bounded at the version the call started from; the state after a correction read
// from snapshots. NOT_FOUND if the project has no events.
absl::StatusOr<std::unique_ptr<domain::DecisionHistoryBuilder>> BuildDecisionHistory(
    storage::EventLog& log, const std::string& project_id);
// `history` (of `project_id`) carried forward to the project's current version; false
// when the events since need it built anew (domain::DecisionHistoryBuilder::Extend).
absl::StatusOr<bool> ExtendDecisionHistory(storage::EventLog& log, const std::string& project_id,
                                           domain::DecisionHistoryBuilder& history);

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECT_READER_H_
