#include "policies/quota_tracker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

namespace orchsim {
namespace {

// Most tests run where the monotonic and the wall clock agree (as in
// simulation); WallClockStepsDoNotMoveResets tests them apart.
void ObserveAt(QuotaTracker& quota, const Response& response, Instant now) {
  quota.Observe(response, now, now);
}

const Instant kT0 = Instant::FromUnixMicros(1'694'390'400'000'000);  // 2023-09-11T00:00:00Z
const int64_t kT0Seconds = 1'694'390'400;

Response Answer(int status, Headers headers) {
  Response r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

QuotaConfig Mode(QuotaMode mode, int64_t critical_floor = 0) {
  QuotaConfig c;
  c.mode = mode;
  c.critical_floor = critical_floor;
  return c;
}

// GitHub-style headers: limit, remaining, reset `reset_in` after kT0.
Headers GitHub(int64_t limit, int64_t remaining, Duration reset_in) {
  return Headers{{"x-ratelimit-limit", std::to_string(limit)},
                 {"x-ratelimit-remaining", std::to_string(remaining)},
                 {"x-ratelimit-used", std::to_string(limit - remaining)},
                 {"x-ratelimit-reset", std::to_string(kT0Seconds + reset_in.micros() / 1'000'000)}};
}

// --- header styles -----------------------------------------------------------

TEST(QuotaTrackerTest, OddsApiHeadersAndAssumedMonthlyReset) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"x-requests-remaining", "480"},
                         {"x-requests-used", "20"},
                         {"x-requests-last", "2"}}),
            kT0);
  const QuotaSnapshot s = quota.snapshot();
  EXPECT_EQ(s.remaining, 480);
  EXPECT_EQ(s.used, 20);
  EXPECT_EQ(s.last, 2);
  EXPECT_EQ(s.limit, 500);  // remaining + used
  // No reset header: the assumed 30-day period starts at the first response.
  EXPECT_EQ(s.reset_at, kT0 + Days(30));
  EXPECT_EQ(quota.bad_header_values(), 0);

  // A later response inside the same period keeps the period's reset.
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "470"}, {"x-requests-used", "30"}}),
            kT0 + Days(3));
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Days(30));
  EXPECT_EQ(quota.snapshot().remaining, 470);
}

TEST(QuotaTrackerTest, OddsApiAssumedPeriodStartAnchorsTheReset) {
  QuotaConfig config = Mode(QuotaMode::kPace);
  config.assumed_period_start = kT0 - Days(40);  // periods end at kT0-10d, kT0+20d, ...
  QuotaTracker quota(config);
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "10"}, {"x-requests-used", "490"}}), kT0);
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Days(20));
}

TEST(QuotaTrackerTest, FractionalCreditsAreKeptToTheThousandth) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"x-requests-remaining", "12.5"},
                         {"x-requests-used", "7.25"},
                         {"x-requests-last", "0.5"}}),
            kT0);
  EXPECT_EQ(quota.snapshot().remaining, 12.5);
  EXPECT_EQ(quota.snapshot().used, 7.25);
  EXPECT_EQ(quota.snapshot().last, 0.5);
  EXPECT_EQ(quota.bad_header_values(), 0);
}

TEST(QuotaTrackerTest, FractionsPastTheThousandthRoundAgainstTheCaller) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"x-requests-remaining", "12.3456"},
                         {"x-requests-used", "7.0001"},
                         {"x-requests-last", "0.0005"}}),
            kT0);
  EXPECT_EQ(quota.snapshot().remaining, 12.345);  // down
  EXPECT_EQ(quota.snapshot().used, 7.001);        // up
  EXPECT_EQ(quota.snapshot().last, 0.001);        // up
}

TEST(QuotaTrackerTest, AFractionalCallThatDoesNotFitIsHeldBack) {
  // 1.9 credits against 3.8 remaining: two calls fit, the third does not
  // (an int64 tracker truncated 1.9 to 1 and let it go with 1.8 left).
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"x-ratelimit-limit", "10"},
                         {"x-ratelimit-remaining", "3.8"},
                         {"x-ratelimit-reset", std::to_string(kT0Seconds + 3600)}}),
            kT0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(quota.Check(Priority::kCritical, 1.9, kT0).allowed) << i;
    quota.OnSent(Priority::kCritical, 1.9, kT0);
  }
  EXPECT_EQ(quota.snapshot().remaining, 0.0);
  const QuotaAdmission third = quota.Check(Priority::kCritical, 1.9, kT0);
  EXPECT_FALSE(third.allowed);
  EXPECT_TRUE(third.exhausted);
  EXPECT_EQ(third.retry_at, kT0 + Hours(1));
  // 1.8 left would hold a 1.8 call, not a 1.9 one.
  QuotaTracker almost(Mode(QuotaMode::kPace));
  ObserveAt(almost,
            Answer(200, {{"x-ratelimit-limit", "10"},
                         {"x-ratelimit-remaining", "1.8"},
                         {"x-ratelimit-reset", std::to_string(kT0Seconds + 3600)}}),
            kT0);
  EXPECT_FALSE(almost.Check(Priority::kCritical, 1.9, kT0).allowed);
  EXPECT_TRUE(almost.Check(Priority::kCritical, 1.8, kT0).allowed);
}

