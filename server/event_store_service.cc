#include "server/event_store_service.h"

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/event_translation.h"
#include "server/status_mapping.h"
#include "storage/storage_format.h"

namespace accord::server {
namespace {

using accord::v1::ReadAllResponse;
using accord::v1::ReadStreamResponse;
using accord::v1::SubscribeResponse;

constexpr char kActorHeader[] = "x-accord-actor";
constexpr char kRoleHeader[] = "x-accord-role";

std::string Header(const grpc::CallbackServerContext* context, const char* name) {
  const auto& md = context->client_metadata();
  auto it = md.find(name);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Until authentication lands the actor is whoever the headers say.
storage::Actor ActorOf(const grpc::CallbackServerContext* context) {
  storage::Actor actor;
  actor.principal = Header(context, kActorHeader);
  actor.role = Header(context, kRoleHeader);
  if (actor.principal.empty()) actor.principal = "anonymous";
  return actor;
}

// Ends a streaming call at once with an error.
template <typename Response>
class ErrorWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit ErrorWriteReactor(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

template <typename Response>
grpc::ServerWriteReactor<Response>* FailStream(const absl::Status& status) {
  return new ErrorWriteReactor<Response>(ToGrpcStatus(status));
}

// Streams events page by page: fetch a page from the log, write its events one per
// message, fetch the next when the page is sent. One write in flight at a time, so the
// memory held is one page.
template <typename Response>
class PagedReadReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  using FetchPage = std::function<absl::Status(std::vector<storage::EventRecord>*)>;

  PagedReadReactor(FetchPage fetch, uint64_t max_count)
      : fetch_(std::move(fetch)), max_count_(max_count) {
    NextWrite();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      return;
    }
    NextWrite();
  }
  void OnDone() override { delete this; }

 private:
  void NextWrite() {
    if (max_count_ != 0 && sent_ >= max_count_) {
      this->Finish(grpc::Status::OK);
      return;
    }
    if (index_ == page_.size()) {
      page_.clear();
      index_ = 0;
      if (absl::Status s = fetch_(&page_); !s.ok()) {
        this->Finish(ToGrpcStatus(s));
        return;
      }
      if (page_.empty()) {
        this->Finish(grpc::Status::OK);
        return;
      }
    }
    response_.Clear();
    if (absl::Status s = ToRecordedEvent(page_[index_++], response_.mutable_event()); !s.ok()) {
      this->Finish(ToGrpcStatus(s));
      return;
    }
    ++sent_;
    this->StartWrite(&response_);
  }

  FetchPage fetch_;
  const uint64_t max_count_;
  uint64_t sent_ = 0;
  std::vector<storage::EventRecord> page_;
  size_t index_ = 0;
  Response response_;
};

storage::ReadLimits PageLimits(uint64_t remaining) {
  storage::ReadLimits limits;
  if (remaining != 0 && remaining < limits.max_count) limits.max_count = remaining;
  return limits;
}

// A subscription: reads the log from its own cursor, page by page; when it has read
// everything it parks in the hub until a commit concerns it or a heartbeat is due.
class SubscribeReactor final : public grpc::ServerWriteReactor<SubscribeResponse>,
                               public SubscriptionHub::Subscriber,
                               public std::enable_shared_from_this<SubscribeReactor> {
 public:
  SubscribeReactor(storage::EventLog* log, SubscriptionHub* hub, std::string project_id)
      : log_(log), hub_(hub), project_id_(std::move(project_id)) {}

  // Positions the cursor and starts streaming. Called once, right after construction.
  void Start(const accord::v1::SubscribeRequest& request) {
    self_ = shared_from_this();
    hub_->Register(self_);
    absl::MutexLock lock(&mu_);
    if (request.from_end()) {
      if (project_id_.empty()) {
        next_ = log_->LastPosition() + 1;
      } else {
        auto version = log_->StreamVersion(project_id_);
        if (!version.ok()) {
          FinishLocked(ToGrpcStatus(version.status()));
          return;
        }
        next_ = *version + 1;
      }
    } else {
      next_ = project_id_.empty() ? request.from_position() : request.from_version();
      if (next_ == 0) next_ = 1;
    }
    PumpLocked();
  }

  void Wake(SubscriptionHub::WakeReason reason) override {
    absl::MutexLock lock(&mu_);
    if (reason == SubscriptionHub::WakeReason::kShutdown) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down; resubscribe from the last event "
                                "received"));
      return;
    }
    if (reason == SubscriptionHub::WakeReason::kHeartbeat) heartbeat_due_ = true;
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    buffered_bytes_ -= buffer_.front().ByteSizeLong();
    buffer_.pop_front();
    last_send_ = absl::Now();
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "subscriber went away"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    hub_->Unregister(this);
    std::shared_ptr<SubscribeReactor> self;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      self = std::move(self_);
    }
    // `self` may be the last reference: this object is destroyed on return.
  }

 private:
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_ || writing_ || done_) return;
    if (buffer_.empty()) Fill();
    if (finishing_) return;
    if (buffer_.empty()) {
      const absl::Time heartbeat_at = last_send_ + hub_->heartbeat_interval();
      if (!hub_->Park(self_, project_id_, next_ - 1, heartbeat_at)) {
        FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
      }
      return;
    }
    writing_ = true;
    StartWrite(&buffer_.front());
  }

  // Reads the next page into the buffer; when there is none, queues caught_up (once) or
  // a due heartbeat.
  void Fill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    storage::ReadLimits limits;
    limits.max_count = kSubscriptionPageEvents;
    limits.max_bytes = kSubscriptionPageBytes;
    std::vector<storage::EventRecord> page;
    absl::Status status =
        project_id_.empty()
            ? log_->ReadAll(next_, limits, &page)
            : log_->ReadStream(project_id_, next_, storage::ReadDirection::kForwards, limits,
                               &page);
    if (absl::IsNotFound(status)) status = absl::OkStatus();  // Project not created yet.
    if (!status.ok()) {
      FinishLocked(ToGrpcStatus(status));
      return;
    }
    for (const storage::EventRecord& record : page) {
      SubscribeResponse& response = buffer_.emplace_back();
      if (absl::Status s = ToRecordedEvent(record, response.mutable_event()); !s.ok()) {
        FinishLocked(ToGrpcStatus(s));
        return;
      }
      buffered_bytes_ += response.ByteSizeLong();
      next_ = (project_id_.empty() ? record.position : record.version) + 1;
    }
    if (!page.empty()) {
      hub_->RecordBufferedBytes(buffered_bytes_);
      return;
    }
    if (!caught_up_sent_) {
      caught_up_sent_ = true;
      auto* caught_up = buffer_.emplace_back().mutable_caught_up();
      caught_up->set_position(project_id_.empty() ? next_ - 1 : log_->LastPosition());
      if (!project_id_.empty()) caught_up->set_version(next_ - 1);
    } else if (heartbeat_due_) {
      auto* heartbeat = buffer_.emplace_back().mutable_heartbeat();
      const absl::Time now = absl::Now();
      heartbeat->mutable_server_time()->set_seconds(absl::ToUnixSeconds(now));
      heartbeat->set_last_position(log_->LastPosition());
    } else {
      return;
    }
    heartbeat_due_ = false;
    buffered_bytes_ += buffer_.back().ByteSizeLong();
  }

  // Finishes now, or after the write in flight completes (one write at a time).
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_ || done_) return;
    if (writing_) {
      pending_finish_ = std::move(status);
      finish_after_write_ = true;
      // OnWriteDone will run and call FinishLocked again with writing_ false.
      return;
    }
    if (finish_after_write_) status = std::move(pending_finish_);
    finishing_ = true;
    Finish(std::move(status));
  }

  storage::EventLog* const log_;
  SubscriptionHub* const hub_;
  const std::string project_id_;

  absl::Mutex mu_;
  std::shared_ptr<SubscribeReactor> self_ ABSL_GUARDED_BY(mu_);  // Kept until OnDone.
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;  // Next version (project) or position (all).
  std::deque<SubscribeResponse> buffer_ ABSL_GUARDED_BY(mu_);
  size_t buffered_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool caught_up_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_after_write_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status pending_finish_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_send_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

}  // namespace

