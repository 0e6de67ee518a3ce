// Tests of the FaultInjectionFileSystem contract itself (fault_injection_fs.h), on real
// files: the power-loss, disk-full and corruption suites are only as good as it is.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rocksdb/file_system.h"
#include "tests/storage/fault_injection_fs.h"
#include "tests/storage/log_test_helpers.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;

std::unique_ptr<FSWritableFile> Create(FaultInjectionFileSystem& fs, const std::string& path) {
  std::unique_ptr<FSWritableFile> file;
  EXPECT_TRUE(fs.NewWritableFile(path, FileOptions(), &file, nullptr).ok());
  return file;
}

TEST(FaultInjectionFileSystemTest, PowerLossKeepsExactlyTheSyncedBytes) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.Sub("f");
  auto file = Create(fs, path);
  ASSERT_TRUE(file->Append("durable-", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("range-synced-", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->RangeSync(0, 21, IOOptions(), nullptr).ok());  // Does not count.
  ASSERT_TRUE(file->Append("closed", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());  // Does not count either.
  EXPECT_EQ(fs.WrittenSize(path), 27);
  EXPECT_EQ(fs.DurableSize(path), 8);
  ASSERT_TRUE(fs.SimulatePowerLoss().ok());
  EXPECT_EQ(FileSize(path), 8u);
}

TEST(FaultInjectionFileSystemTest, NeverSyncedFileBecomesEmpty) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.Sub("f");
  auto file = Create(fs, path);
  ASSERT_TRUE(file->Append("never synced", IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs.SimulatePowerLoss().ok());
  EXPECT_EQ(FileSize(path), 0u);
}

TEST(FaultInjectionFileSystemTest, SyncedFileStaysDurableAfterRename) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  auto file = Create(fs, dir.Sub("tmp"));
  ASSERT_TRUE(file->Append("current", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Fsync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs.RenameFile(dir.Sub("tmp"), dir.Sub("CURRENT"), IOOptions(), nullptr).ok());
  EXPECT_EQ(fs.DurableSize(dir.Sub("tmp")), -1);
  EXPECT_EQ(fs.DurableSize(dir.Sub("CURRENT")), 7);
  ASSERT_TRUE(fs.SimulatePowerLoss().ok());
  EXPECT_EQ(FileSize(dir.Sub("CURRENT")), 7u);
}

TEST(FaultInjectionFileSystemTest, DeadRefusesEveryWriteAndWritesNothing) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.Sub("f");
  auto file = Create(fs, path);
  ASSERT_TRUE(file->Append("before", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Flush(IOOptions(), nullptr).ok());
  fs.SetDead(true);
  EXPECT_TRUE(file->Append("after", IOOptions(), nullptr).IsIOError());
  EXPECT_TRUE(file->Sync(IOOptions(), nullptr).IsIOError());
  std::unique_ptr<FSWritableFile> other;
  EXPECT_TRUE(fs.NewWritableFile(dir.Sub("g"), FileOptions(), &other, nullptr).IsIOError());
  EXPECT_TRUE(fs.RenameFile(path, dir.Sub("h"), IOOptions(), nullptr).IsIOError());
  EXPECT_TRUE(fs.DeleteFile(path, IOOptions(), nullptr).IsIOError());
  EXPECT_EQ(FileSize(path), 6u);
  EXPECT_EQ(fs.DurableSize(path), 0);
}

TEST(FaultInjectionFileSystemTest, NoSpaceRefusesAppendsUntilCleared) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.Sub("f");
  auto file = Create(fs, path);
  fs.SetNoSpace(true);
  const rocksdb::IOStatus s = file->Append("data", IOOptions(), nullptr);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_TRUE(file->Allocate(0, 4096, IOOptions(), nullptr).IsNoSpace());
  EXPECT_EQ(fs.WrittenSize(path), 0);
  fs.SetNoSpace(false);
  EXPECT_TRUE(file->Append("data", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());
  EXPECT_EQ(FileSize(path), 4u);
}

}  // namespace
}  // namespace accord::testing
