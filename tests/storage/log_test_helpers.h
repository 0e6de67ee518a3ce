// Helpers shared by the storage fault-injection suites (power loss, disk full, corruption,
// pipelined commit): a fixture with a log over the fault-injection file system,
// building append batches with random payloads, reading a whole log back, checking its
// structure (gap-free positions, per-project versions and hash chains), and poking at the
// RocksDB files in a data directory.
#ifndef ACCORD_TESTS_STORAGE_LOG_TEST_HELPERS_H_
#define ACCORD_TESTS_STORAGE_LOG_TEST_HELPERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "storage/event_record.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/fault_injection_fs.h"
#include "tests/test_util.h"

namespace accord::testing {

// An event with a random id and `payload_bytes` random payload bytes (any byte value).
storage::ProposedRecord RandomEvent(absl::BitGenRef gen, size_t payload_bytes);

// An append of `count` random events to `project_id`, expected version Any.
storage::AppendBatch RandomBatch(absl::BitGenRef gen, const std::string& project_id,
                                 size_t count, size_t payload_bytes);

// Reads the whole log forwards, page by page, with hash verification, into `out`. On an
// error, `out` holds what was read before it.
absl::Status ReadEverything(storage::EventLog& log, std::vector<storage::EventRecord>* out);

// Checks what ReadEverything returned: positions 1..N without gaps, each project's versions
// 1..n without gaps, and each event's prev_hash equal to the hash of the project's previous
// event (zero for version 1). The first violation is returned as an error.
absl::Status CheckLogStructure(const std::vector<storage::EventRecord>& events);

// Files in `dir` whose names end with `suffix` (".log" = WAL files, ".sst" = tables).
std::vector<std::string> FilesWithSuffix(const std::string& dir, const std::string& suffix);

// Inverts every bit of the byte at `offset` of `path`.
absl::Status FlipByte(const std::string& path, uint64_t offset);

uint64_t FileSize(const std::string& path);

// A fixture with a RocksEventLog in a temporary directory over a FaultInjectionFileSystem,
// opened in SetUp (suites that override SetUp call this one first).
class FaultFsLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.Sub("log");
    fs_ = std::make_shared<FaultInjectionFileSystem>();
    auto log = storage::RocksEventLog::Open(options_, fs_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  TempDir dir_;
  storage::EventLogOptions options_;
  std::shared_ptr<FaultInjectionFileSystem> fs_;
  std::unique_ptr<storage::RocksEventLog> log_;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_STORAGE_LOG_TEST_HELPERS_H_
