#include "policies/cost_tracker.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace orchsim {
namespace {

CostConfig Prices() {
  CostConfig c;
  c.price_by_api["odds"] = CostPrice{0.5, 0.25};  // binary-exact, so sums are exact
  c.price_by_api["weather"] = CostPrice{0.125, 0};
  return c;
}

void ExpectLine(const CostLine& line, uint64_t calls, double credits, double money) {
  EXPECT_EQ(line.calls, calls);
  EXPECT_EQ(line.credits, credits);
  EXPECT_EQ(line.money, money);
}

TEST(CostConfigTest, DefaultsAndErrors) {
  CostConfig c;
  EXPECT_TRUE(c.enabled);
  EXPECT_TRUE(c.price_by_api.empty());
  EXPECT_TRUE(c.validate().ok());
  EXPECT_TRUE(Prices().validate().ok());

  c.price_by_api["odds"] = CostPrice{-1, 0};
  EXPECT_EQ(c.validate().message(),
            "cost.price_by_api[\"odds\"].per_call: -1 must be >= 0 and finite");
  c.price_by_api["odds"] = CostPrice{0, std::numeric_limits<double>::infinity()};
  EXPECT_EQ(c.validate().message(),
            "cost.price_by_api[\"odds\"].per_credit: inf must be >= 0 and finite");
  c.price_by_api["odds"] = CostPrice{std::numeric_limits<double>::quiet_NaN(), 0};
  EXPECT_EQ(c.validate().message(),
            "cost.price_by_api[\"odds\"].per_call: nan must be >= 0 and finite");
  c.price_by_api.clear();
  c.price_by_api[""] = CostPrice{};
  EXPECT_EQ(c.validate().message(), "cost.price_by_api: \"\" keys must be non-empty API names");
}

TEST(CostTrackerTest, SplitsByApiAndEndpoint) {
  CostTracker tracker(Prices());
  tracker.RecordCall("odds", "odds", 6);       // 0.5 + 0.25 * 6 = 2
  tracker.RecordCall("odds", "odds", 2);       // 0.5 + 0.5 = 1
  tracker.RecordCall("odds", "scores", 0);     // 0.5
  tracker.RecordCall("weather", "hourly", 3);  // 0.125, credits not priced
  ExpectLine(tracker.ForEndpoint("odds", "odds"), 2, 8, 3.0);
  ExpectLine(tracker.ForEndpoint("odds", "scores"), 1, 0, 0.5);
  ExpectLine(tracker.ForApi("odds"), 3, 8, 3.5);
  ExpectLine(tracker.ForApi("weather"), 1, 3, 0.125);
  ExpectLine(tracker.Total(), 4, 11, 3.625);
}

TEST(CostTrackerTest, UnknownLinesAreZeroAndUnpricedApisCostNoMoney) {
  CostTracker tracker(Prices());
  ExpectLine(tracker.ForApi("odds"), 0, 0, 0);
  ExpectLine(tracker.ForEndpoint("odds", "odds"), 0, 0, 0);
  tracker.RecordCall("injuries", "list", 1.5);
  ExpectLine(tracker.ForApi("injuries"), 1, 1.5, 0);
  ExpectLine(tracker.Total(), 1, 1.5, 0);
  // Looking a line up does not create it.
  EXPECT_EQ(tracker.lines().size(), 1u);
}

TEST(CostTrackerTest, LinesAreOrderedByApiThenEndpoint) {
  CostTracker tracker(Prices());
  tracker.RecordCall("weather", "hourly", 0);
  tracker.RecordCall("odds", "scores", 0);
  tracker.RecordCall("odds", "events", 0);
  tracker.RecordCall("odds", "scores", 0);
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<uint64_t> calls;
  for (const auto& [key, line] : tracker.lines()) {
    keys.push_back(key);
    calls.push_back(line.calls);
  }
  EXPECT_EQ(keys, (std::vector<std::pair<std::string, std::string>>{
                      {"odds", "events"}, {"odds", "scores"}, {"weather", "hourly"}}));
  EXPECT_EQ(calls, (std::vector<uint64_t>{1, 2, 1}));
}

TEST(CostTrackerTest, DisabledRecordsNothing) {
  CostConfig c = Prices();
  c.enabled = false;
  CostTracker tracker(c);
  tracker.RecordCall("odds", "odds", 6);
  ExpectLine(tracker.Total(), 0, 0, 0);
  ExpectLine(tracker.ForApi("odds"), 0, 0, 0);
  EXPECT_TRUE(tracker.lines().empty());
}

TEST(CostTrackerDeathTest, BadCreditsAssertAndCountAsZero) {
  CostTracker tracker(Prices());
  // Debug builds die on the assertion; release builds bill the call, 0 credits.
  EXPECT_DEBUG_DEATH(tracker.RecordCall("odds", "odds", -4), "credits must be finite");
  EXPECT_DEBUG_DEATH(tracker.RecordCall("odds", "odds", std::numeric_limits<double>::quiet_NaN()),
                     "credits must be finite");
#ifdef NDEBUG
  ExpectLine(tracker.Total(), 2, 0, 1.0);
#else
  ExpectLine(tracker.Total(), 0, 0, 0);
#endif
}

// Recording through a LineRef gives the same lines, bit for bit, as by
// name, and makes them at the first call only.
TEST(CostTrackerTest, LineRefRecordsLikeNames) {
  CostConfig c;
  c.price_by_api["odds"] = CostPrice{0.001, 0.0001};
  CostTracker by_name(c);
  CostTracker by_ref(c);
  CostTracker::LineRef odds, scores, free_api;
  EXPECT_TRUE(by_ref.lines().empty());
  for (int i = 0; i < 1000; ++i) {
    const double credits = 0.5 * (i % 7);
    by_name.RecordCall("odds", "odds", credits);
    by_ref.RecordCall(odds, "odds", "odds", credits);
    by_name.RecordCall("odds", "scores", credits + 1);
    by_ref.RecordCall(scores, "odds", "scores", credits + 1);
    by_name.RecordCall("weather", "weather", credits);
    by_ref.RecordCall(free_api, "weather", "weather", credits);
  }
  EXPECT_EQ(by_ref.lines().size(), 3u);
  for (const auto& [names, line] : by_name.lines()) {
    const CostLine other = by_ref.ForEndpoint(names.first, names.second);
    EXPECT_EQ(other.calls, line.calls);
    EXPECT_EQ(other.credits, line.credits);
    EXPECT_EQ(other.money, line.money);  // the same sums in the same order
  }
  EXPECT_EQ(by_ref.Total().money, by_name.Total().money);
  EXPECT_EQ(by_ref.ForApi("odds").money, by_name.ForApi("odds").money);
  EXPECT_EQ(by_ref.ForApi("weather").money, 0.0);
}

TEST(CostTrackerTest, ManySmallPricesAccumulateWithinRoundingError) {
  CostConfig c;
  c.price_by_api["odds"] = CostPrice{0.001, 0.0001};  // not binary-exact
  CostTracker tracker(c);
  for (int i = 0; i < 100000; ++i) tracker.RecordCall("odds", "odds", 10);
  EXPECT_EQ(tracker.Total().calls, 100000u);
  EXPECT_EQ(tracker.Total().credits, 1000000.0);
  EXPECT_NEAR(tracker.Total().money, 200.0, 1e-9);
}

}  // namespace
}  // namespace orchsim
