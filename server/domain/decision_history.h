// The decision history (audit trail) of a project: every decision in its log — scope
// sign-off, each approver's decision and the outcome it produced, change decisions,
// acceptances, closure, corrections — with who, when, why, what it answered, and where it
// sits in the hash chain (accord.v1.DecisionEntry in proto/accord/v1/projects.proto).
//
// Pure functions over protobuf messages; no gRPC, no storage. The log is never edited, so
// a decision that was later retracted or corrected stays in the history, marked
// `retracted`, next to the CORRECTION entry that undid it.
#ifndef ACCORD_SERVER_DOMAIN_DECISION_HISTORY_H_
#define ACCORD_SERVER_DOMAIN_DECISION_HISTORY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "accord/v1/common.pb.h"
#include "accord/v1/projects.pb.h"
#include "server/domain/project_projection.h"

namespace accord::domain {

// Every decision among a project's `events` (its whole stream, in version order), in log
// order. An approval_decided that determines its approval's outcome (by the approval's
// rule, as the projection computes it) is followed by an APPROVAL_OUTCOME entry for the
// same event.
std::vector<accord::v1::DecisionEntry> DecisionHistory(
    const std::vector<accord::v1::RecordedEvent>& events);

// The same over a stream that `read(visit)` delivers in version order, twice (the
// retractions and corrections first, then the entries), so memory is bounded by the
// decisions and the corrections, not the stream. Both calls must see the same events (a
// caller reading a live log bounds them at the version it started from). After each
// retraction or correction the state is taken from `state_at(version)`: the project's
// state after its first `version` events, as Replay gives it (a caller with snapshots reads
// it from them). A failed read is returned.
using EventStream = absl::FunctionRef<absl::Status(EventVisitor visit)>;
using StateAtVersion =
    absl::FunctionRef<absl::StatusOr<accord::v1::ProjectState>(uint64_t version)>;
absl::StatusOr<std::vector<accord::v1::DecisionEntry>> DecisionHistory(EventStream read,
                                                                       StateAtVersion state_at);

// The same, kept so that it can be carried forward: a reader of a live log (say, one paging
// through a long project's history) extends the history it built with the events appended
// since, instead of reading the whole stream again. Not thread-safe; movable only as a
// pointer.
class DecisionHistoryBuilder {
 public:
  // DecisionHistory(read, state_at), kept with what it needs to go on.
  static absl::StatusOr<std::unique_ptr<DecisionHistoryBuilder>> Build(EventStream read,
                                                                       StateAtVersion state_at);
  ~DecisionHistoryBuilder();
  DecisionHistoryBuilder(const DecisionHistoryBuilder&) = delete;
  DecisionHistoryBuilder& operator=(const DecisionHistoryBuilder&) = delete;

  // `read_after(visit)` delivers, twice, the events after version() in version order.
  // When none of them retracts or corrects an event, adds them and returns true, so the
  // entries are those of DecisionHistory over the longer stream. Otherwise adds nothing
  // and returns false: such an event can mark earlier entries retracted and change the
  // outcomes computed after the event it names, so the history must be built anew. A
  // failed read is returned (and the builder must not be used again).
  absl::StatusOr<bool> Extend(EventStream read_after);

  // The version of the last event read (0 when none).
  uint64_t version() const { return version_; }
  const std::vector<accord::v1::DecisionEntry>& entries() const;
  std::vector<accord::v1::DecisionEntry> TakeEntries() &&;

 private:
  struct Passes;
  DecisionHistoryBuilder();

  std::unique_ptr<Passes> passes_;
  uint64_t version_ = 0;
};

// True when `entry` passes the request's filters: kinds (empty: any), actor (the
// principal who appended it or who decided), recorded_at in [from_time, to_time), each
// only when set. Paging and project_id are the caller's business.
bool MatchesFilter(const accord::v1::DecisionEntry& entry,
                   const accord::v1::GetDecisionHistoryRequest& filter);

// INVALID_ARGUMENT naming the field when the request's filters cannot be applied: a kind
// that is unknown or unspecified, a time out of Timestamp's range, or to_time not after
// from_time. OK otherwise.
absl::Status ValidateFilter(const accord::v1::GetDecisionHistoryRequest& filter);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_DECISION_HISTORY_H_
