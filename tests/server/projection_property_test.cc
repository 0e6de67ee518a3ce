// Property tests of the project projections over random valid histories
// (history_generator.h): whatever a history is, the state the server serves (live, as of
// any version, after restarts, from another process) equals a fresh domain::Replay of
// the events read back, and replayed states keep the invariants the projection promises.
//
// The server's GetProject and this test's Replay share the projection code, so their
// equality catches storage, translation, as-of and restart bugs; bugs inside an apply
// function are caught by the invariants, which are computed here without that code.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/domain/decision_history.h"
#include "server/domain/lazy_project_state.h"
#include "server/domain/progress_report.h"
#include "server/domain/project_projection.h"
#include "tests/server/history_generator.h"
#include "tests/server/server_process.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

namespace v1 = accord::v1;

constexpr uint64_t kSeeds = 20;
constexpr int kHistoryLength = 150;
// The clock for overdue items, fixed so that server and test compute the same state.
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 7, 1, 12, 0, 0), absl::UTCTimeZone());

std::string ProjectFor(uint64_t seed) { return absl::StrCat("prop-", seed); }

// One Append: consecutive events of one actor.
struct Batch {
  std::string actor;
  std::vector<v1::ProposedEvent> events;
};

// Cuts a history into appends of 1..4 events of one actor. An append ends after a
// retraction or correction: the server checks the rest of an append against a state
// that has not yet undone the corrected event, and the generator modelled one-by-one.
std::vector<Batch> Batches(const std::vector<GeneratedEvent>& history, std::mt19937_64& rng) {
  std::vector<Batch> batches;
  size_t i = 0;
  while (i < history.size()) {
    const size_t size = std::uniform_int_distribution<size_t>(1, 4)(rng);
    Batch batch;
    batch.actor = history[i].actor;
    while (i < history.size() && batch.events.size() < size && history[i].actor == batch.actor) {
      batch.events.push_back(history[i].proposed);
      if (EndsAppend(history[i++])) break;
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

absl::StatusOr<v1::AppendResponse> AppendBatch(const std::string& target, const std::string& project,
                                               const Batch& batch) {
  client::ClientOptions options = ClientAt(target);
  options.actor = batch.actor;
  v1::AppendRequest request = AppendOf(project, batch.events);
  request.mutable_expected_version()->mutable_any();
  return client::AccordClient(options).Append(request);
}

// Appends every batch; fails the test on the first refusal.
void AppendAll(const std::string& target, const std::string& project,
               const std::vector<Batch>& batches) {
  for (size_t i = 0; i < batches.size(); ++i) {
    auto r = AppendBatch(target, project, batches[i]);
    ASSERT_TRUE(r.ok()) << "batch " << i << " of " << project << " as " << batches[i].actor
                        << ": " << r.status();
  }
}

std::vector<v1::RecordedEvent> ReadEvents(const std::string& target, const std::string& project) {
  std::vector<v1::RecordedEvent> events;
  v1::ReadStreamRequest request;
  request.set_project_id(project);
  const absl::Status s = client::AccordClient(ClientAt(target)).ReadStream(
      request, [&](const v1::RecordedEvent& e) {
        events.push_back(e);
        return true;
      });
  EXPECT_TRUE(s.ok()) << s;
  return events;
}

// GetProject with the fixed clock, as of `version` when given.
v1::ProjectState ServedState(const std::string& target, const std::string& project,
                             std::optional<uint64_t> version = std::nullopt) {
  v1::GetProjectRequest request;
  request.set_project_id(project);
  if (version.has_value()) request.set_as_of_version(*version);
  request.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
  auto state = client::AccordClient(ClientAt(target)).GetProject(request);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : v1::ProjectState();
}

// GetProject with the fixed clock, as of `time`.
v1::ProjectState ServedStateAsOfTime(const std::string& target, const std::string& project,
                                     absl::Time time) {
  v1::GetProjectRequest request;
  request.set_project_id(project);
  const int64_t nanos = absl::ToUnixNanos(time);
  request.mutable_as_of_time()->set_seconds(nanos / 1'000'000'000);
  request.mutable_as_of_time()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  request.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
  auto state = client::AccordClient(ClientAt(target)).GetProject(request);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : v1::ProjectState();
}

absl::Time RecordedAt(const v1::RecordedEvent& e) {
  return absl::FromUnixSeconds(e.recorded_at().seconds()) +
         absl::Nanoseconds(e.recorded_at().nanos());
}

// Replay in this process of the first `count` events (all when 0) with the fixed clock.
v1::ProjectState ReplayHere(const std::vector<v1::RecordedEvent>& events, const std::string& project,
                            uint64_t up_to_version = 0) {
  domain::ReplayOptions options;
  options.up_to_version = up_to_version;
  options.now = kNow;
  v1::ProjectState state = domain::Replay(events, options);
  state.set_project_id(project);
  return state;
}

// Byte equality of the deterministic serializations, with a readable diff when not.
void ExpectSameState(v1::ProjectState served, v1::ProjectState replayed, const std::string& what) {
  served.set_project_id(replayed.project_id());
  if (domain::DeterministicBytes(served) == domain::DeterministicBytes(replayed)) return;
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  differ.Compare(replayed, served);
  ADD_FAILURE() << what << ": served state differs from a fresh replay:\n" << diff.substr(0, 4000);
}

// --- invariants, computed without the projection's apply functions ---------------------

// The payload that counts for each of the first `count` events, nullptr when retracted.
// The generator never retracts a retraction or correction, so a later event naming an
// earlier one simply decides it (the latest correction wins).
std::vector<const v1::EventPayload*> EffectivePayloads(const std::vector<v1::RecordedEvent>& events,
                                                       size_t count) {
  std::vector<const v1::EventPayload*> effective(count);
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < count; ++i) {
    effective[i] = &events[i].payload();
    index_of[events[i].event_id()] = i;
    const v1::EventPayload& p = events[i].payload();
    const std::string* target = p.has_event_retracted()   ? &p.event_retracted().retracted_event_id()
                                : p.has_event_corrected() ? &p.event_corrected().corrected_event_id()
                                                          : nullptr;
    if (target == nullptr) continue;
    const auto it = index_of.find(*target);
    if (it == index_of.end()) continue;
    effective[it->second] = p.has_event_corrected() ? &p.event_corrected().replacement() : nullptr;
  }
  return effective;
}

// The outcome `approval`'s rule gives its decisions, as events.proto states the rules.
v1::ApprovalOutcome OutcomeOf(const v1::Approval& approval) {
  int approve = 0, reject = 0;
  for (const auto& d : approval.decisions()) (d.decision() == v1::DECISION_APPROVE ? approve : reject)++;
  const int total = approval.approvers_size();
  switch (approval.rule()) {
    case v1::APPROVAL_RULE_ALL:
      return reject > 0 ? v1::APPROVAL_OUTCOME_REJECTED
             : approve == total ? v1::APPROVAL_OUTCOME_APPROVED : v1::APPROVAL_OUTCOME_UNSPECIFIED;
    case v1::APPROVAL_RULE_ANY:
      return approve > 0 ? v1::APPROVAL_OUTCOME_APPROVED
             : reject == total ? v1::APPROVAL_OUTCOME_REJECTED : v1::APPROVAL_OUTCOME_UNSPECIFIED;
    case v1::APPROVAL_RULE_QUORUM:
      return approve >= static_cast<int>(approval.quorum()) ? v1::APPROVAL_OUTCOME_APPROVED
             : total - reject < static_cast<int>(approval.quorum()) ? v1::APPROVAL_OUTCOME_REJECTED
                                                                     : v1::APPROVAL_OUTCOME_UNSPECIFIED;
    default:
      return v1::APPROVAL_OUTCOME_UNSPECIFIED;
  }
}

// Checks what the projection promises about the state after the first `count` events.
void ExpectInvariants(const std::vector<v1::RecordedEvent>& events, size_t count,
                      const v1::ProjectState& state, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(state.version(), events[count - 1].version());
  for (const v1::Risk& r : state.risks()) {
    EXPECT_EQ(r.score(), r.probability() * r.impact()) << "risk " << r.risk_id();
  }
  for (const v1::Task& t : state.tasks()) {
    if (t.status() == v1::TASK_STATUS_DONE) {
      EXPECT_EQ(t.percent_complete(), 100u) << "task " << t.task_id();
    }
  }
  for (const v1::Approval& a : state.approvals()) {
    // A completed approval may keep an outcome its later-retracted decisions produced.
    if (!a.completed()) {
      EXPECT_EQ(a.outcome(), OutcomeOf(a)) << "approval " << a.approval_id();
    }
  }
  // Actual cost per (category, currency) is the sum of the costs that count.
  std::map<std::pair<std::string, std::string>, int64_t> actual;
  for (const v1::EventPayload* p : EffectivePayloads(events, count)) {
    if (p == nullptr || !p->has_cost_recorded()) continue;
    const auto& c = p->cost_recorded();
    actual[{c.category(), c.amount().currency_code()}] += c.amount().amount_minor();
  }
  for (const v1::BudgetLine& line : state.budget()) {
    EXPECT_EQ(line.actual_minor(), (actual[{line.category(), line.currency_code()}]))
        << "budget line " << line.category() << " " << line.currency_code();
  }
}

// Recorded events of a generated history as the server would record them, without one.
std::vector<v1::RecordedEvent> RecordLocally(const std::vector<GeneratedEvent>& history,
                                             const std::string& project) {
  std::vector<v1::RecordedEvent> events;
  for (const GeneratedEvent& g : history) {
    v1::RecordedEvent e;
    e.set_project_id(project);
    e.set_version(events.size() + 1);
    e.set_event_id(g.proposed.event_id());
    e.mutable_actor()->set_principal(g.actor);
    e.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(kNow) - 86400 * 200 +
                                         3600 * static_cast<int64_t>(e.version()));
    *e.mutable_payload() = g.proposed.payload();
    events.push_back(std::move(e));
  }
  return events;
}

// ---------------------------------------------------------------------------------------

TEST(ProjectionPropertyTest, GeneratorCoversEveryEventTypeWithFullLengthHistories) {
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<GeneratedEvent> history = GenerateHistory(seed, {.length = kHistoryLength});
    EXPECT_EQ(history.size(), static_cast<size_t>(kHistoryLength)) << "seed " << seed;
    const std::set<std::string> types = EventTypesOf(history);
    seen.insert(types.begin(), types.end());
  }
  const auto* oneof = v1::EventPayload::descriptor()->FindOneofByName("event");
  ASSERT_NE(oneof, nullptr);
  std::vector<std::string> missing;
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (!seen.contains(oneof->field(i)->name())) missing.push_back(oneof->field(i)->name());
  }
  EXPECT_EQ(oneof->field_count(), 62);
  EXPECT_TRUE(missing.empty()) << "never generated: " << absl::StrJoin(missing, ", ");
}

