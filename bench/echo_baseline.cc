// accord-echo-bench: the gRPC ceiling for single-event appends on this machine.
//
// Starts a bare callback-API unary echo server (bench/echo.proto) on 127.0.0.1:0 and
// drives it with the same closed-loop pattern as accord-bench: N clients,
// each with one Echo RPC of a 300-byte payload in flight, spread over min(N, 4) channels,
// the next RPC issued from the previous one's completion callback. Whatever accordd does
// per Append (validation, hashing, RocksDB, fsync) comes on top of this cost, so
// accord-bench's single-event rate divided by echo_rps says how much of the gRPC budget
// the server keeps. The last line printed is `echo_rps: <integer>`.
//
// By default the server runs in a child process (this binary again, with
// `--serve_seconds` and `--port_file`) and the clients here: two processes, each with its
// own gRPC threads, as accordd and accord-bench run. `--in_process` puts both in this
// process instead (the ceiling of sessions 1-5: the same mean on this machine, but it
// swings between ≈25k and ≈41k rps from run to run where the two-process echo stays
// within ±5%; bench/README.md). `--serve_seconds=S --port_file=F` runs only the server
// and `--target=HOST:PORT` only the clients.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/echo.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(int, clients, 64, "concurrent clients, i.e. Echo RPCs in flight (1..4096)");
ABSL_FLAG(int, seconds, 10, "measured duration in seconds (1..3600)");
ABSL_FLAG(int, warmup_seconds, 1, "load before measuring starts, not counted (0..60)");
ABSL_FLAG(int, message_bytes, 300, "payload bytes per request and response");
ABSL_FLAG(int, channels, 0, "gRPC channels (TCP connections); 0 means min(clients, 4)");
ABSL_FLAG(absl::Duration, rpc_deadline, absl::Seconds(10), "deadline of each Echo RPC");
ABSL_FLAG(std::string, target, "",
          "drive the echo server at this HOST:PORT (another accord-echo-bench started with "
          "--serve_seconds) instead of one in this process");
ABSL_FLAG(int, serve_seconds, 0,
          "only serve: run the echo server for this many seconds (1..3600) and exit; with "
          "--port_file, for a client process started with --target");
ABSL_FLAG(std::string, port_file, "", "with --serve_seconds: write the port chosen here");
ABSL_FLAG(bool, in_process, false,
          "run the echo server on this process's gRPC threads instead of in a child process");

namespace {

using accord::bench::Echo;
using accord::bench::EchoMessage;

constexpr size_t kMaxSamplesPerClient = 2'000'000;

// The server does the least a unary handler can: copy the request into the response.
class EchoService final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoMessage* request, EchoMessage* response) override {
    *response->mutable_payload() = request->payload();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

using EchoRun = accord::bench::ClosedLoopRun;

// One closed-loop client; its counters are touched only by its own completion chain and
// read by the main thread after the run finished.
class EchoClient {
 public:
  EchoClient(EchoRun* run, Echo::Stub* stub, int message_bytes) : run_(run), stub_(stub) {
    request_.set_payload(std::string(message_bytes, 'e'));
  }
  void Start() { Issue(); }

  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<uint32_t> latency_us;

 private:
  void Issue() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + run_->rpc_deadline()));
    response_.Clear();
    sent_at_ = absl::Now();
    stub_->async()->Echo(context_.get(), &request_, &response_,
                         [this](grpc::Status status) { OnDone(status); });
  }
  void OnDone(const grpc::Status& status) {
    const absl::Time now = absl::Now();
    if (!status.ok()) {
      ++errors;
      if (first_error.empty()) first_error = status.error_message();
      run_->ClientFinished();
      return;
    }
    if (now >= run_->measure_start() && now < run_->measure_end()) {
      ++requests;
      if (latency_us.size() < kMaxSamplesPerClient) {
        latency_us.push_back(static_cast<uint32_t>(
            std::min<int64_t>(absl::ToInt64Microseconds(now - sent_at_), UINT32_MAX)));
      }
    }
    if (now >= run_->measure_end()) {
      run_->ClientFinished();
      return;
    }
    Issue();
  }

  EchoRun* const run_;
  Echo::Stub* const stub_;
  EchoMessage request_;
  EchoMessage response_;
  std::unique_ptr<grpc::ClientContext> context_;
  absl::Time sent_at_;
};

std::unique_ptr<grpc::Server> StartServer(EchoService* service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || *port == 0) {
    std::fprintf(stderr, "accord-echo-bench: could not start the echo server\n");
    return nullptr;
  }
  return server;
}

// --serve_seconds: the echo server alone, for a client in another process (the same
// topology as accordd and accord-bench: two processes, each with its own gRPC threads).
int Serve(int serve_seconds) {
  if (serve_seconds < 1 || serve_seconds > 3600) {
    std::fprintf(stderr, "accord-echo-bench: --serve_seconds must be 1..3600\n");
    return 2;
  }
  EchoService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(&service, &port);
  if (!server) return 1;
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%d\n", port);
      std::fclose(f);
      std::rename(tmp.c_str(), port_file.c_str());
    }
  }
  std::printf("echo server on 127.0.0.1:%d for %d s\n", port, serve_seconds);
  std::fflush(stdout);
  absl::SleepFor(absl::Seconds(serve_seconds));
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  server->Wait();
  return 0;
}

