#include "server/project_reader.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/event_translation.h"
#include "server/project_snapshots.h"

namespace accord::server {

absl::StatusOr<std::vector<accord::v1::RecordedEvent>> ReadProjectEvents(
    storage::EventLog& log, const std::string& project_id, const domain::ReplayOptions& options,
    uint64_t from_version) {
  std::vector<accord::v1::RecordedEvent> events;
  std::vector<storage::EventRecord> page;
  storage::ReadLimits limits;
  limits.max_count = 1024;
  uint64_t next = from_version;
  for (;;) {
    if (options.up_to_version != 0 && next > options.up_to_version) break;
    absl::Status s =
        log.ReadStream(project_id, next, storage::ReadDirection::kForwards, limits, &page);
    if (!s.ok()) return s;
    if (page.empty()) break;
    bool past_time = false;
    for (const storage::EventRecord& r : page) {
      if (options.up_to_version != 0 && r.version > options.up_to_version) break;
      // recorded_at never decreases along the log, so the first later event ends it.
      if (options.recorded_up_to.has_value() &&
          absl::FromUnixSeconds(r.recorded_at.seconds) + absl::Nanoseconds(r.recorded_at.nanos) >
              *options.recorded_up_to) {
        past_time = true;
        break;
      }
      if (absl::Status c = ToRecordedEvent(r, &events.emplace_back()); !c.ok()) return c;
    }
    if (past_time) break;
    next = page.back().version + 1;
  }
  return events;
}

namespace {

// Starts from the latest snapshot at or before the wanted version and applies the events
// after it. nullopt when a snapshot cannot be used (none, another projection version, or
// a retraction/correction after it, which needs a full replay).
absl::StatusOr<std::optional<accord::v1::ProjectState>> StateFromSnapshot(
    storage::EventLog& log, const std::string& project_id, uint64_t version,
    const domain::ReplayOptions& options) {
  auto snapshot = log.snapshots().FloorSnapshot(project_id, version);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->has_value()) return std::nullopt;
  std::optional<accord::v1::ProjectState> state = DecodeSnapshot((*snapshot)->bytes);
  if (!state.has_value() || state->version() != (*snapshot)->version) return std::nullopt;
  domain::ReplayOptions tail;
  tail.up_to_version = version;
  auto events = ReadProjectEvents(log, project_id, tail, state->version() + 1);
  if (!events.ok()) return events.status();
  for (const auto& e : *events) {
    if (domain::NeedsReplay(e)) return std::nullopt;
  }
  domain::ProjectIndex index;  // Finds items by id without scanning the state's lists.
  for (const auto& e : *events) domain::ApplyEvent(e, &*state, &index);
  if (options.now.has_value()) domain::ComputeAsOf(*options.now, &*state);
  return state;
}

}  // namespace

absl::StatusOr<accord::v1::ProjectState> ReadProjectState(storage::EventLog& log,
                                                          const std::string& project_id,
                                                          const domain::ReplayOptions& options) {
  // Snapshots serve version-bounded reads (now, or as of a version); a time bound replays.
  if (!options.recorded_up_to.has_value()) {
    auto current = log.StreamVersion(project_id);
    if (!current.ok()) return current.status();
    if (*current == 0) {
      return absl::NotFoundError(absl::StrCat("project ", project_id, " has no events"));
    }
    if (options.up_to_version > *current) {
      return absl::OutOfRangeError(absl::StrCat("as_of_version ", options.up_to_version,
                                                " is beyond project ", project_id,
                                                "'s current version ", *current));
    }
    const uint64_t version = options.up_to_version != 0 ? options.up_to_version : *current;
    auto from_snapshot = StateFromSnapshot(log, project_id, version, options);
    if (!from_snapshot.ok()) return from_snapshot.status();
    if (from_snapshot->has_value()) {
      (*from_snapshot)->set_project_id(project_id);
      return **std::move(from_snapshot);
    }
  }
  auto events = ReadProjectEvents(log, project_id, options);
  if (!events.ok()) return events.status();
  accord::v1::ProjectState state = domain::Replay(*events, options);
  state.set_project_id(project_id);
  return state;
}

}  // namespace accord::server
