// accord-projection-bench: how fast projections are rebuilt from the log, and how fast a
// past state of a long project is read.
//
//   accord-projection-bench --projects=100 --events_per_project=10000 --asof_events=100000
//
// 1. Writes --projects × --events_per_project events of a realistic mix of event types
//    (through the log with the rules guard, as the server does), closes and reopens the
//    database, then measures, in one run:
//      scan        read every event of every project from the log;
//      scan+parse  ... and parse each payload (a bare protobuf parse);
//      rebuild     ... the server's rebuild (RebuildProjections, what the Rebuild RPC
//                  and `accord rebuild` run): replay each project into its ProjectState
//                  and write the states back as snapshots, on 1 thread and on 2 threads
//                  (projects taken in turn by the threads).
//    Each the median of --repeat runs (the first run of the scan is on a cold block
//    cache). Prints events/s of each and the rebuild's ratio to scan and to scan+parse.
// 2. Writes one project of --asof_events events (snapshots every --snapshot_every), then
//    reads its state as GetProject does (ReadProjectStateBytes): first once per snapshot
//    interval (each snapshot's first read: not yet in the read cache), then as of
//    --asof_reads random versions, and prints the latencies of both (asof_p99_us: the
//    second's p99).
// 3. Writes one project of --cold_events events of the mix (snapshots every
//    --snapshot_every) and another, small one; then --cold_rounds times: reopens the log
//    (durable, as accordd runs it) with a fresh rules guard, so both are cold, warms the
//    small one with an append, starts a one-event append to the big one and meanwhile
//    appends one event after another to the small one: the slowest of those is what
//    reading a cold project (its event ids, the rules' state from its latest snapshot and
//    the events after it) costs the other projects. Prints the big project's first append
//    and that slowest append.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "server/decision_history_cache.h"
#include "server/domain/event_validation.h"
#include "server/domain/project_projection.h"
#include "server/event_translation.h"
#include "server/project_reader.h"
#include "server/project_rules_guard.h"
#include "server/projection_rebuilder.h"
#include "server/process_tuning.h"
#include "server/project_snapshots.h"
#include "storage/event_log.h"
#include "storage/rocksdb_event_log.h"
#include "storage/event_hash.h"
#include "storage/event_id.h"

ABSL_FLAG(int, projects, 100, "projects in the rebuild data set");
ABSL_FLAG(int, events_per_project, 10000, "events per project in the rebuild data set");
ABSL_FLAG(int, asof_events, 100000, "events in the project whose past states are read");
ABSL_FLAG(int, asof_reads, 1000,
          "state-as-of reads to time (1000: the p99 is the 10th slowest, not the 2nd)");
ABSL_FLAG(uint64_t, snapshot_every, 1000, "snapshot interval of the rules guard");
ABSL_FLAG(std::string, dir, "/tmp", "parent of the temporary data directory");
ABSL_FLAG(int, cold_events, 10900,
          "events in the cold project of part 3 (by default 900 after its last snapshot, and "
          "its next append takes none)");
ABSL_FLAG(int, cold_rounds, 7, "reopens in part 3");
ABSL_FLAG(int, repeat, 3, "runs of each rebuild-stage measurement; the median is reported");

namespace {

namespace v1 = accord::v1;
using accord::storage::AppendBatch;
using accord::storage::ProposedRecord;

accord::storage::EventId RandomId(absl::BitGen& gen) {
  accord::storage::EventId id;
  for (auto& b : id) b = absl::Uniform<uint8_t>(gen);
  return id;
}

// A realistic mix for one project: after creation and the team, status updates, task
// churn, risks, costs, client actions chased and completed, feedback, meetings.
class MixGenerator {
 public:
  explicit MixGenerator(uint64_t seed) : gen_(seed) {}

