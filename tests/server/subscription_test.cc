// Subscribe over loopback: catch-up then live with no gap or duplicate at the switch,
// live-only from the end, heartbeats, a slow subscriber's bounded buffer, and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "grpcpp/client_context.h"
#include "server/event_store_service.h"
#include "server/subscription_hub.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

using accord::v1::SubscribeRequest;
using accord::v1::SubscribeResponse;

// Collects what a subscription delivers on a thread of its own, until `want` events
// arrived or a 60 s safety deadline passes.
class Collector {
 public:
  Collector(client::AccordClient client, SubscribeRequest request, size_t want)
      : client_(std::move(client)), want_(want) {
    thread_ = std::thread([this, request] {
      const absl::Time deadline = absl::Now() + absl::Seconds(60);
      std::thread watchdog([this, deadline] {
        while (!done_.HasBeenNotified() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
        cancel_.Cancel();
      });
      status_ = client_.Subscribe(request, [this](const SubscribeResponse& m) {
        if (m.has_event()) events_.push_back(m.event());
        if (m.has_caught_up()) caught_up_at_.push_back(events_.size());
        if (m.has_heartbeat()) ++heartbeats_;
        return events_.size() < want_;
      }, &cancel_);
      done_.Notify();
      watchdog.join();
    });
  }
  ~Collector() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<accord::v1::RecordedEvent>& events() const { return events_; }
  const std::vector<size_t>& caught_up_at() const { return caught_up_at_; }
  absl::Status status() const { return status_; }

 private:
  client::AccordClient client_;
  const size_t want_;
  client::StreamCancel cancel_;
  absl::Notification done_;
  std::vector<accord::v1::RecordedEvent> events_;
  std::vector<size_t> caught_up_at_;
  int heartbeats_ = 0;
  absl::Status status_;
  std::thread thread_;
};

TEST(SubscriptionTest, StartedMidLoadDeliversEveryEventOnceInOrderAcrossTheSwitch) {
  InProcessServer server;
  constexpr int kAppends = 1500;
  const size_t total_events = kAppends * 2;  // Two events per append.
  std::atomic<int> appended{0};
  std::thread writer([&] {
    auto client = server.Client();
    for (int i = 0; i < kAppends; ++i) {
      auto r = client.Append(AppendOf(absl::StrCat("p", i % 3),
                                      {StatusEvent(absl::StrCat(i, "a")), StatusEvent(absl::StrCat(i, "b"))}));
      ASSERT_TRUE(r.ok()) << r.status();
      ++appended;
    }
  });
  while (appended.load() < kAppends / 3) absl::SleepFor(absl::Milliseconds(1));

  SubscribeRequest all;  // Every project from the start.
  SubscribeRequest p0;
  p0.set_project_id("p0");
  Collector all_collector(server.Client(), all, total_events);
  Collector p0_collector(server.Client(), p0, total_events / 3);
  writer.join();
  all_collector.Join();
  p0_collector.Join();

  ASSERT_TRUE(all_collector.status().ok()) << all_collector.status();
  ASSERT_EQ(all_collector.events().size(), total_events);
  for (size_t i = 0; i < total_events; ++i) {
    ASSERT_EQ(all_collector.events()[i].position(), i + 1) << "gap or duplicate at " << i;
  }
  EXPECT_EQ(all_collector.caught_up_at().size(), 1u);

  ASSERT_TRUE(p0_collector.status().ok()) << p0_collector.status();
  ASSERT_EQ(p0_collector.events().size(), total_events / 3);
  for (size_t i = 0; i < p0_collector.events().size(); ++i) {
    ASSERT_EQ(p0_collector.events()[i].version(), i + 1);
    ASSERT_EQ(p0_collector.events()[i].project_id(), "p0");
  }
}

TEST(SubscriptionTest, FromEndDeliversOnlyEventsAppendedAfterwards) {
  InProcessServer server;
  auto client = server.Client();
  ASSERT_TRUE(client.Append(AppendOf("p", {StatusEvent("old")})).ok());
  SubscribeRequest request;
  request.set_project_id("p");
  request.set_from_end(true);
  absl::Notification caught_up;
  std::vector<std::string> got;
  client::StreamCancel cancel;
  std::thread t([&] {
    auto c = server.Client();
    (void)c.Subscribe(request, [&](const SubscribeResponse& m) {
      if (m.has_caught_up()) caught_up.Notify();
      if (m.has_event()) got.push_back(m.event().payload().status_updated().summary());
      return got.size() < 2;
    }, &cancel);
  });
  ASSERT_TRUE(caught_up.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(client.Append(AppendOf("other", {StatusEvent("elsewhere")})).ok());
  ASSERT_TRUE(client.Append(AppendOf("p", {StatusEvent("new1")})).ok());
  ASSERT_TRUE(client.Append(AppendOf("p", {StatusEvent("new2")})).ok());
  absl::Notification finished;
  std::thread watchdog([&] {
    if (!finished.WaitForNotificationWithTimeout(absl::Seconds(20))) cancel.Cancel();
  });
  t.join();
  finished.Notify();
  watchdog.join();
  EXPECT_EQ(got, (std::vector<std::string>{"new1", "new2"}));
}

TEST(SubscriptionTest, IdleSubscriptionGetsHeartbeats) {
  InProcessServer server(absl::Milliseconds(100));
  SubscribeRequest request;
  int heartbeats = 0;
  bool caught_up = false;
  auto client = server.Client();
  client::StreamCancel cancel;
  absl::Notification finished;
  std::thread watchdog([&] {
    if (!finished.WaitForNotificationWithTimeout(absl::Seconds(10))) cancel.Cancel();
  });
  absl::Status s = client.Subscribe(request, [&](const SubscribeResponse& m) {
    if (m.has_caught_up()) caught_up = true;
    if (m.has_heartbeat()) {
      EXPECT_TRUE(caught_up) << "heartbeat before caught_up";
      ++heartbeats;
    }
    return heartbeats < 3;
  }, &cancel);
  finished.Notify();
  watchdog.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(heartbeats, 3);
}

TEST(SubscriptionTest, SlowSubscriberStaysWithinBufferBoundAndStillGetsEverything) {
  InProcessServer server;
  auto client = server.Client();
  // Open the subscription but do not read from it while 100,000 events are appended.
  grpc::ClientContext context;
  client.Prepare(&context, false);
  SubscribeRequest request;
  auto reader = client.stub().Subscribe(&context, request);
  SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));
  ASSERT_TRUE(first.has_caught_up());

