#include "storage/event_hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>

namespace accord::storage {

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

Sha256Digest ChainHash(std::string_view envelope, const Sha256Digest& prev_hash,
                       const Sha256Digest& payload_hash) {
  // One contiguous buffer and the one-shot digest: cheaper than EVP context setup per call.
  thread_local std::string buffer;
  buffer.assign(envelope);
  buffer.append(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
  buffer.append(reinterpret_cast<const char*>(payload_hash.data()), payload_hash.size());
  return Sha256(buffer);
}

}  // namespace accord::storage
