// The one place absl::Status (how errors travel inside Accord) becomes grpc::Status.
#ifndef ACCORD_SERVER_STATUS_MAPPING_H_
#define ACCORD_SERVER_STATUS_MAPPING_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace accord::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace accord::server

#endif  // ACCORD_SERVER_STATUS_MAPPING_H_
