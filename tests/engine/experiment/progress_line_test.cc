// Sweep progress in logs (issue 18, item 19): a line with an ETA at most
// every few seconds when stderr is not a terminal, rewritten in place on one.
#include "engine/experiment/progress_line.h"

#include <gtest/gtest.h>

namespace orchsim::experiment {
namespace {

TEST(ProgressLineTest, ALogGetsALineEveryFewSecondsWithAnEta) {
  ProgressLine p("sweep", /*terminal=*/false, 5.0);
  EXPECT_EQ(p.Update(0, 100, 0.0), "");  // the start: nothing yet
  EXPECT_EQ(p.Update(3, 100, 2.0), "");  // within 5 s of the last line
  EXPECT_EQ(p.Update(10, 100, 6.0), "sweep: 10/100 points (10%), 0m06s elapsed, ETA 0m54s\n");
  EXPECT_EQ(p.Update(11, 100, 9.0), "");
  EXPECT_EQ(p.Update(20, 100, 11.5), "sweep: 20/100 points (20%), 0m12s elapsed, ETA 0m46s\n");
  EXPECT_EQ(p.Update(100, 100, 50.0), "sweep: 100/100 points (100%), 0m50s elapsed\n");
  EXPECT_EQ(p.Done(), "");
}

TEST(ProgressLineTest, ResumedPointsDoNotCountForTheEta) {
  ProgressLine p("sweep", false, 5.0);
  EXPECT_EQ(p.Update(50, 100, 0.0), "");
  EXPECT_EQ(p.Update(60, 100, 10.0), "sweep: 60/100 points (60%), 0m10s elapsed, ETA 0m40s\n");
}

TEST(ProgressLineTest, ATerminalLineIsRewrittenAtEveryUpdate) {
  ProgressLine p("sweep", /*terminal=*/true);
  EXPECT_EQ(p.Update(0, 4, 0.0), "\r\033[K  sweep: 0/4 points (0%), 0m00s elapsed");
  EXPECT_EQ(p.Update(1, 4, 1.0), "\r\033[K  sweep: 1/4 points (25%), 0m01s elapsed, ETA 0m03s");
  EXPECT_EQ(p.Done(), "\r\033[K");
  EXPECT_EQ(ClockText(3725), "1h02m");
}

}  // namespace
}  // namespace orchsim::experiment
