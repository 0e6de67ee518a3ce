#include "server/domain/event_validation.h"

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "accord/v1/options.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"

namespace accord::domain {
namespace {

using accord::v1::EventPayload;
using accord::v1::FieldFormat;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kDefaultMaxTextBytes = 64 << 10;

// A field's constraints, read once from the catalog's field options.
struct FieldRule {
  const FieldDescriptor* field;
  bool required;
  FieldFormat format;
  int64_t min, max;
  bool ranged;
  size_t max_bytes;
};

size_t DefaultMaxBytes(FieldFormat format) {
  switch (format) {
    case accord::v1::FIELD_FORMAT_ID: return 64;
    case accord::v1::FIELD_FORMAT_DATE: return 10;
    case accord::v1::FIELD_FORMAT_PRINCIPAL: return 256;
    case accord::v1::FIELD_FORMAT_CURRENCY: return 3;
    case accord::v1::FIELD_FORMAT_SHA256_HEX: return 64;
    default: return kDefaultMaxTextBytes;
  }
}

// Rules for every message type reachable from EventPayload, built on first use.
class RuleTable {
 public:
  static const RuleTable& Get() {
    static const RuleTable* table = new RuleTable();
    return *table;
  }
  // Null for messages outside the catalog (e.g. google.protobuf.Timestamp).
  const std::vector<FieldRule>* For(const Descriptor* d) const {
    auto it = rules_.find(d);
    return it == rules_.end() ? nullptr : &it->second;
  }

 private:
  RuleTable() { Add(EventPayload::descriptor()); }
  void Add(const Descriptor* d) {
    if (rules_.contains(d)) return;
    auto& rules = rules_[d];
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      const auto& o = f->options();
      FieldRule r{f,
                  o.GetExtension(accord::v1::required),
                  o.GetExtension(accord::v1::format),
                  o.GetExtension(accord::v1::min),
                  o.GetExtension(accord::v1::max),
                  false,
                  0};
      r.ranged = r.min != 0 || r.max != 0;
      const uint32_t max_bytes = o.GetExtension(accord::v1::max_bytes);
      r.max_bytes = max_bytes != 0 ? max_bytes : DefaultMaxBytes(r.format);
      rules.push_back(r);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->type() == FieldDescriptor::TYPE_MESSAGE) {
        const Descriptor* sub = d->field(i)->message_type();
        if (sub->file()->package() == "accord.v1") Add(sub);
      }
    }
  }
  absl::flat_hash_map<const Descriptor*, std::vector<FieldRule>> rules_;
};

absl::Status Invalid(const std::string& path, std::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::string(rule)));
}

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

