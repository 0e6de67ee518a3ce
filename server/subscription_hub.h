// SubscriptionHub: parks live subscriptions that have read everything, wakes them when a
// commit concerns them, and wakes idle ones when a heartbeat is due.
//
// Subscriptions never receive events pushed from the append path: on a wake they read
// the log from their own cursor. So a slow subscriber costs no memory beyond its one page
// of read-ahead (it simply reads from further back), the catch-up -> live switch has no
// gap or duplicate, and the committing thread only updates a few counters (OnCommit).
//
// Thread-safety: all methods are thread-safe. Wake calls run on the hub's own thread,
// never while the hub's lock is held.
#ifndef ACCORD_SERVER_SUBSCRIPTION_HUB_H_
#define ACCORD_SERVER_SUBSCRIPTION_HUB_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/event_log.h"

namespace accord::server {

class SubscriptionHub final : public storage::CommitListener {
 public:
  enum class WakeReason { kNewEvents, kHeartbeat, kShutdown };

  class Subscriber {
   public:
    virtual ~Subscriber() = default;
    virtual void Wake(WakeReason reason) = 0;
  };

  explicit SubscriptionHub(absl::Duration heartbeat_interval);
  ~SubscriptionHub() override;
  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  absl::Duration heartbeat_interval() const { return heartbeat_interval_; }

  // Tracks a live subscription so Shutdown can end it.
  void Register(const std::shared_ptr<Subscriber>& subscriber);
  void Unregister(Subscriber* subscriber);

  // Parks `subscriber` until the log holds more than it has seen: for a project
  // subscription (`project_id` non-empty) a version above `seen`, for an all-projects one
  // a position above `seen`; or until `heartbeat_at`. Returns false once shutting down
  // (the caller ends its stream itself).
  bool Park(const std::shared_ptr<Subscriber>& subscriber, const std::string& project_id,
            uint64_t seen, absl::Time heartbeat_at);

  // storage::CommitListener; cheap, runs on the committing thread.
  void OnCommit(const storage::CommitNotice& notice) override;

  // Ends every registered subscription (kShutdown) and stops the hub thread. Idempotent.
  void Shutdown();

  // The most bytes any one subscription has held buffered (read but not yet sent).
  void RecordBufferedBytes(size_t bytes);
  uint64_t max_buffered_bytes() const { return max_buffered_bytes_.load(); }
  size_t active_subscriptions();

 private:
  struct Parked {
    std::weak_ptr<Subscriber> subscriber;
    std::string project_id;
    uint64_t seen = 0;
    absl::Time heartbeat_at;
  };

  bool HasNewEvents(const Parked& p) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Run();

  const absl::Duration heartbeat_interval_;
  absl::Mutex mu_;
  absl::flat_hash_map<Subscriber*, std::weak_ptr<Subscriber>> registered_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Subscriber*, Parked> parked_ ABSL_GUARDED_BY(mu_);
  // The log as last told by OnCommit: last position, and last version of each project
  // committed to since start.
  uint64_t last_position_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> last_versions_ ABSL_GUARDED_BY(mu_);
  bool commit_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool parked_changed_ ABSL_GUARDED_BY(mu_) = false;  // Recompute the next heartbeat.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> max_buffered_bytes_{0};
  std::thread thread_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_SUBSCRIPTION_HUB_H_
