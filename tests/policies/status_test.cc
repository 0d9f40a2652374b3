#include "policies/status.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace orchsim {
namespace {

TEST(StatusTest, OkAndInvalidArgument) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  const Status bad = Status::InvalidArgument("x: 1 must be 2");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "x: 1 must be 2");
  EXPECT_EQ(bad.ToString(), "invalid argument: x: 1 must be 2");
}

TEST(StatusTest, ShortestTextReadsBackAsTheSameDouble) {
  EXPECT_EQ(ShortestText(0.5), "0.5");
  EXPECT_EQ(ShortestText(-1.0), "-1");
  EXPECT_EQ(ShortestText(0.1), "0.1");
  EXPECT_EQ(ShortestText(1e300), "1e+300");
  EXPECT_EQ(ShortestText(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(ShortestText(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(ShortestText(std::nextafter(1.0, 2.0)), "1.0000000000000002");
}

TEST(StatusTest, FieldErrorQuotesStringsAndPrintsNumbersShortest) {
  EXPECT_EQ(FieldError("a.rate", 0.25, "must be >= 1").message(), "a.rate: 0.25 must be >= 1");
  EXPECT_EQ(FieldError("a.count", -3, "must be >= 0").message(), "a.count: -3 must be >= 0");
  EXPECT_EQ(FieldError("a.count", int64_t{1} << 40, "is big").message(),
            "a.count: 1099511627776 is big");
  EXPECT_EQ(FieldError("a.name", std::string("x y"), "is unknown").message(),
            "a.name: \"x y\" is unknown");
  EXPECT_EQ(FieldError("a.name", "z", "is unknown").message(), "a.name: \"z\" is unknown");
}

}  // namespace
}  // namespace orchsim
