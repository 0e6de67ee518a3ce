#include "server/project_reader.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/event_translation.h"

namespace accord::server {

absl::StatusOr<std::vector<accord::v1::RecordedEvent>> ReadProjectEvents(
    storage::EventLog& log, const std::string& project_id, const domain::ReplayOptions& options) {
  std::vector<accord::v1::RecordedEvent> events;
  std::vector<storage::EventRecord> page;
  storage::ReadLimits limits;
  limits.max_count = 1024;
  uint64_t next = 1;
  for (;;) {
    if (options.up_to_version != 0 && next > options.up_to_version) break;
    absl::Status s =
        log.ReadStream(project_id, next, storage::ReadDirection::kForwards, limits, &page);
    if (!s.ok()) return s;
    if (page.empty()) break;
    bool past_time = false;
    for (const storage::EventRecord& r : page) {
      if (options.up_to_version != 0 && r.version > options.up_to_version) break;
      // recorded_at never decreases along the log, so the first later event ends it.
      if (options.recorded_up_to.has_value() &&
          absl::FromUnixSeconds(r.recorded_at.seconds) + absl::Nanoseconds(r.recorded_at.nanos) >
              *options.recorded_up_to) {
        past_time = true;
        break;
      }
      if (absl::Status c = ToRecordedEvent(r, &events.emplace_back()); !c.ok()) return c;
    }
    if (past_time) break;
    next = page.back().version + 1;
  }
  return events;
}

absl::StatusOr<accord::v1::ProjectState> ReadProjectState(storage::EventLog& log,
                                                          const std::string& project_id,
                                                          const domain::ReplayOptions& options) {
  auto events = ReadProjectEvents(log, project_id, options);
  if (!events.ok()) return events.status();
  if (options.up_to_version != 0 && events->size() < options.up_to_version) {
    return absl::OutOfRangeError(absl::StrCat("as_of_version ", options.up_to_version,
                                              " is beyond project ", project_id,
                                              "'s current version ", events->size()));
  }
  accord::v1::ProjectState state = domain::Replay(*events, options);
  state.set_project_id(project_id);
  return state;
}

}  // namespace accord::server
