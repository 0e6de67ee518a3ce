// EventLog: the durable, append-only log of project events, the one source of truth.
//
// Every event belongs to one project stream (version 1, 2, ... within it) and to the global
// log (position 1, 2, ... in commit order, gap-free). Appends to one project are atomic per
// request; versions and positions never change once acknowledged.
//
// Thread-safety: every method may be called from any thread concurrently. Appends are
// group-committed: appends that arrive while a synced write is under way share the next
// one. Reads do not block appends.
//
// Implementations: RocksEventLog (embedded default, storage/rocksdb_event_log.h). The
// server sees only this interface and OpenEventLog().
#ifndef ACCORD_STORAGE_EVENT_LOG_H_
#define ACCORD_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/append_guard.h"
#include "storage/event_record.h"
#include "storage/snapshot_store.h"

namespace accord::storage {

// What an acknowledged append survives.
enum class Durability {
  // Acknowledged after the write-ahead log is synced to disk: survives a crash or power
  // loss. The default.
  kSync,
  // Acknowledged after the write reaches the OS: survives a process crash, but a power loss
  // or kernel crash may lose acknowledged events.
  kNoSyncMayLoseAcked,
};

struct EventLogOptions {
  std::string data_dir;
  Durability durability = Durability::kSync;
  // Cap on the bytes one group commit gathers; more waits for the next group.
  size_t max_group_bytes = 16 << 20;
  // Appends of at most this many payload bytes are prepared on the thread that calls
  // AppendAsync, and when no synced write is under way that thread also writes, syncs and
  // runs the callbacks of everything queued until nothing is (it leads the group commit).
  // Single-event appends then reach the disk and their answers with no hand-off between
  // threads (+9–15% appends/s on 2 vCPUs, bench/README.md "Session 14"). Larger appends go
  // to the log's writer thread, which prepares them while the syncer thread writes
  // (100-event appends prepared on callers' threads lost 12% of their rate). 0: every
  // append goes to the log's threads and AppendAsync never blocks.
  size_t caller_append_max_bytes = 4096;
  // Cache for reads, in bytes: half for RocksDB's table blocks, half for snapshots (a
  // long project's snapshots are megabytes each; reads of its past states come back to
  // them). Filled as reads need it, so an idle server does not use it.
  size_t block_cache_bytes = size_t{256} << 20;
  // Event ids the writer keeps in memory for idempotency checks, over all projects: past
  // it, the projects least recently appended to (with nothing in flight) are dropped, and
  // reloaded from the project index on their next append (a scan of that project's
  // index). About 30 bytes each. A project with more ids than three quarters of this is
  // never dropped (all its ids must be in memory to append to it).
  size_t max_cached_event_ids = size_t{4} << 20;
  // Cap on the write-ahead log kept on disk. A WAL file is deleted only once every column
  // family written in it has been flushed; the small families (the project index, the
  // snapshots) fill their memtables slowly and would keep hundreds of megabytes of WAL
  // alive (700 MB after 8 s of 100-event appends), all of it replayed at the next start
  // after a crash. Past the cap, the families that hold the oldest WAL are flushed.
  size_t max_wal_bytes = size_t{256} << 20;
  // Each new write-ahead log file starts as this many bytes of zeros written ahead of time
  // in the background (prepared_wal_file_system.h): synced appends then overwrite blocks
  // instead of growing the file, one device write less per sync. 0: WALs grow as written
  // (the default here, so tests do not write a spare per database; accordd's
  // --wal_prepare_mb sets 64 MiB).
  size_t prepared_wal_bytes = 0;
  // Consulted for every append, atomically with the write (append_guard.h). Not owned;
  // must outlive the log. Null: no check beyond versions and idempotency.
  AppendGuard* append_guard = nullptr;
};

enum class ReadDirection { kForwards, kBackwards };

// Limits for one page of a read. A page holds at least one event when any is available.
struct ReadLimits {
  size_t max_count = 256;
  size_t max_bytes = 1 << 20;  // Payload bytes; one event may exceed it alone.
  bool verify_hashes = false;  // Recompute each event's hash; DATA_LOSS on a mismatch.
  // False for one-off bulk reads (rebuilding projections): what they read is not kept in
  // the block cache, where it would evict what the server reads often.
  bool fill_cache = true;
};

// Told after every durable commit, on the committing thread: keep it short. The notice
// and the project ids it points to are valid only during the call; copy what you keep.
struct CommitNotice {
  uint64_t last_position = 0;
  // (project_id, last version) for each append the commit wrote, in commit order (a
  // project appended to twice appears twice, the later version last).
  std::vector<std::pair<std::string_view, uint64_t>> streams;
};

class CommitListener {
 public:
  virtual ~CommitListener() = default;
  virtual void OnCommit(const CommitNotice& notice) = 0;
};

using AppendCallback = absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends `batch` and calls `done` exactly once, after the events are durable (per the
  // log's Durability) or with the error that stopped them. `done` runs on a thread of
  // the log's or on a caller's thread that leads the group commit (possibly this one,
  // before AppendAsync returns; also when the log is closed): keep it short, and never
  // wait in it for another append. The calling thread may itself write and sync what is
  // queued before AppendAsync returns (RocksEventLog: small appends, when no write is
  // under way), so call it from a thread that may block on the disk that long.
  //
  // Errors: ABORTED (expected version not met; the message names the current version),
  // FAILED_PRECONDITION (an event id already written with other content, a partial
  // repeat of an earlier append, or the append guard's rules refused it), UNAVAILABLE (storage refused the write, e.g. disk full,
  // or the log is closed), DATA_LOSS (corruption found). On any error nothing is written.
  // Retrying an append whose event ids were all written by one earlier append returns
  // that append's result with `already_written` set, whatever the expected version.
  virtual void AppendAsync(AppendBatch batch, AppendCallback done) = 0;

  // Blocking convenience over AppendAsync.
  absl::StatusOr<AppendResult> Append(AppendBatch batch);

  // One page of a project's events starting at `from_version` (inclusive), in `direction`.
  // Forwards from 0 means from 1; backwards from 0 means from the latest. An empty page
  // means there is nothing more that way. NOT_FOUND if the project has no events.
  // `*out` is replaced by the page; its elements may be reused for it (so reading page
  // after page into one vector saves allocations).
  virtual absl::Status ReadStream(std::string_view project_id, uint64_t from_version,
                                  ReadDirection direction, const ReadLimits& limits,
                                  std::vector<EventRecord>* out) = 0;

  // One page of the global log from `from_position` (inclusive; 0 means 1); `*out` as
  // for ReadStream.
  virtual absl::Status ReadAll(uint64_t from_position, const ReadLimits& limits,
                               std::vector<EventRecord>* out) = 0;

  // The project's current version; 0 when it has no events.
  virtual absl::StatusOr<uint64_t> StreamVersion(std::string_view project_id) = 0;

  // Up to `limit` project ids in byte order, starting after `after` (empty: from the
  // first). Only projects with at least one event.
  virtual absl::Status ListProjects(std::string_view after, size_t limit,
                                    std::vector<std::string>* out) = 0;

  // The last committed position; 0 for an empty log.
  virtual uint64_t LastPosition() = 0;

  // Registers a listener told of every commit from now on. The listener must outlive the
  // log or be removed first.
  virtual void AddCommitListener(CommitListener* listener) = 0;
  virtual void RemoveCommitListener(CommitListener* listener) = 0;

  // Refuses new appends (UNAVAILABLE), waits for the one in progress, flushes and closes.
  // Reads after Close fail. Idempotent.
  virtual absl::Status Close() = 0;

  // Projection snapshots kept beside the log (snapshot_store.h).
  virtual SnapshotStore& snapshots() = 0;

  // Short name of the engine, e.g. "rocksdb".
  virtual std::string_view EngineName() const = 0;
  virtual Durability durability() const = 0;

  // What opening the log had to repair (e.g. a torn write cut off the end of a write-ahead
  // log after a power cut), one line each, for the operator; empty after a clean start.
  virtual std::vector<std::string> RecoveryNotes() const { return {}; }
};

// Opens (creating if needed) the embedded default log under options.data_dir.
absl::StatusOr<std::unique_ptr<EventLog>> OpenEventLog(const EventLogOptions& options);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_EVENT_LOG_H_
