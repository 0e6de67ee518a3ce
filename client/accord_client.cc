#include "client/accord_client.h"

#include <cstdlib>

#include "absl/random/random.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"

namespace accord::client {

std::string DefaultTarget() {
  const char* env = std::getenv("ACCORD_TARGET");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:7700";
}

void NewEventIdTo(std::string* out) {
  thread_local absl::BitGen gen;
  uint8_t b[16];
  for (int half = 0; half < 2; ++half) {  // Two 64-bit draws, not sixteen 8-bit ones.
    uint64_t bits = absl::Uniform<uint64_t>(gen);
    for (int i = 0; i < 8; ++i, bits >>= 8) b[half * 8 + i] = static_cast<uint8_t>(bits);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // Version 4.
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant.
  static constexpr char kHex[] = "0123456789abcdef";
  out->resize(36);  // Written in place: a reused string keeps its buffer.
  char* p = out->data();
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = kHex[b[i] >> 4];
    *p++ = kHex[b[i] & 0xf];
  }
}

std::string NewEventId() {
  std::string id;
  NewEventIdTo(&id);
  return id;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

void StreamCancel::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool StreamCancel::cancelled() {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void StreamCancel::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  if (cancelled_) context_->TryCancel();
}

void StreamCancel::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

AccordClient::AccordClient(ClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetMaxSendMessageSize(64 << 20);  // The server decides what is too big.
  channel_ = grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args);
  stub_ = accord::v1::EventStore::NewStub(channel_);
  projects_ = accord::v1::Projects::NewStub(channel_);
}

void AccordClient::Prepare(grpc::ClientContext* context, bool unary) const {
  if (!options_.actor.empty()) context->AddMetadata("x-accord-actor", options_.actor);
  if (!options_.role.empty()) context->AddMetadata("x-accord-role", options_.role);
  if (unary) context->set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_deadline));
}

absl::StatusOr<accord::v1::AppendResponse> AccordClient::Append(
    const accord::v1::AppendRequest& request) {
  grpc::ClientContext context;
  Prepare(&context, true);
  accord::v1::AppendResponse response;
  grpc::Status status = stub_->Append(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

template <typename Request, typename Response, typename Fn>
absl::Status AccordClient::ReadStreamed(
    std::unique_ptr<grpc::ClientReader<Response>> (accord::v1::EventStore::Stub::*method)(
        grpc::ClientContext*, const Request&),
    const Request& request, const Fn& on_message, StreamCancel* cancel) {
  grpc::ClientContext context;
  Prepare(&context, false);
  if (cancel != nullptr) cancel->Attach(&context);
  auto reader = ((*stub_).*method)(&context, request);
  Response response;
  bool stopped = false;
  while (reader->Read(&response)) {
    if (!on_message(response)) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (cancel != nullptr) cancel->Detach();
  if (stopped) return absl::OkStatus();
  return FromGrpc(status);
}

absl::Status AccordClient::ReadStream(const accord::v1::ReadStreamRequest& request,
                                      const EventFn& on_event, StreamCancel* cancel) {
  return ReadStreamed(&accord::v1::EventStore::Stub::ReadStream, request,
                      [&](const accord::v1::ReadStreamResponse& r) { return on_event(r.event()); },
                      cancel);
}

absl::Status AccordClient::ReadAll(const accord::v1::ReadAllRequest& request,
                                   const EventFn& on_event, StreamCancel* cancel) {
  return ReadStreamed(&accord::v1::EventStore::Stub::ReadAll, request,
                      [&](const accord::v1::ReadAllResponse& r) { return on_event(r.event()); },
                      cancel);
}

absl::Status AccordClient::Subscribe(const accord::v1::SubscribeRequest& request,
                                     const SubscribeFn& on_message, StreamCancel* cancel) {
  return ReadStreamed(&accord::v1::EventStore::Stub::Subscribe, request, on_message, cancel);
}

absl::StatusOr<accord::v1::ServerInfo> AccordClient::GetServerInfo() {
  grpc::ClientContext context;
  Prepare(&context, true);
  accord::v1::ServerInfo info;
  grpc::Status status = stub_->GetServerInfo(&context, accord::v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return FromGrpc(status);
  return info;
}

template <typename Request, typename Response>
absl::StatusOr<Response> AccordClient::ProjectsCall(
    grpc::Status (accord::v1::Projects::Stub::*method)(grpc::ClientContext*, const Request&,
                                                       Response*),
    const Request& request) {
  grpc::ClientContext context;
  Prepare(&context, true);
  Response response;
  grpc::Status status = ((*projects_).*method)(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

absl::StatusOr<accord::v1::ProjectState> AccordClient::GetProject(
    const accord::v1::GetProjectRequest& request) {
  auto response = ProjectsCall(&accord::v1::Projects::Stub::GetProject, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_state());
}

absl::StatusOr<accord::v1::ListProjectsResponse> AccordClient::ListProjects(
    const accord::v1::ListProjectsRequest& request) {
  return ProjectsCall(&accord::v1::Projects::Stub::ListProjects, request);
}

absl::StatusOr<accord::v1::GetDecisionHistoryResponse> AccordClient::GetDecisionHistory(
    const accord::v1::GetDecisionHistoryRequest& request) {
  return ProjectsCall(&accord::v1::Projects::Stub::GetDecisionHistory, request);
}

absl::StatusOr<accord::v1::ProgressReport> AccordClient::GetReport(
    const accord::v1::GetReportRequest& request) {
  return ProjectsCall(&accord::v1::Projects::Stub::GetReport, request);
}

absl::StatusOr<accord::v1::GetClientResponsivenessResponse> AccordClient::GetClientResponsiveness(
    const accord::v1::GetClientResponsivenessRequest& request) {
  return ProjectsCall(&accord::v1::Projects::Stub::GetClientResponsiveness, request);
}

absl::Status AccordClient::RebuildProjections(
    const accord::v1::RebuildProjectionsRequest& request,
    const std::function<void(const accord::v1::RebuildProgress&)>& on_progress) {
  grpc::ClientContext context;
  Prepare(&context, false);
  auto reader = projects_->RebuildProjections(&context, request);
  accord::v1::RebuildProgress progress;
  while (reader->Read(&progress)) on_progress(progress);
  return FromGrpc(reader->Finish());
}

absl::Status AccordClient::CheckHealth() {
  // grpc.health.v1.Health/Check with an empty HealthCheckRequest (service ""), sent as
  // raw bytes so the client needs no generated health stubs. The response is
  // HealthCheckResponse{status = 1 (field 1, varint)} when SERVING.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  Prepare(&context, true);
  grpc::Slice empty_message("");
  grpc::ByteBuffer request_bytes(&empty_message, 1);
  grpc::ByteBuffer response_bytes;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                    &request_bytes, &response_bytes, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  if (!status.ok()) return FromGrpc(status);
  std::vector<grpc::Slice> slices;
  if (!response_bytes.Dump(&slices).ok()) return absl::InternalError("bad health response");
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.size() == 2 && bytes[0] == 0x08 && bytes[1] == 0x01) return absl::OkStatus();
  return absl::UnavailableError("server reports NOT_SERVING");
}

}  // namespace accord::client
