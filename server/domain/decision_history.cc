// Decision history: one pass over the log, keeping the project's state up to date with the
// projection (project_projection.h) so each decision can be linked to the request it
// answered and an approval's outcome is seen the moment a decision determines it.
#include "server/domain/decision_history.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/domain/event_validation.h"
#include "server/domain/project_projection.h"

namespace accord::domain {
namespace {

namespace v1 = accord::v1;

// An earlier event of the log, as a decision refers to it.
struct LoggedEvent {
  uint64_t version = 0;
  std::string event_id;
  std::string event_type;
};

// Which events a later retraction or correction undid, learnt in a first pass over the
// stream that keeps only the retractions and corrections. Settled newest first, as Replay
// does, so a retraction or correction that was itself retracted undoes nothing. Whether an
// ordinary event was undone needs its version, which the second pass brings (IsUndone).
class UndoneEvents {
 public:
  // First pass: every event, in version order.
  void Note(const v1::RecordedEvent& event) {
    const std::string* target_id = CorrectionTarget(event.payload());
    if (target_id == nullptr) return;
    version_of_correction_.emplace(event.event_id(), event.version());
    corrections_.push_back(
        {event.version(), *target_id, event.payload().has_event_retracted()});
    targets_.insert(*target_id);
  }

  // After the first pass.
  void Settle() {
    absl::flat_hash_set<uint64_t> retracted;  // Corrections that no longer count at all.
    for (size_t k = corrections_.size(); k-- > 0;) {
      const Correction& c = corrections_[k];
      if (retracted.contains(c.version)) continue;
      const auto it = version_of_correction_.find(c.target_id);
      if (it == version_of_correction_.end()) {
        // An ordinary event (or none): undone if it comes before the latest that counts.
        uint64_t& latest = latest_undoer_[c.target_id];
        latest = std::max(latest, c.version);
        continue;
      }
      if (it->second >= c.version) continue;  // Names no earlier event.
      undone_corrections_.insert(it->second);
      if (c.retraction) retracted.insert(it->second);
    }
  }

  bool IsUndone(const v1::RecordedEvent& event) const {
    if (version_of_correction_.contains(event.event_id())) {
      return undone_corrections_.contains(event.version());
    }
    const auto it = latest_undoer_.find(event.event_id());
    return it != latest_undoer_.end() && it->second > event.version();
  }
  // Whether a retraction or correction names the event with this id.
  bool IsTarget(const std::string& event_id) const { return targets_.contains(event_id); }

 private:
  struct Correction {
    uint64_t version;
    std::string target_id;
    bool retraction;
  };
  std::vector<Correction> corrections_;  // In version order.
  absl::flat_hash_map<std::string, uint64_t> version_of_correction_;  // By event id.
  absl::flat_hash_set<std::string> targets_;
  absl::flat_hash_set<uint64_t> undone_corrections_;  // Versions.
  // Ordinary events' ids -> the latest retraction or correction naming them that counts.
  absl::flat_hash_map<std::string, uint64_t> latest_undoer_;
};

// "APPROVE" for DECISION_APPROVE: an enum value's name without its type's prefix.
std::string ShortName(const std::string& full_name, absl::string_view prefix) {
  absl::string_view name = full_name;
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  return std::string(name);
}

std::string SubjectWord(v1::ApprovalSubject subject) {
  switch (subject) {
    case v1::APPROVAL_SUBJECT_CHARTER: return "charter";
    case v1::APPROVAL_SUBJECT_SCOPE: return "scope";
    case v1::APPROVAL_SUBJECT_CHANGE: return "change";
    case v1::APPROVAL_SUBJECT_DELIVERABLE: return "deliverable";
    case v1::APPROVAL_SUBJECT_BUDGET: return "budget";
    case v1::APPROVAL_SUBJECT_MILESTONE: return "milestone";
    default: return "";
  }
}

// "approval A1 (change CR-1)", or less when the approval or its subject is unknown.
std::string ApprovalSubjectText(const std::string& approval_id, const v1::Approval* approval) {
  std::string text = absl::StrCat("approval ", approval_id);
  if (approval == nullptr) return text;
  const std::string word = SubjectWord(approval->subject());
  if (word.empty()) return text;
  if (approval->subject_id().empty()) return absl::StrCat(text, " (", word, ")");
  return absl::StrCat(text, " (", word, " ", approval->subject_id(), ")");
}

// `who`, or the principal who appended `event` when the payload named nobody.
const std::string& OrActor(const std::string& who, const v1::RecordedEvent& event) {
  return who.empty() ? event.actor().principal() : who;
}

// Builds the history event by event (the second pass). The state is the projection of the
// events seen so far, rebuilt from the stream up to a retraction or correction when one
// comes (as the append rules see it), so outcomes are computed from the decisions that
// still counted at the time.
class HistoryBuilder {
 public:
  explicit HistoryBuilder(const UndoneEvents* undone) : undone_(*undone) {}

