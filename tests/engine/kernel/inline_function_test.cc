#include "engine/kernel/inline_function.h"

#include <gtest/gtest.h>

#include <memory>

namespace orchsim::kernel {
namespace {

TEST(InlineFunctionTest, CallsAndMovesCaptures) {
  int calls = 0;
  InlineFunction<void()> f = [&calls] { ++calls; };
  f();
  InlineFunction<void()> g = std::move(f);
  EXPECT_FALSE(static_cast<bool>(f));
  g();
  EXPECT_EQ(calls, 2);
}

TEST(InlineFunctionTest, DestroysCaptureExactlyOnce) {
  auto shared = std::make_shared<int>(5);
  {
    InlineFunction<int()> f = [p = shared] { return *p; };
    EXPECT_EQ(shared.use_count(), 2);
    InlineFunction<int()> g;
    g = std::move(f);
    EXPECT_EQ(g(), 5);
    EXPECT_EQ(shared.use_count(), 2);
  }
  EXPECT_EQ(shared.use_count(), 1);
}

TEST(InlineFunctionTest, MoveOnlyCaptureWorks) {
  auto owned = std::make_unique<int>(42);
  InlineFunction<int()> f = [p = std::move(owned)] { return *p; };
  EXPECT_EQ(f(), 42);
}

}  // namespace
}  // namespace orchsim::kernel
