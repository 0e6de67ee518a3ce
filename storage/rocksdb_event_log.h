// RocksEventLog: the embedded EventLog on RocksDB (layout: storage_format.h).
//
// Durability: with Durability::kSync every group commit is one WriteBatch written with
// WriteOptions::sync. WAL recovery runs in kTolerateCorruptedTailRecords mode: a torn tail
// (an unacknowledged write cut short) is dropped, corruption anywhere before it fails the
// open with DATA_LOSS instead of silently truncating the log; before RocksDB recovers,
// RepairWalTails (wal_tail_check.h) tells the two apart where RocksDB cannot. With
// EventLogOptions::prepared_wal_bytes, new WAL files are written with zeros ahead of time
// (prepared_wal_file_system.h), so a synced write overwrites blocks instead of growing the
// file.
//
// Group commit. A small append (EventLogOptions::caller_append_max_bytes) is prepared on
// the thread that calls AppendAsync — idempotency and version checks, version/position
// assignment, envelope hashing, the append guard (domain rules), its batch entries — into
// the open group, the one group that collects small appends while a synced write is under
// way. If none is, that thread then leads: it queues the open group, writes everything
// queued in one synced write, tells the commit listeners, runs those appends' callbacks
// in commit order, and goes on, queueing the open group again, while appends arrived
// meanwhile; else it returns and the active leader answers its append later. So a
// single-event append in accordd reaches the disk and its answer on the gRPC thread that
// received it, with no hand-off between threads (each hand-off is a wake-up that waits
// for one of two busy vCPUs: +9–15% appends/s without them, bench/README.md "Session 14").
// Larger appends take the pipeline of the log's own threads, so that preparing them
// (≈3–5 µs per event) holds up none of gRPC's few threads:
//  - The writer takes everything queued and prepares it in groups (up to a byte cap).
//  - The syncer writes prepared groups when no caller leads: all those waiting when it is
//    free, in one synced write (so appends arriving during a sync share the next one),
//    and tells the commit listeners.
//  - The completion thread runs the syncer's callbacks, in commit order.
// So the writer prepares what arrives while earlier groups are on their way to the disk,
// running ahead of what is durable by at most kMaxQueuedGroups groups plus those being
// written. Whoever writes (the syncer thread or a leading caller: whoever set syncing_)
// takes every group queued, whoever prepared it. The open group is queued before the
// writer thread prepares a group (its appends took the earlier positions), and by the
// active leader, the syncer thread included, before it stops leading. Nothing of a group is visible to
// readers before its sync (RocksDB applies a synced write to its memtables only after
// the sync). When a write fails, its groups and every group prepared on top of them fail
// unwritten, and the writer side forgets its view of them (ProcessOutcomes). A caller's
// thread blocks on the disk only while it leads; at most one thread leads at a time.
//
// Per-project state (current version, last hash, event ids for idempotency) is kept in
// memory by the writer and loaded from the "streams" column family on first use after
// open, so a check costs O(events in the request), not O(stream length). That first load
// scans the project's index (≈0.4 µs per append ever made to it): the writer reads a
// small or new project itself, and hands a longer one (over kInlineLoadMaxChunks appends,
// or more events than it reads inline) to a fourth thread, the loader, so that one large
// cold project does not hold up every other project's appends. Its appends are parked
// until its state arrives, then go first, in the order they came. A load that fails is retried inline by the writer, which reports
// the error to the appends. The loader also lets the append guard read such a project
// (AppendGuard::Preload: the rules' state, from its latest snapshot and the events after
// it), so that is off the writer too; also when the guard drops a large project's state
// later (AppendGuard::HasProject false): if some of the project is still in flight, its
// appends are parked until that is durable (or failed), since the loader reads only the
// database.
//
// Thread-safety: as EventLog. Ownership: owns the RocksDB instance.
#ifndef ACCORD_STORAGE_ROCKSDB_EVENT_LOG_H_
#define ACCORD_STORAGE_ROCKSDB_EVENT_LOG_H_

#include <atomic>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/event_id.h"
#include "storage/event_log.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class FileSystem;
class Iterator;
}  // namespace rocksdb

namespace accord::storage {

class RocksEventLog final : public EventLog, public SnapshotStore {
 public:
  // `file_system`, when set, replaces the default file system (tests inject faults).
  static absl::StatusOr<std::unique_ptr<RocksEventLog>> Open(
      const EventLogOptions& options,
      std::shared_ptr<rocksdb::FileSystem> file_system = nullptr);

