// The client library's event ids: random version-4 UUIDs in canonical form, which the
// server's parser accepts, written in place into a reused string.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "client/accord_client.h"
#include "storage/event_id.h"

namespace accord::testing {
namespace {

TEST(NewEventIdTest, IsAVersion4UuidTheServerAccepts) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = client::NewEventId();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_TRUE(storage::ParseEventId(id).has_value()) << id;
    EXPECT_EQ(id[14], '4') << id;                                      // Version.
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // Variant.
  }
}

TEST(NewEventIdTest, IdsDifferAndTheBufferIsReused) {
  std::set<std::string> seen;
  std::string id = std::string(100, 'x');  // Longer than an id: cut to 36 in place.
  const char* buffer = id.data();
  for (int i = 0; i < 10000; ++i) {
    client::NewEventIdTo(&id);
    EXPECT_EQ(id.data(), buffer);
    EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
  EXPECT_EQ(id.size(), 36u);
}

}  // namespace
}  // namespace accord::testing
