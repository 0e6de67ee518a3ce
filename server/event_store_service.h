// EventStoreService: the accord.v1.EventStore gRPC service on the callback (reactor) API.
//
// Handlers are thin: they translate requests (event_translation.h), delegate to the
// EventLog, and map errors once (status_mapping.h). Appends complete from the log's group
// commit without blocking a gRPC thread; reads and subscriptions stream page by page.
//
// Thread-safety: gRPC calls the handlers concurrently; the service holds no mutable state
// of its own. Ownership: borrows the log and the hub, which must outlive the server.
#ifndef ACCORD_SERVER_EVENT_STORE_SERVICE_H_
#define ACCORD_SERVER_EVENT_STORE_SERVICE_H_

#include <cstddef>

#include "accord/v1/event_store.grpc.pb.h"
#include "server/arena_message_allocator.h"
#include "server/subscription_hub.h"
#include "storage/event_log.h"

namespace accord::server {

// Read-ahead of one subscription: a page holds at most this many events or bytes of
// payload (but always at least one event).
inline constexpr size_t kSubscriptionPageEvents = 128;
inline constexpr size_t kSubscriptionPageBytes = 256 << 10;
// The documented bound on what one subscription holds buffered (read from the log but
// not yet handed to gRPC), in serialized bytes: a full page plus one maximal event.
inline constexpr size_t kMaxSubscriptionBufferedBytes =
    kSubscriptionPageBytes + (1 << 20) + kSubscriptionPageEvents * 512;

class EventStoreService final : public accord::v1::EventStore::CallbackService {
 public:
  EventStoreService(storage::EventLog* log, SubscriptionHub* hub);

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const accord::v1::AppendRequest* request,
                                   accord::v1::AppendResponse* response) override;
  grpc::ServerWriteReactor<accord::v1::ReadStreamResponse>* ReadStream(
      grpc::CallbackServerContext* context,
      const accord::v1::ReadStreamRequest* request) override;
  grpc::ServerWriteReactor<accord::v1::ReadAllResponse>* ReadAll(
      grpc::CallbackServerContext* context, const accord::v1::ReadAllRequest* request) override;
  grpc::ServerWriteReactor<accord::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const accord::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const accord::v1::GetServerInfoRequest* request,
                                          accord::v1::ServerInfo* response) override;

 private:
  storage::EventLog* const log_;
  SubscriptionHub* const hub_;
  ArenaMessageAllocator<accord::v1::AppendRequest, accord::v1::AppendResponse> append_allocator_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_EVENT_STORE_SERVICE_H_
