// live/load_replayer.h (`orchsim load`) against a loopback TestUpstream:
// every request sent once, never before its instant, with its headers;
// answers counted by X-Orchsim-Outcome and status; --speed divides the
// offsets; a port nobody listens on gives transport errors, one per request;
// bad options are refused.
#include "live/load_replayer.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/live/test_http.h"

namespace orchsim::live {
namespace {

using testing::Reply;
using testing::SeenRequest;
using testing::TestUpstream;

Instant WallNow() {
  return Instant::FromUnixMicros(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

// A source over a fixed list.
LoadSource ListSource(std::vector<LoadRequest> requests) {
  auto list = std::make_shared<std::vector<LoadRequest>>(std::move(requests));
  auto next = std::make_shared<size_t>(0);
  return [list, next]() -> std::optional<LoadRequest> {
    if (*next >= list->size()) return std::nullopt;
    return (*list)[(*next)++];
  };
}

LoadRequest At(int64_t ms, std::string target, std::string priority = "NORMAL") {
  return LoadRequest{Milliseconds(ms), std::move(target), {{"X-Orchsim-Priority", priority}}};
}

// Records when (wall clock) each target arrived; answers by target.
struct Recorder {
  std::mutex mu;
  std::map<std::string, std::vector<Instant>> arrivals;
  std::map<std::string, std::string> priorities;
  Reply Answer(const SeenRequest& request) {
    {
      std::lock_guard<std::mutex> lock(mu);
      arrivals[request.target].push_back(WallNow());
      auto it = request.headers.find("x-orchsim-priority");
      if (it != request.headers.end()) priorities[request.target] = it->second;
    }
    Reply reply;
    reply.body = "{}";
    if (request.target.rfind("/served", 0) == 0) {
      reply.headers = {{"X-Orchsim-Outcome", "served"}};
    } else if (request.target.rfind("/hit", 0) == 0) {
      reply.headers = {{"X-Orchsim-Outcome", "cache_hit"}};
    } else if (request.target.rfind("/open", 0) == 0) {
      reply.status = 503;
      reply.headers = {{"X-Orchsim-Outcome", "rejected_circuit_open"}, {"Retry-After", "4"}};
    } else {
      reply.status = 404;  // no outcome header, as serve's router answers
    }
    return reply;
  }
};

LoadOptions To(uint16_t port, Instant begin) {
  LoadOptions options;
  options.to.host = "127.0.0.1";
  options.to.port = port;
  options.begin = begin;
  options.timeout = Seconds(10);
  return options;
}

TEST(LoadReplayerTest, SendsEachRequestOnceNotBeforeItsInstantAndCountsOutcomes) {
  Recorder recorder;
  TestUpstream upstream([&](const SeenRequest& r) { return recorder.Answer(r); });
  const Instant begin = WallNow() + Milliseconds(200);
  const std::vector<LoadRequest> requests = {
      At(0, "/served/1", "HIGH"), At(0, "/served/2"), At(60, "/hit/1", "LOW"),
      At(120, "/open/1"),         At(120, "/nope/1"), At(180, "/served/3", "CRITICAL")};
  StatusOr<LoadSummary> summary = RunLoad(ListSource(requests), To(upstream.port(), begin));
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(summary->sent, 6u);
  EXPECT_EQ(summary->answered, 6u);
  EXPECT_EQ(summary->transport_errors, 0u);
  const std::map<std::string, uint64_t> outcomes = {
      {"served", 3}, {"cache_hit", 1}, {"rejected_circuit_open", 1}, {"none", 1}};
  EXPECT_EQ(summary->outcomes, outcomes);
  const std::map<int, uint64_t> statuses = {{200, 4}, {503, 1}, {404, 1}};
  EXPECT_EQ(summary->statuses, statuses);
  EXPECT_EQ(summary->first_offset, Duration::Zero());
  EXPECT_EQ(summary->last_offset, Milliseconds(180));
  EXPECT_GE(summary->latency_max, summary->latency_p50);

  std::lock_guard<std::mutex> lock(recorder.mu);
  ASSERT_EQ(recorder.arrivals.size(), 6u);
  for (const LoadRequest& r : requests) {
    ASSERT_EQ(recorder.arrivals[r.target].size(), 1u) << r.target;
    // Never early: the request leaves at or after its instant (1 ms for the
    // two processes' clock readings); how late depends on the machine, so
    // only a loose bound (a loaded 2-core machine) is checked.
    const Instant arrived = recorder.arrivals[r.target].front();
    EXPECT_GE(arrived, begin + r.offset - Milliseconds(1)) << r.target;
    EXPECT_LT(arrived, begin + r.offset + Seconds(2)) << r.target;
    EXPECT_EQ(recorder.priorities[r.target], r.headers.front().second) << r.target;
  }
}

TEST(LoadReplayerTest, SpeedDividesTheOffsets) {
  Recorder recorder;
  TestUpstream upstream([&](const SeenRequest& r) { return recorder.Answer(r); });
  const Instant begin = WallNow() + Milliseconds(100);
  LoadOptions options = To(upstream.port(), begin);
  options.speed = 4;
  StatusOr<LoadSummary> summary =
      RunLoad(ListSource({At(0, "/served/a"), At(800, "/served/b")}), options);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(summary->answered, 2u);
  EXPECT_EQ(summary->last_offset, Milliseconds(200));
  std::lock_guard<std::mutex> lock(recorder.mu);
  const Instant b = recorder.arrivals["/served/b"].front();
  EXPECT_GE(b, begin + Milliseconds(199));
  // 800 ms unscaled would be at least 600 ms later than this bound allows.
  EXPECT_LT(b, begin + Milliseconds(800));
}

TEST(LoadReplayerTest, NobodyListeningGivesOneTransportErrorPerRequest) {
  // A port that was free a moment ago and has no listener.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t port = ntohs(address.sin_port);
  ::close(fd);
  StatusOr<LoadSummary> summary =
      RunLoad(ListSource({At(0, "/served/1"), At(10, "/served/2"), At(20, "/served/3")}),
              To(port, WallNow()));
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(summary->sent, 3u);
  EXPECT_EQ(summary->answered, 0u);
  EXPECT_EQ(summary->transport_errors, 3u);
  uint64_t reasons = 0;
  for (const auto& [reason, n] : summary->error_reasons) reasons += n;
  EXPECT_EQ(reasons, 3u);
  EXPECT_TRUE(summary->outcomes.empty());
}

TEST(LoadReplayerTest, AnEmptySourceSendsNothing) {
  StatusOr<LoadSummary> summary = RunLoad(ListSource({}), To(9, WallNow()));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->sent, 0u);
  EXPECT_EQ(summary->answered + summary->transport_errors, 0u);
}

TEST(LoadReplayerTest, BadOptionsAreRefusedNamingTheOption) {
  LoadOptions options = To(9, WallNow());
  options.speed = 0;
  EXPECT_NE(RunLoad(ListSource({}), options).status().message().find("--speed"), std::string::npos);
  options = To(9, WallNow());
  options.max_connections = 0;
  EXPECT_NE(RunLoad(ListSource({}), options).status().message().find("--connections"),
            std::string::npos);
  options = To(9, WallNow());
  options.to.tls = true;
  EXPECT_NE(RunLoad(ListSource({}), options).status().message().find("https"), std::string::npos);
  options = To(9, WallNow());
  options.timeout = Duration::Zero();
  EXPECT_NE(RunLoad(ListSource({}), options).status().message().find("--timeout"),
            std::string::npos);
}

}  // namespace
}  // namespace orchsim::live
