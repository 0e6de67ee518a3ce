// Crash durability with a real accordd subprocess: several clients append, the server is
// killed with SIGKILL mid-load, restarted on the same data directory, and every
// acknowledged event must be there with equal bytes and an intact hash chain. Repeated
// 20 rounds on one growing data directory.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "storage/event_log.h"
#include "tests/server/server_process.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

// An idle sync gRPC client reads its socket only on the backup poller (every 5 s by
// default), which holds up a server's graceful GOAWAY that long; poll faster here.
const bool kFastBackupPoll = setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", 1) == 0;

struct Acked {
  std::string event_id;
  std::string payload_bytes;
};

TEST(CrashTest, EveryAcknowledgedEventSurvivesKillNineAcrossTwentyRounds) {
  TempDir dir;
  const std::string data_dir = dir.Sub("db");
  constexpr int kRounds = 20, kClients = 4;
  // project -> version -> what the server acknowledged there.
  std::map<std::string, std::map<uint64_t, Acked>> acked;
  absl::Mutex acked_mu;
  absl::BitGen gen;
  size_t total_acked = 0;

  // Prepared WALs of 4 MiB rather than the default 64: the rounds then write into both the
  // zeroed space and past it, and the test needs little disk.
  const std::vector<std::string> flags = {"--wal_prepare_mb=4"};
  for (int round = 0; round < kRounds; ++round) {
    {
      ServerProcess server(data_dir, dir.path(), flags);
      std::atomic<bool> stop{false};
      std::vector<std::thread> clients;
      for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
          client::ClientOptions options;
          options.target = server.target();
          options.unary_deadline = absl::Seconds(5);
          client::AccordClient client(options);
          const std::string project = absl::StrCat("crash", c % 3);
          for (int i = 0; !stop.load() && i < 100000; ++i) {
            const int n = 1 + i % 3;
            std::vector<accord::v1::ProposedEvent> events;
            for (int k = 0; k < n; ++k) events.push_back(StatusEvent(absl::StrCat(round, "/", c, "/", i, "/", k)));
            auto request = AppendOf(project, events);
            auto r = client.Append(request);
            if (!r.ok()) continue;  // Killed mid-flight: not acknowledged, may or may not exist.
            absl::MutexLock lock(&acked_mu);
            for (int k = 0; k < n; ++k) {
              acked[project][r->first_version() + k] = {request.events(k).event_id(),
                                                        request.events(k).payload().SerializeAsString()};
            }
          }
        });
      }
      absl::SleepFor(absl::Milliseconds(absl::Uniform(gen, 80, 250)));
      server.Kill(SIGKILL);
      stop = true;
      for (auto& t : clients) t.join();
    }

    // Restart and check everything acknowledged so far.
    ServerProcess server(data_dir, dir.path(), flags);
    // The client is closed before the server is stopped: an idle sync client only polls
    // its socket every few seconds, which would hold up the server's graceful GOAWAY.
    auto client = std::make_unique<client::AccordClient>(ClientAt(server.target()));
    absl::MutexLock lock(&acked_mu);
    total_acked = 0;
    for (const auto& [project, versions] : acked) {
      std::vector<accord::v1::RecordedEvent> events;
      accord::v1::ReadStreamRequest request;
      request.set_project_id(project);
      ASSERT_TRUE(client->ReadStream(request, [&](const accord::v1::RecordedEvent& e) {
        events.push_back(e);
        return true;
      }).ok());
      for (size_t i = 0; i < events.size(); ++i) {
        ASSERT_EQ(events[i].version(), i + 1);
        if (i > 0) {
          ASSERT_EQ(events[i].prev_hash(), events[i - 1].hash()) << project << "@" << i + 1;
        }
      }
      for (const auto& [version, want] : versions) {
        ASSERT_LE(version, events.size()) << "round " << round << ": lost " << project << "@" << version;
        const auto& got = events[version - 1];
        ASSERT_EQ(got.event_id(), want.event_id) << project << "@" << version;
        ASSERT_EQ(got.payload().SerializeAsString(), want.payload_bytes) << project << "@" << version;
        ++total_acked;
      }
    }
    client.reset();
    server.Kill(SIGTERM);
  }
  EXPECT_GT(total_acked, size_t{kRounds});  // The load really ran.
  std::cout << "acknowledged events verified after the last crash: " << total_acked << "\n";

  // Finally recompute every hash from the stored bytes.
  storage::EventLogOptions options;
  options.data_dir = data_dir;
  auto log = storage::OpenEventLog(options);
  ASSERT_TRUE(log.ok()) << log.status();
  storage::ReadLimits limits;
  limits.max_count = 1000;
  limits.verify_hashes = true;
  std::vector<storage::EventRecord> page;
  uint64_t next = 1;
  for (;;) {
    absl::Status s = (*log)->ReadAll(next, limits, &page);
    ASSERT_TRUE(s.ok()) << s;
    if (page.empty()) break;
    for (const auto& r : page) ASSERT_EQ(r.position, next++);
  }
  EXPECT_GE(next - 1, total_acked);
}

TEST(ShutdownTest, SigtermEndsSubscriptionsDrainsAndExitsZero) {
  TempDir dir;
  ServerProcess server(dir.Sub("db"), dir.path());
  auto client = std::make_unique<client::AccordClient>(ClientAt(server.target()));
  ASSERT_TRUE(client->Append(AppendOf("p", {StatusEvent("before")})).ok());
  absl::Notification caught_up;
  absl::Status subscription;
  std::thread subscriber([&] {
    subscription = client->Subscribe(accord::v1::SubscribeRequest(),
                                     [&](const accord::v1::SubscribeResponse& m) {
                                       if (m.has_caught_up()) caught_up.Notify();
                                       return true;
                                     });
  });
  ASSERT_TRUE(caught_up.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const int status = server.Kill(SIGTERM);
  subscriber.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_TRUE(absl::IsUnavailable(subscription)) << subscription;

  // The log was closed cleanly: it reopens with the event.
  client.reset();
  ServerProcess again(dir.Sub("db"), dir.path());
  client::AccordClient reader(ClientAt(again.target()));
  accord::v1::ReadStreamRequest request;
  request.set_project_id("p");
  int events = 0;
  ASSERT_TRUE(reader.ReadStream(request, [&](const accord::v1::RecordedEvent&) {
    return ++events, true;
  }).ok());
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace accord::testing
