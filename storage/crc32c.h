// Crc32c: the CRC-32C (Castagnoli) checksum, as RocksDB and LevelDB compute it.
//
// Why our own: Debian's RocksDB is built without SSE4.2 and checks its blobs with a
// software CRC32c (≈1 GB/s); here the SSE4.2 instruction is used when the CPU has it
// (checked once at run time), so checking a multi-megabyte snapshot costs a fraction of a
// millisecond. The WAL tail check (wal_tail_check.h) uses it for RocksDB's record format.
//
// Thread-safety: pure functions.
#ifndef ACCORD_STORAGE_CRC32C_H_
#define ACCORD_STORAGE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace accord::storage {

// The CRC-32C of `data` appended to data whose CRC-32C is `crc` (0 to start):
// Crc32c(Crc32c(0, a), b) == Crc32c(0, a + b), like RocksDB's crc32c::Extend.
uint32_t Crc32c(uint32_t crc, std::string_view data);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_CRC32C_H_
