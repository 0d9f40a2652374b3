#include "tools/load_command.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/kernel/random.h"
#include "engine/scenario/scenario.h"
#include "engine/world/demand.h"
#include "engine/world/trace_demand.h"
#include "live/load_replayer.h"
#include "live/url.h"
#include "policies/trace/trace_reader.h"
#include "tools/cli_common.h"

namespace orchsim::tools {
namespace {

Instant WallNow() {
  return Instant::FromUnixMicros(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

constexpr const char* kDefaultTarget = "/{api}/{endpoint}?key={key}";

// --path with the request's fields: {api}, {endpoint}, {key} percent-encoded,
// {rawkey} as it is. "auto": "/{api}{rawkey}" for a key that is a path (serve
// records the client's path and key parameters as the key), else
// kDefaultTarget.
std::string ExpandTarget(const std::string& option, const Request& request) {
  const std::string& pattern = option != "auto"               ? option
                               : request.key.starts_with("/") ? std::string("/{api}{rawkey}")
                                                              : std::string(kDefaultTarget);
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      const std::string name = pattern.substr(i + 1, close - i - 1);
      if (name == "api") out += live::PercentEncode(request.api);
      if (name == "endpoint") out += live::PercentEncode(request.endpoint);
      if (name == "key") out += live::PercentEncode(request.key);
      if (name == "rawkey") out += request.key;
      i = close + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

// Checks --path: "auto", or a target starting with '/' with placeholders
// {api}, {endpoint}, {key}, {rawkey} only.
bool ValidTarget(const std::string& pattern, std::string* problem) {
  if (pattern == "auto") return true;
  if (pattern.empty() || pattern[0] != '/') {
    *problem = "expected a target starting with '/'";
    return false;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '}') {
      *problem = "'}' without '{'";
      return false;
    }
    if (pattern[i] != '{') continue;
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos) {
      *problem = "'{' without '}'";
      return false;
    }
    const std::string name = pattern.substr(i + 1, close - i - 1);
    if (name != "api" && name != "endpoint" && name != "key" && name != "rawkey") {
      *problem = "unknown placeholder {" + name + "} (use {api}, {endpoint}, {key}, {rawkey})";
      return false;
    }
    i = close;
  }
  return true;
}

// The id of the game a request is about: the game with its kickoff whose id
// the key contains, else the first game with that kickoff, else a name made
// of the kickoff (a trace without a schedule).
std::string GameId(const std::vector<world::Game>& games, const Request& request) {
  const world::Game* first = nullptr;
  for (const world::Game& game : games) {
    if (game.kickoff != *request.game_start) continue;
    if (request.key.find(game.id) != std::string::npos) return game.id;
    if (first == nullptr) first = &game;
  }
  return first != nullptr ? first->id : "game@" + FormatInstant(*request.game_start);
}

}  // namespace

int LoadCommand(const std::vector<std::string>& args) {
  std::string to;
  std::string begin;
  std::string path = "auto";
  std::string timeout = "60s";
  double speed = 1.0;
  size_t connections = 512;
  std::string seed_text;
  po::options_description options(
      "orchsim load --to HOST:PORT SCENARIO|TRACE.jsonl [options]\n\n"
      "Sends SCENARIO's client requests to a running `orchsim serve` in real time and\n"
      "counts the answers by outcome (X-Orchsim-Outcome). The requests are the\n"
      "scenario's demand exactly as a simulation generates it (its seed, arrivals in\n"
      "[start, end)), or the trace it replays ({\"trace\": ...} demand), or the request\n"
      "lines of a recorded TRACE.jsonl (from its first arrival; --seed: 1). Request i is\n"
      "sent at begin + (arrival_i - start) / speed as GET --path, with X-Orchsim-Priority\n"
      "(PREFETCH is sent as LOW), X-Orchsim-Deadline (relative, not scaled), X-Orchsim-Game\n"
      "and X-Orchsim-Kickoff (the kickoff placed on the wall clock as arrivals are:\n"
      "begin + (kickoff - start) / speed) and Cache-Control: no-cache for uncacheable\n"
      "requests. Prints a summary (--json: one JSON object on stdout). Exit status: 0 every\n"
      "request answered, 1 some got no answer, 2 bad input.\n\noptions");
  options.add_options()("help,h", "show this help")("to", po::value<std::string>(&to),
                                                    "HOST:PORT of the sidecar (http)")(
      "speed", po::value<double>(&speed)->default_value(speed),
      "time compression: 2 sends the scenario's hour in 30 minutes (arrivals only: the "
      "sidecar and the upstreams keep the real clock)")(
      "begin", po::value<std::string>(&begin),
      "the wall-clock instant (ISO 8601 with a zone) of the scenario's start; default: "
      "now. Pass the instant given to mock-upstream --origin to share its timeline")(
      "path", po::value<std::string>(&path)->default_value(path),
      "request target with {api}, {endpoint}, {key} (percent-encoded) and {rawkey} (as it is); "
      "auto: /{api}{rawkey} for keys that are a path (keys recorded by serve), else "
      "/{api}/{endpoint}?key={key}")("seed", po::value<std::string>(&seed_text),
                                     "root seed of the demand (default: the scenario's)")(
      "connections", po::value<size_t>(&connections)->default_value(connections),
      "keep-alive connections open at most (a request finding none free waits)")(
      "timeout", po::value<std::string>(&timeout)->default_value(timeout),
      "per request: connect, send and the whole answer")(
      "json", "print the summary as one JSON object")("quiet", "no progress line");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "scenario", 1, &vm)) return 0;
  if (!vm.count("scenario")) {
    std::cerr << "orchsim load: missing SCENARIO (a scenario JSON file)\n\n" << options;
    return 2;
  }
  if (to.empty()) {
    std::cerr << "orchsim load: missing --to HOST:PORT (the sidecar's address)\n";
    return 2;
  }
  StatusOr<live::BaseUrl> url =
      live::ParseBaseUrl(to.find("://") == std::string::npos ? "http://" + to : to);
  if (!url.ok() || url->tls || !url->path.empty()) {
    std::cerr << "orchsim load: --to " << to << ": expected HOST:PORT (127.0.0.1:8080)"
              << (url.ok() ? "" : "; " + url.status().message()) << "\n";
    return 2;
  }
  if (!(speed > 0.0) || !std::isfinite(speed) || speed > 1e6) {
    std::cerr << "orchsim load: --speed " << speed << ": expected a number > 0 (at most 1e6)\n";
    return 2;
  }
  if (connections == 0 || connections > 65536) {
    std::cerr << "orchsim load: --connections " << connections << ": expected 1 to 65536\n";
    return 2;
  }
  const ParseResult<Duration> per_request = ParseDuration(timeout);
  if (!per_request.ok() || *per_request <= Duration::Zero()) {
    std::cerr << "orchsim load: --timeout " << timeout
              << ": expected a positive duration (\"60s\")\n";
    return 2;
  }
  std::string problem;
  if (!ValidTarget(path, &problem)) {
    std::cerr << "orchsim load: --path " << path << ": " << problem << "\n";
    return 2;
  }
  live::LoadOptions load;
  load.to = *url;
  load.speed = speed;
  load.max_connections = connections;
  load.timeout = *per_request;
  load.begin = WallNow();
  if (!begin.empty()) {
    const ParseResult<Instant> at = ParseInstant(begin);
    if (!at.ok()) {
      std::cerr << "orchsim load: --begin " << begin
                << ": expected a wall-clock instant with a zone (2026-12-07T08:30:00.250Z)\n";
      return 2;
    }
    load.begin = *at;
  }

