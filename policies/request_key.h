// request_key.h — the identity of a request: (api, endpoint, key).
//
// Two requests with equal RequestKeys ask for the same data: they may share
// one upstream call (coalescer) and one cache entry (response cache). The
// key is a value type built once, when a request is submitted; its hash is
// computed then and never again.
//
// Encoding: "<api length>:<api><endpoint length>:<endpoint><key>", e.g.
// "4:odds4:oddsnfl/2023-09-07". Lengths make it unambiguous whatever the
// parts contain: ("a|b", "c") and ("a", "b|c") are different keys (a
// separator-joined string would confuse them). Equality is byte equality of
// the encodings.
#ifndef ORCHSIM_POLICIES_REQUEST_KEY_H_
#define ORCHSIM_POLICIES_REQUEST_KEY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orchsim {

class RequestKey {
 public:
  RequestKey() = default;
  RequestKey(std::string_view api, std::string_view endpoint, std::string_view key);
  // Becomes RequestKey(api, endpoint, key), reusing the storage it holds
  // (recycled keys allocate nothing when the new encoding fits). The parts
  // must not point into this key's own encoding.
  void Assign(std::string_view api, std::string_view endpoint, std::string_view key);

  std::string_view api() const { return std::string_view(encoded_).substr(api_at_, api_size_); }
  std::string_view endpoint() const {
    return std::string_view(encoded_).substr(endpoint_at_, endpoint_size_);
  }
  std::string_view key() const { return std::string_view(encoded_).substr(key_at_); }
  // The unambiguous encoding (see the header).
  const std::string& encoded() const { return encoded_; }
  size_t hash() const { return hash_; }
  // "api/endpoint/key", for people (ambiguous; never used as an identity).
  std::string ToString() const;

  bool operator==(const RequestKey& other) const {
    return hash_ == other.hash_ && encoded_ == other.encoded_;
  }
  bool operator<(const RequestKey& other) const { return encoded_ < other.encoded_; }

 private:
  std::string encoded_;
  size_t hash_ = 0;
  uint32_t api_at_ = 0, api_size_ = 0;
  uint32_t endpoint_at_ = 0, endpoint_size_ = 0;
  uint32_t key_at_ = 0;
};

// For unordered containers: the hash computed at construction.
struct RequestKeyHash {
  size_t operator()(const RequestKey& key) const { return key.hash(); }
};

}  // namespace orchsim

#endif  // ORCHSIM_POLICIES_REQUEST_KEY_H_
