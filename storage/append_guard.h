// AppendGuard: a check the log's writer makes for each append, atomically with the write.
//
// The writer consults the guard in commit order, after an append passed the idempotency
// and expected-version checks and before any of its events go into the batch; a refusal
// fails that append alone and nothing of it is written. Because only the writer calls,
// in commit order, the guard sees each project's events exactly in log order: two appends
// can never both pass a check that only one of them may pass (check-then-write races
// cannot happen, whatever expected version the clients sent).
//
// Groups are pipelined: the writer admits the appends of group N+1 while group N is still
// being written and synced, so a guard's state runs ahead of what is durable. Its
// lifecycle per group, all on the writer thread:
//   Admit()* -> Seal()        the group is complete and about to be written;
//   Commit()                  the oldest sealed group is durable;
//   Abort()                   the oldest sealed group failed: it and every group admitted
//                             after it are void (the writer fails them all).
// Each sealed group gets exactly one Commit(), or is covered by one Abort().
//
// A project whose state a guard must first read (after a restart, say) can be read off
// the writer: when the log loads a large cold project on its loader thread (or one the
// guard does not hold, HasProject, with nothing in flight), it asks the guard to Preload
// it there too, and hands the result to Adopt on the writer before the project's next
// append is admitted. Meanwhile the log holds that project's appends back, so nothing of
// it is in flight and its durable history is all there is.
//
// Thread-safety: Preload is called on the log's loader thread, concurrently with the
// other methods (for other projects); everything else only on the log's writer thread.
// Ownership: the log borrows the guard (EventLogOptions::append_guard), which must
// outlive it.
#ifndef ACCORD_STORAGE_APPEND_GUARD_H_
#define ACCORD_STORAGE_APPEND_GUARD_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/event_record.h"
#include "storage/snapshot_store.h"

namespace accord::storage {

// What a guard may read of the log while it decides (only during Admit).
class StreamHistory {
 public:
  virtual ~StreamHistory() = default;
  // The project's events from `from_version` on, in version order, as the guard has
  // admitted them: durable ones and those of groups still on their way to the disk
  // (empty for a new project).
  virtual absl::Status ReadStream(const std::string& project_id, uint64_t from_version,
                                  std::vector<EventRecord>* out) = 0;
  // The project's latest durable snapshot (snapshot_store.h) at or before `max_version`
  // (UINT64_MAX: its latest), if any.
  virtual absl::StatusOr<std::optional<Snapshot>> FloorSnapshot(const std::string& project_id,
                                                                uint64_t max_version) = 0;
  // The recorded event of the project with this id, if any (durable or in flight).
  virtual absl::StatusOr<std::optional<EventRecord>> FindEvent(const std::string& project_id,
                                                               const EventId& event_id) = 0;
};

// What a guard adds to a sealed group: snapshots written in the group's own batch, so
// a snapshot is durable exactly when the events it summarizes are.
struct SealedGroup {
  struct Snapshot {
    std::string project_id;
    uint64_t version = 0;
    std::string bytes;  // As SnapshotStore::PutSnapshot takes them.
  };
  std::vector<Snapshot> snapshots;
};

// What a guard read of a project off the writer (AppendGuard::Preload); opaque to the log.
class PreloadedProject {
 public:
  virtual ~PreloadedProject() = default;
};

class AppendGuard {
 public:
  virtual ~AppendGuard() = default;

  // Decides whether `batch` may be appended. `recorded[i]` is batch.events[i] as it would
  // be stored: every envelope field, prev_hash and hash set; its payload left empty (the
  // bytes are batch.events[i].payload). Any non-OK status refuses the append; by
  // convention domain rules answer FAILED_PRECONDITION.
  virtual absl::Status Admit(const AppendBatch& batch, const std::vector<EventRecord>& recorded,
                             StreamHistory& history) = 0;
  // The group's appends are all admitted; it is about to be written.
  virtual SealedGroup Seal() = 0;
  // The oldest sealed group is durable.
  virtual void Commit() = 0;
  // The oldest sealed group failed; forget it and everything admitted after it.
  virtual void Abort() = 0;

  // Optional. False when Admit would first have to read the project (its state is not in
  // memory), so that the log may have the loader Preload it. Writer thread.
  virtual bool HasProject(const std::string& /*project_id*/) const { return true; }
  // Optional. Reads on the loader thread what Admit would first have to read of a cold
  // project; `history` holds the project's durable events only (all it has while its
  // appends are held back). Null (the default, or on an error) leaves that to Admit,
  // which then reports any error.
  virtual std::unique_ptr<PreloadedProject> Preload(const std::string& /*project_id*/,
                                                    StreamHistory& /*history*/) {
    return nullptr;
  }
  // Optional. On the writer, before the project's held appends are admitted: takes what
  // Preload returned for it (never null), unless the guard holds the project already.
  virtual void Adopt(const std::string& /*project_id*/,
                     std::unique_ptr<PreloadedProject> /*preloaded*/) {}
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_APPEND_GUARD_H_
