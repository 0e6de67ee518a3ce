// Translation between the accord.v1 API messages and the event log's value types, with
// the stateless checks of an append (ids, sizes, ranges, payload). Knows protobuf, not
// gRPC transport; errors are absl::Status naming the offending field.
#ifndef ACCORD_SERVER_EVENT_TRANSLATION_H_
#define ACCORD_SERVER_EVENT_TRANSLATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "accord/v1/event_store.pb.h"
#include "storage/event_record.h"

namespace accord::server {

inline constexpr size_t kMaxEventBytes = 1 << 20;         // One serialized ProposedEvent.
inline constexpr size_t kMaxRequestBytes = 16 << 20;      // One gRPC message.
inline constexpr size_t kMaxEventsPerAppend = 10000;
inline constexpr size_t kMaxActorBytes = 256;

// Checks `request` (INVALID_ARGUMENT naming the field and rule) and builds the batch the
// log appends, payloads serialized and hashed. The batch borrows the request's parsed
// payloads (ProposedRecord::decoded_payload): `request` must outlive the append.
absl::StatusOr<storage::AppendBatch> TranslateAppend(const accord::v1::AppendRequest& request,
                                                     storage::Actor actor);

// Checks an actor taken from request headers.
absl::Status ValidateActor(const storage::Actor& actor);

// INVALID_ARGUMENT unless `project_id` matches [A-Za-z0-9_-]{1,64}.
absl::Status ValidateProjectId(std::string_view project_id, std::string_view field);

// Fills everything of `out` but the payload from a stored record.
void ToRecordedEnvelope(const storage::EventRecord& record, accord::v1::RecordedEvent* out);

// Fills only the envelope fields a projection reads (domain::ApplyEvent: version, event id,
// type, recorded_at, the actor's principal, hash), for replays that apply events without
// handing them out. Cheaper than ToRecordedEnvelope on a reused message.
void ToApplyEnvelope(const storage::EventRecord& record, accord::v1::RecordedEvent* out);

// Fills `out` from a stored record, its payload upcast to the current schema
// (domain/upcasting.h). DATA_LOSS if the stored payload does not parse.
absl::Status ToRecordedEvent(const storage::EventRecord& record,
                             accord::v1::RecordedEvent* out);

// Only the payload: parsed from the record's stored bytes into `*out` (which may live on
// an arena) and upcast. DATA_LOSS if it does not parse.
absl::Status ParseStoredPayload(const storage::EventRecord& record,
                                accord::v1::EventPayload* out);

}  // namespace accord::server

#endif  // ACCORD_SERVER_EVENT_TRANSLATION_H_
