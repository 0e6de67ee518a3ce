// DecisionHistoryCache: the decision histories of the projects read most recently, kept
// so that the next read of one (the next page, or a refresh after more was appended)
// costs the events appended since, not a read of the whole stream twice.
//
// A kept history is valid for ever as a history up to its version (the log is never
// edited); a read carries it forward to the project's current version
// (domain::DecisionHistoryBuilder::Extend) and builds it anew only when a retraction or
// correction was appended since, which can change earlier entries. (Anything that one day
// changes how stored events read — shredding personal fields, say — must drop it too.)
//
// Memory: each kept history holds the project's state (as the projection computes it) and
// its entries, so at most `max_projects` are kept, the least recently read dropped first.
//
// Thread-safe. Reads of different projects proceed in parallel; reads of one project take
// turns (the second finds the first one's work done).
#ifndef ACCORD_SERVER_DECISION_HISTORY_CACHE_H_
#define ACCORD_SERVER_DECISION_HISTORY_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "accord/v1/projects.pb.h"
#include "storage/event_log.h"

namespace accord::domain {
class DecisionHistoryBuilder;
}

namespace accord::server {

class DecisionHistoryCache {
 public:
  // Reads go to `log` (not owned; must outlive the cache).
  DecisionHistoryCache(storage::EventLog* log, size_t max_projects);
  ~DecisionHistoryCache();
  DecisionHistoryCache(const DecisionHistoryCache&) = delete;
  DecisionHistoryCache& operator=(const DecisionHistoryCache&) = delete;

  using EntriesVisitor =
      absl::FunctionRef<void(const std::vector<accord::v1::DecisionEntry>& entries)>;

  // Calls `visit` with the decision history of `project_id` up to its current version
  // (BuildDecisionHistory in project_reader.h), borrowed for the call. NOT_FOUND if the
  // project has no events; a failed read is returned and keeps nothing.
  absl::Status Read(const std::string& project_id, EntriesVisitor visit);

  // Histories kept and how the reads went, for tests and logs.
  struct Stats {
    size_t kept = 0;
    uint64_t built = 0;     // Read the whole stream.
    uint64_t extended = 0;  // Carried forward by the events since.
    uint64_t reused = 0;    // Nothing appended since.
  };
  Stats stats();

 private:
  struct Kept;

  std::shared_ptr<Kept> Find(const std::string& project_id);

  storage::EventLog* const log_;
  const size_t max_projects_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Kept>> kept_ ABSL_GUARDED_BY(mu_);
  uint64_t use_clock_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_DECISION_HISTORY_CACHE_H_