  // The entries of `event`, then its effect on the state. An approver's decision that
  // moves its approval's outcome away from "open" is followed by an outcome entry.
  // `state_at` is called only when `event` retracts or corrects another.
  absl::Status Add(const v1::RecordedEvent& event, StateAtVersion state_at) {
    current_ = &event;
    const v1::ApprovalDecided* decided =
        event.payload().has_approval_decided() ? &event.payload().approval_decided() : nullptr;
    const bool approval_was_open =
        decided != nullptr && IsOpen(FindApproval(decided->approval_id()));
    AddEntries(event);
    if (absl::Status s = Apply(event, state_at); !s.ok()) return s;
    if (approval_was_open) AddOutcomeIfDetermined(*decided);
    current_ = nullptr;
    return absl::OkStatus();
  }

  const std::vector<v1::DecisionEntry>& entries() const { return history_; }
  std::vector<v1::DecisionEntry> Take() && { return std::move(history_); }

 private:
  // The entries the current event makes by itself.
  void AddEntries(const v1::RecordedEvent& event) {
    const v1::EventPayload& p = event.payload();
    switch (p.event_case()) {
      case v1::EventPayload::kCharterConfirmed: {
        const v1::CharterConfirmed& e = p.charter_confirmed();
        v1::DecisionEntry& entry = Push(v1::DECISION_KIND_SCOPE_SIGN_OFF, e.confirmed_by(),
                                        "CONFIRMED", e.comment(), "charter");
        if (!e.approval_id().empty()) AnswersApproval(e.approval_id(), &entry);
        break;
      }
      case v1::EventPayload::kApprovalDecided: {
        const v1::ApprovalDecided& e = p.approval_decided();
        PushApprovalEntry(v1::DECISION_KIND_APPROVAL_DECISION, e.approval_id(), e.approver(),
                          ShortName(v1::Decision_Name(e.decision()), "DECISION_"), e.comment());
        break;
      }
      case v1::EventPayload::kApprovalCompleted: {
        const v1::ApprovalCompleted& e = p.approval_completed();
        // The rules accept it only when it matches the computed outcome, which has its
        // own entry at the deciding event; without a note, say what this one adds.
        PushApprovalEntry(v1::DECISION_KIND_APPROVAL_OUTCOME, e.approval_id(),
                          event.actor().principal(), OutcomeName(e.outcome()),
                          e.note().empty() ? "recorded: the outcome its decisions determined"
                                           : e.note());
        break;
      }
      case v1::EventPayload::kChangeApproved: {
        const v1::ChangeApproved& e = p.change_approved();
        AddChangeDecision(e.change_id(), OrActor(e.approved_by(), event), "APPROVED", e.comment());
        break;
      }
      case v1::EventPayload::kChangeRejected: {
        const v1::ChangeRejected& e = p.change_rejected();
        AddChangeDecision(e.change_id(), OrActor(e.rejected_by(), event), "REJECTED", e.comment());
        break;
      }
      case v1::EventPayload::kChangeWithdrawn: {
        const v1::ChangeWithdrawn& e = p.change_withdrawn();
        AddChangeDecision(e.change_id(), event.actor().principal(), "WITHDRAWN", e.reason());
        break;
      }
      case v1::EventPayload::kDeliverableSubmitted:
        latest_submission_[p.deliverable_submitted().deliverable_id()] = Logged(event);
        break;
      case v1::EventPayload::kDeliverableAccepted: {
        const v1::DeliverableAccepted& e = p.deliverable_accepted();
        AddAcceptance(e.deliverable_id(), e.accepted_by(), "ACCEPTED", e.comment());
        break;
      }
      case v1::EventPayload::kDeliverableRejected: {
        const v1::DeliverableRejected& e = p.deliverable_rejected();
        AddAcceptance(e.deliverable_id(), e.rejected_by(), "REJECTED", e.reason());
        break;
      }
      case v1::EventPayload::kProjectClosed: {
        const v1::ProjectClosed& e = p.project_closed();
        Push(v1::DECISION_KIND_CLOSURE, OrActor(e.closed_by(), event),
             e.final_acceptance() ? "CLOSED_ACCEPTED" : "CLOSED", e.summary(), "project");
        break;
      }
      case v1::EventPayload::kEventRetracted:
        AddCorrection(p.event_retracted().retracted_event_id(), "RETRACTED",
                      p.event_retracted().reason());
        break;
      case v1::EventPayload::kEventCorrected:
        AddCorrection(p.event_corrected().corrected_event_id(), "CORRECTED",
                      p.event_corrected().reason());
        break;
      default:  // Not a decision.
        break;
    }
  }

