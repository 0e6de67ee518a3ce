// HistoryGenerator: random but VALID event histories of one project, for the property
// tests of the projections (projection_property_test.cc). Each event passed the same
// checks the server applies on append (domain::ValidatePayload, then domain::CheckRules
// against the state the server's rules guard would hold), and carries the actor it must
// be appended as (an approval decision by its approver, acceptance by a client member).
//
// A history is a pure function of its seed, so a failing seed can be replayed alone.
#ifndef ACCORD_TESTS_SERVER_HISTORY_GENERATOR_H_
#define ACCORD_TESTS_SERVER_HISTORY_GENERATOR_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "accord/v1/event_store.pb.h"

namespace accord::testing {

struct GeneratedEvent {
  accord::v1::ProposedEvent proposed;  // Fresh event id and the payload.
  std::string actor;                   // The principal to append it as.
};

struct HistoryOptions {
  int length = 150;             // Events, including the opening project_created and members.
  double close_chance = 0.5;    // Chance that the history ends with project_closed.
};

// Principals of the four members every history starts with.
inline constexpr char kManager[] = "pm";
inline constexpr char kTeamMember[] = "dev";
inline constexpr char kSponsor[] = "ann";   // Client sponsor.
inline constexpr char kContact[] = "bob";   // Client contact.

// Generates a history of exactly `options.length` events (fewer only if the generator ran
// out of bounded attempts, which the tests would notice through coverage).
std::vector<GeneratedEvent> GenerateHistory(uint64_t seed, const HistoryOptions& options = {});

// The event types (EventPayload oneof field names) present in `history`.
std::set<std::string> EventTypesOf(const std::vector<GeneratedEvent>& history);

// True when the event retracts or corrects an earlier one. The server checks later events
// of the same append against a state that has not yet undone the corrected event, so the
// tests end an append after such an event (as the generator's own state model does).
bool EndsAppend(const GeneratedEvent& event);

}  // namespace accord::testing

#endif  // ACCORD_TESTS_SERVER_HISTORY_GENERATOR_H_