absl::Status CheckString(const FieldRule& r, const std::string& v, const std::string& path) {
  if (v.size() > r.max_bytes) {
    return Invalid(path, absl::StrCat("is ", v.size(), " bytes, over the ", r.max_bytes,
                                      "-byte limit"));
  }
  auto shown = [&] { return absl::StrCat("got \"", v.substr(0, 80), "\""); };
  switch (r.format) {
    case accord::v1::FIELD_FORMAT_ID:
      if (!IsValidId(v)) return Invalid(path, "must match [A-Za-z0-9_-]{1,64}, " + shown());
      break;
    case accord::v1::FIELD_FORMAT_DATE:
      if (!ParseDate(v).has_value()) return Invalid(path, "must be a date YYYY-MM-DD, " + shown());
      break;
    case accord::v1::FIELD_FORMAT_PRINCIPAL:
      for (unsigned char c : v) {
        if (c < 0x20 || c == 0x7f) return Invalid(path, "must not contain control characters");
      }
      break;
    case accord::v1::FIELD_FORMAT_CURRENCY:
      if (v.size() != 3 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        return Invalid(path, "must be an ISO 4217 code such as EUR, " + shown());
      }
      break;
    case accord::v1::FIELD_FORMAT_SHA256_HEX:
      if (v.size() != 64 || !std::all_of(v.begin(), v.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
          })) {
        return Invalid(path, "must be 64 lower-case hex digits");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

// Where a value sits in the payload, rendered only when it is reported: validating a
// valid event (the common case) builds no path strings.
struct FieldPath {
  const FieldPath* parent = nullptr;
  std::string_view root;            // Set on the root only.
  const FieldDescriptor* field = nullptr;
  int index = -1;                   // >= 0 for an element of a repeated field.

  std::string Render() const {
    if (parent == nullptr) return std::string(root);
    std::string s = parent->Render();
    absl::StrAppend(&s, ".", field->name());
    if (index >= 0) absl::StrAppend(&s, "[", index, "]");
    return s;
  }
};

bool InTimestampRange(const google::protobuf::Timestamp& t) {
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  return t.seconds() >= kMinSeconds && t.seconds() <= kMaxSeconds && t.nanos() >= 0 &&
         t.nanos() <= 999999999;
}

absl::Status Invalid(const FieldPath& path, std::string_view rule) {
  return Invalid(path.Render(), rule);
}

absl::Status ValidateMessage(const Message& m, const FieldPath& path);

// Messages from outside the catalog: a Timestamp must be in protobuf's valid range.
absl::Status ValidateForeignMessage(const Message& m, const FieldPath& path) {
  if (m.GetDescriptor() != google::protobuf::Timestamp::descriptor()) return absl::OkStatus();
  const auto& t = static_cast<const google::protobuf::Timestamp&>(m);
  // The path is rendered only on the error path.
  return InTimestampRange(t) ? absl::OkStatus() : ValidateTimestamp(t, path.Render());
}

absl::Status CheckValue(const FieldRule& r, const Message& m, int index, const FieldPath& path) {
  const Reflection* refl = m.GetReflection();
  const FieldDescriptor* f = r.field;
  const bool repeated = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = repeated ? refl->GetRepeatedStringReference(m, f, index, &scratch)
                                      : refl->GetStringReference(m, f, &scratch);
      if (repeated && v.empty() && r.format != accord::v1::FIELD_FORMAT_UNSPECIFIED) {
        return Invalid(path, "must not be empty");
      }
      if (absl::Status s = CheckString(r, v, std::string()); !s.ok()) {
        // Re-run with the rendered path: only on the error path.
        return CheckString(r, v, path.Render());
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      if (!r.ranged) return absl::OkStatus();
      int64_t v = 0;
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          v = repeated ? refl->GetRepeatedInt32(m, f, index) : refl->GetInt32(m, f);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          v = repeated ? refl->GetRepeatedInt64(m, f, index) : refl->GetInt64(m, f);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          v = repeated ? refl->GetRepeatedUInt32(m, f, index) : refl->GetUInt32(m, f);
          break;
        default: {
          const uint64_t u = repeated ? refl->GetRepeatedUInt64(m, f, index) : refl->GetUInt64(m, f);
          v = u > uint64_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(u);
        }
      }
      if (v < r.min || v > r.max) {
        return Invalid(path, absl::StrCat("must be in ", r.min, "..", r.max, ", got ", v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = repeated ? refl->GetRepeatedEnumValue(m, f, index) : refl->GetEnumValue(m, f);
      if (f->enum_type()->FindValueByNumber(v) == nullptr) {
        return Invalid(path, absl::StrCat("unknown enum value ", v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return ValidateMessage(
          repeated ? refl->GetRepeatedMessage(m, f, index) : refl->GetMessage(m, f), path);
    default:
      return absl::OkStatus();
  }
}

absl::Status ValidateMessage(const Message& m, const FieldPath& path) {
  const Reflection* refl = m.GetReflection();
  const std::vector<FieldRule>* rules = RuleTable::Get().For(m.GetDescriptor());
  if (rules == nullptr) return ValidateForeignMessage(m, path);
  for (const FieldRule& r : *rules) {
    const FieldDescriptor* f = r.field;
    FieldPath field_path{&path, {}, f, -1};
    if (f->is_repeated()) {
      const int n = refl->FieldSize(m, f);
      if (r.required && n == 0) return Invalid(field_path, "is required (at least one)");
      for (int i = 0; i < n; ++i) {
        FieldPath element_path{&path, {}, f, i};
        if (absl::Status s = CheckValue(r, m, i, element_path); !s.ok()) return s;
      }
      continue;
    }
    // Implicit-presence scalars count as unset at their zero value.
    const bool present = refl->HasField(m, f);
    if (!present) {
      if (r.required) return Invalid(field_path, "is required");
      continue;
    }
    if (absl::Status s = CheckValue(r, m, -1, field_path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Cross-field rules a single field's options cannot state.
absl::Status CheckDateOrder(const std::string& first, const std::string& second,
                            const FieldPath& path, std::string_view second_name,
                            std::string_view first_name) {
  if (!first.empty() && !second.empty() && *ParseDate(second) < *ParseDate(first)) {
    return Invalid(absl::StrCat(path.Render(), ".", std::string(second_name)),
                   absl::StrCat("must not be before ", std::string(first_name)));
  }
  return absl::OkStatus();
}

absl::Status CheckCrossField(const EventPayload& payload, const FieldPath& p) {
  switch (payload.event_case()) {
    case EventPayload::kProjectCreated: {
      const auto& e = payload.project_created();
      return CheckDateOrder(e.start_date(), e.target_end_date(), p, "target_end_date", "start_date");
    }
    case EventPayload::kTaskPlanned: {
      const auto& e = payload.task_planned();
      for (const std::string& dep : e.depends_on()) {
        if (dep == e.task_id()) return Invalid(p.Render() + ".depends_on", "a task cannot depend on itself");
      }
      return CheckDateOrder(e.start_date(), e.due_date(), p, "due_date", "start_date");
    }
    case EventPayload::kResourceAllocated: {
      const auto& e = payload.resource_allocated();
      return CheckDateOrder(e.start_date(), e.end_date(), p, "end_date", "start_date");
    }
    case EventPayload::kApprovalRequested: {
      const auto& e = payload.approval_requested();
      absl::flat_hash_map<std::string, int> seen;
      for (int i = 0; i < e.approvers_size(); ++i) {
        if (!seen.emplace(e.approvers(i), i).second) {
          return Invalid(absl::StrCat(p.Render(), ".approvers[", i, "]"), "names an approver twice");
        }
      }
      if (e.rule() == accord::v1::APPROVAL_RULE_QUORUM &&
          (e.quorum() < 1 || e.quorum() > static_cast<uint32_t>(e.approvers_size()))) {
        return Invalid(p.Render() + ".quorum", absl::StrCat("must be 1..", e.approvers_size(),
                                                   " (the number of approvers) for a quorum rule"));
      }
      return absl::OkStatus();
    }
    case EventPayload::kEventCorrected: {
      const auto& r = payload.event_corrected().replacement();
      if (r.event_case() == EventPayload::kEventCorrected ||
          r.event_case() == EventPayload::kEventRetracted) {
        return Invalid(p.Render() + ".replacement", "cannot itself be a correction or retraction");
      }
      return ValidatePayload(r, p.Render() + ".replacement");
    }
    default:
      return absl::OkStatus();
  }
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

absl::Status ValidateTimestamp(const google::protobuf::Timestamp& t, std::string_view field) {
  if (InTimestampRange(t)) return absl::OkStatus();
  return Invalid(std::string(field),
                 absl::StrCat("timestamp out of range (0001-01-01 to 9999-12-31, nanos "
                              "0..999999999), got seconds ",
                              t.seconds(), " nanos ", t.nanos()));
}

std::optional<int> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!IsDigits(s.substr(0, 4)) || !IsDigits(s.substr(5, 2)) || !IsDigits(s.substr(8, 2))) {
    return std::nullopt;
  }
  const int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  const int m = (s[5] - '0') * 10 + (s[6] - '0');
  const int d = (s[8] - '0') * 10 + (s[9] - '0');
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return std::nullopt;
  return y * 10000 + m * 100 + d;
}

std::string EventTypeOf(const EventPayload& payload) {
  if (payload.event_case() == EventPayload::EVENT_NOT_SET) return {};
  return EventPayload::descriptor()->FindFieldByNumber(payload.event_case())->name();
}

absl::Status ValidatePayload(const EventPayload& payload, std::string_view path) {
  if (payload.event_case() == EventPayload::EVENT_NOT_SET) {
    const std::string base(path);
    const auto& unknown = payload.GetReflection()->GetUnknownFields(payload);
    if (!unknown.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          base, ": unknown event type (field number ", unknown.field(0).number(),
          "); this server does not know it"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(base, ": no event set; exactly one field of EventPayload is required"));
  }
  const FieldDescriptor* f = EventPayload::descriptor()->FindFieldByNumber(payload.event_case());
  const FieldPath root{nullptr, path};
  const FieldPath p{&root, {}, f, -1};
  if (absl::Status s = ValidateMessage(payload.GetReflection()->GetMessage(payload, f), p);
      !s.ok()) {
    return s;
  }
  return CheckCrossField(payload, p);
}

}  // namespace accord::domain