  // The outcome entry of a decision that settled its approval (the state already holds
  // the decision). Who decided is the approver whose decision tipped it.
  void AddOutcomeIfDetermined(const v1::ApprovalDecided& e) {
    const v1::Approval* approval = FindApproval(e.approval_id());
    if (approval == nullptr || IsOpen(approval)) return;
    const std::string rule = ShortName(v1::ApprovalRule_Name(approval->rule()), "APPROVAL_RULE_");
    PushApprovalEntry(v1::DECISION_KIND_APPROVAL_OUTCOME, e.approval_id(), e.approver(),
                      OutcomeName(approval->outcome()),
                      absl::StrCat("determined by this decision under rule ", rule));
  }

  static bool IsOpen(const v1::Approval* approval) {
    return approval != nullptr && approval->outcome() == v1::APPROVAL_OUTCOME_UNSPECIFIED;
  }

  void AddChangeDecision(const std::string& change_id, const std::string& decided_by,
                         const std::string& outcome, const std::string& comment) {
    v1::DecisionEntry& entry = Push(v1::DECISION_KIND_CHANGE_DECISION, decided_by, outcome, comment,
                                    absl::StrCat("change ", change_id));
    const int i = PositionOf(state_.changes(), &v1::Change::change_id, change_id, index_.get());
    const v1::Change* change = i < 0 ? nullptr : &state_.changes(i);
    if (change != nullptr && change->has_requested()) {
      SetAnswers(change->requested().version(), change->requested().event_id(), &entry);
    }
  }

  void AddAcceptance(const std::string& deliverable_id, const std::string& decided_by,
                     const std::string& outcome, const std::string& comment) {
    v1::DecisionEntry& entry =
        Push(v1::DECISION_KIND_ACCEPTANCE, OrActor(decided_by, *current_), outcome, comment,
             absl::StrCat("deliverable ", deliverable_id));
    const auto it = latest_submission_.find(deliverable_id);
    if (it != latest_submission_.end()) {
      SetAnswers(it->second.version, it->second.event_id, &entry);
    }
  }

  void AddCorrection(const std::string& target_id, const std::string& outcome,
                     const std::string& reason) {
    const auto it = seen_.find(target_id);
    const std::string subject = it == seen_.end()
                                    ? absl::StrCat("event ", target_id)
                                    : absl::StrCat(it->second.event_type, " v", it->second.version);
    v1::DecisionEntry& entry =
        Push(v1::DECISION_KIND_CORRECTION, current_->actor().principal(), outcome, reason,
             subject);
    if (it != seen_.end()) SetAnswers(it->second.version, it->second.event_id, &entry);
  }

