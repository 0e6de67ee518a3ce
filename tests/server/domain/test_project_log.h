// TestProjectLog: a project's log under construction, for the domain tests (projection,
// decision history, progress report). Each event gets the next version and position, a
// UUID derived from its version, a recorded_at one hour after the previous event (or the
// time the test gives), the actor the test names, and a hash ending in 0xa0 + version.
#ifndef ACCORD_TESTS_SERVER_DOMAIN_TEST_PROJECT_LOG_H_
#define ACCORD_TESTS_SERVER_DOMAIN_TEST_PROJECT_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "accord/v1/common.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/domain/event_validation.h"

namespace accord::testing {

class TestProjectLog {
 public:
  // Records `payload_text` (an EventPayload in text format) as the next event.
  accord::v1::RecordedEvent Add(const std::string& payload_text,
                                const std::string& actor = "pm") {
    accord::v1::RecordedEvent event;
    const uint64_t version = events_.size() + 1;
    event.set_project_id("p1");
    event.set_version(version);
    event.set_position(version);
    event.set_event_id(IdOf(version));
    EXPECT_TRUE(
        google::protobuf::TextFormat::ParseFromString(payload_text, event.mutable_payload()))
        << payload_text;
    event.set_event_type(domain::EventTypeOf(event.payload()));
    event.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(clock_));
    event.mutable_actor()->set_principal(actor);
    event.set_hash(std::string(31, '\0') + static_cast<char>(0xa0 + version));
    clock_ += absl::Hours(1);
    events_.push_back(event);
    return event;
  }
  // Records the next event at `recorded_at`.
  accord::v1::RecordedEvent AddAt(absl::Time recorded_at, const std::string& payload_text) {
    clock_ = recorded_at;
    return Add(payload_text);
  }
  // The recording clock for the next event.
  void SetClock(absl::Time t) { clock_ = t; }

  static std::string IdOf(uint64_t version) {
    return absl::StrFormat("00000000-0000-4000-8000-%012d", version);
  }
  const std::vector<accord::v1::RecordedEvent>& events() const { return events_; }

 private:
  std::vector<accord::v1::RecordedEvent> events_;
  absl::Time clock_ =
      absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_SERVER_DOMAIN_TEST_PROJECT_LOG_H_
