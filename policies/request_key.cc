#include "policies/request_key.h"

namespace orchsim {
namespace {

// FNV-1a, 64 bit: stable across platforms and standard libraries, so hash
// order can never differ between builds (nothing iterates by it anyway).
uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

RequestKey::RequestKey(std::string_view api, std::string_view endpoint, std::string_view key) {
  const std::string api_size = std::to_string(api.size());
  const std::string endpoint_size = std::to_string(endpoint.size());
  encoded_.reserve(api_size.size() + endpoint_size.size() + 2 + api.size() + endpoint.size() +
                   key.size());
  encoded_ += api_size;
  encoded_ += ':';
  api_at_ = static_cast<uint32_t>(encoded_.size());
  api_size_ = static_cast<uint32_t>(api.size());
  encoded_ += api;
  encoded_ += endpoint_size;
  encoded_ += ':';
  endpoint_at_ = static_cast<uint32_t>(encoded_.size());
  endpoint_size_ = static_cast<uint32_t>(endpoint.size());
  encoded_ += endpoint;
  key_at_ = static_cast<uint32_t>(encoded_.size());
  encoded_ += key;
  hash_ = static_cast<size_t>(Fnv1a(encoded_));
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
