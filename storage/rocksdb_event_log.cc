#include "storage/rocksdb_event_log.h"

#include <pthread.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/event_hash.h"
#include "storage/memtable_insert_hints.h"
#include "storage/prepared_wal_file_system.h"
#include "storage/storage_format.h"
#include "storage/wal_tail_check.h"

namespace accord::storage {
namespace {

// The one place RocksDB statuses become absl ones.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::UnavailableError(absl::StrCat("disk full; ", msg));
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() ||
      s.IsShutdownInProgress()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

// RocksDB answers a full disk by recovering on its own: its SstFileManager polls free space
// from a background thread every 5 s and resumes the DB, and until that succeeds DB::Resume()
// returns Busy. The log resumes on the next append instead (CommitGroup), so automatic
// recovery is switched off: one recovery path, and the first append once space is back
// succeeds rather than failing with Busy for up to 5 s more.
class ManualRecoveryOnly final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/,
                            rocksdb::Status /*bg_error*/, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

Timestamp Now() {
  const absl::Time now = absl::Now();
  const int64_t seconds = absl::ToUnixSeconds(now);
  const int32_t nanos =
      static_cast<int32_t>(absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(seconds)));
  return Timestamp{seconds, nanos};
}

std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

size_t PageBytes(const EventRecord& r) { return r.payload.size() + 128; }

}  // namespace

// The page a read fills: records are decoded into the elements `out` already holds, so a
// caller that reads page after page into one vector reuses their string buffers. On
// destruction `out` is cut to the records of this page.
class RocksEventLog::Page {
 public:
  explicit Page(std::vector<EventRecord>* out) : out_(out) {}
  ~Page() { out_->resize(size_); }
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;

  size_t size() const { return size_; }
  bool Full(const ReadLimits& limits) const {
    return size_ >= limits.max_count || bytes_ >= limits.max_bytes;
  }
  // The slot for the next record; Added() once it is filled.
  EventRecord& Next() {
    if (size_ == out_->size()) out_->emplace_back();
    return (*out_)[size_];
  }
  void Added() { bytes_ += PageBytes((*out_)[size_++]); }

 private:
  std::vector<EventRecord>* const out_;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

namespace {

const char* ExpectedName(ExpectedVersion::Kind kind) {
  switch (kind) {
    case ExpectedVersion::Kind::kNoStream: return "no_stream";
    case ExpectedVersion::Kind::kStreamExists: return "stream_exists";
    default: return "exact";
  }
}

const absl::Status& NotCommitted() {
  static const absl::Status status = absl::UnknownError("not committed");
  return status;
}

}  // namespace

struct RocksEventLog::PendingAppend {
  AppendBatch batch;
  AppendCallback done;
  // Every append is answered with what preparing and writing it set here; this is only
  // what a bug that skipped both would answer. Shared: copying it allocates nothing.
  absl::StatusOr<AppendResult> result = NotCommitted();
  bool writes = false;           // Put records into the group's batch.
  bool depends_on_group = false;  // Its result needs the group's write to succeed.
  // Its project's state was loaded for it by the loader (or tried): if the state is not in
  // memory now, the writer reads it inline rather than parking the append again.
  bool load_tried = false;
};

// A project as the writer sees it: `version`, `last_hash` and `version_by_id` include the
// groups prepared but not yet durable (the writer runs ahead of the disk by up to
// kMaxPipelinedGroups groups); `durable_version` is what has been synced.
struct RocksEventLog::StreamState {
  uint64_t version = 0;
  uint64_t durable_version = 0;
  Sha256Digest last_hash{};
  absl::flat_hash_map<EventId, uint64_t, EventIdHash> version_by_id;
  uint64_t last_used = 0;  // use_clock_ when last loaded or found.
};

struct RocksEventLog::LoadedStream {
  std::string project_id;
  absl::StatusOr<std::unique_ptr<StreamState>> state;
  std::unique_ptr<PreloadedProject> preloaded;  // The guard's, if it read the project too.
};

// The encoded records of one group, kept by the writer until the group is durable so that
// it can read events that are not in the database yet (idempotent retries, rule lookups).
struct RocksEventLog::GroupOverlay {
  struct Stream {
    uint64_t first_version = 0;       // Of the project's first event in this group.
    // Of its events, in version order; inline for the few a project has in most groups.
    absl::InlinedVector<uint64_t, 4> positions;
  };
  absl::flat_hash_map<std::string, Stream> streams;
  uint64_t first_position = 0;
  // The records, back to back in one buffer (one allocation per group, not per event):
  // record k (position first_position + k) ends at record_ends[k].
  std::string record_bytes;
  std::vector<size_t> record_ends;

  std::string_view Record(size_t k) const {
    const size_t begin = k == 0 ? 0 : record_ends[k - 1];
    return std::string_view(record_bytes).substr(begin, record_ends[k] - begin);
  }
  std::optional<std::string_view> Find(const std::string& project_id, uint64_t version) const {
    auto it = streams.find(project_id);
    if (it == streams.end()) return std::nullopt;
    const Stream& s = it->second;
    if (version < s.first_version || version - s.first_version >= s.positions.size()) {
      return std::nullopt;
    }
    return Record(s.positions[version - s.first_version] - first_position);
  }
};

// A group on its way from the writer (which prepared it) to the syncer (which writes it).
struct RocksEventLog::PreparedGroup {
  std::vector<std::unique_ptr<PendingAppend>> appends;
  rocksdb::WriteBatch batch;
  bool any_writes = false;
  uint64_t epoch = 0;          // Write failures the writer had seen when preparing it.
  uint64_t last_position = 0;  // The log's last position once it is durable.
  absl::Status status;         // Of its write (the syncer's).
};

// What the append guard may read while the writer holds the database (no locking: the
// writer already holds db_mu_ shared and writer_mu_).
class RocksEventLog::History final : public StreamHistory {
 public:
  History(RocksEventLog* log, const GroupOverlay* current) : log_(log), current_(current) {}

  absl::Status ReadStream(const std::string& project_id, uint64_t from_version,
                          std::vector<EventRecord>* out) ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    out->clear();
    auto state = log_->LoadStream(project_id);
    if (!state.ok()) return state.status();
    const uint64_t first = std::max<uint64_t>(from_version, 1);
    // What the database holds (at least everything durable), then what is on its way.
    ReadLimits limits;
    limits.max_count = std::numeric_limits<size_t>::max();
    limits.max_bytes = std::numeric_limits<size_t>::max();
    absl::Status s =
        log_->ReadStreamLocked(project_id, first, ReadDirection::kForwards, limits, out);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    for (uint64_t v = out->empty() ? first : out->back().version + 1; v <= (*state)->version;
         ++v) {
      auto record = log_->ReadVersionForWriter(project_id, v, *current_);
      if (!record.ok()) return record.status();
      out->push_back(*std::move(record));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<Snapshot>> FloorSnapshot(const std::string& project_id,
                                                        uint64_t max_version)
      ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    return log_->FloorSnapshotLocked(project_id, max_version);
  }

  absl::StatusOr<std::optional<EventRecord>> FindEvent(const std::string& project_id,
                                                       const EventId& event_id)
      ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    auto state = log_->LoadStream(project_id);
    if (!state.ok()) return state.status();
    auto it = (*state)->version_by_id.find(event_id);
    if (it == (*state)->version_by_id.end()) return std::optional<EventRecord>();
    auto record = log_->ReadVersionForWriter(project_id, it->second, *current_);
    if (!record.ok()) return record.status();
    return std::optional<EventRecord>(*std::move(record));
  }

 private:
  RocksEventLog* const log_;
  const GroupOverlay* const current_;
};

// What the loader lets the guard read of the cold project it loads (AppendGuard::Preload):
// the database alone, since nothing of that project is in flight while its appends are
// parked, and the event ids the loader has just read. Called with db_mu_ held shared.
class RocksEventLog::DurableHistory final : public StreamHistory {
 public:
  DurableHistory(RocksEventLog* log, const std::string& project_id, const StreamState& state)
      : log_(log), project_id_(project_id), state_(state) {}

