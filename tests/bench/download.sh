#!/usr/bin/env bash
# A gated download's HEAD on the local server under 32 concurrent connections (oha), side by
# side with a trivial route (GET /api/agent-harnesses) in the same run: `HEAD
# /owner/gated/resolve/main/config.json` as a user whose request is accepted (the token, the gate
# and the file's metadata; no blob is read), and the GET of the same small file, which also reads
# its blob. The HEAD and the trivial route alternate for ROUNDS rounds (trivial, HEAD, trivial,
# HEAD, ..., trivial); each HEAD run is set against the mean of the trivial runs on either side of
# it, and the figure is the median of those ratios: this machine's throughput drifts by up to 30 %
# between runs a minute apart, which a single pair of runs takes for a difference between routes.
# oha, not wrk: wrk's parser waits for the body a HEAD answer's Content-Length announces. Every
# run uses the same tool.
#
# usage: tests/bench/download.sh            (from any directory)
# env:   ROUNDS (3), DURATION (5s) of each run, CONNECTIONS (32); KEEP=1 keeps the temp dir.
#        Installs oha with `cargo install` when it is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=2 # oha's default: a worker thread a core
REPO=owner/gated
TOKEN=hf_bench_accepted_read_token
FILE="$REPO/resolve/main/config.json"

use_workdir download

if ! command -v oha >/dev/null; then
  echo "== installing oha (cargo install)"
  cargo install oha --locked --quiet
fi
build_release
echo "== $(machine_line)"

cat >"$WORK/seed.yaml" <<YAML
users:
  - {name: owner, email: owner@example.com}
  - {name: reader, email: reader@example.com}
tokens:
  - {user: reader, role: read, name: bench, value: $TOKEN}
repos:
  - id: $REPO
    gated: manual
    readme: "---\nextra_gated_fields:\n  Company: text\n---\n# Gated\n"
    files: {config.json: '{"model_type": "gpt2", "n_layer": 12}'}
requests:
  - {repo: $REPO, user: reader, status: accepted, time: '2026-01-01T00:00:00.000Z', fields: {Company: ACME}}
YAML
start_server "$WORK/data" "$WORK/server.log" "$WORK/seed.yaml"
echo "== server at $BASE (pid $SERVER_PID)"

auth=(-H "Authorization: Bearer $TOKEN")
status=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -I "${auth[@]}" "$BASE/$FILE")
[[ $status == 200 ]] || { echo "HEAD $FILE answered $status, not 200" >&2; exit 1; }
status=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -I "$BASE/$FILE")
[[ $status == 401 ]] || { echo "an anonymous HEAD $FILE answered $status, not 401" >&2; exit 1; }

# run_oha NAME URL [oha args...]: one bounded oha run; sets RPS, P50, P99, REQS and CPU_US (the
# server's CPU per request) for NAME, and fails unless every answer was a 200.
declare -A RPS P50 P99 REQS CPU_US
run_oha() {
  local name=$1 url=$2 out="$WORK/oha-$1.json" cpu0 cpu1 result bad
  shift 2
  echo "== $name: oha -c $CONNECTIONS -z $DURATION $* $url"
  cpu0=$(server_cpu_ms)
  timeout 120 oha --no-tui --output-format json -c "$CONNECTIONS" -z "$DURATION" "$@" "$url" >"$out"
  cpu1=$(server_cpu_ms)
  result=$(python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r["statusCodeDistribution"]
requests = sum(codes.values())
# The requests in flight when the time is up are "aborted due to deadline": not errors.
errors = {k: v for k, v in r["errorDistribution"].items() if k != "aborted due to deadline"}
bad = requests - codes.get("200", 0) + sum(errors.values())
p = r["latencyPercentiles"]
print(requests, f'{r["summary"]["requestsPerSec"]:.1f}', f'{p["p50"] * 1e3:.3f}', f'{p["p99"] * 1e3:.3f}', bad)
PY
)
  read -r "REQS[$name]" "RPS[$name]" "P50[$name]" "P99[$name]" bad <<<"$result"
  CPU_US[$name]=$(((cpu1 - cpu0) * 1000 / (REQS[$name] > 0 ? REQS[$name] : 1)))
  echo "  ${REQS[$name]} requests, ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p99 ${P99[$name]} ms; not 200: $bad"
  if ((bad != 0 || REQS[$name] == 0)); then
    echo "$name: the run had errors; its figures measure the wrong thing" >&2
    exit 1
  fi
}

run_oha trivial_0 "$BASE/api/agent-harnesses"
for ((round = 1; round <= ROUNDS; round++)); do
  run_oha "gated_head_$round" "$BASE/$FILE" -m HEAD "${auth[@]}"
  run_oha "trivial_$round" "$BASE/api/agent-harnesses"
done
run_oha gated_get "$BASE/$FILE" "${auth[@]}"

peak=$(peak_rss_mib)
stop_server

echo
echo "== results ($THREADS oha threads, $CONNECTIONS connections, $DURATION a run; server peak RSS $peak MiB)"
printf '%-14s %10s %10s %9s %9s %12s %18s\n' run requests 'req/s' 'p50 ms' 'p99 ms' 'HEAD/trivial' 'server CPU us/req'
row() { # NAME [RATIO]
  printf '%-14s %10s %10s %9s %9s %12s %18s\n' "$1" "${REQS[$1]}" "${RPS[$1]}" "${P50[$1]}" "${P99[$1]}" "${2:-}" "${CPU_US[$1]}"
}
ratios=()
row trivial_0
for ((round = 1; round <= ROUNDS; round++)); do
  ratio=$(python3 -c "print(f'{${RPS[gated_head_$round]} / ((${RPS[trivial_$((round - 1))]} + ${RPS[trivial_$round]}) / 2):.3f}')")
  ratios+=("$ratio")
  row "gated_head_$round" "$ratio"
  row "trivial_$round"
done
get_ratio=$(python3 -c "print(f'{${RPS[gated_get]} / ${RPS[trivial_$ROUNDS]}:.3f}')")
row gated_get "$get_ratio"
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "(HEAD/trivial: a HEAD run's req/s over the mean of the trivial runs before and after it;"
echo " the GET's over the last trivial run's)"
echo "gated HEAD / trivial route, median of $ROUNDS rounds: $median (rounds: ${ratios[*]}; target: at least 0.5)"
