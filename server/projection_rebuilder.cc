#include "server/projection_rebuilder.h"

#include <pthread.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "server/domain/project_projection.h"
#include "server/project_reader.h"
#include "server/project_snapshots.h"

namespace accord::server {

namespace {

// What a rebuild's workers have done, added up as they finish projects. Thread-safe.
class RebuildTally {
 public:
  explicit RebuildTally(uint32_t workers) : running_(workers) {}

  // Counts one project's rebuild; the first failure stops every worker.
  void Add(const absl::StatusOr<uint64_t>& events) {
    absl::MutexLock lock(&mu_);
    if (!events.ok()) {
      if (failure_.ok()) failure_ = events.status();
      stopped = true;
      return;
    }
    ++projects_done_;
    events_done_ += *events;
  }
  void WorkerDone() {
    absl::MutexLock lock(&mu_);
    --running_;
  }
  // True once every worker is done; false after `timeout`.
  bool WaitAllDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](uint32_t* running) { return *running == 0; }, &running_),
        timeout);
  }
  // `base` (totals, threads) with the counts so far.
  accord::v1::RebuildProgress Progress(accord::v1::RebuildProgress base, absl::Time start,
                                       bool done) {
    absl::MutexLock lock(&mu_);
    base.set_projects_done(projects_done_);
    base.set_events_done(events_done_);
    base.set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    base.set_events_per_second(
        base.elapsed_seconds() > 0 ? base.events_done() / base.elapsed_seconds() : 0);
    base.set_done(done);
    return base;
  }
  absl::Status Failure() {
    absl::MutexLock lock(&mu_);
    return failure_;
  }

  std::atomic<bool> stopped{false};  // Set at the first failure.

 private:
  absl::Mutex mu_;
  uint32_t running_ ABSL_GUARDED_BY(mu_);
  uint64_t projects_done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t events_done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<uint64_t> RebuildProject(storage::EventLog& log, const std::string& project_id) {
  uint64_t events = 0;
  google::protobuf::Arena arena;  // The project's state: freed at once when done.
  auto* state = google::protobuf::Arena::CreateMessage<accord::v1::ProjectState>(&arena);
  if (absl::Status s = ReplayProjectFromLogInto(log, project_id, {}, state, &events); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          log.snapshots().PutSnapshot(project_id, state->version(), EncodeSnapshot(*state));
      !s.ok()) {
    return s;
  }
  return events;
}

absl::Status RebuildProjections(storage::EventLog& log, const std::string& project_id,
                                uint32_t threads, absl::Duration interval,
                                const std::atomic<bool>& cancelled,
                                absl::FunctionRef<void(const accord::v1::RebuildProgress&)> on_progress) {
  if (threads > kMaxRebuildThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads: ", threads, " is over the maximum of ", kMaxRebuildThreads));
  }
  const absl::Time start = absl::Now();
  accord::v1::RebuildProgress progress;
  std::vector<std::string> projects;
  if (project_id.empty()) {
    // Project ids are small; list them all first so progress has a denominator.
    std::vector<std::string> page;
    do {
      if (absl::Status s = log.ListProjects(projects.empty() ? "" : projects.back(), 1000, &page);
          !s.ok()) {
        return s;
      }
      projects.insert(projects.end(), page.begin(), page.end());
    } while (!page.empty());
    progress.set_events_total(log.LastPosition());
  } else {
    auto version = CurrentVersion(log, project_id);
    if (!version.ok()) return version.status();
    projects.push_back(project_id);
    progress.set_events_total(*version);
  }
  progress.set_projects_total(projects.size());
  if (threads == 0) {
    threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxDefaultRebuildThreads);
  }
  threads = std::min<uint32_t>({threads, kMaxRebuildThreads,
                                static_cast<uint32_t>(std::max<size_t>(1, projects.size()))});
  progress.set_threads(threads);

  // Workers take the next project from `next`; what they finish is added up in `tally`.
  std::atomic<size_t> next{0};
  RebuildTally tally(threads);
  auto work = [&] {
    pthread_setname_np(pthread_self(), "rebuild");
    for (;;) {
      if (tally.stopped.load() || cancelled.load()) break;
      const size_t i = next.fetch_add(1);
      if (i >= projects.size()) break;
      tally.Add(RebuildProject(log, projects[i]));
    }
    tally.WorkerDone();
  };
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (uint32_t t = 0; t < threads; ++t) workers.emplace_back(work);

  // Progress every `interval` until every worker has stopped; the callback runs unlocked
  // (it may block on a slow stream) while the workers go on.
  while (!tally.WaitAllDone(interval)) on_progress(tally.Progress(progress, start, false));
  for (std::thread& w : workers) w.join();
  if (absl::Status failure = tally.Failure(); !failure.ok()) return failure;
  if (cancelled.load()) return absl::CancelledError("rebuild cancelled");
  on_progress(tally.Progress(progress, start, true));
  return absl::OkStatus();
}

}  // namespace accord::server
