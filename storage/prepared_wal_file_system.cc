#include "storage/prepared_wal_file_system.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "storage/wal_tail_check.h"

namespace accord::storage {

namespace {

// "NNNNNN.log" directly in `dir`.
bool IsWalFile(const std::string& dir, const std::string& fname) {
  return fname.size() > dir.size() + 1 && fname.compare(0, dir.size(), dir) == 0 &&
         fname[dir.size()] == '/' && IsWalFileName(std::string_view(fname).substr(dir.size() + 1));
}

// Zeros are written in chunks of this size, with a sync every kSyncEvery bytes so the
// spare's writeback comes in slices instead of one burst that would stall the log's own
// fdatasyncs on the same device.
constexpr uint64_t kChunk = uint64_t{1} << 20;
constexpr uint64_t kSyncEvery = uint64_t{8} << 20;

}  // namespace

PreparedWalFileSystem::PreparedWalFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                             std::string wal_dir, uint64_t prepared_bytes)
    : FileSystemWrapper(std::move(base)),
      wal_dir_(std::move(wal_dir)),
      spare_path_(wal_dir_ + "/" + kSpareName),
      prepared_bytes_(prepared_bytes) {
  // A spare left by an earlier run is whole (it gets its name only once written and
  // synced); one of another size, and an unfinished temporary file, are removed.
  const rocksdb::IOOptions io;
  target()->DeleteFile(spare_path_ + ".tmp", io, nullptr).PermitUncheckedError();
  uint64_t size = 0;
  bool ready = target()->GetFileSize(spare_path_, io, &size, nullptr).ok() &&
               size == prepared_bytes_;
  if (!ready) {
    target()->DeleteFile(spare_path_, io, nullptr).PermitUncheckedError();
    // The first WAL is created as the database opens: have a spare for it. (A failure
    // here is retried when the next WAL asks for one.)
    ready = WriteSpare().ok();
  }
  {
    absl::MutexLock lock(&mu_);
    spare_ready_ = ready;
    spare_wanted_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wal-spare");
    SpareLoop();
  });
}

PreparedWalFileSystem::~PreparedWalFileSystem() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

rocksdb::IOStatus PreparedWalFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (IsWalFile(wal_dir_, fname)) {
    absl::MutexLock lock(&mu_);  // The spare thread renames onto spare_path_ under it too.
    if (spare_ready_) {
      spare_ready_ = false;
      spare_wanted_ = true;
      rocksdb::IOStatus s = target()->ReuseWritableFile(fname, spare_path_, options, result, dbg);
      if (s.ok()) {
        ++used_;
        return s;
      }
      // Fall through: a WAL must not depend on the spare.
    } else if (!writing_) {
      spare_wanted_ = true;  // The last attempt failed (or none was made): try again.
    }
  }
  return target()->NewWritableFile(fname, options, result, dbg);
}

uint64_t PreparedWalFileSystem::PreparedWalsUsed() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

void PreparedWalFileSystem::WaitUntilIdleForTesting() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](PreparedWalFileSystem* fs) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !fs->writing_ && !fs->spare_wanted_;
      },
      this));
}

void PreparedWalFileSystem::SpareLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PreparedWalFileSystem* fs) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return fs->spare_wanted_ || fs->stop_;
          },
          this));
      if (stop_) return;
      spare_wanted_ = false;
      writing_ = true;
    }
    const rocksdb::IOStatus s = WriteSpare();
    absl::MutexLock lock(&mu_);
    writing_ = false;
    spare_ready_ = s.ok();
  }
}

rocksdb::IOStatus PreparedWalFileSystem::WriteSpare() {
  const std::string tmp = spare_path_ + ".tmp";
  const rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(tmp, rocksdb::FileOptions(), &file, nullptr);
  const std::string zeros(kChunk, '\0');
  for (uint64_t written = 0; s.ok() && written < prepared_bytes_;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) s = rocksdb::IOStatus::Aborted("shutting down");
    }
    if (!s.ok()) break;
    const uint64_t n = std::min(kChunk, prepared_bytes_ - written);
    s = file->Append(rocksdb::Slice(zeros.data(), n), io, nullptr);
    written += n;
    if (s.ok() && (written % kSyncEvery == 0 || written == prepared_bytes_)) {
      s = file->Sync(io, nullptr);
    }
  }
  if (file != nullptr) {
    rocksdb::IOStatus closed = file->Close(io, nullptr);
    if (s.ok()) s = closed;
  }
  if (s.ok()) {
    absl::MutexLock lock(&mu_);  // Not while NewWritableFile takes the previous spare.
    s = target()->RenameFile(tmp, spare_path_, io, nullptr);
  }
  if (!s.ok()) target()->DeleteFile(tmp, io, nullptr).PermitUncheckedError();
  return s;
}

}  // namespace accord::storage
