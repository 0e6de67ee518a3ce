// accord-bench: a closed-loop gRPC load generator for a running accordd.
//
// N "clients" each keep exactly one Append RPC in flight: when one completes, its
// completion callback issues the next. The gRPC callback API is used so that 64 in-flight
// RPCs cost no threads of ours; the RPCs are spread over a few channels (separate TCP
// connections) so one HTTP/2 connection is not the bottleneck. Each request appends K
// `status_updated` events (≈300 bytes serialized each, fresh UUID event ids) to one of M
// bench projects with expected_version `any`.
//
// Measurement: after --warmup_seconds, completions during the next --seconds are counted
// (requests, events, per-request latency); requests still in flight at the end are drained
// (each has a deadline) but not counted. Any error makes the exit status nonzero. The last
// line printed is `append_events_per_s: <integer>`, for scripts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "accord/v1/event_store.grpc.pb.h"
#include "client/accord_client.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7700", "host:port of the running accordd");
ABSL_FLAG(int, clients, 64, "concurrent clients, i.e. Append RPCs in flight (1..4096)");
ABSL_FLAG(int, projects, 64, "bench projects to append to; client i uses project i % M");
ABSL_FLAG(int, seconds, 10, "measured duration in seconds (1..3600)");
ABSL_FLAG(int, warmup_seconds, 1, "load before measuring starts, not counted (0..60)");
ABSL_FLAG(int, events_per_append, 1, "events per Append request (1..10000)");
ABSL_FLAG(int, event_bytes, 300, "target serialized size of each ProposedEvent");
ABSL_FLAG(int, channels, 0, "gRPC channels (TCP connections); 0 means min(clients, 4)");
ABSL_FLAG(absl::Duration, rpc_deadline, absl::Seconds(10), "deadline of each Append RPC");

namespace {

using accord::v1::AppendRequest;
using accord::v1::AppendResponse;
using accord::v1::EventStore;
using accord::v1::ProposedEvent;

// Upper bound on latency samples kept per client, so memory stays bounded whatever the
// duration; beyond it requests are still counted, only their latency is not sampled.
constexpr size_t kMaxSamplesPerClient = 2'000'000;

// A status_updated event whose serialized ProposedEvent is about `target_bytes`: the
// summary is padded, and the size re-measured because length prefixes grow with it.
ProposedEvent MakeEventTemplate(int target_bytes) {
  ProposedEvent event;
  event.set_event_id(accord::client::NewEventId());
  auto* status = event.mutable_payload()->mutable_status_updated();
  status->set_health(accord::v1::HEALTH_GREEN);
  status->set_schedule(accord::v1::HEALTH_AMBER);
  status->set_percent_complete(42);
  status->set_period("2026-W47");
  for (int attempt = 0; attempt < 8; ++attempt) {  // Converges in 2-3 steps.
    const int64_t diff = target_bytes - static_cast<int64_t>(event.ByteSizeLong());
    if (diff == 0) break;
    const int64_t len = std::max<int64_t>(0, static_cast<int64_t>(status->summary().size()) + diff);
    status->set_summary(std::string(len, 's'));
  }
  return event;
}

// Counters of one measurement, merged from all clients at the end.
struct Tally {
  uint64_t requests = 0;
  uint64_t events = 0;
  std::map<int, uint64_t> errors;  // grpc::StatusCode -> count.
  std::string first_error;
  std::vector<uint32_t> latency_us;
};

using LoadRun = accord::bench::ClosedLoopRun;

// One closed-loop client: one request object, one RPC in flight at a time. Its Tally is
// touched only by its own completion chain (each callback happens-after the previous
// RPC was started), and read by the main thread after the run signals it finished.
class Client {
 public:
  Client(LoadRun* run, EventStore::Stub* stub, std::string project_id,
         const ProposedEvent& event_template, int events_per_append)
      : run_(run), stub_(stub) {
    request_.set_project_id(std::move(project_id));
    request_.mutable_expected_version()->mutable_any();
    for (int i = 0; i < events_per_append; ++i) *request_.add_events() = event_template;
  }

  void Start() { Issue(); }
  const Tally& tally() const { return tally_; }

 private:
  void Issue();
  void OnDone(const grpc::Status& status);

