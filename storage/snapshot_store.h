// SnapshotStore: projection states cached by (project, stream version).
//
// A snapshot is never a source of truth: losing one only makes the next read replay more
// of the log, and every reader can rebuild without any. The bytes are opaque here (the
// server stores a serialized ProjectState behind a projection-version header, and ignores
// snapshots written by another projection version).
//
// Thread-safety: all methods are thread-safe.
#ifndef ACCORD_STORAGE_SNAPSHOT_STORE_H_
#define ACCORD_STORAGE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace accord::storage {

// A stored snapshot, read in place: `bytes` points into memory that `pin` keeps alive (a
// multi-megabyte state is not copied out of the store's cache). Drop it promptly: the
// store waits for every Snapshot read from it to be destroyed before it closes.
struct Snapshot {
  uint64_t version = 0;
  std::string_view bytes;
  std::shared_ptr<const void> pin;
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // Stores (or replaces) the snapshot of `project_id` at `version`. Not durable (not synced,
  // and the RocksDB log writes it without its WAL): a crash may lose recent snapshots,
  // which is harmless.
  virtual absl::Status PutSnapshot(std::string_view project_id, uint64_t version,
                                   std::string_view bytes) = 0;

  // The snapshot of `project_id` with the greatest version <= `max_version`, if any.
  virtual absl::StatusOr<std::optional<Snapshot>> FloorSnapshot(std::string_view project_id,
                                                                uint64_t max_version) = 0;
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_SNAPSHOT_STORE_H_
