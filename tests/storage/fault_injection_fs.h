// FaultInjectionFileSystem: a rocksdb::FileSystem for tests that models what a power cut
// and a full disk do to files RocksDB writes, over the real (POSIX) file system, so the
// event log under test runs real RocksDB code against real files in a temp dir.
//
// Contract
//   Tracking. Every file opened for writing through this file system (NewWritableFile,
//   ReopenWritableFile, ReuseWritableFile, NewRandomRWFile) is tracked by path with two
//   sizes: `written`, the bytes handed to the OS, and `durable`, the value of `written` at
//   the last successful Sync or Fsync of that file. Nothing else makes bytes durable:
//   RangeSync (sync_file_range: no metadata, no guarantee), Flush and Close do not.
//   Files that existed before and were never opened for writing here are not tracked and
//   count as fully durable.
//   Names. Directory entries are treated as durable as soon as they change (directory
//   fsyncs are passed through but not required): a rename moves the tracked sizes with the
//   file, so a file synced and then renamed (RocksDB's CURRENT, IDENTITY and OPTIONS
//   files) stays durable under its new name; a delete forgets the file; a hard link copies
//   its sizes. This is kinder than ext4 without a directory fsync, which is acceptable:
//   the event log's durability promise rests on RocksDB's WAL sync, not on directories.
//   SimulatePowerLoss(). Truncates every tracked file to its durable size — except a file
//   opened with ReuseWritableFile, which keeps the size of the file it reused and reads as
//   zeros past its durable size (the reused file is taken to have been zeros, as the event
//   log's prepared WALs are). A file that was never synced becomes EMPTY (it is kept, not deleted: its directory entry counts as
//   durable, see Names, and RocksDB copes with an empty WAL or an unreferenced empty file).
//   Call it when nothing writes any more: after the DB is closed, or after SetDead(true).
//   The tracked sizes then equal the file sizes, so the call is idempotent.
//   SetDead(true): the instant of the power cut. From then on every call that would change
//   the disk (appends, truncates, syncs, allocation, file creation, rename, link, delete,
//   directory creation) fails with IOStatus::IOError and changes nothing. Reads, locks and
//   unlocks still work, so the DB can be closed and reopened in the same process.
//   SetNoSpace(true): Append, PositionedAppend, Allocate and RandomRW Write fail with
//   IOStatus::NoSpace() and write nothing, as a full disk would; everything else works.
//   SetNoSpace(false) restores normal writes; the file system does not reopen anything.
//
// Thread-safety: all methods may be called from any thread; one absl::Mutex guards the
// tracking table and the flags. The file wrappers hold a shared pointer to that state, so
// they may outlive the file system object.
#ifndef ACCORD_TESTS_STORAGE_FAULT_INJECTION_FS_H_
#define ACCORD_TESTS_STORAGE_FAULT_INJECTION_FS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "rocksdb/file_system.h"

namespace accord::testing {

class FaultInjectionFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  struct State;  // Shared with the open file wrappers (fault_injection_fs.cc).

  // Wraps rocksdb::FileSystem::Default().
  FaultInjectionFileSystem();
  ~FaultInjectionFileSystem() override;

  static const char* kClassName() { return "AccordFaultInjectionFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // See the contract above.
  void SetDead(bool dead);
  void SetNoSpace(bool no_space);
  // HoldSyncs(true): every Sync/Fsync from then on waits, before doing anything, until
  // HoldSyncs(false) (then it proceeds, and fails if the power was cut meanwhile). Lets a
  // test keep a write in flight. WaitForHeldSync: true once at least one sync is waiting,
  // false after `timeout`.
  void HoldSyncs(bool hold);
  // The next `count` Sync/Fsync calls fail with NoSpace (as fsync can on thin-provisioned
  // or network storage) and make nothing durable; later ones work again.
  void FailNextSyncs(int count);
  bool WaitForHeldSync(absl::Duration timeout);
  // Syncs waiting in HoldSyncs now.
  int HeldSyncs() const;
  // Sync/Fsync calls of any file that went ahead (held ones count once released).
  uint64_t Syncs() const;
  // Truncates every tracked file to its durable size; returns the first error, if any.
  rocksdb::IOStatus SimulatePowerLoss();

  // For assertions in tests: the tracked sizes of `path` (-1 when not tracked).
  int64_t WrittenSize(const std::string& path) const;
  int64_t DurableSize(const std::string& path) const;
  // Number of appends refused since construction (dead or no space).
  uint64_t RefusedWrites() const;

  rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_STORAGE_FAULT_INJECTION_FS_H_