TEST(ProjectionPropertyTest, GeneratorIsAPureFunctionOfItsSeed) {
  const auto a = GenerateHistory(3, {.length = 60});
  const auto b = GenerateHistory(3, {.length = 60});
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].proposed.SerializeAsString(), b[i].proposed.SerializeAsString()) << i;
    EXPECT_EQ(a[i].actor, b[i].actor) << i;
  }
}

TEST(ProjectionPropertyTest, EveryReplayedPrefixKeepsTheProjectionInvariants) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    for (size_t count = 1; count <= events.size(); ++count) {
      const v1::ProjectState state = ReplayHere(events, ProjectFor(seed), count);
      ExpectInvariants(events, count, state, absl::StrCat("seed ", seed, " after ", count, " events"));
      if (::testing::Test::HasFailure()) return;  // One seed's first failure says enough.
    }
  }
}

// The id index (with its cached time zone and recorded day) is only a cache: applying
// through it gives byte for byte the state applying without it gives, after every event.
TEST(ProjectionPropertyTest, ApplyingThroughTheIndexEqualsApplyingWithout) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    v1::ProjectState plain, indexed;
    domain::ProjectIndex index;
    for (size_t i = 0; i < events.size(); ++i) {
      domain::ApplyEvent(events[i], &plain);
      domain::ApplyEvent(events[i], &indexed, &index);
      ASSERT_EQ(domain::DeterministicBytes(indexed), domain::DeterministicBytes(plain))
          << "seed " << seed << " after event " << i + 1 << " (" << events[i].event_type() << ")";
    }
  }
}

