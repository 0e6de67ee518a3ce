// AppendGuard: a check the log's writer makes for each append, atomically with the write.
//
// The writer consults the guard in commit order, after an append passed the idempotency
// and expected-version checks and before any of its events go into the batch; a refusal
// fails that append alone and nothing of it is written. Because only the writer calls,
// in commit order, the guard sees each project's events exactly in log order: two appends
// can never both pass a check that only one of them may pass (check-then-write races
// cannot happen, whatever expected version the clients sent).
//
// Admitted appends become durable with their group: Commit() after the group's write
// succeeded, Abort() if it failed (the guard then forgets everything it admitted since the
// last Commit/Abort).
//
// Thread-safety: called only on the log's writer thread. Ownership: the log borrows the
// guard (EventLogOptions::append_guard), which must outlive it.
#ifndef ACCORD_STORAGE_APPEND_GUARD_H_
#define ACCORD_STORAGE_APPEND_GUARD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/event_record.h"

namespace accord::storage {

// What a guard may read of the log while it decides (only during Admit and Commit).
class StreamHistory {
 public:
  virtual ~StreamHistory() = default;
  // Every recorded event of the project, in version order (empty for a new project).
  virtual absl::Status ReadStream(const std::string& project_id,
                                  std::vector<EventRecord>* out) = 0;
  // The recorded event of the project with this id, if any.
  virtual absl::StatusOr<std::optional<EventRecord>> FindEvent(const std::string& project_id,
                                                               const EventId& event_id) = 0;
  // Stores a projection snapshot (snapshot_store.h), e.g. at Commit.
  virtual absl::Status PutSnapshot(const std::string& project_id, uint64_t version,
                                   std::string_view bytes) = 0;
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
  // The group's write succeeded; `history` is valid during the call.
  virtual void Commit(StreamHistory& history) = 0;
  virtual void Abort() = 0;
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_APPEND_GUARD_H_
