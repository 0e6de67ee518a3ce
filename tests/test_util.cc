#include "tests/test_util.h"

#include <cstdlib>
#include <filesystem>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace accord::testing {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  absl::BitGen gen;
  path_ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/accord-test-",
                       absl::Uniform<uint64_t>(gen));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  if (std::getenv("ACCORD_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace accord::testing