// What GetProject serves from a snapshot: the state at `s` as bytes, read lazily, the
// events after it applied through the lazy index, ComputeAsOf, written back as bytes.
TEST(ProjectionPropertyTest, LazyStateFromAnySnapshotEqualsFullReplay) {
  std::mt19937_64 rng(7);
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    for (int trial = 0; trial < 10; ++trial) {
      const size_t n = std::uniform_int_distribution<size_t>(1, events.size())(rng);
      const size_t s = std::uniform_int_distribution<size_t>(1, n)(rng);
      const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + s);
      const std::string snapshot = domain::DeterministicBytes(domain::Replay(prefix));
      // Half the trials with the id tables snapshots carry, half finding ids without.
      const std::string tables = trial % 2 == 0 ? domain::BuildIdTables(snapshot) : "";
      domain::LazyProjectState lazy;
      ASSERT_TRUE(lazy.Init(snapshot, tables)) << "seed " << seed;
      bool needs_replay = false;
      for (size_t i = s; i < n && !needs_replay; ++i) {
        needs_replay = domain::NeedsReplay(events[i]);
        if (!needs_replay) domain::ApplyEventEffect(events[i], lazy.state(), lazy.index());
      }
      if (needs_replay) continue;  // The reader replays the whole stream then.
      if (n > s) domain::ApplyEventEnvelope(events[n - 1], lazy.state());
      lazy.ComputeAsOf(kNow);
      std::string bytes;
      lazy.AppendTo(&bytes);
      v1::ProjectState served;
      ASSERT_TRUE(served.ParseFromString(bytes)) << "seed " << seed;
      const std::vector<v1::RecordedEvent> upto(events.begin(), events.begin() + n);
      domain::ReplayOptions options;
      options.now = kNow;
      ASSERT_EQ(domain::DeterministicBytes(served),
                domain::DeterministicBytes(domain::Replay(upto, options)))
          << "seed " << seed << ", snapshot at " << s << ", state at " << n;
    }
  }
}

