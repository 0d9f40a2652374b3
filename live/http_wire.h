// http_wire.h — HTTP/1.1 message heads written straight into a reused
// string, for the two messages serve writes per proxied request: the GET to
// the upstream and the answer to the client.
//
// Why not Beast's serializer: on a proxied miss its buffer-sequence
// iterators were about a fifth of serve's user-space instructions
// (callgrind, tools/bench_serve.sh misses), and building a message object
// allocates a node per header field. These functions produce the same bytes
// Beast writes for the same message (tests/live/http_wire_test.cc compares
// them), append to `out` without clearing it, and allocate nothing once
// `out` has grown to its working size.
//
// Header names and values are written as given: callers pass values they
// produced or validated (the serve config rejects CR and LF in configured
// headers; the core's values are numbers and names).
#ifndef ORCHSIM_LIVE_HTTP_WIRE_H_
#define ORCHSIM_LIVE_HTTP_WIRE_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchsim::live {

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

using FieldView = std::pair<std::string_view, std::string_view>;

// "GET <target> HTTP/1.1\r\n", the fields, "\r\n" (no body, so no
// Content-Length): the bytes Beast writes for a GET whose fields were set
// (fields::set) from `base`, then from `extra`, in order — a field set again
// later (names compare case-insensitively) is written once, at its last place.
void AppendGetHead(std::string& out, std::string_view target, std::span<const FieldView> base,
                   const HeaderFields& extra);

struct ResponseHead {
  int status = 200;                      // 100..999
  std::string_view content_type;         // omitted when empty
  const HeaderFields* fields = nullptr;  // after Content-Type, in order
  size_t content_length = 0;
  bool keep_alive = true;
};

// "HTTP/1.1 <status> <reason>\r\n", Content-Type, the fields, "Connection:
// close" unless keep_alive, Content-Length (not for 1xx, 204 and 304, which
// have no body), "\r\n". The reason phrase is Beast's for the status.
void AppendResponseHead(std::string& out, const ResponseHead& head);

// True for statuses whose responses carry no body (1xx, 204, 304).
bool StatusHasNoBody(int status);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_HTTP_WIRE_H_