TEST(QuotaTrackerTest, GitHubHeadersWithEpochSecondsReset) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"X-RateLimit-Limit", "5000"},
                         {"X-RateLimit-Remaining", "4990"},
                         {"X-RateLimit-Used", "10"},
                         {"X-RateLimit-Reset", std::to_string(kT0Seconds + 3600)}}),
            kT0 + Milliseconds(250));
  const QuotaSnapshot s = quota.snapshot();
  EXPECT_EQ(s.limit, 5000);
  EXPECT_EQ(s.remaining, 4990);
  EXPECT_EQ(s.used, 10);
  EXPECT_EQ(s.reset_at, kT0 + Hours(1));
  EXPECT_FALSE(s.last.has_value());
  EXPECT_EQ(quota.bad_header_values(), 0);
}

TEST(QuotaTrackerTest, IetfRateLimitAndPolicy) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"RateLimit", "\"default\";r=50;t=30"},
                         {"RateLimit-Policy", "\"default\";q=100;w=60"}}),
            kT0);
  QuotaSnapshot s = quota.snapshot();
  EXPECT_EQ(s.remaining, 50);
  EXPECT_EQ(s.limit, 100);
  EXPECT_EQ(s.reset_at, kT0 + Seconds(30));
  EXPECT_EQ(quota.bad_header_values(), 0);
}

TEST(QuotaTrackerTest, IetfLeastRemainingPolicyBinds) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"RateLimit", "\"daily\";r=900;t=3600, \"burst\";r=5;t=1"},
                         {"RateLimit-Policy", "\"daily\";q=1000;w=86400, \"burst\";q=10;w=1"}}),
            kT0);
  QuotaSnapshot s = quota.snapshot();
  EXPECT_EQ(s.remaining, 5);
  EXPECT_EQ(s.limit, 10);
  EXPECT_EQ(s.reset_at, kT0 + Seconds(1));
}

TEST(QuotaTrackerTest, IetfWindowIsTheResetWhenTIsAbsent) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"RateLimit", "default;r=7"}, {"RateLimit-Policy", "default;q=9;w=60"}}),
            kT0);
  EXPECT_EQ(quota.snapshot().remaining, 7);
  EXPECT_EQ(quota.snapshot().limit, 9);
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Seconds(60));
}

TEST(QuotaTrackerTest, IetfOlderSeparateHeaders) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"RateLimit-Limit", "100"},
                         {"RateLimit-Remaining", "42"},
                         {"RateLimit-Reset", "15"}}),
            kT0);
  EXPECT_EQ(quota.snapshot().limit, 100);
  EXPECT_EQ(quota.snapshot().remaining, 42);
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Seconds(15));
}

TEST(QuotaTrackerTest, IetfDraft07Dictionary) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, {{"RateLimit", "limit=100, remaining=50, reset=30"}}), kT0);
  EXPECT_EQ(quota.snapshot().limit, 100);
  EXPECT_EQ(quota.snapshot().remaining, 50);
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Seconds(30));
  EXPECT_EQ(quota.bad_header_values(), 0);
  ObserveAt(quota, Answer(200, {{"RateLimit", "limit=100, remaining=x"}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), 1);
  EXPECT_EQ(quota.snapshot().remaining, 50);
}

TEST(QuotaTrackerTest, FirstStyleWinsPerField) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota,
            Answer(200, {{"x-requests-remaining", "30"},
                         {"x-ratelimit-remaining", "99"},
                         {"x-ratelimit-limit", "100"},
                         {"x-ratelimit-reset", std::to_string(kT0Seconds + 60)}}),
            kT0);
  EXPECT_EQ(quota.snapshot().remaining, 30);
  EXPECT_EQ(quota.snapshot().limit, 100);
  EXPECT_EQ(quota.snapshot().reset_at, kT0 + Seconds(60));
}

// --- Retry-After ---------------------------------------------------------------

