// CheckWalTails: tells a corrupt record at the end of a RocksDB WAL from a torn write,
// which RocksDB's kTolerateCorruptedTailRecords recovery cannot.
//
// Why: RocksDB's WAL reader checks a record's length before its checksum, and a length
// that runs past the end of the file is taken for a writer that died mid-record: recovery
// drops that record and everything after it without a word. A torn write looks like that,
// but so does a bit flipped in the length field of a record that was synced and
// acknowledged, and then the log would silently reopen shorter. The record's checksum
// covers its type and payload, not its length, so the two are told apart here: if a
// shorter length gives a payload whose checksum matches the header, the record was whole
// and its length field is corrupt (a torn write never matches, but by a 2^-32 chance).
//
// The WAL format (RocksDB db/log_format.h, unchanged since LevelDB): 32 KiB blocks; each
// physical record is a 7-byte header — masked CRC32C of type and payload (fixed32), payload
// length (fixed16), type (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST; 0 for zeroed space) — and its
// payload; a block's last < 7 bytes are zero padding. Only the last block of a file can
// hold a record running past its end, so only that block is read. Files with recyclable
// records (types 5-8, another header) are left to RocksDB.
//
// Thread-safety: a pure function of the files; call before the database is opened.
#ifndef ACCORD_STORAGE_WAL_TAIL_CHECK_H_
#define ACCORD_STORAGE_WAL_TAIL_CHECK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace accord::storage {

// Checks the last block of every WAL file ("NNNNNN.log") directly in `wal_dir`: DATA_LOSS
// naming the file and offset when a record there runs past the end of its file although
// a shorter length matches its checksum; OK otherwise (also when `wal_dir` holds no WAL or
// does not exist). Reads files from the local file system.
absl::Status CheckWalTails(const std::string& wal_dir);

// The same check of one WAL file's contents from byte `contents_offset` (a multiple of
// the block size) to its end; `name` and the offset are for the message.
absl::Status CheckWalTail(std::string_view name, std::string_view contents,
                          uint64_t contents_offset = 0);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_WAL_TAIL_CHECK_H_
