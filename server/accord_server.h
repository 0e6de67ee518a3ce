// AccordServer: the gRPC server around an EventLog — the EventStore and Projects
// services, health checking, reflection — and its orderly shutdown. Used by accordd's main() and, in
// process, by the tests.
//
// Thread-safety: Start/Shutdown from one thread; accessors from any.
// Ownership: borrows the EventLog, which must outlive the server; the caller closes it
// after Shutdown.
#ifndef ACCORD_SERVER_ACCORD_SERVER_H_
#define ACCORD_SERVER_ACCORD_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/event_log.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace accord::server {

class EventStoreService;
class ProjectsService;
class SubscriptionHub;

struct ServerOptions {
  // host:port; port 0 picks a free one (see AccordServer::port()).
  std::string listen_address = "127.0.0.1:7700";
  absl::Duration heartbeat_interval = absl::Seconds(5);
};

// True for 127.0.0.0/8, localhost and [::1] addresses.
bool IsLoopbackAddress(const std::string& listen_address);

class AccordServer {
 public:
  // Starts serving. Plaintext only until TLS lands, so a non-loopback address is refused
  // (FAILED_PRECONDITION).
  static absl::StatusOr<std::unique_ptr<AccordServer>> Start(const ServerOptions& options,
                                                             storage::EventLog* log);
  ~AccordServer();

  int port() const { return port_; }
  SubscriptionHub& hub() { return *hub_; }

  // Ends subscriptions (UNAVAILABLE, so clients resubscribe), lets in-flight RPCs finish
  // for up to `grace`, then cancels what remains. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(10));

 private:
  AccordServer() = default;

  storage::EventLog* log_ = nullptr;
  std::unique_ptr<SubscriptionHub> hub_;
  std::unique_ptr<EventStoreService> event_store_;
  std::unique_ptr<ProjectsService> projects_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_ACCORD_SERVER_H_
