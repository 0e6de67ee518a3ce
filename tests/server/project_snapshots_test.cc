// Projection snapshots: written by the rules guard every K versions, used by reads of the
// current and past states, and never changing an answer: every state read through a
// snapshot equals a replay of the log from the start.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/domain/project_projection.h"
#include "server/project_reader.h"
#include "server/project_snapshots.h"
#include "storage/rocksdb_event_log.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

namespace v1 = accord::v1;

const absl::Time kNow = absl::FromUnixSeconds(1795000000);

// A project_created event for a project named `name` of client Acme.
v1::ProposedEvent CreatedEvent(const std::string& name) {
  v1::ProposedEvent e;
  e.set_event_id(client::NewEventId());
  auto* created = e.mutable_payload()->mutable_project_created();
  created->set_name(name);
  created->set_client_org("Acme");
  return e;
}

class ProjectSnapshotsTest : public ::testing::Test {
 protected:
  // 60 events: creation, a member, then risks assessed over and over.
  void AppendHistory() {
    auto client = server_.Client("pm");
    ASSERT_TRUE(client.Append(AppendOf("p", {CreatedEvent("Snap")})).ok());
    for (int i = 0; i < 59; ++i) {
      v1::ProposedEvent e;
      e.set_event_id(client::NewEventId());
      if (i % 3 == 0) {
        auto* r = e.mutable_payload()->mutable_risk_identified();
        r->set_risk_id(absl::StrCat("R", i));
        r->set_title("risk");
        r->set_probability(1 + i % 5);
        r->set_impact(1 + (i / 5) % 5);
      } else {
        auto* s = e.mutable_payload()->mutable_status_updated();
        s->set_health(i % 2 ? v1::HEALTH_GREEN : v1::HEALTH_AMBER);
        s->set_percent_complete(i);
      }
      ASSERT_TRUE(client.Append(AppendOf("p", {e})).ok());
    }
  }
  std::vector<v1::RecordedEvent> Events() {
    std::vector<v1::RecordedEvent> events;
    v1::ReadStreamRequest request;
    request.set_project_id("p");
    EXPECT_TRUE(server_.Client().ReadStream(request, [&](const v1::RecordedEvent& e) {
      events.push_back(e);
      return true;
    }).ok());
    return events;
  }
  std::string StateBytes(uint64_t as_of_version) {
    v1::GetProjectRequest request;
    request.set_project_id("p");
    if (as_of_version != 0) request.set_as_of_version(as_of_version);
    request.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
    auto state = server_.Client().GetProject(request);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? domain::DeterministicBytes(*state) : "";
  }

  // What a replay of the first `n` events gives, as StateBytes returns it.
  static std::string ReplayedBytes(const std::vector<v1::RecordedEvent>& events, size_t n) {
    domain::ReplayOptions options;
    options.now = kNow;
    v1::ProjectState replayed = domain::Replay(
        std::vector<v1::RecordedEvent>(events.begin(), events.begin() + n), options);
    replayed.set_project_id("p");
    return domain::DeterministicBytes(replayed);
  }

  InProcessServer server_{absl::Milliseconds(200), /*snapshot_every=*/7};
};

TEST_F(ProjectSnapshotsTest, GuardWritesSnapshotsEveryKVersions) {
  AppendHistory();
  auto snapshot = server_.log().snapshots().FloorSnapshot("p", 60);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_TRUE(snapshot->has_value());
  EXPECT_EQ((*snapshot)->version, 56u);  // The last multiple of 7 passed.
  auto older = server_.log().snapshots().FloorSnapshot("p", 20);
  ASSERT_TRUE(older.ok() && older->has_value());
  EXPECT_EQ((*older)->version, 14u);
  auto state = server::DecodeSnapshot((*older)->bytes);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->version(), 14u);
}