// The rules rebuild a project's state after a retraction or correction from a snapshot
// before every event the later corrections name (ProjectRulesGuard::Load): that state plus
// ReplayOnto of the rest is the full replay, whatever corrections the rest holds.
TEST(ProjectionPropertyTest, ReplayOntoAStateBeforeEveryCorrectedEventEqualsFullReplay) {
  std::mt19937_64 rng(13);
  int with_corrections = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    const std::string full = domain::DeterministicBytes(domain::Replay(events));
    for (int trial = 0; trial < 10; ++trial) {
      size_t s = std::uniform_int_distribution<size_t>(0, events.size())(rng);
      // Move the starting point before every event a correction after it names, as Load
      // does with snapshots.
      for (;;) {
        const std::vector<v1::RecordedEvent> rest(events.begin() + s, events.end());
        size_t earliest = s;
        for (const std::string& id : domain::CorrectionTargetsOutside(rest)) {
          for (size_t i = 0; i < s; ++i) {
            if (events[i].event_id() == id) earliest = std::min(earliest, i);
          }
        }
        if (earliest == s) break;
        s = earliest;
      }
      const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + s);
      const std::vector<v1::RecordedEvent> rest(events.begin() + s, events.end());
      with_corrections += std::any_of(rest.begin(), rest.end(), [](const v1::RecordedEvent& e) {
        return domain::NeedsReplay(e);
      });
      v1::ProjectState state = domain::Replay(prefix);
      domain::ProjectIndex index;
      domain::ReplayOnto(rest, &state, &index);
      ASSERT_EQ(domain::DeterministicBytes(state), full)
          << "seed " << seed << ", state built to " << s << " of " << events.size();
    }
  }
  EXPECT_GT(with_corrections, 0) << "no trial replayed a correction onto a state";
}

