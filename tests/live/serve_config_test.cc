// serve.json: what a good file yields, and every bad input as the exact
// message `orchsim serve` prints (file, JSON path, what was expected).
#include "live/serve_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace orchsim::live {
namespace {

class ServeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("serve_config_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "policies");
    Write("policies/p.json", R"({"retry": {"enabled": true, "max_attempts": 2}})");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  StatusOr<ServeConfig> Load(const std::string& text) {
    const std::string path = Write("serve.json", text);
    return LoadServeConfig(path, [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }
  // The message for `text`, with the folder replaced by "DIR".
  std::string Error(const std::string& text) {
    const StatusOr<ServeConfig> config = Load(text);
    if (config.ok()) return "(loaded)";
    std::string message = config.status().message();
    const std::string folder = dir_.string();
    for (size_t at; (at = message.find(folder)) != std::string::npos;) {
      message.replace(at, folder.size(), "DIR");
    }
    return message;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_ = {{"ODDS_KEY", "s3cret"}};
};

// A valid file; tests replace one piece of it.
std::string Config(const std::string& upstream_extra = "", const std::string& top_extra = "",
                   const std::string& routes =
                       R"([{"path": "/v4/sports/{sport}/odds", "endpoint": "odds",
                            "key_params": ["regions", "markets"]}])") {
  return R"({
  "$schema": "../schema/serve.schema.json",
  "description": "test",
  "listen": "127.0.0.1:8080",
  "preset": "policies/p.json",)" +
         top_extra + R"(
  "upstreams": {
    "odds": {
      "base_url": "https://api.example.com/base/",
      "auth": {"query_param": "apiKey", "env": "ODDS_KEY"},)" +
         upstream_extra + R"(
      "routes": )" +
         routes + R"(
    }
  }
})";
}

// Config() with its auth object replaced (a second "auth" key would be a
// duplicate-key error, which the reader reports first).
std::string ConfigWithAuth(const std::string& auth) {
  std::string text = Config();
  const std::string good = R"("auth": {"query_param": "apiKey", "env": "ODDS_KEY"})";
  text.replace(text.find(good), good.size(), R"("auth": )" + auth);
  return text;
}

TEST_F(ServeConfigTest, AGoodFile) {
  const StatusOr<ServeConfig> config =
      Load(Config(R"("headers": {"Accept": "application/json"}, "max_connections": 3,
                     "read_timeout": "2s", "max_response_bytes": 1000,)",
                  R"("drain": "5s", "seed": 9, "log_level": "debug",
                     "overrides": {"retry": {"max_attempts": 4}},)"));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->listen_host, "127.0.0.1");
  EXPECT_EQ(config->listen_port, 8080);
  EXPECT_EQ(config->preset_file, (dir_ / "policies/p.json").string());
  EXPECT_EQ(config->policy.defaults.retry.max_attempts, 4);  // the override wins
  EXPECT_EQ(config->drain, Seconds(5));
  EXPECT_EQ(config->seed, 9u);
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->variant, "p");  // the preset's file name
  const UpstreamConfig& odds = config->upstreams.at("odds");
  EXPECT_TRUE(odds.base_url.tls);
  EXPECT_EQ(odds.base_url.host, "api.example.com");
  EXPECT_EQ(odds.base_url.port, 443);
  EXPECT_EQ(odds.base_url.path, "/base");
  EXPECT_EQ(odds.auth.kind, AuthConfig::Kind::kQueryParam);
  EXPECT_EQ(odds.auth.secret, "s3cret");
  EXPECT_EQ(odds.origin.max_connections, 3u);
  EXPECT_EQ(odds.origin.limits.read_timeout, Seconds(2));
  EXPECT_EQ(odds.origin.limits.max_response_bytes, 1000u);
  ASSERT_EQ(odds.routes.size(), 1u);
  EXPECT_EQ(odds.routes[0].endpoint, "odds");
  EXPECT_EQ(odds.routes[0].segments, (std::vector<std::string>{"v4", "sports", "{sport}", "odds"}));
  EXPECT_EQ(*odds.routes[0].key_params, (std::vector<std::string>{"markets", "regions"}));
  EXPECT_EQ(odds.headers.at(0),
            (std::pair<std::string, std::string>{"Accept", "application/json"}));
}

TEST_F(ServeConfigTest, TheShippedExamplesLoad) {
  env_["ODDS_API_KEY"] = "k";
  for (const char* name : {"odds-sidecar.json", "local-upstream.json"}) {
    const StatusOr<ServeConfig> config =
        LoadServeConfig(std::string(ORCHSIM_SOURCE_DIR) + "/scenarios/serve/" + name,
                        [](const std::string&) -> std::optional<std::string> { return "k"; });
    EXPECT_TRUE(config.ok()) << name << ": " << config.status().message();
  }
}

