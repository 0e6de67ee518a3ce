// ProjectsService: the accord.v1.Projects gRPC service (project state now or as of a
// version or time). Thin: it translates the request and delegates to project_reader.h.
#ifndef ACCORD_SERVER_PROJECTS_SERVICE_H_
#define ACCORD_SERVER_PROJECTS_SERVICE_H_

#include "accord/v1/projects.grpc.pb.h"
#include "storage/event_log.h"

namespace accord::server {

class ProjectsService final : public accord::v1::Projects::CallbackService {
 public:
  explicit ProjectsService(storage::EventLog* log) : log_(log) {}

  grpc::ServerUnaryReactor* GetProject(grpc::CallbackServerContext* context,
                                       const accord::v1::GetProjectRequest* request,
                                       accord::v1::GetProjectResponse* response) override;

 private:
  storage::EventLog* const log_;
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROJECTS_SERVICE_H_