// A stream too long to hold is replayed in two passes (only its corrections kept): the same
// state as Replay, for every random history and prefix.
TEST(ProjectionPropertyTest, ReplayInTwoPassesEqualsReplay) {
  std::mt19937_64 rng(17);
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    for (int trial = 0; trial < 4; ++trial) {
      const size_t n = trial == 0 ? events.size()
                                  : std::uniform_int_distribution<size_t>(1, events.size())(rng);
      const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + n);
      domain::ReplayOptions options;
      options.now = kNow;
      v1::ProjectState state;
      ASSERT_TRUE(domain::ReplayInTwoPasses(
                      [&](domain::EventVisitor visit) {
                        for (const v1::RecordedEvent& e : prefix) {
                          if (absl::Status s = visit(e); !s.ok()) return s;
                        }
                        return absl::OkStatus();
                      },
                      options, &state)
                      .ok());
      ASSERT_EQ(domain::DeterministicBytes(state),
                domain::DeterministicBytes(domain::Replay(prefix, options)))
          << "seed " << seed << ", first " << n << " events";
    }
  }
}

// Id tables cut short (a damaged or foreign trailer) are used as far as they are whole,
// and the state read is still exactly the replayed one.
TEST(ProjectionPropertyTest, LazyStateWithTruncatedIdTablesEqualsFullReplay) {
  std::mt19937_64 rng(11);
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::vector<v1::RecordedEvent> events =
        RecordLocally(GenerateHistory(seed, {.length = kHistoryLength}), ProjectFor(seed));
    const size_t s = events.size() / 2;
    const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + s);
    const std::string snapshot = domain::DeterministicBytes(domain::Replay(prefix));
    const std::string tables = domain::BuildIdTables(snapshot);
    const size_t cut = std::uniform_int_distribution<size_t>(0, tables.size())(rng);
    domain::LazyProjectState lazy;
    ASSERT_TRUE(lazy.Init(snapshot, std::string_view(tables).substr(0, cut)));
    bool needs_replay = false;
    for (size_t i = s; i < events.size() && !needs_replay; ++i) {
      needs_replay = domain::NeedsReplay(events[i]);
      if (!needs_replay) domain::ApplyEventEffect(events[i], lazy.state(), lazy.index());
    }
    if (needs_replay) continue;
    domain::ApplyEventEnvelope(events.back(), lazy.state());
    lazy.ComputeAsOf(kNow);
    std::string bytes;
    lazy.AppendTo(&bytes);
    v1::ProjectState served;
    ASSERT_TRUE(served.ParseFromString(bytes));
    domain::ReplayOptions options;
    options.now = kNow;
    ASSERT_EQ(domain::DeterministicBytes(served),
              domain::DeterministicBytes(domain::Replay(events, options)))
        << "seed " << seed << ", tables cut at " << cut << " of " << tables.size();
  }
}

// Snapshots every K events, K drawn per server, so reads start from snapshots taken at
// varied points of the histories.
uint64_t SnapshotInterval(std::mt19937_64& rng) {
  return std::uniform_int_distribution<uint64_t>(2, 40)(rng);
}

// Appends seed's generated history to ProjectFor(seed) on `server` in random batches and
// reads back what was recorded.
void ServeHistory(InProcessServer& server, uint64_t seed, std::mt19937_64& rng,
                  std::vector<v1::RecordedEvent>* events) {
  const std::string project = ProjectFor(seed);
  const std::vector<GeneratedEvent> history = GenerateHistory(seed, {.length = kHistoryLength});
  ASSERT_NO_FATAL_FAILURE(AppendAll(server.target(), project, Batches(history, rng)));
  *events = ReadEvents(server.target(), project);
  ASSERT_EQ(events->size(), history.size()) << project;
}

TEST(ProjectionPropertyTest, LiveStateEqualsFreshReplay) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 rng(seed);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    std::vector<v1::RecordedEvent> events;
    ASSERT_NO_FATAL_FAILURE(ServeHistory(server, seed, rng, &events));
    const v1::ProjectState replayed = ReplayHere(events, project);
    ExpectSameState(ServedState(server.target(), project), replayed, project);
    ExpectInvariants(events, events.size(), replayed, project);
  }
}