  absl::Status ReadStream(const std::string& project_id, uint64_t from_version,
                          std::vector<EventRecord>* out) ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    out->clear();
    if (absl::Status s = CheckProject(project_id); !s.ok()) return s;
    ReadLimits limits;
    limits.max_count = std::numeric_limits<size_t>::max();
    limits.max_bytes = std::numeric_limits<size_t>::max();
    absl::Status s = log_->ReadStreamLocked(project_id, std::max<uint64_t>(from_version, 1),
                                            ReadDirection::kForwards, limits, out);
    return absl::IsNotFound(s) ? absl::OkStatus() : s;
  }

  absl::StatusOr<std::optional<Snapshot>> FloorSnapshot(const std::string& project_id,
                                                        uint64_t max_version)
      ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    if (absl::Status s = CheckProject(project_id); !s.ok()) return s;
    return log_->FloorSnapshotLocked(project_id, max_version);
  }

  absl::StatusOr<std::optional<EventRecord>> FindEvent(const std::string& project_id,
                                                       const EventId& event_id)
      ABSL_NO_THREAD_SAFETY_ANALYSIS override {
    if (absl::Status s = CheckProject(project_id); !s.ok()) return s;
    auto it = state_.version_by_id.find(event_id);
    if (it == state_.version_by_id.end()) return std::optional<EventRecord>();
    auto record = log_->ReadVersion(project_id, it->second);
    if (!record.ok()) return record.status();
    return std::optional<EventRecord>(*std::move(record));
  }

 private:
  // The guard reads only the project it is asked about; another one may have events in
  // flight that the database does not hold yet.
  absl::Status CheckProject(const std::string& project_id) const {
    if (project_id == project_id_) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("the loader of project ", project_id_,
                                            " was asked about project ", project_id));
  }

  RocksEventLog* const log_;
  const std::string& project_id_;
  const StreamState& state_;
};

RocksEventLog::RocksEventLog(const EventLogOptions& options,
                             std::shared_ptr<rocksdb::FileSystem> fs)
    : options_(options), file_system_(std::move(fs)) {}

RocksEventLog::~RocksEventLog() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<RocksEventLog>> RocksEventLog::Open(
    const EventLogOptions& options, std::shared_ptr<rocksdb::FileSystem> file_system) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is empty");
  std::unique_ptr<RocksEventLog> log(new RocksEventLog(options, std::move(file_system)));
  if (absl::Status s = log->OpenDb(); !s.ok()) return s;
  if (absl::Status s = log->LoadLogTail(); !s.ok()) return s;
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  log->syncer_ = std::thread([raw = log.get()] { raw->SyncLoop(); });
  log->completer_ = std::thread([raw = log.get()] { raw->CompletionLoop(); });
  log->loader_ = std::thread([raw = log.get()] { raw->LoaderLoop(); });
  // Named here rather than by the threads themselves, so the names are there when Open
  // returns: top -H, perf and /proc tell the stages apart (≤ 15 characters).
  pthread_setname_np(log->writer_.native_handle(), "log-writer");
  pthread_setname_np(log->syncer_.native_handle(), "log-syncer");
  pthread_setname_np(log->completer_.native_handle(), "log-completer");
  pthread_setname_np(log->loader_.native_handle(), "log-loader");
  return log;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenEventLog(const EventLogOptions& options) {
  auto log = RocksEventLog::Open(options);
  if (!log.ok()) return log.status();
  return std::unique_ptr<EventLog>(std::move(*log));
}

absl::Status RocksEventLog::OpenDb() {
  // The WALs are repaired before RocksDB recovers them: RocksDB would drop a record with a
  // corrupt length at the end of a WAL as if it were a torn write, and call a torn write in
  // a WAL ending in zeros corruption (wal_tail_check.h). The repair may cut a WAL, and the
  // prepared-WAL file system replaces a stale spare, so both run under RocksDB's own lock
  // of the directory (released just before DB::Open takes it again): a second process
  // opening a directory in use fails here instead of cutting the running one's WAL.
  std::vector<std::string> wal_repairs;
  std::shared_ptr<rocksdb::FileSystem> fs = file_system_;
  {
    rocksdb::Env* env = rocksdb::Env::Default();
    if (absl::Status s = FromRocks(env->CreateDirIfMissing(options_.data_dir),
                                   absl::StrCat("creating ", options_.data_dir));
        !s.ok()) {
      return s;
    }
    rocksdb::FileLock* lock = nullptr;
    if (absl::Status s = FromRocks(env->LockFile(options_.data_dir + "/LOCK", &lock),
                                   absl::StrCat("locking ", options_.data_dir));
        !s.ok()) {
      return s;
    }
    const absl::Status repaired = RepairWalTails(options_.data_dir, &wal_repairs);
    if (repaired.ok() && options_.prepared_wal_bytes > 0) {
      fs = std::make_shared<PreparedWalFileSystem>(fs ? fs : rocksdb::FileSystem::Default(),
                                                   options_.data_dir,
                                                   options_.prepared_wal_bytes);
    }
    env->UnlockFile(lock).PermitUncheckedError();
    if (!repaired.ok()) return repaired;
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // A torn tail (a write never acknowledged) may be dropped; corruption before the tail
  // fails the open rather than silently shortening the log (the default,
  // kPointInTimeRecovery, would stop replay at the first bad record and carry on).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = options_.max_wal_bytes;
  // RocksDB's own LOG (flushes, compactions, options): by default one file that grows for
  // as long as the server runs and a new one kept per restart, up to 1000. Bounded here.
  db_options.max_log_file_size = 16 << 20;
  db_options.keep_log_file_num = 8;
  db_options.listeners.push_back(std::make_shared<ManualRecoveryOnly>());
  if (fs) {
    env_ = rocksdb::NewCompositeEnv(fs);
    db_options.env = env_.get();
  }

  rocksdb::BlockBasedTableOptions table;
  // Half the read cache for table blocks, half for snapshots (below).
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes / 2);
  // Events are read in runs (streams, the global log, replays): larger blocks mean fewer
  // block fetches, checksums and decompressions per event read.
  table.block_size = 16 << 10;
  // Debian's RocksDB is built without SSE4.2 ("Fast CRC32 supported: Not supported on x86"
  // in its LOG): CRC32c is computed in software on every block read. XXH3 is fast without
  // it. (Recorded per file: SSTs written with CRC32c stay readable.)
  table.checksum = rocksdb::kXXH3;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // LZ4 rather than the default Snappy: about the same ratio on events, and decompressing
  // is about twice as fast (Snappy was ≈9% of a rebuild's CPU).
  cf_options.compression = rocksdb::kLZ4Compression;
  cf_options.write_buffer_size = 64 << 20;

  // Snapshots are large values (a long project's state is megabytes) found by seeking
  // backwards from a version: kept in blob files, the seek walks small key blocks and
  // only the snapshot found is read, instead of decompressing its neighbours too.
  rocksdb::ColumnFamilyOptions snapshot_options = cf_options;
  snapshot_options.enable_blob_files = true;
  snapshot_options.min_blob_size = 16 << 10;
  snapshot_options.enable_blob_garbage_collection = true;  // Rebuilds overwrite snapshots.
  // Reads of past states of a project come back to the same snapshots: from the cache, a
  // snapshot is one copy, not a file read, a checksum and a copy. Its own cache, in two
  // shards: the block cache's many small shards (capacity / 64 each) would hold one or two
  // multi-MB snapshots apiece and evict them at random.
  snapshot_options.blob_cache =
      rocksdb::NewLRUCache(options_.block_cache_bytes / 2, /*num_shard_bits=*/1);
  // Snapshots enter it when flushed: the latest snapshot of a project is what reads of
  // its current state start from.
  snapshot_options.prepopulate_blob_cache = rocksdb::PrepopulateBlobCache::kFlushOnly;

  // Appends insert increasing keys: each insert starts from the previous one's place.
  rocksdb::ColumnFamilyOptions log_options = cf_options;
  log_options.memtable_insert_with_hint_prefix_extractor = OneInsertHintPerFamily();
  rocksdb::ColumnFamilyOptions streams_options = cf_options;
  streams_options.memtable_insert_with_hint_prefix_extractor = OneInsertHintPerProject();

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {kLogColumnFamily, log_options},
      {kStreamsColumnFamily, streams_options},
      {kSnapshotsColumnFamily, snapshot_options},
  };
  rocksdb::DB* raw = nullptr;
  absl::MutexLock lock(&db_mu_);
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options_.data_dir, families, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening ", options_.data_dir));
  db_.reset(raw);
  // RocksDB's LOG in the data directory, and RecoveryNotes, tell an operator what recovery
  // did.
  for (const std::string& repair : wal_repairs) {
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, db_->GetDBOptions().info_log, "%s",
                 repair.c_str());
  }
  recovery_notes_ = std::move(wal_repairs);
  log_cf_ = handles_[1];
  streams_cf_ = handles_[2];
  snapshots_cf_ = handles_[3];

  std::string value;
  s = db_->Get(rocksdb::ReadOptions(), handles_[0], kFormatVersionKey, &value);
  if (s.IsNotFound()) {
    std::string encoded(4, '\0');
    for (int i = 0; i < 4; ++i) encoded[i] = static_cast<char>(kStorageFormatVersion >> (8 * i));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Put(wo, handles_[0], kFormatVersionKey, encoded),
                     "writing format version");
  }
  if (!s.ok()) return FromRocks(s, "reading format version");
  uint32_t version = 0;
  for (size_t i = 0; i < value.size() && i < 4; ++i) {
    version |= uint32_t{static_cast<uint8_t>(value[i])} << (8 * i);
  }
  if (value.size() != 4 || version != kStorageFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", options_.data_dir, " has storage format ", version,
                     "; this build reads format ", kStorageFormatVersion));
  }
  return absl::OkStatus();
}