TEST(QuotaTrackerTest, RetryAfterSecondsBlocksEveryoneIncludingCritical) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(429, {{"Retry-After", "120"}}), kT0);
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Seconds(120));
  for (Priority p : kAllPriorities) {
    const QuotaAdmission a = quota.Check(p, 1, kT0 + Seconds(120) - Microseconds(1));
    EXPECT_FALSE(a.allowed) << PriorityName(p);
    EXPECT_EQ(a.retry_at, kT0 + Seconds(120));
    EXPECT_FALSE(a.exhausted);
    EXPECT_TRUE(quota.Check(p, 1, kT0 + Seconds(120)).allowed);
  }
}

TEST(QuotaTrackerTest, RetryAfterHttpDate) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(503, {{"Retry-After", "Mon, 11 Sep 2023 00:02:30 GMT"}}), kT0);
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Seconds(150));
  EXPECT_FALSE(quota.Check(Priority::kCritical, 1, kT0 + Seconds(149)).allowed);
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0 + Seconds(150)).allowed);
  // A date in the past asks for no wait: ignored, not an error.
  ObserveAt(quota, Answer(503, {{"Retry-After", "Sun, 10 Sep 2023 00:00:00 GMT"}}), kT0);
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Seconds(150));
  EXPECT_EQ(quota.bad_header_values(), 0);
}

TEST(QuotaTrackerTest, RetryAfterIsClampedAndTheLaterInstantHolds) {
  QuotaConfig config = Mode(QuotaMode::kPace);
  config.max_retry_after = Minutes(10);
  QuotaTracker quota(config);
  ObserveAt(quota, Answer(429, {{"Retry-After", "7200"}}), kT0);
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Minutes(10));
  ObserveAt(quota, Answer(429, {{"Retry-After", "5"}}), kT0 + Seconds(1));
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Minutes(10));
  ObserveAt(quota, Answer(429, {{"Retry-After", "599"}}), kT0 + Seconds(2));
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Seconds(601));
}

TEST(QuotaTrackerTest, RetryAfterTakesPrecedenceOverRemainingAndReset) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  // Quota left, but the server says wait: the wait holds.
  ObserveAt(quota, Answer(429, {{"RateLimit", "\"default\";r=5;t=10"}, {"Retry-After", "120"}}),
            kT0);
  QuotaAdmission a = quota.Check(Priority::kCritical, 1, kT0 + Seconds(10));
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.retry_at, kT0 + Seconds(120));
  EXPECT_FALSE(a.exhausted);

  // Exhausted with a reset in an hour, but Retry-After says 60 s: the quota
  // is taken to return at the Retry-After instant.
  QuotaTracker github(Mode(QuotaMode::kPace));
  Headers h = GitHub(5000, 0, Hours(1));
  h.Set("Retry-After", "60");
  ObserveAt(github, Answer(403, h), kT0);
  EXPECT_EQ(github.snapshot().reset_at, kT0 + Seconds(60));
  a = github.Check(Priority::kCritical, 1, kT0 + Seconds(59));
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Seconds(60));
  EXPECT_TRUE(github.Check(Priority::kNormal, 1, kT0 + Seconds(60)).allowed);
  EXPECT_EQ(github.SnapshotAt(kT0 + Seconds(60)).remaining, 5000);
}

// --- two clocks --------------------------------------------------------------

// Header resets are wall time; the tracker's schedule is monotonic. A wall
// clock set an hour ahead (an NTP step) must not move when calls may go: the
// reset is taken relative to the wall time the response arrived at.
TEST(QuotaTrackerTest, AWallClockStepDoesNotMoveTheReset) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  const Instant mono = Instant::FromUnixMicros(5'000'000);  // monotonic origin: boot
  const Instant wall = kT0 + Hours(1);                      // wall clock, one hour fast
  quota.Observe(Answer(200, {{"x-ratelimit-limit", "10"},
                             {"x-ratelimit-remaining", "0"},
                             {"x-ratelimit-reset", std::to_string(kT0Seconds + 3600 + 60)}}),
                mono, wall);
  // Reset 60 s after the response on the wall clock = 60 s on the monotonic one.
  EXPECT_EQ(quota.snapshot().reset_at, mono + Seconds(60));
  const QuotaAdmission refused = quota.Check(Priority::kNormal, 1, mono + Seconds(59));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_at, mono + Seconds(60));
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, mono + Seconds(60)).allowed);
  // Retry-After as an HTTP-date is wall time too.
  QuotaTracker blocked(Mode(QuotaMode::kPace));
  blocked.Observe(Answer(429, {{"Retry-After", "Mon, 11 Sep 2023 01:00:30 GMT"}}), mono, wall);
  EXPECT_EQ(blocked.snapshot().blocked_until, mono + Seconds(30));
}

