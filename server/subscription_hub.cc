#include "server/subscription_hub.h"

#include <vector>

namespace accord::server {

SubscriptionHub::SubscriptionHub(absl::Duration heartbeat_interval)
    : heartbeat_interval_(heartbeat_interval), thread_([this] { Run(); }) {}

SubscriptionHub::~SubscriptionHub() { Shutdown(); }

void SubscriptionHub::Register(const std::shared_ptr<Subscriber>& subscriber) {
  absl::MutexLock lock(&mu_);
  registered_[subscriber.get()] = subscriber;
}

void SubscriptionHub::Unregister(Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  registered_.erase(subscriber);
  parked_.erase(subscriber);
}

bool SubscriptionHub::Park(const std::shared_ptr<Subscriber>& subscriber,
                           const std::string& project_id, uint64_t seen,
                           absl::Time heartbeat_at) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  Parked& p = parked_[subscriber.get()];
  p.subscriber = subscriber;
  p.project_id = project_id;
  p.seen = seen;
  p.heartbeat_at = heartbeat_at;
  // A commit may have landed between the subscriber's read and this call: let the hub
  // thread look at it now rather than at the next commit.
  if (HasNewEvents(p)) commit_pending_ = true;
  parked_changed_ = true;
  return true;
}

bool SubscriptionHub::HasNewEvents(const Parked& p) const {
  if (p.project_id.empty()) return last_position_ > p.seen;
  auto it = last_versions_.find(p.project_id);
  return it != last_versions_.end() && it->second > p.seen;
}

void SubscriptionHub::OnCommit(const storage::CommitNotice& notice) {
  absl::MutexLock lock(&mu_);
  last_position_ = notice.last_position;
  for (const auto& [project_id, version] : notice.streams) {
    // This Abseil's absl::string_view is its own type: the heterogeneous lookup needs it.
    last_versions_[absl::string_view(project_id.data(), project_id.size())] = version;
  }
  // Wake the hub thread only if someone waits: with no parked subscriber a commit costs
  // the committing thread a map update and no context switch.
  if (!parked_.empty()) commit_pending_ = true;
}

void SubscriptionHub::Run() {
  std::vector<std::pair<std::shared_ptr<Subscriber>, WakeReason>> to_wake;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time next_heartbeat = absl::InfiniteFuture();
    for (const auto& [_, p] : parked_) next_heartbeat = std::min(next_heartbeat, p.heartbeat_at);
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](SubscriptionHub* h) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                return h->commit_pending_ || h->parked_changed_ ||
                                       h->stopping_;
                              },
                              this),
                          next_heartbeat);
    if (stopping_) break;
    const bool commits = commit_pending_;
    commit_pending_ = false;
    parked_changed_ = false;
    const absl::Time now = absl::Now();
    for (auto it = parked_.begin(); it != parked_.end();) {
      const Parked& p = it->second;
      WakeReason reason;
      if (commits && HasNewEvents(p)) {
        reason = WakeReason::kNewEvents;
      } else if (p.heartbeat_at <= now) {
        reason = WakeReason::kHeartbeat;
      } else {
        ++it;
        continue;
      }
      if (auto s = p.subscriber.lock()) to_wake.emplace_back(std::move(s), reason);
      parked_.erase(it++);
    }
    if (to_wake.empty()) continue;
    mu_.Unlock();
    for (auto& [subscriber, reason] : to_wake) subscriber->Wake(reason);
    to_wake.clear();  // May destroy subscribers: outside the lock.
    mu_.Lock();
  }
}

void SubscriptionHub::Shutdown() {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& [_, weak] : registered_) {
      if (auto s = weak.lock()) all.push_back(std::move(s));
    }
    parked_.clear();
  }
  if (thread_.joinable()) thread_.join();
  for (auto& s : all) s->Wake(WakeReason::kShutdown);
}

void SubscriptionHub::RecordBufferedBytes(size_t bytes) {
  uint64_t seen = max_buffered_bytes_.load();
  while (bytes > seen && !max_buffered_bytes_.compare_exchange_weak(seen, bytes)) {
  }
}

size_t SubscriptionHub::active_subscriptions() {
  absl::MutexLock lock(&mu_);
  return registered_.size();
}

}  // namespace accord::server
