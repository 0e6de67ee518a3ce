// The bytes of a projection snapshot: a header naming the projection version, then the
// serialized ProjectState. A snapshot written by another projection version (apply
// functions changed meaning) is ignored, so it can never leak old semantics into a state.
#ifndef ACCORD_SERVER_PROJECT_SNAPSHOTS_H_
#define ACCORD_SERVER_PROJECT_SNAPSHOTS_H_

#include <optional>
#include <string>
#include <string_view>

#include "accord/v1/projects.pb.h"

namespace accord::server {

// Bump when an apply function changes what a state holds for the same events.
inline constexpr uint32_t kProjectionVersion = 1;

std::string EncodeSnapshot(const accord::v1::ProjectState& state);

// nullopt for another projection version or unreadable bytes.
std::optional<accord::v1::ProjectState> DecodeSnapshot(std::string_view bytes);
// The same into `*out` (which may live on an arena); false, with `*out` unspecified, where
// DecodeSnapshot gives nullopt.
bool DecodeSnapshotInto(std::string_view bytes, accord::v1::ProjectState* out);
// The serialized ProjectState within a snapshot's bytes (a view into them), or nullopt
// for another projection version.
std::optional<std::string_view> SnapshotStateBytes(std::string_view bytes);

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECT_SNAPSHOTS_H_
