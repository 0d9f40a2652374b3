#include "live/request_router.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "live/url.h"

namespace orchsim::live {

namespace {

RouteError Error(int status, std::string code, std::string message) {
  return RouteError{status, std::move(code), std::move(message)};
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Characters a path segment may hold as sent (RFC 3986 pchar, '%' escapes
// checked separately).
bool PathChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~!$&'()*+,;=:@%").find(c) != std::string_view::npos;
}

bool Matches(const RouteConfig& route, const std::vector<std::string_view>& segments) {
  for (size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& pattern = route.segments[i];
    if (pattern == "*") return true;
    if (i >= segments.size()) return false;
    if (pattern.front() == '{') continue;
    if (pattern != segments[i]) return false;
  }
  return route.segments.size() == segments.size();
}

}  // namespace

RouteResult Route(const ServeConfig& config, std::string_view method, std::string_view target,
                  const ClientHeaders& headers, Instant now) {
  if (method != "GET") {
    return Error(405, "method_not_allowed", "only GET is proxied, got " + std::string(method));
  }
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.empty() || path.front() != '/') {
    return Error(400, "bad_path", "expected a path starting with '/'");
  }
  const size_t api_end = path.find('/', 1);
  const std::string_view api =
      path.substr(1, api_end == std::string_view::npos ? api_end : api_end - 1);
  auto upstream_it = config.upstreams.find(api);
  if (upstream_it == config.upstreams.end()) {
    std::string known;
    for (const auto& [name, up] : config.upstreams) known += (known.empty() ? "" : ", ") + name;
    return Error(
        404, "unknown_api",
        "no upstream \"" + std::string(api) + "\"; call /<api>/<path> with one of: " + known);
  }
  const UpstreamConfig& upstream = upstream_it->second;
  std::string_view rest = api_end == std::string_view::npos ? "/" : path.substr(api_end);

  // Segments of the rest; a trailing slash is kept in the target but not
  // matched.
  std::vector<std::string_view> segments;
  std::string_view body = rest.substr(1);
  if (!body.empty() && body.back() == '/') body.remove_suffix(1);
  while (!body.empty()) {
    const size_t slash = body.find('/');
    const std::string_view segment = body.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return Error(400, "bad_path", "empty, \".\" or \"..\" path segment");
    }
    for (size_t i = 0; i < segment.size(); ++i) {
      if (!PathChar(segment[i])) return Error(400, "bad_path", "invalid character in the path");
    }
    std::string decoded;
    if (!PercentDecode(segment, &decoded)) {
      return Error(400, "bad_path", "malformed percent-encoding in the path");
    }
    if (decoded == "." || decoded == "..") {  // "%2e%2e" climbs at an upstream that decodes
      return Error(400, "bad_path", "empty, \".\" or \"..\" path segment");
    }
    segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    body = body.substr(slash + 1);
  }
  const RouteConfig* route = nullptr;
  for (const RouteConfig& candidate : upstream.routes) {
    if (Matches(candidate, segments)) {
      route = &candidate;
      break;
    }
  }
  if (route == nullptr) {
    return Error(404, "no_route",
                 "no route of upstream \"" + upstream.name + "\" matches " + std::string(rest));
  }

  StatusOr<QueryParams> params = ParseQuery(query);
  if (!params.ok()) return Error(400, "bad_query", params.status().message());
  QueryParams forward, key_params;
  for (auto& [name, value] : *params) {
    if (upstream.auth.kind == AuthConfig::Kind::kQueryParam && name == upstream.auth.name) {
      continue;  // the sidecar adds its own secret
    }
    const bool in_key = !route->key_params || std::binary_search(route->key_params->begin(),
                                                                 route->key_params->end(), name);
    if (in_key) key_params.emplace_back(name, value);
    forward.emplace_back(std::move(name), std::move(value));
  }
  std::stable_sort(key_params.begin(), key_params.end());

  RoutedRequest routed;
  Request& request = routed.request;
  request.api = upstream.name;
  request.endpoint = route->endpoint;
  request.key = std::string(rest);
  if (!key_params.empty()) request.key += "?" + EncodeQuery(key_params);
  request.cacheable = route->cacheable;
  request.batchable = false;
  routed.target = upstream.base_url.path + std::string(rest);
  if (!forward.empty()) routed.target += "?" + EncodeQuery(forward);

