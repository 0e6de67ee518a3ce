#include "storage/event_id.h"

#include <cstring>

namespace accord::storage {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<EventId> ParseEventId(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  EventId id{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

std::string FormatEventId(const EventId& id) {
  std::string s;
  FormatEventIdTo(id, &s);
  return s;
}

void FormatEventIdTo(const EventId& id, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->resize(36);
  size_t o = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) (*out)[o++] = '-';
    (*out)[o++] = kHex[id[i] >> 4];
    (*out)[o++] = kHex[id[i] & 0xf];
  }
}

size_t EventIdHash::operator()(const EventId& id) const {
  uint64_t a, b;
  std::memcpy(&a, id.data(), 8);
  std::memcpy(&b, id.data() + 8, 8);
  return static_cast<size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
}

}  // namespace accord::storage
