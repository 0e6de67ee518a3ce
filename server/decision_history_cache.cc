#include "server/decision_history_cache.h"

#include <utility>

#include "server/domain/decision_history.h"
#include "server/project_reader.h"

namespace accord::server {

struct DecisionHistoryCache::Kept {
  absl::Mutex mu;  // Held while the history is read, carried forward or rebuilt.
  std::unique_ptr<domain::DecisionHistoryBuilder> history ABSL_GUARDED_BY(mu);
  uint64_t last_used = 0;  // Guarded by the cache's mu_.
};

DecisionHistoryCache::DecisionHistoryCache(storage::EventLog* log, size_t max_projects)
    : log_(log), max_projects_(max_projects) {}

DecisionHistoryCache::~DecisionHistoryCache() = default;

std::shared_ptr<DecisionHistoryCache::Kept> DecisionHistoryCache::Find(
    const std::string& project_id) {
  absl::MutexLock lock(&mu_);
  auto [at, inserted] = kept_.try_emplace(project_id);
  if (inserted) at->second = std::make_shared<Kept>();
  std::shared_ptr<Kept> kept = at->second;
  kept->last_used = ++use_clock_;
  if (kept_.size() > max_projects_) {
    // Drops the least recently read; a read of it under way holds its own reference and
    // finishes.
    auto oldest = kept_.begin();
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (it->second->last_used < oldest->second->last_used) oldest = it;
    }
    kept_.erase(oldest);  // Not `kept`: it was just stamped the most recent.
  }
  stats_.kept = kept_.size();
  return kept;
}

absl::Status DecisionHistoryCache::Read(const std::string& project_id, EntriesVisitor visit) {
  std::shared_ptr<Kept> kept = Find(project_id);
  absl::MutexLock lock(&kept->mu);
  enum { kBuilt, kExtended, kReused } how = kBuilt;
  if (kept->history != nullptr) {
    const uint64_t before = kept->history->version();
    absl::StatusOr<bool> extended = ExtendDecisionHistory(*log_, project_id, *kept->history);
    if (extended.ok() && *extended) {
      how = kept->history->version() == before ? kReused : kExtended;
    } else {
      kept->history.reset();  // A correction since, or a failed read: build anew.
    }
  }
  if (kept->history == nullptr) {
    auto built = BuildDecisionHistory(*log_, project_id);
    if (!built.ok()) {
      absl::MutexLock cache_lock(&mu_);
      if (auto it = kept_.find(project_id); it != kept_.end() && it->second == kept) {
        kept_.erase(it);
      }
      stats_.kept = kept_.size();
      return built.status();
    }
    kept->history = *std::move(built);
  }
  {
    absl::MutexLock cache_lock(&mu_);
    ++(how == kBuilt ? stats_.built : how == kExtended ? stats_.extended : stats_.reused);
  }
  visit(kept->history->entries());
  return absl::OkStatus();
}

DecisionHistoryCache::Stats DecisionHistoryCache::stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace accord::server
