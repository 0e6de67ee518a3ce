#include "server/project_snapshots.h"

#include "server/domain/lazy_project_state.h"
#include "server/domain/project_projection.h"

namespace accord::server {

namespace {

// The header's high bit: the state is followed by its id tables (see the header comment).
constexpr uint32_t kWithIdTables = 0x80000000u;

void AppendU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t LoadU32(std::string_view bytes) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  return v;
}

}  // namespace

std::string EncodeSnapshot(const accord::v1::ProjectState& state) {
  const std::string bytes = domain::DeterministicBytes(state);
  std::string out;
  AppendU32(kProjectionVersion | kWithIdTables, &out);
  AppendU32(static_cast<uint32_t>(bytes.size()), &out);
  out += bytes;
  out += domain::BuildIdTables(bytes);
  return out;
}

std::optional<SnapshotParts> SnapshotPartsOf(std::string_view bytes) {
  if (bytes.size() < 4) return std::nullopt;
  const uint32_t header = LoadU32(bytes);
  bytes.remove_prefix(4);
  if (header == kProjectionVersion) return SnapshotParts{bytes, {}};  // Written before tables.
  if (header != (kProjectionVersion | kWithIdTables) || bytes.size() < 4) return std::nullopt;
  const uint32_t state_size = LoadU32(bytes);
  bytes.remove_prefix(4);
  if (state_size > bytes.size()) return std::nullopt;
  return SnapshotParts{bytes.substr(0, state_size), bytes.substr(state_size)};
}

std::optional<accord::v1::ProjectState> DecodeSnapshot(std::string_view bytes) {
  const std::optional<SnapshotParts> parts = SnapshotPartsOf(bytes);
  accord::v1::ProjectState state;
  if (!parts.has_value() ||
      !state.ParseFromArray(parts->state.data(), static_cast<int>(parts->state.size()))) {
    return std::nullopt;
  }
  return state;
}

}  // namespace accord::server
