#include "server/project_snapshots.h"

#include "server/domain/project_projection.h"

namespace accord::server {

std::string EncodeSnapshot(const accord::v1::ProjectState& state) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(kProjectionVersion >> (8 * i));
  out += domain::DeterministicBytes(state);
  return out;
}

std::optional<std::string_view> SnapshotStateBytes(std::string_view bytes) {
  if (bytes.size() < 4) return std::nullopt;
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  if (version != kProjectionVersion) return std::nullopt;
  return bytes.substr(4);
}

bool DecodeSnapshotInto(std::string_view bytes, accord::v1::ProjectState* out) {
  const std::optional<std::string_view> state = SnapshotStateBytes(bytes);
  return state.has_value() && out->ParseFromArray(state->data(), static_cast<int>(state->size()));
}

std::optional<accord::v1::ProjectState> DecodeSnapshot(std::string_view bytes) {
  accord::v1::ProjectState state;
  if (!DecodeSnapshotInto(bytes, &state)) return std::nullopt;
  return state;
}

}  // namespace accord::server