TEST(ProjectionPropertyTest, StateAsOfVersionEqualsReplayOfPrefix) {
  for (uint64_t seed = 1; seed <= kSeeds / 2; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    std::vector<v1::RecordedEvent> events;
    ASSERT_NO_FATAL_FAILURE(ServeHistory(server, seed, rng, &events));
    for (int probe = 0; probe < 8; ++probe) {
      const uint64_t n = std::uniform_int_distribution<uint64_t>(1, events.size())(rng);
      const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + n);
      ExpectSameState(ServedState(server.target(), project, n), ReplayHere(prefix, project),
                      absl::StrCat(project, " as of version ", n));
    }
  }
}

// As of a time: every event recorded by then, whether the server reads it from a snapshot
// (it turns the time into a version) or replays; before the first event, the empty state.
TEST(ProjectionPropertyTest, StateAsOfTimeEqualsReplayUpToThatTime) {
  for (uint64_t seed = 1; seed <= kSeeds / 2; ++seed) {
    std::mt19937_64 rng(seed * 104729);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    std::vector<v1::RecordedEvent> events;
    ASSERT_NO_FATAL_FAILURE(ServeHistory(server, seed, rng, &events));
    std::vector<absl::Time> times = {RecordedAt(events.front()) - absl::Seconds(1),
                                     RecordedAt(events.back()) + absl::Seconds(1)};
    for (int probe = 0; probe < 6; ++probe) {
      const auto i = std::uniform_int_distribution<size_t>(0, events.size() - 1)(rng);
      times.push_back(RecordedAt(events[i]));                         // Includes event i.
      times.push_back(RecordedAt(events[i]) - absl::Nanoseconds(1));  // Excludes it.
    }
    for (absl::Time t : times) {
      domain::ReplayOptions options;
      options.recorded_up_to = t;
      options.now = kNow;
      v1::ProjectState replayed = domain::Replay(events, options);
      replayed.set_project_id(project);
      ExpectSameState(ServedStateAsOfTime(server.target(), project, t), replayed,
                      absl::StrCat(project, " as of ", absl::FormatTime(t)));
    }
  }
}

// GetReport reads two states (the latest, for the project's zone, and the one at the
// period's end) from snapshots; it must give what the report over every event gives.
TEST(ProjectionPropertyTest, ServedReportEqualsReportOverAllEvents) {
  for (uint64_t seed = 1; seed <= kSeeds / 4; ++seed) {
    std::mt19937_64 rng(seed * 15485863);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    std::vector<v1::RecordedEvent> events;
    ASSERT_NO_FATAL_FAILURE(ServeHistory(server, seed, rng, &events));
    const absl::CivilDay first = absl::ToCivilDay(RecordedAt(events.front()), absl::UTCTimeZone());
    const std::string before = absl::FormatCivilTime(first - 2);
    // The month of the history, and a range that ends before it (the empty state).
    for (const std::string& label : {absl::FormatCivilTime(absl::CivilMonth(first)),
                                     absl::StrCat(before, "..", before)}) {
      auto period = domain::ParsePeriod(label);
      ASSERT_TRUE(period.ok()) << period.status();
      v1::ProgressReport expected = domain::BuildProgressReport(events, *period, kNow);
      expected.set_project_id(project);
      v1::GetReportRequest request;
      request.set_project_id(project);
      request.set_period(label);
      request.mutable_now()->set_seconds(absl::ToUnixSeconds(kNow));
      auto served = client::AccordClient(ClientAt(server.target())).GetReport(request);
      ASSERT_TRUE(served.ok()) << served.status();
      std::string diff;
      google::protobuf::util::MessageDifferencer differ;
      differ.ReportDifferencesToString(&diff);
      EXPECT_TRUE(differ.Compare(expected, *served)) << project << " " << label << ":\n"
                                                     << diff.substr(0, 4000);
    }
  }
}

