// The `accord` CLI as a user runs it: a real binary against a real server on loopback.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/server/test_server.h"

namespace accord::testing {
namespace {

struct CliRun {
  int exit_code;
  std::string output;  // stdout and stderr together.
};

class CliTest : public ::testing::Test {
 protected:
  CliRun Accord(const std::string& args) {
    const std::string command =
        absl::StrCat(ACCORD_CLI_PATH, " --target=", server_.target(), " ", args, " 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  TempDir dir_;
  InProcessServer server_;
};

TEST_F(CliTest, AppendFromJsonThenReadShowsTheEvent) {
  const std::string file = WriteFile(
      "e.json", R"({"project_created": {"name": "Website relaunch", "client_org": "Acme"}})");
  CliRun append = Accord("--actor alice --role manager append demo --json " + file +
                      " --expected-version no_stream");
  EXPECT_EQ(append.exit_code, 0) << append.output;
  EXPECT_NE(append.output.find("appended: demo versions 1..1"), std::string::npos) << append.output;
  CliRun read = Accord("read demo");
  EXPECT_EQ(read.exit_code, 0);
  EXPECT_NE(read.output.find("project_created"), std::string::npos) << read.output;
  EXPECT_NE(read.output.find("alice/manager"), std::string::npos) << read.output;
  CliRun json = Accord("read-all --json");
  EXPECT_NE(json.output.find("\"event_type\":\"project_created\""), std::string::npos) << json.output;
}

TEST_F(CliTest, AppendAcceptsAnArrayWithShortEnumNames) {
  const std::string file = WriteFile("a.json", R"([
    {"payload": {"status_updated": {"health": "HEALTH_AMBER"}}, "visibility": "CLIENT"},
    {"payload": {"feedback_received": {"feedback_id": "f1", "text": "slow replies"}}}])");
  CliRun append = Accord("append demo --json " + file);
  EXPECT_EQ(append.exit_code, 0) << append.output;
  EXPECT_NE(append.output.find("versions 1..2"), std::string::npos) << append.output;
  EXPECT_NE(Accord("read demo").output.find("client"), std::string::npos);
}

TEST_F(CliTest, ConflictExitsFiveWithOneLineNamingTheCode) {
  const std::string file = WriteFile("e.json", R"({"status_updated": {"health": "HEALTH_GREEN"}})");
  ASSERT_EQ(Accord("append demo --json " + file).exit_code, 0);
  CliRun conflict = Accord("append demo --json " + file + " --expected-version no_stream");
  EXPECT_EQ(conflict.exit_code, 5);
  EXPECT_EQ(conflict.output.rfind("accord: ABORTED: ", 0), 0u) << conflict.output;
  EXPECT_NE(conflict.output.find("current version is 1"), std::string::npos);
}

TEST_F(CliTest, ReadOfUnknownProjectExitsFour) {
  CliRun read = Accord("read ghost");
  EXPECT_EQ(read.exit_code, 4);
  EXPECT_NE(read.output.find("NOT_FOUND"), std::string::npos) << read.output;
}

TEST_F(CliTest, InvalidJsonExitsTwo) {
  CliRun bad = Accord("append demo --json " + WriteFile("bad.json", "{not json"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

TEST_F(CliTest, ServerRejectionExitsSixNamingTheField) {
  const std::string file =
      WriteFile("e.json", R"({"status_updated": {"health": "HEALTH_GREEN", "percent_complete": 150}})");
  CliRun r = Accord("append demo --json " + file);
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("percent_complete"), std::string::npos) << r.output;
}

TEST_F(CliTest, HealthPrintsServing) {
  CliRun health = Accord("health");
  EXPECT_EQ(health.exit_code, 0);
  EXPECT_NE(health.output.find("SERVING"), std::string::npos);
}

TEST_F(CliTest, UnreachableServerExitsThree) {
  CliRun r = {0, ""};
  FILE* pipe = popen(absl::StrCat(ACCORD_CLI_PATH, " --target=127.0.0.1:1 health 2>&1").c_str(), "r");
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) r.output += buf;
  const int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 3) << r.output;
}

TEST_F(CliTest, TailShowsEventsAppendedWhileItRuns) {
  const std::string out = dir_.Sub("tail.out");
  const std::string command = absl::StrCat(ACCORD_CLI_PATH, " --target=", server_.target(),
                                           " tail demo > ", out, " 2>&1 & echo $!");
  FILE* pipe = popen(command.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(fscanf(pipe, "%d", &pid), 1);
  pclose(pipe);
  auto contents = [&] {
    std::ifstream in(out);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  auto wait_for = [&](const std::string& needle) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && contents().find(needle) == std::string::npos) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return contents().find(needle) != std::string::npos;
  };
  EXPECT_TRUE(wait_for("-- live")) << contents();
  const std::string file =
      WriteFile("e.json", R"({"status_updated": {"health": "HEALTH_GREEN", "summary": "live one"}})");
  ASSERT_EQ(Accord("append demo --json " + file).exit_code, 0);
  EXPECT_TRUE(wait_for("live one")) << contents();
  kill(pid, SIGTERM);
}

}  // namespace
}  // namespace accord::testing
