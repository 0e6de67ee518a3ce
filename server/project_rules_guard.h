// ProjectRulesGuard: the domain rules (domain/rules.h) wired into the event log's writer
// as its AppendGuard, so each append is checked against its project's current state
// atomically with the write.
//
// It keeps each touched project's state (domain/project_projection.h) in memory, built on
// first use from the project's latest snapshot and the events after it (from an earlier
// snapshot when a retraction or correction after it names an event before it; from the
// whole stream when there is none) and then advanced event by event, in place, so a check
// costs O(events in the append), not O(stream length) or O(state size). A state is
// dropped (and rebuilt on next use) when a group's write fails, when a retraction or
// correction changes what earlier events mean, or when an append is refused after some of
// its events were applied. Sealing a group adds snapshots of the states that
// passed a multiple of `snapshot_every` versions to the group's batch; readers of past
// states start from them (project_reader.h).
//
// A large project (cold after a restart, evicted here, or dropped after a correction) is
// read on the log's loader thread instead (Preload, then Adopt on the writer), so that
// reading it does not hold up other projects' appends; when its state was dropped while
// some of it was still on its way to the disk, the log holds its next appends until that
// is durable, then has it read. Small ones are read by Admit on the writer.
//
// Thread-safety: as AppendGuard: Preload on the log's loader thread (it reads only its
// arguments and loaded_events_, which is atomic), everything else on the writer thread.
#ifndef ACCORD_SERVER_PROJECT_RULES_GUARD_H_
#define ACCORD_SERVER_PROJECT_RULES_GUARD_H_

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "accord/v1/projects.pb.h"
#include "server/domain/project_projection.h"
#include "storage/append_guard.h"

namespace accord::server {

class ProjectRulesGuard final : public storage::AppendGuard {
 public:
  // Writes a snapshot of a project's state each time its version passes a multiple of
  // `snapshot_every` (0: never). Keeps at most about `max_cached_projects` states in memory,
  // dropping the least recently used (they are rebuilt from the log when needed again).
  explicit ProjectRulesGuard(uint64_t snapshot_every = 1000, size_t max_cached_projects = 10000)
      : snapshot_every_(snapshot_every), max_cached_projects_(max_cached_projects) {}

  absl::Status Admit(const storage::AppendBatch& batch,
                     const std::vector<storage::EventRecord>& recorded,
                     storage::StreamHistory& history) override;
  storage::SealedGroup Seal() override;
  void Commit() override;
  void Abort() override;
  bool HasProject(const std::string& project_id) const override {
    return states_.contains(project_id);
  }
  std::unique_ptr<storage::PreloadedProject> Preload(const std::string& project_id,
                                                     storage::StreamHistory& history) override;
  void Adopt(const std::string& project_id,
             std::unique_ptr<storage::PreloadedProject> preloaded) override;

  // Number of project states held in memory.
  size_t cached_projects() const { return states_.size(); }
  // Events applied so far to build states that were not in memory (after a snapshot, or
  // the whole stream): what loading cost.
  uint64_t loaded_events() const { return loaded_events_.load(std::memory_order_relaxed); }

 private:
  // A project's state and the index that finds its items by id (lists only grow, so the
  // index stays valid when the state is replaced by a longer copy of itself).
  struct CachedProject {
    accord::v1::ProjectState state;
    domain::ProjectIndex index;
    uint64_t last_used = 0;  // use_clock_ at the last Admit.
  };

  // A state read off the writer, on its way to Adopt.
  struct Preloaded final : storage::PreloadedProject {
    std::unique_ptr<CachedProject> project;
  };

  absl::StatusOr<CachedProject*> StateFor(const std::string& project_id,
                                          storage::StreamHistory& history);
  // Keeps a state just read as the project's current one.
  CachedProject* Install(const std::string& project_id, std::unique_ptr<CachedProject> cached);
  // Builds a project's state from its latest snapshot and the events after it, or by
  // replaying its stream; either way including appends admitted but not yet durable.
  // Touches no member but loaded_events_ (Preload calls it off the writer).
  absl::Status Load(const std::string& project_id, storage::StreamHistory& history,
                    CachedProject* out);
  // Drops least recently used states down to 90% of the cap, once it is exceeded; never
  // those with appends in groups not yet committed.
  void EvictIfOverCap();

  // Projects with appends in one group.
  struct Group {
    std::vector<std::string> touched;
  };

  const uint64_t snapshot_every_;
  const size_t max_cached_projects_;
  uint64_t use_clock_ = 0;
  std::atomic<uint64_t> loaded_events_{0};
  absl::flat_hash_map<std::string, std::unique_ptr<CachedProject>> states_;
  // Version of each cached project when last snapshotted (or loaded).
  absl::flat_hash_map<std::string, uint64_t> snapshot_versions_;
  Group admitting_;            // Admitted since the last Seal.
  std::deque<Group> sealed_;  // Sealed, not yet committed; oldest first.
  // A committed group's list, emptied, for the next group to fill without growing a new
  // one from nothing.
  std::vector<std::string> spare_touched_;
  // The envelope Admit gives each event it applies, kept from one append to the next so
  // its strings and sub-messages keep their buffers (ToApplyEnvelope overwrites every field
  // a projection reads; the project id is set per append).
  accord::v1::RecordedEvent envelope_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECT_RULES_GUARD_H_