// Which events a later retraction or correction undid, as the history marked them before
// it was streamed (with every event in memory): an oracle for the streamed history.
std::vector<bool> UndoneOracle(const std::vector<v1::RecordedEvent>& events) {
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < events.size(); ++i) index_of.emplace(events[i].event_id(), i);
  std::vector<bool> undone(events.size(), false), retracted(events.size(), false);
  for (size_t i = events.size(); i-- > 0;) {
    if (retracted[i]) continue;
    const std::string* target_id = domain::CorrectionTarget(events[i].payload());
    if (target_id == nullptr) continue;
    const auto it = index_of.find(*target_id);
    if (it == index_of.end() || it->second >= i) continue;
    undone[it->second] = true;
    if (events[i].payload().has_event_retracted()) retracted[it->second] = true;
  }
  return undone;
}

// GetDecisionHistory streams the log in passes (never holding the stream); page by page it
// must give what the history over every event in memory gives, marking what was undone.
TEST(ProjectionPropertyTest, ServedHistoryEqualsHistoryOverAllEvents) {
  size_t marked = 0;  // Entries marked retracted, over all seeds.
  for (uint64_t seed = 1; seed <= kSeeds / 2; ++seed) {
    std::mt19937_64 rng(seed * 32452843);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    std::vector<v1::RecordedEvent> events;
    ASSERT_NO_FATAL_FAILURE(ServeHistory(server, seed, rng, &events));
    const std::vector<v1::DecisionEntry> expected = domain::DecisionHistory(events);
    ASSERT_FALSE(expected.empty()) << project;
    std::vector<v1::DecisionEntry> served;
    v1::GetDecisionHistoryRequest request;
    request.set_project_id(project);
    request.set_page_size(7);
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = client::AccordClient(ClientAt(server.target())).GetDecisionHistory(request);
      ASSERT_TRUE(page.ok()) << page.status();
      served.insert(served.end(), page->decisions().begin(), page->decisions().end());
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
    ASSERT_EQ(served.size(), expected.size()) << project;
    const std::vector<bool> undone = UndoneOracle(events);
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(expected[i], served[i]))
          << project << " entry " << i << ":\n" << expected[i].DebugString() << "served:\n"
          << served[i].DebugString();
      EXPECT_EQ(expected[i].retracted(), undone[expected[i].version() - 1])
          << project << " v" << expected[i].version();
      marked += expected[i].retracted();
    }
  }
  EXPECT_GT(marked, 0u) << "no history had a retracted decision: the oracle checked nothing";
}

// The served history, all pages of it.
std::vector<v1::DecisionEntry> ServedDecisions(const std::string& target,
                                               const std::string& project) {
  std::vector<v1::DecisionEntry> served;
  v1::GetDecisionHistoryRequest request;
  request.set_project_id(project);
  request.set_page_size(5);
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = client::AccordClient(ClientAt(target)).GetDecisionHistory(request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    served.insert(served.end(), page->decisions().begin(), page->decisions().end());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return served;
}

// The server keeps a project's history between reads and carries it forward with the
// events appended since, building it anew after a retraction or correction (which can
// mark earlier entries retracted): read while the project grows, batch by batch, it must
// always be the history over every event so far.
TEST(ProjectionPropertyTest, HistoryReadWhileTheProjectGrowsEqualsHistoryOverAllEvents) {
  size_t reads = 0, marked = 0;
  for (uint64_t seed = 1; seed <= kSeeds / 4; ++seed) {
    std::mt19937_64 rng(seed * 15485863);
    InProcessServer server(absl::Milliseconds(200), SnapshotInterval(rng));
    const std::string project = ProjectFor(seed);
    const std::vector<GeneratedEvent> history = GenerateHistory(seed, {.length = kHistoryLength});
    const std::vector<Batch> batches = Batches(history, rng);
    for (size_t i = 0; i < batches.size(); ++i) {
      auto appended = AppendBatch(server.target(), project, batches[i]);
      ASSERT_TRUE(appended.ok()) << project << " batch " << i << ": " << appended.status();
      if (i % 3 != 0 && i + 1 != batches.size()) continue;
      const std::vector<v1::RecordedEvent> events = ReadEvents(server.target(), project);
      const std::vector<v1::DecisionEntry> expected = domain::DecisionHistory(events);
      // Twice: the second read finds nothing appended since the first.
      for (int again = 0; again < 2; ++again) {
        const std::vector<v1::DecisionEntry> served = ServedDecisions(server.target(), project);
        ++reads;
        ASSERT_EQ(served.size(), expected.size()) << project << " after batch " << i;
        for (size_t k = 0; k < expected.size(); ++k) {
          ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(expected[k], served[k]))
              << project << " after batch " << i << ", entry " << k << ":\n"
              << expected[k].DebugString() << "served:\n" << served[k].DebugString();
        }
      }
      for (const v1::DecisionEntry& entry : expected) marked += entry.retracted();
    }
  }
  EXPECT_GT(reads, 20u);
  EXPECT_GT(marked, 0u) << "no decision was ever retracted: the rebuild after a correction "
                           "went untested";
}