TEST_F(ProjectSnapshotsTest, EveryStateReadThroughSnapshotsEqualsAFullReplay) {
  AppendHistory();
  const auto events = Events();
  ASSERT_EQ(events.size(), 60u);
  for (uint64_t n = 1; n <= events.size(); ++n) {
    ASSERT_EQ(StateBytes(n), ReplayedBytes(events, n)) << "as of version " << n;
  }
  EXPECT_EQ(StateBytes(0), ReplayedBytes(events, events.size()));
}

// A retraction or correction after the latest snapshot: reads start from the snapshot
// before the event it names (not from the start) and still equal a full replay.
TEST_F(ProjectSnapshotsTest, ReadsAfterACorrectionStartFromTheSnapshotBeforeTheEventItNames) {
  AppendHistory();
  const auto before = Events();
  auto client = server_.Client("pm");
  v1::ProposedEvent correction;
  correction.set_event_id(client::NewEventId());
  auto* corrected = correction.mutable_payload()->mutable_event_corrected();
  corrected->set_corrected_event_id(before[51].event_id());  // Version 52, a status update.
  corrected->set_reason("wrong health");
  corrected->mutable_replacement()->mutable_status_updated()->set_health(v1::HEALTH_RED);
  ASSERT_TRUE(client.Append(AppendOf("p", {correction})).ok());

  auto applied_for_current = [&] {
    domain::ReplayOptions options;
    options.now = kNow;
    std::string bytes;
    uint64_t applied = 0;
    EXPECT_TRUE(server::ReadProjectStateBytes(server_.log(), "p", options, &bytes, &applied).ok());
    return applied;
  };
  // Version 61; snapshots at 56 and 49: from 49, events 50..61.
  EXPECT_EQ(applied_for_current(), 12u);

  v1::ProposedEvent retraction;
  retraction.set_event_id(client::NewEventId());
  auto* retracted = retraction.mutable_payload()->mutable_event_retracted();
  retracted->set_retracted_event_id(before[9].event_id());  // Version 10.
  retracted->set_reason("sent twice");
  ASSERT_TRUE(client.Append(AppendOf("p", {retraction})).ok());
  // Version 62: from the snapshot at 7, events 8..62.
  EXPECT_EQ(applied_for_current(), 55u);

  const auto events = Events();
  ASSERT_EQ(events.size(), 62u);
  for (uint64_t n = 1; n <= events.size(); ++n) {
    ASSERT_EQ(StateBytes(n), ReplayedBytes(events, n)) << "as of version " << n;
  }
}

TEST_F(ProjectSnapshotsTest, SnapshotOfAnotherProjectionVersionIsIgnored) {
  AppendHistory();
  // A snapshot claiming to be from a future projection version, with a wrong state.
  std::string bytes = server::EncodeSnapshot(v1::ProjectState());
  bytes[0] = static_cast<char>(server::kProjectionVersion + 1);
  ASSERT_TRUE(server_.log().snapshots().PutSnapshot("p", 59, bytes).ok());
  const auto events = Events();
  domain::ReplayOptions options;
  options.now = kNow;
  v1::ProjectState replayed = domain::Replay(
      std::vector<v1::RecordedEvent>(events.begin(), events.begin() + 59), options);
  replayed.set_project_id("p");
  EXPECT_EQ(StateBytes(59), domain::DeterministicBytes(replayed));
}

TEST_F(ProjectSnapshotsTest, SnapshotWrittenBeforeIdTablesIsStillUsed) {
  AppendHistory();
  const auto events = Events();
  const std::vector<v1::RecordedEvent> first(events.begin(), events.begin() + 40);
  // The earlier layout: the projection version, then the state, nothing after it. Its
  // version field is marked, so the test sees the snapshot was used, not a replay.
  v1::ProjectState marked = domain::Replay(first);
  marked.mutable_charter()->set_description("from the old snapshot");
  std::string legacy(4, '\0');
  for (int i = 0; i < 4; ++i) legacy[i] = static_cast<char>(server::kProjectionVersion >> (8 * i));
  legacy += domain::DeterministicBytes(marked);
  ASSERT_TRUE(server_.log().snapshots().PutSnapshot("p", 40, legacy).ok());
  auto parts = server::SnapshotPartsOf(legacy);
  ASSERT_TRUE(parts.has_value());
  EXPECT_TRUE(parts->id_tables.empty());
  v1::ProjectState served;
  ASSERT_TRUE(served.ParseFromString(StateBytes(41)));  // Guard snapshots: 35, 42.
  EXPECT_EQ(served.charter().description(), "from the old snapshot");
  EXPECT_EQ(served.version(), 41u);
}