  std::vector<v1::EventPayload> Next(int i) {
    std::vector<v1::EventPayload> out;
    v1::EventPayload p;
    if (i == 0) {
      auto* c = p.mutable_project_created();
      c->set_name("Bench project");
      c->set_client_org("Acme");
      c->set_time_zone("Europe/Berlin");
      out.push_back(p);
      for (const char* who : {"pm", "dev", "sponsor"}) {
        v1::EventPayload m;
        m.mutable_member_added()->set_principal(who);
        m.mutable_member_added()->set_role(std::string(who) == "sponsor" ? v1::MEMBER_ROLE_CLIENT_SPONSOR
                                                                         : v1::MEMBER_ROLE_MEMBER);
        out.push_back(m);
      }
      return out;
    }
    const int kind = absl::Uniform(gen_, 0, 100);
    const std::string n = absl::StrCat(i);
    if (kind < 30) {
      auto* s = p.mutable_status_updated();
      s->set_health(static_cast<v1::Health>(1 + i % 3));
      s->set_percent_complete(i % 101);
      s->set_summary("Weekly status: on track with minor risks in the checkout integration.");
    } else if (kind < 45) {
      auto* t = p.mutable_task_planned();
      t->set_task_id("T" + n);
      t->set_title("Implement feature " + n);
      t->set_owner("dev");
      t->set_due_date("2026-12-01");
      tasks_.push_back("T" + n);
    } else if (kind < 55 && !tasks_.empty()) {
      auto* t = p.mutable_task_completed();
      t->set_task_id(tasks_.back());
      tasks_.pop_back();
    } else if (kind < 65) {
      auto* r = p.mutable_risk_identified();
      r->set_risk_id("R" + n);
      r->set_title("Risk " + n);
      r->set_probability(1 + i % 5);
      r->set_impact(1 + (i / 5) % 5);
    } else if (kind < 75) {
      auto* c = p.mutable_cost_recorded();
      c->set_cost_id("C" + n);
      c->set_category(i % 2 ? "labour" : "hosting");
      c->mutable_amount()->set_currency_code("EUR");
      c->mutable_amount()->set_amount_minor(1000 + i);
    } else if (kind < 82) {
      auto* a = p.mutable_client_action_requested();
      a->set_action_id("CA" + n);
      a->set_kind(v1::CLIENT_ACTION_KIND_MATERIALS);
      a->set_title("Send content " + n);
      a->set_due_date("2026-11-15");
      actions_.push_back("CA" + n);
    } else if (kind < 88 && !actions_.empty()) {
      p.mutable_client_reminder_sent()->set_action_id(actions_.back());
    } else if (kind < 94 && !actions_.empty()) {
      p.mutable_client_action_completed()->set_action_id(actions_.back());
      actions_.pop_back();
    } else if (kind < 97) {
      auto* f = p.mutable_feedback_received();
      f->set_feedback_id("F" + n);
      f->set_sentiment(v1::SENTIMENT_POSITIVE);
      f->set_text("Good progress this week");
    } else {
      auto* m = p.mutable_meeting_held();
      m->set_meeting_id("MTG" + n);
      m->set_title("Weekly call");
      m->add_attendees("pm");
      m->add_attendees("sponsor");
    }
    out.push_back(p);
    return out;
  }

