#include "storage/event_hash.h"

#include <openssl/evp.h>

#include <memory>

namespace accord::storage {
namespace {

// OpenSSL 3 looks the algorithm up on every one-shot SHA256() call; fetching it once and
// reusing a per-thread context halves the cost of hashing a few hundred bytes.
const EVP_MD* Sha256Algorithm() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out;
  EVP_MD_CTX* ctx = ThreadContext();
  EVP_DigestInit_ex2(ctx, Sha256Algorithm(), nullptr);
  EVP_DigestUpdate(ctx, data.data(), data.size());
  EVP_DigestFinal_ex(ctx, out.data(), nullptr);
  return out;
}

Sha256Digest ChainHash(std::string_view envelope, const Sha256Digest& prev_hash,
                       const Sha256Digest& payload_hash) {
  Sha256Digest out;
  EVP_MD_CTX* ctx = ThreadContext();
  EVP_DigestInit_ex2(ctx, Sha256Algorithm(), nullptr);
  EVP_DigestUpdate(ctx, envelope.data(), envelope.size());
  EVP_DigestUpdate(ctx, prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx, payload_hash.data(), payload_hash.size());
  EVP_DigestFinal_ex(ctx, out.data(), nullptr);
  return out;
}

}  // namespace accord::storage
