#include "storage/event_log.h"

#include <optional>

#include "absl/synchronization/notification.h"

namespace accord::storage {

absl::StatusOr<AppendResult> EventLog::Append(AppendBatch batch) {
  absl::Notification done;
  std::optional<absl::StatusOr<AppendResult>> result;
  AppendAsync(std::move(batch), [&](absl::StatusOr<AppendResult> r) {
    result.emplace(std::move(r));
    done.Notify();
  });
  done.WaitForNotification();
  return *std::move(result);
}

}  // namespace accord::storage
