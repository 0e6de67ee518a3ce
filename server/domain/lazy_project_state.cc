#include "server/domain/lazy_project_state.h"

#include <array>
#include <utility>

#include "google/protobuf/io/coded_stream.h"

namespace accord::domain {

namespace {

namespace v1 = accord::v1;
using S = v1::ProjectState;

bool IsBaseList(int field_number) {
  return VisitBaseList(field_number, [](auto*) {});
}

// The fields of a serialized message, one at a time. Only what states hold: varints,
// fixed 32/64-bit and length-delimited fields (no groups). Cheaper than a CodedInputStream
// per item, which matters when walking every item of a large state.
class FieldReader {
 public:
  explicit FieldReader(std::string_view bytes)
      : begin_(reinterpret_cast<const uint8_t*>(bytes.data())),
        p_(begin_),
        end_(begin_ + bytes.size()) {}

  // Reads the next field: its number, wire type and where it starts (at its tag). False at
  // the end or on malformed bytes (then ok() is false).
  bool Next() {
    if (p_ == end_) return false;
    start_ = p_ - begin_;
    uint64_t tag = 0;
    if (!ReadVarint(&tag) || (tag >> 3) == 0 || (tag >> 3) > (uint64_t{1} << 29)) return Fail();
    field_ = static_cast<int>(tag >> 3);
    wire_type_ = static_cast<int>(tag & 7);
    value_read_ = false;
    return true;
  }
  int field() const { return field_; }
  int wire_type() const { return wire_type_; }
  size_t start() const { return start_; }
  bool ok() const { return ok_; }

  // The current field's value: a varint, or the bytes of a length-delimited field.
  bool Varint(uint64_t* value) {
    if (wire_type_ != kVarint || !ReadVarint(value)) return Fail();
    value_read_ = true;
    return true;
  }
  bool Bytes(std::string_view* value) {
    uint64_t length = 0;
    if (wire_type_ != kLengthDelimited || !ReadVarint(&length) ||
        length > static_cast<uint64_t>(end_ - p_)) {
      return Fail();
    }
    *value = std::string_view(reinterpret_cast<const char*>(p_), length);
    p_ += length;
    value_read_ = true;
    return true;
  }
  // Skips the current field's value unless it was read; where the next field starts.
  bool Skip() {
    if (value_read_) return true;
    value_read_ = true;
    uint64_t ignored = 0;
    std::string_view bytes;
    switch (wire_type_) {
      case kVarint: return ReadVarint(&ignored) || Fail();
      case kLengthDelimited: return Bytes(&bytes);
      case kFixed64: return Advance(8);
      case kFixed32: return Advance(4);
      default: return Fail();
    }
  }
  size_t position() const { return p_ - begin_; }

  static constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

