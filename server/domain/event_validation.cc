#include "server/domain/event_validation.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace accord::domain {
namespace {

using accord::v1::EventPayload;

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxTextBytes = 64 << 10;

absl::Status Invalid(std::string_view path, std::string_view field, std::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(path), ".", std::string(field), ": ", std::string(rule)));
}

absl::Status Required(std::string_view path, std::string_view field, const std::string& value,
                      size_t max_bytes = kMaxNameBytes) {
  if (value.empty()) return Invalid(path, field, "is required");
  if (value.size() > max_bytes) {
    return Invalid(path, field, absl::StrCat("is ", value.size(), " bytes, over the ",
                                             max_bytes, "-byte limit"));
  }
  return absl::OkStatus();
}

absl::Status MaxBytes(std::string_view path, std::string_view field, const std::string& value,
                      size_t max_bytes = kMaxTextBytes) {
  if (value.size() > max_bytes) {
    return Invalid(path, field, absl::StrCat("is ", value.size(), " bytes, over the ",
                                             max_bytes, "-byte limit"));
  }
  return absl::OkStatus();
}

absl::Status IdField(std::string_view path, std::string_view field, const std::string& value) {
  if (!IsValidId(value)) {
    return Invalid(path, field,
                   absl::StrCat("must match [A-Za-z0-9_-]{1,64}, got \"",
                                value.substr(0, 80), "\""));
  }
  return absl::OkStatus();
}

// Validates an optional ISO date "YYYY-MM-DD".
bool ParseDate(const std::string& s, int* days_key) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
            d = std::stoi(s.substr(8, 2));
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return false;
  *days_key = y * 10000 + m * 100 + d;
  return true;
}

absl::Status OptionalDate(std::string_view path, std::string_view field, const std::string& s,
                          int* key) {
  *key = 0;
  if (s.empty()) return absl::OkStatus();
  if (!ParseDate(s, key)) {
    return Invalid(path, field, absl::StrCat("must be a valid date YYYY-MM-DD, got \"",
                                             s.substr(0, 40), "\""));
  }
  return absl::OkStatus();
}

template <typename Enum>
absl::Status KnownEnum(std::string_view path, std::string_view field, Enum value,
                       bool (*is_valid)(int), bool required) {
  if (!is_valid(static_cast<int>(value))) {
    return Invalid(path, field, absl::StrCat("unknown enum value ", static_cast<int>(value)));
  }
  if (required && static_cast<int>(value) == 0) return Invalid(path, field, "is required");
  return absl::OkStatus();
}

#define ACCORD_RETURN_IF_ERROR(expr)            \
  do {                                          \
    if (absl::Status _s = (expr); !_s.ok()) {   \
      return _s;                                \
    }                                           \
  } while (0)

absl::Status Validate(const accord::v1::ProjectCreated& e, std::string_view p) {
  ACCORD_RETURN_IF_ERROR(Required(p, "name", e.name()));
  ACCORD_RETURN_IF_ERROR(Required(p, "client_org", e.client_org()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "description", e.description()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "time_zone", e.time_zone(), 64));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "manager", e.manager(), 256));
  int start = 0, end = 0;
  ACCORD_RETURN_IF_ERROR(OptionalDate(p, "start_date", e.start_date(), &start));
  ACCORD_RETURN_IF_ERROR(OptionalDate(p, "target_end_date", e.target_end_date(), &end));
  if (start != 0 && end != 0 && end < start) {
    return Invalid(p, "target_end_date", "must not be before start_date");
  }
  return absl::OkStatus();
}

absl::Status Validate(const accord::v1::StatusUpdated& e, std::string_view p) {
  using accord::v1::Health_IsValid;
  ACCORD_RETURN_IF_ERROR(KnownEnum(p, "health", e.health(), Health_IsValid, true));
  ACCORD_RETURN_IF_ERROR(KnownEnum(p, "schedule", e.schedule(), Health_IsValid, false));
  ACCORD_RETURN_IF_ERROR(KnownEnum(p, "cost", e.cost(), Health_IsValid, false));
  ACCORD_RETURN_IF_ERROR(KnownEnum(p, "quality", e.quality(), Health_IsValid, false));
  if (e.percent_complete() > 100) {
    return Invalid(p, "percent_complete",
                   absl::StrCat("must be 0..100, got ", e.percent_complete()));
  }
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "summary", e.summary()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "period", e.period(), 64));
  return absl::OkStatus();
}

absl::Status Validate(const accord::v1::ChangeRequested& e, std::string_view p) {
  ACCORD_RETURN_IF_ERROR(IdField(p, "change_id", e.change_id()));
  ACCORD_RETURN_IF_ERROR(Required(p, "title", e.title()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "description", e.description()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "reason", e.reason()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "scope_impact", e.scope_impact()));
  ACCORD_RETURN_IF_ERROR(
      KnownEnum(p, "requested_by", e.requested_by(), accord::v1::Party_IsValid, false));
  return absl::OkStatus();
}

absl::Status Validate(const accord::v1::ApprovalDecided& e, std::string_view p) {
  ACCORD_RETURN_IF_ERROR(IdField(p, "approval_id", e.approval_id()));
  ACCORD_RETURN_IF_ERROR(Required(p, "approver", e.approver(), 256));
  ACCORD_RETURN_IF_ERROR(
      KnownEnum(p, "decision", e.decision(), accord::v1::Decision_IsValid, true));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "comment", e.comment()));
  return absl::OkStatus();
}

absl::Status Validate(const accord::v1::FeedbackReceived& e, std::string_view p) {
  ACCORD_RETURN_IF_ERROR(IdField(p, "feedback_id", e.feedback_id()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "channel", e.channel(), 64));
  ACCORD_RETURN_IF_ERROR(
      KnownEnum(p, "sentiment", e.sentiment(), accord::v1::Sentiment_IsValid, false));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "text", e.text()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "subject", e.subject()));
  ACCORD_RETURN_IF_ERROR(MaxBytes(p, "from", e.from(), 256));
  return absl::OkStatus();
}

}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EventTypeOf(const EventPayload& payload) {
  if (payload.event_case() == EventPayload::EVENT_NOT_SET) return {};
  return EventPayload::descriptor()->FindFieldByNumber(payload.event_case())->name();
}

absl::Status ValidatePayload(const EventPayload& payload, std::string_view path) {
  const std::string p = absl::StrCat(std::string(path), ".", EventTypeOf(payload));
  switch (payload.event_case()) {
    case EventPayload::kProjectCreated: return Validate(payload.project_created(), p);
    case EventPayload::kStatusUpdated: return Validate(payload.status_updated(), p);
    case EventPayload::kChangeRequested: return Validate(payload.change_requested(), p);
    case EventPayload::kApprovalDecided: return Validate(payload.approval_decided(), p);
    case EventPayload::kFeedbackReceived: return Validate(payload.feedback_received(), p);
    case EventPayload::EVENT_NOT_SET: break;
  }
  if (!payload.GetReflection()->GetUnknownFields(payload).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(path), ": unknown event type (field number ",
        payload.GetReflection()->GetUnknownFields(payload).field(0).number(),
        "); this server does not know it"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      std::string(path), ": no event set; exactly one field of EventPayload is required"));
}

}  // namespace accord::domain
