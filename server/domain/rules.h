// The rules a project's state imposes on the next event (../shared/domain.md, "Rules the
// server enforces"): lifecycles (change, approval, deliverable, client action, project),
// who may decide an approval, references to things that must exist, closed projects.
//
// Pure functions over the projected ProjectState (project_projection.h) and the proposed
// payload; no gRPC, no storage. Stateless checks (formats, ranges) happen before, in
// event_validation.h. A broken rule is FAILED_PRECONDITION whose message names the rule
// (e.g. "rule change.approve_after_request") and the ids involved.
#ifndef ACCORD_SERVER_DOMAIN_RULES_H_
#define ACCORD_SERVER_DOMAIN_RULES_H_

#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "accord/v1/events.pb.h"
#include "accord/v1/projects.pb.h"
#include "server/domain/project_projection.h"

namespace accord::domain {

struct RuleContext {
  // The principal appending (the actor recorded on the event).
  std::string actor;
  // Field path for messages: `path`, and `[index]` after it when index >= 0 (e.g.
  // "events" and 2 give "events[2]"; kept apart so a passing check formats nothing).
  std::string path;
  int index = -1;
  // The event type of an earlier event of this project by id, or nullopt when the project
  // has no such event (for retractions and corrections). Borrowed (the caller's callable
  // must outlive the check) and so never allocated: it is set once per append.
  using EventTypeOf = absl::FunctionRef<std::optional<std::string>(const std::string& event_id)>;
  std::optional<EventTypeOf> event_type_of;
  // The index kept with the state (project_projection.h), when the caller keeps one:
  // lookups go through it instead of scanning the state's lists.
  ProjectIndex* project_index = nullptr;
};

// OK when `event` may follow `state`; FAILED_PRECONDITION otherwise.
absl::Status CheckRules(const accord::v1::ProjectState& state,
                        const accord::v1::EventPayload& event, const RuleContext& context);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_RULES_H_