  const std::string input = vm["scenario"].as<std::vector<std::string>>().front();
  const bool quiet = vm.count("quiet") > 0;
  const bool json = vm.count("json") > 0;
  // What is sent: (arrival, request) in arrival order, from a scenario's
  // demand or straight from a recorded trace; `start` is offset 0.
  std::function<std::optional<std::pair<Instant, Request>>()> next_arrival;
  std::vector<world::Game> games;
  std::string name;
  Instant start;
  Instant end = Instant::Max();
  uint64_t seed = 0;
  std::unique_ptr<world::DemandSource> demand;
  std::unique_ptr<world::TraceDemandStream> trace_stream;
  world::TraceDemandPattern trace;
  std::optional<scenario::Scenario> loaded;
  if (input.ends_with(".jsonl")) {
    // A recorded trace: its request lines, from its first arrival on.
    std::set<std::string> apis;
    {
      trace::TraceFileReader reader(input);
      trace::TraceLineParser parser;
      std::string_view line;
      while (reader.Next(&line)) {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        const std::string error = parser.Parse(line);
        if (!error.empty()) {
          std::cerr << "orchsim load: " << input << ": line " << reader.line_number() << ": "
                    << error << "\n";
          return 2;
        }
        if (parser.type() == trace::TraceLineType::kRequest) apis.insert(parser.request().api);
      }
      if (!reader.error().empty()) {
        std::cerr << "orchsim load: " << input << ": " << reader.error() << "\n";
        return 2;
      }
    }
    trace.file = input;
    if (const std::optional<world::TraceProblem> problem = world::ScanTrace(&trace, apis, games)) {
      std::cerr << "orchsim load: " << problem->ToString() << "\n";
      return 2;
    }
    seed = seed_text.empty() ? 1 : ParseSeed(seed_text, "--seed");
    trace_stream = std::make_unique<world::TraceDemandStream>(
        trace, kernel::SeedTree(seed).SeedFor("demand/trace"), games);
    name = input;
    start = trace.scan.first_arrival;
    next_arrival = [&]() -> std::optional<std::pair<Instant, Request>> {
      if (!trace_stream->Head()) return std::nullopt;
      world::TraceArrival a = trace_stream->Pop();
      return std::make_pair(a.at, std::move(a.request));
    };
  } else {
    loaded.emplace(scenario::LoadScenario(input));
    PrintScenarioWarnings("load", *loaded);
    seed = seed_text.empty() ? loaded->seed : ParseSeed(seed_text, "--seed");
    games = loaded->games;
    name = loaded->name;
    start = loaded->start;
    end = loaded->end;
    demand = std::make_unique<world::DemandSource>(games, loaded->demand, kernel::SeedTree(seed));
    // As the simulation runner: arrivals before start are dropped, the run
    // covers [start, end).
    next_arrival = [&]() -> std::optional<std::pair<Instant, Request>> {
      std::optional<world::TimedRequest> next = demand->Next();
      while (next && next->at < start) next = demand->Next();
      if (!next || next->at >= end) return std::nullopt;
      return std::make_pair(next->at, std::move(next->request));
    };
  }
  auto on_wall = [&](Instant at) {
    return load.begin + Duration::FromMicros(static_cast<int64_t>(
                            std::llround(static_cast<double>((at - start).micros()) / speed)));
  };
  live::LoadSource source = [&]() -> std::optional<live::LoadRequest> {
    std::optional<std::pair<Instant, Request>> next = next_arrival();
    if (!next) return std::nullopt;
    const auto& [at, r] = *next;
    live::LoadRequest out;
    out.offset = at - start;
    out.target = ExpandTarget(path, r);
    const Priority priority = r.priority == Priority::kPrefetch ? Priority::kLow : r.priority;
    out.headers.emplace_back("X-Orchsim-Priority", std::string(PriorityName(priority)));
    if (r.deadline != Instant::Max()) {
      out.headers.emplace_back("X-Orchsim-Deadline",
                               std::to_string((r.deadline - at).micros()) + "us");
    }
    if (r.game_start) {
      out.headers.emplace_back("X-Orchsim-Game", GameId(games, r));
      out.headers.emplace_back("X-Orchsim-Kickoff", FormatInstant(on_wall(*r.game_start)));
    }
    if (!r.cacheable) out.headers.emplace_back("Cache-Control", "no-cache");
    return out;
  };
  if (!json) {
    std::cout << "load: " << name << " (seed " << seed << ", from " << FormatInstant(start)
              << ") to http://" << to << ", speed " << speed << ", begin "
              << FormatInstant(load.begin) << std::endl;
  }
  uint64_t last_printed = 0;
  auto progress = [&](const live::LoadSummary& s) {
    if (quiet || json || s.answered + s.transport_errors < last_printed + 1000) return;
    last_printed = s.answered + s.transport_errors;
    std::cerr << "load: " << s.sent << " sent, " << s.answered << " answered, "
              << s.transport_errors << " without answer\n";
  };
  StatusOr<live::LoadSummary> summary = live::RunLoad(source, load, progress);
  if (!summary.ok()) {
    std::cerr << "orchsim load: " << summary.status().message() << "\n";
    return 2;
  }
  const live::LoadSummary& s = *summary;
  if (json) {
    std::cout << live::LoadSummaryJson(s) << std::endl;
  } else {
    std::cout << "load: " << s.sent << " requests sent, " << s.answered << " answered, "
              << s.transport_errors << " without answer, in "
              << FormatDuration(Duration::FromMicros(s.wall_time.micros() / 1000 * 1000)) << "\n";
    for (const auto& [outcome, n] : s.outcomes) std::cout << "  " << outcome << ": " << n << "\n";
    for (const auto& [reason, n] : s.error_reasons) {
      std::cout << "  no answer (" << reason << "): " << n << "\n";
    }
    std::cout << "  latency p50 " << s.latency_p50.micros() / 1000.0 << " ms, p99 "
              << s.latency_p99.micros() / 1000.0 << " ms, max " << s.latency_max.micros() / 1000.0
              << " ms; send lag max " << s.max_send_lag.micros() / 1000.0 << " ms\n";
  }
  return s.transport_errors == 0 ? 0 : 1;
}

}  // namespace orchsim::tools
