#include "live/serve_config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "policies/config/input_file.h"
#include "policies/config/json_reader.h"
#include "policies/config/policy_reader.h"
#include "policies/config/preset_loader.h"

namespace orchsim::live {

namespace {

using config::ConfigError;
using config::Json;
using config::ObjectReader;

// First path segments the sidecar answers itself.
const std::set<std::string>& ReservedNames() {
  static const std::set<std::string> names = {"metrics", "healthz", "readyz"};
  return names;
}

bool ValidToken(const std::string& text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool ValidHeaderValue(const std::string& text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

void ReadListen(ObjectReader& r, ServeConfig* out) {
  std::string listen;
  r.String("listen", &listen, true);
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    r.Fail("listen", "expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    r.Fail("listen", "expected a port in 0..65535 after ':', got \"" + port_text + "\"");
  }
  out->listen_host = host;
  out->listen_port = static_cast<uint16_t>(port);
}

RouteConfig ReadRoute(ObjectReader& r, const AuthConfig& auth) {
  RouteConfig route;
  r.String("path", &route.path, true);
  r.String("endpoint", &route.endpoint, true);
  r.Bool("cacheable", &route.cacheable);
  if (route.path.empty() || route.path.front() != '/') {
    r.Fail("path", "expected a path starting with '/', got \"" + route.path + "\"");
  }
  if (route.endpoint.empty()) r.Fail("endpoint", "expected a non-empty endpoint name");
  // "/v4/sports/{sport}/odds" -> "v4", "sports", "{sport}", "odds".
  std::string rest = route.path.substr(1);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t start = 0;
  while (!rest.empty() && start <= rest.size()) {
    const size_t slash = rest.find('/', start);
    const std::string segment = rest.substr(start, slash - start);
    if (segment.empty()) r.Fail("path", "empty segment in \"" + route.path + "\"");
    const bool wildcard = segment.front() == '{' || segment == "*";
    if (wildcard && segment != "*" &&
        (segment.back() != '}' || segment.size() < 3 ||
         segment.find_first_of("{}", 1) != segment.size() - 1)) {
      r.Fail("path", "expected a segment \"{name}\", got \"" + segment + "\"");
    }
    if (!wildcard && segment.find_first_of("{}*?#") != std::string::npos) {
      r.Fail("path", "unexpected character in segment \"" + segment + "\"");
    }
    route.segments.push_back(segment);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (size_t i = 0; i + 1 < route.segments.size(); ++i) {
    if (route.segments[i] == "*") r.Fail("path", "\"*\" may only be the last segment");
  }
  if (r.Has("key_params")) {
    std::vector<std::string> params;
    r.Strings("key_params", &params);
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].empty()) {
        throw ConfigError(r.file(), r.PathOf("key_params") + "/" + std::to_string(i),
                          "expected a non-empty parameter name");
      }
      if (auth.kind == AuthConfig::Kind::kQueryParam && params[i] == auth.name) {
        throw ConfigError(
            r.file(), r.PathOf("key_params") + "/" + std::to_string(i),
            "\"" + params[i] + "\" is the auth parameter; a secret is never part of a key");
      }
    }
    std::sort(params.begin(), params.end());
    params.erase(std::unique(params.begin(), params.end()), params.end());
    route.key_params = std::move(params);
  }
  return route;
}

AuthConfig ReadAuth(ObjectReader& r, const EnvLookup& env) {
  AuthConfig auth;
  const bool header = r.Has("header");
  const bool query = r.Has("query_param");
  if (header == query) {
    r.Fail(header ? "query_param" : "header",
           "expected exactly one of \"header\" and \"query_param\"");
  }
  if (header) {
    auth.kind = AuthConfig::Kind::kHeader;
    r.String("header", &auth.name, true);
    r.String("prefix", &auth.prefix);
    if (!ValidToken(auth.name))
      r.Fail("header", "expected a header name, got \"" + auth.name + "\"");
    if (!ValidHeaderValue(auth.prefix)) r.Fail("prefix", "expected no line break or NUL");
  } else {
    auth.kind = AuthConfig::Kind::kQueryParam;
    r.String("query_param", &auth.name, true);
    if (auth.name.empty()) r.Fail("query_param", "expected a non-empty parameter name");
  }
  r.String("env", &auth.env, true);
  if (auth.env.empty()) r.Fail("env", "expected the name of an environment variable");
  const std::optional<std::string> secret = env(auth.env);
  if (!secret || secret->empty()) {
    r.Fail("env", "environment variable " + auth.env + " is not set (it holds the secret)");
  }
  if (!ValidHeaderValue(*secret)) {
    r.Fail("env", "environment variable " + auth.env + " holds a line break or NUL");
  }
  auth.secret = *secret;
  return auth;
}

size_t ReadBytes(ObjectReader& r, const std::string& key, size_t value, int64_t min, int64_t max) {
  int64_t v = static_cast<int64_t>(value);
  r.Int(key, &v, false, min, max);
  return static_cast<size_t>(v);
}

UpstreamConfig ReadUpstream(ObjectReader& r, const std::string& name, const EnvLookup& env) {
  UpstreamConfig up;
  up.name = name;
  r.Allow("headers");
  r.String("base_url", &up.base_url_text, true);
  StatusOr<BaseUrl> url = ParseBaseUrl(up.base_url_text);
  if (!url.ok()) r.Fail("base_url", url.status().message() + ", got \"" + up.base_url_text + "\"");
  up.base_url = *url;
  r.IfObject("auth", [&](ObjectReader& a) { up.auth = ReadAuth(a, env); });
  if (r.Has("headers")) {
    ObjectReader h = r.Object("headers");
    for (const std::string& key : r.Keys("headers")) {
      std::string value;
      h.String(key, &value, true);
      if (!ValidToken(key)) h.Fail(key, "expected a header name");
      if (!ValidHeaderValue(value)) h.Fail(key, "a header value may not hold a line break or NUL");
      up.headers.emplace_back(key, value);
    }
    h.Finish();
    r.Allow("headers");
  }
  OriginOptions& o = up.origin;
  o.max_connections = ReadBytes(r, "max_connections", o.max_connections, 1, 1024);
  o.max_waiting = ReadBytes(r, "max_waiting", o.max_waiting, 1, 1 << 20);
  r.Dur("connect_timeout", &o.limits.connect_timeout, false, Milliseconds(1), Hours(1));
  r.Dur("read_timeout", &o.limits.read_timeout, false, Milliseconds(1), Hours(1));
  r.Dur("idle_timeout", &o.idle_timeout, false, Milliseconds(1), Hours(24));
  o.limits.max_response_bytes =
      ReadBytes(r, "max_response_bytes", o.limits.max_response_bytes, 1, int64_t{1} << 31);
  o.limits.max_header_bytes =
      ReadBytes(r, "max_header_bytes", o.limits.max_header_bytes, 1024, int64_t{1} << 20);
  r.String("ca_file", &o.ca_file);
  if (!o.ca_file.empty() && !up.base_url.tls) {
    r.Fail("ca_file", "only an https:// base_url uses a CA file");
  }
  o.user_agent = std::string("orchsim/") + ORCHSIM_VERSION;
  r.String("probe_path", &up.probe_path);
  if (!up.probe_path.empty() && up.probe_path.front() != '/') {
    r.Fail("probe_path", "expected a path starting with '/', got \"" + up.probe_path + "\"");
  }
  r.ObjectArray("routes", &up.routes,
                [&](ObjectReader& e, RouteConfig* route) { *route = ReadRoute(e, up.auth); });
  if (!r.Has("routes")) r.Array("routes");  // required: throws naming the key
  if (up.routes.empty()) r.Fail("routes", "expected at least one route");
  return up;
}

void ReadServer(ObjectReader& r, ServerConfig* s) {
  s->max_connections = ReadBytes(r, "max_connections", s->max_connections, 1, 1 << 20);
  s->max_header_bytes = ReadBytes(r, "max_header_bytes", s->max_header_bytes, 1024, 1 << 20);
  r.Dur("idle_timeout", &s->idle_timeout, false, Milliseconds(1), Hours(24));
  r.Dur("write_timeout", &s->write_timeout, false, Milliseconds(1), Hours(1));
}

ServeConfig Read(const std::string& path, const EnvLookup& env) {
  ServeConfig out;
  out.file = path;
  const Json json = config::ParseJsonOrThrow(config::ReadFileOrThrow(path), path);
  ObjectReader r(json, "", path);
  r.Allow("$schema");
  r.Allow("description");
  r.Allow("overrides");
  r.Allow("seed");
  ReadListen(r, &out);
  std::string preset;
  r.String("preset", &preset, true);
  if (preset.empty()) r.Fail("preset", "expected the path of a policy preset");
  const std::filesystem::path preset_path(preset);
  out.preset_file =
      preset_path.is_absolute()
          ? preset
          : (std::filesystem::path(path).parent_path() / preset_path).lexically_normal().string();
  {
    config::InputFile probe = config::ReadInputFile(out.preset_file);
    if (!probe.ok()) {
      r.Fail("preset", probe.problem == config::InputFile::Problem::kUnreadable
                           ? "cannot read the preset " + out.preset_file
                           : out.preset_file + ": " + config::DescribeInputFileProblem(probe));
    }
  }
  out.variant = std::filesystem::path(out.preset_file).stem().string();
  r.String("variant", &out.variant);
  if (out.variant.empty()) r.Fail("variant", "expected a non-empty name");
  Json policy = config::ReadPresetFile(out.preset_file);
  if (r.Has("overrides")) {
    const Json& overrides = r.Raw("overrides");
    if (!overrides.is_object()) {
      r.Fail("overrides", "expected a policy object, got " + config::JsonTypeName(overrides));
    }
    config::CheckPolicyLayer(overrides, path, "/overrides");
    policy = config::MergePolicyLayers(std::move(policy), overrides);
  }
  out.policy = config::ResolvePolicy(policy, out.preset_file);
  const Status valid = out.policy.validate();
  if (!valid.ok()) {
    throw ConfigError(
        out.preset_file, "",
        valid.message() +
            (r.Has("overrides") ? " (with the overrides of " + path + ")" : std::string()));
  }
  r.Dur("drain", &out.drain, false, Duration::Zero(), Hours(1));
  if (r.Has("seed")) {
    int64_t seed = 0;
    r.Int("seed", &seed, false, 0, INT64_MAX);
    out.seed = static_cast<uint64_t>(seed);
  }
  r.Enum("log_level", &out.log_level,
         std::map<std::string, std::string>{{"trace", "trace"},
                                            {"debug", "debug"},
                                            {"info", "info"},
                                            {"warn", "warn"},
                                            {"error", "error"}});
  r.IfObject("server", [&](ObjectReader& s) { ReadServer(s, &out.server); });
  ObjectReader ups = r.Object("upstreams");
  const std::vector<std::string> names = r.Keys("upstreams");
  if (names.empty()) r.Fail("upstreams", "expected at least one upstream");
  for (const std::string& name : names) {
    if (!ValidToken(name)) {
      ups.Fail(name, "an upstream name must be letters, digits, '-', '_' or '.'");
    }
    if (ReservedNames().count(name) != 0) {
      ups.Fail(name, "\"" + name + "\" is reserved for the sidecar's own " + "/" + name);
    }
    ups.IfObject(name, [&](ObjectReader& u) {
      UpstreamConfig up = ReadUpstream(u, name, env);
      if (out.policy.health.enabled && out.policy.health.active_probes && up.probe_path.empty()) {
        u.Fail("probe_path", "required: the preset turns on active health probes");
      }
      out.upstreams.emplace(name, std::move(up));
    });
  }
  ups.Finish();
  r.Allow("upstreams");
  r.Finish();
  return out;
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT: read once at load
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const EnvLookup& env) {
  try {
    return Read(path, env);
  } catch (const ConfigError& e) {
    return Status::InvalidArgument(e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

}  // namespace orchsim::live
