// Memtable insert hints (see the header for why).
#include "storage/memtable_insert_hints.h"

#include <cstring>

#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"

namespace accord::storage {
namespace {

class EmptyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "accord.EmptyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), 0);
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

// The project id and its 0x00 terminator (storage_format.h: StreamKey). A key without
// the terminator is not a stream key and gets no hint.
class ProjectPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "accord.ProjectPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* end = std::memchr(key.data(), 0, key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(end) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), 0, key.size()) != nullptr;
  }
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> OneInsertHintPerFamily() {
  return std::make_shared<EmptyPrefix>();
}

std::shared_ptr<const rocksdb::SliceTransform> OneInsertHintPerProject() {
  return std::make_shared<ProjectPrefix>();
}

}  // namespace accord::storage
