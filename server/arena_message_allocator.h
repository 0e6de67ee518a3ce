// ArenaMessageAllocator: gRPC's per-call message allocator for a callback unary method
// that puts the request and the response on one protobuf Arena.
//
// Why: an Append request carries up to thousands of events, each a ProposedEvent with a
// payload message and strings. Parsed onto the heap that is one malloc per message and
// string and as many frees when the call ends; on an arena it is a few block allocations
// and one release. The first 2 KiB live inside the holder itself.
//
// Thread-safety: AllocateMessages may be called concurrently (it shares nothing).
// Ownership: gRPC owns each holder from AllocateMessages until it calls Release(); the
// allocator must outlive the server (see SetMessageAllocatorFor_<Method>).
#ifndef ACCORD_SERVER_ARENA_MESSAGE_ALLOCATOR_H_
#define ACCORD_SERVER_ARENA_MESSAGE_ALLOCATOR_H_

#include <memory>

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace accord::server {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    // gRPC's ownership protocol: it hands the holder back through Release().
    return std::make_unique<Holder>().release();
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(initial_block_, sizeof(initial_block_))) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { std::unique_ptr<Holder>(this).reset(); }

   private:
    static google::protobuf::ArenaOptions Options(char* block, size_t size) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = size;
      options.start_block_size = 8 << 10;
      options.max_block_size = 64 << 10;
      return options;
    }

    alignas(8) char initial_block_[2048];
    google::protobuf::Arena arena_;  // After initial_block_: destroyed before it.
  };
};

}  // namespace accord::server

#endif  // ACCORD_SERVER_ARENA_MESSAGE_ALLOCATOR_H_
