#include "server/projection_rebuilder.h"

#include <vector>

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
                                absl::Duration interval, const std::atomic<bool>& cancelled,
                                absl::FunctionRef<void(const accord::v1::RebuildProgress&)> on_progress) {
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

  auto report = [&](bool done) {
    progress.set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    progress.set_events_per_second(progress.elapsed_seconds() > 0
                                       ? progress.events_done() / progress.elapsed_seconds()
                                       : 0);
    progress.set_done(done);
    on_progress(progress);
  };
  absl::Time next_report = start + interval;
  for (const std::string& id : projects) {
    if (cancelled.load()) return absl::CancelledError("rebuild cancelled");
    auto events = RebuildProject(log, id);
    if (!events.ok()) return events.status();
    progress.set_projects_done(progress.projects_done() + 1);
    progress.set_events_done(progress.events_done() + *events);
    if (absl::Now() >= next_report) {
      report(false);
      next_report = absl::Now() + interval;
    }
  }
  report(true);
  return absl::OkStatus();
}

}  // namespace accord::server
