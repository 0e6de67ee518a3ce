#include "server/event_translation.h"

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/domain/event_validation.h"
#include "server/domain/upcasting.h"
#include "storage/event_hash.h"
#include "storage/event_id.h"

namespace accord::server {
namespace {

using accord::v1::AppendRequest;
using accord::v1::ExpectedVersion;
using accord::v1::ProposedEvent;

constexpr size_t kMaxMetadataBytes = 128;
// Up to this many events an append's ids are compared pairwise (at most 120 comparisons of
// 16 bytes).
constexpr size_t kLinearIdCheckMax = 16;

std::string Field(size_t i, std::string_view name) {
  return absl::StrCat("events[", i, "].", std::string(name));
}

absl::Status TranslateEvent(const ProposedEvent& in, size_t i, storage::ProposedRecord* out) {
  const size_t size = in.ByteSizeLong();
  if (size > kMaxEventBytes) {
    return absl::InvalidArgumentError(absl::StrCat("events[", i, "]: event is ", size,
                                                   " bytes serialized, over the 1 MiB limit"));
  }
  auto id = storage::ParseEventId(in.event_id());
  if (!id) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(i, "event_id"), ": must be a UUID like "
                     "0f8fad5b-d9cb-469f-a165-70867728950e, got \"",
                     in.event_id().substr(0, 80), "\""));
  }
  out->event_id = *id;
  if (in.has_occurred_at()) {
    const auto& t = in.occurred_at();
    if (absl::Status s = domain::ValidateTimestamp(t, Field(i, "occurred_at")); !s.ok()) return s;
    out->occurred_at = {t.seconds(), t.nanos()};
    out->occurred_at_set = true;
  }
  switch (in.visibility()) {
    case accord::v1::VISIBILITY_UNSPECIFIED:
    case accord::v1::VISIBILITY_INTERNAL:
      out->visibility = storage::Visibility::kInternal;
      break;
    case accord::v1::VISIBILITY_CLIENT:
      out->visibility = storage::Visibility::kClient;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          Field(i, "visibility"), ": unknown value ", static_cast<int>(in.visibility())));
  }
  if (in.metadata().correlation_id().size() > kMaxMetadataBytes ||
      in.metadata().causation_id().size() > kMaxMetadataBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Field(i, "metadata"), ": correlation_id and causation_id are at most 128 bytes"));
  }
  out->correlation_id = in.metadata().correlation_id();
  out->causation_id = in.metadata().causation_id();
  if (!in.has_payload()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(i, "payload"), ": is required (one typed domain event)"));
  }
  // Its errors begin with the path given, which gets the event's index only on an error
  // (the string would be built for every event otherwise).
  if (absl::Status s = domain::ValidatePayload(in.payload(), "payload"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("events[", i, "].", s.message()));
  }
  out->event_type = domain::EventTypeOf(in.payload());
  out->schema_version = domain::kCurrentSchemaVersion;
  if (!in.payload().SerializeToString(&out->payload)) {
    return absl::InvalidArgumentError(absl::StrCat(Field(i, "payload"), ": does not serialize"));
  }
  out->payload_hash = storage::Sha256(out->payload);
  // The request outlives the append (the RPC finishes from the append's callback), so the
  // rules guard may read the parsed payload from it rather than parse the bytes again.
  out->decoded_payload = &in.payload();
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateProjectId(std::string_view project_id, std::string_view field) {
  if (domain::IsValidId(project_id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": must match [A-Za-z0-9_-]{1,64}, got \"",
                   std::string(project_id.substr(0, 80)), "\""));
}

