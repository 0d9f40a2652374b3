#include "policies/request_key.h"

#include <cstring>

namespace orchsim {
namespace {

// A hash of the encoding, eight bytes at a time (a multiply-xorshift mix per
// word and a final avalanche): keys are hashed once per request, so this is
// on every request's path. Stable across platforms of one byte order and
// across standard libraries; nothing iterates containers in hash order, so
// the value never reaches results.
uint64_t HashBytes(std::string_view bytes) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = 0xcbf29ce484222325ULL ^ (bytes.size() * kMul);
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; ++i)
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

// Writes `n` in decimal ending just before `end`; returns where it starts.
char* WriteDecimalBefore(char* end, size_t n) {
  do {
    *--end = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return end;
}

size_t DecimalDigits(size_t n) {
  size_t count = 1;
  while (n >= 10) {
    n /= 10;
    ++count;
  }
  return count;
}

// Parts are short (api and endpoint names, most keys): fixed-size copies,
// overlapping when the size is not a power of two, instead of a call.
void Copy(char*& out, std::string_view part) {
  const char* from = part.data();
  const size_t n = part.size();
  if (n >= 8 && n <= 16) {
    std::memcpy(out, from, 8);
    std::memcpy(out + n - 8, from + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(out, from, 4);
    std::memcpy(out + n - 4, from + n - 4, 4);
  } else if (n > 16) {
    std::memcpy(out, from, n);
  } else if (n > 0) {  // 1 to 3 bytes: first, middle and last cover them
    out[0] = from[0];
    out[n / 2] = from[n / 2];
    out[n - 1] = from[n - 1];
  }
  out += n;
}

// Writes the length `n` and the ':' after it; `digits` is DecimalDigits(n).
void WriteLength(char*& out, size_t n, size_t digits) {
  if (digits == 1) {
    *out = static_cast<char>('0' + n);  // names are short: the common case
  } else {
    WriteDecimalBefore(out + digits, n);
  }
  out += digits;
  *out++ = ':';
}

}  // namespace

RequestKey::RequestKey(std::string_view api, std::string_view endpoint, std::string_view key) {
  Assign(api, endpoint, key);
}

void RequestKey::Assign(std::string_view api, std::string_view endpoint, std::string_view key) {
  // One resize and plain copies: this runs for every request.
  const size_t api_digits = DecimalDigits(api.size());
  const size_t endpoint_digits = DecimalDigits(endpoint.size());
  encoded_.resize(api_digits + 1 + api.size() + endpoint_digits + 1 + endpoint.size() + key.size());
  char* out = encoded_.data();
  WriteLength(out, api.size(), api_digits);
  api_at_ = static_cast<uint32_t>(out - encoded_.data());
  api_size_ = static_cast<uint32_t>(api.size());
  Copy(out, api);
  WriteLength(out, endpoint.size(), endpoint_digits);
  endpoint_at_ = static_cast<uint32_t>(out - encoded_.data());
  endpoint_size_ = static_cast<uint32_t>(endpoint.size());
  Copy(out, endpoint);
  key_at_ = static_cast<uint32_t>(out - encoded_.data());
  Copy(out, key);
  hash_ = static_cast<size_t>(HashBytes(encoded_));
}

std::string RequestKey::ToString() const {
  std::string text;
  text.reserve(encoded_.size());
  text += api();
  text += '/';
  text += endpoint();
  text += '/';
  text += key();
  return text;
}

}  // namespace orchsim
