// SHA-256 (OpenSSL) for payloads and for the per-project hash chain.
//
//   payload_hash = SHA-256(payload bytes as stored)
//   hash         = SHA-256(envelope bytes || prev_hash || payload_hash)
//
// The envelope bytes are the fixed layout in storage_format.h, stored as they were hashed.
// Thread-safe: pure functions.
#ifndef ACCORD_STORAGE_EVENT_HASH_H_
#define ACCORD_STORAGE_EVENT_HASH_H_

#include <string_view>

#include "storage/event_record.h"

namespace accord::storage {

Sha256Digest Sha256(std::string_view data);

Sha256Digest ChainHash(std::string_view envelope, const Sha256Digest& prev_hash,
                       const Sha256Digest& payload_hash);

}  // namespace accord::storage

#endif  // ACCORD_STORAGE_EVENT_HASH_H_