// The echo server in a child process: this binary again with --serve_seconds, killed
// and reaped when this object goes. Owns the temporary directory of the port file.
class ChildServer {
 public:
  ~ChildServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // Starts the child and waits up to 10 s for it to listen; returns its HOST:PORT or ""
  // after printing why not.
  std::string Start(int serve_seconds) {
    std::string dir_template = (std::filesystem::temp_directory_path() / "accord-echo-XXXXXX");
    if (mkdtemp(dir_template.data()) == nullptr) {
      std::perror("accord-echo-bench: mkdtemp");
      return "";
    }
    dir_ = dir_template;
    const std::string port_file = dir_ + "/port";
    std::string arg0 = "accord-echo-bench";
    std::string arg1 = absl::StrCat("--serve_seconds=", serve_seconds);
    std::string arg2 = absl::StrCat("--port_file=", port_file);
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // The child's banner would interleave with this process's output.
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = 0;
      std::fprintf(stderr, "accord-echo-bench: could not start the server process: %s\n",
                   std::strerror(rc));
      return "";
    }
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      int port = 0;
      if (std::ifstream in(port_file); in >> port && port > 0) {
        return absl::StrCat("127.0.0.1:", port);
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::fprintf(stderr, "accord-echo-bench: the server process did not start listening\n");
    return "";
  }

 private:
  pid_t pid_ = 0;
  std::string dir_;
};

int Run() {
  if (const int serve_seconds = absl::GetFlag(FLAGS_serve_seconds); serve_seconds != 0) {
    return Serve(serve_seconds);
  }
  const int clients = absl::GetFlag(FLAGS_clients);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int warmup = absl::GetFlag(FLAGS_warmup_seconds);
  const int message_bytes = absl::GetFlag(FLAGS_message_bytes);
  int channels = absl::GetFlag(FLAGS_channels);
  if (clients < 1 || clients > 4096 || seconds < 1 || seconds > 3600 || warmup < 0 ||
      warmup > 60 || message_bytes < 0 || message_bytes > (1 << 20) || channels < 0 ||
      channels > 256) {
    std::fprintf(stderr, "accord-echo-bench: a flag is out of range (see --help)\n");
    return 2;
  }
  if (channels == 0) channels = std::min(clients, 4);

  // The server: --target names a running one; otherwise a child process, or this
  // process with --in_process.
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  ChildServer child;
  std::string target = absl::GetFlag(FLAGS_target);
  const char* where = "another process";
  if (target.empty() && absl::GetFlag(FLAGS_in_process)) {
    int port = 0;
    server = StartServer(&service, &port);
    if (!server) return 1;
    target = absl::StrCat("127.0.0.1:", port);
    where = "in this process";
  } else if (target.empty()) {
    const absl::Duration lifetime = absl::Seconds(warmup + seconds + 30) +
                                    absl::GetFlag(FLAGS_rpc_deadline);
    target = child.Start(static_cast<int>(
        std::min<int64_t>(3600, absl::ToInt64Seconds(lifetime))));
    if (target.empty()) return 1;
    where = "a child process";
  }

  // One TCP connection per channel, as in accord-bench.
  std::vector<std::shared_ptr<grpc::Channel>> channel_list;
  std::vector<std::unique_ptr<Echo::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_list.push_back(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    if (!channel_list.back()->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(5)))) {
      std::fprintf(stderr, "accord-echo-bench: channel %d could not connect\n", c);
      return 1;
    }
    stubs.push_back(Echo::NewStub(channel_list.back()));
  }
  std::printf("echo server on %s (%s); %d clients over %d channels, %d-byte "
              "messages, %ds warm-up + %ds measured\n",
              target.c_str(), where, clients,
              channels, message_bytes, warmup, seconds);
  std::fflush(stdout);

  const absl::Duration rpc_deadline = absl::GetFlag(FLAGS_rpc_deadline);
  const absl::Time measure_start = absl::Now() + absl::Seconds(warmup);
  const absl::Time measure_end = measure_start + absl::Seconds(seconds);
  EchoRun run(measure_start, measure_end, rpc_deadline, clients);
  std::vector<std::unique_ptr<EchoClient>> client_list;
  for (int i = 0; i < clients; ++i) {
    client_list.push_back(
        std::make_unique<EchoClient>(&run, stubs[i % channels].get(), message_bytes));
  }
  for (auto& client : client_list) client->Start();
  if (!run.WaitAllFinished(measure_end + rpc_deadline + absl::Seconds(5))) {
    std::fprintf(stderr, "accord-echo-bench: in-flight requests did not drain; aborting\n");
    std::fflush(stdout);
    std::_Exit(1);
  }

  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<uint32_t> latency;
  for (auto& client : client_list) {
    requests += client->requests;
    errors += client->errors;
    if (first_error.empty()) first_error = client->first_error;
    latency.insert(latency.end(), client->latency_us.begin(), client->latency_us.end());
  }
  if (server) {
    server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    server->Wait();
  }

  std::printf("requests: %llu\n", static_cast<unsigned long long>(requests));
  std::printf("errors: %llu%s%s\n", static_cast<unsigned long long>(errors),
              first_error.empty() ? "" : " first: ", first_error.c_str());
  const uint32_t p50 = accord::bench::Percentile(latency, 0.50);
  const uint32_t p99 = accord::bench::Percentile(latency, 0.99);
  const uint32_t p999 = accord::bench::Percentile(latency, 0.999);
  std::printf("latency_us per request: p50 %u p99 %u p999 %u\n", p50, p99, p999);
  std::printf("echo_rps: %llu\n", static_cast<unsigned long long>(
                                      static_cast<double>(requests) / seconds));
  std::fflush(stdout);
  return errors == 0 && requests > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("accord-echo-bench --clients=64 --seconds=10");
  absl::ParseCommandLine(argc, argv);
  accord::bench::SetUpBenchProcess();
  return Run();
}
