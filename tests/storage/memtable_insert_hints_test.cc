// The memtable insert-hint transforms: which keys share one remembered insert position.
// A wrong grouping changes no answer, only makes inserts search from the top again, so
// it is checked here directly.
#include "storage/memtable_insert_hints.h"

#include <gtest/gtest.h>

#include <string>

#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "storage/storage_format.h"

namespace accord::storage {
namespace {

std::string PrefixOf(const rocksdb::SliceTransform& t, const std::string& key) {
  return t.Transform(key).ToString();
}

TEST(MemtableInsertHintsTest, EveryLogKeySharesOneHint) {
  auto hint = OneInsertHintPerFamily();
  EXPECT_TRUE(hint->InDomain(LogKey(1)));
  EXPECT_EQ(PrefixOf(*hint, LogKey(1)), PrefixOf(*hint, LogKey(1ull << 40)));
}

TEST(MemtableInsertHintsTest, StreamKeysShareAHintPerProjectOnly) {
  auto hint = OneInsertHintPerProject();
  ASSERT_TRUE(hint->InDomain(StreamKey("alpha", 1)));
  EXPECT_EQ(PrefixOf(*hint, StreamKey("alpha", 1)), StreamKeyPrefix("alpha"));
  EXPECT_EQ(PrefixOf(*hint, StreamKey("alpha", 1)), PrefixOf(*hint, StreamKey("alpha", 900)));
  // "alpha" is a prefix of "alphabet": the 0x00 terminator keeps their hints apart.
  EXPECT_NE(PrefixOf(*hint, StreamKey("alpha", 1)), PrefixOf(*hint, StreamKey("alphabet", 1)));
}

TEST(MemtableInsertHintsTest, KeyWithoutProjectTerminatorGetsNoProjectHint) {
  EXPECT_FALSE(OneInsertHintPerProject()->InDomain(std::string("format_version")));
}

}  // namespace
}  // namespace accord::storage
