// loadgen.cc — a constant-rate (open-loop) HTTP/1.1 load generator for the
// live benchmarks (tools/bench_serve.sh): wrk2 is not in Debian.
//
//   orchsim_loadgen --target direct=http://127.0.0.1:9001/scores?key=k{i}
//                   --target proxy=http://127.0.0.1:8080/scores/scores?key=k{i}
//                   --rate 5000 --duration 40s --block 1s --warmup 2s
//
// Requests are due at a constant rate (--rate per second); the time is cut
// into blocks (--block) that take turns between the targets, so each target
// gets the same rate under the same machine conditions of the same run. A
// request's latency runs from when it was due (not when a connection was
// free: no coordinated omission) to its last response byte. "{i}" in a URL
// is replaced by the request's sequence number (distinct keys: cache misses),
// "{i%N}" by that number modulo N (N keys in turn).
// Each target has its own pool of keep-alive connections (--connections);
// a due request waits for a free one. Requests due during --warmup are sent
// but not counted. Requests still waiting --timeout after the end are
// reported as never sent (the target could not keep up).
//
// --watch-pid PID --sample 10s prints VmRSS of PID (and the interval's
// answers and latency) every sample period, for soak runs.
//
// One thread, Boost.Asio + Beast; latencies kept in full (8 bytes each).
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

class Connection;

struct Target {
  std::string name;
  std::string host;
  std::string port;
  std::string path;  // with "{i}" or "{i%N}" to replace
  size_t seq_at = std::string::npos, seq_length = 0;
  uint64_t modulo = 0;  // N of "{i%N}"; 0: none
  tcp::resolver::results_type endpoints;
  // Results.
  std::vector<int64_t> latencies_us;  // counted requests
  std::vector<int64_t> interval_us;   // since the last sample line
  std::map<unsigned, uint64_t> statuses;
  uint64_t sent = 0, errors = 0, counted_errors = 0;
  uint64_t unsent = 0;  // still waiting for a connection --timeout after the end
  // Waiting for a connection: (due time, sequence number, counted).
  struct Due {
    Clock::time_point due;
    uint64_t seq;
    bool counted;
  };
  std::deque<Due> waiting;
  size_t open = 0;
  std::vector<std::shared_ptr<Connection>> idle;  // connected, nothing to send
};

struct Options {
  std::vector<Target> targets;
  double rate = 1000;
  double duration_s = 10;
  double block_s = 1;
  double warmup_s = 1;
  size_t connections = 64;
  double timeout_s = 5;
  int watch_pid = 0;
  double sample_s = 10;
};

double ParseSeconds(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const std::string unit(end);
  if (unit == "ms") return value / 1000;
  if (unit == "s" || unit.empty()) return value;
  if (unit == "m") return value * 60;
  std::cerr << "bad duration " << text << "\n";
  std::exit(2);
}

long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

int64_t Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& io, Target& target, const Options& options,
             Clock::time_point count_from)
      : stream_(io), target_(target), options_(options), count_from_(count_from) {}

  void Start() {
    ++target_.open;
    stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.timeout_s)));
    stream_.async_connect(target_.endpoints,
                          [self = shared_from_this()](beast::error_code ec, const auto&) {
                            if (ec) return self->Fail();
                            self->stream_.socket().set_option(tcp::no_delay(true));
                            self->Next();
                          });
  }

  // Takes the next waiting request, or goes idle.
  void Next() {
    if (target_.waiting.empty()) {
      target_.idle.push_back(shared_from_this());
      return;
    }
    current_ = target_.waiting.front();
    target_.waiting.pop_front();
    std::string path = target_.path;
    if (target_.seq_at != std::string::npos) {
      const uint64_t n = target_.modulo ? current_.seq % target_.modulo : current_.seq;
      path.replace(target_.seq_at, target_.seq_length, std::to_string(n));
    }
    request_ = {http::verb::get, path, 11};
    request_.set(http::field::host, target_.host);
    request_.keep_alive(true);
    ++target_.sent;
    stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.timeout_s)));
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail();
      self->response_.emplace();
      self->response_->body_limit(64 << 20);
      http::async_read(self->stream_, self->buffer_, *self->response_,
                       [self](beast::error_code ec2, size_t) { self->OnRead(ec2); });
    });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return Fail();
    const auto now = Clock::now();
    const int64_t us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - current_.due).count();
    if (current_.counted) {
      target_.latencies_us.push_back(us);
      ++target_.statuses[response_->get().result_int()];
    }
    target_.interval_us.push_back(us);
    const bool keep = response_->get().keep_alive();
    response_.reset();
    if (!keep) {
      --target_.open;
      beast::error_code ignored;
      stream_.socket().close(ignored);
      return;  // the dispatcher opens another when needed
    }
    Next();
  }

  void Fail() {
    ++target_.errors;
    if (current_.seq != 0 && current_.counted) ++target_.counted_errors;
    --target_.open;
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Target& target_;
  const Options& options_;
  Clock::time_point count_from_;
  Target::Due current_{};
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::string_body>> response_;
};

