#include "tests/storage/fault_injection_fs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace accord::testing {

using rocksdb::DataVerificationInfo;
using rocksdb::FileOptions;
using rocksdb::FSRandomRWFile;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// Sizes of one tracked file. Shared between the tracking table (keyed by the file's current
// name) and the open handle writing it, so a rename while the handle is open still updates
// the right entry. Guarded by State::mu.
struct TrackedFile {
  uint64_t written = 0;
  uint64_t durable = 0;
  // Size of the file this one was reused from (ReuseWritableFile), 0 if none: its bytes
  // past `durable` revert to zeros at a power cut instead of being cut off.
  uint64_t reused_size = 0;
};

struct FaultInjectionFileSystem::State {
  explicit State(std::shared_ptr<rocksdb::FileSystem> target) : base(std::move(target)) {}

  const std::shared_ptr<rocksdb::FileSystem> base;

  // Held shared by every operation that changes the disk, for the whole operation, and
  // exclusively by SetDead and SimulatePowerLoss: once SetDead(true) returns, no write is
  // half done, and SimulatePowerLoss never races a write it would then miscount.
  absl::Mutex io_mu ABSL_ACQUIRED_BEFORE(mu);

  mutable absl::Mutex mu;
  bool dead ABSL_GUARDED_BY(mu) = false;
  bool no_space ABSL_GUARDED_BY(mu) = false;
  bool hold_syncs ABSL_GUARDED_BY(mu) = false;
  int held_syncs ABSL_GUARDED_BY(mu) = 0;
  int failing_syncs ABSL_GUARDED_BY(mu) = 0;
  uint64_t syncs ABSL_GUARDED_BY(mu) = 0;  // Started (and not held) Sync/Fsync calls.
  uint64_t refused ABSL_GUARDED_BY(mu) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<TrackedFile>> files ABSL_GUARDED_BY(mu);

  // Why a disk-changing operation may not run now (dead); OK otherwise.
  IOStatus CheckAlive() {
    absl::MutexLock lock(&mu);
    if (!dead) return IOStatus::OK();
    ++refused;
    return IOStatus::IOError("fault injection: power is cut");
  }

  // Why a write of data may not run now (dead or disk full); OK otherwise.
  IOStatus CheckWritable() {
    absl::MutexLock lock(&mu);
    if (dead) {
      ++refused;
      return IOStatus::IOError("fault injection: power is cut");
    }
    if (no_space) {
      ++refused;
      return IOStatus::NoSpace("fault injection: disk full");
    }
    return IOStatus::OK();
  }

  // Runs a data write of `len` bytes (at `offset`, or at the end when nullopt) and counts
  // it as written when it succeeds.
  IOStatus Write(TrackedFile& file, uint64_t len, std::optional<uint64_t> offset,
                 const std::function<IOStatus()>& op) {
    absl::ReaderMutexLock io(&io_mu);
    if (IOStatus s = CheckWritable(); !s.ok()) return s;
    IOStatus s = op();
    if (s.ok()) {
      absl::MutexLock lock(&mu);
      file.written = offset ? std::max(file.written, *offset + len) : file.written + len;
    }
    return s;
  }

  // Runs a Sync/Fsync; what was written before it started becomes durable.
  IOStatus Sync(TrackedFile& file, const std::function<IOStatus()>& op) {
    {
      // Before io_mu: a held sync must not keep SetDead from cutting the power.
      absl::MutexLock lock(&mu);
      ++held_syncs;
      mu.Await(absl::Condition(
          +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s->hold_syncs; }, this));
      --held_syncs;
      ++syncs;
      if (failing_syncs > 0) {
        --failing_syncs;
        ++refused;
        return IOStatus::NoSpace("fault injection: sync failed");
      }
    }
    absl::ReaderMutexLock io(&io_mu);
    if (IOStatus s = CheckAlive(); !s.ok()) return s;
    uint64_t written;
    {
      absl::MutexLock lock(&mu);
      written = file.written;
    }
    IOStatus s = op();
    if (s.ok()) {
      absl::MutexLock lock(&mu);
      file.durable = std::max(file.durable, std::min(written, file.written));
    }
    return s;
  }

  // Runs an operation that changes the disk but neither adds data nor makes it durable.
  IOStatus Other(const std::function<IOStatus()>& op) {
    absl::ReaderMutexLock io(&io_mu);
    if (IOStatus s = CheckAlive(); !s.ok()) return s;
    return op();
  }

  std::shared_ptr<TrackedFile> Track(const std::string& path, uint64_t written,
                                     uint64_t durable, uint64_t reused_size = 0) {
    auto file = std::make_shared<TrackedFile>();
    file->written = written;
    file->durable = durable;
    file->reused_size = reused_size;
    absl::MutexLock lock(&mu);
    files[path] = file;
    return file;
  }
  // The tracked file at `path`, or a new one whose bytes on disk (as `fs` sees them) count
  // as durable: files opened without truncation keep what was there before we saw them.
  std::shared_ptr<TrackedFile> TrackExisting(rocksdb::FileSystem& fs, const std::string& path);
};

