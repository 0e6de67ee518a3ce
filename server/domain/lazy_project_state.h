// LazyProjectState: a ProjectState read from its serialized bytes (a snapshot) that
// parses only what applying events to it needs, and writes the whole state back as bytes.
//
// Why: a long project's state holds tens of thousands of items (a 100,000-event project of
// the benchmark's mix: ≈2 MB), and parsing all of them costs far more than the few hundred
// events a read "as of version N" applies on top of the snapshot before N. Here the
// state's head (charter, indicators, budget, small lists) is parsed at once; each item of
// the large lists (tasks, risks, client actions, ...) stays bytes until an event names it
// (ProjectIndex finds it through BaseItems and parses it into the list); ComputeAsOf
// patches the now-dependent fields of unparsed ones onto their bytes. AppendTo writes the base items in their order, a parsed item from its
// message, an untouched one as its original bytes, then the items events added: parsing
// those bytes gives exactly the state a full parse + apply gives (the projection never
// removes or reorders items, and finds every item of these lists by its id, field 1).
//
// Pure: protobuf and absl only. Not thread-safe; the bytes passed to Init must outlive it.
#ifndef ACCORD_SERVER_DOMAIN_LAZY_PROJECT_STATE_H_
#define ACCORD_SERVER_DOMAIN_LAZY_PROJECT_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/v1/projects.pb.h"
#include "google/protobuf/arena.h"
#include "server/domain/project_projection.h"

namespace accord::domain {

// Calls f(static_cast<T*>(nullptr)) with the item type T of `field` when it is one of the
// ProjectState lists LazyProjectState keeps as bytes — every list whose items the
// projection finds by an id in field 1 — and returns true; false for any other field.
// The others (budget, responsibilities, ...) are small and parsed with the head. The one
// place that names these lists.
template <typename F>
bool VisitBaseList(int field, F&& f) {
  namespace v1 = accord::v1;
  using S = v1::ProjectState;
  switch (field) {
    case S::kMembersFieldNumber: f(static_cast<v1::Member*>(nullptr)); return true;
    case S::kMilestonesFieldNumber: f(static_cast<v1::Milestone*>(nullptr)); return true;
    case S::kTasksFieldNumber: f(static_cast<v1::Task*>(nullptr)); return true;
    case S::kResourcesFieldNumber: f(static_cast<v1::Resource*>(nullptr)); return true;
    case S::kRisksFieldNumber: f(static_cast<v1::Risk*>(nullptr)); return true;
    case S::kIssuesFieldNumber: f(static_cast<v1::Issue*>(nullptr)); return true;
    case S::kChangesFieldNumber: f(static_cast<v1::Change*>(nullptr)); return true;
    case S::kApprovalsFieldNumber: f(static_cast<v1::Approval*>(nullptr)); return true;
    case S::kMeetingsFieldNumber: f(static_cast<v1::Meeting*>(nullptr)); return true;
    case S::kActionItemsFieldNumber: f(static_cast<v1::ActionItem*>(nullptr)); return true;
    case S::kClientActionsFieldNumber: f(static_cast<v1::ClientAction*>(nullptr)); return true;
    case S::kDeliverablesFieldNumber: f(static_cast<v1::Deliverable*>(nullptr)); return true;
    case S::kFeedbackFieldNumber: f(static_cast<v1::FeedbackItem*>(nullptr)); return true;
    case S::kSurveysFieldNumber: f(static_cast<v1::SurveyResult*>(nullptr)); return true;
    case S::kIncentivesFieldNumber: f(static_cast<v1::Incentive*>(nullptr)); return true;
    case S::kDocumentsFieldNumber: f(static_cast<v1::Document*>(nullptr)); return true;
    case S::kLessonsFieldNumber: f(static_cast<v1::Lesson*>(nullptr)); return true;
    default: return false;
  }
}

// The items of one list field of a serialized ProjectState, as bytes, findable by id
// (their field 1) and parsed one at a time into the state's list when asked for.
class BaseItems {
 public:
  BaseItems() = default;
  BaseItems(const BaseItems&) = delete;
  BaseItems& operator=(const BaseItems&) = delete;

  // Adds the next item: `field` is the whole field as serialized (tag, length, item),
  // `item` the item's bytes within it.
  void Add(std::string_view field, std::string_view item);

