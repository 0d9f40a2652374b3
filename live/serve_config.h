// serve_config.h — what `orchsim serve --config serve.json` reads: where to
// listen, the policy preset (+ overrides) the core runs, and each upstream
// API the sidecar fronts. JSON Schema: scenarios/schema/serve.schema.json;
// an example: scenarios/serve/odds-sidecar.json.
//
//   {
//     "listen": "127.0.0.1:8080",            host:port (port 0: any free port)
//     "preset": "../policies/tuned.json",    relative to this file
//     "overrides": {...},                    a policy layer over the preset
//     "variant": "tuned",                    the metrics' variant label (default:
//                                            the preset file's name without .json)
//     "drain": "30s",                        SIGTERM: how long pending work may finish
//     "seed": 7,                             the jitter's seed (default: from the OS)
//     "log_level": "info",                   trace, debug, info, warn, error
//     "server": {"max_connections": 1024, "max_header_bytes": 16384,
//                "idle_timeout": "60s", "write_timeout": "30s"},
//     "upstreams": {
//       "odds": {
//         "base_url": "https://api.the-odds-api.com",
//         "auth": {"query_param": "apiKey", "env": "ODDS_API_KEY"},
//                 or {"header": "Authorization", "prefix": "Bearer ", "env": "..."}
//         "headers": {"Accept": "application/json"},
//         "max_connections": 8, "connect_timeout": "5s", "read_timeout": "30s",
//         "idle_timeout": "30s", "max_response_bytes": 8388608, "ca_file": "...",
//         "probe_path": "/v4/sports",         needed when the preset probes actively
//         "routes": [{"path": "/v4/sports/{sport}/odds", "endpoint": "odds",
//                     "key_params": ["regions", "markets"], "cacheable": true}]
//       }
//     }
//   }
//
// Route paths are matched segment by segment: a literal, "{name}" (any one
// segment) or, last, "*" (any rest, possibly empty). The first route that
// matches names the core's endpoint. key_params lists the query parameters
// that form the cache/coalescing key (sorted; absent: every parameter);
// the auth query parameter is never part of a key, and a client's own value
// for it is dropped.
//
// Errors: every problem is reported as "FILE: /json/path: what was
// expected" (the preset's own problems name the preset file), like a
// scenario's; `orchsim serve` exits 2 on them. The secret values read from
// the environment are kept here and never printed.
#ifndef ORCHSIM_LIVE_SERVE_CONFIG_H_
#define ORCHSIM_LIVE_SERVE_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "live/http_transport.h"
#include "live/url.h"
#include "policies/orchestrator_config.h"
#include "policies/status.h"

namespace orchsim::live {

struct RouteConfig {
  std::string path;                   // the pattern as written
  std::vector<std::string> segments;  // split at '/'
  std::string endpoint;
  std::optional<std::vector<std::string>> key_params;  // sorted; absent: all
  bool cacheable = true;
};

struct AuthConfig {
  enum class Kind { kNone, kHeader, kQueryParam };
  Kind kind = Kind::kNone;
  std::string name;    // header or query parameter name
  std::string prefix;  // header only, e.g. "Bearer "
  std::string env;     // the environment variable holding the secret
  std::string secret;  // its value (never logged)
};

struct UpstreamConfig {
  std::string name;  // the api name, first path segment of client URLs
  std::string base_url_text;
  BaseUrl base_url;
  AuthConfig auth;
  std::vector<std::pair<std::string, std::string>> headers;
  OriginOptions origin;
  std::string probe_path;  // "" when none
  std::vector<RouteConfig> routes;
};

struct ServerConfig {
  size_t max_connections = 1024;         // client connections open at once
  size_t max_header_bytes = 16 << 10;    // a client request's head
  Duration idle_timeout = Seconds(60);   // to receive a request on an open connection
  Duration write_timeout = Seconds(30);  // to send an answer
};

struct ServeConfig {
  std::string file;  // the serve.json read
  std::string listen_host;
  uint16_t listen_port = 0;
  std::string preset_file;  // resolved against file's folder
  std::string variant;      // the metrics' "variant" label
  OrchestratorConfig policy;
  Duration drain = Seconds(30);
  std::optional<uint64_t> seed;
  std::string log_level = "info";
  ServerConfig server;
  std::map<std::string, UpstreamConfig, std::less<>> upstreams;
};

// Reads a variable of the environment (tests pass their own).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> ProcessEnv(const std::string& name);

// The serve config at `path` with its preset, validated; never throws.
StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const EnvLookup& env = ProcessEnv);

}  // namespace orchsim::live

#endif  // ORCHSIM_LIVE_SERVE_CONFIG_H_
