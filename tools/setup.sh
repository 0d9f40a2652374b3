#!/usr/bin/env bash
# Installs what orchsim needs to build, test and plot, from Debian's packages.
# clang and its runtimes (libclang-rt-dev) build the sanitizer pass of
# tools/run_tests.sh, which also compares its results with the GCC build's,
# and the libFuzzer targets of tools/run_fuzz.sh. prometheus gives promtool,
# which the tests use to load a simulated run's OpenMetrics file; Boost's
# Asio and Beast (libboost-dev, header-only) serve the real-time mock upstream.
# orchsim serve (live/) also needs libboost-system-dev, OpenSSL with the
# system CA store, prometheus-cpp and spdlog; wrk measures it (README).
# Idempotent: when everything is present it says so and installs nothing.
# Works as root (CI) or through sudo; never prompts.
set -euo pipefail

packages=(
  cmake g++ make git
  clang-format
  clang libclang-rt-dev
  libboost-program-options-dev libboost-dev
  nlohmann-json3-dev
  libeigen3-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  python3 python3-matplotlib python3-jsonschema
  prometheus
  libboost-system-dev libssl-dev ca-certificates
  prometheus-cpp-dev libspdlog-dev
  wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} required packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo -n)
  else
    echo "setup: not root and no sudo; install these packages: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
