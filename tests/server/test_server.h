// An accordd in this process: a RocksEventLog in a temporary directory with the domain
// rules guard, and the gRPC server on an ephemeral 127.0.0.1 port, plus helpers to build
// requests.
#ifndef ACCORD_TESTS_SERVER_TEST_SERVER_H_
#define ACCORD_TESTS_SERVER_TEST_SERVER_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "accord/v1/event_store.pb.h"
#include "client/accord_client.h"
#include "gtest/gtest.h"
#include "server/accord_server.h"
#include "server/project_rules_guard.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace accord::testing {

class InProcessServer {
 public:
  // `data_dir`: empty for a fresh temporary directory, else an existing one (a restart).
  explicit InProcessServer(absl::Duration heartbeat = absl::Milliseconds(200),
                           uint64_t snapshot_every = 1000, const std::string& data_dir = "")
      : rules_guard_(snapshot_every) {
    storage::EventLogOptions options;
    options.data_dir = data_dir.empty() ? dir_.Sub("db") : data_dir;
    options.append_guard = &rules_guard_;
    auto log = storage::OpenEventLog(options);
    EXPECT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    server::ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    server_options.heartbeat_interval = heartbeat;
    auto server = server::AccordServer::Start(server_options, log_.get());
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  ~InProcessServer() { Stop(); }

  void Stop() {
    if (server_) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    if (log_) {
      EXPECT_TRUE(log_->Close().ok());
    }
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", server_->port()); }
  client::AccordClient Client(const std::string& actor = "", const std::string& role = "") const {
    client::ClientOptions options;
    options.target = target();
    options.actor = actor;
    options.role = role;
    return client::AccordClient(options);
  }
  storage::EventLog& log() { return *log_; }
  server::AccordServer& server() { return *server_; }

 private:
  TempDir dir_;
  server::ProjectRulesGuard rules_guard_;  // Outlives log_ (declared before it).
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<server::AccordServer> server_;
};

// Client options for `target` with everything else at its default.
inline client::ClientOptions ClientAt(const std::string& target) {
  client::ClientOptions options;
  options.target = target;
  return options;
}

// A status_updated event with a fresh id and `summary`.
inline accord::v1::ProposedEvent StatusEvent(const std::string& summary) {
  accord::v1::ProposedEvent e;
  e.set_event_id(client::NewEventId());
  auto* s = e.mutable_payload()->mutable_status_updated();
  s->set_health(accord::v1::HEALTH_GREEN);
  s->set_percent_complete(50);
  s->set_summary(summary);
  return e;
}

inline accord::v1::AppendRequest AppendOf(const std::string& project,
                                          std::vector<accord::v1::ProposedEvent> events) {
  accord::v1::AppendRequest r;
  r.set_project_id(project);
  for (auto& e : events) *r.add_events() = std::move(e);
  return r;
}

}  // namespace accord::testing

#endif  // ACCORD_TESTS_SERVER_TEST_SERVER_H_