void Usage() {
  std::cerr << "usage: orchsim_loadgen --target NAME=http://HOST:PORT/PATH[?QUERY with {i}] ...\n"
               "  [--rate PER_S] [--duration 10s] [--block 1s] [--warmup 1s] [--connections 64]\n"
               "  [--timeout 5s] [--watch-pid PID] [--sample 10s]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    const std::string value = argv[++i];
    if (arg == "--target") {
      const size_t eq = value.find('=');
      const std::string url = eq == std::string::npos ? value : value.substr(eq + 1);
      if (url.rfind("http://", 0) != 0) Usage();
      Target t;
      t.name = eq == std::string::npos ? url : value.substr(0, eq);
      const std::string rest = url.substr(7);
      const size_t slash = rest.find('/');
      const std::string authority = rest.substr(0, slash);
      t.path = slash == std::string::npos ? "/" : rest.substr(slash);
      const size_t colon = authority.rfind(':');
      t.host = authority.substr(0, colon);
      t.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
      t.seq_at = t.path.find("{i");
      if (t.seq_at != std::string::npos) {
        const size_t close = t.path.find('}', t.seq_at);
        if (close == std::string::npos) Usage();
        t.seq_length = close + 1 - t.seq_at;
        if (t.path[t.seq_at + 2] == '%') {
          t.modulo = std::strtoull(t.path.c_str() + t.seq_at + 3, nullptr, 10);
          if (t.modulo == 0) Usage();
        } else if (t.seq_length != 3) {
          Usage();
        }
      }
      o.targets.push_back(std::move(t));
    } else if (arg == "--rate") {
      o.rate = std::strtod(value.c_str(), nullptr);
    } else if (arg == "--duration") {
      o.duration_s = ParseSeconds(value);
    } else if (arg == "--block") {
      o.block_s = ParseSeconds(value);
    } else if (arg == "--warmup") {
      o.warmup_s = ParseSeconds(value);
    } else if (arg == "--connections") {
      o.connections = std::strtoul(value.c_str(), nullptr, 10);
    } else if (arg == "--timeout") {
      o.timeout_s = ParseSeconds(value);
    } else if (arg == "--watch-pid") {
      o.watch_pid = std::atoi(value.c_str());
    } else if (arg == "--sample") {
      o.sample_s = ParseSeconds(value);
    } else {
      Usage();
    }
  }
  if (o.targets.empty() || o.rate <= 0 || o.connections == 0) Usage();

  net::io_context io;
  tcp::resolver resolver(io);
  for (Target& t : o.targets) t.endpoints = resolver.resolve(t.host, t.port);
  for (Target& t : o.targets) t.latencies_us.reserve(static_cast<size_t>(o.rate * o.duration_s));

  const auto start = Clock::now() + std::chrono::milliseconds(100);
  const auto count_from = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.warmup_s));
  const auto end = count_from + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  const auto give_up =
      end + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.rate));
  const auto block =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.block_s));
  uint64_t seq = 1;
  Clock::time_point next_due = start;
  auto next_sample = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(o.sample_s));

  if (o.watch_pid) {
    std::printf("t_s rss_kb");
    for (const Target& t : o.targets)
      std::printf(" %s_answers %s_p50_us %s_p99_us", t.name.c_str(), t.name.c_str(),
                  t.name.c_str());
    std::printf("\n");
    std::printf("0 %ld\n", RssKb(o.watch_pid));
    std::fflush(stdout);
  }

  net::steady_timer timer(io);
  std::function<void()> tick = [&] {
    const auto now = Clock::now();
    // Everything due by now, to its target (catching up after a late wake-up).
    while (next_due <= now && next_due < end) {
      const size_t which = static_cast<size_t>(((next_due - start) / block) %
                                               static_cast<int64_t>(o.targets.size()));
      Target& t = o.targets[which];
      t.waiting.push_back({next_due, seq++, next_due >= count_from});
      next_due += period;
    }
    // Hand waiting requests to idle connections, open new ones up to the limit.
    for (Target& t : o.targets) {
      std::vector<std::shared_ptr<Connection>> idle;
      idle.swap(t.idle);
      for (auto& c : idle) c->Next();
      size_t opening = 0;
      while (!t.waiting.empty() && t.open < o.connections && opening < t.waiting.size()) {
        std::make_shared<Connection>(io, t, o, count_from)->Start();
        ++opening;
      }
    }
    if (o.watch_pid && now >= next_sample) {
      std::printf("%.0f %ld", std::chrono::duration<double>(now - start).count(),
                  RssKb(o.watch_pid));
      for (Target& t : o.targets) {
        std::printf(" %zu %lld %lld", t.interval_us.size(),
                    static_cast<long long>(Percentile(t.interval_us, 0.5)),
                    static_cast<long long>(Percentile(t.interval_us, 0.99)));
        t.interval_us.clear();
      }
      std::printf("\n");
      std::fflush(stdout);
      next_sample +=
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.sample_s));
    }
    bool busy = next_due < end;
    for (const Target& t : o.targets) busy = busy || !t.waiting.empty();
    if (busy && next_due >= end && now >= give_up) {
      // The target cannot keep up: what still waits is never sent.
      for (Target& t : o.targets) {
        t.unsent += t.waiting.size();
        t.waiting.clear();
      }
      busy = false;
    }
    if (!busy) {
      // Let the last answers arrive (at most the timeout), then stop.
      timer.expires_after(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(std::min(o.timeout_s, 1.0))));
      timer.async_wait([&](beast::error_code) { io.stop(); });
      return;
    }
    timer.expires_at(std::min(next_due, now + std::chrono::milliseconds(1)));
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) tick();
    });
  };
  timer.expires_at(start);
  timer.async_wait([&](beast::error_code ec) {
    if (!ec) tick();
  });
  io.run();
  for (Target& t : o.targets) t.idle.clear();  // their sockets before the io_context

  std::printf(
      "rate %.0f/s per target in %.1fs blocks, %.1fs counted after %.1fs warm-up, "
      "%zu connections max per target\n",
      o.rate, o.block_s, o.duration_s, o.warmup_s, o.connections);
  std::vector<int64_t> p50s, p99s;
  for (Target& t : o.targets) {
    std::vector<int64_t>& v = t.latencies_us;
    const double counted_s = o.duration_s / static_cast<double>(o.targets.size());
    std::printf("%s: %zu answers (%.0f/s), %llu errors, %llu never sent, statuses", t.name.c_str(),
                v.size(), static_cast<double>(v.size()) / counted_s,
                static_cast<unsigned long long>(t.counted_errors),
                static_cast<unsigned long long>(t.unsent));
    for (const auto& [status, count] : t.statuses)
      std::printf(" %u:%llu", status, static_cast<unsigned long long>(count));
    const int64_t p50 = Percentile(v, 0.5), p90 = Percentile(v, 0.9), p99 = Percentile(v, 0.99),
                  p999 = Percentile(v, 0.999);
    const int64_t max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    std::printf("; latency us p50 %lld p90 %lld p99 %lld p99.9 %lld max %lld\n",
                static_cast<long long>(p50), static_cast<long long>(p90),
                static_cast<long long>(p99), static_cast<long long>(p999),
                static_cast<long long>(max));
    p50s.push_back(p50);
    p99s.push_back(p99);
  }
  // Every further target against the first (the direct path).
  for (size_t i = 1; i < o.targets.size(); ++i) {
    std::printf("added by %s over %s: p50 %+lld us, p99 %+lld us\n", o.targets[i].name.c_str(),
                o.targets[0].name.c_str(), static_cast<long long>(p50s[i] - p50s[0]),
                static_cast<long long>(p99s[i] - p99s[0]));
  }
  if (o.watch_pid) std::printf("rss_kb_end %ld\n", RssKb(o.watch_pid));
  return 0;
}
