// Plain value types the event log speaks: an event proposed for append, an event as
// recorded, and the append request/result. They carry no protobuf or RocksDB types so any
// backend (RocksDB today, PostgreSQL later) and the server share them.
#ifndef ACCORD_STORAGE_EVENT_RECORD_H_
#define ACCORD_STORAGE_EVENT_RECORD_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace accord::storage {

using EventId = std::array<uint8_t, 16>;  // A UUID's 16 bytes.
using Sha256Digest = std::array<uint8_t, 32>;

// Seconds and nanoseconds since the Unix epoch, as google.protobuf.Timestamp.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Values match accord.v1.Visibility.
enum class Visibility : uint8_t { kInternal = 1, kClient = 2 };

struct Actor {
  std::string principal;
  std::string role;
};

// An event as the client proposes it, already validated and with its payload serialized.
struct ProposedRecord {
  EventId event_id{};
  std::string event_type;
  Timestamp occurred_at;
  bool occurred_at_set = false;  // False: the server chose occurred_at (= recorded_at).
  Visibility visibility = Visibility::kInternal;
  uint32_t schema_version = 1;
  std::string correlation_id;
  std::string causation_id;
  std::string payload;           // Serialized payload bytes, stored and hashed as they are.
  Sha256Digest payload_hash{};   // SHA-256(payload); computed by the caller, off the writer.
  // Optional, opaque to storage: the caller's already-parsed form of `payload`, for an
  // AppendGuard to use instead of parsing again. Borrowed: it must stay valid until the
  // append's callback has run.
  const void* decoded_payload = nullptr;
};

// An event as the log holds it.
struct EventRecord {
  std::string project_id;
  uint64_t version = 0;
  uint64_t position = 0;
  EventId event_id{};
  std::string event_type;
  Timestamp occurred_at;
  Timestamp recorded_at;
  Actor actor;
  Visibility visibility = Visibility::kInternal;
  uint32_t schema_version = 1;
  std::string correlation_id;
  std::string causation_id;
  std::string payload;
  Sha256Digest prev_hash{};
  Sha256Digest hash{};
};

// Optimistic concurrency check of an append.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // For kExact.

  static ExpectedVersion Any() { return {}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion StreamExists() { return {Kind::kStreamExists, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
};

struct AppendBatch {
  std::string project_id;
  ExpectedVersion expected;
  Actor actor;
  std::vector<ProposedRecord> events;
};

struct AppendResult {
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  uint64_t last_position = 0;
  bool already_written = false;  // An idempotent retry: nothing new was written.
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_EVENT_RECORD_H_
