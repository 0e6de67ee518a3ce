// Helpers shared by the test suites: unique temporary directories.
#ifndef ACCORD_TESTS_TEST_UTIL_H_
#define ACCORD_TESTS_TEST_UTIL_H_

#include <string>

namespace accord::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction
// unless ACCORD_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TEST_UTIL_H_
