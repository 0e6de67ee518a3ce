#include "server/projects_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/domain/decision_history.h"
#include "server/domain/event_validation.h"
#include "server/domain/portfolio.h"
#include "server/domain/progress_report.h"
#include "server/projection_rebuilder.h"
#include "spdlog/spdlog.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/event_translation.h"
#include "server/project_reader.h"
#include "server/status_mapping.h"

namespace accord::server {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Time NowOr(bool has_now, const google::protobuf::Timestamp& now) {
  return has_now ? TimeOf(now) : absl::Now();
}

// A request's optional timestamp, checked when set (a raw client can send any seconds and
// nanos).
absl::Status CheckTimestamp(bool has, const google::protobuf::Timestamp& t,
                            std::string_view field) {
  return has ? domain::ValidateTimestamp(t, field) : absl::OkStatus();
}

absl::StatusOr<uint32_t> PageSize(uint32_t requested) {
  if (requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: at most ", kMaxPageSize, ", got ", requested));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

// A page of project ids after `page_token` (the last id of the previous page), of the
// requested size (validated; 0 means the default).
absl::Status ProjectPage(storage::EventLog& log, const std::string& page_token,
                         uint32_t requested_size, std::vector<std::string>* ids,
                         std::string* next_token) {
  auto page_size = PageSize(requested_size);
  if (!page_size.ok()) return page_size.status();
  if (!page_token.empty()) {
    if (absl::Status s = ValidateProjectId(page_token, "page_token"); !s.ok()) return s;
  }
  if (absl::Status s = log.ListProjects(page_token, *page_size + 1, ids); !s.ok()) return s;
  next_token->clear();
  if (ids->size() > *page_size) {
    ids->resize(*page_size);
    *next_token = ids->back();
  }
  return absl::OkStatus();
}

// Adds view(state) to `out` for each project of `ids`, with `now` as the clock.
template <typename Item, typename View>
absl::Status AddProjectViews(storage::EventLog& log, const std::vector<std::string>& ids,
                             absl::Time now, google::protobuf::RepeatedPtrField<Item>* out,
                             View view) {
  domain::ReplayOptions options;
  options.now = now;
  for (const std::string& id : ids) {
    auto state = ReadProjectState(log, id, options);
    if (!state.ok()) return state.status();
    *out->Add() = view(*state);
  }
  return absl::OkStatus();
}

// Answers `reactor` with `status` (OK or the error) and returns it, for one-line exits.
grpc::ServerUnaryReactor* Done(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Streams a rebuild's progress: the rebuild runs on its own thread (it reads the whole
// log), posting progress here; only the newest unsent progress is kept, so a slow client
// sees fewer updates rather than making the rebuild wait.
class RebuildReactor final : public grpc::ServerWriteReactor<accord::v1::RebuildProgress> {
 public:
  // Finishes at once with `precheck` when it is an error.
  RebuildReactor(storage::EventLog* log, std::string project_id, uint32_t threads,
                 const absl::Status& precheck) {
    if (!precheck.ok()) {
      absl::MutexLock lock(&mu_);
      finished_ = true;
      Finish(ToGrpcStatus(precheck));
      return;
    }
    worker_ = std::thread([this, log, project_id, threads] {
      absl::Status status = RebuildProjections(
          *log, project_id, threads, absl::Milliseconds(200), cancelled_,
          [&](const accord::v1::RebuildProgress& p) {
            spdlog::info("rebuild{}: {}/{} projects, {}/{} events, {:.0f} events/s on {} threads",
                         project_id.empty() ? "" : " of " + project_id, p.projects_done(),
                         p.projects_total(), p.events_done(), p.events_total(),
                         p.events_per_second(), p.threads());
            Post(p);
          });
      absl::MutexLock lock(&mu_);
      final_status_ = ToGrpcStatus(status);
      MaybeWriteOrFinishLocked();
    });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
    MaybeWriteOrFinishLocked();
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override {
    if (worker_.joinable()) worker_.join();
    delete this;
  }

 private:
  void Post(const accord::v1::RebuildProgress& progress) {
    absl::MutexLock lock(&mu_);
    pending_ = progress;
    MaybeWriteOrFinishLocked();
  }
  void MaybeWriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (pending_.has_value() && !cancelled_) {
      sending_ = *std::move(pending_);
      pending_.reset();
      writing_ = true;
      StartWrite(&sending_);
      return;
    }
    if (final_status_.has_value()) {
      finished_ = true;
      Finish(*final_status_);
    }
  }

  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  std::optional<accord::v1::RebuildProgress> pending_ ABSL_GUARDED_BY(mu_);
  accord::v1::RebuildProgress sending_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;  // Joined in OnDone, which comes after Finish.
};

// Parses a raw method's request bytes into `*request`.
bool ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::MessageLite* request) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) return false;
  if (slices.size() == 1) {
    return request->ParseFromArray(slices[0].begin(), static_cast<int>(slices[0].size()));
  }
  std::string joined;
  for (const grpc::Slice& slice : slices) {
    joined.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return request->ParseFromString(joined);
}

// A serialized GetProjectResponse from `*bytes`, whose first `room` bytes are free and
// the rest a serialized ProjectState: its field tag and length go in just before it. The
// buffer is handed to gRPC as is (no copy of a multi-megabyte state).
grpc::ByteBuffer StateResponse(std::unique_ptr<std::string> bytes, size_t room) {
  const size_t state_size = bytes->size() - room;
  uint8_t prefix[11];
  prefix[0] = (accord::v1::GetProjectResponse::kStateFieldNumber << 3) | 2;  // Length-delimited.
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(
      state_size, prefix + 1);
  const size_t prefix_size = end - prefix;
  char* start = bytes->data() + room - prefix_size;
  std::memcpy(start, prefix, prefix_size);
  // The slice owns the buffer from here; its destroy callback takes it back and frees it.
  grpc::Slice slice(start, prefix_size + state_size,
                    [](void* p) { std::unique_ptr<std::string> owned(static_cast<std::string*>(p)); },
                    bytes.release());
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

grpc::ServerWriteReactor<accord::v1::RebuildProgress>* ProjectsService::RebuildProjections(
    grpc::CallbackServerContext* context, const accord::v1::RebuildProjectionsRequest* request) {
  const absl::Status precheck = request->project_id().empty()
                                   ? absl::OkStatus()
                                   : ValidateProjectId(request->project_id(), "project_id");
  return new RebuildReactor(log_, request->project_id(), request->threads(), precheck);
}

grpc::ServerUnaryReactor* ProjectsService::GetProject(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request_bytes,
                                                      grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  accord::v1::GetProjectRequest request;
  if (!ParseRequest(*request_bytes, &request)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: not a serialized accord.v1.GetProjectRequest"));
    return reactor;
  }
  if (absl::Status s = ValidateProjectId(request.project_id(), "project_id"); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  domain::ReplayOptions options;
  switch (request.as_of_case()) {
    case accord::v1::GetProjectRequest::kAsOfVersion:
      if (request.as_of_version() == 0) {
        reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("as_of_version: must be >= 1")));
        return reactor;
      }
      options.up_to_version = request.as_of_version();
      break;
    case accord::v1::GetProjectRequest::kAsOfTime:
      if (absl::Status s = CheckTimestamp(true, request.as_of_time(), "as_of_time"); !s.ok()) {
        reactor->Finish(ToGrpcStatus(s));
        return reactor;
      }
      options.recorded_up_to = TimeOf(request.as_of_time());
      break;
    case accord::v1::GetProjectRequest::AS_OF_NOT_SET:
      break;
  }
  if (absl::Status s = CheckTimestamp(request.has_now(), request.now(), "now"); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  options.now = NowOr(request.has_now(), request.now());
  // GetProjectResponse { ProjectState state = 1; }: the state's bytes behind its tag and
  // length. Reserve room for those, then fill them in once the state's size is known.
  constexpr size_t kPrefixRoom = 1 + 10;
  auto bytes = std::make_unique<std::string>(kPrefixRoom, '\0');
  absl::Status status = ReadProjectStateBytes(*log_, request.project_id(), options, bytes.get());
  if (!status.ok()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  *response_bytes = StateResponse(std::move(bytes), kPrefixRoom);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace accord::server

namespace accord::server {

grpc::ServerUnaryReactor* ProjectsService::ListProjects(
    grpc::CallbackServerContext* context, const accord::v1::ListProjectsRequest* request,
    accord::v1::ListProjectsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = CheckTimestamp(request->has_now(), request->now(), "now"); !s.ok()) {
    return Done(reactor, s);
  }
  std::vector<std::string> ids;
  if (absl::Status s = ProjectPage(*log_, request->page_token(), request->page_size(), &ids,
                                   response->mutable_next_page_token());
      !s.ok()) {
    return Done(reactor, s);
  }
  return Done(reactor, AddProjectViews(*log_, ids, NowOr(request->has_now(), request->now()),
                                       response->mutable_projects(), domain::SummarizeProject));
}

grpc::ServerUnaryReactor* ProjectsService::GetDecisionHistory(
    grpc::CallbackServerContext* context, const accord::v1::GetDecisionHistoryRequest* request,
    accord::v1::GetDecisionHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
    return Done(reactor, s);
  }
  if (absl::Status s = domain::ValidateFilter(*request); !s.ok()) return Done(reactor, s);
  auto page_size = PageSize(request->page_size());
  if (!page_size.ok()) return Done(reactor, page_size.status());
  // The history only grows at its end, so an offset into the filtered list is a stable
  // page token.
  uint64_t offset = 0;
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &offset)) {
    return Done(reactor, absl::InvalidArgumentError("page_token: not a token this server issued"));
  }
  absl::Status read = decision_histories_.Read(  // NOT_FOUND if the project has none.
      request->project_id(), [&](const std::vector<accord::v1::DecisionEntry>& history) {
        uint64_t index = 0;
        for (const auto& entry : history) {
          if (!domain::MatchesFilter(entry, *request)) continue;
          if (index++ < offset) continue;
          if (response->decisions_size() == static_cast<int>(*page_size)) {
            response->set_next_page_token(absl::StrCat(offset + *page_size));
            break;
          }
          *response->add_decisions() = entry;
        }
      });
  if (!read.ok()) return Done(reactor, read);
  return Done(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* ProjectsService::GetReport(grpc::CallbackServerContext* context,
                                                     const accord::v1::GetReportRequest* request,
                                                     accord::v1::ProgressReport* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
    return Done(reactor, s);
  }
  auto period = domain::ParsePeriod(request->period());
  if (!period.ok()) return Done(reactor, period.status());
  if (absl::Status s = CheckTimestamp(request->has_now(), request->now(), "now"); !s.ok()) {
    return Done(reactor, s);
  }
  // States read from a snapshot and the events after it (not the whole stream): the latest
  // names the project's zone, which places the period's end; a period that ends before the
  // last event needs a second read, as of that end.
  auto state = ReadProjectState(*log_, request->project_id(), {});  // NOT_FOUND if none.
  if (!state.ok()) return Done(reactor, state.status());
  const absl::TimeZone zone = domain::ProjectZone(*state);
  const domain::ReplayOptions at_end =
      domain::ReportReplayOptions(*period, zone, NowOr(request->has_now(), request->now()));
  if (!at_end.recorded_up_to.has_value() ||
      *at_end.recorded_up_to < TimeOf(state->last_activity())) {
    state = ReadProjectState(*log_, request->project_id(), at_end);
    if (!state.ok()) return Done(reactor, state.status());
  } else if (at_end.now.has_value()) {
    domain::ComputeAsOf(*at_end.now, &*state);  // What the read as of the end would apply.
  }
  *response = domain::ReportFromState(*state, *period, zone);
  response->set_project_id(request->project_id());
  return Done(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* ProjectsService::GetClientResponsiveness(
    grpc::CallbackServerContext* context,
    const accord::v1::GetClientResponsivenessRequest* request,
    accord::v1::GetClientResponsivenessResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = CheckTimestamp(request->has_now(), request->now(), "now"); !s.ok()) {
    return Done(reactor, s);
  }
  std::vector<std::string> ids;
  if (!request->project_id().empty()) {
    if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
      return Done(reactor, s);
    }
    ids.push_back(request->project_id());
  } else if (absl::Status s = ProjectPage(*log_, request->page_token(), request->page_size(),
                                          &ids, response->mutable_next_page_token());
             !s.ok()) {
    return Done(reactor, s);
  }
  return Done(reactor, AddProjectViews(*log_, ids, NowOr(request->has_now(), request->now()),
                                       response->mutable_projects(),
                                       domain::ComputeResponsiveness));
}

}  // namespace accord::server