absl::Status ValidateActor(const storage::Actor& actor) {
  for (const std::string* s : {&actor.principal, &actor.role}) {
    if (s->size() > kMaxActorBytes) {
      return absl::InvalidArgumentError(
          "x-accord-actor / x-accord-role: at most 256 bytes each");
    }
    for (unsigned char c : *s) {
      if (c < 0x20 || c == 0x7f) {
        return absl::InvalidArgumentError(
            "x-accord-actor / x-accord-role: control characters are not allowed");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::AppendBatch> TranslateAppend(const AppendRequest& request,
                                                     storage::Actor actor) {
  if (absl::Status s = ValidateProjectId(request.project_id(), "project_id"); !s.ok()) return s;
  if (absl::Status s = ValidateActor(actor); !s.ok()) return s;
  if (request.events().empty()) {
    return absl::InvalidArgumentError("events: at least one event is required");
  }
  if (static_cast<size_t>(request.events_size()) > kMaxEventsPerAppend) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events: ", request.events_size(), " events, over the limit of ", kMaxEventsPerAppend,
        " per append"));
  }
  storage::AppendBatch batch;
  batch.project_id = request.project_id();
  batch.actor = std::move(actor);
  const ExpectedVersion& ev = request.expected_version();
  switch (ev.expected_case()) {
    case ExpectedVersion::kNoStream: batch.expected = storage::ExpectedVersion::NoStream(); break;
    case ExpectedVersion::kStreamExists:
      batch.expected = storage::ExpectedVersion::StreamExists();
      break;
    case ExpectedVersion::kExact: batch.expected = storage::ExpectedVersion::Exact(ev.exact()); break;
    case ExpectedVersion::kAny:
    case ExpectedVersion::EXPECTED_NOT_SET: batch.expected = storage::ExpectedVersion::Any(); break;
  }
  const size_t n = static_cast<size_t>(request.events_size());
  batch.events.resize(n);
  // Each event is checked whole, its id against the earlier ones included, before the
  // next: by a plain scan for a few events (no map to allocate), a hash map for more.
  absl::flat_hash_map<storage::EventId, size_t, storage::EventIdHash> first_index;
  if (n > kLinearIdCheckMax) first_index.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = TranslateEvent(request.events(i), i, &batch.events[i]); !s.ok()) return s;
    const storage::EventId& id = batch.events[i].event_id;
    std::optional<size_t> first;
    if (n <= kLinearIdCheckMax) {
      for (size_t j = 0; j < i && !first; ++j) {
        if (batch.events[j].event_id == id) first = j;
      }
    } else if (auto [it, inserted] = first_index.try_emplace(id, i); !inserted) {
      first = it->second;
    }
    if (first) {
      return absl::InvalidArgumentError(absl::StrCat(
          Field(i, "event_id"), ": repeats events[", *first, "].event_id; ids are unique"));
    }
  }
  return batch;
}

void ToApplyEnvelope(const storage::EventRecord& r, accord::v1::RecordedEvent* out) {
  out->set_version(r.version);
  storage::FormatEventIdTo(r.event_id, out->mutable_event_id());
  out->set_event_type(r.event_type);
  out->mutable_recorded_at()->set_seconds(r.recorded_at.seconds);
  out->mutable_recorded_at()->set_nanos(r.recorded_at.nanos);
  out->mutable_actor()->set_principal(r.actor.principal);
  // assign() reuses the field's buffer; set_hash(ptr, size) would build a new string.
  out->mutable_hash()->assign(reinterpret_cast<const char*>(r.hash.data()), r.hash.size());
}

void ToRecordedEnvelope(const storage::EventRecord& r, accord::v1::RecordedEvent* out) {
  ToApplyEnvelope(r, out);  // And the fields a projection does not read:
  out->set_project_id(r.project_id);
  out->set_position(r.position);
  out->mutable_occurred_at()->set_seconds(r.occurred_at.seconds);
  out->mutable_occurred_at()->set_nanos(r.occurred_at.nanos);
  out->mutable_actor()->set_role(r.actor.role);
  out->set_visibility(static_cast<accord::v1::Visibility>(r.visibility));
  if (!r.correlation_id.empty() || !r.causation_id.empty()) {
    out->mutable_metadata()->set_correlation_id(r.correlation_id);
    out->mutable_metadata()->set_causation_id(r.causation_id);
  }
  out->mutable_prev_hash()->assign(reinterpret_cast<const char*>(r.prev_hash.data()),
                                   r.prev_hash.size());
  out->set_schema_version(r.schema_version);
}

absl::Status ParseStoredPayload(const storage::EventRecord& r, accord::v1::EventPayload* out) {
  if (!out->ParseFromString(r.payload)) {
    return absl::DataLossError(absl::StrCat("payload at position ", r.position,
                                            " does not parse"));
  }
  // Readers see every event in the current schema; the stored bytes stay as written.
  return domain::Upcast(r.schema_version, out);
}

absl::Status ToRecordedEvent(const storage::EventRecord& r, accord::v1::RecordedEvent* out) {
  ToRecordedEnvelope(r, out);
  return ParseStoredPayload(r, out->mutable_payload());
}

}  // namespace accord::server
