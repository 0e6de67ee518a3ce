// The documented on-disk layout: key order, record round trips, hash verification.
#include "storage/storage_format.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "storage/event_hash.h"
#include "storage/event_id.h"

namespace accord::storage {
namespace {

EventRecord SampleRecord() {
  EventRecord r;
  r.project_id = "acme-web";
  r.version = 7;
  r.position = 42;
  r.event_id = *ParseEventId("0f8fad5b-d9cb-469f-a165-70867728950e");
  r.event_type = "status_updated";
  r.occurred_at = {1763800000, 123};
  r.recorded_at = {1763800001, 456};
  r.actor = {"alice", "manager"};
  r.visibility = Visibility::kClient;
  r.schema_version = 1;
  r.correlation_id = "corr";
  r.causation_id = "cause";
  r.payload = std::string("\x12\x02\x08\x01", 4);
  r.prev_hash.fill(7);
  return r;
}

std::string Encode(EventRecord* r) {
  std::string bytes;
  r->hash = AppendRecord(*r, r->payload, Sha256(r->payload), r->prev_hash, &bytes);
  return bytes;
}

uint32_t Fixed32At(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

TEST(StorageFormatTest, LogKeysSortInPositionOrder) {
  EXPECT_LT(LogKey(1), LogKey(2));
  EXPECT_LT(LogKey(255), LogKey(256));
  EXPECT_LT(LogKey(0xffffffff), LogKey(0x100000000ull));
  EXPECT_EQ(*DecodeLogKey(LogKey(123456789)), 123456789u);
}

TEST(StorageFormatTest, StreamKeysOfOneProjectNeverInterleaveWithAnother) {
  // "a" + 0x00 sorts before "a-b" and "a0", so a prefix scan of "a" sees only "a".
  EXPECT_LT(StreamKey("a", 0xffffffffffffffffull), StreamKey("a-b", 1));
  EXPECT_LT(StreamKey("a", 0xffffffffffffffffull), StreamKey("a0", 1));
  EXPECT_LT(StreamKey("a", 2), StreamKey("a", 10));
  EXPECT_EQ(*DecodeStreamKeyVersion(StreamKey("proj", 77)), 77u);
}

// Read back by the documented layout (storage_format.h), not by the decoder.
TEST(StorageFormatTest, AppendRecordWritesTheDocumentedLayoutAndReturnsItsChainHash) {
  const EventRecord r = SampleRecord();
  const std::string earlier = "earlier records";
  std::string buffer = earlier;
  const Sha256Digest hash = AppendRecord(r, r.payload, Sha256(r.payload), r.prev_hash, &buffer);
  ASSERT_EQ(buffer.compare(0, earlier.size(), earlier), 0) << "earlier bytes were changed";
  const std::string_view record = std::string_view(buffer).substr(earlier.size());
  ASSERT_GE(record.size(), 1u + 4 + 4 + 64);
  EXPECT_EQ(record[0], 1) << "record format";
  const uint32_t envelope_size = Fixed32At(record, 1);
  ASSERT_LE(5u + envelope_size + 4, record.size());
  const std::string_view envelope = record.substr(5, envelope_size);
  EXPECT_EQ(envelope[0], 1) << "envelope layout";
  const uint32_t payload_size = Fixed32At(record, 5 + envelope_size);
  ASSERT_EQ(record.size(), 5u + envelope_size + 4 + payload_size + 64);
  EXPECT_EQ(record.substr(9 + envelope_size, payload_size), r.payload);
  const std::string_view hashes = record.substr(record.size() - 64);
  EXPECT_EQ(hashes.substr(0, 32),
            std::string_view(reinterpret_cast<const char*>(r.prev_hash.data()), 32));
  EXPECT_EQ(hashes.substr(32),
            std::string_view(reinterpret_cast<const char*>(hash.data()), 32));
  EXPECT_EQ(hash, ChainHash(envelope, r.prev_hash, Sha256(r.payload)));
}

TEST(StorageFormatTest, AppendRecordBackToBackRecordsEachVerify) {
  std::string buffer;
  std::vector<size_t> ends;
  EventRecord r = SampleRecord();
  for (int i = 0; i < 50; ++i) {  // Enough to make the buffer grow several times.
    r.version = 7 + i;
    r.position = 42 + i;
    r.prev_hash = AppendRecord(r, r.payload, Sha256(r.payload), r.prev_hash, &buffer);
    ends.push_back(buffer.size());
  }
  size_t begin = 0;
  for (int i = 0; i < 50; ++i) {
    EventRecord out;
    ASSERT_TRUE(DecodeRecord(std::string_view(buffer).substr(begin, ends[i] - begin),
                             /*verify_hash=*/true, &out).ok());
    EXPECT_EQ(out.position, 42u + i);
    begin = ends[i];
  }
}

TEST(StorageFormatTest, RecordRoundTripsEveryField) {
  EventRecord in = SampleRecord();
  const std::string bytes = Encode(&in);
  EventRecord out;
  ASSERT_TRUE(DecodeRecord(bytes, /*verify_hash=*/true, &out).ok());
  EXPECT_EQ(out.project_id, in.project_id);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.position, in.position);
  EXPECT_EQ(out.event_id, in.event_id);
  EXPECT_EQ(out.event_type, in.event_type);
  EXPECT_EQ(out.occurred_at, in.occurred_at);
  EXPECT_EQ(out.recorded_at, in.recorded_at);
  EXPECT_EQ(out.actor.principal, "alice");
  EXPECT_EQ(out.actor.role, "manager");
  EXPECT_EQ(out.visibility, Visibility::kClient);
  EXPECT_EQ(out.correlation_id, "corr");
  EXPECT_EQ(out.causation_id, "cause");
  EXPECT_EQ(out.payload, in.payload);
  EXPECT_EQ(out.prev_hash, in.prev_hash);
  EXPECT_EQ(out.hash, in.hash);
}

TEST(StorageFormatTest, FlippedByteAnywhereFailsHashVerificationWithDataLoss) {
  EventRecord in = SampleRecord();
  const std::string bytes = Encode(&in);
  for (size_t i = 1; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x01;
    EventRecord out;
    absl::Status s = DecodeRecord(damaged, /*verify_hash=*/true, &out);
    EXPECT_TRUE(absl::IsDataLoss(s)) << "byte " << i << ": " << s;
  }
}

TEST(StorageFormatTest, TruncatedRecordIsDataLoss) {
  EventRecord in = SampleRecord();
  const std::string bytes = Encode(&in);
  EventRecord out;
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(bytes.substr(0, bytes.size() - 1), false, &out)));
}