  // Appends an entry for the current event, with its envelope filled in.
  v1::DecisionEntry& Push(v1::DecisionKind kind, const std::string& decided_by,
                          const std::string& outcome, const std::string& comment,
                          const std::string& subject) {
    const v1::RecordedEvent& event = *current_;
    v1::DecisionEntry& entry = history_.emplace_back();
    entry.set_kind(kind);
    entry.set_event_type(event.event_type());
    entry.set_version(event.version());
    entry.set_event_id(event.event_id());
    entry.set_hash_hex(absl::BytesToHexString(event.hash()));
    *entry.mutable_recorded_at() = event.recorded_at();
    entry.set_actor(event.actor().principal());
    entry.set_decided_by(decided_by);
    entry.set_outcome(outcome);
    entry.set_comment(comment);
    entry.set_subject(subject);
    entry.set_retracted(undone_.IsUndone(event));
    return entry;
  }

  // An entry about an approval: its subject names the approval and what it is about, and
  // it answers the approval's request.
  void PushApprovalEntry(v1::DecisionKind kind, const std::string& approval_id,
                         const std::string& decided_by, const std::string& outcome,
                         const std::string& comment) {
    v1::DecisionEntry& entry = Push(kind, decided_by, outcome, comment,
                                    ApprovalSubjectText(approval_id, FindApproval(approval_id)));
    AnswersApproval(approval_id, &entry);
  }

  void AnswersApproval(const std::string& approval_id, v1::DecisionEntry* entry) {
    const v1::Approval* approval = FindApproval(approval_id);
    if (approval != nullptr && approval->has_requested()) {
      SetAnswers(approval->requested().version(), approval->requested().event_id(), entry);
    }
  }

  static void SetAnswers(uint64_t version, const std::string& event_id, v1::DecisionEntry* entry) {
    entry->set_answers_version(version);
    entry->set_answers_event_id(event_id);
  }

  static std::string OutcomeName(v1::ApprovalOutcome outcome) {
    return ShortName(v1::ApprovalOutcome_Name(outcome), "APPROVAL_OUTCOME_");
  }

  static LoggedEvent Logged(const v1::RecordedEvent& event) {
    return LoggedEvent{event.version(), event.event_id(), event.event_type()};
  }

  const v1::Approval* FindApproval(const std::string& approval_id) {
    const int i = PositionOf(state_.approvals(), &v1::Approval::approval_id, approval_id,
                             index_.get());
    return i < 0 ? nullptr : &state_.approvals(i);
  }

  // Brings the state past `event`; after a retraction or correction it is the state
  // rebuilt up to it, which undoes what it names.
  absl::Status Apply(const v1::RecordedEvent& event, StateAtVersion state_at) {
    if (undone_.IsTarget(event.event_id())) seen_.emplace(event.event_id(), Logged(event));
    if (!NeedsReplay(event)) {
      ApplyEvent(event, &state_, index_.get());
      return absl::OkStatus();
    }
    absl::StatusOr<v1::ProjectState> rebuilt = state_at(event.version());
    if (!rebuilt.ok()) return rebuilt.status();
    state_ = *std::move(rebuilt);
    index_ = std::make_unique<ProjectIndex>();  // An index belongs to one state.
    return absl::OkStatus();
  }

  const UndoneEvents& undone_;
  const v1::RecordedEvent* current_ = nullptr;  // The event being added.
  v1::ProjectState state_;
  // Finds the items events name without scanning the state's lists, so the pass costs
  // O(events), not O(events x items).
  std::unique_ptr<ProjectIndex> index_ = std::make_unique<ProjectIndex>();
  // Events a retraction or correction names, seen so far: by event id.
  absl::flat_hash_map<std::string, LoggedEvent> seen_;
  absl::flat_hash_map<std::string, LoggedEvent> latest_submission_;  // By deliverable id.
  std::vector<v1::DecisionEntry> history_;
};

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return std::make_pair(a.seconds(), a.nanos()) < std::make_pair(b.seconds(), b.nanos());
}

}  // namespace

// Pass 1 settled the retractions and corrections of the stream read so far; pass 2's
// builder holds the state and entries up to version_.
struct DecisionHistoryBuilder::Passes {
  UndoneEvents undone;
  HistoryBuilder builder{&undone};
};

DecisionHistoryBuilder::DecisionHistoryBuilder() : passes_(std::make_unique<Passes>()) {}
DecisionHistoryBuilder::~DecisionHistoryBuilder() = default;