// --- bad values ------------------------------------------------------------------

TEST(QuotaTrackerTest, BadValuesAreIgnoredAndCounted) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "100"}, {"x-requests-used", "0"}}), kT0);
  ASSERT_EQ(quota.bad_header_values(), 0);
  const char* bad[] = {"abc", "-5", "99999999999999999999", "", "1.", "12a", "0x10", " .5"};
  int64_t expected = 0;
  for (const char* value : bad) {
    ObserveAt(quota, Answer(200, {{"x-requests-remaining", value}}), kT0 + Seconds(1));
    EXPECT_EQ(quota.bad_header_values(), ++expected) << '"' << value << '"';
    EXPECT_EQ(quota.snapshot().remaining, 100) << '"' << value << '"';
  }
  // Credits are int64 thousandths: 9223372036854774 credits still fit (with
  // room to round up), one more does not.
  ObserveAt(quota, Answer(200, {{"x-requests-last", "9223372036854774"}}), kT0 + Seconds(1));
  EXPECT_EQ(quota.snapshot().last, 9223372036854774.0);
  ObserveAt(quota, Answer(200, {{"x-requests-last", "9223372036854775"}}), kT0 + Seconds(1));
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  EXPECT_EQ(quota.snapshot().last, 9223372036854774.0);
}

TEST(QuotaTrackerTest, BadResetsRetryAfterAndContradictionsAreCounted) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  int64_t expected = 0;
  // Reset in epoch milliseconds: beyond the horizon.
  ObserveAt(quota, Answer(200, {{"x-ratelimit-reset", std::to_string(kT0Seconds * 1000)}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  // Reset in the past.
  ObserveAt(quota, Answer(200, {{"x-ratelimit-reset", std::to_string(kT0Seconds - 1)}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  // Reset so large that microseconds overflow.
  ObserveAt(quota, Answer(200, {{"x-ratelimit-reset", "9223372036854775"}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  EXPECT_FALSE(quota.snapshot().reset_at.has_value());
  // Malformed Retry-After.
  ObserveAt(quota, Answer(429, {{"Retry-After", "soon"}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  ObserveAt(quota, Answer(429, {{"Retry-After", "-3"}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), ++expected);
  EXPECT_FALSE(quota.snapshot().blocked_until.has_value());
  // remaining > limit: clamped to the limit; used > limit: dropped.
  ObserveAt(quota,
            Answer(200, {{"x-ratelimit-limit", "10"},
                         {"x-ratelimit-remaining", "11"},
                         {"x-ratelimit-used", "12"}}),
            kT0);
  expected += 2;
  EXPECT_EQ(quota.bad_header_values(), expected);
  EXPECT_EQ(quota.snapshot().remaining, 10);
  EXPECT_FALSE(quota.snapshot().used.has_value());
  // IETF: a member without r, a malformed t, a malformed q.
  ObserveAt(
      quota,
      Answer(200, {{"RateLimit", "\"a\";t=5, \"b\";r=3;t=x"}, {"RateLimit-Policy", "\"b\";q=ten"}}),
      kT0);
  expected += 3;
  EXPECT_EQ(quota.bad_header_values(), expected);
  EXPECT_EQ(quota.snapshot().remaining, 3);
  // Garbage that is not even a list does not crash either.
  ObserveAt(quota, Answer(200, {{"RateLimit", ";;,,\"\\"}, {"RateLimit-Policy", "\""}}), kT0);
  EXPECT_GT(quota.bad_header_values(), expected);
  // Responses without quota headers are not errors.
  const int64_t before = quota.bad_header_values();
  ObserveAt(quota, Answer(599, {}), kT0);
  ObserveAt(quota, Answer(200, {{"content-type", "application/json"}}), kT0);
  EXPECT_EQ(quota.bad_header_values(), before);
}

// --- pace -------------------------------------------------------------------------

TEST(QuotaTrackerTest, PaceSpacesSendsEvenlyToTheMicrosecond) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, GitHub(100, 100, Seconds(100))), kT0);
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, kT0).allowed);  // no schedule before a send
  Instant t = kT0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(quota.Check(Priority::kNormal, 1, t).allowed) << i;
    quota.OnSent(Priority::kNormal, 1, t);
    // (reset - now) / remaining = (100 - i) s / (100 - i) = exactly 1 s.
    const QuotaAdmission early = quota.Check(Priority::kNormal, 1, t + Microseconds(999'999));
    EXPECT_FALSE(early.allowed) << i;
    EXPECT_FALSE(early.exhausted) << i;
    EXPECT_EQ(early.retry_at, t + Seconds(1)) << i;
    t += Seconds(1);
  }
  EXPECT_EQ(quota.snapshot().remaining, 90);
  EXPECT_EQ(quota.snapshot().used, 10);
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(10));
}

TEST(QuotaTrackerTest, PaceRoundsUpAndChargesPerCredit) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, GitHub(3, 3, Seconds(1))), kT0);
  quota.OnSent(Priority::kLow, 1, kT0);
  // ceil(1,000,000 us / 3) = 333,334 us.
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Microseconds(333'334));
  // A late send starts from its own instant; 2 credits of 2 remaining over
  // the 500,000 us left: the whole rest of the period.
  quota.OnSent(Priority::kLow, 2, kT0 + Milliseconds(500));
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(1));

  QuotaTracker big(Mode(QuotaMode::kPace));
  ObserveAt(big, Answer(200, GitHub(100, 100, Seconds(100))), kT0);
  big.OnSent(Priority::kNormal, 3, kT0);
  EXPECT_EQ(big.snapshot().next_send_at, kT0 + Seconds(3));
}

TEST(QuotaTrackerTest, PaceSpreadsOnlyWhatIsAboveTheCriticalFloor) {
  QuotaTracker quota(Mode(QuotaMode::kPace, /*critical_floor=*/10));
  ObserveAt(quota, Answer(200, GitHub(100, 100, Seconds(100))), kT0);
  quota.OnSent(Priority::kNormal, 1, kT0);
  // 100 s over the 90 credits non-CRITICAL may spend: ceil(100e6 / 90).
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Microseconds(1'111'112));
}

TEST(QuotaTrackerTest, CriticalIgnoresPacingAndDoesNotMoveTheSchedule) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, GitHub(100, 100, Seconds(100))), kT0);
  quota.OnSent(Priority::kHigh, 1, kT0);
  EXPECT_FALSE(quota.Check(Priority::kHigh, 1, kT0).allowed);
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0).allowed);
  quota.OnSent(Priority::kCritical, 1, kT0);
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(1));
  EXPECT_EQ(quota.snapshot().remaining, 98);
}