TEST(StorageFormatTest, StreamChunkRoundTrips) {
  std::vector<EventId> ids = {*ParseEventId("0f8fad5b-d9cb-469f-a165-70867728950e"),
                              *ParseEventId("7c9e6679-7425-40de-944b-e07fc1f90ae7")};
  auto chunk = DecodeStreamChunk(EncodeStreamChunk(99, ids));
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(chunk->first_position, 99u);
  EXPECT_EQ(chunk->event_ids, ids);
}

TEST(EventIdTest, ParsesCanonicalUuidsAndRejectsOthers) {
  auto id = ParseEventId("0F8FAD5B-D9CB-469F-A165-70867728950E");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(FormatEventId(*id), "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_FALSE(ParseEventId("0f8fad5bd9cb469fa16570867728950e").has_value());
  EXPECT_FALSE(ParseEventId("0f8fad5b-d9cb-469f-a165-70867728950").has_value());
  EXPECT_FALSE(ParseEventId("0f8fad5b-d9cb-469f-a165-70867728950g").has_value());
  EXPECT_FALSE(ParseEventId("").has_value());
}

// Every position is checked: a non-hex byte in place of any digit (including bytes above
// 0x7f) and anything but '-' in place of a dash make the id invalid.
TEST(EventIdTest, RejectsABadCharacterAtAnyPosition) {
  const std::string good = "0f8fad5b-d9cb-469f-a165-70867728950e";
  ASSERT_TRUE(ParseEventId(good).has_value());
  for (size_t i = 0; i < good.size(); ++i) {
    const bool dash = good[i] == '-';
    for (char bad : {'g', 'G', ' ', '\0', '\xff', dash ? 'a' : '-'}) {
      std::string text = good;
      text[i] = bad;
      EXPECT_FALSE(ParseEventId(text).has_value()) << "position " << i << " byte " << int(bad);
    }
  }
}

}  // namespace
}  // namespace accord::storage
