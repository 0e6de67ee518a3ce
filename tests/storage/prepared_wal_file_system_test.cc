// PreparedWalFileSystem over the real (POSIX) file system in a temp dir: WAL files are
// opened on the zeroed spare, other files are not, the next spare is written in the
// background, and what an earlier run left is reused or cleaned up.
#include "storage/prepared_wal_file_system.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace accord::storage {
namespace {

constexpr uint64_t kPrepared = uint64_t{256} << 10;

uint64_t SizeOf(const std::string& path) { return std::filesystem::file_size(path); }

bool AllZero(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c;
  while (in.get(c)) {
    if (c != '\0') return false;
  }
  return true;
}

class PreparedWalFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_.Sub("db")); }

  std::unique_ptr<rocksdb::FSWritableFile> Create(PreparedWalFileSystem& fs,
                                                  const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(fs.NewWritableFile(Path(name), rocksdb::FileOptions(), &file, nullptr).ok());
    return file;
  }
  std::string Path(const std::string& name) { return dir_.Sub("db/" + name); }

  testing::TempDir dir_;
};

TEST_F(PreparedWalFileSystemTest, WalFilesStartAsTheZeroedSpare) {
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  auto wal = Create(fs, "000005.log");
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(SizeOf(Path("000005.log")), kPrepared);
  EXPECT_TRUE(AllZero(Path("000005.log")));
  EXPECT_EQ(fs.PreparedWalsUsed(), 1u);
  // Writes land at the start, over the zeros; the size does not change.
  ASSERT_TRUE(wal->Append("record", rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(wal->Sync(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(SizeOf(Path("000005.log")), kPrepared);
  std::ifstream in(Path("000005.log"), std::ios::binary);
  std::string head(6, '\0');
  in.read(head.data(), 6);
  EXPECT_EQ(head, "record");
}

TEST_F(PreparedWalFileSystemTest, OtherFilesAreCreatedAsUsual) {
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  for (const std::string name : {"MANIFEST-000001", "000007.sst", "LOG", "x000008.log"}) {
    auto file = Create(fs, name);
    ASSERT_NE(file, nullptr) << name;
    EXPECT_EQ(SizeOf(Path(name)), 0u) << name;
  }
  EXPECT_EQ(fs.PreparedWalsUsed(), 0u);
}

TEST_F(PreparedWalFileSystemTest, NextSpareIsWrittenInTheBackground) {
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  auto first = Create(fs, "000005.log");
  fs.WaitUntilIdleForTesting();
  EXPECT_EQ(SizeOf(Path(PreparedWalFileSystem::kSpareName)), kPrepared);
  auto second = Create(fs, "000009.log");
  EXPECT_EQ(SizeOf(Path("000009.log")), kPrepared);
  EXPECT_EQ(fs.PreparedWalsUsed(), 2u);
}

TEST_F(PreparedWalFileSystemTest, WalIsCreatedAsUsualWhenTheSpareCannotBeTaken) {
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  auto first = Create(fs, "000005.log");
  fs.WaitUntilIdleForTesting();
  // The spare is gone behind the file system's back: taking it fails, and the WAL is
  // created anyway, as a file that grows.
  std::filesystem::remove(Path(PreparedWalFileSystem::kSpareName));
  auto second = Create(fs, "000009.log");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(SizeOf(Path("000009.log")), 0u);
  EXPECT_EQ(fs.PreparedWalsUsed(), 1u);
}

TEST_F(PreparedWalFileSystemTest, SpareLeftByAnEarlierRunIsReusedAndATempFileRemoved) {
  {
    PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  }  // Leaves its spare behind.
  ASSERT_EQ(SizeOf(Path(PreparedWalFileSystem::kSpareName)), kPrepared);
  const auto written_at =
      std::filesystem::last_write_time(Path(PreparedWalFileSystem::kSpareName));
  std::ofstream(Path(std::string(PreparedWalFileSystem::kSpareName) + ".tmp")) << "partial";
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  EXPECT_EQ(std::filesystem::last_write_time(Path(PreparedWalFileSystem::kSpareName)),
            written_at)
      << "the whole spare was written again";
  EXPECT_FALSE(
      std::filesystem::exists(Path(std::string(PreparedWalFileSystem::kSpareName) + ".tmp")));
}

TEST_F(PreparedWalFileSystemTest, SpareOfAnotherSizeIsReplaced) {
  std::ofstream(Path(PreparedWalFileSystem::kSpareName)) << std::string(1000, '\0');
  PreparedWalFileSystem fs(rocksdb::FileSystem::Default(), dir_.Sub("db"), kPrepared);
  EXPECT_EQ(SizeOf(Path(PreparedWalFileSystem::kSpareName)), kPrepared);
}

}  // namespace
}  // namespace accord::storage
