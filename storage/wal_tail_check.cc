#include "storage/wal_tail_check.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/crc32c.h"

namespace accord::storage {

namespace {

constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;
constexpr uint64_t kSectorSize = 512;
constexpr uint64_t kUnwrittenHeaderRun = 5;  // Checksum and the length's first byte.
enum RecordType : uint8_t { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

// RocksDB stores checksums masked (crc32c::Mask), since a CRC of data holding CRCs is weak.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline uint32_t LoadFixed32(const char* p) {
  return uint32_t{static_cast<uint8_t>(p[0])} | uint32_t{static_cast<uint8_t>(p[1])} << 8 |
         uint32_t{static_cast<uint8_t>(p[2])} << 16 | uint32_t{static_cast<uint8_t>(p[3])} << 24;
}

struct Header {
  uint32_t masked_crc;
  uint64_t length;
  uint8_t type;
};

Header ReadHeader(std::string_view contents, uint64_t offset) {
  const char* h = contents.data() + offset;
  return {LoadFixed32(h),
          uint64_t{static_cast<uint8_t>(h[4])} | uint64_t{static_cast<uint8_t>(h[5])} << 8,
          static_cast<uint8_t>(h[6])};
}

bool ChecksumMatches(const Header& header, std::string_view payload) {
  const char type_byte = static_cast<char>(header.type);
  return Mask(Crc32c(Crc32c(0, std::string_view(&type_byte, 1)), payload)) == header.masked_crc;
}

// True when some payload length below `stated`, within the bytes present, makes the
// record's checksum match: the record is whole and its length field was changed.
bool ShorterLengthMatches(const Header& header, std::string_view present) {
  const char type_byte = static_cast<char>(header.type);
  uint32_t crc = Crc32c(0, std::string_view(&type_byte, 1));
  for (uint64_t n = 0; n <= present.size() && n < header.length; ++n) {
    if (Mask(crc) == header.masked_crc) return true;
    if (n < present.size()) crc = Crc32c(crc, present.substr(n, 1));
  }
  return false;
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

// Rule (b): some sector whose bytes within [from, end) are all zeros, at least
// kMinUnwrittenRun of them.
bool ShowsUnwrittenSector(std::string_view contents, uint64_t from, uint64_t end) {
  end = std::min<uint64_t>(end, contents.size());
  for (uint64_t s = from / kSectorSize * kSectorSize; s < end; s += kSectorSize) {
    const uint64_t lo = std::max(s, from);
    const uint64_t hi = std::min(s + kSectorSize, end);
    if (hi > lo && hi - lo >= std::min(kMinUnwrittenRun, kSectorSize) &&
        AllZero(contents.substr(lo, hi - lo))) {
      return true;
    }
  }
  return false;
}

// Rule (a): the offset of a whole record (FULL, or FIRST, with a matching checksum) in a
// block after the one holding `damage`, found by walking each later block's records from
// its start while they are whole; nullopt when there is none.
std::optional<uint64_t> WholeRecordAfter(std::string_view contents, uint64_t damage) {
  const uint64_t size = contents.size();
  for (uint64_t block = (damage / kBlockSize + 1) * kBlockSize; block < size;
       block += kBlockSize) {
    const uint64_t block_end = block + kBlockSize;
    for (uint64_t off = block; off + kHeaderSize <= std::min(block_end, size);) {
      const Header h = ReadHeader(contents, off);
      const uint64_t payload = off + kHeaderSize;
      if (h.type < kFull || h.type > kLast || payload + h.length > std::min(block_end, size) ||
          !ChecksumMatches(h, contents.substr(payload, h.length))) {
        break;
      }
      if (h.type == kFull || h.type == kFirst) return off;
      off = payload + h.length;
    }
  }
  return std::nullopt;
}

// Rule (b) for the record damaged at `damage` (the last whole record ends at `whole_end`;
// the damaged one claims to end at `claimed_end`, 0 if unknown, and `continues` if it is a
// FIRST or MIDDLE fragment): whether it shows a sector that was never written.
bool ShowsTornWrite(std::string_view contents, uint64_t damage, uint64_t whole_end,
                    uint64_t claimed_end, bool continues) {
  const uint64_t size = contents.size();
  // Its first bytes running as zeros to the end of their sector mean that sector was never
  // written, however few of the record's bytes it held, once they cover the checksum and a
  // length byte (no flipped bit zeroes five bytes; and while the length was written, the
  // claimed end finds the record's other unwritten sectors).
  const uint64_t damage_sector_end =
      std::min(damage / kSectorSize * kSectorSize + kSectorSize, size);
  if (damage_sector_end - damage >= kUnwrittenHeaderRun &&
      AllZero(contents.substr(damage, damage_sector_end - damage))) {
    return true;
  }
  // Its header cut by a sector boundary, the sector after the boundary never written: the
  // rest of the header reads as zeros (type 0, a length that lost its high byte, so the
  // claimed end says nothing), and so does the rest of that sector. Written, the header's
  // type byte there would not be zero, and no flipped bit zeroes such a run.
  const uint64_t next_sector = damage / kSectorSize * kSectorSize + kSectorSize;
  if (next_sector < damage + kHeaderSize && next_sector < size) {
    const uint64_t run_end = std::min(next_sector + kSectorSize, size);
    if (run_end - next_sector >= kMinUnwrittenRun &&
        AllZero(contents.substr(next_sector, run_end - next_sector))) {
      return true;
    }
  }
  // A fragment whose record goes on: its extent runs over the fragments at the next
  // blocks' starts, and a zeroed header where one must be is an unwritten sector.
  for (uint64_t b = claimed_end; continues && b % kBlockSize == 0 && b + kHeaderSize <= size;
       b += kBlockSize) {
    const Header next = ReadHeader(contents, b);
    if (next.type == kZero && next.length == 0) return true;
    if (next.type != kMiddle && next.type != kLast) break;
    claimed_end = std::min(b + kHeaderSize + next.length, b + kBlockSize);
    continues = next.type == kMiddle;
  }
  uint64_t last_nonzero_end = size;
  while (last_nonzero_end > 0 && contents[last_nonzero_end - 1] == '\0') --last_nonzero_end;
  return ShowsUnwrittenSector(contents, whole_end, std::max(last_nonzero_end, claimed_end));
}

std::string At(std::string_view name, uint64_t offset) {
  return absl::StrCat("write-ahead log ", std::string(name), ": the record at byte ", offset);
}

}  // namespace

bool IsWalFileName(std::string_view file_name) {
  constexpr std::string_view kSuffix = ".log";
  if (file_name.size() <= kSuffix.size() ||
      file_name.substr(file_name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  return std::all_of(file_name.begin(), file_name.end() - kSuffix.size(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

absl::StatusOr<std::optional<uint64_t>> CheckWalTail(std::string_view name,
                                                     std::string_view contents) {
  const uint64_t size = contents.size();
  uint64_t off = 0;
  uint64_t whole_end = 0;       // End of the last whole logical record.
  bool in_fragments = false;    // Inside a FIRST..LAST chain.
  std::optional<uint64_t> damage;
  std::string what;             // Why `damage` is damaged.
  uint64_t claimed_end = 0;     // Where the damaged record says it ends (0: unknown).
  bool continues = false;       // The damaged fragment says the record goes on.
  while (off < size) {
    const uint64_t block_end = (off / kBlockSize + 1) * kBlockSize;
    if (block_end - off < kHeaderSize) {  // A block's zero trailer.
      off = block_end;
      continue;
    }
    if (off + kHeaderSize > size) break;  // A header cut by the end: RocksDB drops it.
    const Header h = ReadHeader(contents, off);
    if (h.type == kZero && h.length == 0) {
      // Zeroed space to the end (its checksum bytes may be the first few of a write cut
      // short, which RocksDB skips with the rest as zeroed space): the data ends here.
      if (AllZero(contents.substr(off + kHeaderSize))) break;
      damage = off;
      what = "is zeroed space with data after it";
      break;
    }
    if (h.type > kLast) return std::nullopt;  // Recyclable or newer records: RocksDB's.
    const uint64_t payload = off + kHeaderSize;
    if (payload + h.length > size) {
      // Runs past the end of the file: a torn write, unless a shorter length matches.
      if (ShorterLengthMatches(h, contents.substr(payload))) {
        return absl::DataLossError(absl::StrCat(
            At(name, off), " states ", h.length,
            " bytes, past the end of the file, but a shorter length matches its checksum: its "
            "length field is corrupt (not a torn write), and recovery would silently drop the "
            "acknowledged writes after it"));
      }
      if (payload + h.length <= block_end) break;  // RocksDB drops it as torn.
    }
    if (h.type == kZero || payload + h.length > block_end) {
      if (h.type != kZero &&
          ShorterLengthMatches(h, contents.substr(payload, std::min(block_end, size) - payload))) {
        return absl::DataLossError(absl::StrCat(
            At(name, off), " states ", h.length,
            " bytes, past the end of its 32 KiB block, but a shorter length matches its "
            "checksum: its length field is corrupt"));
      }
      damage = off;
      what = h.type == kZero ? "has type 0 (zeroed space) with a length"
                             : "runs past the end of its 32 KiB block";
      claimed_end = std::min(payload + h.length, block_end);
      break;
    }
    if (!ChecksumMatches(h, contents.substr(payload, h.length))) {
      if (ShorterLengthMatches(h, contents.substr(payload, h.length))) {
        return absl::DataLossError(absl::StrCat(
            At(name, off), " states ", h.length,
            " bytes, but a shorter length matches its checksum: its length field is corrupt"));
      }
      damage = off;
      what = "does not match its checksum";
      claimed_end = payload + h.length;
      continues = h.type == kFirst || h.type == kMiddle;
      break;
    }
    const bool starts = h.type == kFull || h.type == kFirst;
    if (starts == in_fragments) {
      damage = off;
      what = starts ? "starts a record inside another" : "continues a record never started";
      break;
    }
    in_fragments = h.type == kFirst || h.type == kMiddle;
    off = payload + h.length;
    if (!in_fragments) whole_end = off;
  }

  if (!damage) {
    // A chain of fragments cut off by the end of the file is dropped by RocksDB as torn;
    // one followed by zeros (its later fragments unwritten) RocksDB calls corruption.
    if (in_fragments && off < size) return std::optional<uint64_t>(whole_end);
    return std::nullopt;
  }
  if (std::optional<uint64_t> whole = WholeRecordAfter(contents, *damage)) {
    return absl::DataLossError(absl::StrCat(
        At(name, *damage), " ", what, ", and a whole record follows at byte ", *whole,
        ": acknowledged writes lie beyond the damage (corruption, not a torn write)"));
  }
  if (!ShowsTornWrite(contents, *damage, whole_end, claimed_end, continues)) {
    return absl::DataLossError(absl::StrCat(
        At(name, *damage), " ", what,
        ", and no sector of it is unwritten (zeros): it was written whole and then damaged "
        "(corruption, not a torn write)"));
  }
  return std::optional<uint64_t>(whole_end);
}

absl::Status RepairWalTails(const std::string& wal_dir, std::vector<std::string>* repairs) {
  std::error_code ec;
  std::filesystem::directory_iterator it(wal_dir, ec);
  if (ec) return absl::OkStatus();  // No directory yet: nothing to check.
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    if (!IsWalFileName(file) || !entry.is_regular_file(ec)) continue;
    const uint64_t size = entry.file_size(ec);
    if (ec || size == 0) continue;
    std::string contents(size, '\0');
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in.read(contents.data(), static_cast<std::streamsize>(size))) {
      return absl::UnavailableError(absl::StrCat("checking write-ahead log ",
                                                 entry.path().string(), ": cannot read its ",
                                                 size, " bytes: ", std::strerror(errno)));
    }
    absl::StatusOr<std::optional<uint64_t>> cut = CheckWalTail(file, contents);
    if (!cut.ok()) return cut.status();
    if (!cut->has_value()) continue;
    std::filesystem::resize_file(entry.path(), **cut, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cutting the torn write off ",
                                                 entry.path().string(), ": ", ec.message()));
    }
    if (repairs != nullptr) {
      repairs->push_back(absl::StrCat("write-ahead log ", file, ": cut a torn write (",
                                      size - **cut, " bytes, zeros included) at byte ", **cut));
    }
  }
  return absl::OkStatus();
}

}  // namespace accord::storage