  ~RocksEventLog() override;
  RocksEventLog(const RocksEventLog&) = delete;
  RocksEventLog& operator=(const RocksEventLog&) = delete;

  void AppendAsync(AppendBatch batch, AppendCallback done) override;
  absl::Status ReadStream(std::string_view project_id, uint64_t from_version,
                          ReadDirection direction, const ReadLimits& limits,
                          std::vector<EventRecord>* out) override;
  absl::Status ReadAll(uint64_t from_position, const ReadLimits& limits,
                       std::vector<EventRecord>* out) override;
  absl::StatusOr<uint64_t> StreamVersion(std::string_view project_id) override;
  absl::Status ListProjects(std::string_view after, size_t limit,
                            std::vector<std::string>* out) override;
  uint64_t LastPosition() override;
  void AddCommitListener(CommitListener* listener) override;
  void RemoveCommitListener(CommitListener* listener) override;
  absl::Status Close() override;
  SnapshotStore& snapshots() override { return *this; }
  absl::Status PutSnapshot(std::string_view project_id, uint64_t version,
                           std::string_view bytes) override;
  absl::StatusOr<std::optional<Snapshot>> FloorSnapshot(std::string_view project_id,
                                                        uint64_t max_version) override;
  std::string_view EngineName() const override { return "rocksdb"; }
  Durability durability() const override { return options_.durability; }
  std::vector<std::string> RecoveryNotes() const override { return recovery_notes_; }

  // Flushes every column family's memtable to SST (and blob) files, so tests can corrupt them.
  absl::Status FlushForTesting();
  // Appends prepared and waiting for a synced write (beyond those being written), in the
  // queued groups and the open one; tests use it to know an append was prepared on top of
  // one still in flight.
  size_t PreparedAppendsForTesting();
  // Event ids the writer holds in memory (bounded by max_cached_event_ids, give or take
  // one group's).
  size_t CachedEventIdsForTesting();
  // Runs `hook` on the loader thread before each cold project is read (tests hold a load
  // with it to see what goes on meanwhile). Set it before appending.
  void SetColdLoadHookForTesting(std::function<void(const std::string& project_id)> hook);
  // Flushes and compacts everything, so a benchmark then times reads on a settled
  // database instead of alongside the compactions its own writes started.
  absl::Status CompactForBenchmark();

 private:
  class History;
  class DurableHistory;
  class Page;
  struct PendingAppend;
  struct StreamState;
  struct GroupOverlay;
  struct PreparedGroup;
  struct LoadedStream;  // A loader result.
  // What became of a group the syncer took, for the writer (ProcessOutcomes).
  struct GroupOutcome {
    uint64_t epoch;
    absl::Status status;
  };
  // Prepared groups waiting for a synced write, beyond those being written. A sync takes
  // all that wait, so the writer prepares whatever arrives while a sync is on (off the path
  // of the next write) instead of waiting for it to finish.
  static constexpr size_t kMaxQueuedGroups = 16;
  // A cold project with at most this many index entries (appends) and event ids is read
  // by the writer itself (≈0.1 ms at most); a larger one by the loader, off its path.
  static constexpr size_t kInlineLoadMaxChunks = 256;
  static constexpr size_t kInlineLoadMaxIds = 2048;
  // With an append guard, which reads the project too (up to its latest snapshot's worth
  // of events, at ≈1–2 µs each), the writer keeps only projects of this many events.
  static constexpr size_t kInlineGuardedLoadMaxIds = 128;

  RocksEventLog(const EventLogOptions& options, std::shared_ptr<rocksdb::FileSystem> fs);
  absl::Status OpenDb();
  absl::Status LoadLogTail();

