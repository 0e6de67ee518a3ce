// The EventStore gRPC API end to end over loopback: appends, reads, the error contract
// (each error changes nothing), idempotency, optimistic concurrency, health.
#include "server/event_store_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "server/event_translation.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

using accord::v1::AppendRequest;
using accord::v1::RecordedEvent;

class EventStoreServiceTest : public ::testing::Test {
 protected:
  std::vector<RecordedEvent> Read(const std::string& project) {
    std::vector<RecordedEvent> out;
    accord::v1::ReadStreamRequest request;
    request.set_project_id(project);
    absl::Status s = client_.ReadStream(request, [&](const RecordedEvent& e) {
      out.push_back(e);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  // Sends `request`, expects `code` with `needle` in the message, and checks that the
  // log did not change.
  void ExpectRejected(const AppendRequest& request, absl::StatusCode code,
                      const std::string& needle) {
    const uint64_t before = server_.log().LastPosition();
    auto r = client_.Append(request);
    EXPECT_EQ(r.status().code(), code) << r.status();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
    EXPECT_EQ(server_.log().LastPosition(), before);
  }

  InProcessServer server_;
  client::AccordClient client_ = server_.Client("alice", "manager");
};

TEST_F(EventStoreServiceTest, AppendThenReadReturnsRecordedEnvelope) {
  auto e = StatusEvent("week 1");
  e.set_visibility(accord::v1::VISIBILITY_CLIENT);
  e.mutable_metadata()->set_correlation_id("corr-1");
  auto r = client_.Append(AppendOf("acme", {e}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_version(), 1u);
  EXPECT_EQ(r->last_position(), 1u);
  auto events = Read("acme");
  ASSERT_EQ(events.size(), 1u);
  const RecordedEvent& got = events[0];
  EXPECT_EQ(got.event_id(), e.event_id());
  EXPECT_EQ(got.event_type(), "status_updated");
  EXPECT_EQ(got.actor().principal(), "alice");
  EXPECT_EQ(got.actor().role(), "manager");
  EXPECT_EQ(got.visibility(), accord::v1::VISIBILITY_CLIENT);
  EXPECT_EQ(got.metadata().correlation_id(), "corr-1");
  EXPECT_EQ(got.payload().status_updated().summary(), "week 1");
  EXPECT_EQ(got.hash().size(), 32u);
  EXPECT_EQ(got.prev_hash(), std::string(32, '\0'));
  EXPECT_TRUE(got.has_recorded_at());
  EXPECT_EQ(got.occurred_at().seconds(), got.recorded_at().seconds());  // Unset -> now.
}

TEST_F(EventStoreServiceTest, ActorDefaultsToAnonymous) {
  auto anonymous = server_.Client();
  ASSERT_TRUE(anonymous.Append(AppendOf("p", {StatusEvent("x")})).ok());
  EXPECT_EQ(Read("p")[0].actor().principal(), "anonymous");
}

TEST_F(EventStoreServiceTest, MultiEventAppendIsAtomic) {
  auto good = StatusEvent("ok");
  auto bad = StatusEvent("bad");
  bad.mutable_payload()->mutable_status_updated()->set_percent_complete(101);
  ExpectRejected(AppendOf("p", {good, bad}), absl::StatusCode::kInvalidArgument,
                 "events[1].payload.status_updated.percent_complete");
  auto r = client_.Append(AppendOf("p", {StatusEvent("a"), StatusEvent("b"), StatusEvent("c")}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_version(), 1u);
  EXPECT_EQ(r->last_version(), 3u);
  EXPECT_EQ(Read("p").size(), 3u);
}

TEST_F(EventStoreServiceTest, MalformedProjectIdIsInvalidArgument) {
  ExpectRejected(AppendOf("bad id!", {StatusEvent("x")}), absl::StatusCode::kInvalidArgument,
                 "project_id");
  ExpectRejected(AppendOf(std::string(65, 'a'), {StatusEvent("x")}),
                 absl::StatusCode::kInvalidArgument, "project_id");
  ExpectRejected(AppendOf("", {StatusEvent("x")}), absl::StatusCode::kInvalidArgument,
                 "project_id");
}

TEST_F(EventStoreServiceTest, NoEventsIsInvalidArgument) {
  ExpectRejected(AppendOf("p", {}), absl::StatusCode::kInvalidArgument, "events");
}

TEST_F(EventStoreServiceTest, BadEventIdIsInvalidArgument) {
  auto e = StatusEvent("x");
  e.set_event_id("not-a-uuid");
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kInvalidArgument, "events[0].event_id");
}

TEST_F(EventStoreServiceTest, RepeatedEventIdInOneRequestIsInvalidArgument) {
  auto e = StatusEvent("x");
  ExpectRejected(AppendOf("p", {e, e}), absl::StatusCode::kInvalidArgument,
                 "events[1].event_id");
}

TEST_F(EventStoreServiceTest, RepeatedEventIdInALargeRequestNamesBothEvents) {
  // Past the few events compared pairwise, the ids go through a map: same answer.
  std::vector<accord::v1::ProposedEvent> events;
  for (int i = 0; i < 40; ++i) events.push_back(StatusEvent("x"));
  events[37].set_event_id(events[5].event_id());
  ExpectRejected(AppendOf("p", events), absl::StatusCode::kInvalidArgument,
                 "events[37].event_id: repeats events[5].event_id");
}

TEST_F(EventStoreServiceTest, UnsetPayloadIsInvalidArgument) {
  auto e = StatusEvent("x");
  e.clear_payload();
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kInvalidArgument, "events[0].payload");
  e.mutable_payload();  // Present but no event set.
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kInvalidArgument, "no event set");
}

TEST_F(EventStoreServiceTest, UnknownEventTypeIsInvalidArgument) {
  auto e = StatusEvent("x");
  e.mutable_payload()->Clear();
  e.mutable_payload()->GetReflection()->MutableUnknownFields(e.mutable_payload())
      ->AddLengthDelimited(999, "from a newer client");
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kInvalidArgument, "unknown event type");
}

TEST_F(EventStoreServiceTest, OutOfRangeValuesAreInvalidArgument) {
  auto e = StatusEvent("x");
  e.mutable_occurred_at()->set_seconds(300000000000);
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kInvalidArgument, "occurred_at");
  auto h = StatusEvent("x");
  h.mutable_payload()->mutable_status_updated()->set_health(accord::v1::HEALTH_UNSPECIFIED);
  ExpectRejected(AppendOf("p", {h}), absl::StatusCode::kInvalidArgument, "health");
  accord::v1::ProposedEvent c;
  c.set_event_id(client::NewEventId());
  c.mutable_payload()->mutable_change_requested()->set_change_id("CR 1");
  ExpectRejected(AppendOf("p", {c}), absl::StatusCode::kInvalidArgument,
                 "change_requested.change_id");
}