TEST(QuotaTrackerTest, CriticalFloorIsKeptForCritical) {
  QuotaTracker quota(Mode(QuotaMode::kPace, /*critical_floor=*/10));
  ObserveAt(quota, Answer(200, GitHub(100, 12, Hours(1))), kT0);
  EXPECT_TRUE(quota.Check(Priority::kHigh, 2, kT0).allowed);  // leaves exactly 10
  QuotaAdmission a = quota.Check(Priority::kHigh, 3, kT0);
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Hours(1));
  EXPECT_TRUE(quota.Check(Priority::kCritical, 12, kT0).allowed);
  EXPECT_FALSE(quota.Check(Priority::kCritical, 13, kT0).allowed);

  quota.OnSent(Priority::kHigh, 2, kT0);
  EXPECT_EQ(quota.snapshot().remaining, 10);
  for (Priority p : {Priority::kHigh, Priority::kNormal, Priority::kLow, Priority::kPrefetch}) {
    a = quota.Check(p, 1, kT0 + Minutes(30));
    EXPECT_FALSE(a.allowed) << PriorityName(p);
    EXPECT_TRUE(a.exhausted) << PriorityName(p);
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(quota.Check(Priority::kCritical, 1, kT0 + Seconds(i)).allowed) << i;
    quota.OnSent(Priority::kCritical, 1, kT0 + Seconds(i));
  }
  EXPECT_FALSE(quota.Check(Priority::kCritical, 1, kT0 + Seconds(10)).allowed);
  EXPECT_TRUE(quota.exhausted(kT0 + Seconds(10)));
}

// --- exhaustion ----------------------------------------------------------------------

// Found by tests/policies/orchestrator_abuse_test.cc: a reported limit of 0
// used to make every reset restore 0 and refuse everyone forever, since no
// call (hence no answer) could ever correct it.
TEST(QuotaTrackerTest, ZeroLimitRefusesOnlyUntilTheReset) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, GitHub(0, 0, Minutes(5))), kT0);
  EXPECT_FALSE(quota.Check(Priority::kCritical, 1, kT0).allowed);
  EXPECT_EQ(quota.Check(Priority::kNormal, 1, kT0).retry_at, kT0 + Minutes(5));
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, kT0 + Minutes(5)).allowed);
  EXPECT_FALSE(quota.exhausted(kT0 + Minutes(5)));
  EXPECT_FALSE(quota.SnapshotAt(kT0 + Minutes(5)).remaining.has_value());
  EXPECT_EQ(quota.SnapshotAt(kT0 + Minutes(5)).limit, 0);
}