absl::Status RocksEventLog::LoadLogTail() {
  absl::MutexLock lock(&writer_mu_);  // Lock order: writer_mu_, then db_mu_.
  absl::ReaderMutexLock db_lock(&db_mu_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  it->SeekToLast();
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log's tail");
  if (!it->Valid()) return absl::OkStatus();
  auto position = DecodeLogKey(ToView(it->key()));
  if (!position.ok()) return position.status();
  EventRecord last;
  if (absl::Status s = DecodeRecord(ToView(it->value()), /*verify_hash=*/true, &last); !s.ok()) {
    return s;
  }
  if (last.position != *position) {
    return absl::DataLossError(absl::StrCat("log key ", *position, " holds position ",
                                            last.position));
  }
  next_position_ = *position + 1;
  last_recorded_at_ = last.recorded_at;
  last_position_.store(*position);
  return absl::OkStatus();
}

void RocksEventLog::AppendAsync(AppendBatch batch, AppendCallback done) {
  auto pending = std::make_unique<PendingAppend>();
  pending->batch = std::move(batch);
  pending->done = std::move(done);
  size_t payload_bytes = 0;
  for (const auto& e : pending->batch.events) payload_bytes += e.payload.size();
  const bool on_caller = payload_bytes <= options_.caller_append_max_bytes;
  bool closed;
  {
    absl::MutexLock lock(&queue_mu_);
    closed = closed_;
    if (!closed) {
      if (!on_caller) {
        queue_.push_back(std::move(pending));
        return;  // The writer thread wakes on the non-empty queue.
      }
      ++caller_appends_;  // Close waits for it.
    }
  }
  if (closed) {
    std::move(pending->done)(absl::UnavailableError("event log is closed"));
    return;
  }
  AppendOnCaller(std::move(pending));
  absl::MutexLock lock(&queue_mu_);
  --caller_appends_;
}

void RocksEventLog::AppendOnCaller(std::unique_ptr<PendingAppend> pending) {
  std::vector<std::string> to_load;
  size_t awaiting_added = 0;
  bool lead = false;
  {
    absl::MutexLock lock(&writer_mu_);
    ProcessOutcomes();
    EvictIdleStreams();
    if (!ParkIfCold(pending, to_load, awaiting_added)) {
      PrepareIntoOpenGroup(std::move(pending));
      lead = LeadOrLeaveOpen();
    }
  }
  RequestLoads(std::move(to_load), {}, awaiting_added);
  if (awaiting_added > 0) WakeWriterForReportedOutcomes();
  if (lead) LeadGroupCommits();
}

void RocksEventLog::PrepareIntoOpenGroup(std::unique_ptr<PendingAppend> pending) {
  if (open_group_ != nullptr && open_group_->batch.GetDataSize() >= options_.max_group_bytes) {
    CloseOpenGroup();  // The active leader writes it next.
  }
  if (open_group_ == nullptr) open_group_ = NewGroup(&open_overlay_);
  PrepareAppends(absl::MakeConstSpan(&pending, 1), *open_overlay_, *open_group_);
  open_group_->appends.push_back(std::move(pending));
}

bool RocksEventLog::LeadOrLeaveOpen() {
  {
    absl::MutexLock lock(&sync_mu_);
    if (syncing_) {
      open_group_waiting_ = true;  // The active leader queues it once its write is done.
      return false;
    }
    syncing_ = true;
  }
  CloseOpenGroup();
  return true;
}

void RocksEventLog::CloseOpenGroup() {
  if (open_group_ == nullptr) return;
  SealGroup(*open_group_);
  QueueOpenGroup();
}

void RocksEventLog::QueueOpenGroup() {
  open_overlay_.reset();  // inflight_ keeps it until the group's outcome.
  absl::MutexLock lock(&sync_mu_);
  to_sync_.push_back(std::move(open_group_));
  open_group_waiting_ = false;
}

// Here and in StopLeading, "no appends left in the open group" and "stop leading" are
// decided in one critical section: under sync_mu_ alone (a caller needs it to leave an
// append), or under writer_mu_ and sync_mu_ after queueing the open group (a caller needs
// writer_mu_ to open another). Otherwise a caller could leave an append in between, for a
// leader that has stopped.
std::deque<std::unique_ptr<RocksEventLog::PreparedGroup>> RocksEventLog::NextGroupsForLeader() {
  {
    absl::MutexLock lock(&sync_mu_);
    if (!open_group_waiting_) {
      if (to_sync_.empty()) {
        syncing_ = false;
        return {};
      }
      return TakeGroupsToSync();
    }
  }
  absl::MutexLock writer_lock(&writer_mu_);
  CloseOpenGroup();
  absl::MutexLock lock(&sync_mu_);
  if (to_sync_.empty()) {
    syncing_ = false;
    return {};
  }
  return TakeGroupsToSync();
}

void RocksEventLog::StopLeading() {
  {
    absl::MutexLock lock(&sync_mu_);
    if (!open_group_waiting_) {
      syncing_ = false;
      return;
    }
  }
  absl::MutexLock writer_lock(&writer_mu_);
  CloseOpenGroup();
  absl::MutexLock lock(&sync_mu_);
  syncing_ = false;
}

void RocksEventLog::QueueForSync(std::unique_ptr<PreparedGroup> group) {
  absl::MutexLock lock(&sync_mu_);
  to_sync_.push_back(std::move(group));  // The syncer thread, or the active leader, takes it.
}

void RocksEventLog::RequestLoads(std::vector<std::string> to_load,
                                 std::vector<std::string> awaited, size_t awaiting_added) {
  if (!to_load.empty() || awaiting_added > 0) {
    absl::MutexLock lock(&queue_mu_);  // Counted first: the writer waits for each.
    loads_outstanding_ += to_load.size() + awaiting_added;
  }
  if (!to_load.empty() || !awaited.empty()) {
    absl::MutexLock lock(&load_mu_);
    for (std::string& project_id : to_load) to_load_.push_back(std::move(project_id));
    for (std::string& project_id : awaited) to_load_.push_back(std::move(project_id));
  }
}

std::deque<std::unique_ptr<RocksEventLog::PreparedGroup>> RocksEventLog::TakeGroupsToSync() {
  std::deque<std::unique_ptr<PreparedGroup>> groups;
  size_t bytes = 0;  // At least one group; more while within the group byte cap.
  while (!to_sync_.empty() &&
         (groups.empty() ||
          bytes + to_sync_.front()->batch.GetDataSize() <= options_.max_group_bytes)) {
    bytes += to_sync_.front()->batch.GetDataSize();
    groups.push_back(std::move(to_sync_.front()));
    to_sync_.pop_front();
  }
  return groups;
}

void RocksEventLog::WakeWriterForReportedOutcomes() {
  // A leader flags outcomes only while it sees a project awaiting them; one reported
  // before that (after the last ProcessOutcomes) would otherwise wait for the next append.
  bool reported;
  {
    absl::MutexLock lock(&sync_mu_);
    reported = !outcomes_.empty();
  }
  if (reported) {
    absl::MutexLock lock(&queue_mu_);
    outcomes_to_check_ = true;
  }
}

void RocksEventLog::PrepareInGroups(std::vector<std::unique_ptr<PendingAppend>> appends) {
  size_t begin = 0;
  while (begin < appends.size()) {
    size_t end = begin, bytes = 0;  // At least one append a group.
    while (end < appends.size()) {
      size_t b = 0;
      for (const auto& e : appends[end]->batch.events) b += e.payload.size() + 256;
      if (end > begin && bytes + b > options_.max_group_bytes) break;
      bytes += b;
      ++end;
    }
    std::vector<std::unique_ptr<PendingAppend>> group(
        std::make_move_iterator(appends.begin() + begin),
        std::make_move_iterator(appends.begin() + end));
    QueueForSync(PrepareGroup(std::move(group)));
    begin = end;
  }
}

void RocksEventLog::LeadGroupCommits() {
  for (;;) {
    std::deque<std::unique_ptr<PreparedGroup>> groups = NextGroupsForLeader();
    if (groups.empty()) return;
    WriteAndReport(groups);
    // Answered here, in commit order: the response writes go out from this (gRPC) thread
    // with no hand-off. Groups queued meanwhile wait for the next turn of this loop.
    for (auto& group : groups) {
      for (auto& p : group->appends) std::move(p->done)(std::move(p->result));
    }
  }
}

void RocksEventLog::WriterLoop() {
  for (;;) {
    {
      // Take the next group only once the syncer has room for it: appends arriving
      // meanwhile join that group, so a busy disk gets fewer, larger writes.
      absl::MutexLock lock(&sync_mu_);
      sync_mu_.Await(absl::Condition(
          +[](RocksEventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return log->to_sync_.size() < kMaxQueuedGroups;
          },
          this));
    }
    std::vector<std::unique_ptr<PendingAppend>> queued;
    std::vector<LoadedStream> loaded;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](RocksEventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->queue_.empty() || !log->loaded_.empty() || log->outcomes_to_check_ ||
                   (log->closed_ && log->loads_outstanding_ == 0);
          },
          this));
      if (queue_.empty() && loaded_.empty() && !outcomes_to_check_) {
        break;  // Closed and drained, no load pending.
      }
      outcomes_to_check_ = false;
      loaded.swap(loaded_);
      loads_outstanding_ -= loaded.size();
      queued.swap(queue_);
    }

    std::vector<std::string> to_load;  // Loads to count and request.
    std::vector<std::string> awaited;  // Loads counted when their appends were parked.
    size_t awaiting_added = 0;
    {
      absl::MutexLock lock(&writer_mu_);
      ProcessOutcomes();
      TakeDurableAwaiting(awaited);
      EvictIdleStreams();
      // Appends parked for these loads arrived before everything queued now: they go
      // first, in their order (prepared under this same lock, so no append to their
      // project prepared on a caller's thread can slip in between).
      std::vector<std::unique_ptr<PendingAppend>> appends = TakeLoaded(std::move(loaded));
      appends.insert(appends.end(), std::make_move_iterator(queued.begin()),
                     std::make_move_iterator(queued.end()));
      ParkColdAppends(appends, to_load, awaiting_added);
      PrepareInGroups(std::move(appends));
    }
    RequestLoads(std::move(to_load), std::move(awaited), awaiting_added);
    if (awaiting_durable_count_.load() > 0) WakeWriterForReportedOutcomes();
  }
}

