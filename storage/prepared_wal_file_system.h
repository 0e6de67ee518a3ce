// PreparedWalFileSystem: hands RocksDB each new write-ahead log file already written with
// zeros, so that the log's synced appends overwrite blocks the file system has allocated
// and written before, instead of growing the file.
//
// Why: on ext4 (and most file systems) an fdatasync after an append that grows a file
// must also write the inode (the new size) and the extent tree (blocks newly allocated,
// or converted from unwritten): three dependent device writes — data, metadata, cache
// flush — per synced group commit. Overwriting blocks of a file whose size does not change
// needs only the data and the flush. Measured on the 2-core VM this project benchmarks on
// (bench/README.md, session 11): the fdatasync of each group commit waits on one I/O less,
// single-event durable appends +8–18%. PostgreSQL zero-fills its WAL segments for the
// same reason; RocksDB's own WAL recycling would give it too, but RocksDB disables
// recycling under the kTolerateCorruptedTailRecords recovery the log needs (recycled
// stale records cannot be told from corruption; zeros can).
//
// How: a background thread keeps one spare file, `kSpareName` in the WAL directory,
// `prepared_bytes` of zeros, synced (written under a temporary name and renamed, so a
// spare is always whole). NewWritableFile of a WAL ("NNNNNN.log") takes the spare with the
// wrapped file system's ReuseWritableFile (a rename, then writes from offset 0) and asks
// for the next spare; when none is ready (the first WAL, or WALs switched faster than
// spares are written), the WAL is created as usual, never waited for. Past the prepared
// size a WAL simply grows. On a clean close RocksDB truncates a WAL it wrote to to its data
// (it preallocates WAL space as it writes, and a file it preallocated is trimmed on Close);
// one never written to stays all zeros, which recovery reads as empty.
//
// What recovery must know: after a crash the live WAL ends in zeros, and a write that was
// cut short by a power loss leaves zeros where its unwritten sectors are. RocksDB skips
// zeroed blocks, but reads a record with missing sectors as corruption;
// wal_tail_check.h repairs that case before RocksDB opens the database.
//
// Cost: one extra sequential write of each WAL's size (in the background) and up to
// `prepared_bytes` more disk space for the spare. A spare that cannot be written (full
// disk) is given up until the next WAL asks for one; appends never depend on it.
//
// Thread-safety: as rocksdb::FileSystem (any thread). Ownership: shares the wrapped file
// system; the spare-writing thread stops in the destructor (call it after the database
// using this file system is closed).
#ifndef ACCORD_STORAGE_PREPARED_WAL_FILE_SYSTEM_H_
#define ACCORD_STORAGE_PREPARED_WAL_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/file_system.h"

namespace accord::storage {

class PreparedWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  // The spare's file name in the WAL directory (not a name RocksDB parses, so RocksDB
  // neither deletes nor lists it).
  static constexpr const char* kSpareName = "ACCORD-WAL-SPARE";

  // Prepares WALs of `prepared_bytes` (> 0) in `wal_dir` (which must exist) over `base`.
  // The first spare is written before the constructor returns (unless one is left from an
  // earlier run), the next ones in the background.
  PreparedWalFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::string wal_dir,
                        uint64_t prepared_bytes);
  ~PreparedWalFileSystem() override;
  PreparedWalFileSystem(const PreparedWalFileSystem&) = delete;
  PreparedWalFileSystem& operator=(const PreparedWalFileSystem&) = delete;

  static const char* kClassName() { return "AccordPreparedWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

  // WAL files opened on a prepared spare so far (tests read it).
  uint64_t PreparedWalsUsed() const;
  // Blocks until no spare is being written (tests use it to know one is ready, or that
  // writing one failed).
  void WaitUntilIdleForTesting();

 private:
  void SpareLoop();
  // Writes `prepared_bytes_` zeros to a temporary file, syncs it and renames it to the
  // spare's name.
  rocksdb::IOStatus WriteSpare();

  const std::string wal_dir_;
  const std::string spare_path_;
  const uint64_t prepared_bytes_;

  mutable absl::Mutex mu_;
  bool spare_ready_ ABSL_GUARDED_BY(mu_) = false;
  bool spare_wanted_ ABSL_GUARDED_BY(mu_) = false;  // The thread should write one.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // Runs SpareLoop.
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_PREPARED_WAL_FILE_SYSTEM_H_