TEST(QuotaTrackerTest, ExhaustedUntilResetThenRecovers) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, GitHub(5000, 0, Hours(1))), kT0);
  EXPECT_TRUE(quota.exhausted(kT0));
  QuotaAdmission a = quota.Check(Priority::kCritical, 0, kT0);  // even a free call
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Hours(1));
  EXPECT_FALSE(quota.Check(Priority::kCritical, 1, kT0 + Hours(1) - Microseconds(1)).allowed);
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0 + Hours(1)).allowed);
  EXPECT_TRUE(quota.Check(Priority::kPrefetch, 1, kT0 + Hours(1)).allowed);
  EXPECT_FALSE(quota.exhausted(kT0 + Hours(1)));
  const QuotaSnapshot s = quota.SnapshotAt(kT0 + Hours(1));
  EXPECT_EQ(s.remaining, 5000);
  EXPECT_EQ(s.used, 0);
  EXPECT_FALSE(s.reset_at.has_value());  // the next response will say
  // OnSent after the reset applies it, then charges.
  quota.OnSent(Priority::kNormal, 1, kT0 + Hours(1));
  EXPECT_EQ(quota.snapshot().remaining, 4999);
  EXPECT_EQ(quota.snapshot().used, 1);
}

TEST(QuotaTrackerTest, OddsApiExhaustionLastsUntilTheAssumedPeriodEnds) {
  QuotaTracker quota(Mode(QuotaMode::kPace));
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "1"}, {"x-requests-used", "499"}}), kT0);
  quota.OnSent(Priority::kNormal, 1, kT0 + Days(1));
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "0"}, {"x-requests-used", "500"}}),
            kT0 + Days(1));
  const QuotaAdmission a = quota.Check(Priority::kCritical, 1, kT0 + Days(2));
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Days(30));
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, kT0 + Days(30)).allowed);
  const QuotaSnapshot s = quota.SnapshotAt(kT0 + Days(30));
  EXPECT_EQ(s.remaining, 500);
  EXPECT_EQ(s.used, 0);
  EXPECT_EQ(s.reset_at, kT0 + Days(60));  // the next assumed period
}

TEST(QuotaTrackerTest, ExhaustedWithUnknownResetRechecksAfterAnInterval) {
  QuotaConfig config = Mode(QuotaMode::kPace);
  config.assumed_period = Duration::Zero();
  config.unknown_reset_recheck = Hours(1);
  QuotaTracker quota(config);
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "0"}, {"x-requests-used", "500"}}), kT0);
  const QuotaAdmission a = quota.Check(Priority::kCritical, 1, kT0 + Minutes(10));
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Hours(1));
  EXPECT_FALSE(quota.Check(Priority::kCritical, 1, kT0 + Hours(1) - Microseconds(1)).allowed);
  // One call may look again; the answer's headers start a new interval.
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0 + Hours(1)).allowed);
  ObserveAt(quota, Answer(429, {{"x-requests-remaining", "0"}, {"x-requests-used", "500"}}),
            kT0 + Hours(1));
  EXPECT_EQ(quota.Check(Priority::kNormal, 1, kT0 + Hours(1)).retry_at, kT0 + Hours(2));
  // Fresh headers lift it.
  ObserveAt(quota, Answer(200, {{"x-requests-remaining", "500"}, {"x-requests-used", "0"}}),
            kT0 + Days(365));
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0 + Days(365)).allowed);
}

TEST(QuotaTrackerTest, UnknownResetRecheckMustBePositive) {
  QuotaConfig config;
  config.unknown_reset_recheck = Duration::Zero();
  EXPECT_EQ(config.validate().message(), "quota.unknown_reset_recheck: \"0s\" must be > 0");
}

// --- AIMD ------------------------------------------------------------------------------

QuotaConfig Aimd() {
  QuotaConfig c = Mode(QuotaMode::kAimd);
  c.aimd_initial_rate_per_s = 1.0;
  c.aimd_min_rate_per_s = 0.1;
  c.aimd_max_rate_per_s = 2.0;
  c.aimd_additive_increase_per_s = 0.25;
  c.aimd_multiplicative_decrease = 0.5;
  c.aimd_window = Seconds(1);
  return c;
}

