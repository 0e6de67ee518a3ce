#include "server/project_rules_guard.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "server/domain/project_projection.h"
#include "server/domain/rules.h"
#include "server/event_translation.h"
#include "server/project_snapshots.h"
#include "storage/event_id.h"

namespace accord::server {

absl::StatusOr<ProjectRulesGuard::CachedProject*> ProjectRulesGuard::StateFor(
    const std::string& project_id, storage::StreamHistory& history) {
  if (auto it = states_.find(project_id); it != states_.end()) {
    it->second->last_used = ++use_clock_;
    return it->second.get();
  }
  auto cached = std::make_unique<CachedProject>();
  if (absl::Status s = Load(project_id, history, cached.get()); !s.ok()) return s;
  return Install(project_id, std::move(cached));
}

ProjectRulesGuard::CachedProject* ProjectRulesGuard::Install(const std::string& project_id,
                                                             std::unique_ptr<CachedProject> cached) {
  auto* raw = cached.get();
  raw->last_used = ++use_clock_;
  snapshot_versions_[project_id] = raw->state.version();
  states_[project_id] = std::move(cached);
  return raw;
}

std::unique_ptr<storage::PreloadedProject> ProjectRulesGuard::Preload(
    const std::string& project_id, storage::StreamHistory& history) {
  auto preloaded = std::make_unique<Preloaded>();
  preloaded->project = std::make_unique<CachedProject>();
  // On an error Admit reads the project again on the writer, and reports what it finds.
  if (!Load(project_id, history, preloaded->project.get()).ok()) return nullptr;
  return preloaded;
}

void ProjectRulesGuard::Adopt(const std::string& project_id,
                              std::unique_ptr<storage::PreloadedProject> preloaded) {
  if (states_.contains(project_id)) return;  // Kept all along, so at least as recent.
  // Only Preload makes these, so the cast is safe.
  Install(project_id, std::move(static_cast<Preloaded&>(*preloaded).project));
}

absl::Status ProjectRulesGuard::Load(const std::string& project_id,
                                     storage::StreamHistory& history, CachedProject* out) {
  // From the latest snapshot and the events after it. A retraction or correction among
  // those events that names an event the snapshot already holds needs a starting point
  // before that event: the snapshot before it, else the whole stream. Either way the cost
  // is the events after the starting point, not the stream's length.
  uint64_t max_version = std::numeric_limits<uint64_t>::max();
  for (;;) {
    std::optional<accord::v1::ProjectState> base;
    if (max_version > 0) {
      auto snapshot = history.FloorSnapshot(project_id, max_version);
      if (!snapshot.ok()) {
        // A damaged snapshot is a cache miss (the log is the truth), not a reason to
        // refuse the project's appends until a rebuild rewrites it.
        if (!absl::IsDataLoss(snapshot.status())) return snapshot.status();
        spdlog::warn("project {}: snapshot unusable, replaying its log: {}", project_id,
                     snapshot.status().ToString());
      } else if (snapshot->has_value()) {
        base = DecodeSnapshot((*snapshot)->bytes);
        if (base.has_value() && base->version() != (*snapshot)->version) base.reset();
      }
    }
    std::vector<storage::EventRecord> records;
    const uint64_t from = base.has_value() ? base->version() + 1 : 1;
    if (absl::Status s = history.ReadStream(project_id, from, &records); !s.ok()) return s;
    std::vector<accord::v1::RecordedEvent> events(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (absl::Status s = ToRecordedEvent(records[i], &events[i]); !s.ok()) return s;
    }
    if (!base.has_value()) {
      out->state = domain::Replay(events, {});
      out->state.set_project_id(project_id);
      loaded_events_ += events.size();
      return absl::OkStatus();
    }
    // The earliest event before `from` that a correction after it names (ids that name no
    // event of the project only record themselves, in a replay too).
    uint64_t earliest = from;
    for (const std::string& id : domain::CorrectionTargetsOutside(events)) {
      const std::optional<storage::EventId> event_id = storage::ParseEventId(id);
      if (!event_id.has_value()) continue;
      auto named = history.FindEvent(project_id, *event_id);
      if (!named.ok()) return named.status();
      if (named->has_value()) earliest = std::min(earliest, (*named)->version);
    }
    if (earliest == from) {
      out->state = *std::move(base);
      domain::ReplayOnto(events, &out->state, &out->index);
      out->state.set_project_id(project_id);
      loaded_events_ += events.size();
      return absl::OkStatus();
    }
    max_version = earliest - 1;  // Try the snapshot before the earliest event named.
  }
}

absl::Status ProjectRulesGuard::Admit(const storage::AppendBatch& batch,
                                      const std::vector<storage::EventRecord>& recorded,
                                      storage::StreamHistory& history) {
  auto cached = StateFor(batch.project_id, history);
  if (!cached.ok()) return cached.status();
  accord::v1::ProjectState* target = &(*cached)->state;
  domain::ProjectIndex* index = &(*cached)->index;

  size_t admitted = 0;  // Events of this append applied so far.
  bool needs_replay = false;
  // One envelope message for every event (envelope_): it holds what a projection reads of
  // the envelope (ToApplyEnvelope, which overwrites each of those fields), and the
  // project, the same for every event of the append.
  accord::v1::RecordedEvent& event = envelope_;
  event.set_project_id(batch.project_id);
  domain::RuleContext context;
  context.actor = batch.actor.principal;
  context.path = "events";
  context.project_index = index;
  // Earlier events by id: those admitted so far from this append, then the log.
  auto event_type_of = [&](const std::string& id) -> std::optional<std::string> {
    auto event_id = storage::ParseEventId(id);
    if (!event_id) return std::nullopt;
    for (size_t j = 0; j < admitted; ++j) {
      if (recorded[j].event_id == *event_id) return recorded[j].event_type;
    }
    auto found = history.FindEvent(batch.project_id, *event_id);
    if (!found.ok() || !found->has_value()) return std::nullopt;
    return (*found)->event_type;
  };
  context.event_type_of.emplace(event_type_of);
  // Events are checked and applied in place, one by one (a later event of the append may
  // depend on an earlier one). Should the k-th be refused after k-1 were applied, the state
  // is dropped and rebuilt from the log on next use: refusals of multi-event appends are
  // rare, and copying the state for every append would cost O(state), not O(events).
  auto refuse = [&](absl::Status s) {
    if (admitted > 0) states_.erase(batch.project_id);
    return s;
  };
  for (size_t i = 0; i < batch.events.size(); ++i) {
    accord::v1::EventPayload parsed;
    const auto* payload = static_cast<const accord::v1::EventPayload*>(batch.events[i].decoded_payload);
    if (payload == nullptr) {
      if (!parsed.ParseFromString(batch.events[i].payload)) {
        return refuse(absl::InternalError(absl::StrCat("events[", i, "]: payload does not parse")));
      }
      payload = &parsed;
    }
    context.index = static_cast<int>(i);
    if (absl::Status s = domain::CheckRules(*target, *payload, context); !s.ok()) {
      return refuse(s);
    }
    ToApplyEnvelope(recorded[i], &event);
    // The event borrows the payload for the apply (which copies what it keeps) instead of
    // copying it: this runs on the log's single writer thread, once per appended event.
    event.unsafe_arena_set_allocated_payload(const_cast<accord::v1::EventPayload*>(payload));
    needs_replay |= domain::NeedsReplay(event);
    domain::ApplyEvent(event, target, index);
    event.unsafe_arena_release_payload();
    ++admitted;
  }
  admitting_.touched.push_back(batch.project_id);
  // A retraction or correction changes what earlier events mean, which applying it does
  // not undo: rebuild the state (from the log and what is admitted) on next use.
  if (needs_replay) states_.erase(batch.project_id);
  return absl::OkStatus();
}

storage::SealedGroup ProjectRulesGuard::Seal() {
  storage::SealedGroup sealed;
  Group& group = admitting_;
  std::sort(group.touched.begin(), group.touched.end());
  group.touched.erase(std::unique(group.touched.begin(), group.touched.end()), group.touched.end());
  if (snapshot_every_ > 0) {
    for (const std::string& project_id : group.touched) {
      auto it = states_.find(project_id);
      if (it == states_.end()) continue;  // Dropped, to rebuild: not snapshotted.
      const uint64_t version = it->second->state.version();
      uint64_t& last = snapshot_versions_[project_id];
      if (version / snapshot_every_ == last / snapshot_every_) continue;
      sealed.snapshots.push_back({project_id, version, EncodeSnapshot(it->second->state)});
      last = version;
    }
  }
  sealed_.push_back(std::move(group));
  admitting_ = Group();
  admitting_.touched.swap(spare_touched_);
  admitting_.touched.clear();
  return sealed;
}

void ProjectRulesGuard::Commit() {
  if (sealed_.empty()) return;
  spare_touched_.swap(sealed_.front().touched);
  sealed_.pop_front();
  EvictIfOverCap();
}

void ProjectRulesGuard::EvictIfOverCap() {
  if (states_.size() <= max_cached_projects_) return;
  std::vector<std::pair<uint64_t, std::string>> by_use;
  by_use.reserve(states_.size());
  for (const auto& [project_id, cached] : states_) by_use.emplace_back(cached->last_used, project_id);
  // Evicting in batches keeps the cost amortized O(1) per admitted append.
  const size_t keep = max_cached_projects_ * 9 / 10;
  const size_t drop = by_use.size() - keep;
  std::nth_element(by_use.begin(), by_use.begin() + drop, by_use.end());
  absl::flat_hash_set<std::string> in_flight;
  for (const Group& g : sealed_) in_flight.insert(g.touched.begin(), g.touched.end());
  in_flight.insert(admitting_.touched.begin(), admitting_.touched.end());
  for (size_t i = 0; i < drop; ++i) {
    if (in_flight.contains(by_use[i].second)) continue;
    states_.erase(by_use[i].second);
    snapshot_versions_.erase(by_use[i].second);
  }
}

void ProjectRulesGuard::Abort() {
  // What was admitted never reached the log: rebuild those projects from it next time.
  auto forget = [this](const Group& g) {
    for (const std::string& project_id : g.touched) {
      states_.erase(project_id);
      snapshot_versions_.erase(project_id);
    }
  };
  for (const Group& g : sealed_) forget(g);
  forget(admitting_);
  sealed_.clear();
  admitting_ = Group();
}

}  // namespace accord::server