  constexpr int kAppends = 1000, kPerAppend = 100;
  const std::string summary(250, 's');
  for (int i = 0; i < kAppends; ++i) {
    std::vector<accord::v1::ProposedEvent> events;
    for (int j = 0; j < kPerAppend; ++j) events.push_back(StatusEvent(summary));
    auto r = client.Append(AppendOf(absl::StrCat("p", i % 10), std::move(events)));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  const uint64_t peak = server.server().hub().max_buffered_bytes();
  EXPECT_GT(peak, 0u);
  EXPECT_LE(peak, server::kMaxSubscriptionBufferedBytes);

  // Now drain: every event, in order, read back from the log.
  uint64_t expected = 1;
  SubscribeResponse m;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (expected <= uint64_t{kAppends * kPerAppend} && absl::Now() < deadline &&
         reader->Read(&m)) {
    if (!m.has_event()) continue;
    ASSERT_EQ(m.event().position(), expected);
    ++expected;
  }
  EXPECT_EQ(expected, uint64_t{kAppends * kPerAppend} + 1);
  EXPECT_LE(server.server().hub().max_buffered_bytes(), server::kMaxSubscriptionBufferedBytes);
  context.TryCancel();
  (void)reader->Finish();
}

TEST(SubscriptionTest, ShutdownEndsSubscriptionsWithUnavailable) {
  InProcessServer server;
  absl::Notification caught_up;
  absl::Status status;
  std::thread t([&] {
    auto client = server.Client();
    status = client.Subscribe(SubscribeRequest(), [&](const SubscribeResponse& m) {
      if (m.has_caught_up()) caught_up.Notify();
      return true;
    });
  });
  ASSERT_TRUE(caught_up.WaitForNotificationWithTimeout(absl::Seconds(10)));
  server.Stop();
  t.join();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST(SubscriptionTest, InvalidProjectIdIsInvalidArgument) {
  InProcessServer server;
  SubscribeRequest request;
  request.set_project_id("no spaces");
  auto client = server.Client();
  absl::Status s = client.Subscribe(request, [](const SubscribeResponse&) { return true; });
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

TEST(SubscriptionTest, ConflictingStartIsInvalidArgumentNamingTheField) {
  InProcessServer server;
  auto client = server.Client();
  auto refused = [&](const SubscribeRequest& request, const std::string& field) {
    absl::Status s = client.Subscribe(request, [](const SubscribeResponse&) { return true; });
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << field << ": " << s;
    EXPECT_EQ(s.message().substr(0, field.size() + 1), field + ":") << s;
  };
  SubscribeRequest all;
  all.set_from_version(3);  // A version needs a project.
  refused(all, "from_version");
  SubscribeRequest project;
  project.set_project_id("p1");
  project.set_from_position(3);  // A position belongs to all-project subscriptions.
  refused(project, "from_position");
  project.clear_from_position();
  project.set_from_version(3);
  project.set_from_end(true);
  refused(project, "from_end");
  all.clear_from_version();
  all.set_from_position(7);
  all.set_from_end(true);
  refused(all, "from_end");
}

}  // namespace
}  // namespace accord::testing