TEST_F(EventStoreServiceTest, EventOverOneMebibyteIsInvalidArgument) {
  ExpectRejected(AppendOf("p", {StatusEvent(std::string((1 << 20) + 1, 'x'))}),
                 absl::StatusCode::kInvalidArgument, "1 MiB");
}

TEST_F(EventStoreServiceTest, RequestOverSixteenMebibytesIsResourceExhausted) {
  std::vector<accord::v1::ProposedEvent> events;
  for (int i = 0; i < 17; ++i) events.push_back(StatusEvent(std::string(1000 * 1000, 'x')));
  ExpectRejected(AppendOf("p", events), absl::StatusCode::kResourceExhausted, "");
}

TEST_F(EventStoreServiceTest, VersionConflictIsAbortedNamingCurrentVersion) {
  ASSERT_TRUE(client_.Append(AppendOf("p", {StatusEvent("a"), StatusEvent("b")})).ok());
  auto request = AppendOf("p", {StatusEvent("c")});
  request.mutable_expected_version()->set_exact(1);
  ExpectRejected(request, absl::StatusCode::kAborted, "current version is 2");
  request.mutable_expected_version()->mutable_no_stream();
  ExpectRejected(request, absl::StatusCode::kAborted, "current version is 2");
  request.mutable_expected_version()->set_exact(2);
  EXPECT_TRUE(client_.Append(request).ok());
}

TEST_F(EventStoreServiceTest, RetryReturnsOriginalResultAndWritesNothing) {
  auto request = AppendOf("p", {StatusEvent("a"), StatusEvent("b")});
  request.mutable_expected_version()->mutable_no_stream();
  auto first = client_.Append(request);
  ASSERT_TRUE(first.ok());
  auto retry = client_.Append(request);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_written());
  EXPECT_EQ(retry->first_version(), first->first_version());
  EXPECT_EQ(retry->last_version(), first->last_version());
  EXPECT_EQ(retry->last_position(), first->last_position());
  EXPECT_EQ(Read("p").size(), 2u);
}

