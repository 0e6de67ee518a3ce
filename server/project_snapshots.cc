#include "server/project_snapshots.h"

#include "server/domain/project_projection.h"

namespace accord::server {

std::string EncodeSnapshot(const accord::v1::ProjectState& state) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(kProjectionVersion >> (8 * i));
  out += domain::DeterministicBytes(state);
  return out;
}

bool DecodeSnapshotInto(std::string_view bytes, accord::v1::ProjectState* out) {
  if (bytes.size() < 4) return false;
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  if (version != kProjectionVersion) return false;
  return out->ParseFromArray(bytes.data() + 4, static_cast<int>(bytes.size() - 4));
}

std::optional<accord::v1::ProjectState> DecodeSnapshot(std::string_view bytes) {
  accord::v1::ProjectState state;
  if (!DecodeSnapshotInto(bytes, &state)) return std::nullopt;
  return state;
}

}  // namespace accord::server