EventStoreService::EventStoreService(storage::EventLog* log, SubscriptionHub* hub)
    : log_(log), hub_(hub) {
  SetMessageAllocatorFor_Append(&append_allocator_);
}

grpc::ServerUnaryReactor* EventStoreService::Append(grpc::CallbackServerContext* context,
                                                    const accord::v1::AppendRequest* request,
                                                    accord::v1::AppendResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto batch = TranslateAppend(*request, ActorOf(context));
  if (!batch.ok()) {
    reactor->Finish(ToGrpcStatus(batch.status()));
    return reactor;
  }
  log_->AppendAsync(std::move(*batch),
                    [reactor, response](absl::StatusOr<storage::AppendResult> result) {
                      if (!result.ok()) {
                        reactor->Finish(ToGrpcStatus(result.status()));
                        return;
                      }
                      response->set_first_version(result->first_version);
                      response->set_last_version(result->last_version);
                      response->set_last_position(result->last_position);
                      response->set_already_written(result->already_written);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerWriteReactor<ReadStreamResponse>* EventStoreService::ReadStream(
    grpc::CallbackServerContext* context, const accord::v1::ReadStreamRequest* request) {
  if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
    return FailStream<ReadStreamResponse>(s);
  }
  if (!accord::v1::ReadDirection_IsValid(request->direction())) {
    return FailStream<ReadStreamResponse>(absl::InvalidArgumentError("direction: unknown value"));
  }
  const bool backwards = request->direction() == accord::v1::READ_DIRECTION_BACKWARDS;
  struct Cursor {
    uint64_t next;
    uint64_t remaining;
    bool exhausted = false;
  };
  auto cursor = std::make_shared<Cursor>(Cursor{request->from_version(), request->max_count()});
  auto fetch = [log = log_, project = request->project_id(), backwards,
                cursor](std::vector<storage::EventRecord>* page) -> absl::Status {
    if (cursor->exhausted) return absl::OkStatus();
    absl::Status s = log->ReadStream(
        project, cursor->next,
        backwards ? storage::ReadDirection::kBackwards : storage::ReadDirection::kForwards,
        PageLimits(cursor->remaining), page);
    if (!s.ok() || page->empty()) return s;
    const uint64_t last = page->back().version;
    if (backwards) {
      cursor->exhausted = last == 1;
      cursor->next = last - 1;
    } else {
      cursor->next = last + 1;
    }
    if (cursor->remaining != 0) cursor->remaining -= std::min<uint64_t>(cursor->remaining, page->size());
    return absl::OkStatus();
  };
  return new PagedReadReactor<ReadStreamResponse>(std::move(fetch), request->max_count());
}

grpc::ServerWriteReactor<ReadAllResponse>* EventStoreService::ReadAll(
    grpc::CallbackServerContext* context, const accord::v1::ReadAllRequest* request) {
  auto next = std::make_shared<uint64_t>(std::max<uint64_t>(request->from_position(), 1));
  auto remaining = std::make_shared<uint64_t>(request->max_count());
  auto fetch = [log = log_, next, remaining](std::vector<storage::EventRecord>* page) {
    absl::Status s = log->ReadAll(*next, PageLimits(*remaining), page);
    if (s.ok() && !page->empty()) {
      *next = page->back().position + 1;
      if (*remaining != 0) *remaining -= std::min<uint64_t>(*remaining, page->size());
    }
    return s;
  };
  return new PagedReadReactor<ReadAllResponse>(std::move(fetch), request->max_count());
}

grpc::ServerWriteReactor<SubscribeResponse>* EventStoreService::Subscribe(
    grpc::CallbackServerContext* context, const accord::v1::SubscribeRequest* request) {
  if (!request->project_id().empty()) {
    if (absl::Status s = ValidateProjectId(request->project_id(), "project_id"); !s.ok()) {
      return FailStream<SubscribeResponse>(s);
    }
  } else if (request->from_version() != 0) {
    return FailStream<SubscribeResponse>(absl::InvalidArgumentError(
        "from_version: applies to project subscriptions; use from_position when project_id "
        "is empty"));
  }
  if (!request->project_id().empty() && request->from_position() != 0) {
    return FailStream<SubscribeResponse>(absl::InvalidArgumentError(
        "from_position: applies to all-project subscriptions; use from_version with a "
        "project_id"));
  }
  if (request->from_end() && (request->from_version() != 0 || request->from_position() != 0)) {
    return FailStream<SubscribeResponse>(absl::InvalidArgumentError(
        "from_end: starts after the last event; leave from_version and from_position unset"));
  }
  auto reactor = std::make_shared<SubscribeReactor>(log_, hub_, request->project_id());
  reactor->Start(*request);
  return reactor.get();  // Keeps itself alive until OnDone.
}

grpc::ServerUnaryReactor* EventStoreService::GetServerInfo(
    grpc::CallbackServerContext* context, const accord::v1::GetServerInfoRequest* request,
    accord::v1::ServerInfo* response) {
  response->set_version(ACCORD_VERSION);
  response->set_durability(log_->durability() == storage::Durability::kSync
                               ? accord::v1::DURABILITY_MODE_SYNC
                               : accord::v1::DURABILITY_MODE_NO_SYNC_MAY_LOSE_ACKED);
  response->set_last_position(log_->LastPosition());
  response->set_storage_format_version(storage::kStorageFormatVersion);
  response->set_max_event_bytes(kMaxEventBytes);
  response->set_max_request_bytes(kMaxRequestBytes);
  response->set_storage_engine(std::string(log_->EngineName()));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace accord::server