std::vector<std::unique_ptr<RocksEventLog::PendingAppend>> RocksEventLog::TakeLoaded(
    std::vector<LoadedStream> loaded) {
  std::vector<std::unique_ptr<PendingAppend>> ready;
  for (LoadedStream& l : loaded) {
    // Already in memory if the rules read the project inline meanwhile (nothing could be
    // appended to it: its appends were parked). A failed load is not reported here: the
    // appends read the state inline and get the error from there.
    if (l.state.ok() && !streams_.contains(l.project_id)) {
      InstallStream(l.project_id, *std::move(l.state));
    }
    // Nothing was appended to the project since the load began: the guard's read is current.
    if (l.preloaded != nullptr) {
      options_.append_guard->Adopt(l.project_id, std::move(l.preloaded));
    }
    auto it = parked_.find(l.project_id);
    if (it == parked_.end()) continue;
    for (auto& pending : it->second) {
      pending->load_tried = true;
      ready.push_back(std::move(pending));
    }
    parked_.erase(it);
  }
  return ready;
}

void RocksEventLog::TakeDurableAwaiting(std::vector<std::string>& to_load) {
  for (auto it = awaiting_durable_.begin(); it != awaiting_durable_.end();) {
    auto stream = streams_.find(*it);
    // Forgotten after a failed write: the database is all of it then too.
    if (stream == streams_.end() || stream->second->version == stream->second->durable_version) {
      to_load.push_back(*it);
      awaiting_durable_.erase(it++);
    } else {
      ++it;
    }
  }
  awaiting_durable_count_.store(awaiting_durable_.size());
}

void RocksEventLog::ParkColdAppends(std::vector<std::unique_ptr<PendingAppend>>& group,
                                    std::vector<std::string>& to_load, size_t& awaiting_added) {
  std::vector<std::unique_ptr<PendingAppend>> now;
  now.reserve(group.size());
  for (auto& pending : group) {
    if (!ParkIfCold(pending, to_load, awaiting_added)) now.push_back(std::move(pending));
  }
  group.swap(now);
}

bool RocksEventLog::ParkIfCold(std::unique_ptr<PendingAppend>& pending,
                               std::vector<std::string>& to_load, size_t& awaiting_added) {
  if (pending->load_tried) return false;
  const std::string& project_id = pending->batch.project_id;
  if (auto it = parked_.empty() ? parked_.end() : parked_.find(project_id); it != parked_.end()) {
    it->second.push_back(std::move(pending));  // Behind its project's earlier appends.
    return true;
  }
  if (!streams_.contains(project_id)) {
    // A small or new project is read here at once (no thread hop); one with a longer
    // index, or with a guard more events than it reads in ≈0.2 ms, goes to the loader.
    absl::StatusOr<std::unique_ptr<StreamState>> state;
    {
      absl::ReaderMutexLock db_lock(&db_mu_);
      state = db_ ? ReadStreamState(project_id, kInlineLoadMaxChunks,
                                    options_.append_guard != nullptr ? kInlineGuardedLoadMaxIds
                                                                     : kInlineLoadMaxIds)
                  : absl::UnavailableError("event log is closed");
    }
    if (state.ok() && *state == nullptr) {
      to_load.push_back(project_id);
      parked_[project_id].push_back(std::move(pending));
      return true;
    }
    // An error is read again, and reported, when the append is prepared.
    if (state.ok()) InstallStream(project_id, *std::move(state));
    pending->load_tried = true;
    return false;
  }
  if (AppendGuard* guard = options_.append_guard;
      guard != nullptr && !guard->HasProject(project_id)) {
    // The guard dropped its state (evicted it, or a correction changed what earlier
    // events mean): a large project is read again on the loader once nothing of it is
    // in flight (the database is then all of it). Its appends wait meanwhile, not the
    // writer and every other project's appends behind it.
    const StreamState& stream = *streams_.find(project_id)->second;
    if (stream.version > kInlineGuardedLoadMaxIds) {
      if (stream.version == stream.durable_version) {
        to_load.push_back(project_id);
      } else {
        awaiting_durable_.insert(project_id);
        awaiting_durable_count_.store(awaiting_durable_.size());
        ++awaiting_added;
      }
      parked_[project_id].push_back(std::move(pending));
      return true;
    }
  }
  return false;
}

void RocksEventLog::LoaderLoop() {
  for (;;) {
    std::string project_id;
    std::function<void(const std::string&)> hook;
    {
      absl::MutexLock lock(&load_mu_);
      load_mu_.Await(absl::Condition(
          +[](RocksEventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->to_load_.empty() || log->loader_stop_;
          },
          this));
      if (to_load_.empty()) return;  // Stopped, and the writer waits for no load.
      project_id = std::move(to_load_.front());
      to_load_.pop_front();
      hook = cold_load_hook_;
    }
    if (hook) hook(project_id);
    LoadedStream loaded;
    {
      absl::ReaderMutexLock db_lock(&db_mu_);
      loaded.state =
          db_ ? ReadStreamState(project_id) : absl::UnavailableError("event log is closed");
      if (loaded.state.ok() && *loaded.state != nullptr && options_.append_guard != nullptr) {
        DurableHistory history(this, project_id, **loaded.state);
        loaded.preloaded = options_.append_guard->Preload(project_id, history);
      }
    }
    loaded.project_id = std::move(project_id);
    absl::MutexLock lock(&queue_mu_);
    loaded_.push_back(std::move(loaded));
  }
}

void RocksEventLog::SetColdLoadHookForTesting(
    std::function<void(const std::string& project_id)> hook) {
  absl::MutexLock lock(&load_mu_);
  cold_load_hook_ = std::move(hook);
}

