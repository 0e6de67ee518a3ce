// accord: the command-line client. `accord --help` lists the subcommands.
//
// Exit codes: 0 success; 2 bad usage or input; 3 server unreachable or unavailable;
// 4 not found; 5 conflict (wrong expected version, rule or idempotency violation);
// 6 rejected as invalid by the server; 1 any other error. Errors print one line:
// "accord: CODE: message".
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/accord_client.h"
#include "client/demo.h"
#include "client/project_view.h"
#include "google/protobuf/util/json_util.h"

namespace {

using accord::client::AccordClient;
using accord::client::ClientOptions;

int ExitCodeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return 3;
    case absl::StatusCode::kNotFound: return 4;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists: return 5;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted: return 6;
    default: return 1;
  }
}

int Fail(const absl::Status& status) {
  std::cerr << "accord: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return ExitCodeFor(status.code());
}

int UsageError(const std::string& message) {
  std::cerr << "accord: " << message << "\n";
  return 2;
}

// The values `accord history --kind` takes: DecisionKind's names in lower case without
// their prefix, from the proto, so a kind added there is offered here too.
std::string DecisionKindNames() {
  const google::protobuf::EnumDescriptor* kinds = accord::v1::DecisionKind_descriptor();
  std::string names;
  for (int i = 0; i < kinds->value_count(); ++i) {
    if (kinds->value(i)->number() == accord::v1::DECISION_KIND_UNSPECIFIED) continue;
    std::string name = kinds->value(i)->name().substr(std::string_view("DECISION_KIND_").size());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    absl::StrAppend(&names, names.empty() ? "" : ", ", name);
  }
  return names;
}

std::string ToJson(const google::protobuf::Message& m, bool pretty = false) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                          absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                          absl::UTCTimeZone());
}

void PrintEvent(const accord::v1::RecordedEvent& e, bool json) {
  if (json) {
    std::cout << ToJson(e) << std::endl;
    return;
  }
  std::cout << "#" << e.position() << "  " << e.project_id() << "@" << e.version() << "  "
            << e.event_type() << "  " << FormatTime(e.recorded_at()) << "  "
            << e.actor().principal() << (e.actor().role().empty() ? "" : "/")
            << e.actor().role() << "  "
            << (e.visibility() == accord::v1::VISIBILITY_CLIENT ? "client" : "internal") << "  "
            << ToJson(e.payload()) << std::endl;
}

// Prints rows as left-aligned columns; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

// Enum value name without its type prefix: HEALTH_GREEN -> GREEN.
std::string Short(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

bool ParseTimestamp(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return false;
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(out->seconds()))));
  return true;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    buffer << in.rdbuf();
  }
  return buffer.str();
}

// Accepts an AppendRequest, a JSON array of ProposedEvents, one ProposedEvent, or a bare
// EventPayload ({"status_updated": {...}}), in the protobuf JSON mapping.
absl::StatusOr<accord::v1::AppendRequest> ParseAppendJson(const std::string& text) {
  google::protobuf::util::JsonParseOptions options;
  accord::v1::AppendRequest request;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return absl::InvalidArgumentError("the JSON input is empty");
  std::string error;
  if (text[first] == '[') {
    auto s = google::protobuf::util::JsonStringToMessage("{\"events\":" + text + "}", &request,
                                                         options);
    if (s.ok()) return request;
    return absl::InvalidArgumentError(absl::StrCat("not an array of events: ", s.ToString()));
  }
  auto s = google::protobuf::util::JsonStringToMessage(text, &request, options);
  if (s.ok() && request.events_size() > 0) return request;
  error = s.ToString();
  accord::v1::ProposedEvent event;
  if (google::protobuf::util::JsonStringToMessage(text, &event, options).ok() &&
      event.has_payload()) {
    request.Clear();
    *request.add_events() = event;
    return request;
  }
  accord::v1::EventPayload payload;
  if (google::protobuf::util::JsonStringToMessage(text, &payload, options).ok() &&
      payload.event_case() != accord::v1::EventPayload::EVENT_NOT_SET) {
    request.Clear();
    *request.add_events()->mutable_payload() = payload;
    return request;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "expected an AppendRequest, an array of events, an event or a payload in protobuf "
      "JSON (", error, ")"));
}

