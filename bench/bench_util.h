// Pieces the benchmark tools share: latency percentiles and the bookkeeping of a
// closed-loop run (clients issue their next request from the previous one's completion).
#ifndef ACCORD_BENCH_BENCH_UTIL_H_
#define ACCORD_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace accord::bench {

// Called first in every benchmark's main. Debian's Abseil checks every mutex acquisition
// for lock-order cycles, a debug aid that gRPC pays for on each of its locks (≈4% of a
// load generator's CPU in a profile): accordd switches it off, so a ceiling or a load
// generator measured with it on would be handicapped against the server.
inline void SetUpBenchProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

// The q-quantile (0..1) of `v`, which it partially reorders; 0 for an empty vector.
inline uint32_t Percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// Shared clock and completion bookkeeping of a closed-loop run.
class ClosedLoopRun {
 public:
  ClosedLoopRun(absl::Time measure_start, absl::Time measure_end, absl::Duration rpc_deadline,
                int clients)
      : measure_start_(measure_start),
        measure_end_(measure_end),
        rpc_deadline_(rpc_deadline),
        clients_(clients) {}

  absl::Time measure_start() const { return measure_start_; }
  absl::Time measure_end() const { return measure_end_; }
  absl::Duration rpc_deadline() const { return rpc_deadline_; }

  // A client stops issuing after its first error too: a broken server should end the run
  // quickly rather than spin on failures.
  void ClientFinished() {
    absl::MutexLock lock(&mu_);
    ++finished_;
  }

  // True when every client finished before `deadline`.
  bool WaitAllFinished(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return finished_ == clients_; };
    return mu_.AwaitWithDeadline(absl::Condition(&all), deadline);
  }

 private:
  const absl::Time measure_start_;
  const absl::Time measure_end_;
  const absl::Duration rpc_deadline_;
  const int clients_;
  absl::Mutex mu_;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace accord::bench

#endif  // ACCORD_BENCH_BENCH_UTIL_H_