TEST(QuotaTrackerTest, AimdSpacesSendsAtOneOverRate) {
  QuotaTracker quota(Aimd());
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, kT0).allowed);
  quota.OnSent(Priority::kNormal, 1, kT0);
  QuotaAdmission a = quota.Check(Priority::kNormal, 1, kT0 + Microseconds(999'999));
  EXPECT_FALSE(a.allowed);
  EXPECT_FALSE(a.exhausted);
  EXPECT_EQ(a.retry_at, kT0 + Seconds(1));
  EXPECT_TRUE(quota.Check(Priority::kNormal, 1, kT0 + Seconds(1)).allowed);
  EXPECT_TRUE(quota.Check(Priority::kCritical, 1, kT0).allowed);  // CRITICAL exempt
}

TEST(QuotaTrackerTest, AimdIncreasesPerSuccessWindowAndHalvesOn429) {
  QuotaTracker quota(Aimd());
  ObserveAt(quota, Answer(200, {}), kT0);  // opens the first window
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 1.0);
  ObserveAt(quota, Answer(200, {}), kT0 + Milliseconds(500));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 1.0);
  ObserveAt(quota, Answer(200, {}), kT0 + Seconds(1));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 1.25);
  quota.OnSent(Priority::kNormal, 1, kT0 + Seconds(1));
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(1) + Microseconds(800'000));

  ObserveAt(quota, Answer(429, {}), kT0 + Milliseconds(1100));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.625);
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(1) + Microseconds(1'600'000));
  // A second 429 inside the window (a call already in flight) does not halve again.
  ObserveAt(quota, Answer(429, {}), kT0 + Milliseconds(1500));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.625);
  // No increase until a whole window passed since the decrease.
  ObserveAt(quota, Answer(200, {}), kT0 + Milliseconds(2099));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.625);
  ObserveAt(quota, Answer(200, {}), kT0 + Milliseconds(2100));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.875);
  // Errors other than 429 change nothing.
  ObserveAt(quota, Answer(503, {}), kT0 + Seconds(10));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.875);
}

TEST(QuotaTrackerTest, AimdStaysWithinMinAndMax) {
  QuotaTracker quota(Aimd());
  const double expected_down[] = {0.5, 0.25, 0.125, 0.1, 0.1};
  for (int i = 0; i < 5; ++i) {
    ObserveAt(quota, Answer(429, {}), kT0 + Seconds(i));
    EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, expected_down[i]) << i;
  }
  quota.OnSent(Priority::kNormal, 1, kT0 + Seconds(4));
  EXPECT_EQ(quota.snapshot().next_send_at, kT0 + Seconds(14));  // 1 / 0.1 per s
  for (int i = 5; i < 20; ++i) ObserveAt(quota, Answer(200, {}), kT0 + Seconds(i));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 2.0);
}

TEST(QuotaTrackerTest, AimdDecreasesWhenTheQuotaRunsLow) {
  QuotaTracker quota(Aimd());
  // 10 credits for 100 s: at 1 call/s (1 credit each) 100 would be wanted.
  ObserveAt(quota, Answer(200, GitHub(1000, 10, Seconds(100))), kT0);
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.5);
  // Plenty left: a 200 after the window increases again.
  ObserveAt(quota, Answer(200, GitHub(1000, 1000, Seconds(100))), kT0 + Seconds(1));
  EXPECT_DOUBLE_EQ(quota.snapshot().aimd_rate_per_s, 0.75);
}

// --- off / disabled ------------------------------------------------------------------

TEST(QuotaTrackerTest, ModeOffAlwaysAllowsButStillTracks) {
  QuotaTracker quota(Mode(QuotaMode::kOff, /*critical_floor=*/10));
  Headers h = GitHub(100, 0, Hours(1));
  h.Set("Retry-After", "600");
  ObserveAt(quota, Answer(429, h), kT0);
  for (Priority p : kAllPriorities) {
    const QuotaAdmission a = quota.Check(p, 5, kT0);
    EXPECT_TRUE(a.allowed);
    EXPECT_EQ(a.retry_at, kT0);
    EXPECT_FALSE(a.exhausted);
    quota.OnSent(p, 5, kT0);
  }
  EXPECT_EQ(quota.snapshot().remaining, 0);
  EXPECT_EQ(quota.snapshot().blocked_until, kT0 + Seconds(600));
}

TEST(QuotaTrackerTest, DisabledIgnoresEverything) {
  QuotaConfig config = Mode(QuotaMode::kPace);
  config.enabled = false;
  QuotaTracker quota(config);
  ObserveAt(quota, Answer(429, {{"Retry-After", "60"}, {"x-requests-remaining", "abc"}}), kT0);
  EXPECT_TRUE(quota.Check(Priority::kLow, 1, kT0).allowed);
  EXPECT_FALSE(quota.snapshot().blocked_until.has_value());
  EXPECT_EQ(quota.bad_header_values(), 0);
}

