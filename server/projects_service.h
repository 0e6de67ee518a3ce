// ProjectsService: the accord.v1.Projects gRPC service: project state now or as of a
// version or time, the portfolio, decision history, progress reports and client
// responsiveness. Thin: it translates requests, reads the project's events
// (project_reader.h) and delegates to the pure functions of server/domain/.
//
// Every answer is computed by replaying the project's stream (cost O(stream length));
// persisted projections and snapshots are the next step.
#ifndef ACCORD_SERVER_PROJECTS_SERVICE_H_
#define ACCORD_SERVER_PROJECTS_SERVICE_H_

#include "accord/v1/projects.grpc.pb.h"
#include "server/arena_message_allocator.h"
#include "storage/event_log.h"

namespace accord::server {

class ProjectsService final : public accord::v1::Projects::CallbackService {
 public:
  explicit ProjectsService(storage::EventLog* log) : log_(log) {
    SetMessageAllocatorFor_GetProject(&get_project_allocator_);
  }

  grpc::ServerUnaryReactor* GetProject(grpc::CallbackServerContext* context,
                                       const accord::v1::GetProjectRequest* request,
                                       accord::v1::GetProjectResponse* response) override;
  grpc::ServerUnaryReactor* ListProjects(grpc::CallbackServerContext* context,
                                         const accord::v1::ListProjectsRequest* request,
                                         accord::v1::ListProjectsResponse* response) override;
  grpc::ServerUnaryReactor* GetDecisionHistory(
      grpc::CallbackServerContext* context, const accord::v1::GetDecisionHistoryRequest* request,
      accord::v1::GetDecisionHistoryResponse* response) override;
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* context,
                                      const accord::v1::GetReportRequest* request,
                                      accord::v1::ProgressReport* response) override;
  grpc::ServerWriteReactor<accord::v1::RebuildProgress>* RebuildProjections(
      grpc::CallbackServerContext* context,
      const accord::v1::RebuildProjectionsRequest* request) override;
  grpc::ServerUnaryReactor* GetClientResponsiveness(
      grpc::CallbackServerContext* context,
      const accord::v1::GetClientResponsivenessRequest* request,
      accord::v1::GetClientResponsivenessResponse* response) override;

 private:
  storage::EventLog* const log_;
  ArenaMessageAllocator<accord::v1::GetProjectRequest, accord::v1::GetProjectResponse>
      get_project_allocator_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECTS_SERVICE_H_
