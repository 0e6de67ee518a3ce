#include "storage/wal_tail_check.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/crc32c.h"

namespace accord::storage {

namespace {

constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;
constexpr uint8_t kMaxLegacyType = 4;  // FULL, FIRST, MIDDLE, LAST.

// RocksDB stores checksums masked (crc32c::Mask), since a CRC of data holding CRCs is weak.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline uint32_t LoadFixed32(const char* p) {
  return uint32_t{static_cast<uint8_t>(p[0])} | uint32_t{static_cast<uint8_t>(p[1])} << 8 |
         uint32_t{static_cast<uint8_t>(p[2])} << 16 | uint32_t{static_cast<uint8_t>(p[3])} << 24;
}

// True when some payload length below `stated`, within the bytes present, makes the
// record's checksum match: the record is whole and its length field was changed.
bool ShorterLengthMatches(uint32_t stored_masked_crc, uint8_t type, std::string_view present,
                          uint64_t stated) {
  const char type_byte = static_cast<char>(type);
  uint32_t crc = Crc32c(0, std::string_view(&type_byte, 1));
  for (uint64_t n = 0; n <= present.size() && n < stated; ++n) {
    if (Mask(crc) == stored_masked_crc) return true;
    if (n < present.size()) crc = Crc32c(crc, present.substr(n, 1));
  }
  return false;
}

}  // namespace

absl::Status CheckWalTail(std::string_view name, std::string_view contents,
                          uint64_t contents_offset) {
  if (contents.empty()) return absl::OkStatus();
  const uint64_t size = contents.size();
  uint64_t offset = (size - 1) / kBlockSize * kBlockSize;  // The last block.
  const uint64_t block_end = offset + kBlockSize;
  while (offset + kHeaderSize <= size && block_end - offset >= kHeaderSize) {
    const char* header = contents.data() + offset;
    const uint32_t stored = LoadFixed32(header);
    const uint64_t length = uint64_t{static_cast<uint8_t>(header[4])} |
                            uint64_t{static_cast<uint8_t>(header[5])} << 8;
    const uint8_t type = static_cast<uint8_t>(header[6]);
    if (type == 0 || type > kMaxLegacyType) return absl::OkStatus();  // Zeroes, or not ours.
    const uint64_t payload = offset + kHeaderSize;
    if (payload + length <= size) {
      offset = payload + length;  // Its checksum is RocksDB's to verify.
      continue;
    }
    // Runs past the end: a torn write, unless a shorter length matches the checksum.
    const std::string_view present = contents.substr(payload);
    if (ShorterLengthMatches(stored, type, present, length)) {
      return absl::DataLossError(absl::StrCat(
          "write-ahead log ", std::string(name), ": the record at byte ",
          contents_offset + offset, " states ", length,
          " bytes, past the end of the file, but a shorter length matches its checksum: its "
          "length field is corrupt (not a torn write), and recovery would silently drop the "
          "acknowledged writes after it"));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status CheckWalTails(const std::string& wal_dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(wal_dir, ec);
  if (ec) return absl::OkStatus();  // No directory yet: nothing to check.
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    if (!absl::EndsWith(file, ".log") || file.size() == 4) continue;
    const std::string_view number(file.data(), file.size() - 4);
    bool numeric = true;
    for (char c : number) numeric = numeric && absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!numeric || !entry.is_regular_file(ec)) continue;
    const uint64_t size = entry.file_size(ec);
    if (ec || size == 0) continue;
    // Only the last block matters; read it (the offsets stay the file's, for the message).
    const uint64_t from = (size - 1) / kBlockSize * kBlockSize;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string tail(size - from, '\0');
    in.seekg(static_cast<std::streamoff>(from));
    if (!in.read(tail.data(), static_cast<std::streamsize>(tail.size()))) {
      return absl::UnavailableError(absl::StrCat("checking write-ahead log ",
                                                 entry.path().string(), ": cannot read its last ",
                                                 tail.size(), " bytes"));
    }
    if (absl::Status s = CheckWalTail(file, tail, from); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace accord::storage
