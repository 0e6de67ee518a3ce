// accordd as a real child process on an ephemeral loopback port, for tests that must
// kill it or must not share its address space.
#ifndef ACCORD_TESTS_SERVER_SERVER_PROCESS_H_
#define ACCORD_TESTS_SERVER_SERVER_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace accord::testing {

// accordd as a child process on an ephemeral loopback port.
class ServerProcess {
 public:
  // Starts accordd (path from the ACCORDD_PATH compile definition) and waits until it
  // serves. Its output goes to WORK_DIR/accordd.log.
  ServerProcess(const std::string& data_dir, const std::string& work_dir,
                std::vector<std::string> extra_flags = {})
      : port_file_(work_dir + "/port") {
    ::unlink(port_file_.c_str());
    std::vector<std::string> args = {ACCORDD_PATH, "--listen=127.0.0.1:0",
                                     "--data_dir=" + data_dir, "--port_file=" + port_file_,
                                     "--log_level=warn"};
    args.insert(args.end(), extra_flags.begin(), extra_flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = work_dir + "/accordd.log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    EXPECT_EQ(posix_spawn(&pid_, ACCORDD_PATH, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      std::ifstream in(port_file_);
      if (in >> port_ && port_ > 0) break;
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_GT(port_, 0) << "accordd did not start; see " << log;
  }
  ~ServerProcess() { Kill(SIGKILL); }

  // Sends `signal` and waits for the process; returns its wait status.
  int Kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_SERVER_SERVER_PROCESS_H_