void RocksEventLog::ProcessOutcomes() {
  std::vector<GroupOutcome> outcomes;
  {
    absl::MutexLock lock(&sync_mu_);
    outcomes.swap(outcomes_);
  }
  for (const GroupOutcome& outcome : outcomes) {
    // A group prepared before the writer heard of a failure was failed with it.
    if (outcome.epoch < writer_epoch_) continue;
    if (outcome.status.ok()) {
      const GroupOverlay& overlay = *inflight_.front();
      for (const auto& [project_id, stream] : overlay.streams) {
        if (auto it = streams_.find(project_id); it != streams_.end()) {
          it->second->durable_version = stream.first_version + stream.positions.size() - 1;
        }
      }
      inflight_.pop_front();
      if (options_.append_guard != nullptr) options_.append_guard->Commit();
      continue;
    }
    // The write failed: this group and every group prepared after it are void (the syncer
    // fails them unwritten). Forget the writer's view of everything not durable.
    if (options_.append_guard != nullptr) options_.append_guard->Abort();
    for (const auto& overlay : inflight_) {
      for (const auto& [project_id, stream] : overlay->streams) ForgetStream(project_id);
    }
    inflight_.clear();
    // The open group is void too: queued unsealed (Abort forgot its guard group) for the
    // active leader, which fails it unwritten, in order.
    if (open_group_ != nullptr) QueueOpenGroup();
    next_position_ = last_position_.load(std::memory_order_acquire) + 1;
    ++writer_epoch_;
  }
}

void RocksEventLog::ForgetStream(const std::string& project_id) {
  auto it = streams_.find(project_id);
  if (it == streams_.end()) return;
  cached_event_ids_ -= it->second->version_by_id.size();
  streams_.erase(it);
}

void RocksEventLog::EvictIdleStreams() {
  if (cached_event_ids_ <= options_.max_cached_event_ids) return;
  // Down to three quarters of the budget, so that this runs rarely.
  const size_t target = options_.max_cached_event_ids / 4 * 3;
  struct Idle {
    uint64_t last_used;
    size_t ids;
    const std::string* project_id;
    bool operator<(const Idle& o) const { return last_used < o.last_used; }
  };
  std::vector<Idle> idle;
  for (const auto& [project_id, state] : streams_) {
    // A stream with events not yet durable must stay: the database does not have them,
    // so reloading it from there would lose them. One larger than the target would be
    // reloaded on every append: it stays too (all its ids must be in memory to append).
    if (state->version == state->durable_version && state->version_by_id.size() <= target) {
      idle.push_back({state->last_used, state->version_by_id.size(), &project_id});
    }
  }
  std::sort(idle.begin(), idle.end());
  std::vector<std::string> evict;  // Copied: ForgetStream erases the map's keys.
  size_t left = cached_event_ids_;
  for (size_t i = 0; i < idle.size() && left > target; ++i) {
    left -= idle[i].ids;
    evict.push_back(*idle[i].project_id);
  }
  for (const std::string& project_id : evict) ForgetStream(project_id);
}

void RocksEventLog::SyncLoop() {
  for (;;) {
    std::deque<std::unique_ptr<PreparedGroup>> groups;
    {
      absl::MutexLock lock(&sync_mu_);
      // Groups the writer thread prepared, when no caller is leading the commits (one that
      // is takes them with its own); at the end, whatever is left once nobody appends.
      sync_mu_.Await(absl::Condition(
          +[](RocksEventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->syncing_ && (!log->to_sync_.empty() || log->appenders_done_);
          },
          this));
      if (to_sync_.empty()) break;  // Nobody appends any more and all is written.
      groups = TakeGroupsToSync();
      syncing_ = true;
    }
    WriteAndReport(groups);
    StopLeading();
    // The callbacks complete RPCs, which costs socket writes: run them on the completion
    // thread so this thread goes straight back to the disk with the next groups.
    absl::MutexLock lock(&completion_mu_);
    for (auto& group : groups) completions_.push_back(std::move(group->appends));
  }
  absl::MutexLock lock(&completion_mu_);
  syncer_done_ = true;
}

void RocksEventLog::WriteAndReport(std::deque<std::unique_ptr<PreparedGroup>>& groups) {
  std::vector<PreparedGroup*> to_write;
  for (auto& group : groups) {
    if (group->epoch < write_failures_) {
      // Prepared on top of a group whose write failed: nothing of it may be written, and
      // every answer computed for it (versions, conflicts, rules) assumed that group.
      group->status = absl::UnavailableError(absl::StrCat(
          "not written: an earlier write of the log failed (", last_failure_.ToString(), ")"));
      for (auto& p : group->appends) p->result = group->status;
    } else if (group->any_writes) {
      to_write.push_back(group.get());
    }
  }
  if (!to_write.empty()) {
    const absl::Status status = WriteGroups(to_write);
    if (!status.ok()) {
      ++write_failures_;
      last_failure_ = status;
      for (PreparedGroup* group : to_write) {
        group->status = status;
        for (auto& p : group->appends) {
          if (p->depends_on_group && p->result.ok()) p->result = status;
        }
      }
    } else {
      last_position_.store(to_write.back()->last_position, std::memory_order_release);
      CommitNotice notice;
      notice.last_position = to_write.back()->last_position;
      size_t appends = 0;
      for (const PreparedGroup* group : to_write) appends += group->appends.size();
      notice.streams.reserve(appends);
      for (const PreparedGroup* group : to_write) {
        for (const auto& p : group->appends) {
          if (p->writes && p->result.ok()) {
            notice.streams.emplace_back(p->batch.project_id, p->result->last_version);
          }
        }
      }
      // Listeners first: by the time an appender hears "done", every listener has heard
      // of the commit.
      absl::ReaderMutexLock lock(&listeners_mu_);
      for (CommitListener* l : listeners_) l->OnCommit(notice);
    }
  }
  {
    absl::MutexLock lock(&sync_mu_);
    for (const auto& group : groups) outcomes_.push_back({group->epoch, group->status});
  }
  if (awaiting_durable_count_.load() > 0) {
    absl::MutexLock lock(&queue_mu_);  // A project's appends wait for these outcomes.
    outcomes_to_check_ = true;
  }
}

namespace {

// Copies the puts of a WriteBatch into another (batches hold only puts, see PrepareGroup).
class CopyPuts final : public rocksdb::WriteBatch::Handler {
 public:
  CopyPuts(rocksdb::WriteBatch* to, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)
      : to_(to), handles_(handles) {}
  rocksdb::Status PutCF(uint32_t column_family_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      if (h->GetID() == column_family_id) return to_->Put(h, key, value);
    }
    return rocksdb::Status::Corruption("write batch names an unknown column family");
  }

 private:
  rocksdb::WriteBatch* const to_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
};

}  // namespace

absl::Status RocksEventLog::WriteGroups(const std::vector<PreparedGroup*>& groups) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  if (needs_resume_) {
    // A failed write (e.g. disk full) stops RocksDB's writes until resumed; Resume also
    // switches to a fresh WAL so the failed write's partial bytes are never replayed.
    if (absl::Status s = FromRocks(db_->Resume(), "resuming after a failed write"); !s.ok()) {
      return s;
    }
    needs_resume_ = false;
  }
  rocksdb::WriteBatch* batch = &groups.front()->batch;
  rocksdb::WriteBatch merged;
  if (groups.size() > 1) {
    // One atomic write: the groups succeed or fail together, as the later ones were
    // prepared on the earlier ones anyway.
    CopyPuts copy(&merged, handles_);
    for (PreparedGroup* group : groups) {
      if (absl::Status s = FromRocks(group->batch.Iterate(&copy), "merging groups"); !s.ok()) {
        return s;
      }
    }
    batch = &merged;
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.durability == Durability::kSync;
  absl::Status status = FromRocks(db_->Write(write_options, batch), "writing events");
  if (!status.ok()) needs_resume_ = true;
  return status;
}

void RocksEventLog::CompletionLoop() {
  for (;;) {
    std::deque<std::vector<std::unique_ptr<PendingAppend>>> groups;
    {
      absl::MutexLock lock(&completion_mu_);
      completion_mu_.Await(absl::Condition(
          +[](RocksEventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->completions_.empty() || log->syncer_done_;
          },
          this));
      if (completions_.empty()) return;  // The syncer has exited and all is delivered.
      groups.swap(completions_);
    }
    for (auto& group : groups) {
      for (auto& p : group) std::move(p->done)(std::move(p->result));
    }
  }
}

std::unique_ptr<RocksEventLog::PreparedGroup> RocksEventLog::PrepareGroup(
    std::vector<std::unique_ptr<PendingAppend>> appends) {
  CloseOpenGroup();  // Its appends came first: they take the earlier positions.
  std::shared_ptr<GroupOverlay> overlay;
  std::unique_ptr<PreparedGroup> prepared = NewGroup(&overlay);
  PrepareAppends(appends, *overlay, *prepared);
  prepared->appends = std::move(appends);
  SealGroup(*prepared);
  return prepared;
}

