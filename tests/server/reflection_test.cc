// Stock gRPC tooling can talk to accordd: server reflection lists the services and the
// standard health service answers. Runs accordd as a subprocess so this binary can carry
// its own reflection client stubs (the server links gRPC's copy of the same protos).
#include <gtest/gtest.h>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/server/server_process.h"
#include "tests/test_util.h"

namespace accord::testing {
namespace {

namespace reflection = grpc::reflection::v1alpha;

TEST(ReflectionTest, ListsEventStoreAndHealthServices) {
  TempDir dir;
  ServerProcess server(dir.Sub("db"), dir.path());
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto stub = reflection::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_NE(std::find(names.begin(), names.end(), "accord.v1.EventStore"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.health.v1.Health"), names.end());

  // And the file that defines the service, so tools can build requests.
  request.set_file_containing_symbol("accord.v1.EventStore");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace accord::testing