  // A caller's thread: prepares its append (see AppendAsync) into the open group and leads
  // the group commit when nobody else does.
  void AppendOnCaller(std::unique_ptr<PendingAppend> pending);
  // Writer: prepares a caller's append into the open group (opening one if none is, or
  // if the open one is over the group byte cap, which is then queued).
  void PrepareIntoOpenGroup(std::unique_ptr<PendingAppend> pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer, with a group open: if no leader is active, queues the open group and returns
  // true (the caller now leads and must call LeadGroupCommits); else leaves it open for
  // the active leader and returns false.
  bool LeadOrLeaveOpen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: queues the open group, if any, sealed, for the next synced write.
  void CloseOpenGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: queues the open group (not null) as it is, without sealing it.
  void QueueOpenGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // A caller leading, between two writes: the groups for its next one (with the open
  // group, queued first if callers left appends in it), or none when nothing is queued,
  // having then stopped leading (cleared syncing_).
  std::deque<std::unique_ptr<PreparedGroup>> NextGroupsForLeader();
  // The syncer thread after a write: queues the open group if callers left appends in it,
  // and stops leading (it takes what is queued when it next waits).
  void StopLeading();
  // Hands a group the writer thread prepared to the syncs (under writer_mu_, so groups
  // reach to_sync_ in the order they were prepared).
  void QueueForSync(std::unique_ptr<PreparedGroup> group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // A caller's thread that leads: writes and syncs whatever is queued, in turns, running
  // each turn's callbacks itself, until nothing is queued.
  void LeadGroupCommits();
  // Counts the loads that ParkColdAppends asked for and hands them to the loader.
  void RequestLoads(std::vector<std::string> to_load, std::vector<std::string> awaited,
                    size_t awaiting_added);
  // After a project was parked in awaiting_durable_: wakes the writer thread if outcomes
  // were reported before the leader could see the project waiting for them.
  void WakeWriterForReportedOutcomes();
  // Writer side: prepares `appends` in groups within the group byte cap, queued in order.
  void PrepareInGroups(std::vector<std::unique_ptr<PendingAppend>> appends)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // The leader's next synced write: at least one group, more while within the byte cap.
  std::deque<std::unique_ptr<PreparedGroup>> TakeGroupsToSync()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  // The leader (whoever holds syncing_): one synced write of `groups` (or their failure),
  // the commit listeners, and the outcomes for the writer side.
  void WriteAndReport(std::deque<std::unique_ptr<PreparedGroup>>& groups);
  void WriterLoop();
  void SyncLoop();
  void CompletionLoop();
  void LoaderLoop();
  // Writer: keeps the states loaded and returns the appends parked for them, in arrival
  // order, each marked load_tried.
  std::vector<std::unique_ptr<PendingAppend>> TakeLoaded(std::vector<LoadedStream> loaded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: moves the appends of `group` whose project is cold (not in memory), large and
  // not held by the append guard, or still loading into parked_, adding the projects to
  // read to `to_load`, or to awaiting_durable_ (counting them in `awaiting_added`) when
  // some of the project is still in flight.
  void ParkColdAppends(std::vector<std::unique_ptr<PendingAppend>>& group,
                       std::vector<std::string>& to_load, size_t& awaiting_added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // The same for one append: true if it took `pending` (parked it).
  bool ParkIfCold(std::unique_ptr<PendingAppend>& pending, std::vector<std::string>& to_load,
                  size_t& awaiting_added) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: moves the projects of awaiting_durable_ with nothing in flight any more to
  // `to_load` (their loads are counted in loads_outstanding_ already).
  void TakeDurableAwaiting(std::vector<std::string>& to_load)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: checks, sequences and encodes a group, including the guard's snapshots.
  std::unique_ptr<PreparedGroup> PrepareGroup(std::vector<std::unique_ptr<PendingAppend>> appends)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: a new, empty group stamped with the writer's epoch; its overlay (`*overlay`)
  // starts at the next position and joins inflight_ at once.
  std::unique_ptr<PreparedGroup> NewGroup(std::shared_ptr<GroupOverlay>* overlay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: ends the guard's group for `group`, adding the snapshots it asks for.
  void SealGroup(PreparedGroup& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: checks, sequences and encodes `appends` into a group (the group's appends
  // themselves are added by the caller).
  void PrepareAppends(absl::Span<const std::unique_ptr<PendingAppend>> appends,
                      GroupOverlay& overlay, PreparedGroup& prepared)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: learns which groups the leaders made durable or failed.
  void ProcessOutcomes() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Writer: drops the least recently used streams with nothing in flight while more than
  // max_cached_event_ids event ids are held.
  void EvictIdleStreams() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  void ForgetStream(const std::string& project_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Syncer: one synced write of the groups (in order; not empty, all with writes).
  absl::Status WriteGroups(const std::vector<PreparedGroup*>& groups);
  // Writer: the project's state, from memory or else read from the database (inline).
  absl::StatusOr<StreamState*> LoadStream(const std::string& project_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_) ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  // Writer: keeps a state read from the database (by the loader or inline).
  StreamState* InstallStream(const std::string& project_id, std::unique_ptr<StreamState> state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Reads a project's durable state from its index and last event; null (without reading
  // further) once the index has more than `max_chunks` entries or `max_ids` event ids.
  // Touches no writer state: the loader calls it too (the project has nothing in flight
  // while it is cold).
  absl::StatusOr<std::unique_ptr<StreamState>> ReadStreamState(
      const std::string& project_id, size_t max_chunks = std::numeric_limits<size_t>::max(),
      size_t max_ids = std::numeric_limits<size_t>::max()) ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  // Checks an append whose event ids all exist against what was written.
  absl::StatusOr<AppendResult> MatchEarlierAppend(const AppendBatch& batch,
                                                  const std::vector<uint64_t>& versions,
                                                  const GroupOverlay& overlay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // A project's event at `version` as the writer sees it: from the group being prepared,
  // the groups not yet durable, or the database.
  absl::StatusOr<EventRecord> ReadVersionForWriter(const std::string& project_id,
                                                   uint64_t version, const GroupOverlay& current)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  absl::StatusOr<std::optional<Snapshot>> FloorSnapshotLocked(std::string_view project_id,
                                                              uint64_t max_version)
      ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  absl::Status ReadStreamLocked(std::string_view project_id, uint64_t from_version,
                                ReadDirection direction, const ReadLimits& limits,
                                std::vector<EventRecord>* out)
      ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  // Reads `count` consecutive positions from `first` with `it`, an iterator over the
  // log column family (one iterator serves every chunk of a stream read).
  absl::Status ReadPositions(rocksdb::Iterator* it, uint64_t first, uint64_t count,
                             bool backwards, const ReadLimits& limits, Page& page);
  absl::StatusOr<EventRecord> ReadVersion(std::string_view project_id, uint64_t version);

  const EventLogOptions options_;
  std::vector<std::string> recovery_notes_;  // Set by OpenDb, then read-only.
  std::shared_ptr<rocksdb::FileSystem> file_system_;
  std::unique_ptr<rocksdb::Env> env_;  // Wraps the file system RocksDB uses when it is not
                                       // the default (injected, or prepared WALs).

  // Snapshots handed out (Snapshot::pin keeps an iterator open): Close refuses new ones and
  // waits for these before it closes the database.
  absl::Mutex pin_mu_;  // Taken under db_mu_ (shared) or alone.
  int open_snapshot_pins_ ABSL_GUARDED_BY(pin_mu_) = 0;
  // A snapshot failed its checksum: check every snapshot read from then on.
  std::atomic<bool> bad_snapshot_seen_{false};
  bool pins_closed_ ABSL_GUARDED_BY(pin_mu_) = false;

  // Lifetime of the database handles: readers hold it shared, Close exclusively.
  absl::Mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(db_mu_);
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;      // Owned by db_.
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;  // Owned by db_.
  rocksdb::ColumnFamilyHandle* snapshots_cf_ = nullptr;  // Owned by db_.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  absl::Mutex queue_mu_;
  std::vector<std::unique_ptr<PendingAppend>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closed_ ABSL_GUARDED_BY(queue_mu_) = false;
  // AppendAsync calls preparing on their caller's thread (or leading): Close waits for them.
  size_t caller_appends_ ABSL_GUARDED_BY(queue_mu_) = 0;
  // Loader -> writer: states read for cold projects (the writer wakes on them too).
  std::vector<LoadedStream> loaded_ ABSL_GUARDED_BY(queue_mu_);
  // Loads requested (or awaited, see awaiting_durable_) and not yet taken back by the
  // writer: it exits only at zero.
  size_t loads_outstanding_ ABSL_GUARDED_BY(queue_mu_) = 0;
  // Leader -> writer thread: outcomes were reported while a project awaits them (wakes it).
  bool outcomes_to_check_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Writer -> loader: projects to read.
  absl::Mutex load_mu_;
  std::deque<std::string> to_load_ ABSL_GUARDED_BY(load_mu_);
  bool loader_stop_ ABSL_GUARDED_BY(load_mu_) = false;
  std::function<void(const std::string&)> cold_load_hook_ ABSL_GUARDED_BY(load_mu_);
  std::thread loader_;  // Runs LoaderLoop from Open until Close.

  // The writer side: held by whoever prepares (the writer thread, or a caller's thread for
  // a small append); guards the writer's view of the projects and the groups in flight.
  // The methods marked "Writer" above run under it, on either.
  absl::Mutex writer_mu_ ABSL_ACQUIRED_AFTER(queue_mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<StreamState>> streams_
      ABSL_GUARDED_BY(writer_mu_);
  // Appends to projects being loaded, in arrival order (a project is here from the load
  // request until its result is taken).
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<PendingAppend>>> parked_
      ABSL_GUARDED_BY(writer_mu_);
  // Projects whose appends are parked until nothing of them is in flight, to be read on
  // the loader then: the guard dropped a large project's state (a correction's, say) while
  // its appends were on their way to the disk, which the loader cannot read.
  absl::flat_hash_set<std::string> awaiting_durable_ ABSL_GUARDED_BY(writer_mu_);
  std::atomic<size_t> awaiting_durable_count_{0};  // Its size, for the leader.
  uint64_t next_position_ ABSL_GUARDED_BY(writer_mu_) = 1;
  size_t cached_event_ids_ ABSL_GUARDED_BY(writer_mu_) = 0;  // Sum of version_by_id sizes.
  uint64_t use_clock_ ABSL_GUARDED_BY(writer_mu_) = 0;       // Stamps StreamState::last_used.
  Timestamp last_recorded_at_ ABSL_GUARDED_BY(writer_mu_);
  // Write failures the writer has processed; stamps each prepared group.
  uint64_t writer_epoch_ ABSL_GUARDED_BY(writer_mu_) = 0;
  // PrepareAppends' working vectors, kept from append to append with their capacity (and
  // the records' strings with theirs): no allocation for them per append.
  struct PrepareScratch {
    std::vector<uint64_t> earlier_versions;
    std::vector<EventRecord> records;
    std::vector<EventId> ids;
    std::string stream_key;    // An append's index key and value, copied into the batch.
    std::string stream_chunk;
  };
  PrepareScratch scratch_ ABSL_GUARDED_BY(writer_mu_);
  // Overlays of the groups prepared (the open one last) and not yet processed, oldest first.
  std::deque<std::shared_ptr<const GroupOverlay>> inflight_ ABSL_GUARDED_BY(writer_mu_);
  // The open group: while a synced write is under way, callers prepare their small appends
  // into it (and leave them for that write's leader) instead of each into a group of its
  // own, so that joining a group costs an append no batch, overlay or guard group of its
  // own (≈10 allocations) and the next write is one batch, not a merge of one per append.
  // Null when none is open. A group is open only while a leader is active (syncing_), and
  // that leader, or the next, queues it before leading stops (open_group_waiting_).
  std::unique_ptr<PreparedGroup> open_group_ ABSL_GUARDED_BY(writer_mu_);
  std::shared_ptr<GroupOverlay> open_overlay_ ABSL_GUARDED_BY(writer_mu_);

  // Prepared groups -> whoever leads the next synced write.
  absl::Mutex sync_mu_ ABSL_ACQUIRED_AFTER(writer_mu_);
  std::deque<std::unique_ptr<PreparedGroup>> to_sync_ ABSL_GUARDED_BY(sync_mu_);
  // A leader (the syncer thread or a caller's) is writing: only it touches the leader's
  // state below, and it hands that on through this flag.
  bool syncing_ ABSL_GUARDED_BY(sync_mu_) = false;
  // Callers left appends in the open group for the active leader (set and cleared under
  // writer_mu_ too): a leader must queue it before it stops leading.
  bool open_group_waiting_ ABSL_GUARDED_BY(sync_mu_) = false;
  bool appenders_done_ ABSL_GUARDED_BY(sync_mu_) = false;  // No more groups will come.
  std::vector<GroupOutcome> outcomes_ ABSL_GUARDED_BY(sync_mu_);  // For the writer.
  // The leader's state.
  bool needs_resume_ = false;    // The last write failed.
  uint64_t write_failures_ = 0;  // Groups of an older epoch are void.
  absl::Status last_failure_;

  // The last durable position (readers and subscribers see no further).
  std::atomic<uint64_t> last_position_{0};
  std::thread writer_;     // Runs WriterLoop from Open until Close.
  std::thread syncer_;     // Runs SyncLoop: the synced writes, in order.
  std::thread completer_;  // Runs CompletionLoop: the append callbacks, in commit order.

  absl::Mutex completion_mu_ ABSL_ACQUIRED_AFTER(sync_mu_);
  std::deque<std::vector<std::unique_ptr<PendingAppend>>> completions_
      ABSL_GUARDED_BY(completion_mu_);
  bool syncer_done_ ABSL_GUARDED_BY(completion_mu_) = false;

  absl::Mutex listeners_mu_;
  std::vector<CommitListener*> listeners_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_ROCKSDB_EVENT_LOG_H_