TEST_F(EventStoreServiceTest, SameIdDifferentContentIsFailedPrecondition) {
  auto e = StatusEvent("a");
  ASSERT_TRUE(client_.Append(AppendOf("p", {e})).ok());
  e.mutable_payload()->mutable_status_updated()->set_summary("changed");
  ExpectRejected(AppendOf("p", {e}), absl::StatusCode::kFailedPrecondition, e.event_id());
}

TEST_F(EventStoreServiceTest, UnknownProjectReadIsNotFound) {
  accord::v1::ReadStreamRequest request;
  request.set_project_id("ghost");
  absl::Status s = client_.ReadStream(request, [](const RecordedEvent&) { return true; });
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

TEST_F(EventStoreServiceTest, ReadAllPagesThroughTheGlobalLogInOrder) {
  for (int i = 0; i < 700; ++i) {
    ASSERT_TRUE(client_.Append(AppendOf(absl::StrCat("p", i % 7), {StatusEvent("x")})).ok());
  }
  std::vector<uint64_t> positions;
  accord::v1::ReadAllRequest request;
  request.set_from_position(5);
  ASSERT_TRUE(client_.ReadAll(request, [&](const RecordedEvent& e) {
    positions.push_back(e.position());
    return true;
  }).ok());
  ASSERT_EQ(positions.size(), 696u);
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], i + 5);
  request.set_max_count(10);
  int count = 0;
  ASSERT_TRUE(client_.ReadAll(request, [&](const RecordedEvent&) { return ++count, true; }).ok());
  EXPECT_EQ(count, 10);
}

TEST_F(EventStoreServiceTest, SixteenWritersRacingWithExactVersionsGetContiguousVersions) {
  constexpr int kWriters = 16, kPerWriter = 20;
  std::atomic<int> aborted{0}, unexpected{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto client = server_.Client(absl::StrCat("writer", w));
      uint64_t known = 0;
      for (int n = 0; n < kPerWriter;) {
        auto request = AppendOf("race", {StatusEvent(absl::StrCat(w, ":", n))});
        request.mutable_expected_version()->set_exact(known);
        auto r = client.Append(request);
        if (r.ok()) {
          known = r->last_version();
          ++n;
        } else if (absl::IsAborted(r.status())) {
          ++aborted;
          // The message names the current version; so does the log.
          known = *server_.log().StreamVersion("race");
        } else {
          ++unexpected;
          ADD_FAILURE() << r.status();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(aborted.load(), 0);  // They did race.
  auto events = Read("race");
  ASSERT_EQ(events.size(), size_t{kWriters * kPerWriter});
  std::set<std::string> summaries;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].version(), i + 1);
    EXPECT_TRUE(summaries.insert(events[i].payload().status_updated().summary()).second);
  }
}

TEST_F(EventStoreServiceTest, HealthCheckServesAndInfoReportsDurability) {
  EXPECT_TRUE(client_.CheckHealth().ok());
  auto info = client_.GetServerInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->durability(), accord::v1::DURABILITY_MODE_SYNC);
  EXPECT_EQ(info->storage_engine(), "rocksdb");
}

TEST(ServerStartTest, RefusesNonLoopbackAddressWhilePlaintext) {
  EXPECT_TRUE(server::IsLoopbackAddress("127.0.0.1:7700"));
  EXPECT_TRUE(server::IsLoopbackAddress("127.1.2.3:1"));
  EXPECT_TRUE(server::IsLoopbackAddress("localhost:7700"));
  EXPECT_TRUE(server::IsLoopbackAddress("[::1]:7700"));
  EXPECT_FALSE(server::IsLoopbackAddress("0.0.0.0:7700"));
  EXPECT_FALSE(server::IsLoopbackAddress("[::]:7700"));
  EXPECT_FALSE(server::IsLoopbackAddress("10.0.0.1:7700"));
  TempDir dir;
  storage::EventLogOptions options;
  options.data_dir = dir.Sub("db");
  auto log = storage::OpenEventLog(options);
  ASSERT_TRUE(log.ok());
  server::ServerOptions server_options;
  server_options.listen_address = "0.0.0.0:0";
  auto server = server::AccordServer::Start(server_options, log->get());
  EXPECT_TRUE(absl::IsFailedPrecondition(server.status())) << server.status();
}

}  // namespace
}  // namespace accord::testing
