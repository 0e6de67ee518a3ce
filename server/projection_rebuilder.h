// Rebuilds projections from the log: replays each project and writes its state back as a
// snapshot, reporting progress. Projections are a cache of the log; this refreshes that
// cache (after a projection-version change, or to warm a new server). No gRPC here.
#ifndef ACCORD_SERVER_PROJECTION_REBUILDER_H_
#define ACCORD_SERVER_PROJECTION_REBUILDER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accord/v1/projects.pb.h"
#include "storage/event_log.h"

namespace accord::server {

// Most replay threads a rebuild runs on, and how many it takes by default at most (each
// holds a whole project's state while it replays it).
inline constexpr uint32_t kMaxRebuildThreads = 64;
inline constexpr uint32_t kMaxDefaultRebuildThreads = 8;

// Rebuilds `project_id` (empty: every project), `threads` projects at a time, each
// replayed whole on one thread (0: one per core, at most kMaxDefaultRebuildThreads; more
// than kMaxRebuildThreads is INVALID_ARGUMENT). Calls `on_progress` on the calling thread
// about every `interval` and once at the end (done = true). Stops early with CANCELLED when `*cancelled` becomes true, and at
// the first project that fails, with its error (projects already rebuilt stay rebuilt:
// snapshots are a cache).
absl::Status RebuildProjections(storage::EventLog& log, const std::string& project_id,
                                uint32_t threads, absl::Duration interval,
                                const std::atomic<bool>& cancelled,
                                absl::FunctionRef<void(const accord::v1::RebuildProgress&)> on_progress);

// Rebuilds one project: replays its events (on an arena) and writes the state back as its
// snapshot. Returns the events replayed. What RebuildProjections does per project.
absl::StatusOr<uint64_t> RebuildProject(storage::EventLog& log, const std::string& project_id);

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECTION_REBUILDER_H_