TEST_F(ServeConfigTest, BadInputNamesFilePathAndProblem) {
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"missing listen",
       {R"({"preset": "policies/p.json", "upstreams": {}})",
        "DIR/serve.json: /listen: required field is missing"}},
      {"listen without port",
       {R"({"listen": "8080"})",
        "DIR/serve.json: /listen: expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got \"8080\""}},
      {"listen port too large",
       {R"({"listen": "127.0.0.1:99999"})",
        "DIR/serve.json: /listen: expected a port in 0..65535 after ':', got \"99999\""}},
      {"missing preset file",
       {R"({"listen": "127.0.0.1:1", "preset": "nope.json"})",
        "DIR/serve.json: /preset: cannot read the preset DIR/nope.json"}},
      {"malformed JSON", {R"({"listen": )", "DIR/serve.json: malformed JSON: "}},
      {"unknown top-level key",
       {Config("", R"("lissten": 1,)"),
        "DIR/serve.json: /lissten: unknown key \"lissten\"; expected one of: $schema, description, "
        "drain, listen, log_level, overrides, preset, seed, server, upstreams, variant"}},
      {"unitless drain",
       {Config("", R"("drain": 5,)"),
        "DIR/serve.json: /drain: expected a duration string with a unit such as \"250ms\", "
        "\"90s\", \"15m\", \"2h\" or \"3d\", got 5"}},
      {"bad log level",
       {Config("", R"("log_level": "loud",)"),
        "DIR/serve.json: /log_level: expected one of \"debug\", \"error\", \"info\", \"trace\", "
        "\"warn\", got \"loud\""}},
      {"override typo",
       {Config("", R"("overrides": {"retry": {"max_attemps": 3}},)"),
        "DIR/serve.json: /overrides/retry/max_attemps: unknown key \"max_attemps\"; expected one "
        "of: "}},
      {"override out of range",
       {Config("", R"("overrides": {"retry": {"max_attempts": 0}},)"),
        "DIR/serve.json: /overrides/retry/max_attempts: expected an integer >= 1, got 0"}},
      {"bad base url",
       {Config(R"("base_url": "ftp://x",)"), "DIR/serve.json: /upstreams/odds/base_url: "}},
      {"unset secret",
       {ConfigWithAuth(R"({"header": "X-Key", "env": "MISSING"})"),
        "DIR/serve.json: /upstreams/odds/auth/env: environment variable MISSING is not set (it "
        "holds the secret)"}},
      {"line break in the auth prefix",
       {ConfigWithAuth(
            R"({"header": "X-Key", "prefix": "Bearer\r\nX-Evil: 1", "env": "ODDS_KEY"})"),
        "DIR/serve.json: /upstreams/odds/auth/prefix: expected no line break or NUL"}},
      {"two auth kinds",
       {ConfigWithAuth(R"({"header": "X-Key", "query_param": "k", "env": "ODDS_KEY"})"),
        "DIR/serve.json: /upstreams/odds/auth/query_param: expected exactly one of \"header\" "
        "and \"query_param\""}},
      {"route without slash",
       {Config("", "", R"([{"path": "v4/odds", "endpoint": "odds"}])"),
        "DIR/serve.json: /upstreams/odds/routes/0/path: expected a path starting with '/', got "
        "\"v4/odds\""}},
      {"unclosed wildcard",
       {Config("", "", R"([{"path": "/v4/{sport/odds", "endpoint": "odds"}])"),
        "DIR/serve.json: /upstreams/odds/routes/0/path: expected a segment \"{name}\", got "
        "\"{sport\""}},
      {"star not last",
       {Config("", "", R"([{"path": "/*/odds", "endpoint": "odds"}])"),
        "DIR/serve.json: /upstreams/odds/routes/0/path: \"*\" may only be the last segment"}},
      {"secret in key",
       {Config("", "", R"([{"path": "/o", "endpoint": "o", "key_params": ["a", "apiKey"]}])"),
        "DIR/serve.json: /upstreams/odds/routes/0/key_params/1: \"apiKey\" is the auth "
        "parameter; a secret is never part of a key"}},
      {"no routes",
       {Config("", "", "[]"),
        "DIR/serve.json: /upstreams/odds/routes: expected at least one route"}},
      {"route typo",
       {Config("", "", R"([{"path": "/o", "endpont": "o"}])"),
        "DIR/serve.json: /upstreams/odds/routes/0/endpoint: required field is missing"}},
      {"zero connections",
       {Config(R"("max_connections": 0,)"),
        "DIR/serve.json: /upstreams/odds/max_connections: expected an integer in [1, 1024], got "
        "0"}},
      {"ca file on http",
       {R"({"listen": "127.0.0.1:1", "preset": "policies/p.json", "upstreams": {"u": {
            "base_url": "http://h", "ca_file": "/x.pem", "routes": [{"path": "/", "endpoint": "e"}]}}})",
        "DIR/serve.json: /upstreams/u/ca_file: only an https:// base_url uses a CA file"}},
      {"reserved name",
       {R"({"listen": "127.0.0.1:1", "preset": "policies/p.json", "upstreams": {"metrics": {}}})",
        "DIR/serve.json: /upstreams/metrics: \"metrics\" is reserved for the sidecar's own "
        "/metrics"}},
      {"no upstreams",
       {R"({"listen": "127.0.0.1:1", "preset": "policies/p.json", "upstreams": {}})",
        "DIR/serve.json: /upstreams: expected at least one upstream"}},
      {"active probes need a probe path",
       {Config("", R"("overrides": {"health": {"enabled": true, "active_probes": true}},)"),
        "DIR/serve.json: /upstreams/odds/probe_path: required: the preset turns on active health "
        "probes"}},
  };
  for (const auto& [name, c] : cases) {
    const std::string message = Error(c.first);
    // Messages that end in a list or a parser's detail are compared by prefix.
    EXPECT_EQ(message.substr(0, c.second.size()), c.second) << name;
    EXPECT_FALSE(message.empty()) << name;
  }
}

TEST_F(ServeConfigTest, UnknownUpstreamKeysAreNamed) {
  EXPECT_EQ(Error(Config(R"("max_conections": 2,)")),
            "DIR/serve.json: /upstreams/odds/max_conections: unknown key \"max_conections\"; "
            "expected one of: auth, base_url, ca_file, connect_timeout, headers, idle_timeout, "
            "max_connections, max_header_bytes, max_response_bytes, max_waiting, probe_path, "
            "read_timeout, routes");
}

}  // namespace
}  // namespace orchsim::live
