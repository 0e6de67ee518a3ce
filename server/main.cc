// accordd: the Accord server. Opens the event log under --data_dir and serves the
// accord.v1 API on --listen until SIGTERM or SIGINT, then drains and closes the log.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/accord_server.h"
#include "server/process_tuning.h"
#include "server/project_rules_guard.h"
#include "spdlog/spdlog.h"
#include "storage/event_log.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7700",
          "host:port to serve on; loopback only until TLS lands (port 0 picks one)");
ABSL_FLAG(std::string, data_dir, "./data", "directory of the embedded event log");
ABSL_FLAG(std::string, durability, "sync",
          "sync: acknowledge appends after the WAL is synced (default); "
          "no_sync_may_lose_acked: acknowledge before sync, so a power loss may lose "
          "acknowledged events");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(5),
          "idle time after which a subscription gets a heartbeat");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may run after SIGTERM before they are cancelled");
ABSL_FLAG(std::string, port_file, "",
          "if set, write the port the server listens on to this file once serving");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error");
ABSL_FLAG(uint64_t, max_cached_projects, 10000,
          "project states the rules keep in memory (least recently used are dropped and "
          "rebuilt from the log when needed)");
ABSL_FLAG(uint64_t, max_cached_event_ids, 4 << 20,
          "event ids kept in memory for idempotency checks (≈30 bytes each); idle projects "
          "beyond it are reloaded from disk on their next append");
ABSL_FLAG(uint64_t, block_cache_mb, 256,
          "read cache in MiB (RocksDB block cache, snapshots included); filled on demand");
ABSL_FLAG(uint64_t, wal_prepare_mb, 64,
          "write each new write-ahead log file full of zeros ahead of time (MiB; 0: off), "
          "so synced appends overwrite blocks instead of growing the file: one device write "
          "less per sync, at the cost of that much more disk for the spare");
ABSL_FLAG(uint64_t, caller_append_max_bytes, 4096,
          "appends of at most this many payload bytes are prepared on the gRPC thread that "
          "receives them, which also writes, syncs and answers the group when no write is "
          "under way (no hand-off to the log's threads); larger ones go through the log's "
          "writer thread. 0: every append goes through the log's threads");
ABSL_FLAG(uint64_t, snapshot_every, 1000,
          "snapshot a project's state every this many events (0: never); snapshots are a "
          "cache that makes past states fast to read");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("accordd --listen=127.0.0.1:7700 --data_dir=./data");
  absl::ParseCommandLine(argc, argv);
  accord::server::TuneMallocForLargeBuffers();
  // Debian's Abseil checks every mutex acquisition for lock-order cycles (a debug aid,
  // ~3% of server CPU); the tests keep it on, the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ accordd: %v");

  // Signals are taken by sigwait below, not by whichever thread they land on.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  accord::storage::EventLogOptions log_options;
  log_options.data_dir = absl::GetFlag(FLAGS_data_dir);
  log_options.block_cache_bytes = absl::GetFlag(FLAGS_block_cache_mb) << 20;
  log_options.max_cached_event_ids = absl::GetFlag(FLAGS_max_cached_event_ids);
  // A WAL larger than a few memtables is never needed; a typo must not fill the disk.
  constexpr uint64_t kMaxWalPrepareMb = 1024;
  if (absl::GetFlag(FLAGS_wal_prepare_mb) > kMaxWalPrepareMb) {
    spdlog::error("--wal_prepare_mb must be 0..{}, got {}", kMaxWalPrepareMb,
                  absl::GetFlag(FLAGS_wal_prepare_mb));
    return 2;
  }
  log_options.prepared_wal_bytes = absl::GetFlag(FLAGS_wal_prepare_mb) << 20;
  log_options.caller_append_max_bytes = absl::GetFlag(FLAGS_caller_append_max_bytes);
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "sync") {
    log_options.durability = accord::storage::Durability::kSync;
  } else if (durability == "no_sync_may_lose_acked") {
    log_options.durability = accord::storage::Durability::kNoSyncMayLoseAcked;
  } else {
    spdlog::error("--durability must be sync or no_sync_may_lose_acked, got '{}'", durability);
    return 2;
  }

  // Domain rules run inside the log's writer, atomically with each append.
  accord::server::ProjectRulesGuard rules_guard(absl::GetFlag(FLAGS_snapshot_every),
                                                absl::GetFlag(FLAGS_max_cached_projects));
  log_options.append_guard = &rules_guard;
  auto log = accord::storage::OpenEventLog(log_options);
  if (!log.ok()) {
    spdlog::error("cannot open event log: {}", log.status().ToString());
    return 1;
  }
  for (const std::string& note : (*log)->RecoveryNotes()) spdlog::warn("recovery: {}", note);
  spdlog::info("event log open at {} ({}, durability {}, last position {})",
               log_options.data_dir, (*log)->EngineName(), durability, (*log)->LastPosition());

  accord::server::ServerOptions server_options;
  server_options.listen_address = absl::GetFlag(FLAGS_listen);
  server_options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  auto server = accord::server::AccordServer::Start(server_options, log->get());
  if (!server.ok()) {
    spdlog::error("{}", server.status().ToString());
    return 1;
  }
  const std::string host =
      server_options.listen_address.substr(0, server_options.listen_address.rfind(':'));
  spdlog::info("listening on {}:{} (plaintext)", host, (*server)->port());
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("signal {}: draining", signal_number);
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  if (absl::Status s = (*log)->Close(); !s.ok()) {
    spdlog::error("closing event log: {}", s.ToString());
    return 1;
  }
  spdlog::info("event log closed; bye");
  return 0;
}
