// accord-storage-bench: Google Benchmark units of the embedded event log (storage/).
//
// BM_ParseEventId: the text UUID of each proposed event turned into its 16 bytes (once
// per event on a gRPC thread, 100 times per 100-event append).
//
// BM_FormatEventId: the reverse, once per event read.
//
// BM_FirstAppendToColdProject/<events>/<events per append>: after a reopen, the first
// append to a project of <events> events also loads that project's idempotency state (its
// event ids) from the project index (on the log's loader thread when the index is longer
// than the writer reads inline: rocksdb_event_log.h). The project is built once per
// argument pair, one index entry per append of <events per append> events; each iteration
// reopens the log (not timed) and times the first append of one event to it.
//
// BM_AppendBesideColdProjectLoad/<events>/<events per append>: the same first append to
// the cold project, started without waiting, and right behind it a one-event append to
// another (warm) project, which is what is timed: what a cold load costs everyone else.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "benchmark/benchmark.h"
#include "bench/bench_util.h"
#include "storage/event_hash.h"
#include "storage/event_id.h"
#include "storage/rocksdb_event_log.h"

namespace {

using accord::storage::AppendBatch;
using accord::storage::EventLogOptions;
using accord::storage::ProposedRecord;
using accord::storage::RocksEventLog;

constexpr char kProject[] = "big";

accord::storage::EventId RandomId(absl::BitGen& gen) {
  accord::storage::EventId id;
  for (uint8_t& b : id) b = absl::Uniform<uint8_t>(gen);
  return id;
}

AppendBatch Batch(absl::BitGen& gen, int64_t events, const char* project_id = kProject) {
  AppendBatch batch;
  batch.project_id = project_id;
  batch.actor = {"bench", "writer"};
  for (int64_t i = 0; i < events; ++i) {
    ProposedRecord e;
    e.event_id = RandomId(gen);
    e.event_type = "status_updated";
    e.payload.assign(300, 's');
    e.payload_hash = accord::storage::Sha256(e.payload);
    batch.events.push_back(std::move(e));
  }
  return batch;
}

// Databases built so far, by (events, events per append); deleted at exit.
class Databases {
 public:
  ~Databases() {
    for (const auto& [key, dir] : dirs_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

  // The directory of a database holding one project of `events` events appended
  // `per_append` at a time; empty after reporting an error to `state`.
  std::string Get(benchmark::State& state, int64_t events, int64_t per_append) {
    auto key = std::make_pair(events, per_append);
    if (auto it = dirs_.find(key); it != dirs_.end()) return it->second;
    std::string dir = (std::filesystem::temp_directory_path() / "accord-storage-bench-XXXXXX");
    if (mkdtemp(dir.data()) == nullptr) {
      state.SkipWithError("mkdtemp failed");
      return "";
    }
    dirs_[key] = dir;
    EventLogOptions options;
    options.data_dir = dir + "/data";
    // Building is not what is measured: no sync per append.
    options.durability = accord::storage::Durability::kNoSyncMayLoseAcked;
    auto log = RocksEventLog::Open(options);
    if (!log.ok()) {
      state.SkipWithError(log.status().ToString().c_str());
      return "";
    }
    absl::BitGen gen;
    for (int64_t written = 0; written < events; written += per_append) {
      if (auto r = (*log)->Append(Batch(gen, per_append)); !r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return "";
      }
    }
    if (absl::Status s = (*log)->FlushForTesting(); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return "";
    }
    (*log)->Close().IgnoreError();
    return dir;
  }

 private:
  std::map<std::pair<int64_t, int64_t>, std::string> dirs_;
};

Databases& AllDatabases() {
  static Databases databases;  // Its directories are removed at exit.
  return databases;
}

void BM_ParseEventId(benchmark::State& state) {
  std::vector<std::string> ids;
  absl::BitGen gen;
  for (int i = 0; i < 1024; ++i) ids.push_back(accord::storage::FormatEventId(RandomId(gen)));
  size_t i = 0;
  for (auto _ : state) {
    auto id = accord::storage::ParseEventId(ids[i++ & 1023]);
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_ParseEventId);

// The other way, once per event read (every RecordedEvent carries its id as text).
void BM_FormatEventId(benchmark::State& state) {
  std::vector<accord::storage::EventId> ids(1024);
  absl::BitGen gen;
  for (auto& id : ids) id = RandomId(gen);
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    accord::storage::FormatEventIdTo(ids[i++ & 1023], &out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_FormatEventId);

// The log of a database Databases built, opened afresh (every project cold); null after
// reporting an error to `state`.
std::unique_ptr<RocksEventLog> Reopen(benchmark::State& state, const std::string& dir) {
  EventLogOptions options;
  options.data_dir = dir + "/data";
  auto log = RocksEventLog::Open(options);
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(log);
}

void BM_FirstAppendToColdProject(benchmark::State& state) {
  const std::string dir = AllDatabases().Get(state, state.range(0), state.range(1));
  if (dir.empty()) return;
  absl::BitGen gen;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<RocksEventLog> log = Reopen(state, dir);
    if (log == nullptr) return;
    AppendBatch batch = Batch(gen, 1);
    state.ResumeTiming();
    auto result = log->Append(std::move(batch));
    state.PauseTiming();
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      return;
    }
    log->Close().IgnoreError();
    state.ResumeTiming();
  }
  state.counters["events"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_FirstAppendToColdProject)
    ->Args({100'000, 1})
    ->Args({100'000, 100})
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_AppendBesideColdProjectLoad(benchmark::State& state) {
  const std::string dir = AllDatabases().Get(state, state.range(0), state.range(1));
  if (dir.empty()) return;
  absl::BitGen gen;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<RocksEventLog> log = Reopen(state, dir);
    if (log == nullptr) return;
    if (auto warm = log->Append(Batch(gen, 1, "other")); !warm.ok()) {
      state.SkipWithError(warm.status().ToString().c_str());
      return;
    }
    absl::Notification cold_done;
    absl::Status cold_status;
    AppendBatch other = Batch(gen, 1, "other");
    log->AppendAsync(Batch(gen, 1), [&](absl::StatusOr<accord::storage::AppendResult> r) {
      cold_status = r.status();
      cold_done.Notify();
    });
    state.ResumeTiming();
    auto result = log->Append(std::move(other));
    state.PauseTiming();
    cold_done.WaitForNotification();
    if (!result.ok() || !cold_status.ok()) {
      state.SkipWithError((result.ok() ? cold_status : result.status()).ToString().c_str());
      return;
    }
    log->Close().IgnoreError();
    state.ResumeTiming();
  }
  state.counters["events"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_AppendBesideColdProjectLoad)
    ->Args({100'000, 1})
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  accord::bench::SetUpBenchProcess();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
