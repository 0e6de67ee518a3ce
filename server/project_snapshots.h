// The bytes of a projection snapshot, all integers little-endian:
//   uint32 header: kProjectionVersion | 0x80000000
//   uint32 size of the state, the serialized ProjectState (deterministic serialization),
//   then the state's id tables (domain::BuildIdTables), up to the end.
// Snapshots written before the id tables have the header kProjectionVersion and the state
// up to the end; they are still read. A snapshot written by another projection version
// (apply functions changed meaning) is ignored, so it can never leak old semantics into a
// state.
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
// The parts of a snapshot's bytes (views into them): the serialized state and its id
// tables (domain::BuildIdTables; empty in snapshots written before them). nullopt for
// another projection version.
struct SnapshotParts {
  std::string_view state;
  std::string_view id_tables;
};
std::optional<SnapshotParts> SnapshotPartsOf(std::string_view bytes);

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECT_SNAPSHOTS_H_
