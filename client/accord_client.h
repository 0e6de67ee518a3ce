// AccordClient: a small blocking C++ client for the accord.v1 API, used by the `accord`
// CLI, the load generator and the integration tests. It links neither server nor
// storage code.
//
// Thread-safety: one AccordClient may be used from many threads at once (gRPC channels
// and stubs are thread-safe). Errors come back as absl::Status carrying the gRPC code
// and message unchanged.
#ifndef ACCORD_CLIENT_ACCORD_CLIENT_H_
#define ACCORD_CLIENT_ACCORD_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "accord/v1/event_store.grpc.pb.h"
#include "accord/v1/projects.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace accord::client {

// $ACCORD_TARGET if set, else 127.0.0.1:7700.
std::string DefaultTarget();

// A random (version 4) UUID in canonical form, for event ids.
std::string NewEventId();
// The same into `*out`, reusing its buffer (a load generator sets thousands per second).
void NewEventIdTo(std::string* out);

// grpc::Status -> absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

struct ClientOptions {
  std::string target = DefaultTarget();
  std::string actor;  // Sent as x-accord-actor until authentication lands.
  std::string role;   // Sent as x-accord-role.
  absl::Duration unary_deadline = absl::Seconds(30);
};

// Lets another thread stop a blocking stream call (Subscribe, ReadStream, ReadAll).
class StreamCancel {
 public:
  void Cancel();
  bool cancelled();

 private:
  friend class AccordClient;
  void Attach(grpc::ClientContext* context);
  void Detach();
  absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class AccordClient {
 public:
  explicit AccordClient(ClientOptions options = {});

  absl::StatusOr<accord::v1::AppendResponse> Append(const accord::v1::AppendRequest& request);

  // Calls `on_event` for each event; stops early (OK) when it returns false.
  using EventFn = std::function<bool(const accord::v1::RecordedEvent&)>;
  absl::Status ReadStream(const accord::v1::ReadStreamRequest& request, const EventFn& on_event,
                          StreamCancel* cancel = nullptr);
  absl::Status ReadAll(const accord::v1::ReadAllRequest& request, const EventFn& on_event,
                       StreamCancel* cancel = nullptr);

  // Blocks, calling `on_message` for every event, caught_up and heartbeat, until it
  // returns false (then OK), `cancel` fires (CANCELLED) or the server ends the stream.
  using SubscribeFn = std::function<bool(const accord::v1::SubscribeResponse&)>;
  absl::Status Subscribe(const accord::v1::SubscribeRequest& request,
                         const SubscribeFn& on_message, StreamCancel* cancel = nullptr);

  absl::StatusOr<accord::v1::ServerInfo> GetServerInfo();

  // accord.v1.Projects
  absl::StatusOr<accord::v1::ProjectState> GetProject(const accord::v1::GetProjectRequest& request);
  absl::StatusOr<accord::v1::ListProjectsResponse> ListProjects(
      const accord::v1::ListProjectsRequest& request);
  absl::StatusOr<accord::v1::GetDecisionHistoryResponse> GetDecisionHistory(
      const accord::v1::GetDecisionHistoryRequest& request);
  absl::StatusOr<accord::v1::ProgressReport> GetReport(const accord::v1::GetReportRequest& request);
  absl::StatusOr<accord::v1::GetClientResponsivenessResponse> GetClientResponsiveness(
      const accord::v1::GetClientResponsivenessRequest& request);
  // Streams the rebuild's progress to `on_progress` until it is done.
  absl::Status RebuildProjections(
      const accord::v1::RebuildProjectionsRequest& request,
      const std::function<void(const accord::v1::RebuildProgress&)>& on_progress);

  // The standard grpc.health.v1 check of the whole server: OK when SERVING.
  absl::Status CheckHealth();

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  accord::v1::EventStore::Stub& stub() { return *stub_; }
  // Sets the actor headers and (for unary calls) the deadline on `context`.
  void Prepare(grpc::ClientContext* context, bool unary) const;

 private:
  // One unary call of the Projects service with the usual headers and deadline.
  template <typename Request, typename Response>
  absl::StatusOr<Response> ProjectsCall(
      grpc::Status (accord::v1::Projects::Stub::*method)(grpc::ClientContext*, const Request&,
                                                         Response*),
      const Request& request);

  template <typename Request, typename Response, typename Fn>
  absl::Status ReadStreamed(
      std::unique_ptr<grpc::ClientReader<Response>> (accord::v1::EventStore::Stub::*method)(
          grpc::ClientContext*, const Request&),
      const Request& request, const Fn& on_message, StreamCancel* cancel);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<accord::v1::EventStore::Stub> stub_;
  std::unique_ptr<accord::v1::Projects::Stub> projects_;
};

}  // namespace accord::client

#endif  // ACCORD_CLIENT_ACCORD_CLIENT_H_