namespace {

using State = FaultInjectionFileSystem::State;

// What the tracked writable and random-read-write files share: syncs that make their
// bytes durable, flushes, and a close that reports a power cut.
template <typename Wrapper, typename File>
class TrackedFileBase : public Wrapper {
 public:
  TrackedFileBase(std::unique_ptr<File> target, std::shared_ptr<State> state,
                  std::shared_ptr<TrackedFile> file)
      : Wrapper(std::move(target)), state_(std::move(state)), file_(std::move(file)) {}

  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return state_->Sync(*file_, [&] { return this->target()->Sync(options, dbg); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return state_->Sync(*file_, [&] { return this->target()->Fsync(options, dbg); });
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    return state_->Other([&] { return this->target()->Flush(options, dbg); });
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    // Always release the descriptor (the wrapped file would close it on destruction
    // anyway; closing adds no bytes), but report the cut so RocksDB sees the failure.
    IOStatus s = this->target()->Close(options, dbg);
    if (IOStatus alive = state_->CheckAlive(); !alive.ok()) return alive;
    return s;
  }

 protected:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<TrackedFile> file_;
};

class TrackedWritableFile final
    : public TrackedFileBase<rocksdb::FSWritableFileOwnerWrapper, FSWritableFile> {
 public:
  using TrackedFileBase::TrackedFileBase;

  // Both overloads: the wrapper's verification-info overload forwards straight to the
  // target, which would bypass the fault checks.
  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return state_->Write(*file_, data.size(), std::nullopt,
                         [&] { return target()->Append(data, options, dbg); });
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const DataVerificationInfo& info, IODebugContext* dbg) override {
    return state_->Write(*file_, data.size(), std::nullopt,
                         [&] { return target()->Append(data, options, info, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return state_->Write(*file_, data.size(), offset, [&] {
      return target()->PositionedAppend(data, offset, options, dbg);
    });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const DataVerificationInfo& info, IODebugContext* dbg) override {
    return state_->Write(*file_, data.size(), offset, [&] {
      return target()->PositionedAppend(data, offset, options, info, dbg);
    });
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& options,
                    IODebugContext* dbg) override {
    // Allocation adds no bytes (RocksDB preallocates with FALLOC_FL_KEEP_SIZE) but is
    // where a real full disk often shows first.
    return state_->Write(*file_, 0, 0,
                         [&] { return target()->Allocate(offset, len, options, dbg); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    return state_->Other([&] {
      IOStatus s = target()->Truncate(size, options, dbg);
      if (s.ok()) {
        absl::MutexLock lock(&state_->mu);
        file_->written = size;
        file_->durable = std::min(file_->durable, size);
      }
      return s;
    });
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    // Passed through (RocksDB calls it for bytes_per_sync) but never counted as durable.
    return state_->Other(
        [&] { return target()->RangeSync(offset, nbytes, options, dbg); });
  }
};

class TrackedRandomRWFile final
    : public TrackedFileBase<rocksdb::FSRandomRWFileOwnerWrapper, FSRandomRWFile> {
 public:
  using TrackedFileBase::TrackedFileBase;

  IOStatus Write(uint64_t offset, const Slice& data, const IOOptions& options,
                 IODebugContext* dbg) override {
    return state_->Write(*file_, data.size(), offset,
                         [&] { return target()->Write(offset, data, options, dbg); });
  }
};

// The current size of `path` on disk, 0 when it cannot be read.
uint64_t SizeOnDisk(rocksdb::FileSystem& fs, const std::string& path) {
  uint64_t size = 0;
  if (!fs.GetFileSize(path, IOOptions(), &size, nullptr).ok()) return 0;
  return size;
}

}  // namespace

std::shared_ptr<TrackedFile> FaultInjectionFileSystem::State::TrackExisting(
    rocksdb::FileSystem& fs, const std::string& path) {
  {
    absl::MutexLock lock(&mu);
    if (auto it = files.find(path); it != files.end()) return it->second;
  }
  const uint64_t size = SizeOnDisk(fs, path);
  return Track(path, size, size);
}

FaultInjectionFileSystem::FaultInjectionFileSystem()
    : FileSystemWrapper(rocksdb::FileSystem::Default()),
      state_(std::make_shared<State>(rocksdb::FileSystem::Default())) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::SetDead(bool dead) {
  absl::MutexLock io(&state_->io_mu);  // Waits for writes in flight: a clean instant.
  absl::MutexLock lock(&state_->mu);
  state_->dead = dead;
}

void FaultInjectionFileSystem::SetNoSpace(bool no_space) {
  absl::MutexLock lock(&state_->mu);
  state_->no_space = no_space;
}

void FaultInjectionFileSystem::FailNextSyncs(int count) {
  absl::MutexLock lock(&state_->mu);
  state_->failing_syncs = count;
}

void FaultInjectionFileSystem::HoldSyncs(bool hold) {
  absl::MutexLock lock(&state_->mu);
  state_->hold_syncs = hold;
}

uint64_t FaultInjectionFileSystem::Syncs() const {
  absl::MutexLock lock(&state_->mu);
  return state_->syncs;
}

int FaultInjectionFileSystem::HeldSyncs() const {
  absl::MutexLock lock(&state_->mu);
  return state_->held_syncs;
}

bool FaultInjectionFileSystem::WaitForHeldSync(absl::Duration timeout) {
  absl::MutexLock lock(&state_->mu);
  return state_->mu.AwaitWithTimeout(
      absl::Condition(
          +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->held_syncs > 0 && s->hold_syncs;
          },
          state_.get()),
      timeout);
}

IOStatus FaultInjectionFileSystem::SimulatePowerLoss() {
  absl::MutexLock io(&state_->io_mu);
  absl::MutexLock lock(&state_->mu);
  IOStatus first_error;
  for (auto& [path, file] : state_->files) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;  // Deleted behind RocksDB's back.
    // Directly, not through a FileSystem: our own Truncate refuses when dead, and the POSIX
    // FileSystem of RocksDB 7.8 does not implement Truncate by name.
    if (file->reused_size > file->durable) {
      // Unsynced overwrites of a reused file revert to its zeros; its size stays.
      const uint64_t end = std::min(file->written, file->reused_size);
      if (end > file->durable) {
        std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(static_cast<std::streamoff>(file->durable));
        const std::string zeros(end - file->durable, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
        if (!f) ec = std::make_error_code(std::errc::io_error);
      }
      if (!ec) std::filesystem::resize_file(path, file->reused_size, ec);
    } else {
      std::filesystem::resize_file(path, file->durable, ec);
    }
    if (!ec) {
      file->written = file->durable;
    } else if (first_error.ok()) {
      first_error = IOStatus::IOError("truncating " + path, ec.message());
    }
  }
  return first_error;
}

int64_t FaultInjectionFileSystem::WrittenSize(const std::string& path) const {
  absl::MutexLock lock(&state_->mu);
  auto it = state_->files.find(path);
  return it == state_->files.end() ? -1 : static_cast<int64_t>(it->second->written);
}

int64_t FaultInjectionFileSystem::DurableSize(const std::string& path) const {
  absl::MutexLock lock(&state_->mu);
  auto it = state_->files.find(path);
  return it == state_->files.end() ? -1 : static_cast<int64_t>(it->second->durable);
}

uint64_t FaultInjectionFileSystem::RefusedWrites() const {
  absl::MutexLock lock(&state_->mu);
  return state_->refused;
}

IOStatus FaultInjectionFileSystem::NewWritableFile(const std::string& fname,
                                                   const FileOptions& options,
                                                   std::unique_ptr<FSWritableFile>* result,
                                                   IODebugContext* dbg) {
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = state_->Other([&] { return target()->NewWritableFile(fname, options, &file, dbg); });
  if (!s.ok()) return s;
  // A new (or truncated) file: nothing in it is durable yet.
  *result = std::make_unique<TrackedWritableFile>(std::move(file), state_,
                                                  state_->Track(fname, 0, 0));
  return s;
}

IOStatus FaultInjectionFileSystem::ReopenWritableFile(const std::string& fname,
                                                      const FileOptions& options,
                                                      std::unique_ptr<FSWritableFile>* result,
                                                      IODebugContext* dbg) {
  std::unique_ptr<FSWritableFile> file;
  IOStatus s =
      state_->Other([&] { return target()->ReopenWritableFile(fname, options, &file, dbg); });
  if (!s.ok()) return s;
  // Appends go after the bytes that were there before.
  *result = std::make_unique<TrackedWritableFile>(std::move(file), state_,
                                                  state_->TrackExisting(*target(), fname));
  return s;
}

IOStatus FaultInjectionFileSystem::ReuseWritableFile(const std::string& fname,
                                                     const std::string& old_fname,
                                                     const FileOptions& options,
                                                     std::unique_ptr<FSWritableFile>* result,
                                                     IODebugContext* dbg) {
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = state_->Other(
      [&] { return target()->ReuseWritableFile(fname, old_fname, options, &file, dbg); });
  if (!s.ok()) return s;
  // A reused file is rewritten from offset 0; only what is synced from now on counts. The
  // old file's size stays (its blocks were allocated and written): unsynced bytes read as
  // zeros after a power cut, as they do in a WAL prepared with zeros (the event log's only
  // reused files, prepared_wal_file_system.h).
  uint64_t reused_size = 0;
  {
    absl::MutexLock lock(&state_->mu);
    if (auto it = state_->files.find(old_fname); it != state_->files.end()) {
      reused_size = it->second->durable;
    }
    state_->files.erase(old_fname);
  }
  if (reused_size == 0) reused_size = SizeOnDisk(*target(), fname);
  *result = std::make_unique<TrackedWritableFile>(std::move(file), state_,
                                                  state_->Track(fname, 0, 0, reused_size));
  return s;
}

IOStatus FaultInjectionFileSystem::NewRandomRWFile(const std::string& fname,
                                                   const FileOptions& options,
                                                   std::unique_ptr<FSRandomRWFile>* result,
                                                   IODebugContext* dbg) {
  std::unique_ptr<FSRandomRWFile> file;
  IOStatus s = state_->Other([&] { return target()->NewRandomRWFile(fname, options, &file, dbg); });
  if (!s.ok()) return s;
  // Opening for random writes does not truncate: existing bytes stay durable.
  *result = std::make_unique<TrackedRandomRWFile>(std::move(file), state_,
                                                  state_->TrackExisting(*target(), fname));
  return s;
}

IOStatus FaultInjectionFileSystem::RenameFile(const std::string& src, const std::string& target,
                                              const IOOptions& options, IODebugContext* dbg) {
  return state_->Other([&] {
    IOStatus s = this->target()->RenameFile(src, target, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&state_->mu);
      auto node = state_->files.extract(src);
      state_->files.erase(target);
      // An untracked source was durable; so is the target now (nothing to track).
      if (!node.empty()) state_->files.emplace(target, std::move(node.mapped()));
    }
    return s;
  });
}

IOStatus FaultInjectionFileSystem::LinkFile(const std::string& src, const std::string& target,
                                            const IOOptions& options, IODebugContext* dbg) {
  return state_->Other([&] {
    IOStatus s = this->target()->LinkFile(src, target, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&state_->mu);
      state_->files.erase(target);
      if (auto it = state_->files.find(src); it != state_->files.end()) {
        state_->files.emplace(target, std::make_shared<TrackedFile>(*it->second));
      }
    }
    return s;
  });
}

IOStatus FaultInjectionFileSystem::DeleteFile(const std::string& fname, const IOOptions& options,
                                              IODebugContext* dbg) {
  return state_->Other([&] {
    IOStatus s = target()->DeleteFile(fname, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&state_->mu);
      state_->files.erase(fname);
    }
    return s;
  });
}

IOStatus FaultInjectionFileSystem::Truncate(const std::string& fname, size_t size,
                                            const IOOptions& options, IODebugContext* dbg) {
  return state_->Other([&] {
    IOStatus s = target()->Truncate(fname, size, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&state_->mu);
      if (auto it = state_->files.find(fname); it != state_->files.end()) {
        it->second->written = size;
        it->second->durable = std::min<uint64_t>(it->second->durable, size);
      }
    }
    return s;
  });
}

IOStatus FaultInjectionFileSystem::CreateDir(const std::string& dirname, const IOOptions& options,
                                             IODebugContext* dbg) {
  return state_->Other([&] { return target()->CreateDir(dirname, options, dbg); });
}

IOStatus FaultInjectionFileSystem::CreateDirIfMissing(const std::string& dirname,
                                                      const IOOptions& options,
                                                      IODebugContext* dbg) {
  return state_->Other([&] { return target()->CreateDirIfMissing(dirname, options, dbg); });
}

IOStatus FaultInjectionFileSystem::DeleteDir(const std::string& dirname, const IOOptions& options,
                                             IODebugContext* dbg) {
  return state_->Other([&] { return target()->DeleteDir(dirname, options, dbg); });
}

}  // namespace accord::testing
