// url.h — the small part of URL handling the live host needs: base URLs of
// upstreams, query strings of client requests, percent-encoding.
//
// Contract:
//   - ParseBaseUrl accepts "http://host[:port][/path]" and
//     "https://host[:port][/path]" (host a DNS name, IPv4 address or
//     bracketed IPv6 address; no user info, query or fragment). The path
//     keeps no trailing slash ("" for the root).
//   - ParseQuery splits "a=1&b=x%20y" into decoded (name, value) pairs in
//     order; "a" alone is ("a", ""); empty pieces ("a=1&&b=2") are skipped.
//     '+' is kept as '+' (its meaning is the upstream's business). A
//     malformed escape ("%zz", "%4") is an error.
//   - PercentEncode writes the canonical form: RFC 3986 unreserved
//     characters as they are, every other byte as %XX (upper case), so two
//     spellings of one value encode alike.
#ifndef ORCHSIM_LIVE_URL_H_
#define ORCHSIM_LIVE_URL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/status.h"

namespace orchsim::live {

struct BaseUrl {
  bool tls = false;   // https
  std::string host;   // without brackets for IPv6
  uint16_t port = 0;  // 80 / 443 when not given
  std::string path;   // "" or "/v4" (no trailing slash)
  // "https://host:port": the connection pool's key.
  std::string origin() const;
  // The Host header value: "host" or "host:port" when the port is not the
  // scheme's default (IPv6 in brackets).
  std::string host_header() const;
};

StatusOr<BaseUrl> ParseBaseUrl(std::string_view text);

using QueryParams = std::vector<std::pair<std::string, std::string>>;
StatusOr<QueryParams> ParseQuery(std::string_view query);

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(std::string_view text, std::string* out);
std::string PercentEncode(std::string_view text);
// "a=1&b=x%20y" from decoded pairs, each part PercentEncode'd.
std::string EncodeQuery(const QueryParams& params);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_URL_H_
