// Upcasting: the one place where events recorded under an older schema version are
// brought to the current shape before anything reads them, so the catalog can change
// without rewriting the log (the log is never edited).
//
// To change an event incompatibly: bump kCurrentSchemaVersion (event_validation.h), add a
// step here that turns version N-1 payloads of that type into version N, and a test that
// feeds a stored old payload through it.
#ifndef ACCORD_SERVER_DOMAIN_UPCASTING_H_
#define ACCORD_SERVER_DOMAIN_UPCASTING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "accord/v1/events.pb.h"

namespace accord::domain {

// Rewrites `payload`, recorded under `schema_version`, into the current schema.
// FAILED_PRECONDITION for a version newer than this build knows (the log was written by
// a newer server).
absl::Status Upcast(uint32_t schema_version, accord::v1::EventPayload* payload);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_UPCASTING_H_
