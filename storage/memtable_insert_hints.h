// Memtable insert hints: which keys of a column family share one remembered insert
// position (rocksdb::ColumnFamilyOptions::memtable_insert_with_hint_prefix_extractor).
//
// Without a hint, every key a write adds to a memtable is placed by a search from the top
// of its skiplist, with cache misses at each level of a 64 MiB memtable. Our keys arrive
// in order within a group — the log's positions all increase, one project's stream keys
// all increase — so the place after the previous insert of the same group is where the
// next one goes, and the search starts there. Under single-event appends (two keys each)
// the skiplist's share of accordd's CPU samples fell from 5.2% to 3.4% (bench/README.md).
//
// Only the memtable uses these: they are not prefix extractors for tables or filters, and
// they change nothing on disk. Stateless and thread-safe.
#ifndef ACCORD_STORAGE_MEMTABLE_INSERT_HINTS_H_
#define ACCORD_STORAGE_MEMTABLE_INSERT_HINTS_H_

#include <memory>

namespace rocksdb {
class SliceTransform;
}  // namespace rocksdb

namespace accord::storage {

// Every key of the family in one group: for "log", whose keys are increasing positions.
std::shared_ptr<const rocksdb::SliceTransform> OneInsertHintPerFamily();

// One group per project: for families keyed by StreamKey (project id, 0x00, version).
std::shared_ptr<const rocksdb::SliceTransform> OneInsertHintPerProject();

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_MEMTABLE_INSERT_HINTS_H_