  // The ordinal of the item whose id is `id` and that was not yet parsed, or -1.
  int Find(absl::string_view id);
  // Makes Find use a table written by BuildIdTables (`buckets`: `count` little-endian
  // uint32, a power of two) instead of hashing every item's id on the first Find.
  void UseTable(const char* buckets, uint32_t count) {
    table_ = buckets;
    table_size_ = count;
  }
  // The items ComputeAsOf may change, from BuildIdTables (`count` little-endian uint32
  // ordinals); without them it looks at every item.
  void UseAsOfCandidates(const char* ordinals, uint32_t count) {
    candidates_ = ordinals;
    candidates_size_ = count;
  }
  // Calls f(ordinal) for each item that ComputeAsOf may change (all, without candidates).
  template <typename F>
  void ForEachAsOfCandidate(F f) const;
  void Reserve(size_t n) { items_.reserve(n); }
  std::string_view item(int ordinal) const { return items_[ordinal].item; }
  // Records that the item at `ordinal` was parsed into the state's list at `position`.
  void Parsed(int ordinal, int position) { items_[ordinal].position = position; }
  bool parsed(int ordinal) const { return items_[ordinal].position >= 0; }
  // Adds fields (serialized, tags included) to the end of an unparsed item's bytes when it
  // is written: a parser takes the last value of a field, so they override the item's own.
  void Patch(int ordinal, std::string_view fields);
  int size() const { return static_cast<int>(items_.size()); }

  // Writes field `field_number` of the whole list: each base item in order (a parsed one
  // serialized from the state's list, `list_item(position it was parsed to)`, else its
  // original bytes), then the state's items that are not base items, in list order.
  void AppendTo(int field_number, int list_size,
                absl::FunctionRef<const google::protobuf::MessageLite&(int)> list_item,
                std::string* out) const;

 private:
  struct Item {
    std::string_view field;
    std::string_view item;
    int position = -1;  // In the state's list once parsed.
    uint32_t patch_offset = 0, patch_size = 0;  // In patches_.
  };
  int FindInTable(absl::string_view id) const;

  std::vector<Item> items_;
  std::string patches_;
  // Built on the first Find when there is no table. Keys point into the serialized state.
  absl::flat_hash_map<absl::string_view, int> by_id_;
  bool indexed_ = false;
  const char* table_ = nullptr;  // Into the snapshot's id tables, when given.
  uint32_t table_size_ = 0;
  const char* candidates_ = nullptr;  // Likewise.
  uint32_t candidates_size_ = 0;
};

// Id tables of a serialized ProjectState, to store with it (a snapshot) so that reading it
// lazily needs no pass over every item's id: for each list LazyProjectState keeps as
// bytes, an open-addressing table from a stable hash of an item's id (field 1) to its
// ordinal in the list, and the ordinals of the items whose "now"-dependent fields
// ComputeAsOf may change (open action items and client actions, or any with overdue set;
// none in other lists). Layout, all uint32 little-endian, per list in field order:
//   field number, item count, bucket count B (a power of two), B buckets,
//   candidate count C, C ordinals
// where a bucket holds ordinal + 1 (0: empty) and an id's probe sequence starts at
// IdHash(id) & (B - 1) and goes on linearly. About 8 bytes per item.
std::string BuildIdTables(std::string_view state_bytes);
// The hash BuildIdTables uses (FNV-1a, 64 bits): the same in every process and release.
uint64_t IdHash(absl::string_view id);

class LazyProjectState {
 public:
  // The state and the parsed items live on `arena` when given (it must outlive this).
  explicit LazyProjectState(google::protobuf::Arena* arena = nullptr);
  ~LazyProjectState();
  LazyProjectState(const LazyProjectState&) = delete;
  LazyProjectState& operator=(const LazyProjectState&) = delete;

  // Reads a serialized ProjectState; false if the bytes are not one. `bytes` and
  // `id_tables` (BuildIdTables of the same bytes, or empty) must outlive this object.
  // Tables that do not fit the state are ignored. Call once.
  bool Init(std::string_view bytes, std::string_view id_tables = {});

  // The state to apply events to (ApplyEventEffect / ApplyEventEnvelope with index()): its
  // head, and of the large lists only the items parsed so far and those events added.
  accord::v1::ProjectState* state() { return state_; }
  // The index to apply events with: it parses a base item when an event names it.
  ProjectIndex* index() { return &index_; }

  // domain::ComputeAsOf over the whole state: on the parsed items as it is; the unparsed
  // action items and client actions whose "now"-dependent fields change get them as
  // patches (BaseItems::Patch), computed by the same functions from their bytes.
  void ComputeAsOf(absl::Time now);

  // Appends the whole state, serialized, to `*out`.
  void AppendTo(std::string* out);

 private:
  void UseIdTables(std::string_view tables);
  void ReserveFromIdTables(std::string_view tables);

  google::protobuf::Arena* const arena_;
  accord::v1::ProjectState* state_;  // On arena_, or owned_.
  std::unique_ptr<accord::v1::ProjectState> owned_;
  ProjectIndex index_;
  size_t bytes_size_ = 0;  // Of the state given to Init.
  // By ProjectState field number, the lists kept as bytes.
  std::map<int, BaseItems> base_;
};

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_LAZY_PROJECT_STATE_H_
