#!/usr/bin/env bash
# Checks the dependency rules of DESIGN.md:
#  - policies/ includes nothing from engine/, reads no real clock, never
#    sleeps, starts no threads and draws no unseeded randomness; it uses the
#    standard library only (policies/config/ may add nlohmann_json), and the
#    core never includes its preset loader;
#  - engine/ and policies/ include nothing from live/;
#  - engine/kernel/ includes nothing from policies/ but the time types;
#  - no std:: distributions anywhere (they differ between standard libraries);
#  - real time, sockets and signals only in live/ and tools/ (engine/ may
#    start threads only in engine/experiment/, the sweep's pool, whose
#    results do not depend on it).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
fail() { echo "layering: $1"; echo "$2"; status=1; }
if hits=$(grep -rnE '#include *"engine/' policies); then
  fail "policies/ must not include engine/:" "$hits"
fi
if hits=$(grep -rnE '#include *[<"](nlohmann|boost|Eigen)' policies --include='*.h' --include='*.cc' |
  grep -v '^policies/config/.*nlohmann'); then
  fail "policies/ uses the standard library only (policies/config/ may use nlohmann_json):" "$hits"
fi
if hits=$(grep -rnE '#include *"policies/config/' policies --include='*.h' --include='*.cc' |
  grep -v '^policies/config/'); then
  fail "the core (policies/) must not depend on its preset loader (policies/config/):" "$hits"
fi
if hits=$(grep -rnE 'system_clock|steady_clock|high_resolution_clock|sleep_for|sleep_until|std::rand\b|[^_a-z]rand\(\)|random_device|std::thread|std::async|<thread>|<chrono>' policies); then
  fail "policies/ must use its ports for time, timers and randomness:" "$hits"
fi
if hits=$(grep -rnE '#include *"live/' engine policies); then
  fail "engine/ and policies/ must not include live/:" "$hits"
fi
if hits=$(grep -rnE '#include *"policies/' engine/kernel | grep -v 'policies/time.h'); then
  fail "engine/kernel/ may use only policies/time.h from the core:" "$hits"
fi
if hits=$(grep -rnE 'std::[a-z_]*_distribution' engine policies tools live); then
  fail "std:: distributions are not portable; use engine/kernel/random.h:" "$hits"
fi
if hits=$(grep -rnE 'boost/asio|boost/beast|<sys/socket\.h>|<netinet/|<csignal>|<signal\.h>|[^_a-z]signal\(|sigaction' engine policies); then
  fail "sockets and signals belong in live/ and tools/:" "$hits"
fi
if hits=$(grep -rnE 'system_clock|steady_clock|high_resolution_clock|sleep_for|sleep_until' engine); then
  fail "engine/ runs on virtual time; real clocks belong in live/ and tools/:" "$hits"
fi
if hits=$(grep -rnE 'std::thread|std::async|<thread>' engine | grep -v '^engine/experiment/'); then
  fail "threads in engine/ only in engine/experiment/ (the sweep's pool):" "$hits"
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
