#include "server/domain/upcasting.h"

#include "absl/strings/str_cat.h"
#include "server/domain/event_validation.h"

namespace accord::domain {

absl::Status Upcast(uint32_t schema_version, accord::v1::EventPayload* payload) {
  if (schema_version > kCurrentSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event of type ", EventTypeOf(*payload), " has schema version ", schema_version,
        "; this server reads up to ", kCurrentSchemaVersion, ": upgrade the server"));
  }
  // Version 1 is the first schema: there is nothing older to bring forward yet. Steps go
  // here, oldest first: if (schema_version < 2) { ...v1 -> v2... }
  return absl::OkStatus();
}

}  // namespace accord::domain