// Appends batches [from, to) until one is not acknowledged; returns the first such index
// (`to` when all were). `expect_all` makes any refusal a failure (no kill is under way).
size_t AppendUntilUnacknowledged(const std::string& target, const std::string& project,
                                 const std::vector<Batch>& batches, size_t from, size_t to,
                                 bool expect_all) {
  for (size_t i = from; i < to; ++i) {
    auto r = AppendBatch(target, project, batches[i]);
    if (r.ok()) continue;
    // Only a dead server may refuse: a rules refusal would mean the restarted guard
    // rebuilt a different state than the one the history was generated against.
    EXPECT_FALSE(expect_all || absl::IsFailedPrecondition(r.status()))
        << "batch " << i << ": " << r.status();
    return i;
  }
  return to;
}

TEST(ProjectionPropertyTest, AcrossRestartsAndAnotherProcessStateEqualsReplay) {
  constexpr uint64_t kSeed = 42;
  constexpr int kMaxRounds = 12;
  TempDir dir;
  const std::string data_dir = dir.Sub("db");
  const std::string project = ProjectFor(kSeed);
  std::mt19937_64 rng(kSeed);
  const std::vector<GeneratedEvent> history = GenerateHistory(kSeed, {.length = kHistoryLength});
  const std::vector<Batch> batches = Batches(history, rng);
  const size_t chunk = batches.size() / 4 + 1;

  // Each round appends a chunk to a fresh accordd, then stops it: SIGTERM on even rounds,
  // SIGKILL (sent from another thread while appends may be in flight) on odd ones. What
  // was not acknowledged is appended again next round; appends are idempotent by event id.
  size_t next = 0;
  for (int round = 0; round < kMaxRounds && next < batches.size(); ++round) {
    // Each process snapshots at its own interval: reads mix snapshots of several.
    ServerProcess server(data_dir, dir.path(),
                         {absl::StrCat("--snapshot_every=", SnapshotInterval(rng))});
    const bool hard = round % 2 == 1;
    std::thread killer;
    if (hard) {
      const int delay_ms = std::uniform_int_distribution<int>(5, 60)(rng);
      killer = std::thread([&server, delay_ms] {
        absl::SleepFor(absl::Milliseconds(delay_ms));
        server.Kill(SIGKILL);
      });
    }
    const size_t end = std::min(batches.size(), next + chunk);
    next = AppendUntilUnacknowledged(server.target(), project, batches, next, end, !hard);
    if (hard) {
      killer.join();
    } else {
      server.Kill(SIGTERM);
    }
  }
  ASSERT_EQ(next, batches.size()) << "history not fully appended in " << kMaxRounds << " rounds";

  ServerProcess fresh(data_dir, dir.path());
  const std::vector<v1::RecordedEvent> events = ReadEvents(fresh.target(), project);
  ASSERT_EQ(events.size(), history.size()) << "events lost or written twice";
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].event_id(), history[i].proposed.event_id()) << "version " << i + 1;
  }
  ExpectSameState(ServedState(fresh.target(), project), ReplayHere(events, project),
                  "fresh process, latest");
  for (int probe = 0; probe < 5; ++probe) {
    const uint64_t n = std::uniform_int_distribution<uint64_t>(1, events.size())(rng);
    const std::vector<v1::RecordedEvent> prefix(events.begin(), events.begin() + n);
    ExpectSameState(ServedState(fresh.target(), project, n), ReplayHere(prefix, project),
                    absl::StrCat("fresh process, as of version ", n));
  }
  fresh.Kill(SIGTERM);
}

}  // namespace
}  // namespace accord::testing
