#include "server/accord_server.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "server/event_store_service.h"
#include "server/event_translation.h"
#include "server/projects_service.h"
#include "server/subscription_hub.h"

namespace accord::server {

bool IsLoopbackAddress(const std::string& listen_address) {
  std::string host = listen_address;
  if (auto colon = host.rfind(':'); colon != std::string::npos) host = host.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1") return true;
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) == 1) {
    return (ntohl(addr.s_addr) >> 24) == 127;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<AccordServer>> AccordServer::Start(const ServerOptions& options,
                                                                  storage::EventLog* log) {
  if (!IsLoopbackAddress(options.listen_address)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", options.listen_address,
        ": the server speaks plaintext until TLS is configured, so it listens only on "
        "loopback (127.0.0.1, localhost, [::1])"));
  }
  std::unique_ptr<AccordServer> server(new AccordServer());
  server->log_ = log;
  server->hub_ = std::make_unique<SubscriptionHub>(options.heartbeat_interval);
  log->AddCommitListener(server->hub_.get());
  server->event_store_ = std::make_unique<EventStoreService>(log, server->hub_.get());
  server->projects_ = std::make_unique<ProjectsService>(log);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxRequestBytes));
  builder.RegisterService(server->event_store_.get());
  builder.RegisterService(server->projects_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    log->RemoveCommitListener(server->hub_.get());
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options.listen_address, " (in use?)"));
  }
  return server;
}

AccordServer::~AccordServer() { Shutdown(absl::ZeroDuration()); }

void AccordServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  hub_->Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  log_->RemoveCommitListener(hub_.get());
}

}  // namespace accord::server