 private:
  bool ReadVarint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = *p_++;
      result |= uint64_t{b & 0x7Fu} << shift;
      if (b < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;
  }
  bool Advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return Fail();
    p_ += n;
    return true;
  }
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  size_t start_ = 0;
  int field_ = 0;
  int wire_type_ = 0;
  bool value_read_ = false;
  bool ok_ = true;
};

// The id of an item: its field 1, a string ("" when absent).
absl::string_view IdOf(std::string_view item) {
  // Serializers write fields in number order, so field 1 leads: tag 0x0A, length, bytes.
  if (item.size() >= 2 && static_cast<uint8_t>(item[0]) == 0x0A &&
      static_cast<uint8_t>(item[1]) < 0x80 &&
      size_t{static_cast<uint8_t>(item[1])} + 2 <= item.size()) {
    return absl::string_view(item.data() + 2, static_cast<uint8_t>(item[1]));
  }
  FieldReader reader(item);
  while (reader.Next()) {
    std::string_view id;
    if (reader.field() == 1 && reader.Bytes(&id)) return absl::string_view(id.data(), id.size());
    if (!reader.Skip()) break;
  }
  return absl::string_view();
}

// The varint fields `wanted` (field numbers) of an item (0 when absent), and its string
// field `string_field` ("" when absent).
template <size_t N>
std::array<uint64_t, N> FieldsOf(std::string_view item, const std::array<int, N>& wanted,
                                 int string_field, std::string_view* string_value) {
  std::array<uint64_t, N> values{};
  *string_value = std::string_view();
  FieldReader reader(item);
  while (reader.Next()) {
    if (reader.field() == string_field && reader.wire_type() == FieldReader::kLengthDelimited) {
      reader.Bytes(string_value);
      continue;
    }
    for (size_t i = 0; i < N; ++i) {
      if (reader.field() == wanted[i] && reader.wire_type() == FieldReader::kVarint) {
        reader.Varint(&values[i]);
      }
    }
    if (!reader.Skip()) break;
  }
  return values;
}

// True when ComputeAsOf may change the item (of the list `field`): an open action item or
// client action, or one with overdue set (done ones have it cleared); false for others.
bool MayChangeAsOf(int field, std::string_view item) {
  std::string_view due;
  if (field == S::kActionItemsFieldNumber) {
    const auto [done, overdue] = FieldsOf<2>(
        item, {v1::ActionItem::kDoneFieldNumber, v1::ActionItem::kOverdueFieldNumber},
        v1::ActionItem::kDueDateFieldNumber, &due);
    return done == 0 || overdue != 0;
  }
  if (field == S::kClientActionsFieldNumber) {
    const auto [status, overdue] = FieldsOf<2>(
        item, {v1::ClientAction::kStatusFieldNumber, v1::ClientAction::kOverdueFieldNumber},
        v1::ClientAction::kDueDateFieldNumber, &due);
    return status != v1::CLIENT_ACTION_STATUS_DONE || overdue != 0;
  }
  return false;
}

void AppendVarint(uint64_t value, std::string* out) {
  uint8_t buffer[10];
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out->append(reinterpret_cast<const char*>(buffer), end - buffer);
}

void AppendVarintField(int field_number, uint64_t value, std::string* out) {
  AppendVarint(uint64_t{static_cast<uint32_t>(field_number)} << 3 | FieldReader::kVarint, out);
  AppendVarint(value, out);
}

void AppendMessageField(int field_number, const google::protobuf::MessageLite& message,
                        std::string* out) {
  AppendVarint((uint64_t{static_cast<uint32_t>(field_number)} << 3) |
                   FieldReader::kLengthDelimited,
               out);
  AppendVarint(message.ByteSizeLong(), out);
  message.AppendPartialToString(out);
}

}  // namespace

void BaseItems::Add(std::string_view field, std::string_view item) {
  items_.push_back({field, item});
}

void BaseItems::Patch(int ordinal, std::string_view fields) {
  Item& item = items_[ordinal];
  if (item.patch_size == 0) item.patch_offset = static_cast<uint32_t>(patches_.size());
  // Patches of one item are contiguous: each item is patched once, in one call or in calls
  // with no other item's in between.
  patches_.append(fields);
  item.patch_size += static_cast<uint32_t>(fields.size());
}