// GetProject takes its request as bytes (a raw method): bytes that are not a
// GetProjectRequest are INVALID_ARGUMENT, not a crash or an empty state.
TEST_F(ProjectSnapshotsTest, GetProjectWithMalformedRequestBytesIsInvalidArgument) {
  auto channel = grpc::CreateChannel(server_.target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  const std::string garbage = "\x0a\xff\xff\xff\xff\x0f";  // Field 1, length past the end.
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext context;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/accord.v1.Projects/GetProject", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("GetProjectRequest"), std::string::npos);
}

TEST_F(ProjectSnapshotsTest, RebuildStreamsProgressAndWritesEachProjectsSnapshot) {
  AppendHistory();
  auto client = server_.Client();
  ASSERT_TRUE(client.Append(AppendOf("q", {StatusEvent("other project")})).ok());
  std::vector<v1::RebuildProgress> updates;
  absl::Status s = client.RebuildProjections(v1::RebuildProjectionsRequest(),
                                             [&](const v1::RebuildProgress& p) { updates.push_back(p); });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_FALSE(updates.empty());
  const v1::RebuildProgress& last = updates.back();
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.projects_done(), 2u);
  EXPECT_EQ(last.projects_total(), 2u);
  EXPECT_EQ(last.events_done(), 61u);
  EXPECT_EQ(last.events_total(), 61u);
  for (const auto& [project, version] : {std::pair<std::string, uint64_t>{"p", 60}, {"q", 1}}) {
    auto snapshot = server_.log().snapshots().FloorSnapshot(project, version);
    ASSERT_TRUE(snapshot.ok() && snapshot->has_value()) << project;
    EXPECT_EQ((*snapshot)->version, version) << project;
  }
  v1::RebuildProjectionsRequest one;
  one.set_project_id("ghost");
  EXPECT_TRUE(absl::IsNotFound(client.RebuildProjections(one, [](const v1::RebuildProgress&) {})));
}


// Projects replay independently: several threads take projects from one list, and each
// project is rebuilt exactly once, into the same snapshot a single thread writes.
TEST_F(ProjectSnapshotsTest, RebuildOnSeveralThreadsRebuildsEachProjectOnceAsOneThreadDoes) {
  auto client = server_.Client("pm");
  uint64_t total = 0;
  std::vector<std::pair<std::string, uint64_t>> projects;
  for (int p = 0; p < 7; ++p) {
    const std::string id = absl::StrCat("proj", p);
    ASSERT_TRUE(client.Append(AppendOf(id, {CreatedEvent(id)})).ok());
    for (int i = 0; i < 3 * p; ++i) {
      ASSERT_TRUE(client.Append(AppendOf(id, {StatusEvent(absl::StrCat(id, " update ", i))})).ok());
    }
    projects.emplace_back(id, 1 + 3 * p);
    total += 1 + 3 * p;
  }
  auto rebuild = [&](uint32_t threads) {
    v1::RebuildProjectionsRequest request;
    request.set_threads(threads);
    v1::RebuildProgress last;
    absl::Status s = client.RebuildProjections(request, [&](const v1::RebuildProgress& p) { last = p; });
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_TRUE(last.done());
    EXPECT_EQ(last.threads(), threads);
    EXPECT_EQ(last.projects_done(), projects.size());
    EXPECT_EQ(last.events_done(), total);
    std::map<std::string, std::string> snapshots;
    for (const auto& [id, version] : projects) {
      auto snapshot = server_.log().snapshots().FloorSnapshot(id, version);
      EXPECT_TRUE(snapshot.ok() && snapshot->has_value()) << id;
      if (!snapshot.ok() || !snapshot->has_value()) continue;
      EXPECT_EQ((*snapshot)->version, version) << id;
      snapshots[id] = std::string((*snapshot)->bytes);
    }
    return snapshots;
  };
  const auto one = rebuild(1);
  const auto three = rebuild(3);
  ASSERT_EQ(one.size(), projects.size());
  EXPECT_EQ(one, three);
}

