// sweep_test_util.h — a small, fast scenario text shared by the sweep,
// tuning and metric catalog tests (a synthetic league of a few days).
#ifndef ORCHSIM_TESTS_ENGINE_EXPERIMENT_SWEEP_TEST_UTIL_H_
#define ORCHSIM_TESTS_ENGINE_EXPERIMENT_SWEEP_TEST_UTIL_H_

#include <string>

namespace orchsim::experiment::testing {

inline std::string SmallScenarioText() {
  return R"({
  "name": "small", "seed": 7,
  "schedule": {"synthetic": [{"name": "L", "teams": 4, "games_per_day": 2, "season_days": 2,
                              "season_start": "2024-01-01T00:00:00Z"}]},
  "upstreams": {
    "odds": {"latency": {"kind": "uniform", "min": "40ms", "max": "250ms"},
             "failures": {"enabled": true, "status_500": 0.05, "status_503": 0.05}},
    "scores": {"latency": {"kind": "uniform", "min": "10ms", "max": "50ms"},
               "failures": {"enabled": true, "status_500": 0.2}}
  },
  "demand": [
    {"name": "views", "request": {"api": "odds", "endpoint": "odds", "key": "{game}", "priority": "NORMAL", "deadline": "10s"},
     "kickoff_poisson": {"steps": [{"from": "-1h", "per_minute": 2}], "until": "1h"}},
    {"name": "scores", "request": {"api": "scores", "endpoint": "scores", "key": "{game}", "priority": "HIGH", "deadline": "20s"},
     "live_polling": {"interval": "1m", "start_offset": "0s", "game_length": "1h"}}
  ],
  "baseline": "naive",
  "variants": [
    {"name": "naive"},
    {"name": "tuned", "overrides": {
      "cache": {"enabled": true, "default_ttl": "1m"},
      "breaker": {"enabled": true, "failure_threshold": 5},
      "retry": {"enabled": true, "max_attempts": 2, "backoff": "constant", "base": "100ms"}}}
  ]
})";
}

}  // namespace orchsim::experiment::testing

#endif  // ORCHSIM_TESTS_ENGINE_EXPERIMENT_SWEEP_TEST_UTIL_H_