// --- config ---------------------------------------------------------------------------

TEST(QuotaTrackerTest, ValidateNamesTheField) {
  EXPECT_TRUE(QuotaConfig{}.validate().ok());
  auto message = [](auto mutate) {
    QuotaConfig c;
    mutate(c);
    return c.validate().message();
  };
  EXPECT_EQ(message([](QuotaConfig& c) { c.mode = static_cast<QuotaMode>(7); }),
            "quota.mode: 7 is not one of off (0), pace (1), aimd (2)");
  EXPECT_EQ(message([](QuotaConfig& c) { c.critical_floor = -1; }),
            "quota.critical_floor: -1 must be >= 0 and <= 9.2e15 credits");
  EXPECT_EQ(message([](QuotaConfig& c) { c.max_retry_after = Duration::Zero(); }),
            "quota.max_retry_after: \"0s\" must be > 0");
  EXPECT_EQ(message([](QuotaConfig& c) { c.assumed_period = -Days(1); }),
            "quota.assumed_period: \"-1d\" must be >= 0 (0: no assumed reset)");
  EXPECT_NE(message([](QuotaConfig& c) {
              c.max_reset_horizon = -Seconds(1);
            }).find("quota.max_reset_horizon"),
            std::string::npos);
  EXPECT_NE(
      message([](QuotaConfig& c) { c.aimd_min_rate_per_s = 0; }).find("quota.aimd_min_rate_per_s"),
      std::string::npos);
  EXPECT_NE(message([](QuotaConfig& c) {
              c.aimd_max_rate_per_s = 0.001;
            }).find("quota.aimd_max_rate_per_s"),
            std::string::npos);
  EXPECT_NE(message([](QuotaConfig& c) {
              c.aimd_initial_rate_per_s = 1000;
            }).find("quota.aimd_initial_rate_per_s"),
            std::string::npos);
  EXPECT_NE(message([](QuotaConfig& c) {
              c.aimd_additive_increase_per_s = -0.1;
            }).find("quota.aimd_additive_increase_per_s"),
            std::string::npos);
  EXPECT_EQ(message([](QuotaConfig& c) { c.aimd_multiplicative_decrease = 1.5; }),
            "quota.aimd_multiplicative_decrease: 1.5 must be in (0, 1)");
  EXPECT_NE(
      message([](QuotaConfig& c) { c.aimd_window = Duration::Zero(); }).find("quota.aimd_window"),
      std::string::npos);
}

TEST(QuotaTrackerTest, ModeNamesRoundTrip) {
  for (QuotaMode m : {QuotaMode::kOff, QuotaMode::kPace, QuotaMode::kAimd}) {
    EXPECT_EQ(ParseQuotaMode(QuotaModeName(m)), m);
  }
  EXPECT_EQ(QuotaModeName(QuotaMode::kAimd), "aimd");
  EXPECT_FALSE(ParseQuotaMode("PACE").has_value());
}

// --- property ----------------------------------------------------------------------------

// Fixed-seed 64-bit LCG (Knuth MMIX constants): no std distributions.
uint64_t NextRandom(uint64_t& state) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return state >> 11;
}

TEST(QuotaTrackerTest, GreedyPacedSenderSpendsExactlyTheSpendableBeforeTheReset) {
  uint64_t seed = 20230911;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t remaining = 1 + static_cast<int64_t>(NextRandom(seed) % 500);
    const int64_t floor = static_cast<int64_t>(NextRandom(seed) % 20);
    const int64_t horizon_s = 1 + static_cast<int64_t>(NextRandom(seed) % 100'000);
    QuotaTracker quota(Mode(QuotaMode::kPace, floor));
    ObserveAt(quota, Answer(200, GitHub(1000, remaining, Seconds(horizon_s))), kT0);
    const Instant reset = kT0 + Seconds(horizon_s);
    Instant t = kT0;
    int64_t sent = 0;
    Instant last = kT0;
    while (t < reset) {
      const QuotaAdmission a = quota.Check(Priority::kNormal, 1, t);
      if (a.allowed) {
        quota.OnSent(Priority::kNormal, 1, t);
        ++sent;
        last = t;
        continue;
      }
      ASSERT_GT(a.retry_at, t);
      t = a.retry_at;
    }
    const int64_t spendable = std::max<int64_t>(0, remaining - floor);
    EXPECT_EQ(sent, spendable) << "trial " << trial;
    EXPECT_LT(last, reset) << "trial " << trial;
    EXPECT_EQ(quota.snapshot().remaining, remaining - spendable) << "trial " << trial;
  }
}

}  // namespace
}  // namespace orchsim
