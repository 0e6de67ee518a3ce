#include "storage/storage_format.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "storage/crc32c.h"
#include "storage/event_hash.h"

namespace accord::storage {
namespace {

constexpr uint8_t kRecordFormat = 1;
constexpr uint8_t kEnvelopeLayout = 1;
constexpr uint8_t kChunkFormat = 1;
constexpr uint8_t kSnapshotFormat = 2;

void PutFixed16(std::string* dst, uint16_t v) {
  char buf[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(buf, 2);
}
void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 4);
}
void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 8);
}
void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * (7 - i)));
  dst->append(buf, 8);
}
uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}
void PutString(std::string* dst, std::string_view s) {
  PutFixed16(dst, static_cast<uint16_t>(s.size()));
  dst->append(s);
}
void PutTimestamp(std::string* dst, const Timestamp& t) {
  PutFixed64(dst, static_cast<uint64_t>(t.seconds));
  PutFixed32(dst, static_cast<uint32_t>(t.nanos));
}

// Reads fixed-width fields off the front of a byte range; any overrun marks it failed.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool empty() const { return in_.empty(); }

  std::string_view Bytes(size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  uint64_t Fixed(size_t width) {
    std::string_view b = Bytes(width);
    uint64_t v = 0;
    for (size_t i = 0; i < b.size(); ++i) v |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint32_t Fixed32() { return static_cast<uint32_t>(Fixed(4)); }
  uint64_t Fixed64() { return Fixed(8); }
  std::string_view String() { return Bytes(Fixed(2)); }
  template <size_t N>
  void Array(std::array<uint8_t, N>* out) {
    std::string_view b = Bytes(N);
    if (ok_) std::memcpy(out->data(), b.data(), N);
  }
  Timestamp Time() {
    Timestamp t;
    t.seconds = static_cast<int64_t>(Fixed64());
    t.nanos = static_cast<int32_t>(Fixed32());
    return t;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string LogKey(uint64_t position) {
  std::string key;
  PutBigEndian64(&key, position);
  return key;
}

absl::StatusOr<uint64_t> DecodeLogKey(std::string_view key) {
  if (key.size() != 8) return absl::DataLossError("malformed log key");
  return GetBigEndian64(key.data());
}

std::string StreamKeyPrefix(std::string_view project_id) {
  std::string key;
  key.reserve(project_id.size() + 1);
  key.append(project_id);
  key.push_back('\0');
  return key;
}

void StreamKeyTo(std::string_view project_id, uint64_t first_version, std::string* out) {
  out->clear();
  out->reserve(project_id.size() + 9);
  out->append(project_id);
  out->push_back('\0');
  PutBigEndian64(out, first_version);
}

std::string StreamKey(std::string_view project_id, uint64_t first_version) {
  std::string key;
  StreamKeyTo(project_id, first_version, &key);
  return key;
}

absl::StatusOr<uint64_t> DecodeStreamKeyVersion(std::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != '\0') {
    return absl::DataLossError("malformed stream key");
  }
  return GetBigEndian64(key.data() + key.size() - 8);
}

namespace {

size_t EnvelopeSizeBound(const EventRecord& e) {
  return 128 + e.project_id.size() + e.event_type.size() + e.actor.principal.size() +
         e.actor.role.size() + e.correlation_id.size() + e.causation_id.size();
}

void AppendEnvelope(const EventRecord& e, std::string* out) {
  out->push_back(static_cast<char>(kEnvelopeLayout));
  PutString(out, e.project_id);
  PutFixed64(out, e.version);
  PutFixed64(out, e.position);
  out->append(reinterpret_cast<const char*>(e.event_id.data()), e.event_id.size());
  PutString(out, e.event_type);
  PutTimestamp(out, e.occurred_at);
  PutTimestamp(out, e.recorded_at);
  PutString(out, e.actor.principal);
  PutString(out, e.actor.role);
  out->push_back(static_cast<char>(e.visibility));
  PutFixed32(out, e.schema_version);
  PutString(out, e.correlation_id);
  PutString(out, e.causation_id);
}

}  // namespace

Sha256Digest AppendRecord(const EventRecord& event, std::string_view payload,
                          const Sha256Digest& payload_hash, const Sha256Digest& prev_hash,
                          std::string* out) {
  const size_t needed = out->size() + 1 + 4 + EnvelopeSizeBound(event) + 4 + payload.size() + 64;
  // Geometric growth: reserving exactly what each record needs would copy the buffer for
  // every record appended to it.
  if (needed > out->capacity()) out->reserve(std::max(needed, 2 * out->capacity()));
  out->push_back(static_cast<char>(kRecordFormat));
  const size_t length_at = out->size();
  PutFixed32(out, 0);  // The envelope's length, known once it is written.
  AppendEnvelope(event, out);
  const size_t envelope_size = out->size() - length_at - 4;
  const uint32_t length = static_cast<uint32_t>(envelope_size);
  for (int i = 0; i < 4; ++i) (*out)[length_at + i] = static_cast<char>(length >> (8 * i));
  const Sha256Digest hash =
      ChainHash(std::string_view(*out).substr(length_at + 4, envelope_size), prev_hash,
                payload_hash);
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  out->append(payload);
  out->append(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
  out->append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return hash;
}

absl::Status DecodeRecord(std::string_view record, bool verify_hash, EventRecord* out) {
  Reader r(record);
  if (r.U8() != kRecordFormat || !r.ok()) {
    return absl::DataLossError("event record has an unknown format byte");
  }
  const std::string_view envelope = r.Bytes(r.Fixed32());
  const std::string_view payload = r.Bytes(r.Fixed32());
  r.Array(&out->prev_hash);
  r.Array(&out->hash);
  if (!r.ok() || !r.empty()) return absl::DataLossError("event record is truncated or padded");

  Reader env(envelope);
  if (env.U8() != kEnvelopeLayout) {
    return absl::DataLossError("event envelope has an unknown layout byte");
  }
  out->project_id = env.String();
  out->version = env.Fixed64();
  out->position = env.Fixed64();
  env.Array(&out->event_id);
  out->event_type = env.String();
  out->occurred_at = env.Time();
  out->recorded_at = env.Time();
  out->actor.principal = env.String();
  out->actor.role = env.String();
  out->visibility = static_cast<Visibility>(env.U8());
  out->schema_version = env.Fixed32();
  out->correlation_id = env.String();
  out->causation_id = env.String();
  if (!env.ok() || !env.empty()) return absl::DataLossError("event envelope is malformed");
  out->payload.assign(payload);

  if (verify_hash && ChainHash(envelope, out->prev_hash, Sha256(payload)) != out->hash) {
    return absl::DataLossError(absl::StrCat("hash mismatch at position ", out->position,
                                            " (project ", out->project_id, " version ",
                                            out->version, ")"));
  }
  return absl::OkStatus();
}

void EncodeStreamChunkTo(uint64_t first_position, const std::vector<EventId>& ids,
                         std::string* out) {
  out->clear();
  out->reserve(13 + ids.size() * 16);
  out->push_back(static_cast<char>(kChunkFormat));
  PutFixed64(out, first_position);
  PutFixed32(out, static_cast<uint32_t>(ids.size()));
  for (const EventId& id : ids) out->append(reinterpret_cast<const char*>(id.data()), id.size());
}

std::string EncodeStreamChunk(uint64_t first_position, const std::vector<EventId>& ids) {
  std::string out;
  EncodeStreamChunkTo(first_position, ids, &out);
  return out;
}

absl::StatusOr<StreamChunk> DecodeStreamChunk(std::string_view value) {
  Reader r(value);
  StreamChunk chunk;
  if (r.U8() != kChunkFormat) return absl::DataLossError("stream chunk has an unknown format");
  chunk.first_position = r.Fixed64();
  const uint32_t count = r.Fixed32();
  if (!r.ok() || value.size() != 13 + size_t{count} * 16) {
    return absl::DataLossError("stream chunk is malformed");
  }
  chunk.event_ids.resize(count);
  for (EventId& id : chunk.event_ids) r.Array(&id);
  return chunk;
}

namespace {

uint32_t SnapshotChecksum(std::string_view key, std::string_view bytes) {
  return Crc32c(Crc32c(0, key), bytes);
}

}  // namespace

std::string EncodeSnapshotValue(std::string_view key, std::string_view bytes) {
  std::string value(1, static_cast<char>(kSnapshotFormat));
  PutFixed32(&value, SnapshotChecksum(key, bytes));
  value.append(bytes);
  return value;
}

std::optional<SnapshotValue> DecodeSnapshotValue(std::string_view value) {
  Reader r(value);
  if (r.U8() != kSnapshotFormat) return std::nullopt;
  SnapshotValue decoded;
  decoded.checksum = r.Fixed32();
  if (!r.ok()) return std::nullopt;
  decoded.bytes = value.substr(5);
  return decoded;
}

bool SnapshotValue::ChecksumMatches(std::string_view key) const {
  return SnapshotChecksum(key, bytes) == checksum;
}

}  // namespace accord::storage
