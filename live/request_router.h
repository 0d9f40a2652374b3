// request_router.h — from a client's HTTP request to the core's Request,
// and from the core's UpstreamCall back to an upstream URL.
//
// A client calls GET /<api>/<path>?<query> with optional headers:
//   X-Orchsim-Priority  CRITICAL, HIGH, NORMAL (default) or LOW (any case)
//   X-Orchsim-Deadline  a duration ("2s", "250ms"): answer within it
//   X-Orchsim-Game      a game id, with
//   X-Orchsim-Kickoff   its kickoff, ISO 8601 with a zone
//                       (kickoff-aware TTLs, escalation, prefetch)
//   Cache-Control       "no-cache" or "no-store": not answered from, nor
//                       stored in, the cache
// Route() finds the upstream (<api>) and the first route whose pattern
// matches <path>, and builds:
//   - the key: "<path>?<key params>", the route's key parameters in sorted
//     order, canonically percent-encoded (the auth parameter never), so
//     requests that differ only in parameter order or spelling share a
//     cache entry and a call;
//   - the upstream target: base path + <path> + every query parameter but
//     the auth one, in the client's order (the secret is added at send
//     time, never stored here).
// Anything malformed is a RouteError with the HTTP status to answer (400,
// 404, 405) and a reason; Route never throws.
//
// TargetBook remembers the target of each key while requests for it are
// in progress (parameters outside the key still reach the upstream). The
// call resolver (ResolveCall) looks a call's key up there; when absent
// (a prefetch, a request already answered) the key itself — the path and
// the key parameters — is the target.
//
// Thread rules: the loop's thread.
#ifndef ORCHSIM_LIVE_REQUEST_ROUTER_H_
#define ORCHSIM_LIVE_REQUEST_ROUTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "live/http_transport.h"
#include "live/serve_config.h"
#include "policies/request.h"
#include "policies/time.h"

namespace orchsim::live {

// The headers Route reads (absent ones stay empty).
struct ClientHeaders {
  std::optional<std::string_view> priority, deadline, game, kickoff, cache_control;
};

struct RoutedRequest {
  Request request;     // id and submitted_at left for the caller
  std::string target;  // upstream request target without the secret
  std::string game;    // "" when none
};

struct RouteError {
  int status = 400;
  std::string code;     // "unknown_api", "no_route", "bad_priority", ...
  std::string message;  // for people
};

using RouteResult = std::variant<RoutedRequest, RouteError>;

// `target` is the request-target of the client's request ("/odds/v4/..?.."),
// `now` the core's monotonic now (for the deadline).
RouteResult Route(const ServeConfig& config, std::string_view method, std::string_view target,
                  const ClientHeaders& headers, Instant now);

class TargetBook {
 public:
  // A request for `identity` (RequestKey::encoded) is in progress.
  void Acquire(const std::string& identity, const std::string& target);
  // It ended.
  void Release(const std::string& identity);
  const std::string* Find(const std::string& identity) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string target;
    size_t requests = 0;
  };
  std::unordered_map<std::string, Entry> entries_;
};

// Where the core's call goes: origin `origin_ids[call.api]`, target from
// the book (or the key), the auth header or parameter added, credits
// expected per the policy.
StatusOr<HttpTarget> ResolveCall(const ServeConfig& config,
                                 const std::map<std::string, int, std::less<>>& origin_ids,
                                 const TargetBook& book, const UpstreamCall& call);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_REQUEST_ROUTER_H_