std::unique_ptr<RocksEventLog::PreparedGroup> RocksEventLog::NewGroup(
    std::shared_ptr<GroupOverlay>* overlay) {
  auto group = std::make_unique<PreparedGroup>();
  group->epoch = writer_epoch_;
  *overlay = std::make_shared<GroupOverlay>();
  (*overlay)->first_position = next_position_;
  inflight_.push_back(*overlay);
  return group;
}

void RocksEventLog::SealGroup(PreparedGroup& group) {
  if (options_.append_guard == nullptr) return;
  SealedGroup sealed = options_.append_guard->Seal();
  for (const SealedGroup::Snapshot& snapshot : sealed.snapshots) {
    const std::string key = StreamKey(snapshot.project_id, snapshot.version);
    group.batch.Put(snapshots_cf_, key, EncodeSnapshotValue(key, snapshot.bytes));
  }
}

void RocksEventLog::PrepareAppends(absl::Span<const std::unique_ptr<PendingAppend>> group,
                                   GroupOverlay& overlay, PreparedGroup& prepared) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) {
    for (auto& p : group) p->result = absl::UnavailableError("event log is closed");
    return;
  }
  const Timestamp now = std::max(Now(), last_recorded_at_);
  uint64_t position = next_position_;
  rocksdb::WriteBatch& batch = prepared.batch;

  for (auto& pending : group) {
    const AppendBatch& req = pending->batch;
    auto loaded = LoadStream(req.project_id);
    if (!loaded.ok()) {
      pending->result = loaded.status();
      continue;
    }
    StreamState& stream = **loaded;

    // Idempotency first: are these event ids already in the project?
    std::vector<uint64_t>& earlier_versions = scratch_.earlier_versions;
    earlier_versions.clear();
    size_t found = 0;
    for (size_t i = 0; i < req.events.size(); ++i) {
      uint64_t v = 0;
      if (auto d = stream.version_by_id.find(req.events[i].event_id);
          d != stream.version_by_id.end()) {
        v = d->second;
      }
      earlier_versions.push_back(v);
      if (v != 0) ++found;
    }
    if (req.events.size() > 1) {
      // Callers check this too; the log must not chain two events with one id.
      absl::flat_hash_set<EventId, EventIdHash> seen;
      seen.reserve(req.events.size());
      bool duplicate = false;
      for (const ProposedRecord& e : req.events) duplicate |= !seen.insert(e.event_id).second;
      if (duplicate) {
        pending->result = absl::InvalidArgumentError("events: an event_id occurs twice");
        continue;
      }
    }
    if (found == req.events.size()) {
      pending->result = MatchEarlierAppend(req, earlier_versions, overlay);
      pending->depends_on_group = earlier_versions.back() > stream.durable_version;
      continue;
    }
    if (found > 0) {
      size_t i = 0;
      while (earlier_versions[i] == 0 && i + 1 < earlier_versions.size()) ++i;
      pending->result = absl::FailedPreconditionError(absl::StrCat(
          "events[", i, "].event_id ", FormatEventId(req.events[i].event_id),
          " was already written at version ", earlier_versions[i], " of project ",
          req.project_id, " but other events of this request were not: a retry must repeat "
          "the original append exactly"));
      continue;
    }

    // Optimistic concurrency.
    const ExpectedVersion& ex = req.expected;
    const bool conflict =
        (ex.kind == ExpectedVersion::Kind::kNoStream && stream.version != 0) ||
        (ex.kind == ExpectedVersion::Kind::kStreamExists && stream.version == 0) ||
        (ex.kind == ExpectedVersion::Kind::kExact && stream.version != ex.version);
    if (conflict) {
      pending->result = absl::AbortedError(absl::StrCat(
          "wrong expected version for project ", req.project_id, ": expected ",
          ExpectedName(ex.kind),
          ex.kind == ExpectedVersion::Kind::kExact ? absl::StrCat(" ", ex.version) : "",
          ", current version is ", stream.version));
      continue;
    }

    // Assign versions and positions, encode the records as they will be stored (into the
    // group's record bytes) and chain the hashes; nothing is put in the batch until the
    // guard has admitted them, and a refused append's records are cut off again.
    std::vector<EventRecord>& records = scratch_.records;
    records.resize(req.events.size());
    const size_t record_bytes_before = overlay.record_bytes.size();
    const size_t records_before = overlay.record_ends.size();
    Sha256Digest prev_hash = stream.last_hash;
    for (size_t i = 0; i < req.events.size(); ++i) {
      const ProposedRecord& e = req.events[i];
      EventRecord& r = records[i];
      r.project_id = req.project_id;
      r.actor = req.actor;
      r.version = stream.version + 1 + i;
      r.position = position + i;
      r.event_id = e.event_id;
      r.event_type = e.event_type;
      r.occurred_at = e.occurred_at_set ? e.occurred_at : now;
      r.recorded_at = now;
      r.visibility = e.visibility;
      r.schema_version = e.schema_version;
      r.correlation_id = e.correlation_id;
      r.causation_id = e.causation_id;
      r.prev_hash = prev_hash;
      r.hash = AppendRecord(r, e.payload, e.payload_hash, prev_hash, &overlay.record_bytes);
      overlay.record_ends.push_back(overlay.record_bytes.size());
      prev_hash = r.hash;
    }

    // Domain rules, in commit order and atomically with the write.
    if (options_.append_guard != nullptr) {
      History history(this, &overlay);
      if (absl::Status s = options_.append_guard->Admit(req, records, history); !s.ok()) {
        overlay.record_bytes.resize(record_bytes_before);
        overlay.record_ends.resize(records_before);
        pending->result = s;
        continue;
      }
    }

    AppendResult result;
    result.first_version = stream.version + 1;
    std::vector<EventId>& ids = scratch_.ids;
    ids.clear();
    const uint64_t chunk_first_position = position;
    GroupOverlay::Stream& in_group = overlay.streams[req.project_id];
    if (in_group.positions.empty()) in_group.first_version = result.first_version;
    for (size_t i = 0; i < req.events.size(); ++i) {
      const EventRecord& r = records[i];
      const std::string_view value = overlay.Record(records_before + i);
      batch.Put(log_cf_, LogKey(r.position), rocksdb::Slice(value.data(), value.size()));
      in_group.positions.push_back(r.position);
      if (stream.version_by_id.insert_or_assign(r.event_id, r.version).second) {
        ++cached_event_ids_;
      }
      ids.push_back(r.event_id);
    }
    stream.version += req.events.size();
    stream.last_hash = prev_hash;
    position += req.events.size();
    StreamKeyTo(req.project_id, result.first_version, &scratch_.stream_key);
    EncodeStreamChunkTo(chunk_first_position, ids, &scratch_.stream_chunk);
    batch.Put(streams_cf_, scratch_.stream_key, scratch_.stream_chunk);
    result.last_version = stream.version;
    result.last_position = position - 1;
    pending->result = result;
    pending->writes = true;
    pending->depends_on_group = true;
    prepared.any_writes = true;
  }

  next_position_ = position;
  last_recorded_at_ = now;
  prepared.last_position = position - 1;
}

absl::StatusOr<RocksEventLog::StreamState*> RocksEventLog::LoadStream(
    const std::string& project_id) {
  if (auto it = streams_.find(project_id); it != streams_.end()) {
    it->second->last_used = ++use_clock_;
    return it->second.get();
  }
  auto state = ReadStreamState(project_id);
  if (!state.ok()) return state.status();
  return InstallStream(project_id, *std::move(state));
}

RocksEventLog::StreamState* RocksEventLog::InstallStream(const std::string& project_id,
                                                         std::unique_ptr<StreamState> state) {
  state->last_used = ++use_clock_;
  cached_event_ids_ += state->version_by_id.size();
  StreamState* raw = state.get();
  streams_.insert_or_assign(project_id, std::move(state));
  return raw;
}

