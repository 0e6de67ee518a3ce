// Seeds a realistic sample client project through the public API, walking the practices
// of ../shared/domain.md (charter sign-off, plan, status, a risk that occurs, a change
// approved by two approvers, a client action chased and escalated, acceptance,
// satisfaction), and a second, closed project with lessons. Used by `accord demo` and
// `make run` on an empty data directory.
#ifndef ACCORD_CLIENT_DEMO_H_
#define ACCORD_CLIENT_DEMO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace accord::client {

// Appends the sample projects `prefix` and `prefix`-closed to the server at `target`, with
// dates relative to `today`. FAILED_PRECONDITION/ABORTED if they already exist.
absl::Status SeedDemo(const std::string& target, const std::string& prefix, absl::Time today);

}  // namespace accord::client

#endif  // ACCORD_CLIENT_DEMO_H_
