// accord-rocksdb-bench: the storage ceiling for 100-event appends on this machine.
//
// Raw RocksDB in a fresh temporary directory: one thread loops WriteBatch of K Puts (one
// sequential 8-byte big-endian key per event, 300-byte values), each batch written with
// WriteOptions::sync, for D seconds. This is what a 100-event Append costs at minimum
// (one batch, one WAL sync), without validation, hashing, indexes or gRPC; the DB options
// that affect writes (write buffer, background jobs, bytes_per_sync) match accordd's log.
// The last line printed is `rocksdb_events_per_s: <integer>`. The directory is deleted
// at the end, unless --db names one to keep: then the run adds to that database, its keys
// continuing after the last one there, so that runs in turn grow one database as
// run_standard.sh's rounds grow accordd's (like for like: each round's ceiling then writes
// into a database about as large as accordd's at that round, compactions and all).
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "bench/bench_util.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

ABSL_FLAG(int, events_per_batch, 100, "Puts per WriteBatch (1..100000)");
ABSL_FLAG(int, seconds, 10, "measured duration in seconds (1..3600)");
ABSL_FLAG(int, value_bytes, 300, "bytes per value");
ABSL_FLAG(std::string, dir, "",
          "parent directory for the temporary database (default $TMPDIR or /tmp); put it "
          "on the same file system as accordd's --data_dir for a fair comparison");
ABSL_FLAG(std::string, db, "",
          "a database directory to add to and keep (created if missing) instead of a "
          "temporary one; keys continue after its last");

namespace {

// Upper bound on batches, whatever the duration: the loop ends on time or on this.
constexpr uint64_t kMaxBatches = 1'000'000'000;
// Latency samples kept, so memory stays bounded whatever the duration.
constexpr size_t kMaxSamples = 2'000'000;

absl::StatusOr<std::string> MakeTempDir(std::string parent) {
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = absl::StrCat(parent, "/accord-rocksdb-bench-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp under ", parent, " failed"));
  }
  return std::string(buf.data());
}

void PutBigEndian64(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

absl::Status Bench(const std::string& path, int events_per_batch, int seconds, int value_bytes,
                   uint64_t* events_out, uint64_t* batches_out, double* elapsed_out,
                   std::vector<uint32_t>* latency_us) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_background_jobs = 2;
  options.bytes_per_sync = 1 << 20;
  options.write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;  // As accordd's log: 16 KiB blocks, LZ4.
  table.block_size = 16 << 10;
  options.compression = rocksdb::kLZ4Compression;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("open: ", s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);

  // Random bytes, so compression (at flush) cannot shrink the data to nothing.
  absl::BitGen gen;
  std::string value(value_bytes, '\0');
  for (char& c : value) c = static_cast<char>(absl::Uniform<uint8_t>(gen));

  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  rocksdb::WriteBatch batch;
  uint64_t first_key = 1;  // After the last key of a kept database.
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8) {
      uint64_t last = 0;
      for (int i = 0; i < 8; ++i) last = last << 8 | static_cast<uint8_t>(it->key()[i]);
      first_key = last + 1;
    }
  }
  uint64_t next_key = first_key;
  char key[8];
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  absl::Time now = start;
  for (uint64_t n = 0; n < kMaxBatches && now < end; ++n) {
    batch.Clear();
    for (int i = 0; i < events_per_batch; ++i) {
      PutBigEndian64(next_key++, key);
      batch.Put(rocksdb::Slice(key, sizeof key), value);
    }
    const absl::Time before = absl::Now();
    s = db->Write(write_options, &batch);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("write: ", s.ToString()));
    now = absl::Now();
    if (latency_us->size() < kMaxSamples) {
      latency_us->push_back(static_cast<uint32_t>(absl::ToInt64Microseconds(now - before)));
    }
    ++*batches_out;
  }
  *events_out = next_key - first_key;
  *elapsed_out = absl::ToDoubleSeconds(now - start);
  s = db->Close();
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("close: ", s.ToString()));
  return absl::OkStatus();
}

int Run() {
  const int events_per_batch = absl::GetFlag(FLAGS_events_per_batch);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int value_bytes = absl::GetFlag(FLAGS_value_bytes);
  if (events_per_batch < 1 || events_per_batch > 100000 || seconds < 1 || seconds > 3600 ||
      value_bytes < 0 || value_bytes > (1 << 20)) {
    std::fprintf(stderr, "accord-rocksdb-bench: a flag is out of range (see --help)\n");
    return 2;
  }
  const std::string kept_db = absl::GetFlag(FLAGS_db);
  absl::StatusOr<std::string> dir =
      kept_db.empty() ? MakeTempDir(absl::GetFlag(FLAGS_dir)) : kept_db;
  if (!dir.ok()) {
    std::fprintf(stderr, "accord-rocksdb-bench: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  std::printf("rocksdb %s: batches of %d Puts of %d bytes, sync=true, %ds\n", dir->c_str(),
              events_per_batch, value_bytes, seconds);
  std::fflush(stdout);

  uint64_t events = 0;
  uint64_t batches = 0;
  double elapsed = 0;
  std::vector<uint32_t> latency;
  absl::Status status =
      Bench(*dir, events_per_batch, seconds, value_bytes, &events, &batches, &elapsed, &latency);
  if (kept_db.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);  // Only the directory this run created.
    if (ec) std::fprintf(stderr, "accord-rocksdb-bench: removing %s: %s\n", dir->c_str(),
                         ec.message().c_str());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "accord-rocksdb-bench: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("batches: %llu\n", static_cast<unsigned long long>(batches));
  std::printf("events: %llu\n", static_cast<unsigned long long>(events));
  const uint32_t p50 = accord::bench::Percentile(latency, 0.50);
  const uint32_t p99 = accord::bench::Percentile(latency, 0.99);
  const uint32_t p999 = accord::bench::Percentile(latency, 0.999);
  std::printf("latency_us per batch write: p50 %u p99 %u p999 %u\n", p50, p99, p999);
  std::printf("rocksdb_events_per_s: %llu\n",
              static_cast<unsigned long long>(static_cast<double>(events) / elapsed));
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("accord-rocksdb-bench --events_per_batch=100 --seconds=10");
  absl::ParseCommandLine(argc, argv);
  accord::bench::SetUpBenchProcess();
  return Run();
}