absl::StatusOr<std::unique_ptr<RocksEventLog::StreamState>> RocksEventLog::ReadStreamState(
    const std::string& project_id, size_t max_chunks, size_t max_ids) {
  auto state = std::make_unique<StreamState>();
  size_t chunks = 0;
  const std::string prefix = StreamKeyPrefix(project_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  uint64_t last_position = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (++chunks > max_chunks) return nullptr;
    auto first_version = DecodeStreamKeyVersion(ToView(it->key()));
    if (!first_version.ok()) return first_version.status();
    auto chunk = DecodeStreamChunk(ToView(it->value()));
    if (!chunk.ok()) return chunk.status();
    if (*first_version != state->version + 1) {
      return absl::DataLossError(absl::StrCat("project ", project_id, " index jumps from version ",
                                              state->version, " to ", *first_version));
    }
    if (state->version + chunk->event_ids.size() > max_ids) return nullptr;
    for (size_t i = 0; i < chunk->event_ids.size(); ++i) {
      state->version_by_id[chunk->event_ids[i]] = *first_version + i;
    }
    state->version += chunk->event_ids.size();
    last_position = chunk->first_position + chunk->event_ids.size() - 1;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "loading project index");

  if (state->version > 0) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_, LogKey(last_position), &value);
    if (!s.ok()) {
      return s.IsNotFound() ? absl::DataLossError(absl::StrCat("project ", project_id,
                                                               " index names missing position ",
                                                               last_position))
                            : FromRocks(s, "reading a project's last event");
    }
    EventRecord last;
    if (absl::Status d = DecodeRecord(value, /*verify_hash=*/true, &last); !d.ok()) return d;
    if (last.project_id != project_id || last.version != state->version) {
      return absl::DataLossError(absl::StrCat("position ", last_position, " holds ",
                                              last.project_id, "@", last.version,
                                              ", index says ", project_id, "@", state->version));
    }
    state->last_hash = last.hash;
  }
  state->durable_version = state->version;
  return state;
}

absl::StatusOr<AppendResult> RocksEventLog::MatchEarlierAppend(
    const AppendBatch& req, const std::vector<uint64_t>& versions, const GroupOverlay& overlay) {
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions[i] != versions[0] + i) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the event ids of this request were written to project ", req.project_id,
          " at versions ", versions[0], " and ", versions[i],
          ", not as one append in this order: a retry must repeat the original append"));
    }
  }
  AppendResult result;
  result.already_written = true;
  result.first_version = versions.front();
  result.last_version = versions.back();
  for (size_t i = 0; i < req.events.size(); ++i) {
    const ProposedRecord& proposed = req.events[i];
    auto r = ReadVersionForWriter(req.project_id, versions[i], overlay);
    if (!r.ok()) return r.status();
    const EventRecord& stored = *r;
    const bool same = stored.event_type == proposed.event_type &&
                      stored.payload == proposed.payload &&
                      stored.visibility == proposed.visibility &&
                      stored.correlation_id == proposed.correlation_id &&
                      stored.causation_id == proposed.causation_id &&
                      (!proposed.occurred_at_set || stored.occurred_at == proposed.occurred_at);
    if (!same) {
      return absl::FailedPreconditionError(absl::StrCat(
          "events[", i, "].event_id ", FormatEventId(proposed.event_id),
          " was already written at version ", versions[i], " of project ", req.project_id,
          " with different content"));
    }
    result.last_position = stored.position;
  }
  return result;
}

absl::StatusOr<EventRecord> RocksEventLog::ReadVersionForWriter(const std::string& project_id,
                                                                uint64_t version,
                                                                const GroupOverlay& current) {
  std::optional<std::string_view> unwritten = current.Find(project_id, version);
  for (auto it = inflight_.rbegin(); !unwritten && it != inflight_.rend(); ++it) {
    unwritten = (*it)->Find(project_id, version);
  }
  if (!unwritten) return ReadVersion(project_id, version);
  EventRecord record;
  if (absl::Status s = DecodeRecord(*unwritten, false, &record); !s.ok()) return s;
  return record;
}

absl::StatusOr<EventRecord> RocksEventLog::ReadVersion(std::string_view project_id,
                                                       uint64_t version) {
  const std::string prefix = StreamKeyPrefix(project_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  it->SeekForPrev(StreamKey(project_id, version));
  if (!it->status().ok()) return FromRocks(it->status(), "reading project index");
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    return absl::DataLossError(absl::StrCat("no index entry for ", std::string(project_id), "@", version));
  }
  auto first_version = DecodeStreamKeyVersion(ToView(it->key()));
  if (!first_version.ok()) return first_version.status();
  auto chunk = DecodeStreamChunk(ToView(it->value()));
  if (!chunk.ok()) return chunk.status();
  if (version >= *first_version + chunk->event_ids.size()) {
    return absl::DataLossError(absl::StrCat("no index entry for ", std::string(project_id), "@", version));
  }
  const uint64_t position = chunk->first_position + (version - *first_version);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_, LogKey(position), &value);
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading position ", position));
  EventRecord record;
  if (absl::Status d = DecodeRecord(value, false, &record); !d.ok()) return d;
  return record;
}

absl::Status RocksEventLog::ReadPositions(rocksdb::Iterator* it, uint64_t first, uint64_t count,
                                          bool backwards, const ReadLimits& limits, Page& page) {
  const size_t before = page.size();
  uint64_t expected = first;
  it->Seek(LogKey(first));
  for (uint64_t n = 0; n < count && !page.Full(limits); ++n) {
    if (!it->Valid()) break;
    auto pos = DecodeLogKey(ToView(it->key()));
    if (!pos.ok()) return pos.status();
    if (*pos != expected) {
      return absl::DataLossError(absl::StrCat("log is missing position ", expected));
    }
    if (absl::Status s = DecodeRecord(ToView(it->value()), limits.verify_hashes, &page.Next());
        !s.ok()) {
      return s;
    }
    page.Added();
    if (backwards) {
      if (expected == 1) break;
      --expected;
      it->Prev();
    } else {
      ++expected;
      it->Next();
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log");
  if (page.size() == before && count > 0) {
    return absl::DataLossError(absl::StrCat("log is missing position ", first));
  }
  return absl::OkStatus();
}

absl::Status RocksEventLog::ReadStream(std::string_view project_id, uint64_t from_version,
                                       ReadDirection direction, const ReadLimits& limits,
                                       std::vector<EventRecord>* out) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) {
    out->clear();
    return absl::UnavailableError("event log is closed");
  }
  return ReadStreamLocked(project_id, from_version, direction, limits, out);
}

absl::Status RocksEventLog::ReadStreamLocked(std::string_view project_id, uint64_t from_version,
                                             ReadDirection direction, const ReadLimits& limits,
                                             std::vector<EventRecord>* out) {
  Page page(out);
  const std::string prefix = StreamKeyPrefix(project_id);
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = limits.fill_cache;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, streams_cf_));
  std::unique_ptr<rocksdb::Iterator> log_it(db_->NewIterator(read_options, log_cf_));
  const bool backwards = direction == ReadDirection::kBackwards;
  uint64_t want = from_version;
  if (!backwards && want == 0) want = 1;
  if (backwards && want == 0) want = std::numeric_limits<uint64_t>::max();

  it->SeekForPrev(StreamKey(project_id, want));
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    // Nothing at or before `want`: either the project is unknown or `want` precedes it.
    it->Seek(prefix);
    if (!it->status().ok()) return FromRocks(it->status(), "reading project index");
    if (!it->Valid() || !it->key().starts_with(prefix)) {
      return absl::NotFoundError(absl::StrCat("project ", std::string(project_id), " has no events"));
    }
    if (backwards) return absl::OkStatus();
  }
  while (it->Valid() && it->key().starts_with(prefix) && page.size() < limits.max_count) {
    auto first_version = DecodeStreamKeyVersion(ToView(it->key()));
    if (!first_version.ok()) return first_version.status();
    auto chunk = DecodeStreamChunk(ToView(it->value()));
    if (!chunk.ok()) return chunk.status();
    const uint64_t last_version = *first_version + chunk->event_ids.size() - 1;
    if (!backwards) {
      if (want <= last_version) {
        const uint64_t start = std::max(want, *first_version);
        const uint64_t count = last_version - start + 1;
        const size_t before = page.size();
        if (absl::Status s = ReadPositions(log_it.get(), chunk->first_position + (start - *first_version),
                                           count, false, limits, page);
            !s.ok()) {
          return s;
        }
        want = start + (page.size() - before);
        if (want <= last_version) break;  // Page full.
      }
      it->Next();
    } else {
      const uint64_t start = std::min(want, last_version);
      const uint64_t count = start - *first_version + 1;
      const size_t before = page.size();
      if (absl::Status s = ReadPositions(log_it.get(), chunk->first_position + (start - *first_version), count,
                                         true, limits, page);
          !s.ok()) {
        return s;
      }
      const uint64_t read = page.size() - before;
      if (read < count) break;  // Page full.
      want = *first_version - 1;
      it->Prev();
    }
    if (page.Full(limits)) break;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading project index");
  return absl::OkStatus();
}

