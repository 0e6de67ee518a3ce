// ProjectsService: the accord.v1.Projects gRPC service: project state now or as of a
// version or time, the portfolio, decision history, progress reports and client
// responsiveness. Thin: it translates requests, reads the project's events
// (project_reader.h) and delegates to the pure functions of server/domain/.
//
// Project states are read from the latest snapshot at or before the wanted version plus
// the events after it (project_reader.h); decision histories are kept between reads and
// carried forward (decision_history_cache.h); the other answers replay the project's
// stream.
#ifndef ACCORD_SERVER_PROJECTS_SERVICE_H_
#define ACCORD_SERVER_PROJECTS_SERVICE_H_

#include "accord/v1/projects.grpc.pb.h"
#include "server/decision_history_cache.h"
#include "storage/event_log.h"

namespace accord::server {

// GetProject is a raw method (bytes in, bytes out): its response is the project state as
// ReadProjectStateBytes writes it, largely the snapshot's own bytes, never parsed whole.
class ProjectsService final
    : public accord::v1::Projects::WithRawCallbackMethod_GetProject<
          accord::v1::Projects::CallbackService> {
 public:
  explicit ProjectsService(storage::EventLog* log)
      : log_(log), decision_histories_(log, kDecisionHistoriesKept) {}

  // Request: a serialized GetProjectRequest; response: a serialized GetProjectResponse.
  grpc::ServerUnaryReactor* GetProject(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
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
  // Decision histories kept between reads (each holds its project's state): enough for
  // a few auditors paging through long projects at once.
  static constexpr size_t kDecisionHistoriesKept = 8;

  storage::EventLog* const log_;
  DecisionHistoryCache decision_histories_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECTS_SERVICE_H_
