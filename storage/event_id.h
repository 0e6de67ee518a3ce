// Event ids are UUIDs chosen by clients. They are stored as 16 bytes and shown in the
// canonical lower-case 8-4-4-4-12 form.
#ifndef ACCORD_STORAGE_EVENT_ID_H_
#define ACCORD_STORAGE_EVENT_ID_H_

#include <optional>
#include <string>
#include <string_view>

#include "storage/event_record.h"

namespace accord::storage {

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits of either case).
// Returns nullopt for anything else.
std::optional<EventId> ParseEventId(std::string_view text);

// Canonical lower-case form.
std::string FormatEventId(const EventId& id);
// The same into `*out`, reusing its buffer (no allocation when it has room for 36 chars).
void FormatEventIdTo(const EventId& id, std::string* out);

// Hash for EventId keys: UUIDs are random, so their first 8 bytes hash well as they are.
struct EventIdHash {
  size_t operator()(const EventId& id) const;
};

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_EVENT_ID_H_
