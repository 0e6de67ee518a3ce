#include "tests/storage/log_test_helpers.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/container/flat_hash_map.h"
#include "absl/random/distributions.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/event_hash.h"

namespace accord::testing {

using storage::EventRecord;

storage::ProposedRecord RandomEvent(absl::BitGenRef gen, size_t payload_bytes) {
  storage::ProposedRecord e;
  for (uint8_t& b : e.event_id) b = absl::Uniform<uint8_t>(gen);
  e.event_type = "test.fault_injection";
  e.payload.resize(payload_bytes);
  for (char& c : e.payload) c = static_cast<char>(absl::Uniform<uint8_t>(gen));
  e.payload_hash = storage::Sha256(e.payload);
  return e;
}

storage::AppendBatch RandomBatch(absl::BitGenRef gen, const std::string& project_id,
                                 size_t count, size_t payload_bytes) {
  storage::AppendBatch batch;
  batch.project_id = project_id;
  batch.actor = {"fault-test", "writer"};
  for (size_t i = 0; i < count; ++i) batch.events.push_back(RandomEvent(gen, payload_bytes));
  return batch;
}

absl::Status ReadEverything(storage::EventLog& log, std::vector<EventRecord>* out) {
  out->clear();
  storage::ReadLimits limits;
  // Small pages: after a read error, more of what came before it has been returned (and
  // can be compared with what was written).
  limits.max_count = 32;
  limits.verify_hashes = true;
  std::vector<EventRecord> page;
  uint64_t from = 1;
  // Every non-empty page advances `from`; the bound only guards against a log that
  // returns the same page forever.
  for (int pages = 0; pages < 100000; ++pages) {
    if (absl::Status s = log.ReadAll(from, limits, &page); !s.ok()) return s;
    if (page.empty()) return absl::OkStatus();
    if (page.front().position != from) {
      return absl::InternalError(absl::StrCat("page asked from position ", from,
                                              " starts at ", page.front().position));
    }
    from = page.back().position + 1;
    for (EventRecord& r : page) out->push_back(std::move(r));
  }
  return absl::InternalError("ReadAll never reached the end of the log");
}

absl::Status CheckLogStructure(const std::vector<EventRecord>& events) {
  struct Chain {
    uint64_t version = 0;
    storage::Sha256Digest hash{};
  };
  absl::flat_hash_map<std::string, Chain> chains;
  for (size_t i = 0; i < events.size(); ++i) {
    const EventRecord& e = events[i];
    if (e.position != i + 1) {
      return absl::DataLossError(absl::StrCat("event ", i, " has position ", e.position));
    }
    Chain& chain = chains[e.project_id];
    if (e.version != chain.version + 1) {
      return absl::DataLossError(absl::StrCat("position ", e.position, ": ", e.project_id,
                                              " version ", e.version, " follows version ",
                                              chain.version));
    }
    if (e.prev_hash != chain.hash) {
      return absl::DataLossError(absl::StrCat("position ", e.position, ": ", e.project_id, "@",
                                              e.version, " prev_hash is not the hash of @",
                                              chain.version));
    }
    chain.version = e.version;
    chain.hash = e.hash;
  }
  return absl::OkStatus();
}

std::vector<std::string> FilesWithSuffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && absl::EndsWith(path, suffix)) files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::Status FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  if (!f.get(c)) return absl::OutOfRangeError(absl::StrCat(path, " has no byte ", offset));
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(~c));
  f.flush();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

}  // namespace accord::testing
