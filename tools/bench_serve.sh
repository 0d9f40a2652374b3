#!/bin/bash
# bench_serve.sh — the live benchmarks of `orchsim serve` (README "Run it in
# production", Measured). Benchmarks, not tests: they print figures and
# assert nothing (but asan exits 1 on a sanitizer finding). Loopback only;
# every process they start is stopped on exit.
#
#   tools/bench_serve.sh hits   [SECONDS]   wrk against serve, one cached key:
#                                           serve pinned to CPU 0, wrk to CPU 1
#   tools/bench_serve.sh misses [RATE] [SECONDS]
#                                           constant rate (default 5000/s) of
#                                           distinct keys, alternating 1 s blocks
#                                           straight to mock-upstream and through
#                                           serve; latency added by serve
#   tools/bench_serve.sh soak   [RATE] [SECONDS]
#                                           RSS of serve every 10 s under a
#                                           constant rate (default 2000/s, 600 s),
#                                           half cache hits, half misses
#   tools/bench_serve.sh asan   [RATE] [SECONDS]
#                                           the soak (default 300/s, 30 s) against
#                                           the clang ASan/UBSan build of orchsim
#                                           (build-asan-clang/, -O0, target orchsim
#                                           only); exit 1 on any sanitizer finding
#
# The upstream is `orchsim mock-upstream tools/bench/instant-upstream.json
# --api scores` (answers at once, no failures, no quota). serve runs
# scenarios/policies/tuned.json with its token bucket and bulkhead off (they
# would pace the misses to 5 calls/s, as designed), log level info.
# ORCHSIM=path/to/orchsim and LOADGEN=path/to/orchsim_loadgen override the
# binaries (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode="${1:-}"
orchsim="${ORCHSIM:-$root/build/orchsim}"
loadgen="${LOADGEN:-$root/build/orchsim_loadgen}"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# wait_port FILE PATTERN: the port printed in FILE (bounded: 30 s).
wait_port() {
  for _ in $(seq 300); do
    port=$(grep -oE "$2" "$1" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)
    if [ -n "$port" ]; then echo "$port"; return 0; fi
    sleep 0.1
  done
  echo "bench_serve: no port in $1:" >&2; cat "$1" >&2; return 1
}

