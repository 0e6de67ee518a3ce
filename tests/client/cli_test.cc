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

// The domain commands, on the sample projects `accord demo` seeds (it walks the whole
// lifecycle: charter sign-off, a change approved by two approvers, an acceptance, ...).
class CliDomainTest : public CliTest {
 protected:
  void SetUp() override {
    CliRun demo = Accord("demo");
    ASSERT_EQ(demo.exit_code, 0) << demo.output;
  }
  // How many lines of `text` contain `needle`.
  static int Lines(const std::string& text, const std::string& needle) {
    int n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
  }
};

TEST_F(CliDomainTest, ProjectListShowsTheSeededProjectsAsATableAndAsJson) {
  CliRun table = Accord("project list");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(Lines(table.output, "PROJECT"), 1) << table.output;  // One header row.
  EXPECT_EQ(Lines(table.output, "Website relaunch"), 1) << table.output;
  EXPECT_EQ(Lines(table.output, "CLOSED"), 1) << table.output;
  CliRun json = Accord("project list --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(Lines(json.output, "\"project_id\":\"demo\""), 1) << json.output;
  EXPECT_EQ(Lines(json.output, "\"project_id\":\"demo-closed\""), 1) << json.output;
}

TEST_F(CliDomainTest, ProjectShowAsOfAVersionShowsThePastState) {
  CliRun now = Accord("project show demo --json");
  ASSERT_EQ(now.exit_code, 0) << now.output;
  EXPECT_NE(now.output.find("\"status\": \"LIFECYCLE_STATUS_ACTIVE\""), std::string::npos)
      << now.output;
  CliRun first = Accord("project show demo --as-of 1 --json");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("\"version\": \"1\""), std::string::npos) << first.output;
  EXPECT_EQ(first.output.find("CR-1"), std::string::npos) << "the change came later";
  CliRun table = Accord("project show demo");
  EXPECT_NE(table.output.find("Website relaunch for Acme Retail"), std::string::npos)
      << table.output;
  EXPECT_EQ(Accord("project show demo --as-of yesterday").exit_code, 2);
}

TEST_F(CliDomainTest, HistoryFiltersByKindActorAndTime) {
  CliRun all = Accord("history demo --json");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_GE(Lines(all.output, "\"kind\":"), 5) << all.output;
  CliRun acceptance = Accord("history demo --kind acceptance --json");
  ASSERT_EQ(acceptance.exit_code, 0) << acceptance.output;
  EXPECT_EQ(Lines(acceptance.output, "\"kind\":"), 1) << acceptance.output;
  EXPECT_EQ(Lines(acceptance.output, "DECISION_KIND_ACCEPTANCE"), 1) << acceptance.output;
  // Decisions carol made or appended (a change approval alice recorded on carol's word
  // counts), and none of alice's own.
  CliRun by_carol = Accord("history demo --actor carol --json");
  ASSERT_EQ(by_carol.exit_code, 0) << by_carol.output;
  EXPECT_GE(Lines(by_carol.output, "\"kind\":"), 4) << by_carol.output;
  EXPECT_EQ(Lines(by_carol.output, "carol"), Lines(by_carol.output, "\"kind\":"))
      << by_carol.output;
  EXPECT_LT(Lines(by_carol.output, "\"kind\":"), Lines(all.output, "\"kind\":"));
  // Everything was recorded just now: nothing before an hour ago, all of it after.
  const std::string hour_ago = absl::FormatTime(absl::RFC3339_sec, absl::Now() - absl::Hours(1),
                                                absl::UTCTimeZone());
  CliRun before = Accord("history demo --json --to " + hour_ago);
  ASSERT_EQ(before.exit_code, 0) << before.output;
  EXPECT_EQ(Lines(before.output, "\"kind\":"), 0) << before.output;
  CliRun after = Accord("history demo --json --from " + hour_ago);
  EXPECT_EQ(Lines(after.output, "\"kind\":"), Lines(all.output, "\"kind\":")) << after.output;
  EXPECT_EQ(Accord("history demo --from soon").exit_code, 2);
  CliRun unknown_kind = Accord("history demo --kind vibes");
  EXPECT_EQ(unknown_kind.exit_code, 2);
  EXPECT_NE(unknown_kind.output.find("unknown kind vibes (one of: scope_sign_off, "),
            std::string::npos)
      << unknown_kind.output;
  EXPECT_EQ(Accord("history demo --kind unspecified").exit_code, 2);
}

TEST_F(CliDomainTest, ReportIsMarkdownByDefaultAndStructuredWithJson) {
  // A custom period around today (the sample's events are recorded now).
  auto day = [](absl::Duration d) {
    return absl::FormatTime("%Y-%m-%d", absl::Now() + d, absl::UTCTimeZone());
  };
  const std::string period = day(-absl::Hours(48)) + ".." + day(absl::Hours(48));
  CliRun markdown = Accord("report demo --period " + period);
  ASSERT_EQ(markdown.exit_code, 0) << markdown.output;
  EXPECT_EQ(markdown.output.rfind("# Progress report: Website relaunch", 0), 0)
      << markdown.output;
  EXPECT_NE(markdown.output.find("Product photos"), std::string::npos)
      << "the overdue client action is missing:\n" << markdown.output;
  CliRun json = Accord("report demo --json --period " + period);
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"period\": \"" + period + "\""), std::string::npos) << json.output;
  EXPECT_EQ(Accord("report demo --period someday").exit_code, 6);
}

TEST_F(CliDomainTest, ResponsivenessShowsWhatTheClientOwesPerProject) {
  CliRun table = Accord("responsiveness");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("demo"), std::string::npos) << table.output;
  CliRun json = Accord("responsiveness demo --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"project_id\""), std::string::npos) << json.output;
}

}  // namespace
}  // namespace accord::testing