 private:
  std::mt19937_64 gen_;
  std::vector<std::string> tasks_, actions_;
};

ProposedRecord RecordOf(const v1::EventPayload& payload, absl::BitGen& gen) {
  ProposedRecord e;
  e.event_id = RandomId(gen);
  e.event_type = accord::domain::EventTypeOf(payload);
  payload.SerializeToString(&e.payload);
  e.payload_hash = accord::storage::Sha256(e.payload);
  return e;
}

// Appends `events` events of the mix to `project`, 100 events per append.
void Populate(accord::storage::EventLog& log, const std::string& project, int events,
              uint64_t seed) {
  MixGenerator mix(seed);
  absl::BitGen gen;
  AppendBatch batch;
  int written = 0;
  for (int i = 0; written < events; ++i) {
    for (const v1::EventPayload& payload : mix.Next(i)) {
      batch.events.push_back(RecordOf(payload, gen));
      ++written;
    }
    if (batch.events.size() >= 100 || written >= events) {
      batch.project_id = project;
      batch.actor = {"pm", "manager"};
      auto r = log.Append(std::move(batch));
      if (!r.ok()) {
        std::fprintf(stderr, "append failed: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      batch = AppendBatch();
    }
  }
}

enum class Stage { kScan, kParse, kRebuild };

// Reads (and parses) every project in `projects`; returns events seen.
//   kScan     pages of stored events, as the server reads them;
//   kParse    ... and each payload parsed (bare protobuf parse, on a per-page arena).
// (kRebuild runs the server's RebuildProjections instead: see RateOnce.)
uint64_t Process(accord::storage::EventLog& log, const std::vector<std::string>& projects,
                 Stage stage) {
  uint64_t events = 0;
  std::vector<accord::storage::EventRecord> page;
  accord::storage::ReadLimits limits;
  limits.max_count = 1024;
  limits.fill_cache = false;  // As the rebuild reads (ReplayProjectFromLog).
  for (const std::string& project : projects) {
    for (uint64_t next = 1;;) {
      if (!log.ReadStream(project, next, accord::storage::ReadDirection::kForwards, limits, &page)
               .ok() ||
          page.empty()) {
        break;
      }
      events += page.size();
      next = page.back().version + 1;
      if (stage == Stage::kScan) continue;
      google::protobuf::Arena arena;
      for (const auto& r : page) {
        (void)google::protobuf::Arena::CreateMessage<v1::EventPayload>(&arena)->ParseFromString(
            r.payload);
      }
    }
  }
  return events;
}

double RateOnce(accord::storage::EventLog& log, const std::vector<std::string>& projects,
                Stage stage, int threads) {
  if (stage == Stage::kRebuild) {
    std::atomic<bool> cancelled{false};
    accord::v1::RebuildProgress last;
    absl::Status s = accord::server::RebuildProjections(
        log, "", threads, absl::Hours(1), cancelled,
        [&](const accord::v1::RebuildProgress& p) { last = p; });
    if (!s.ok() || last.projects_done() != projects.size()) {
      std::fprintf(stderr, "rebuild failed: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    return last.events_per_second();
  }
  const absl::Time start = absl::Now();
  std::atomic<uint64_t> events{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<std::string> mine;
      for (size_t i = t; i < projects.size(); i += threads) mine.push_back(projects[i]);
      events += Process(log, mine, stage);
    });
  }
  for (auto& w : workers) w.join();
  return static_cast<double>(events.load()) / absl::ToDoubleSeconds(absl::Now() - start);
}

// The median of --repeat runs: this machine is shared, and one run can land on a busy second.
double Rate(accord::storage::EventLog& log, const std::vector<std::string>& projects,
            Stage stage, int threads) {
  std::vector<double> rates;
  const int runs = std::max(1, absl::GetFlag(FLAGS_repeat));
  for (int i = 0; i < runs; ++i) rates.push_back(RateOnce(log, projects, stage, threads));
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

std::unique_ptr<accord::storage::EventLog> OpenLog(
    const std::string& dir, accord::storage::AppendGuard* guard,
    // Setup speed only, unless a measurement needs the server's durability.
    accord::storage::Durability durability = accord::storage::Durability::kNoSyncMayLoseAcked) {
  accord::storage::EventLogOptions options;
  options.data_dir = dir;
  options.durability = durability;
  options.append_guard = guard;
  auto log = accord::storage::OpenEventLog(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open failed: %s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(log);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  accord::bench::SetUpBenchProcess();
  accord::server::TuneMallocForLargeBuffers();  // As accordd does.
  const std::string dir =
      absl::StrCat(absl::GetFlag(FLAGS_dir), "/accord-projection-bench-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::printf("machine: %u cores\n", std::thread::hardware_concurrency());

  // 1. Rebuild.
  std::vector<std::string> projects;
  {
    accord::server::ProjectRulesGuard guard(0);
    auto log = OpenLog(dir + "/rebuild", &guard);
    for (int p = 0; p < absl::GetFlag(FLAGS_projects); ++p) {
      projects.push_back(absl::StrCat("p", p));
      Populate(*log, projects.back(), absl::GetFlag(FLAGS_events_per_project), p + 1);
    }
    (void)log->Close();
  }
  {
    auto log = OpenLog(dir + "/rebuild", nullptr);  // Reopened: cold block cache.
    const double scan = Rate(*log, projects, Stage::kScan, 1);
    const double parse = Rate(*log, projects, Stage::kParse, 1);
    const double rebuild1 = Rate(*log, projects, Stage::kRebuild, 1);
    const double rebuild2 = Rate(*log, projects, Stage::kRebuild, 2);
    std::printf("events: %d projects x %d\n", absl::GetFlag(FLAGS_projects),
                absl::GetFlag(FLAGS_events_per_project));
    std::printf("scan_events_per_s: %.0f\n", scan);
    std::printf("scan_parse_events_per_s: %.0f\n", parse);
    std::printf("rebuild_1_thread_events_per_s: %.0f (%.2fx scan, %.2fx scan+parse)\n", rebuild1,
                rebuild1 / scan, rebuild1 / parse);
    std::printf("rebuild_2_threads_events_per_s: %.0f\n", rebuild2);
    (void)log->Close();
  }

  // 2. State as of a version of a long project.
  {
    const int n = absl::GetFlag(FLAGS_asof_events);
    {
      accord::server::ProjectRulesGuard guard(absl::GetFlag(FLAGS_snapshot_every));
      auto written = OpenLog(dir + "/asof", &guard);
      Populate(*written, "long", n, 42);
      // Time the reads on a settled database, not alongside the compactions the writes
      // (100 multi-MB snapshots) started.
      if (auto* rocks = dynamic_cast<accord::storage::RocksEventLog*>(written.get())) {
        (void)rocks->CompactForBenchmark();
      }
      (void)written->Close();
    }
    // Reopened: the read caches start empty, so the first read of each snapshot is cold.
    auto log = OpenLog(dir + "/asof", nullptr);
    // Reads the state as of `version` as GetProject does (the state's bytes, for the
    // response) and returns the microseconds it took; checks the first reads' states
    // outside the timing (a full parse is what the read avoids).
    int checked = 0;
    auto timed_read = [&](uint64_t version) -> double {
      accord::domain::ReplayOptions options;
      options.up_to_version = version;
      options.now = absl::Now();
      std::string bytes;
      const absl::Time start = absl::Now();
      absl::Status status = accord::server::ReadProjectStateBytes(*log, "long", options, &bytes);
      const double micros = absl::ToDoubleMicroseconds(absl::Now() - start);
      v1::ProjectState state;
      if (!status.ok() || (checked++ < 20 && (!state.ParseFromString(bytes) ||
                                              state.version() != version))) {
        std::fprintf(stderr, "as-of read failed: %s\n", status.ToString().c_str());
        std::exit(1);
      }
      return micros;
    };
    auto summary = [](std::vector<double> micros) {
      std::sort(micros.begin(), micros.end());
      return absl::StrFormat("%zu reads: p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us",
                             micros.size(), micros[micros.size() / 2],
                             micros[micros.size() * 9 / 10], micros[micros.size() * 99 / 100],
                             micros.back());
    };
    absl::BitGen gen;
    const uint64_t every = absl::GetFlag(FLAGS_snapshot_every);
    // First, one read per snapshot interval, in random order: each the first read of its
    // snapshot since the database was opened (an empty read cache, warm page cache).
    std::vector<uint64_t> intervals;
    for (uint64_t from = 0; from < static_cast<uint64_t>(n); from += every) intervals.push_back(from);
    std::shuffle(intervals.begin(), intervals.end(), gen);
    std::vector<double> cold;
    for (uint64_t from : intervals) {
      cold.push_back(timed_read(
          std::min<uint64_t>(n, from + absl::Uniform<uint64_t>(gen, 1, every + 1))));
    }
    // Then the measurement: reads as of random versions, every snapshot read before.
    std::vector<double> micros;
    for (int i = 0; i < absl::GetFlag(FLAGS_asof_reads); ++i) {
      micros.push_back(timed_read(absl::Uniform<uint64_t>(gen, 1, n + 1)));
    }
    // As of a time: the recorded_at of a random event, read outside the timing.
    std::vector<double> by_time;
    for (int i = 0; i < absl::GetFlag(FLAGS_asof_reads) / 5; ++i) {
      const uint64_t version = absl::Uniform<uint64_t>(gen, 1, n + 1);
      std::vector<accord::storage::EventRecord> one;
      accord::storage::ReadLimits limits;
      limits.max_count = 1;
      if (!log->ReadStream("long", version, accord::storage::ReadDirection::kForwards, limits,
                           &one)
               .ok() ||
          one.empty()) {
        std::fprintf(stderr, "reading version %llu failed\n",
                     static_cast<unsigned long long>(version));
        std::exit(1);
      }
      accord::domain::ReplayOptions options;
      options.recorded_up_to =
          absl::FromUnixSeconds(one[0].recorded_at.seconds) + absl::Nanoseconds(one[0].recorded_at.nanos);
      options.now = absl::Now();
      std::string bytes;
      const absl::Time start = absl::Now();
      absl::Status status = accord::server::ReadProjectStateBytes(*log, "long", options, &bytes);
      by_time.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
      if (!status.ok()) {
        std::fprintf(stderr, "as-of-time read failed: %s\n", status.ToString().c_str());
        std::exit(1);
      }
    }
    std::printf("asof first read of each snapshot: %s\n", summary(cold).c_str());
    std::printf("asof time (the recorded_at of a random event): %s\n", summary(by_time).c_str());
    std::printf("asof: %d-event project, snapshots every %llu, %s\n", n,
                static_cast<unsigned long long>(every), summary(micros).c_str());
    std::sort(micros.begin(), micros.end());
    std::printf("asof_p99_us: %.0f\n", micros[micros.size() * 99 / 100]);
    // The decision history of the same project: read whole (two passes over the stream),
    // then as GetDecisionHistory reads it through its cache: the next page with nothing
    // appended, and after one more event.
    std::vector<double> history_micros;
    size_t decisions = 0;
    for (int i = 0; i < 5; ++i) {
      const absl::Time start = absl::Now();
      auto history = accord::server::BuildDecisionHistory(*log, "long");
      history_micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
      if (!history.ok()) {
        std::fprintf(stderr, "decision history failed: %s\n", history.status().ToString().c_str());
        std::exit(1);
      }
      decisions = (*history)->entries().size();
    }
    std::sort(history_micros.begin(), history_micros.end());
    std::printf("decision history of the %d-event project (%zu decisions), built 5 times: "
                "p50 %.0f us, max %.0f us\n",
                n, decisions, history_micros[2], history_micros.back());
    accord::server::DecisionHistoryCache cache(log.get(), 1);
    auto cached_read = [&]() -> double {
      const absl::Time start = absl::Now();
      absl::Status s = cache.Read("long", [](const auto&) {});
      const double micros = absl::ToDoubleMicroseconds(absl::Now() - start);
      if (!s.ok()) {
        std::fprintf(stderr, "cached decision history failed: %s\n", s.ToString().c_str());
        std::exit(1);
      }
      return micros;
    };
    const double first = cached_read();
    const double again = cached_read();
    MixGenerator more(7);
    absl::BitGen more_gen;
    AppendBatch one;
    one.project_id = "long";
    one.actor = {"pm", "manager"};
    one.events.push_back(RecordOf(more.Next(1).front(), more_gen));
    if (!log->Append(std::move(one)).ok()) {
      std::fprintf(stderr, "append failed\n");
      std::exit(1);
    }
    const double after_append = cached_read();
    std::printf("decision history through the cache: first read %.0f us, again %.0f us, "
                "after one more event %.0f us\n",
                first, again, after_append);    (void)log->Close();
  }

  // 3. A cold project's first append, and another project's append right behind it.
  {
    const std::string cold_dir = dir + "/cold";
    const int n = absl::GetFlag(FLAGS_cold_events);
    {
      accord::server::ProjectRulesGuard guard(absl::GetFlag(FLAGS_snapshot_every));
      auto written = OpenLog(cold_dir, &guard);
      Populate(*written, "cold", n, 7);
      Populate(*written, "other", 1, 8);  // Its creation.
      (void)written->Close();
    }
    v1::EventPayload update;
    update.mutable_status_updated()->set_health(v1::HEALTH_GREEN);
    absl::BitGen gen;
    auto one_event = [&](const std::string& project) {
      AppendBatch batch;
      batch.project_id = project;
      batch.actor = {"pm", "manager"};
      batch.events.push_back(RecordOf(update, gen));
      return batch;
    };
    auto fail = [](const absl::Status& status) {
      std::fprintf(stderr, "part 3 append failed: %s\n", status.ToString().c_str());
      std::exit(1);
    };
    std::vector<double> beside, cold_first;
    for (int round = 0; round < absl::GetFlag(FLAGS_cold_rounds); ++round) {
      accord::server::ProjectRulesGuard guard(absl::GetFlag(FLAGS_snapshot_every));
      auto log = OpenLog(cold_dir, &guard, accord::storage::Durability::kSync);
      if (auto warm = log->Append(one_event("other")); !warm.ok()) fail(warm.status());
      absl::Notification cold_done;
      absl::StatusOr<accord::storage::AppendResult> cold_result;
      const absl::Time start = absl::Now();
      absl::Time cold_end;
      log->AppendAsync(one_event("cold"), [&](absl::StatusOr<accord::storage::AppendResult> r) {
        cold_end = absl::Now();
        cold_result = std::move(r);
        cold_done.Notify();
      });
      // One append after another to the small project while the big one loads (and one
      // more after): the slowest is the one that waited for whatever the load kept the
      // writer from. Bounded in count; each append takes a sync, so this ends in ms.
      double slowest = 0;
      for (int i = 0; i < 10'000; ++i) {
        const bool last = cold_done.HasBeenNotified();
        const absl::Time sent = absl::Now();
        auto result = log->Append(one_event("other"));
        if (!result.ok()) fail(result.status());
        slowest = std::max(slowest, absl::ToDoubleMicroseconds(absl::Now() - sent));
        if (last) break;
      }
      beside.push_back(slowest);
      cold_done.WaitForNotification();
      if (!cold_result.ok()) fail(cold_result.status());
      cold_first.push_back(absl::ToDoubleMicroseconds(cold_end - start));
      (void)log->Close();
    }
    auto spread = [](std::vector<double> micros) {
      std::sort(micros.begin(), micros.end());
      return absl::StrFormat("p50 %.0f us, min %.0f us, max %.0f us", micros[micros.size() / 2],
                             micros.front(), micros.back());
    };
    std::printf("cold: a %d-event project's first append after a reopen (%zu rounds): %s\n", n,
                cold_first.size(), spread(cold_first).c_str());
    std::printf("cold_beside: the slowest of a warm project's appends meanwhile: %s\n",
                spread(beside).c_str());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