TEST_F(ProjectSnapshotsTest, RebuildRefusesMoreThreadsThanTheMaximum) {
  AppendHistory();
  auto client = server_.Client();
  v1::RebuildProjectionsRequest request;
  request.set_threads(65);
  absl::Status s = client.RebuildProjections(request, [](const v1::RebuildProgress&) {});
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("threads"), std::string_view::npos) << s;
}


// Snapshots are a cache: one damaged on disk (its checksum fails) makes reads and the
// rules guard replay the log instead of failing the project's reads and appends.
TEST(ProjectSnapshotsRecoveryTest, DamagedSnapshotIsReplayedAroundForReadsAndAppends) {
  TempDir dir;
  const std::string data_dir = dir.Sub("db");
  std::string before;
  {
    InProcessServer server(absl::Milliseconds(200), /*snapshot_every=*/5, data_dir);
    auto client = server.Client("pm");
    auto head = client.Append(AppendOf("p", {CreatedEvent("Big")}));
    ASSERT_TRUE(head.ok()) << head.status();
    for (int i = 0; i < 24; ++i) {  // Risks with long titles: snapshots go to blob files.
      v1::ProposedEvent e;
      e.set_event_id(client::NewEventId());
      auto* r = e.mutable_payload()->mutable_risk_identified();
      r->set_risk_id(absl::StrCat("R", i));
      r->set_title(std::string(2000, 'a' + i % 26));
      r->set_probability(2);
      r->set_impact(3);
      auto appended = client.Append(AppendOf("p", {e}));
      ASSERT_TRUE(appended.ok()) << appended.status();
    }
    auto* rocks = dynamic_cast<storage::RocksEventLog*>(&server.log());
    ASSERT_NE(rocks, nullptr);
    ASSERT_TRUE(rocks->FlushForTesting().ok());
    auto state = client.GetProject([] {
      v1::GetProjectRequest r;
      r.set_project_id("p");
      r.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
      return r;
    }());
    ASSERT_TRUE(state.ok()) << state.status();
    before = domain::DeterministicBytes(*state);
  }
  int damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    if (entry.path().extension() != ".blob") continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(entry.file_size());
    // Inside the last snapshot written (the latest, which reads and the guard start from),
    // before the file's 32-byte footer.
    const std::streamoff at = size - 100;
    char c = 0;
    f.seekg(at);
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(at);
    f.write(&c, 1);
    ++damaged;
  }
  ASSERT_GT(damaged, 0) << "no snapshot reached a blob file";

  InProcessServer server(absl::Milliseconds(200), /*snapshot_every=*/5, data_dir);
  auto client = server.Client("pm");
  v1::GetProjectRequest request;
  request.set_project_id("p");
  request.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
  auto state = client.GetProject(request);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(domain::DeterministicBytes(*state), before);
  request.set_as_of_version(12);
  EXPECT_TRUE(client.GetProject(request).ok());
  // The guard loads the project afresh after the restart: through the damaged snapshot.
  auto appended = client.Append(AppendOf("p", {StatusEvent("still writable")}));
  EXPECT_TRUE(appended.ok()) << appended.status();
}

}  // namespace
}  // namespace accord::testing
