// The on-disk layout of the RocksDB event log, in one place. docs/storage-format.md says
// the same in prose; change both together and bump kStorageFormatVersion when a byte moves.
//
// Column families
//   "default"  meta:    "format_version" -> fixed32 kStorageFormatVersion
//   "log"      events:  LogKey(position) -> event record (below); one key per event,
//                       sequential, so appends write at the end of the key space
//   "streams"  index:   StreamKey(project_id, first_version) -> stream chunk (below); one
//                       key per append, not per event
//   "snapshots" cache:  StreamKey(project_id, version) -> u8 format (= 2), fixed32
//                       CRC-32C of key and bytes, opaque bytes (format 1 had no checksum
//                       and is ignored now)
//                       (a projection state; never a source of truth)
//
// Keys
//   LogKey(position)          = big-endian fixed64 position (byte order = numeric order)
//   StreamKey(project, first) = project_id bytes, 0x00, big-endian fixed64 first_version
//   Project ids match [A-Za-z0-9_-]{1,64}, so 0x00 cannot occur in them and one project's
//   keys never interleave with another's.
//
// Integers inside values are little-endian fixed width. Strings are a fixed16 length
// followed by the bytes.
//
// Event record (value in "log"):
//   u8      record format (= 1)
//   fixed32 envelope length E, then E envelope bytes (layout below)
//   fixed32 payload length P, then P payload bytes (serialized accord.v1.EventPayload)
//   32      prev_hash
//   32      hash = SHA-256(envelope || prev_hash || SHA-256(payload))
//
// Envelope (hashed exactly as stored; never re-serialized to verify):
//   u8      envelope layout (= 1)
//   str     project_id
//   fixed64 version
//   fixed64 position
//   16      event_id (UUID bytes)
//   str     event_type
//   fixed64 occurred_at seconds (two's complement), fixed32 occurred_at nanos
//   fixed64 recorded_at seconds, fixed32 recorded_at nanos
//   str     actor principal
//   str     actor role
//   u8      visibility (1 internal, 2 client)
//   fixed32 schema_version
//   str     correlation_id
//   str     causation_id
//
// Stream chunk (value in "streams"): the events of one append to one project, which hold
// consecutive versions and consecutive positions.
//   u8      chunk format (= 1)
//   fixed64 first_position
//   fixed32 count N
//   N x 16  event ids, in version order (the idempotency index, loaded per project)
#ifndef ACCORD_STORAGE_STORAGE_FORMAT_H_
#define ACCORD_STORAGE_STORAGE_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/event_record.h"

namespace accord::storage {

inline constexpr uint32_t kStorageFormatVersion = 1;
inline constexpr char kFormatVersionKey[] = "format_version";
inline constexpr char kLogColumnFamily[] = "log";
inline constexpr char kStreamsColumnFamily[] = "streams";
inline constexpr char kSnapshotsColumnFamily[] = "snapshots";

std::string LogKey(uint64_t position);
absl::StatusOr<uint64_t> DecodeLogKey(std::string_view key);

std::string StreamKey(std::string_view project_id, uint64_t first_version);
// The same key written into *out, replacing its contents: a caller that keeps the string
// between keys allocates nothing once it has grown.
void StreamKeyTo(std::string_view project_id, uint64_t first_version, std::string* out);
std::string StreamKeyPrefix(std::string_view project_id);  // project_id + 0x00
absl::StatusOr<uint64_t> DecodeStreamKeyVersion(std::string_view key);

// Appends to `out` the record of `event` (the layout above) — its envelope, `payload`, and
// `prev_hash` as the previous hash — and returns the event's chain hash, SHA-256(envelope
// || prev_hash || `payload_hash`), which it also stores in the record. The envelope is
// written and hashed in place, so many records can share one buffer with no allocation per
// record (the log's writer encodes a group's records this way). `event`'s own prev_hash
// and hash are not read.
Sha256Digest AppendRecord(const EventRecord& event, std::string_view payload,
                          const Sha256Digest& payload_hash, const Sha256Digest& prev_hash,
                          std::string* out);

// Decodes a record. With `verify_hash`, recomputes the hash from the stored bytes and
// returns DATA_LOSS on a mismatch. A malformed record is DATA_LOSS too.
absl::Status DecodeRecord(std::string_view record, bool verify_hash, EventRecord* out);

struct StreamChunk {
  uint64_t first_position = 0;
  std::vector<EventId> event_ids;
};
std::string EncodeStreamChunk(uint64_t first_position, const std::vector<EventId>& ids);
// The same value written into *out, replacing its contents (as StreamKeyTo).
void EncodeStreamChunkTo(uint64_t first_position, const std::vector<EventId>& ids,
                         std::string* out);
absl::StatusOr<StreamChunk> DecodeStreamChunk(std::string_view value);

// Snapshot value (in "snapshots", keyed by StreamKey): the snapshot's bytes behind a format
// byte and a CRC-32C of key and bytes (crc32c.h).
std::string EncodeSnapshotValue(std::string_view key, std::string_view bytes);
struct SnapshotValue {
  std::string_view bytes;  // Into the value decoded.
  uint32_t checksum = 0;   // As stored.
  // Whether `checksum` matches `key` and `bytes` (a pass over the bytes).
  bool ChecksumMatches(std::string_view key) const;
};
// nullopt for another format (format 1, before the checksum, included).
std::optional<SnapshotValue> DecodeSnapshotValue(std::string_view value);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_STORAGE_FORMAT_H_
