// RepairWalTails: before RocksDB recovers, tells the end of a write-ahead log that a crash
// left (a torn, unacknowledged write: drop it) from corruption of what was acknowledged
// (DATA_LOSS), two cases RocksDB's kTolerateCorruptedTailRecords recovery confuses.
//
// The WAL format (RocksDB db/log_format.h, unchanged since LevelDB): 32 KiB blocks; each
// physical record is a 7-byte header — masked CRC32C of type and payload (fixed32), payload
// length (fixed16), type (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST; 0 for zeroed space) — and its
// payload; a block's last < 7 bytes are zero padding. A logical record (one synced write of
// the event log: the log's syncer has at most one write in flight) is a FULL record or
// FIRST, MIDDLE..., LAST. Files with other record types (recyclable, newer) are left to
// RocksDB.
//
// Two ways RocksDB gets it wrong, and what is done instead:
//  1. A length that runs past the end of the file is taken for a writer that died
//     mid-record, and the record (with everything after it) is dropped without a word —
//     but a bit flipped in the length field of an acknowledged record looks the same. The
//     checksum covers type and payload, not the length: if a shorter length gives a
//     payload matching the checksum, the record was whole and its length is corrupt:
//     DATA_LOSS (a torn write matches by a 2^-32 chance).
//  2. A WAL prepared with zeros (prepared_wal_file_system.h), or one whose size reached the
//     disk before its data, ends in zeros after a crash. RocksDB skips zeroed blocks, but a
//     write cut short by a power loss leaves zeros where its unwritten sectors are, which
//     RocksDB reads as a checksum error or a record without its end: corruption, and the
//     database would not open after an ordinary power cut. Here such damage counts as a
//     torn write, and the file is cut back to the end of its last whole logical record,
//     when (a) no whole record (FULL or FIRST with a matching checksum) begins anywhere after
//     the damage — nothing written later was acknowledged — and (b) the damaged record
//     shows an unwritten sector: all of its bytes within some 512-byte sector are zeros,
//     and at least kMinUnwrittenRun of them (its extent is what its header claims, or up to
//     the file's last non-zero byte); or it starts with zeros up to the end of its sector,
//     at least its checksum and one length byte (its first sector was never written,
//     however few of its bytes it held); or a sector boundary cuts its header and the
//     sector after the boundary is all zeros, its type byte included (the length then
//     read is not the one written); or its later fragments are missing and zeros stand in
//     their place. Damage without (a) or (b) — a flipped bit in the last acknowledged
//     record has no zeroed sector — is DATA_LOSS naming the file and byte.
//
// Thread-safety: pure functions of the files; call before the database is opened.
#ifndef ACCORD_STORAGE_WAL_TAIL_CHECK_H_
#define ACCORD_STORAGE_WAL_TAIL_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace accord::storage {

// The fewest zero bytes of the damaged record within one sector taken as that sector
// unwritten (a whole sector inside the record is 512). Kept small because a write torn
// after its last sector but one leaves only the few bytes the record has in that sector;
// a record whose own bytes happen to end in this many zeros at a sector boundary (event
// records end in event ids, random) would only weaken rule (b) for itself.
inline constexpr uint64_t kMinUnwrittenRun = 8;

// True for RocksDB's name of a WAL file, "NNNNNN.log" (a base name, no directory).
bool IsWalFileName(std::string_view file_name);

// Checks one WAL file's whole contents. OK with nullopt: nothing to do; OK with an offset:
// a torn write, cut the file to that size; DATA_LOSS naming `name` and the byte offset
// when what was acknowledged is damaged.
absl::StatusOr<std::optional<uint64_t>> CheckWalTail(std::string_view name,
                                                     std::string_view contents);

// Checks every WAL file ("NNNNNN.log") directly in `wal_dir` (OK when it holds none or does
// not exist) and cuts torn writes off; each cut is described in `repairs` (file, offset,
// bytes dropped). Reads and truncates files on the local file system.
absl::Status RepairWalTails(const std::string& wal_dir, std::vector<std::string>* repairs);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_WAL_TAIL_CHECK_H_
