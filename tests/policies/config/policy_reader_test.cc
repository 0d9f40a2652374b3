#include "policies/config/policy_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "policies/config/preset_loader.h"

namespace orchsim::config {
namespace {

const std::string kSourceDir = ORCHSIM_SOURCE_DIR;

OrchestratorConfig Resolve(const std::string& json) {
  return ResolvePolicy(Json::parse(json), "policy.json");
}

std::string ErrorOf(const std::string& json) {
  try {
    Resolve(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(PolicyReaderTest, TopLevelKeysAreEveryApisDefaults) {
  const OrchestratorConfig c = Resolve(R"({
    "breaker": {"failure_threshold": 7}, "retry": {"max_attempts": 2},
    "bucket": {"rate_per_s": 3}, "expected_credits_per_call": 1.5,
    "apis": {"odds": {}}})");
  EXPECT_EQ(c.defaults.breaker.failure_threshold, 7);
  EXPECT_EQ(c.ForApi("weather").retry.max_attempts, 2);  // no entry: the defaults
  const ApiPolicy& odds = c.apis.at("odds");
  EXPECT_EQ(odds.breaker.failure_threshold, 7);
  EXPECT_EQ(odds.bucket.rate_per_s, 3);
  EXPECT_EQ(odds.expected_credits_per_call, 1.5);
}

TEST(PolicyReaderTest, AnApiStartsFromTheResolvedDefaultsWhateverTheOrder) {
  // "apis" before the defaults in the text, and default_api after both.
  const OrchestratorConfig c = Resolve(R"({
    "apis": {"odds": {"retry": {"base": "1s"}}},
    "retry": {"max_attempts": 5},
    "default_api": {"bucket": {"burst": 50}}})");
  const ApiPolicy& odds = c.apis.at("odds");
  EXPECT_EQ(odds.retry.base, Seconds(1));
  EXPECT_EQ(odds.retry.max_attempts, 5);
  EXPECT_EQ(odds.bucket.burst, 50);
}

TEST(PolicyReaderTest, AnEndpointStartsFromItsResolvedApi) {
  const OrchestratorConfig c = Resolve(R"({
    "timeouts": {"per_attempt": "9s"},
    "apis": {"odds": {"retry": {"max_attempts": 2}, "endpoints": {
      "scores": {"retry": {"backoff": "none"}, "cache": {"default_ttl": "10s"},
                 "expected_credits_per_call": 0.5}}}}})");
  const ApiPolicy& odds = c.apis.at("odds");
  const CallPolicy& scores = odds.ForEndpoint("scores");
  EXPECT_EQ(scores.retry.max_attempts, 2);  // the API's
  EXPECT_EQ(scores.retry.backoff, BackoffKind::kNone);
  EXPECT_EQ(scores.timeouts.per_attempt, Seconds(9));  // the defaults'
  EXPECT_EQ(scores.cache.default_ttl, Seconds(10));
  EXPECT_EQ(scores.expected_credits_per_call, 0.5);
  EXPECT_EQ(&odds.ForEndpoint("lines"), static_cast<const CallPolicy*>(&odds));
}

TEST(PolicyReaderTest, MergedLayersResolveOnceSoAnOverrideReachesEveryApi) {
  const Json preset = Json::parse(R"({"apis": {"odds": {"bucket": {"rate_per_s": 2}}},
                                      "retry": {"max_attempts": 3}})");
  const Json overrides = Json::parse(R"({"retry": {"max_attempts": 1},
                                         "cache": {"rules": [{"endpoint": "x", "ttl": "1m"}]}})");
  const OrchestratorConfig c = ResolvePolicy(MergePolicyLayers(preset, overrides), "merged");
  EXPECT_EQ(c.apis.at("odds").retry.max_attempts, 1);
  EXPECT_EQ(c.apis.at("odds").bucket.rate_per_s, 2);
  EXPECT_EQ(c.apis.at("odds").cache.rules.size(), 1u);
  // Arrays replace, objects merge.
  const Json merged = MergePolicyLayers(Json::parse(R"({"a": [1, 2], "b": {"x": 1, "y": 2}})"),
                                        Json::parse(R"({"a": [3], "b": {"y": 5}})"));
  EXPECT_EQ(merged, Json::parse(R"({"a": [3], "b": {"x": 1, "y": 5}})"));
}

TEST(PolicyReaderTest, TheSharedCacheBoundsAreTopLevelOnly) {
  const OrchestratorConfig c = Resolve(R"({"cache": {"max_entries": 7, "max_bytes": 4096}})");
  EXPECT_EQ(c.cache_store.max_entries, 7u);
  EXPECT_EQ(c.cache_store.max_bytes, 4096u);
  EXPECT_EQ(ErrorOf(R"({"apis": {"odds": {"cache": {"max_entries": 3}}}})"),
            "policy.json: /apis/odds/cache/max_entries: bounds the one cache every API shares; "
            "set it in the top-level \"cache\", not per API or endpoint");
  EXPECT_EQ(
      ErrorOf(R"({"apis": {"odds": {"endpoints": {"e": {"bucket": {}}}}}})"),
      "policy.json: /apis/odds/endpoints/e/bucket: unknown key \"bucket\"; expected one of: "
      "batcher, breaker, cache, coalescer, expected_credits_per_call, hedging, retry, timeouts");
}

TEST(PolicyReaderTest, ShippedPresetsLoadWithoutTheSimulator) {
  for (const char* preset : {"naive", "seed-plan", "tuned"}) {
    const StatusOr<OrchestratorConfig> c =
        LoadPolicyFile(kSourceDir + "/scenarios/policies/" + preset + ".json");
    ASSERT_TRUE(c.ok()) << preset << ": " << c.status().message();
  }
  const StatusOr<OrchestratorConfig> tuned =
      LoadPolicyFile(kSourceDir + "/scenarios/policies/tuned.json",
                     R"({"apis": {"odds": {"retry": {"max_attempts": 1}}}})");
  ASSERT_TRUE(tuned.ok());
  EXPECT_EQ(tuned->apis.at("odds").retry.max_attempts, 1);
  EXPECT_EQ(tuned->apis.at("odds").retry.backoff, BackoffKind::kDecorrelatedJitter);
}

TEST(PolicyReaderTest, LoadPolicyFileSaysWhatIsWrongAndWhere) {
  StatusOr<OrchestratorConfig> c = LoadPolicyFile(kSourceDir + "/scenarios/policies/none.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("none.json"), std::string::npos) << c.status().message();
  c = LoadPolicyFile(kSourceDir + "/scenarios/policies/tuned.json",
                     R"({"apis": {"odds": {"retry": {"max_attempts": "two"}}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "overrides: /apis/odds/retry/max_attempts: expected an integer, got \"two\"");
  c = LoadPolicyFile(kSourceDir + "/scenarios/policies/tuned.json",
                     R"({"apis": {"odds": {"expected_credits_per_call": 1e300}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            kSourceDir +
                "/scenarios/policies/tuned.json: apis.odds.expected_credits_per_call: "
                "1e+300 must be >= 0 and <= 1e12 credits");
}

}  // namespace
}  // namespace orchsim::config
