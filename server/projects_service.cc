#include "server/projects_service.h"

#include "absl/time/clock.h"
#include "server/event_translation.h"
#include "server/project_reader.h"
#include "server/status_mapping.h"

namespace accord::server {

grpc::ServerUnaryReactor* ProjectsService::GetProject(grpc::CallbackServerContext* context,
                                                      const accord::v1::GetProjectRequest* request,
                                                      accord::v1::GetProjectResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  domain::ReplayOptions options;
  switch (request->as_of_case()) {
    case accord::v1::GetProjectRequest::kAsOfVersion:
      if (request->as_of_version() == 0) {
        reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("as_of_version: must be >= 1")));
        return reactor;
      }
      options.up_to_version = request->as_of_version();
      break;
    case accord::v1::GetProjectRequest::kAsOfTime:
      options.recorded_up_to = absl::FromUnixSeconds(request->as_of_time().seconds()) +
                               absl::Nanoseconds(request->as_of_time().nanos());
      break;
    case accord::v1::GetProjectRequest::AS_OF_NOT_SET:
      break;
  }
  options.now = request->has_now() ? absl::FromUnixSeconds(request->now().seconds()) +
                                         absl::Nanoseconds(request->now().nanos())
                                   : absl::Now();
  auto state = ReadProjectState(*log_, request->project_id(), options);
  if (!state.ok()) {
    reactor->Finish(ToGrpcStatus(state.status()));
    return reactor;
  }
  *response->mutable_state() = *std::move(state);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace accord::server
