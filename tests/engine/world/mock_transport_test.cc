#include "engine/world/mock_transport.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace orchsim::world {
namespace {

const Instant kStart = Instant::FromUnixMicros(1'693'526'400'000'000);  // 2023-09-01T00:00Z

UpstreamModelConfig Upstream(std::string name, Duration latency) {
  UpstreamModelConfig c;
  c.name = std::move(name);
  c.latency.constant = latency;
  return c;
}

UpstreamCall Call(std::string api) {
  return UpstreamCall{.api = std::move(api), .endpoint = "endpoint", .keys = {"key"}};
}

struct Delivery {
  std::string api;
  int64_t at_us;  // after kStart
  int status;
  friend bool operator==(const Delivery&, const Delivery&) = default;
};

class MockTransportTest : public ::testing::Test {
 protected:
  MockTransportTest() : sim_(kStart), seeds_(7), transport_(sim_) {
    transport_.AddUpstream(Upstream("scores", Milliseconds(20)), seeds_);
    transport_.AddUpstream(Upstream("odds", Milliseconds(50)), seeds_);
  }
  // Sends through the Transport interface, as the core does.
  void Send(const std::string& api) {
    Transport& port = transport_;
    port.Send(Call(api), [this, api](const Response& r) {
      delivered_.push_back({api, (sim_.now() - kStart).micros(), r.status});
    });
  }

  kernel::Simulator sim_;
  kernel::SeedTree seeds_;
  MockTransport transport_;
  std::vector<Delivery> delivered_;
};

TEST_F(MockTransportTest, RoutesEachCallToTheUpstreamNamedByItsApi) {
  sim_.RunUntil(kStart + Seconds(1));
  Send("odds");
  Send("scores");
  Send("odds");
  EXPECT_TRUE(delivered_.empty());  // never from inside Send
  sim_.RunUntilEmpty();
  EXPECT_EQ(delivered_,
            (std::vector<Delivery>{
                {"scores", 1'020'000, 200}, {"odds", 1'050'000, 200}, {"odds", 1'050'000, 200}}));
  EXPECT_EQ(transport_.Find("odds")->counters().calls, 2u);
  EXPECT_EQ(transport_.Find("scores")->counters().calls, 1u);
  EXPECT_EQ(transport_.unknown_api_calls(), 0u);
}

TEST_F(MockTransportTest, UnknownApiAnswers599AtNowThroughTheSimulator) {
  sim_.RunUntil(kStart + Seconds(2));
  Send("weather");
  Send("Odds");  // names are exact
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(transport_.unknown_api_calls(), 2u);
  sim_.RunUntilEmpty();
  EXPECT_EQ(delivered_, (std::vector<Delivery>{{"weather", 2'000'000, kStatusTransportError},
                                               {"Odds", 2'000'000, kStatusTransportError}}));
  EXPECT_EQ(transport_.Find("odds")->counters().calls, 0u);
  EXPECT_EQ(transport_.Find("scores")->counters().calls, 0u);
}

TEST_F(MockTransportTest, FindAndNames) {
  EXPECT_EQ(transport_.names(), (std::vector<std::string>{"odds", "scores"}));
  ASSERT_NE(transport_.Find("odds"), nullptr);
  EXPECT_EQ(transport_.Find("odds")->name(), "odds");
  EXPECT_EQ(transport_.Find("weather"), nullptr);
  const MockTransport& const_transport = transport_;
  EXPECT_EQ(const_transport.Find("scores")->config().latency.constant, Milliseconds(20));
}

TEST_F(MockTransportTest, DuplicateOrInvalidUpstreamsAreRejected) {
  EXPECT_THROW(transport_.AddUpstream(Upstream("odds", Milliseconds(1)), seeds_),
               std::invalid_argument);
  UpstreamModelConfig bad = Upstream("weather", Milliseconds(1));
  bad.batch.enabled = true;
  bad.batch.max_keys = 0;
  EXPECT_THROW(transport_.AddUpstream(bad, seeds_), std::invalid_argument);
  EXPECT_EQ(transport_.names(), (std::vector<std::string>{"odds", "scores"}));
  // The original "odds" is untouched.
  EXPECT_EQ(transport_.Find("odds")->config().latency.constant, Milliseconds(50));
}

TEST_F(MockTransportTest, UpstreamsDrawFromTheirOwnStreams) {
  // Two upstreams with the same model but different names do not share
  // random numbers: their health timelines differ.
  kernel::Simulator sim(kStart);
  MockTransport transport(sim);
  for (const char* name : {"a", "b"}) {
    UpstreamModelConfig c = Upstream(name, Milliseconds(1));
    c.health.enabled = true;
    c.health.mean_healthy = Minutes(10);
    transport.AddUpstream(c, seeds_);
  }
  const Instant end = kStart + Days(1);
  EXPECT_NE(transport.Find("a")->health().SpansUntil(end),
            transport.Find("b")->health().SpansUntil(end));
}

}  // namespace
}  // namespace orchsim::world