absl::Status SetExpectedVersion(const std::string& text, accord::v1::ExpectedVersion* out) {
  uint64_t exact = 0;
  if (text.empty() || text == "any") {
    out->mutable_any();
  } else if (text == "no_stream") {
    out->mutable_no_stream();
  } else if (text == "stream_exists") {
    out->mutable_stream_exists();
  } else if (absl::SimpleAtoi(text, &exact)) {
    out->set_exact(exact);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--expected-version must be any, no_stream, stream_exists or a number, got ", text));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"accord: command-line client for the Accord event store"};
  app.require_subcommand(1);
  ClientOptions options;
  app.add_option("--target", options.target, "server address HOST:PORT ($ACCORD_TARGET)")
      ->capture_default_str();
  app.add_option("--actor", options.actor, "principal recorded on appended events");
  app.add_option("--role", options.role, "role recorded on appended events");

  // append
  auto* append = app.add_subcommand("append", "append events to a project from JSON");
  std::string project, json_path, expected = "any";
  append->add_option("PROJECT", project, "project id")->required();
  append->add_option("--json", json_path, "file with the events in protobuf JSON, or - for stdin")
      ->required();
  append->add_option("--expected-version", expected,
                     "any, no_stream, stream_exists or the exact current version");

  // read
  auto* read = app.add_subcommand("read", "print a project's events");
  uint64_t from = 0, max_count = 0;
  bool backwards = false, json = false;
  read->add_option("PROJECT", project, "project id")->required();
  read->add_option("--from", from, "first version (inclusive)");
  read->add_option("--max", max_count, "at most this many events");
  read->add_flag("--backwards", backwards, "newest first");
  read->add_flag("--json", json, "one JSON object per line");

  auto* read_all = app.add_subcommand("read-all", "print the global log in commit order");
  read_all->add_option("--from", from, "first position (inclusive)");
  read_all->add_option("--max", max_count, "at most this many events");
  read_all->add_flag("--json", json, "one JSON object per line");

  auto* tail = app.add_subcommand("tail", "follow new events live (Ctrl-C to stop)");
  bool all = false, from_start = false;
  tail->add_option("PROJECT", project, "project id (or --all)");
  tail->add_flag("--all", all, "every project");
  tail->add_flag("--from-start", from_start, "print the history first, then follow");
  tail->add_option("--from", from, "start at this version (project) or position (--all)");
  tail->add_flag("--json", json, "one JSON object per line");

  auto* project_cmd = app.add_subcommand("project", "project state");
  project_cmd->require_subcommand(1);
  auto* project_show = project_cmd->add_subcommand(
      "show", "where a project stands, now or as of a version or time");
  std::string as_of, now;
  project_show->add_option("PROJECT", project, "project id")->required();
  project_show->add_option("--as-of", as_of,
                           "a stream version (e.g. 12) or an RFC 3339 time (2026-11-20T10:00:00Z)");
  project_show->add_option("--now", now, "RFC 3339 clock for overdue items (default: now)");
  project_show->add_flag("--json", json, "the full state as JSON");

  auto* project_list = project_cmd->add_subcommand("list", "all projects at a glance");
  project_list->add_flag("--json", json, "JSON, one project per line");
  project_list->add_option("--now", now, "RFC 3339 clock for overdue items (default: now)");

  auto* history = app.add_subcommand("history", "a project's decisions: who, when, why");
  std::vector<std::string> kinds;
  std::string actor_filter;
  history->add_option("PROJECT", project, "project id")->required();
  history->add_option("--kind", kinds, DecisionKindNames() + " (repeatable)");
  history->add_option("--actor", actor_filter, "only decisions by or appended by this principal");
  std::string history_from, history_to;
  history->add_option("--from", history_from, "only decisions recorded at or after this RFC 3339 time");
  history->add_option("--to", history_to, "only decisions recorded before this RFC 3339 time");
  history->add_flag("--json", json, "JSON, one decision per line");

  auto* report = app.add_subcommand("report", "progress report for a period (Markdown)");
  std::string period;
  report->add_option("PROJECT", project, "project id")->required();
  report->add_option("--period", period, "2026-W47, 2026-11 or 2026-11-01..2026-11-15")
      ->required();
  report->add_option("--now", now, "RFC 3339 clock for overdue items (default: now)");
  report->add_flag("--json", json, "the structured report as JSON");

  auto* responsiveness = app.add_subcommand(
      "responsiveness", "how late the client is on what it owes (one project or all)");
  responsiveness->add_option("PROJECT", project, "project id (default: every project)");
  responsiveness->add_flag("--json", json, "JSON");

  auto* demo = app.add_subcommand("demo", "seed a sample client project walking the lifecycle");
  std::string demo_project = "demo";
  demo->add_option("--project", demo_project, "id of the sample project")->capture_default_str();
  demo->add_option("--wait", max_count, "seconds to wait for the server to come up");

  auto* rebuild = app.add_subcommand(
      "rebuild", "replay projects from the log and refresh their snapshots, with progress");
  rebuild->add_option("PROJECT", project, "project id (default: every project)");
  uint32_t rebuild_threads = 0;
  rebuild->add_option("--threads", rebuild_threads,
                      "projects replayed at once (default 0: one per server core, at most 8)");

  auto* health = app.add_subcommand("health", "check that the server is serving");
  auto* info = app.add_subcommand("info", "show the server's version and durability mode");

  CLI11_PARSE(app, argc, argv);
  AccordClient client(options);

  if (*append) {
    auto text = ReadInput(json_path);
    if (!text.ok()) return UsageError(std::string(text.status().message()));
    auto request = ParseAppendJson(*text);
    if (!request.ok()) return UsageError(std::string(request.status().message()));
    request->set_project_id(project);
    if (append->count("--expected-version") > 0 || !request->has_expected_version()) {
      if (auto s = SetExpectedVersion(expected, request->mutable_expected_version()); !s.ok()) {
        return UsageError(std::string(s.message()));
      }
    }
    for (auto& e : *request->mutable_events()) {
      if (e.event_id().empty()) e.set_event_id(accord::client::NewEventId());
    }
    auto response = client.Append(*request);
    if (!response.ok()) return Fail(response.status());
    std::cout << (response->already_written() ? "already written: " : "appended: ") << project
              << " versions " << response->first_version() << ".." << response->last_version()
              << ", last position " << response->last_position() << std::endl;
    return 0;
  }
  if (*read) {
    accord::v1::ReadStreamRequest request;
    request.set_project_id(project);
    request.set_from_version(from);
    request.set_max_count(max_count);
    request.set_direction(backwards ? accord::v1::READ_DIRECTION_BACKWARDS
                                    : accord::v1::READ_DIRECTION_FORWARDS);
    absl::Status s = client.ReadStream(request, [&](const accord::v1::RecordedEvent& e) {
      PrintEvent(e, json);
      return true;
    });
    return s.ok() ? 0 : Fail(s);
  }
  if (*read_all) {
    accord::v1::ReadAllRequest request;
    request.set_from_position(from);
    request.set_max_count(max_count);
    absl::Status s = client.ReadAll(request, [&](const accord::v1::RecordedEvent& e) {
      PrintEvent(e, json);
      return true;
    });
    return s.ok() ? 0 : Fail(s);
  }
  if (*tail) {
    if (all == !project.empty()) return UsageError("tail: give a PROJECT or --all");
    accord::v1::SubscribeRequest request;
    request.set_project_id(project);
    if (from > 0) {
      if (all) request.set_from_position(from); else request.set_from_version(from);
    } else if (!from_start) {
      request.set_from_end(true);
    }
    absl::Status s = client.Subscribe(request, [&](const accord::v1::SubscribeResponse& m) {
      if (m.has_event()) PrintEvent(m.event(), json);
      if (m.has_caught_up()) {
        std::cerr << "-- live (caught up at position " << m.caught_up().position() << ") --"
                  << std::endl;
      }
      return true;
    });
    return Fail(s.ok() ? absl::UnavailableError("server ended the stream") : s);
  }
  if (*project_show) {
    accord::v1::GetProjectRequest request;
    request.set_project_id(project);
    if (!as_of.empty()) {
      uint64_t version = 0;
      if (absl::SimpleAtoi(as_of, &version)) {
        request.set_as_of_version(version);
      } else if (!ParseTimestamp(as_of, request.mutable_as_of_time())) {
        return UsageError("--as-of must be a version number or an RFC 3339 time, got " + as_of);
      }
    }
    if (!now.empty() && !ParseTimestamp(now, request.mutable_now())) {
      return UsageError("--now must be an RFC 3339 time, got " + now);
    }
    auto state = client.GetProject(request);
    if (!state.ok()) return Fail(state.status());
    std::cout << (json ? ToJson(*state, true) + "\n" : accord::client::RenderProject(*state));
    return 0;
  }
  if (*project_list) {
    accord::v1::ListProjectsRequest request;
    if (!now.empty() && !ParseTimestamp(now, request.mutable_now())) {
      return UsageError("--now must be an RFC 3339 time, got " + now);
    }
    std::vector<std::vector<std::string>> rows = {
        {"PROJECT", "NAME", "CLIENT", "STATUS", "HEALTH", "OVERDUE", "CHANGES", "APPROVALS",
         "RISKS", "VERSION", "LAST ACTIVITY"}};
    do {
      auto page = client.ListProjects(request);
      if (!page.ok()) return Fail(page.status());
      for (const auto& p : page->projects()) {
        if (json) {
          std::cout << ToJson(p) << "\n";
          continue;
        }
        rows.push_back({p.project_id(), p.name(), p.client_org(),
                        Short(accord::v1::LifecycleStatus_Name(p.status()), "LIFECYCLE_STATUS_"),
                        Short(accord::v1::Health_Name(p.health()), "HEALTH_"),
                        std::to_string(p.overdue_client_actions()), std::to_string(p.open_changes()),
                        std::to_string(p.open_approvals()), std::to_string(p.open_risks()),
                        std::to_string(p.version()),
                        p.has_last_activity() ? FormatTime(p.last_activity()) : "-"});
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    if (!json) PrintTable(rows);
    return 0;
  }
  if (*history) {
    accord::v1::GetDecisionHistoryRequest request;
    request.set_project_id(project);
    request.set_actor(actor_filter);
    // The largest page the server gives: each page is built from the whole stream.
    request.set_page_size(1000);
    for (const std::string& k : kinds) {
      accord::v1::DecisionKind kind;
      std::string upper = "DECISION_KIND_";
      for (char c : k) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!accord::v1::DecisionKind_Parse(upper, &kind) ||
          kind == accord::v1::DECISION_KIND_UNSPECIFIED) {
        return UsageError("--kind: unknown kind " + k + " (one of: " + DecisionKindNames() + ")");
      }
      request.add_kinds(kind);
    }
    if (!history_from.empty() && !ParseTimestamp(history_from, request.mutable_from_time())) {
      return UsageError("--from must be an RFC 3339 time, got " + history_from);
    }
    if (!history_to.empty() && !ParseTimestamp(history_to, request.mutable_to_time())) {
      return UsageError("--to must be an RFC 3339 time, got " + history_to);
    }
    std::vector<std::vector<std::string>> rows = {
        {"VERSION", "RECORDED", "KIND", "DECIDED BY", "OUTCOME", "SUBJECT", "ANSWERS", "WHY"}};
    do {
      auto page = client.GetDecisionHistory(request);
      if (!page.ok()) return Fail(page.status());
      for (const auto& d : page->decisions()) {
        if (json) {
          std::cout << ToJson(d) << "\n";
          continue;
        }
        rows.push_back({absl::StrCat("v", d.version(), d.retracted() ? " (retracted)" : ""),
                        FormatTime(d.recorded_at()),
                        Short(accord::v1::DecisionKind_Name(d.kind()), "DECISION_KIND_"),
                        d.decided_by().empty() ? d.actor() : d.decided_by(), d.outcome(),
                        d.subject(), d.answers_version() ? absl::StrCat("v", d.answers_version()) : "",
                        d.comment()});
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    if (!json) PrintTable(rows);
    return 0;
  }
  if (*report) {
    accord::v1::GetReportRequest request;
    request.set_project_id(project);
    request.set_period(period);
    if (!now.empty() && !ParseTimestamp(now, request.mutable_now())) {
      return UsageError("--now must be an RFC 3339 time, got " + now);
    }
    auto result = client.GetReport(request);
    if (!result.ok()) return Fail(result.status());
    if (json) {
      std::cout << ToJson(*result, true) << "\n";
    } else {
      std::cout << result->markdown();
    }
    return 0;
  }
  if (*responsiveness) {
    accord::v1::GetClientResponsivenessRequest request;
    request.set_project_id(project);
    std::vector<std::vector<std::string>> rows = {
        {"PROJECT", "REQUESTED", "DONE", "DONE LATE", "OPEN", "OVERDUE", "AVG DAYS LATE",
         "MAX DAYS LATE", "REMINDERS", "ESCALATIONS"}};
    do {
      auto page = client.GetClientResponsiveness(request);
      if (!page.ok()) return Fail(page.status());
      for (const auto& r : page->projects()) {
        if (json) {
          std::cout << ToJson(r) << "\n";
          continue;
        }
        rows.push_back({r.project_id(), std::to_string(r.requested()), std::to_string(r.completed()),
                        std::to_string(r.completed_late()), std::to_string(r.open()),
                        std::to_string(r.open_overdue()), absl::StrFormat("%.1f", r.average_days_late()),
                        std::to_string(r.max_days_late()), std::to_string(r.reminders()),
                        std::to_string(r.escalations())});
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    if (!json) PrintTable(rows);
    return 0;
  }
  if (*demo) {
    // `make run` starts the server and the demo together: wait (bounded) for it to serve.
    const absl::Time deadline = absl::Now() + absl::Seconds(max_count > 0 ? max_count : 30);
    absl::Status up = client.CheckHealth();
    while (!up.ok() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
      up = client.CheckHealth();
    }
    if (!up.ok()) return Fail(up);
    absl::Status s = accord::client::SeedDemo(options.target, demo_project, absl::Now());
    if (!s.ok()) return Fail(s);
    std::cout << "seeded projects " << demo_project << " and " << demo_project << "-closed; try:\n"
              << "  accord project show " << demo_project << "\n"
              << "  accord history " << demo_project << "\n"
              << "  accord report " << demo_project << " --period "
              << absl::FormatTime("%Y-%m", absl::Now(), absl::UTCTimeZone()) << "\n";
    return 0;
  }
  if (*rebuild) {
    accord::v1::RebuildProjectionsRequest request;
    request.set_project_id(project);
    request.set_threads(rebuild_threads);
    accord::v1::RebuildProgress last;
    bool shown = false;
    absl::Status s = client.RebuildProjections(request, [&](const accord::v1::RebuildProgress& p) {
      last = p;
      shown = true;
      const double fraction =
          p.events_total() > 0 ? std::min(1.0, double(p.events_done()) / double(p.events_total())) : 1.0;
      const int filled = static_cast<int>(fraction * 30);
      std::cerr << "\r[" << std::string(filled, '#') << std::string(30 - filled, ' ') << "] "
                << static_cast<int>(fraction * 100) << "%  " << p.projects_done() << "/"
                << p.projects_total() << " projects  " << p.events_done() << "/" << p.events_total()
                << " events  " << static_cast<uint64_t>(p.events_per_second()) << " events/s"
                << std::flush;
    });
    if (shown) std::cerr << "\n";
    if (!s.ok()) return Fail(s);
    std::cout << "rebuilt " << last.projects_done() << " projects, " << last.events_done()
              << " events in " << absl::StrFormat("%.2f", last.elapsed_seconds()) << " s on "
              << last.threads() << (last.threads() == 1 ? " thread\n" : " threads\n");
    return 0;
  }
  if (*health) {
    absl::Status s = client.CheckHealth();
    if (!s.ok()) return Fail(s);
    std::cout << "SERVING" << std::endl;
    return 0;
  }
  if (*info) {
    auto server_info = client.GetServerInfo();
    if (!server_info.ok()) return Fail(server_info.status());
    std::cout << ToJson(*server_info, true) << std::endl;
    return 0;
  }
  return 0;
}