uint64_t IdHash(absl::string_view id) {
  uint64_t h = 14695981039346656037ull;
  for (char c : id) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

uint32_t LoadU32(const char* p) {
  return uint32_t{static_cast<uint8_t>(p[0])} | uint32_t{static_cast<uint8_t>(p[1])} << 8 |
         uint32_t{static_cast<uint8_t>(p[2])} << 16 | uint32_t{static_cast<uint8_t>(p[3])} << 24;
}

void AppendU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

template <typename F>
void BaseItems::ForEachAsOfCandidate(F f) const {
  if (candidates_ == nullptr) {
    for (int i = 0; i < size(); ++i) f(i);
    return;
  }
  for (uint32_t c = 0; c < candidates_size_; ++c) {
    const uint32_t ordinal = LoadU32(candidates_ + 4 * c);
    if (ordinal < static_cast<uint32_t>(size())) f(static_cast<int>(ordinal));
  }
}

int BaseItems::FindInTable(absl::string_view id) const {
  const uint32_t mask = table_size_ - 1;
  for (uint32_t probe = 0, b = IdHash(id) & mask; probe < table_size_; ++probe, b = (b + 1) & mask) {
    const uint32_t slot = LoadU32(table_ + 4 * b);
    if (slot == 0) return -1;
    const int ordinal = static_cast<int>(slot - 1);
    if (ordinal < size() && IdOf(items_[ordinal].item) == id) return ordinal;
  }
  return -1;
}

int BaseItems::Find(absl::string_view id) {
  if (table_ != nullptr) {
    const int ordinal = FindInTable(id);
    return ordinal < 0 || parsed(ordinal) ? -1 : ordinal;
  }
  if (!indexed_) {
    by_id_.reserve(items_.size());
    for (int i = 0; i < size(); ++i) by_id_.emplace(IdOf(items_[i].item), i);  // First wins.
    indexed_ = true;
  }
  auto it = by_id_.find(id);
  if (it == by_id_.end() || parsed(it->second)) return -1;
  return it->second;
}

void BaseItems::AppendTo(
    int field_number, int list_size,
    absl::FunctionRef<const google::protobuf::MessageLite&(int)> list_item,
    std::string* out) const {
  std::vector<bool> from_base(list_size, false);
  // Untouched items adjacent in the snapshot are copied as one run.
  const char* run = nullptr;
  size_t run_size = 0;
  auto flush_run = [&] {
    if (run_size != 0) out->append(run, run_size);
    run_size = 0;
  };
  for (const Item& item : items_) {
    if (item.position < 0 && item.patch_size == 0) {
      if (run_size != 0 && run + run_size == item.field.data()) {
        run_size += item.field.size();
      } else {
        flush_run();
        run = item.field.data();
        run_size = item.field.size();
      }
      continue;
    }
    flush_run();
    if (item.position >= 0) {
      from_base[item.position] = true;
      AppendMessageField(field_number, list_item(item.position), out);
    } else {
      AppendVarint(uint64_t{static_cast<uint32_t>(field_number)} << 3 |
                       FieldReader::kLengthDelimited,
                   out);
      AppendVarint(item.item.size() + item.patch_size, out);
      out->append(item.item.data(), item.item.size());
      out->append(patches_, item.patch_offset, item.patch_size);
    }
  }
  flush_run();
  for (int i = 0; i < list_size; ++i) {
    if (!from_base[i]) AppendMessageField(field_number, list_item(i), out);
  }
}

LazyProjectState::LazyProjectState(google::protobuf::Arena* arena) : arena_(arena) {
  if (arena_ != nullptr) {
    state_ = google::protobuf::Arena::CreateMessage<v1::ProjectState>(arena_);
  } else {
    owned_ = std::make_unique<v1::ProjectState>();
    state_ = owned_.get();
  }
}

LazyProjectState::~LazyProjectState() = default;

bool LazyProjectState::Init(std::string_view bytes, std::string_view id_tables) {
  std::string head;  // The fields parsed at once, as bytes.
  bytes_size_ = bytes.size();
  ReserveFromIdTables(id_tables);
  FieldReader reader(bytes);
  int last_field = 0;  // Items of one list come in a run: look its BaseItems up once.
  BaseItems* last_items = nullptr;
  while (reader.Next()) {
    const int field = reader.field();
    if (reader.wire_type() == FieldReader::kLengthDelimited &&
        (field == last_field || IsBaseList(field))) {
      std::string_view item;
      if (!reader.Bytes(&item)) return false;
      if (field != last_field) {
        last_field = field;
        last_items = &base_[field];
      }
      last_items->Add(bytes.substr(reader.start(), reader.position() - reader.start()), item);
      continue;
    }
    if (!reader.Skip()) return false;
    head.append(bytes.data() + reader.start(), reader.position() - reader.start());
  }
  if (!reader.ok() || !state_->ParseFromString(head)) return false;
  for (auto& [field, items] : base_) index_.AttachBaseItems(field, &items);
  UseIdTables(id_tables);
  return true;
}

std::string BuildIdTables(std::string_view state_bytes) {
  std::map<int, std::vector<absl::string_view>> ids;  // By list field, in item order.
  std::map<int, std::vector<uint32_t>> candidates;     // Likewise.
  FieldReader reader(state_bytes);
  while (reader.Next()) {
    std::string_view item;
    if (reader.wire_type() == FieldReader::kLengthDelimited && IsBaseList(reader.field())) {
      if (!reader.Bytes(&item)) break;
      std::vector<absl::string_view>& list = ids[reader.field()];
      if (MayChangeAsOf(reader.field(), item)) {
        candidates[reader.field()].push_back(static_cast<uint32_t>(list.size()));
      }
      list.push_back(IdOf(item));
    } else if (!reader.Skip()) {
      break;
    }
  }
  std::string out;
  if (!reader.ok()) return out;
  for (const auto& [field, list] : ids) {
    uint32_t buckets = 4;
    while (buckets < list.size() + list.size() / 2) buckets <<= 1;  // Load at most 2/3.
    std::vector<uint32_t> table(buckets, 0);
    for (size_t i = 0; i < list.size(); ++i) {
      uint32_t b = IdHash(list[i]) & (buckets - 1);
      bool duplicate = false;  // Find answers the first item with an id, as the index does.
      while (table[b] != 0 && !(duplicate = list[table[b] - 1] == list[i])) b = (b + 1) & (buckets - 1);
      if (!duplicate) table[b] = static_cast<uint32_t>(i + 1);
    }
    AppendU32(field, &out);
    AppendU32(static_cast<uint32_t>(list.size()), &out);
    AppendU32(buckets, &out);
    for (uint32_t slot : table) AppendU32(slot, &out);
    const std::vector<uint32_t>& may_change = candidates[field];
    AppendU32(static_cast<uint32_t>(may_change.size()), &out);
    for (uint32_t ordinal : may_change) AppendU32(ordinal, &out);
  }
  return out;
}

namespace {

// One list's entry of the id tables (BuildIdTables' layout).
struct IdTable {
  int field;
  uint32_t count;           // Items in the list.
  const char* buckets;      // `bucket_count` uint32.
  uint32_t bucket_count;    // A power of two, > count.
  const char* candidates;   // `candidate_count` uint32 ordinals.
  uint32_t candidate_count;
};

// Calls f(table) for each well-formed entry of `tables`, stopping at the first that is
// not (tables from another build, or damaged, are then partly or wholly ignored).
template <typename F>
void ForEachIdTable(std::string_view tables, F f) {
  while (tables.size() >= 12) {
    IdTable t;
    t.field = static_cast<int>(LoadU32(tables.data()));
    t.count = LoadU32(tables.data() + 4);
    t.bucket_count = LoadU32(tables.data() + 8);
    tables.remove_prefix(12);
    if (t.bucket_count == 0 || (t.bucket_count & (t.bucket_count - 1)) != 0 ||
        t.count >= t.bucket_count || tables.size() / 4 < size_t{t.bucket_count} + 1) {
      return;
    }
    t.buckets = tables.data();
    tables.remove_prefix(size_t{t.bucket_count} * 4);
    t.candidate_count = LoadU32(tables.data());
    tables.remove_prefix(4);
    if (tables.size() / 4 < t.candidate_count) return;
    t.candidates = tables.data();
    tables.remove_prefix(size_t{t.candidate_count} * 4);
    f(t);
  }
}

}  // namespace

void LazyProjectState::ReserveFromIdTables(std::string_view tables) {
  ForEachIdTable(tables, [&](const IdTable& t) {
    if (IsBaseList(t.field)) base_[t.field].Reserve(t.count);
  });
}

void LazyProjectState::UseIdTables(std::string_view tables) {
  ForEachIdTable(tables, [&](const IdTable& t) {
    auto it = base_.find(t.field);
    if (it == base_.end() || it->second.size() != static_cast<int>(t.count)) return;
    it->second.UseTable(t.buckets, t.bucket_count);
    it->second.UseAsOfCandidates(t.candidates, t.candidate_count);
  });
}

void LazyProjectState::ComputeAsOf(absl::Time now) {
  const absl::CivilDay today = ProjectDay(now, *state_);
  std::string patch;
  if (auto it = base_.find(S::kActionItemsFieldNumber); it != base_.end()) {
    BaseItems& base = it->second;
    base.ForEachAsOfCandidate([&](int i) {
      if (base.parsed(i)) return;
      std::string_view due;
      const auto [done, overdue] = FieldsOf<2>(
          base.item(i), {v1::ActionItem::kDoneFieldNumber, v1::ActionItem::kOverdueFieldNumber},
          v1::ActionItem::kDueDateFieldNumber, &due);
      const bool now_overdue = ActionItemOverdue(done != 0, due, today);
      if (now_overdue == (overdue != 0)) return;
      patch.clear();
      AppendVarintField(v1::ActionItem::kOverdueFieldNumber, now_overdue, &patch);
      base.Patch(i, patch);
    });
  }
  if (auto it = base_.find(S::kClientActionsFieldNumber); it != base_.end()) {
    BaseItems& base = it->second;
    base.ForEachAsOfCandidate([&](int i) {
      if (base.parsed(i)) return;
      std::string_view due;
      const auto [status, days_late, overdue] = FieldsOf<3>(
          base.item(i),
          {v1::ClientAction::kStatusFieldNumber, v1::ClientAction::kDaysLateFieldNumber,
           v1::ClientAction::kOverdueFieldNumber},
          v1::ClientAction::kDueDateFieldNumber, &due);
      const int32_t stored_days_late = static_cast<int32_t>(days_late);
      const ClientActionLateness lateness = ClientActionLatenessAsOf(
          static_cast<v1::ClientActionStatus>(status), due, stored_days_late, today);
      if (lateness.days_late == stored_days_late && lateness.overdue == (overdue != 0)) return;
      patch.clear();
      // int32 on the wire: a negative value is ten bytes of sign-extended varint.
      AppendVarintField(v1::ClientAction::kDaysLateFieldNumber,
                        static_cast<uint64_t>(static_cast<int64_t>(lateness.days_late)), &patch);
      AppendVarintField(v1::ClientAction::kOverdueFieldNumber, lateness.overdue, &patch);
      base.Patch(i, patch);
    });
  }
  domain::ComputeAsOf(now, state_);  // The parsed items, and as_of_now.
}

void LazyProjectState::AppendTo(std::string* out) {
  out->reserve(out->size() + bytes_size_ + (bytes_size_ >> 4) + 1024);  // Room for growth.
  // The head: the state without the base lists, which are moved out for the moment.
  v1::ProjectState* lists = google::protobuf::Arena::CreateMessage<v1::ProjectState>(arena_);
  std::unique_ptr<v1::ProjectState> owned_lists(arena_ == nullptr ? lists : nullptr);
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (const auto& [field, items] : base_) {
    fields.push_back(S::descriptor()->FindFieldByNumber(field));
  }
  state_->GetReflection()->SwapFields(state_, lists, fields);
  state_->AppendToString(out);
  state_->GetReflection()->SwapFields(state_, lists, fields);
  const google::protobuf::Reflection* reflection = state_->GetReflection();
  for (const auto& [field, items] : base_) {
    const google::protobuf::FieldDescriptor* list = S::descriptor()->FindFieldByNumber(field);
    items.AppendTo(
        field, reflection->FieldSize(*state_, list),
        [&](int i) -> const google::protobuf::MessageLite& {
          return reflection->GetRepeatedMessage(*state_, list, i);
        },
        out);
  }
  // A list the snapshot held no items of has no BaseItems: whatever events added to it
  // was written with the head above.
}

}  // namespace accord::domain
