#include "server/project_reader.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
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

// Applies the project's events from `from_version` within `options`' bounds to `*state`,
// one page at a time, each page's events parsed onto one arena that is then dropped.
// Returns false, with `*state` half-applied, at the first event that needs a full replay.
absl::StatusOr<bool> ApplyProjectEvents(storage::EventLog& log, const std::string& project_id,
                                        const domain::ReplayOptions& options,
                                        uint64_t from_version, accord::v1::ProjectState* state,
                                        domain::ProjectIndex* index, uint64_t* applied,
                                        bool fill_cache = true) {
  std::vector<storage::EventRecord> page;
  storage::ReadLimits limits;
  limits.max_count = 1024;
  limits.fill_cache = fill_cache;
  accord::v1::RecordedEvent event;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 1 << 20;
  // Each event's effect is applied as it comes; the envelope (version, last activity,
  // hash) only for the last one applied, when the run ends.
  bool envelope_pending = false;
  auto finish = [&] {
    if (envelope_pending) domain::ApplyEventEnvelope(event, state);
    return true;
  };
  for (uint64_t next = from_version;;) {
    if (options.up_to_version != 0 && next > options.up_to_version) break;
    absl::Status s =
        log.ReadStream(project_id, next, storage::ReadDirection::kForwards, limits, &page);
    if (!s.ok()) return s;
    if (page.empty()) break;
    google::protobuf::Arena arena(arena_options);  // The page's payloads.
    for (const storage::EventRecord& r : page) {
      if (options.up_to_version != 0 && r.version > options.up_to_version) return finish();
      // recorded_at never decreases along the log, so the first later event ends it.
      if (options.recorded_up_to.has_value() &&
          absl::FromUnixSeconds(r.recorded_at.seconds) + absl::Nanoseconds(r.recorded_at.nanos) >
              *options.recorded_up_to) {
        return finish();
      }
      // One envelope message for all events (its strings keep their buffers), each
      // payload parsed onto the page's arena and lent to it for the apply.
      ToApplyEnvelope(r, &event);  // Overwrites every field it sets; sets nothing else.
      auto* payload = google::protobuf::Arena::CreateMessage<accord::v1::EventPayload>(&arena);
      if (absl::Status c = ParseStoredPayload(r, payload); !c.ok()) return c;
      event.unsafe_arena_set_allocated_payload(payload);
      const bool needs_replay = domain::NeedsReplay(event);
      if (!needs_replay) domain::ApplyEventEffect(event, state, index);
      event.unsafe_arena_release_payload();
      if (needs_replay) return false;
      envelope_pending = true;
      ++*applied;
    }
    next = page.back().version + 1;
  }
  return finish();
}

// Starts from the latest snapshot at or before the wanted version and applies the events
// after it, into `*state`. False when a snapshot cannot be used (none, another projection
// version, or a retraction/correction after it, which needs a full replay); `*state` is
// then unspecified.
absl::StatusOr<bool> StateFromSnapshot(storage::EventLog& log, const std::string& project_id,
                                       uint64_t version, const domain::ReplayOptions& options,
                                       accord::v1::ProjectState* state) {
  auto snapshot = log.snapshots().FloorSnapshot(project_id, version);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->has_value()) return false;
  if (!DecodeSnapshotInto((*snapshot)->bytes, state) ||
      state->version() != (*snapshot)->version) {
    return false;
  }
  domain::ReplayOptions tail;
  tail.up_to_version = version;
  domain::ProjectIndex index;  // Finds items by id without scanning the state's lists.
  uint64_t applied = 0;
  auto incremental =
      ApplyProjectEvents(log, project_id, tail, state->version() + 1, state, &index, &applied);
  if (!incremental.ok()) return incremental.status();
  if (!*incremental) return false;
  if (options.now.has_value()) domain::ComputeAsOf(*options.now, state);
  return true;
}

}  // namespace

absl::StatusOr<accord::v1::ProjectState> ReadProjectState(storage::EventLog& log,
                                                          const std::string& project_id,
                                                          const domain::ReplayOptions& options) {
  accord::v1::ProjectState state;
  if (absl::Status s = ReadProjectStateInto(log, project_id, options, &state); !s.ok()) return s;
  return state;
}

absl::Status ReadProjectStateInto(storage::EventLog& log, const std::string& project_id,
                                  const domain::ReplayOptions& options,
                                  accord::v1::ProjectState* out) {
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
    auto from_snapshot = StateFromSnapshot(log, project_id, version, options, out);
    if (!from_snapshot.ok()) return from_snapshot.status();
    if (*from_snapshot) {
      out->set_project_id(project_id);
      return absl::OkStatus();
    }
    out->Clear();
  }
  auto state = ReplayProjectFromLog(log, project_id, options);
  if (!state.ok()) return state.status();
  *out = *std::move(state);
  return absl::OkStatus();
}

absl::StatusOr<accord::v1::ProjectState> ReplayProjectFromLog(storage::EventLog& log,
                                                              const std::string& project_id,
                                                              const domain::ReplayOptions& options,
                                                              uint64_t* events_read) {
  accord::v1::ProjectState state;
  {
    domain::ProjectIndex index;
    uint64_t applied = 0;
    // A whole stream read once: not worth the block cache.
    auto incremental = ApplyProjectEvents(log, project_id, options, 1, &state, &index, &applied,
                                          /*fill_cache=*/false);
    if (!incremental.ok()) return incremental.status();
    if (*incremental) {
      if (applied == 0 && options.up_to_version == 0 && !options.recorded_up_to.has_value()) {
        return absl::NotFoundError(absl::StrCat("project ", project_id, " has no events"));
      }
      if (options.now.has_value()) domain::ComputeAsOf(*options.now, &state);
      state.set_project_id(project_id);
      if (events_read != nullptr) *events_read = applied;
      return state;
    }
  }
  // A retraction or correction: replay every event, which undoes what they name.
  auto events = ReadProjectEvents(log, project_id, options);
  if (!events.ok()) return events.status();
  state = domain::Replay(*events, options);
  state.set_project_id(project_id);
  if (events_read != nullptr) *events_read = events->size();
  return state;
}

}  // namespace accord::server