  LoadRun* const run_;
  EventStore::Stub* const stub_;
  AppendRequest request_;
  AppendResponse response_;
  std::unique_ptr<grpc::ClientContext> context_;
  absl::Time sent_at_;
  Tally tally_;
};


void Client::Issue() {
  // Fresh ids: a repeated id would be an idempotent retry, which writes nothing.
  for (ProposedEvent& event : *request_.mutable_events()) {
    accord::client::NewEventIdTo(event.mutable_event_id());
  }
  context_ = std::make_unique<grpc::ClientContext>();
  context_->set_deadline(absl::ToChronoTime(absl::Now() + run_->rpc_deadline()));
  response_.Clear();
  sent_at_ = absl::Now();
  stub_->async()->Append(context_.get(), &request_, &response_,
                         [this](grpc::Status status) { OnDone(status); });
}

void Client::OnDone(const grpc::Status& status) {
  const absl::Time now = absl::Now();
  if (!status.ok()) {
    ++tally_.errors[status.error_code()];
    if (tally_.first_error.empty()) {
      tally_.first_error = absl::StrCat("code ", status.error_code(), ": ",
                                        status.error_message());
    }
    run_->ClientFinished();
    return;
  }
  // Counted when it completed inside the window (warm-up and drain are excluded).
  if (now >= run_->measure_start() && now < run_->measure_end()) {
    ++tally_.requests;
    tally_.events += request_.events_size();
    if (tally_.latency_us.size() < kMaxSamplesPerClient) {
      tally_.latency_us.push_back(
          static_cast<uint32_t>(std::min<int64_t>(absl::ToInt64Microseconds(now - sent_at_),
                                                  UINT32_MAX)));
    }
  }
  if (now >= run_->measure_end()) {
    run_->ClientFinished();
    return;
  }
  Issue();
}

absl::Status CheckFlags() {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  if (!in(absl::GetFlag(FLAGS_clients), 1, 4096)) return absl::InvalidArgumentError("--clients");
  if (!in(absl::GetFlag(FLAGS_projects), 1, 1'000'000)) {
    return absl::InvalidArgumentError("--projects");
  }
  if (!in(absl::GetFlag(FLAGS_seconds), 1, 3600)) return absl::InvalidArgumentError("--seconds");
  if (!in(absl::GetFlag(FLAGS_warmup_seconds), 0, 60)) {
    return absl::InvalidArgumentError("--warmup_seconds");
  }
  if (!in(absl::GetFlag(FLAGS_events_per_append), 1, 10000)) {
    return absl::InvalidArgumentError("--events_per_append");
  }
  if (!in(absl::GetFlag(FLAGS_event_bytes), 64, 1 << 20)) {
    return absl::InvalidArgumentError("--event_bytes");
  }
  if (!in(absl::GetFlag(FLAGS_channels), 0, 256)) return absl::InvalidArgumentError("--channels");
  return absl::OkStatus();
}

int Run() {
  if (absl::Status s = CheckFlags(); !s.ok()) {
    std::fprintf(stderr, "accord-bench: flag out of range: %s\n", s.ToString().c_str());
    return 2;
  }
  const std::string target = absl::GetFlag(FLAGS_target);
  const int clients = absl::GetFlag(FLAGS_clients);
  const int projects = absl::GetFlag(FLAGS_projects);
  const int events_per_append = absl::GetFlag(FLAGS_events_per_append);
  const absl::Duration rpc_deadline = absl::GetFlag(FLAGS_rpc_deadline);
  int channels = absl::GetFlag(FLAGS_channels);
  if (channels == 0) channels = std::min(clients, 4);

  accord::client::ClientOptions options;
  options.target = target;
  options.unary_deadline = absl::Seconds(5);
  accord::client::AccordClient info_client(options);
  absl::StatusOr<accord::v1::ServerInfo> info = info_client.GetServerInfo();
  if (!info.ok()) {
    std::fprintf(stderr, "accord-bench: GetServerInfo on %s failed: %s\n", target.c_str(),
                 info.status().ToString().c_str());
    return 1;
  }
  std::printf("server: %s version %s, durability %s, storage %s, last_position %llu\n",
              target.c_str(), info->version().c_str(),
              accord::v1::DurabilityMode_Name(info->durability()).c_str(),
              info->storage_engine().c_str(),
              static_cast<unsigned long long>(info->last_position()));

  // Separate connections: gRPC shares one subchannel (one TCP connection) among channels
  // with identical arguments, so each channel gets its own local subchannel pool.
  std::vector<std::shared_ptr<grpc::Channel>> channel_list;
  std::vector<std::unique_ptr<EventStore::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxSendMessageSize(64 << 20);
    channel_list.push_back(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    if (!channel_list.back()->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(5)))) {
      std::fprintf(stderr, "accord-bench: channel %d could not connect to %s\n", c,
                   target.c_str());
      return 1;
    }
    stubs.push_back(EventStore::NewStub(channel_list.back()));
  }

  const ProposedEvent event_template = MakeEventTemplate(absl::GetFlag(FLAGS_event_bytes));
  absl::BitGen gen;
  const std::string run_tag = absl::StrFormat("%08x", absl::Uniform<uint32_t>(gen));
  std::printf("load: %d clients over %d channels, %d projects (bench-%s-*), %d events/append "
              "of %zu bytes, %ds warm-up + %ds measured\n",
              clients, channels, projects, run_tag.c_str(), events_per_append,
              event_template.ByteSizeLong(), absl::GetFlag(FLAGS_warmup_seconds),
              absl::GetFlag(FLAGS_seconds));
  std::fflush(stdout);

  const absl::Time start = absl::Now();
  const absl::Time measure_start = start + absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  const absl::Time measure_end = measure_start + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  LoadRun run(measure_start, measure_end, rpc_deadline, clients);
  std::vector<std::unique_ptr<Client>> client_list;
  for (int i = 0; i < clients; ++i) {
    client_list.push_back(std::make_unique<Client>(
        &run, stubs[i % channels].get(), absl::StrCat("bench-", run_tag, "-", i % projects),
        event_template, events_per_append));
  }
  for (auto& client : client_list) client->Start();

  // Every RPC has a deadline, so the drain ends within rpc_deadline after measure_end.
  if (!run.WaitAllFinished(measure_end + rpc_deadline + absl::Seconds(5))) {
    // Clients still own in-flight RPCs, so they cannot be destroyed safely: leave now.
    std::fprintf(stderr, "accord-bench: in-flight requests did not drain; aborting\n");
    std::fflush(stdout);
    std::_Exit(1);
  }

  Tally total;
  for (const auto& client : client_list) {
    const Tally& t = client->tally();
    total.requests += t.requests;
    total.events += t.events;
    for (const auto& [code, n] : t.errors) total.errors[code] += n;
    if (total.first_error.empty()) total.first_error = t.first_error;
    total.latency_us.insert(total.latency_us.end(), t.latency_us.begin(), t.latency_us.end());
  }
  const double seconds = absl::ToDoubleSeconds(measure_end - measure_start);
  uint64_t error_count = 0;
  std::string error_text;
  for (const auto& [code, n] : total.errors) {
    error_count += n;
    absl::StrAppend(&error_text, error_text.empty() ? "" : ", ", "code ", code, ": ", n);
  }
  std::printf("requests: %llu (%.0f/s)\n", static_cast<unsigned long long>(total.requests),
              static_cast<double>(total.requests) / seconds);
  std::printf("events: %llu\n", static_cast<unsigned long long>(total.events));
  std::printf("errors: %llu%s%s\n", static_cast<unsigned long long>(error_count),
              error_text.empty() ? "" : " by code: ", error_text.c_str());
  if (!total.first_error.empty()) std::printf("first error: %s\n", total.first_error.c_str());
  const uint32_t p50 = accord::bench::Percentile(total.latency_us, 0.50);
  const uint32_t p99 = accord::bench::Percentile(total.latency_us, 0.99);
  const uint32_t p999 = accord::bench::Percentile(total.latency_us, 0.999);
  std::printf("latency_us per request: p50 %u p99 %u p999 %u\n", p50, p99, p999);
  std::printf("append_events_per_s: %llu\n",
              static_cast<unsigned long long>(static_cast<double>(total.events) / seconds));
  std::fflush(stdout);
  return error_count == 0 && total.requests > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "accord-bench --target=127.0.0.1:7700 --clients=64 --projects=64 --seconds=10 "
      "--events_per_append=1");
  absl::ParseCommandLine(argc, argv);
  accord::bench::SetUpBenchProcess();
  return Run();
}
