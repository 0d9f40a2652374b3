#include <gtest/gtest.h>

#include "policies/request.h"

namespace orchsim {
namespace {

TEST(HeadersTest, NamesCompareWithoutCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Retry-After", "retry-after"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("Retry-After", "Retry-Afte"));
  EXPECT_FALSE(EqualsIgnoreCase("x-a", "x_a"));
  // ASCII only: bytes above 127 are compared as they are.
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9"));
}

TEST(HeadersTest, SetReplacesAndAddJoinsARepeatedField) {
  Headers headers;
  headers.Add("Warning", "110 a");
  headers.Add("Server", "odds");
  headers.Add("warning", "111 b");
  ASSERT_EQ(headers.entries().size(), 2u);
  EXPECT_EQ(headers.entries()[0].first, "Warning");  // the first spelling and place
  EXPECT_EQ(*headers.Find("WARNING"), "110 a, 111 b");
  headers.Set("SERVER", "other");
  EXPECT_EQ(*headers.Find("server"), "other");
  EXPECT_EQ(headers.entries().size(), 2u);
  EXPECT_EQ(headers.Find("x-missing"), nullptr);
}

}  // namespace
}  // namespace orchsim