absl::StatusOr<std::unique_ptr<DecisionHistoryBuilder>> DecisionHistoryBuilder::Build(
    EventStream read, StateAtVersion state_at) {
  std::unique_ptr<DecisionHistoryBuilder> history(new DecisionHistoryBuilder());
  Passes& passes = *history->passes_;
  absl::Status s = read([&](const v1::RecordedEvent& event) {
    passes.undone.Note(event);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  passes.undone.Settle();
  s = read([&](const v1::RecordedEvent& event) {
    history->version_ = event.version();
    return passes.builder.Add(event, state_at);
  });
  if (!s.ok()) return s;
  return history;
}

absl::StatusOr<bool> DecisionHistoryBuilder::Extend(EventStream read_after) {
  // A retraction or correction may undo an event already added, whose entry is then
  // marked retracted and whose effect on later outcomes is gone: only a new Build says.
  bool corrects = false;
  absl::Status s = read_after([&](const v1::RecordedEvent& event) {
    corrects |= NeedsReplay(event);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (corrects) return false;
  s = read_after([&](const v1::RecordedEvent& event) {
    version_ = event.version();
    return passes_->builder.Add(event, [](uint64_t) -> absl::StatusOr<v1::ProjectState> {
      return absl::InternalError("no replay: Extend adds no retraction or correction");
    });
  });
  if (!s.ok()) return s;
  return true;
}

const std::vector<v1::DecisionEntry>& DecisionHistoryBuilder::entries() const {
  return passes_->builder.entries();
}

std::vector<v1::DecisionEntry> DecisionHistoryBuilder::TakeEntries() && {
  return std::move(passes_->builder).Take();
}

absl::StatusOr<std::vector<v1::DecisionEntry>> DecisionHistory(EventStream read,
                                                               StateAtVersion state_at) {
  auto history = DecisionHistoryBuilder::Build(read, state_at);
  if (!history.ok()) return history.status();
  return std::move(**history).TakeEntries();
}

std::vector<v1::DecisionEntry> DecisionHistory(const std::vector<v1::RecordedEvent>& events) {
  auto read = [&](EventVisitor visit) -> absl::Status {
    for (const v1::RecordedEvent& event : events) {
      if (absl::Status s = visit(event); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  auto state_at = [&](uint64_t version) -> absl::StatusOr<v1::ProjectState> {
    ReplayOptions options;
    options.up_to_version = version;
    return Replay(events, options);
  };
  // Visiting a vector and replaying it cannot fail, and the visitors fail only when those do.
  return *DecisionHistory(read, state_at);
}

absl::Status ValidateFilter(const v1::GetDecisionHistoryRequest& filter) {
  for (int i = 0; i < filter.kinds_size(); ++i) {
    const int kind = filter.kinds(i);
    if (kind == v1::DECISION_KIND_UNSPECIFIED || !v1::DecisionKind_IsValid(kind)) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: not a decision kind: ", kind));
    }
  }
  if (filter.has_from_time()) {
    if (absl::Status s = ValidateTimestamp(filter.from_time(), "from_time"); !s.ok()) return s;
  }
  if (filter.has_to_time()) {
    if (absl::Status s = ValidateTimestamp(filter.to_time(), "to_time"); !s.ok()) return s;
  }
  if (filter.has_from_time() && filter.has_to_time() &&
      !Before(filter.from_time(), filter.to_time())) {
    return absl::InvalidArgumentError("to_time: must be after from_time");
  }
  return absl::OkStatus();
}

bool MatchesFilter(const v1::DecisionEntry& entry, const v1::GetDecisionHistoryRequest& filter) {
  const auto& kinds = filter.kinds();
  if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), entry.kind()) == kinds.end()) {
    return false;
  }
  if (!filter.actor().empty() && filter.actor() != entry.actor() &&
      filter.actor() != entry.decided_by()) {
    return false;
  }
  if (filter.has_from_time() && Before(entry.recorded_at(), filter.from_time())) return false;
  if (filter.has_to_time() && !Before(entry.recorded_at(), filter.to_time())) return false;
  return true;
}

}  // namespace accord::domain