  if (headers.priority) {
    const std::optional<Priority> priority = ParsePriority(Upper(*headers.priority));
    if (!priority || *priority == Priority::kPrefetch) {
      return Error(400, "bad_priority",
                   "X-Orchsim-Priority: expected CRITICAL, HIGH, NORMAL or LOW, got \"" +
                       std::string(*headers.priority) + "\"");
    }
    request.priority = *priority;
  }
  if (headers.deadline) {
    const ParseResult<Duration> deadline = ParseDuration(*headers.deadline);
    if (!deadline.ok() || *deadline <= Duration::Zero() || *deadline > Hours(24)) {
      return Error(400, "bad_deadline",
                   "X-Orchsim-Deadline: expected a duration such as \"2s\" or \"250ms\" (at most "
                   "24h), got \"" +
                       std::string(*headers.deadline) + "\"");
    }
    request.deadline = now + *deadline;
  }
  if (headers.kickoff) {
    const ParseResult<Instant> kickoff = ParseInstant(*headers.kickoff);
    if (!kickoff.ok()) {
      return Error(400, "bad_kickoff", "X-Orchsim-Kickoff: " + kickoff.error());
    }
    request.game_start = *kickoff;
  }
  if (headers.game) {
    if (!headers.kickoff) {
      return Error(400, "bad_game",
                   "X-Orchsim-Game needs X-Orchsim-Kickoff (ISO 8601 with a zone)");
    }
    if (headers.game->empty() || headers.game->size() > 200) {
      return Error(400, "bad_game", "X-Orchsim-Game: expected an id of 1 to 200 characters");
    }
    routed.game = std::string(*headers.game);
  }
  if (headers.cache_control) {
    const std::string value = Lower(*headers.cache_control);
    if (value.find("no-cache") != std::string::npos ||
        value.find("no-store") != std::string::npos) {
      request.cacheable = false;
    }
  }
  return routed;
}

// ---------------------------------------------------------------- TargetBook

void TargetBook::Acquire(const std::string& identity, const std::string& target) {
  Entry& entry = entries_[identity];
  entry.target = target;  // the latest request's parameters win
  ++entry.requests;
}

void TargetBook::Release(const std::string& identity) {
  auto it = entries_.find(identity);
  if (it == entries_.end()) return;
  if (--it->second.requests == 0) entries_.erase(it);
}

const std::string* TargetBook::Find(const std::string& identity) const {
  auto it = entries_.find(identity);
  return it == entries_.end() ? nullptr : &it->second.target;
}

// ---------------------------------------------------------------- ResolveCall

StatusOr<HttpTarget> ResolveCall(const ServeConfig& config,
                                 const std::map<std::string, int, std::less<>>& origin_ids,
                                 const TargetBook& book, const UpstreamCall& call) {
  auto up = config.upstreams.find(call.api);
  auto origin = origin_ids.find(call.api);
  if (up == config.upstreams.end() || origin == origin_ids.end()) {
    return Status::InvalidArgument("no upstream \"" + call.api + "\" in the serve config");
  }
  const UpstreamConfig& upstream = up->second;
  HttpTarget target;
  target.origin = origin->second;
  if (call.kind == CallKind::kProbe) {
    target.target = upstream.base_url.path + upstream.probe_path;
  } else if (call.keys.size() != 1) {
    return Status::InvalidArgument("a batch call (" + std::to_string(call.keys.size()) +
                                   " keys) has no URL: serve does not batch");
  } else {
    const std::string& key = call.keys.front();
    const std::string* known = book.Find(RequestKey(call.api, call.endpoint, key).encoded());
    target.target = known != nullptr ? *known : upstream.base_url.path + key;
  }
  if (upstream.auth.kind == AuthConfig::Kind::kQueryParam) {
    target.target += target.target.find('?') == std::string::npos ? '?' : '&';
    target.target += PercentEncode(upstream.auth.name) + "=" + PercentEncode(upstream.auth.secret);
  }
  target.headers = upstream.headers;
  if (upstream.auth.kind == AuthConfig::Kind::kHeader) {
    target.headers.emplace_back(upstream.auth.name, upstream.auth.prefix + upstream.auth.secret);
  }
  target.credits_if_unreported =
      config.policy.ForApi(call.api).ForEndpoint(call.endpoint).expected_credits_per_call;
  return target;
}

}  // namespace orchsim::live
