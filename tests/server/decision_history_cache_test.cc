// DecisionHistoryCache: a read with nothing appended since reuses the kept history, events
// appended since are added to it, a retraction since has it built anew, and at most
// max_projects histories are kept. Over a real RocksEventLog in a temporary directory.
#include "server/decision_history_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "google/protobuf/text_format.h"
#include "server/domain/event_validation.h"
#include "storage/event_hash.h"
#include "storage/event_id.h"
#include "storage/rocksdb_event_log.h"
#include "tests/test_util.h"

namespace accord::server {
namespace {

namespace v1 = accord::v1;

class DecisionHistoryCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EventLogOptions options;
    options.data_dir = dir_.Sub("log");
    auto log = storage::RocksEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    cache_ = std::make_unique<DecisionHistoryCache>(log_.get(), /*max_projects=*/2);
  }

  // Appends one event with `payload` (text format) to `project`; returns its event id.
  std::string Append(const std::string& project, const std::string& payload_text) {
    v1::EventPayload payload;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(payload_text, &payload))
        << payload_text;
    storage::ProposedRecord record;
    for (auto& b : record.event_id) b = absl::Uniform<uint8_t>(gen_);
    record.event_type = domain::EventTypeOf(payload);
    payload.SerializeToString(&record.payload);
    record.payload_hash = storage::Sha256(record.payload);
    const std::string id = storage::FormatEventId(record.event_id);
    storage::AppendBatch batch;
    batch.project_id = project;
    batch.actor = {"pm", "manager"};
    batch.events.push_back(std::move(record));
    auto appended = log_->Append(std::move(batch));
    EXPECT_TRUE(appended.ok()) << appended.status();
    return id;
  }

  // A project whose change CR-1 is approved by its requester's sponsor: one decision.
  void AppendDecidedChange(const std::string& project) {
    Append(project, R"(project_created { name: "Portal" client_org: "Acme" })");
    Append(project, R"(change_requested { change_id: "CR-1" title: "SSO" })");
    Append(project, R"(change_approved { change_id: "CR-1" approved_by: "sponsor" })");
  }

  std::vector<v1::DecisionEntry> Read(const std::string& project) {
    std::vector<v1::DecisionEntry> out;
    absl::Status s = cache_->Read(project, [&](const auto& entries) { out = entries; });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  accord::testing::TempDir dir_;
  absl::BitGen gen_;
  std::unique_ptr<storage::RocksEventLog> log_;
  std::unique_ptr<DecisionHistoryCache> cache_;
};

TEST_F(DecisionHistoryCacheTest, ASecondReadWithNothingAppendedReusesTheHistory) {
  AppendDecidedChange("p");
  EXPECT_EQ(Read("p").size(), 1u);
  EXPECT_EQ(Read("p").size(), 1u);
  const DecisionHistoryCache::Stats stats = cache_->stats();
  EXPECT_EQ(stats.built, 1u);
  EXPECT_EQ(stats.reused, 1u);
  EXPECT_EQ(stats.extended, 0u);
}

TEST_F(DecisionHistoryCacheTest, EventsAppendedSinceAreAddedToTheKeptHistory) {
  AppendDecidedChange("p");
  ASSERT_EQ(Read("p").size(), 1u);
  Append("p", R"(change_requested { change_id: "CR-2" title: "Export" })");
  Append("p", R"(change_rejected { change_id: "CR-2" rejected_by: "sponsor" })");
  const std::vector<v1::DecisionEntry> history = Read("p");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].outcome(), "REJECTED");
  EXPECT_EQ(history[1].answers_version(), 4u);  // The request it decided.
  const DecisionHistoryCache::Stats stats = cache_->stats();
  EXPECT_EQ(stats.built, 1u);
  EXPECT_EQ(stats.extended, 1u);
}

TEST_F(DecisionHistoryCacheTest, ARetractionSinceBuildsTheHistoryAnewAndMarksWhatItUndid) {
  AppendDecidedChange("p");
  std::vector<v1::DecisionEntry> history = Read("p");
  ASSERT_EQ(history.size(), 1u);
  ASSERT_FALSE(history[0].retracted());
  Append("p", "event_retracted { retracted_event_id: \"" + history[0].event_id() +
                  "\" reason: \"approved in error\" }");
  history = Read("p");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0].retracted());
  EXPECT_EQ(history[1].kind(), v1::DECISION_KIND_CORRECTION);
  EXPECT_EQ(cache_->stats().built, 2u);
}

TEST_F(DecisionHistoryCacheTest, KeepsAtMostMaxProjectsDroppingTheLeastRecentlyRead) {
  for (const char* project : {"a", "b", "c"}) AppendDecidedChange(project);
  Read("a");
  Read("b");
  Read("a");
  Read("c");  // Drops b, read before a's second read.
  EXPECT_EQ(cache_->stats().kept, 2u);
  Read("a");  // Still kept.
  EXPECT_EQ(cache_->stats().reused, 2u);
  Read("b");  // Built again.
  EXPECT_EQ(cache_->stats().built, 4u);
}

TEST_F(DecisionHistoryCacheTest, AProjectWithoutEventsIsNotFoundAndKeepsNothing) {
  absl::Status s = cache_->Read("nobody", [](const auto&) { FAIL() << "visited"; });
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(cache_->stats().kept, 0u);
}

}  // namespace
}  // namespace accord::server