absl::Status RocksEventLog::ReadAll(uint64_t from_position, const ReadLimits& limits,
                                    std::vector<EventRecord>* out) {
  Page page(out);
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  const uint64_t first = std::max<uint64_t>(from_position, 1);
  const uint64_t last = last_position_.load(std::memory_order_acquire);
  if (first > last) return absl::OkStatus();
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = limits.fill_cache;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, log_cf_));
  return ReadPositions(it.get(), first, last - first + 1, false, limits, page);
}

absl::StatusOr<uint64_t> RocksEventLog::StreamVersion(std::string_view project_id) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  const std::string prefix = StreamKeyPrefix(project_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  it->SeekForPrev(StreamKey(project_id, std::numeric_limits<uint64_t>::max()));
  if (!it->status().ok()) return FromRocks(it->status(), "reading project index");
  if (!it->Valid() || !it->key().starts_with(prefix)) return 0;
  auto first_version = DecodeStreamKeyVersion(ToView(it->key()));
  if (!first_version.ok()) return first_version.status();
  auto chunk = DecodeStreamChunk(ToView(it->value()));
  if (!chunk.ok()) return chunk.status();
  return *first_version + chunk->event_ids.size() - 1;
}

absl::Status RocksEventLog::PutSnapshot(std::string_view project_id, uint64_t version,
                                        std::string_view bytes) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  // A cache, so not through the WAL either: a crash loses the snapshots not yet flushed,
  // which only makes reads replay more (a rebuild writes one multi-MB snapshot per project;
  // the WAL would copy each of them once more).
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  const std::string key = StreamKey(project_id, version);
  return FromRocks(db_->Put(options, snapshots_cf_, key, EncodeSnapshotValue(key, bytes)),
                   "writing a snapshot");
}

absl::StatusOr<std::optional<Snapshot>> RocksEventLog::FloorSnapshot(std::string_view project_id,
                                                                      uint64_t max_version) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  return FloorSnapshotLocked(project_id, max_version);
}

absl::StatusOr<std::optional<Snapshot>> RocksEventLog::FloorSnapshotLocked(
    std::string_view project_id, uint64_t max_version) {
  {
    absl::MutexLock lock(&pin_mu_);
    if (pins_closed_) return absl::UnavailableError("event log is closed");
    ++open_snapshot_pins_;
  }
  // The iterator holds the value (pinned in the blob cache, or read into its buffer); the
  // Snapshot keeps the iterator until it is dropped.
  auto release = [this](rocksdb::Iterator* it) {
    delete it;
    absl::MutexLock lock(&pin_mu_);
    --open_snapshot_pins_;
  };
  // Snapshots carry their own checksum, checked here rather than by RocksDB: Debian's
  // RocksDB computes CRC32c in software (≈1 ms per MB of blob), Crc32c uses SSE4.2. A value
  // is checked when it was read from its blob file, or is small (kept inline in table
  // blocks, which are unchecked too); one served from the blob cache was checked when it
  // entered it (or written by this process). Once a bad one was seen, every read is checked
  // (the bad bytes may sit in the cache).
  rocksdb::ReadOptions read_options;
  read_options.verify_checksums = false;
  rocksdb::PerfContext* perf = rocksdb::get_perf_context();
  const bool counting = rocksdb::GetPerfLevel() >= rocksdb::PerfLevel::kEnableCount;
  const uint64_t blob_reads_before = perf->blob_read_count;
  std::shared_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, snapshots_cf_), release);
  const std::string prefix = StreamKeyPrefix(project_id);
  it->SeekForPrev(StreamKey(project_id, max_version));
  if (!it->status().ok()) return FromRocks(it->status(), "reading snapshots");
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::optional<Snapshot>();
  auto version = DecodeStreamKeyVersion(ToView(it->key()));
  if (!version.ok()) return version.status();
  const std::optional<SnapshotValue> value = DecodeSnapshotValue(ToView(it->value()));
  if (!value.has_value()) return std::optional<Snapshot>();  // Another format: as good as none.
  const bool from_disk = !counting || perf->blob_read_count != blob_reads_before;
  if ((from_disk || value->bytes.size() < (64 << 10) ||
       bad_snapshot_seen_.load(std::memory_order_relaxed)) &&
      !value->ChecksumMatches(ToView(it->key()))) {
    bad_snapshot_seen_.store(true, std::memory_order_relaxed);
    return absl::DataLossError(absl::StrCat("snapshot of project ", std::string(project_id),
                                            " at version ", *version, ": checksum mismatch"));
  }
  return std::optional<Snapshot>(Snapshot{*version, value->bytes, std::move(it)});
}

absl::Status RocksEventLog::ListProjects(std::string_view after, size_t limit,
                                         std::vector<std::string>* out) {
  out->clear();
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  // Keys are project_id 0x00 version: the smallest key of the next project after P is
  // above P 0x01, so one seek per project skips all of P's chunks.
  std::string from;
  if (!after.empty()) {
    from = std::string(after);
    from.push_back('\x01');
  }
  for (it->Seek(from); it->Valid() && out->size() < limit;) {
    const std::string_view key = ToView(it->key());
    const size_t end = key.find('\0');
    if (end == std::string_view::npos) return absl::DataLossError("malformed stream key");
    std::string project(key.substr(0, end));
    it->Seek(project + '\x01');
    out->push_back(std::move(project));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing projects");
  return absl::OkStatus();
}

uint64_t RocksEventLog::LastPosition() { return last_position_.load(std::memory_order_acquire); }

void RocksEventLog::AddCommitListener(CommitListener* listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(listener);
}

void RocksEventLog::RemoveCommitListener(CommitListener* listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

absl::Status RocksEventLog::FlushForTesting() {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  rocksdb::FlushOptions fo;
  return FromRocks(db_->Flush(fo, {log_cf_, streams_cf_, snapshots_cf_}), "flushing");
}

size_t RocksEventLog::CachedEventIdsForTesting() {
  absl::MutexLock lock(&writer_mu_);
  return cached_event_ids_;
}

size_t RocksEventLog::PreparedAppendsForTesting() {
  absl::MutexLock writer_lock(&writer_mu_);
  size_t appends = open_group_ != nullptr ? open_group_->appends.size() : 0;
  absl::MutexLock lock(&sync_mu_);
  for (const auto& group : to_sync_) appends += group->appends.size();
  return appends;
}

absl::Status RocksEventLog::CompactForBenchmark() {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (!db_) return absl::UnavailableError("event log is closed");
  for (rocksdb::ColumnFamilyHandle* cf : {log_cf_, streams_cf_, snapshots_cf_}) {
    rocksdb::Status s = db_->CompactRange(rocksdb::CompactRangeOptions(), cf, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, "compacting");
  }
  return absl::OkStatus();
}

absl::Status RocksEventLog::Close() {
  {
    absl::MutexLock lock(&queue_mu_);
    closed_ = true;  // New appends are refused; queued ones are still committed.
  }
  {
    // Appends being prepared on callers' threads, or leading syncs, finish first: one may
    // still park its append for a load, which the writer thread then waits for.
    absl::MutexLock lock(&queue_mu_);
    queue_mu_.Await(absl::Condition(
        +[](size_t* appends) { return *appends == 0; }, &caller_appends_));
  }
  if (writer_.joinable()) writer_.join();  // It waits for the loads it asked for.
  {
    absl::MutexLock lock(&sync_mu_);
    appenders_done_ = true;
  }
  {
    absl::MutexLock lock(&load_mu_);
    loader_stop_ = true;
  }
  if (loader_.joinable()) loader_.join();
  if (syncer_.joinable()) syncer_.join();
  if (completer_.joinable()) completer_.join();
  {
    // Not under db_mu_: a reader holding a snapshot may still take it to read the log.
    absl::MutexLock lock(&pin_mu_);
    pins_closed_ = true;
    pin_mu_.Await(absl::Condition(
        +[](int* pins) { return *pins == 0; }, &open_snapshot_pins_));
  }
  absl::MutexLock lock(&db_mu_);
  if (!db_) return absl::OkStatus();
  absl::Status status;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (absl::Status s = FromRocks(db_->DestroyColumnFamilyHandle(h), "closing"); status.ok()) {
      status = s;
    }
  }
  handles_.clear();
  log_cf_ = streams_cf_ = snapshots_cf_ = nullptr;
  if (absl::Status s = FromRocks(db_->Close(), "closing"); status.ok()) status = s;
  db_.reset();
  return status;
}

}  // namespace accord::storage
