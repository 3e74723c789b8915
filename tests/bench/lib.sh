# Shared by tests/bench/*.sh (sourced, not run): the release build, the machine line, one
# gatehouse server on a free loopback port, stopped by its PID when the script exits, and
# bounded wrk runs against it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH="$ROOT/tests/bench"
BIN="$ROOT/target/release/gatehouse"
SERVER_PID=""

# use_workdir NAME: a fresh temp dir in WORK; when the script exits the server is stopped and
# the dir removed (KEEP=1 keeps it).
use_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-$1.XXXXXX")
  trap 'stop_server; if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi' EXIT
}

build_release() {
  echo "== building the release binary"
  (cd "$ROOT" && cargo build --release -p gatehouse --quiet)
}

machine_line() {
  local cpu
  cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  echo "date $(date -u +%F) | nproc $(nproc) | cpu ${cpu:-unknown} | load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

# start_server DATA_DIR LOG [SEED]: starts `gatehouse serve` on 127.0.0.1 port 0 (the kernel picks
# a free one) and waits until it serves. Sets SERVER_PID, ADDR (127.0.0.1:PORT), BASE (http://ADDR)
# and SEED_SECONDS (start to serving: opening the store and loading the seed).
start_server() {
  local dir=$1 log=$2 seed=${3:-} started
  local args=(serve --addr 127.0.0.1:0 --data-dir "$dir")
  [[ -n $seed ]] && args+=(--seed "$seed")
  started=$(now)
  # stdout gets the seeded tokens (one line each); stderr the log, one line per request.
  NO_COLOR=1 "$BIN" "${args[@]}" >"$log.stdout" 2>"$log" &
  SERVER_PID=$!
  local waited=0
  until grep -q 'gatehouse is serving' "$log" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited before serving:" >&2
      tail -20 "$log" >&2
      SERVER_PID=""
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
    if ((waited > 36000)); then
      echo "the server did not start within an hour" >&2
      return 1
    fi
  done
  SEED_SECONDS=$(elapsed "$started" "$(now)")
  ADDR=$(grep -m1 'gatehouse is serving' "$log" | grep -oE '127\.0\.0\.1:[0-9]+' | head -1)
  BASE="http://$ADDR"
}

# SIGTERM (the server shuts down gracefully), then SIGKILL if it is still there after 10 s.
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server (pid $SERVER_PID) ignored SIGTERM for 10 s: killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# The server's peak resident set (VmHWM) and current one (VmRSS), in MiB.
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }

# The server's CPU time so far (user + system), in milliseconds.
server_cpu_ms() {
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
  echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

install_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "== installing wrk"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
}

# run_wrk NAME URL [wrk args...]: one bounded wrk run (THREADS, CONNECTIONS, DURATION) with its
# output under WORK; sets RPS, P50, P99, REQS and CPU_US (the server's CPU per request) for NAME,
# and fails on any non-2xx/3xx answer or socket error.
declare -A RPS P50 P99 REQS CPU_US
run_wrk() {
  local name=$1 url=$2 out="$WORK/wrk-$1.txt" cpu0 cpu1 result
  shift 2
  echo "== $name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION $url"
  cpu0=$(server_cpu_ms)
  timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 10s "$url" "$@" >"$out"
  cpu1=$(server_cpu_ms)
  sed 's/^/  /' "$out"
  result=$(grep '^RESULT ' "$out")
  local -A r=()
  for kv in ${result#RESULT }; do r[${kv%%=*}]=${kv#*=}; done
  RPS[$name]=${r[rps]}
  P50[$name]=${r[p50_ms]}
  P99[$name]=${r[p99_ms]}
  REQS[$name]=${r[requests]}
  CPU_US[$name]=$(((cpu1 - cpu0) * 1000 / (r[requests] > 0 ? r[requests] : 1)))
  echo "  non-2xx/3xx responses: ${r[status_errors]}, socket errors: ${r[socket_errors]}"
  if ((r[status_errors] != 0 || r[socket_errors] != 0 || r[requests] == 0)); then
    echo "$name: the run had errors; its figures measure the wrong thing" >&2
    exit 1
  fi
}

# print_results PEAK_MIB NAME...: the runs' figures, each run's req/s against the mean of the
# runs trivial_before and trivial_after.
print_results() {
  local peak=$1 name ratio trivial
  shift
  trivial=$(python3 -c "print(f'{(${RPS[trivial_before]} + ${RPS[trivial_after]}) / 2:.1f}')")
  echo
  echo "== results ($THREADS threads, $CONNECTIONS connections, $DURATION each; server peak RSS $peak MiB)"
  printf '%-16s %10s %10s %9s %9s %12s %16s\n' route requests 'req/s' 'p50 ms' 'p99 ms' 'vs trivial' 'server CPU us/req'
  for name in "$@"; do
    ratio=$(python3 -c "print(f'{${RPS[$name]} / $trivial:.3f}')")
    printf '%-16s %10s %10s %9s %9s %12s %16s\n' "$name" "${REQS[$name]}" "${RPS[$name]}" \
      "${P50[$name]}" "${P99[$name]}" "$ratio" "${CPU_US[$name]}"
  done
  echo "(vs trivial: req/s over the mean of the two trivial runs, $trivial req/s)"
}
