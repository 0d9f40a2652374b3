#include "tools/mock_upstream_command.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <iostream>

#include "engine/scenario/scenario.h"
#include "live/mock_upstream_server.h"
#include "live/realtime_upstream.h"
#include "tools/cli_common.h"

namespace orchsim::tools {
namespace {

// "HOST:PORT", "[V6]:PORT" or ":PORT" (127.0.0.1). False when malformed.
bool ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  const std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const unsigned long value = std::stoul(p);
  if (value > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool ParseTimeout(const std::string& flag, const std::string& text, Duration* out) {
  ParseResult<Duration> d = ParseDuration(text);
  if (!d.ok() || *d <= Duration::Zero()) {
    std::cerr << "orchsim mock-upstream: --" << flag << " " << text
              << ": expected a positive duration (\"500ms\", \"30s\")\n";
    return false;
  }
  *out = *d;
  return true;
}

}  // namespace

int MockUpstreamCommand(const std::vector<std::string>& args) {
  std::string api;
  std::string listen = "127.0.0.1:8080";
  std::string start;
  std::string origin;
  uint64_t seed = 0;
  size_t max_connections = 1024;
  std::string request_timeout = "30s";
  std::string write_timeout = "10s";
  po::options_description options(
      "orchsim mock-upstream SCENARIO --api NAME [options]\n\n"
      "Serves the mocked upstream NAME of SCENARIO over HTTP in real time: its latency\n"
      "(waited with timers), failures, health chain and outages on the scenario's\n"
      "timeline, rate limit (429 + Retry-After), quota headers in the scenario's style\n"
      "and batch capacity. Requests: GET /<endpoint>?key=K, or ?keys=K1,K2 for a batch\n"
      "call; GET /_mock/stats gives the model's counters. Process start is scenario\n"
      "time --start; scenario time then runs with the real clock. Stops on SIGINT or\n"
      "SIGTERM (exit status 0).\n\noptions");
  options.add_options()("help,h", "show this help")(
      "api", po::value<std::string>(&api), "the upstream to serve (a name under \"upstreams\")")(
      "listen", po::value<std::string>(&listen)->default_value(listen),
      "HOST:PORT to listen on (port 0: any free port; the address is printed)")(
      "start", po::value<std::string>(&start),
      "scenario time at process start: an instant (2023-10-15T17:59:30Z) or an offset\n"
      "from the scenario's start (7h59m30s); default: the scenario's start")(
      "origin", po::value<std::string>(&origin),
      "the wall-clock instant (ISO 8601 with a zone) at which scenario time is --start,\n"
      "instead of the process start: calls before it are evaluated at --start. With\n"
      "orchsim load --begin at the same instant, the mock's timeline and the replayed\n"
      "demand start together")("seed", po::value<uint64_t>(&seed),
                               "root seed (default: the scenario's seed)")(
      "max-connections", po::value<size_t>(&max_connections)->default_value(max_connections),
      "connections beyond this are closed at once")(
      "request-timeout", po::value<std::string>(&request_timeout)->default_value(request_timeout),
      "time a connection may take to send a complete request (also the keep-alive idle time)")(
      "write-timeout", po::value<std::string>(&write_timeout)->default_value(write_timeout),
      "time an answer may take to be written");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", 1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim mock-upstream: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  const std::string scenario_path = vm["scenario"].as<std::vector<std::string>>().front();
  const scenario::Scenario scenario = scenario::LoadScenario(scenario_path);
  const world::UpstreamModelConfig* model = nullptr;
  std::string known;
  for (const auto& upstream : scenario.upstreams) {
    if (upstream.name == api) model = &upstream;
    known += " " + upstream.name;
  }
  if (model == nullptr) {
    std::cerr << "orchsim mock-upstream: " << scenario_path
              << (api.empty() ? ": --api is required" : ": unknown api \"" + api + "\"")
              << "; the scenario's upstreams:" << known << "\n";
    return 2;
  }
  live::MockUpstreamServerOptions server_options;
  if (!ParseListen(listen, &server_options.address, &server_options.port)) {
    std::cerr << "orchsim mock-upstream: --listen " << listen
              << ": expected HOST:PORT (127.0.0.1:8080, [::1]:0)\n";
    return 2;
  }
  server_options.max_connections = max_connections;
  if (!ParseTimeout("request-timeout", request_timeout, &server_options.request_timeout) ||
      !ParseTimeout("write-timeout", write_timeout, &server_options.write_timeout)) {
    return 2;
  }
  live::RealTimeUpstream::Options upstream_options;
  upstream_options.model = *model;
  upstream_options.seed = vm.count("seed") ? seed : scenario.seed;
  upstream_options.games = scenario.games;
  upstream_options.scenario_start = scenario.start;
  upstream_options.start_at = scenario.start;
  if (!start.empty()) {
    if (ParseResult<Instant> at = ParseInstant(start); at.ok()) {
      upstream_options.start_at = *at;
    } else if (ParseResult<Duration> offset = ParseDuration(start); offset.ok()) {
      upstream_options.start_at = scenario.start + *offset;
    } else {
      std::cerr << "orchsim mock-upstream: --start " << start
                << ": expected an instant with a zone (2023-10-15T17:59:30Z) or an offset from "
                   "the scenario's start (7h59m30s)\n";
      return 2;
    }
  }
  // The steady-clock reading of --origin: the wall clock's distance to it
  // added to the steady clock's now (both read together).
  auto steady_origin = std::chrono::steady_clock::now();
  if (!origin.empty()) {
    const ParseResult<Instant> at = ParseInstant(origin);
    if (!at.ok()) {
      std::cerr << "orchsim mock-upstream: --origin " << origin
                << ": expected a wall-clock instant with a zone (2026-12-07T08:30:00.250Z)\n";
      return 2;
    }
    const auto wall_now = std::chrono::system_clock::now();
    const int64_t wall_now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(wall_now.time_since_epoch()).count();
    steady_origin += std::chrono::microseconds(at->unix_micros() - wall_now_us);
  }
  auto upstream = live::RealTimeUpstream::Create(std::move(upstream_options), steady_origin);
  if (!upstream.ok()) {
    std::cerr << "orchsim mock-upstream: " << scenario_path << ": " << upstream.status().message()
              << "\n";
    return 2;
  }
  boost::asio::io_context io;
  live::MockUpstreamServer server(io, **upstream, server_options);
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "orchsim mock-upstream: " << s.message() << "\n";
    return 1;
  }
  const Instant scenario_now = (*upstream)->ScenarioTime(std::chrono::steady_clock::now());
  const std::string host = server_options.address.find(':') != std::string::npos
                               ? "[" + server_options.address + "]"
                               : server_options.address;
  std::cout << "mock-upstream: serving \"" << api << "\" of " << scenario.name << " on http://"
            << host << ":" << server.port() << "/ (scenario time " << FormatInstant(scenario_now)
            << ", seed " << (vm.count("seed") ? seed : scenario.seed) << ")" << std::endl;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    std::cout << "mock-upstream: signal " << signal << ", stopping" << std::endl;
    server.Stop();
  });
  io.run();
  const world::UpstreamCounters& c = (*upstream)->model().counters();
  std::cout << "mock-upstream: stopped after " << c.calls << " calls (";
  bool first = true;
  for (const auto& [status, count] : c.status_counts) {
    std::cout << (first ? "" : ", ") << count << " x " << status;
    first = false;
  }
  std::cout << (first ? "none" : "") << ")" << std::endl;
  return 0;
}

}  // namespace orchsim::tools
