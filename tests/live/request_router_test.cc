// Client URL -> core Request (key, target, headers), malformed requests as
// 4xx reasons, and the core's calls -> upstream URLs with the secret added.
#include "live/request_router.h"

#include <gtest/gtest.h>

#include <string>

namespace orchsim::live {
namespace {

RouteConfig MakeRoute(const std::string& path, const std::string& endpoint,
                      std::optional<std::vector<std::string>> key_params = std::nullopt) {
  RouteConfig route;
  route.path = path;
  route.endpoint = endpoint;
  route.key_params = std::move(key_params);
  std::string rest = path.substr(1);
  size_t start = 0;
  while (!rest.empty()) {
    const size_t slash = rest.find('/', start);
    route.segments.push_back(rest.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return route;
}

ServeConfig TestConfig() {
  ServeConfig config;
  UpstreamConfig odds;
  odds.name = "odds";
  odds.base_url = *ParseBaseUrl("https://api.example.com/base");
  odds.auth.kind = AuthConfig::Kind::kQueryParam;
  odds.auth.name = "apiKey";
  odds.auth.secret = "s3cret&=";
  odds.routes = {
      MakeRoute("/v4/sports/{sport}/odds", "odds", std::vector<std::string>{"markets", "regions"}),
      MakeRoute("/v4/sports", "sports"), MakeRoute("/files/*", "files")};
  odds.probe_path = "/v4/sports";
  config.upstreams.emplace("odds", odds);
  UpstreamConfig weather;
  weather.name = "weather";
  weather.base_url = *ParseBaseUrl("http://127.0.0.1:9000");
  weather.auth.kind = AuthConfig::Kind::kHeader;
  weather.auth.name = "Authorization";
  weather.auth.prefix = "Bearer ";
  weather.auth.secret = "tok";
  weather.routes = {MakeRoute("/*", "any")};
  config.upstreams.emplace("weather", weather);
  config.policy.Api("odds").Endpoint("odds").expected_credits_per_call = 2;
  return config;
}

const Instant kNow = Instant::FromUnixMicros(1'700'000'000'000'000);

RoutedRequest Routed(const ServeConfig& config, const std::string& target,
                     const ClientHeaders& headers = {}) {
  RouteResult result = Route(config, "GET", target, headers, kNow);
  if (auto* error = std::get_if<RouteError>(&result)) {
    ADD_FAILURE() << target << ": " << error->code << ": " << error->message;
    return {};
  }
  return std::get<RoutedRequest>(result);
}

RouteError Refused(const ServeConfig& config, const std::string& target,
                   const ClientHeaders& headers = {}, const std::string& method = "GET") {
  RouteResult result = Route(config, method, target, headers, kNow);
  if (auto* error = std::get_if<RouteError>(&result)) return *error;
  ADD_FAILURE() << target << " was accepted";
  return {};
}

TEST(RouteTest, KeyIsThePathAndTheSortedKeyParametersWithoutTheSecret) {
  const ServeConfig config = TestConfig();
  const RoutedRequest a = Routed(
      config, "/odds/v4/sports/nfl/odds?regions=us&apiKey=CLIENTS&markets=h2h%2Cspreads&x=1");
  EXPECT_EQ(a.request.api, "odds");
  EXPECT_EQ(a.request.endpoint, "odds");
  EXPECT_EQ(a.request.key, "/v4/sports/nfl/odds?markets=h2h%2Cspreads&regions=us");
  EXPECT_EQ(a.target, "/base/v4/sports/nfl/odds?regions=us&markets=h2h%2Cspreads&x=1");
  EXPECT_FALSE(a.request.batchable);
  EXPECT_TRUE(a.request.cacheable);
  EXPECT_EQ(a.request.priority, Priority::kNormal);
  EXPECT_EQ(a.request.deadline, Instant::Max());
  // Another order and spelling of the same parameters: the same key.
  const RoutedRequest b =
      Routed(config, "/odds/v4/sports/nfl/odds?markets=h2h,spreads&x=2&regions=%75s");
  EXPECT_EQ(b.request.key, a.request.key);
  // A route without key_params keys on every parameter.
  EXPECT_EQ(Routed(config, "/odds/v4/sports?all=true&b=2&a=1").request.key,
            "/v4/sports?a=1&all=true&b=2");
  EXPECT_EQ(Routed(config, "/odds/v4/sports").request.key, "/v4/sports");
  EXPECT_EQ(Routed(config, "/odds/files/a/b/c.json").request.endpoint, "files");
  EXPECT_EQ(Routed(config, "/weather/").request.endpoint, "any");
}

TEST(RouteTest, HeadersSetPriorityDeadlineGameAndCaching) {
  const ServeConfig config = TestConfig();
  ClientHeaders headers;
  headers.priority = "critical";
  headers.deadline = "1500ms";
  headers.game = "2023-09-07-DET-KC";
  headers.kickoff = "2023-09-07T20:20:00-04:00";
  headers.cache_control = "no-cache";
  const RoutedRequest r = Routed(config, "/odds/v4/sports", headers);
  EXPECT_EQ(r.request.priority, Priority::kCritical);
  EXPECT_EQ(r.request.deadline, kNow + Milliseconds(1500));
  EXPECT_EQ(r.game, "2023-09-07-DET-KC");
  ASSERT_TRUE(r.request.game_start);
  EXPECT_EQ(FormatInstant(*r.request.game_start), "2023-09-08T00:20:00Z");
  EXPECT_FALSE(r.request.cacheable);
}

TEST(RouteTest, MalformedRequestsAreRefusedWithAReason) {
  const ServeConfig config = TestConfig();
  EXPECT_EQ(Refused(config, "/odds/v4/sports", {}, "POST").status, 405);
  const RouteError unknown = Refused(config, "/nope/x");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code, "unknown_api");
  EXPECT_EQ(unknown.message, "no upstream \"nope\"; call /<api>/<path> with one of: odds, weather");
  EXPECT_EQ(Refused(config, "/").code, "unknown_api");
  EXPECT_EQ(Refused(config, "/odds/v5/x").code, "no_route");
  EXPECT_EQ(Refused(config, "/odds/v5/x").status, 404);
  EXPECT_EQ(Refused(config, "/odds/v4/sports/nfl/odds/extra").code, "no_route");
  EXPECT_EQ(Refused(config, "/odds/files/../secret").code, "bad_path");
  EXPECT_EQ(Refused(config, "/odds/files//x").code, "bad_path");
  EXPECT_EQ(Refused(config, "/odds/files/%2e%2E/secret").code, "bad_path");
  EXPECT_EQ(Refused(config, "/odds/files/a b").code, "bad_path");
  EXPECT_EQ(Refused(config, "/odds/files/%zz").code, "bad_path");
  EXPECT_EQ(Refused(config, "odds/v4").code, "bad_path");
  EXPECT_EQ(Refused(config, "/odds/v4/sports?a=%4").code, "bad_query");
  EXPECT_EQ(Refused(config, "/odds/v4/sports?=1").code, "bad_query");
  ClientHeaders h;
  h.priority = "PREFETCH";
  EXPECT_EQ(Refused(config, "/odds/v4/sports", h).code, "bad_priority");
  h = {};
  h.priority = "urgent";
  const RouteError priority = Refused(config, "/odds/v4/sports", h);
  EXPECT_EQ(priority.status, 400);
  EXPECT_EQ(priority.message,
            "X-Orchsim-Priority: expected CRITICAL, HIGH, NORMAL or LOW, got \"urgent\"");
  h = {};
  h.deadline = "5";
  EXPECT_EQ(Refused(config, "/odds/v4/sports", h).code, "bad_deadline");
  h.deadline = "-1s";
  EXPECT_EQ(Refused(config, "/odds/v4/sports", h).code, "bad_deadline");
  h = {};
  h.kickoff = "2023-09-07T20:20:00";  // no zone
  EXPECT_EQ(Refused(config, "/odds/v4/sports", h).code, "bad_kickoff");
  h = {};
  h.game = "g1";
  EXPECT_EQ(Refused(config, "/odds/v4/sports", h).code, "bad_game");
}

TEST(ResolveCallTest, TargetFromTheBookOrTheKeyWithTheSecretAdded) {
  const ServeConfig config = TestConfig();
  const std::map<std::string, int, std::less<>> origins = {{"odds", 0}, {"weather", 1}};
  TargetBook book;
  UpstreamCall call;
  call.api = "odds";
  call.endpoint = "odds";
  call.keys = {"/v4/sports/nfl/odds?regions=us"};
  StatusOr<HttpTarget> fallback = ResolveCall(config, origins, book, call);
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->origin, 0);
  EXPECT_EQ(fallback->target, "/base/v4/sports/nfl/odds?regions=us&apiKey=s3cret%26%3D");
  EXPECT_DOUBLE_EQ(fallback->credits_if_unreported, 2);

  const std::string identity = RequestKey("odds", "odds", call.keys[0]).encoded();
  book.Acquire(identity, "/base/v4/sports/nfl/odds?regions=us&x=1");
  book.Acquire(identity, "/base/v4/sports/nfl/odds?regions=us&x=2");  // the latest wins
  EXPECT_EQ(ResolveCall(config, origins, book, call)->target,
            "/base/v4/sports/nfl/odds?regions=us&x=2&apiKey=s3cret%26%3D");
  book.Release(identity);
  EXPECT_EQ(book.size(), 1u);
  book.Release(identity);
  EXPECT_EQ(book.size(), 0u);

  UpstreamCall weather;
  weather.api = "weather";
  weather.endpoint = "any";
  weather.keys = {"/forecast"};
  const StatusOr<HttpTarget> w = ResolveCall(config, origins, book, weather);
  EXPECT_EQ(w->target, "/forecast");
  ASSERT_EQ(w->headers.size(), 1u);
  EXPECT_EQ(w->headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer tok"}));
  EXPECT_DOUBLE_EQ(w->credits_if_unreported, 1);

  UpstreamCall probe = call;
  probe.kind = CallKind::kProbe;
  probe.keys = {"probe"};
  EXPECT_EQ(ResolveCall(config, origins, book, probe)->target,
            "/base/v4/sports?apiKey=s3cret%26%3D");

  UpstreamCall batch = call;
  batch.keys = {"a", "b"};
  EXPECT_FALSE(ResolveCall(config, origins, book, batch).ok());
  UpstreamCall unknown = call;
  unknown.api = "nope";
  EXPECT_FALSE(ResolveCall(config, origins, book, unknown).ok());
}

TEST(UrlTest, BaseUrlsAndQueries) {
  const StatusOr<BaseUrl> a = ParseBaseUrl("http://[::1]:8080/v1/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->path, "/v1");
  EXPECT_EQ(a->origin(), "http://[::1]:8080");
  EXPECT_EQ(a->host_header(), "[::1]:8080");
  EXPECT_EQ(ParseBaseUrl("https://x.example")->host_header(), "x.example");
  EXPECT_FALSE(ParseBaseUrl("x.example").ok());
  EXPECT_FALSE(ParseBaseUrl("http://").ok());
  EXPECT_FALSE(ParseBaseUrl("http://h:0").ok());
  EXPECT_FALSE(ParseBaseUrl("http://h:").ok());
  EXPECT_FALSE(ParseBaseUrl("http://h/x?y=1").ok());
  EXPECT_FALSE(ParseBaseUrl("http://u@h").ok());
  const StatusOr<QueryParams> q = ParseQuery("a=1&&b&c=x%20y+z&a=2");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, (QueryParams{{"a", "1"}, {"b", ""}, {"c", "x y+z"}, {"a", "2"}}));
  EXPECT_EQ(EncodeQuery(*q), "a=1&b=&c=x%20y%2Bz&a=2");
  EXPECT_FALSE(ParseQuery("a=%").ok());
  EXPECT_FALSE(ParseQuery("a=%g1").ok());
}

}  // namespace
}  // namespace orchsim::live