cpu_seconds() {  # utime + stime of PID, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# start_mock [CPU]: mock-upstream on a free port; sets mock_port.
start_mock() {
  local pin=()
  [ -n "${1:-}" ] && pin=(taskset -c "$1")
  "${pin[@]}" "$orchsim" mock-upstream tools/bench/instant-upstream.json --api scores \
    --listen 127.0.0.1:0 --max-connections 4096 > "$work/mock.out" 2> "$work/mock.err" &
  pids+=($!)
  mock_port=$(wait_port "$work/mock.out" '127\.0\.0\.1:[0-9]+')
}

# start_serve [CPU]: serve in front of the mock; sets serve_port, serve_pid.
start_serve() {
  local pin=()
  [ -n "${1:-}" ] && pin=(taskset -c "$1")
  cat > "$work/serve.json" <<EOF
{
  "listen": "127.0.0.1:0",
  "preset": "$root/scenarios/policies/tuned.json",
  "overrides": {"default_api": {"bucket": {"enabled": false}},
                "concurrency": {"enabled": false}},
  "variant": "bench",
  "drain": "5s",
  "log_level": "info",
  "server": {"max_connections": 4096},
  "upstreams": {
    "scores": {"base_url": "http://127.0.0.1:$mock_port", "max_connections": 64,
               "max_waiting": 100000,
               "routes": [{"path": "/scores", "endpoint": "scores", "key_params": ["key"]}]}
  }
}
EOF
  "${pin[@]}" "$orchsim" serve --config "$work/serve.json" 2> "$work/serve.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  serve_port=$(wait_port "$work/serve.err" '"address":"127\.0\.0\.1:[0-9]+')
}

machine() {
  echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"\
       "load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
}

case "$mode" in
  hits)
    seconds="${2:-15}"
    machine
    start_mock 1
    start_serve 0
    url="http://127.0.0.1:$serve_port/scores/scores?key=hot"
    curl -s -o /dev/null -D - "$url" | grep -i '^x-orchsim-outcome'
    curl -s -o /dev/null -D - "$url" | grep -i '^x-orchsim-outcome'
    for connections in 16 64; do
      before=$(cpu_seconds "$serve_pid")
      taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency "$url" | tee "$work/wrk.out"
      after=$(cpu_seconds "$serve_pid")
      answers=$(awk '/requests in/ {print $1}' "$work/wrk.out")
      awk -v a="$answers" -v b="$before" -v c="$after" -v n="$connections" 'BEGIN {
        printf "serve (pinned to CPU 0): %d connections: %.2f CPU-seconds for %d answers = %.0f cache hits per CPU-second\n",
               n, c - b, a, a / (c - b) }'
    done
    grep -c '"event":"request_completed"' "$work/serve.err" | xargs echo "request_completed lines logged (info: 0):"
    ;;
  misses)
    rate="${2:-5000}"
    seconds="${3:-40}"
    machine
    # PLACEMENT: "free" (default: the scheduler places the three processes),
    # "one-cpu" (all three on CPU 0: no cross-CPU wake-ups), "own-cpu"
    # (serve on CPU 1, the load generator and the mock on CPU 0).
    placement="${PLACEMENT:-free}"
    case "$placement" in
      free) peers=(); proxy_cpu=""; start_mock; start_serve ;;
      one-cpu) peers=(taskset -c 0); proxy_cpu=0; start_mock 0; start_serve 0 ;;
      own-cpu) peers=(taskset -c 0); proxy_cpu=1; start_mock 0; start_serve 1 ;;
      *) echo "bench_serve: PLACEMENT is free, one-cpu or own-cpu, not '$placement'" >&2; exit 2 ;;
    esac
    echo "placement: $placement"
    # The floor of any extra hop: socat relaying bytes (no HTTP, no policy)
    # to the mock, placed where serve is; measured when socat is installed.
    relay=()
    if command -v socat > /dev/null; then
      relay_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      pin=()
      [ -n "$proxy_cpu" ] && pin=(taskset -c "$proxy_cpu")
      "${pin[@]}" socat "TCP-LISTEN:$relay_port,bind=127.0.0.1,fork,reuseaddr,backlog=1024" \
        "TCP:127.0.0.1:$mock_port,nodelay" 2> "$work/socat.err" &
      pids+=($!)
      sleep 0.5
      relay=(--target "via_socat=http://127.0.0.1:$relay_port/scores?key=k{i}")
    else
      echo "(socat not installed: no relay floor measured; apt-get install socat)"
    fi
    "${peers[@]}" "$loadgen" --target "direct=http://127.0.0.1:$mock_port/scores?key=k{i}" \
      --target "via_serve=http://127.0.0.1:$serve_port/scores/scores?key=k{i}" "${relay[@]}" \
      --rate "$rate" --duration "${seconds}s" --block 1s --warmup 2s --connections 256
    curl -s "http://127.0.0.1:$serve_port/metrics" | grep '^orchsim_requests_total' || true
    ;;
  soak|asan)
    if [ "$mode" = asan ]; then
      # -O0 instrumentation: a rate the instrumented serve can keep up with.
      rate="${2:-300}"
      seconds="${3:-30}"
      asan_dir="${ASAN_BUILD:-$root/build-asan-clang}"
      echo "bench_serve: building $asan_dir (target orchsim only)"
      if [ ! -f "$asan_dir/CMakeCache.txt" ]; then
        CXX=clang++ cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=Debug \
          -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DORCHSIM_SANITIZE=address,undefined \
          -DORCHSIM_BUILD_BENCHMARKS=OFF > /dev/null
      fi
      nice cmake --build "$asan_dir" -j 2 --target orchsim > /dev/null
      orchsim_release="$orchsim"
      export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      # The mock upstream stays the release build: only serve is under test.
      orchsim="$orchsim_release" start_mock
      orchsim="$asan_dir/orchsim"
      start_serve
      sample=5
    else
      rate="${2:-2000}"
      seconds="${3:-600}"
      start_mock
      start_serve
      sample=10
    fi
    machine
    # Half hits, half misses, in alternating 1 s blocks: 1,000 hot keys in
    # turn (cache hits after the first half second) and distinct keys (each
    # a miss, an upstream call and a new cache entry, so the preset's
    # 20,000-entry cache bound is reached within 20 s and then evicts).
    "$loadgen" --target "hot=http://127.0.0.1:$serve_port/scores/scores?key=hot{i%1000}" \
      --target "miss=http://127.0.0.1:$serve_port/scores/scores?key=k{i}" \
      --rate "$rate" --duration "${seconds}s" --block 1s --warmup 0s \
      --connections 64 --watch-pid "$serve_pid" --sample "${sample}s" | tee "$work/soak.out"
    awk -v s="$sample" '$1 ~ /^[0-9]+$/ && NF >= 2 && $1 > 0 {
        n++; t[n] = $1; r[n] = $2 }
      END {
        if (n < 2) exit
        per_min = 60 / s; if (per_min > n / 2) per_min = int(n / 2)
        for (i = 1; i <= per_min; i++) first += r[i]
        for (i = n - per_min + 1; i <= n; i++) last += r[i]
        first /= per_min; last /= per_min
        min = r[1]; max = r[1]
        for (i = 1; i <= n; i++) { if (r[i] < min) min = r[i]; if (r[i] > max) max = r[i] }
        printf "RSS of serve (KB): first %d samples mean %.0f, last %d samples mean %.0f (%+.1f%%), min %d, max %d over %d samples\n",
               per_min, first, per_min, last, 100 * (last - first) / first, min, max, n }' "$work/soak.out"
    kill -TERM "$serve_pid"
    wait "$serve_pid" && echo "serve exited 0" || echo "serve exited $?"
    grep '"event":"stopped"' "$work/serve.err" || true
    if [ "$mode" = asan ]; then
      if grep -qE 'Sanitizer|runtime error:' "$work/serve.err"; then
        echo "sanitizer findings:"; grep -A30 -E 'Sanitizer|runtime error:' "$work/serve.err"
        exit 1
      fi
      echo "sanitizers (address, undefined, leaks at exit): no findings"
    fi
    ;;
  *)
    sed -n '2,27p' "$0"
    exit 2
    ;;
esac
