#include "server/projection_rebuilder.h"

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
    auto version = log.StreamVersion(project_id);
    if (!version.ok()) return version.status();
    if (*version == 0) return absl::NotFoundError("project " + project_id + " has no events");
    projects.push_back(project_id);
    progress.set_events_total(*version);
  }
  progress.set_projects_total(projects.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<uint32_t>({threads, kMaxRebuildThreads,
                                static_cast<uint32_t>(std::max<size_t>(1, projects.size()))});
  progress.set_threads(threads);

  // Workers take the next project from `next`; what they finish is added up under `mu`.
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  uint64_t projects_done ABSL_GUARDED_BY(mu) = 0;
  uint64_t events_done ABSL_GUARDED_BY(mu) = 0;
  uint32_t running ABSL_GUARDED_BY(mu) = threads;
  absl::Status failure ABSL_GUARDED_BY(mu);
  auto work = [&] {
    for (size_t i; !stop.load() && !cancelled.load() && (i = next.fetch_add(1)) < projects.size();) {
      auto events = RebuildProject(log, projects[i]);
      absl::MutexLock lock(&mu);
      if (!events.ok()) {
        if (failure.ok()) failure = events.status();
        stop = true;
        break;
      }
      ++projects_done;
      events_done += *events;
    }
    absl::MutexLock lock(&mu);
    --running;
  };
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (uint32_t t = 0; t < threads; ++t) workers.emplace_back(work);

  auto report = [&](bool done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    progress.set_projects_done(projects_done);
    progress.set_events_done(events_done);
    progress.set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    progress.set_events_per_second(progress.elapsed_seconds() > 0
                                       ? progress.events_done() / progress.elapsed_seconds()
                                       : 0);
    progress.set_done(done);
  };
  absl::Status status;
  {
    absl::MutexLock lock(&mu);
    auto all_stopped = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return running == 0; };
    while (!mu.AwaitWithTimeout(absl::Condition(&all_stopped), interval)) {
      report(false);
      const accord::v1::RebuildProgress snapshot = progress;
      mu.Unlock();  // The callback may block (a slow stream): workers go on meanwhile.
      on_progress(snapshot);
      mu.Lock();
    }
    status = failure;
    if (status.ok() && cancelled.load()) status = absl::CancelledError("rebuild cancelled");
    if (status.ok()) report(true);
  }
  for (std::thread& w : workers) w.join();
  if (!status.ok()) return status;
  on_progress(progress);
  return absl::OkStatus();
}

}  // namespace accord::server
