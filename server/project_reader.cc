#include "server/project_reader.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "spdlog/spdlog.h"
#include "server/domain/decision_history.h"
#include "server/domain/lazy_project_state.h"
#include "server/event_translation.h"
#include "server/project_snapshots.h"
#include "storage/event_id.h"

namespace accord::server {

absl::StatusOr<uint64_t> CurrentVersion(storage::EventLog& log, const std::string& project_id) {
  auto current = log.StreamVersion(project_id);
  if (!current.ok()) return current.status();
  if (*current == 0) {
    return absl::NotFoundError(absl::StrCat("project ", project_id, " has no events"));
  }
  return *current;
}

namespace {

// Calls `visit` with each of the project's stored events from `from_version` on, in
// version order and within `options`' bounds (up_to_version, recorded_up_to), page by
// page; `visit` returns false to stop. The one place both bounds are applied.
template <typename Visit>
absl::Status ForEachProjectEvent(storage::EventLog& log, const std::string& project_id,
                                 const domain::ReplayOptions& options, uint64_t from_version,
                                 bool fill_cache, Visit visit) {
  std::vector<storage::EventRecord> page;
  storage::ReadLimits limits;
  limits.max_count = 1024;
  limits.fill_cache = fill_cache;
  for (uint64_t next = from_version;;) {
    if (options.up_to_version != 0) {
      if (next > options.up_to_version) return absl::OkStatus();
      // Read no further than wanted: a short tail after a snapshot is a short read.
      limits.max_count = std::min<uint64_t>(1024, options.up_to_version - next + 1);
    }
    absl::Status s =
        log.ReadStream(project_id, next, storage::ReadDirection::kForwards, limits, &page);
    if (!s.ok()) return s;
    if (page.empty()) return absl::OkStatus();
    for (const storage::EventRecord& r : page) {
      if (options.up_to_version != 0 && r.version > options.up_to_version) {
        return absl::OkStatus();
      }
      // recorded_at never decreases along the log, so the first later event ends it.
      if (options.recorded_up_to.has_value() &&
          absl::FromUnixSeconds(r.recorded_at.seconds) + absl::Nanoseconds(r.recorded_at.nanos) >
              *options.recorded_up_to) {
        return absl::OkStatus();
      }
      absl::StatusOr<bool> more = visit(r);
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
    }
    next = page.back().version + 1;
  }
}

}  // namespace

absl::StatusOr<std::vector<accord::v1::RecordedEvent>> ReadProjectEvents(
    storage::EventLog& log, const std::string& project_id, const domain::ReplayOptions& options,
    uint64_t from_version) {
  std::vector<accord::v1::RecordedEvent> events;
  absl::Status s = ForEachProjectEvent(
      log, project_id, options, from_version, /*fill_cache=*/true,
      [&](const storage::EventRecord& r) -> absl::StatusOr<bool> {
        if (absl::Status c = ToRecordedEvent(r, &events.emplace_back()); !c.ok()) return c;
        return true;
      });
  if (!s.ok()) return s;
  return events;
}

absl::Status VisitProjectEvents(storage::EventLog& log, const std::string& project_id,
                                uint64_t up_to_version, domain::EventVisitor visit,
                                uint64_t from_version) {
  domain::ReplayOptions bounds;
  bounds.up_to_version = up_to_version;
  accord::v1::RecordedEvent event;
  return ForEachProjectEvent(log, project_id, bounds, from_version, /*fill_cache=*/false,
                             [&](const storage::EventRecord& r) -> absl::StatusOr<bool> {
                               event.Clear();
                               if (absl::Status c = ToRecordedEvent(r, &event); !c.ok()) return c;
                               if (absl::Status v = visit(event); !v.ok()) return v;
                               return true;
                             });
}

namespace {

// Applies the project's events from `from_version` within `options`' bounds to `*state`,
// each parsed onto an arena dropped every 1024 events. Returns false, with `*state`
// half-applied, at the first event that needs a full replay.
absl::StatusOr<bool> ApplyProjectEvents(storage::EventLog& log, const std::string& project_id,
                                        const domain::ReplayOptions& options,
                                        uint64_t from_version, accord::v1::ProjectState* state,
                                        domain::ProjectIndex* index, uint64_t* applied,
                                        bool fill_cache = true) {
  // One envelope message for all events (its strings keep their buffers); each payload
  // parsed onto the arena and lent to it for the apply.
  accord::v1::RecordedEvent event;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 1 << 20;
  auto arena = std::make_unique<google::protobuf::Arena>(arena_options);
  size_t on_arena = 0;
  bool needs_replay = false;
  absl::Status s = ForEachProjectEvent(
      log, project_id, options, from_version, fill_cache,
      [&](const storage::EventRecord& r) -> absl::StatusOr<bool> {
        if (++on_arena > 1024) {
          arena = std::make_unique<google::protobuf::Arena>(arena_options);
          on_arena = 1;
        }
        ToApplyEnvelope(r, &event);  // Overwrites every field it sets; sets nothing else.
        auto* payload =
            google::protobuf::Arena::CreateMessage<accord::v1::EventPayload>(arena.get());
        if (absl::Status c = ParseStoredPayload(r, payload); !c.ok()) return c;
        event.unsafe_arena_set_allocated_payload(payload);
        needs_replay = domain::NeedsReplay(event);
        // Each event's effect as it comes; the envelope only of the last one, below.
        if (!needs_replay) domain::ApplyEventEffect(event, state, index);
        event.unsafe_arena_release_payload();
        if (needs_replay) return false;
        ++*applied;
        return true;
      });
  if (!s.ok()) return s;
  if (needs_replay) return false;
  if (*applied > 0) domain::ApplyEventEnvelope(event, state);
  return true;
}

// The version a version-bounded read wants: options.up_to_version, checked against the
// project's `current` version, or `current`.
absl::StatusOr<uint64_t> WantedVersion(const std::string& project_id, uint64_t current,
                                       const domain::ReplayOptions& options) {
  if (options.up_to_version > current) {
    return absl::OutOfRangeError(absl::StrCat("as_of_version ", options.up_to_version,
                                              " is beyond project ", project_id,
                                              "'s current version ", current));
  }
  return options.up_to_version != 0 ? options.up_to_version : current;
}

// The last version of `project_id` (of `current` versions) recorded at or before `time`
// (0 if none was), found by binary search: recorded_at never decreases along the log, so
// neither along a stream.
absl::StatusOr<uint64_t> LastVersionRecordedBy(storage::EventLog& log,
                                               const std::string& project_id, uint64_t current,
                                               absl::Time time) {
  storage::ReadLimits one;
  one.max_count = 1;
  std::vector<storage::EventRecord> page;
  uint64_t low = 0, high = current;  // Invariant: low was recorded by `time`, high + 1 not.
  while (low < high) {
    const uint64_t mid = low + (high - low + 1) / 2;
    absl::Status s =
        log.ReadStream(project_id, mid, storage::ReadDirection::kForwards, one, &page);
    if (!s.ok()) return s;
    if (page.empty() || page.front().version != mid) {
      return absl::DataLossError(absl::StrCat("project ", project_id, ": version ", mid,
                                              " is missing from its stream"));
    }
    const storage::Timestamp& at = page.front().recorded_at;
    if (absl::FromUnixSeconds(at.seconds) + absl::Nanoseconds(at.nanos) <= time) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

// The project's state at `version` when a retraction or correction lies among the events
// after `snapshot`: from the snapshot before the earliest event that the corrections after
// it name (as the rules do, ProjectRulesGuard::Load), with domain::ReplayOnto over the
// events after that. Appends the state, serialized, to `*out`; false, with `*out`
// unchanged, when there is no such snapshot (the caller replays the whole stream). Each
// older stretch of the stream is read once more at most.
absl::StatusOr<bool> StateBytesFromSnapshotBeforeCorrections(
    storage::EventLog& log, const std::string& project_id, uint64_t version,
    storage::Snapshot snapshot, const domain::ReplayOptions& options, std::string* out,
    uint64_t* events_applied) {
  domain::ReplayOptions tail;
  tail.up_to_version = version;
  for (;;) {
    auto events = ReadProjectEvents(log, project_id, tail, snapshot.version + 1);
    if (!events.ok()) return events.status();
    // Where the events the corrections name sit: found by reading back from the snapshot.
    absl::flat_hash_set<storage::EventId, storage::EventIdHash> wanted;
    for (const std::string& id : domain::CorrectionTargetsOutside(*events)) {
      if (auto event_id = storage::ParseEventId(id); event_id.has_value()) wanted.insert(*event_id);
    }
    uint64_t earliest = snapshot.version + 1;
    std::vector<storage::EventRecord> page;
    storage::ReadLimits limits;
    limits.max_count = 1024;
    for (uint64_t next = snapshot.version; !wanted.empty() && next > 0;) {
      absl::Status s =
          log.ReadStream(project_id, next, storage::ReadDirection::kBackwards, limits, &page);
      if (!s.ok()) return s;
      if (page.empty()) break;
      for (const storage::EventRecord& r : page) {
        if (wanted.erase(r.event_id) > 0) earliest = std::min(earliest, r.version);
      }
      next = page.back().version - 1;
    }
    if (earliest > snapshot.version) {
      // Nothing the snapshot holds is named: it plus the rest is the state.
      std::optional<accord::v1::ProjectState> state = DecodeSnapshot(snapshot.bytes);
      if (!state.has_value() || state->version() != snapshot.version) return false;
      domain::ProjectIndex index;
      domain::ReplayOnto(*events, &*state, &index);
      if (options.now.has_value()) domain::ComputeAsOf(*options.now, &*state);
      state->set_project_id(project_id);
      state->AppendToString(out);
      if (events_applied != nullptr) *events_applied = events->size();
      return true;
    }
    if (earliest <= 1) return false;
    auto before = log.snapshots().FloorSnapshot(project_id, earliest - 1);
    if (!before.ok()) {
      // A damaged snapshot is a cache miss, as above.
      return absl::IsDataLoss(before.status()) ? absl::StatusOr<bool>(false) : before.status();
    }
    if (!before->has_value()) return false;
    snapshot = **std::move(before);
  }
}

// Starts from the latest snapshot at or before `version` and applies the events after it;
// appends the state, serialized, to `*out`, parsing of the snapshot only what those events
// touch (domain::LazyProjectState); after a retraction or correction, from an earlier
// snapshot (above). False, with `*out` unchanged, when no snapshot can be used (none, or
// another projection version).
absl::StatusOr<bool> StateBytesFromSnapshot(storage::EventLog& log,
                                            const std::string& project_id, uint64_t version,
                                            const domain::ReplayOptions& options,
                                            google::protobuf::Arena* arena, std::string* out,
                                            uint64_t* events_applied) {
  auto snapshot = log.snapshots().FloorSnapshot(project_id, version);
  if (!snapshot.ok()) {
    // A damaged snapshot is a cache miss: the state is replayed from the log.
    if (!absl::IsDataLoss(snapshot.status())) return snapshot.status();
    spdlog::warn("project {}: snapshot at or before version {} unusable, replaying: {}",
                 project_id, version, snapshot.status().ToString());
    return false;
  }
  if (!snapshot->has_value()) return false;
  const std::optional<SnapshotParts> parts = SnapshotPartsOf((*snapshot)->bytes);
  if (!parts.has_value()) return false;
  domain::LazyProjectState lazy(arena);
  if (!lazy.Init(parts->state, parts->id_tables) ||
      lazy.state()->version() != (*snapshot)->version) {
    return false;
  }
  domain::ReplayOptions tail;
  tail.up_to_version = version;
  uint64_t applied = 0;
  auto incremental = ApplyProjectEvents(log, project_id, tail, lazy.state()->version() + 1,
                                        lazy.state(), lazy.index(), &applied);
  if (!incremental.ok()) return incremental.status();
  if (!*incremental) {
    return StateBytesFromSnapshotBeforeCorrections(log, project_id, version,
                                                   **std::move(snapshot), options, out,
                                                   events_applied);
  }
  if (options.now.has_value()) lazy.ComputeAsOf(*options.now);
  lazy.state()->set_project_id(project_id);
  lazy.AppendTo(out);
  if (events_applied != nullptr) *events_applied = applied;
  return true;
}

}  // namespace

absl::Status ReadProjectStateBytes(storage::EventLog& log, const std::string& project_id,
                                   const domain::ReplayOptions& given, std::string* out,
                                   uint64_t* events_applied) {
  google::protobuf::Arena arena;
  auto current = CurrentVersion(log, project_id);
  if (!current.ok()) return current.status();
  domain::ReplayOptions options = given;
  if (options.recorded_up_to.has_value()) {
    // As of a time = as of the last version recorded by then (recorded_at never decreases
    // along the log), which snapshots serve; before the first event, the replay below
    // gives the empty state.
    auto version = LastVersionRecordedBy(log, project_id, *current, *options.recorded_up_to);
    if (!version.ok()) return version.status();
    if (*version != 0) {
      options.recorded_up_to.reset();
      options.up_to_version =
          options.up_to_version == 0 ? *version : std::min(options.up_to_version, *version);
    }
  }
  // Snapshots serve version-bounded reads (now, or as of a version).
  if (!options.recorded_up_to.has_value()) {
    auto version = WantedVersion(project_id, *current, options);
    if (!version.ok()) return version.status();
    auto from_snapshot =
        StateBytesFromSnapshot(log, project_id, *version, options, &arena, out, events_applied);
    if (!from_snapshot.ok()) return from_snapshot.status();
    if (*from_snapshot) return absl::OkStatus();
  }
  auto* state = google::protobuf::Arena::CreateMessage<accord::v1::ProjectState>(&arena);
  if (absl::Status s = ReplayProjectFromLogInto(log, project_id, options, state, events_applied);
      !s.ok()) {
    return s;
  }
  state->AppendToString(out);
  return absl::OkStatus();
}

absl::StatusOr<accord::v1::ProjectState> ReadProjectState(storage::EventLog& log,
                                                          const std::string& project_id,
                                                          const domain::ReplayOptions& options) {
  std::string bytes;
  if (absl::Status s = ReadProjectStateBytes(log, project_id, options, &bytes); !s.ok()) return s;
  accord::v1::ProjectState state;
  if (!state.ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat("project ", project_id,
                                            ": the state read does not parse"));
  }
  return state;
}

absl::Status ReplayProjectFromLogInto(storage::EventLog& log, const std::string& project_id,
                                     const domain::ReplayOptions& options,
                                     accord::v1::ProjectState* state, uint64_t* events_read) {
  {
    domain::ProjectIndex index;
    uint64_t applied = 0;
    // A whole stream read once: not worth the block cache.
    auto incremental = ApplyProjectEvents(log, project_id, options, 1, state, &index, &applied,
                                          /*fill_cache=*/false);
    if (!incremental.ok()) return incremental.status();
    if (*incremental) {
      if (applied == 0 && options.up_to_version == 0 && !options.recorded_up_to.has_value()) {
        return absl::NotFoundError(absl::StrCat("project ", project_id, " has no events"));
      }
      if (options.now.has_value()) domain::ComputeAsOf(*options.now, state);
      state->set_project_id(project_id);
      if (events_read != nullptr) *events_read = applied;
      return absl::OkStatus();
    }
  }
  // A retraction or correction: replay every event, which undoes what they name, in two
  // passes so that only the corrections are held (a stream need not fit in memory). Both
  // passes must read the same events: bounded at the current version.
  domain::ReplayOptions bounded = options;
  if (bounded.up_to_version == 0) {
    auto current = log.StreamVersion(project_id);
    if (!current.ok()) return current.status();
    bounded.up_to_version = *current;
  }
  uint64_t read = 0;
  accord::v1::RecordedEvent event;
  absl::Status s = domain::ReplayInTwoPasses(
      [&](domain::EventVisitor visit) -> absl::Status {
        read = 0;
        return ForEachProjectEvent(
            log, project_id, bounded, 1, /*fill_cache=*/false,
            [&](const storage::EventRecord& r) -> absl::StatusOr<bool> {
              event.Clear();
              if (absl::Status c = ToRecordedEvent(r, &event); !c.ok()) return c;
              if (absl::Status v = visit(event); !v.ok()) return v;
              ++read;
              return true;
            });
      },
      options, state);
  if (!s.ok()) return s;
  state->set_project_id(project_id);
  if (events_read != nullptr) *events_read = read;
  return absl::OkStatus();
}

absl::StatusOr<accord::v1::ProjectState> ReplayProjectFromLog(storage::EventLog& log,
                                                              const std::string& project_id,
                                                              const domain::ReplayOptions& options,
                                                              uint64_t* events_read) {
  accord::v1::ProjectState state;
  if (absl::Status s = ReplayProjectFromLogInto(log, project_id, options, &state, events_read);
      !s.ok()) {
    return s;
  }
  return state;
}

absl::StatusOr<std::unique_ptr<domain::DecisionHistoryBuilder>> BuildDecisionHistory(
    storage::EventLog& log, const std::string& project_id) {
  auto current = CurrentVersion(log, project_id);
  if (!current.ok()) return current.status();
  return domain::DecisionHistoryBuilder::Build(
      [&](domain::EventVisitor visit) {
        return VisitProjectEvents(log, project_id, *current, visit);
      },
      [&](uint64_t version) {
        domain::ReplayOptions options;
        options.up_to_version = version;
        return ReadProjectState(log, project_id, options);
      });
}

absl::StatusOr<bool> ExtendDecisionHistory(storage::EventLog& log, const std::string& project_id,
                                           domain::DecisionHistoryBuilder& history) {
  auto current = CurrentVersion(log, project_id);
  if (!current.ok()) return current.status();
  if (*current == history.version()) return true;
  return history.Extend([&](domain::EventVisitor visit) {
    return VisitProjectEvents(log, project_id, *current, visit, history.version() + 1);
  });
}

}  // namespace accord::server
