// Stateless checks of a domain event's payload: required fields, formats, ranges and
// lengths as the catalog's field options state them (proto/accord/v1/options.proto), plus
// the few cross-field rules options cannot express (date order, quorum size). Pure
// functions over protobuf messages; no gRPC, no storage. Rules that need the project's
// state (lifecycle, references, who may decide) belong to rules.h.
#ifndef ACCORD_SERVER_DOMAIN_EVENT_VALIDATION_H_
#define ACCORD_SERVER_DOMAIN_EVENT_VALIDATION_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "accord/v1/events.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace accord::domain {

// The schema version written for each event type today. Bump it (and add an upcaster)
// when an event's meaning or shape changes incompatibly.
inline constexpr uint32_t kCurrentSchemaVersion = 1;

// True for ids used as keys and bus subject tokens: [A-Za-z0-9_-]{1,64}.
bool IsValidId(std::string_view id);

// OK when `t` lies in google.protobuf.Timestamp's valid range (0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, nanos 0..999999999); otherwise INVALID_ARGUMENT
// "<field>: timestamp out of range (...), got seconds S nanos N". Every timestamp a client
// sends, in an event or a request, is checked with it.
absl::Status ValidateTimestamp(const google::protobuf::Timestamp& t, std::string_view field);

// Parses an ISO date "YYYY-MM-DD" into a sortable key yyyymmdd; nullopt if invalid.
std::optional<int> ParseDate(std::string_view date);

// The event type of a payload: the name of its oneof field ("status_updated"), or empty
// when none is set.
std::string EventTypeOf(const accord::v1::EventPayload& payload);

// INVALID_ARGUMENT naming the field (prefixed with `field_path`, e.g. "events[2].payload")
// and the rule broken; OK otherwise.
absl::Status ValidatePayload(const accord::v1::EventPayload& payload,
                             std::string_view field_path);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_EVENT_VALIDATION_H_
