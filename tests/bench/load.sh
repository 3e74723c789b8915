#!/usr/bin/env bash
# Throughput of ask-access and of the first page of pending requests on the local server, with
# 16 concurrent clients (wrk: 16 connections, 2 threads), side by side with a trivial route
# (GET /api/agent-harnesses) measured before and after them in the same run.
#
# usage: tests/bench/load.sh            (from any directory)
# env:   USERS (80000): users seeded, each with a read token; each ask-access is a new user
#        DURATION (10s), CONNECTIONS (16), THREADS (2); KEEP=1 keeps the temp dir
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

USERS=${USERS:-80000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
REPO=owner/gated
OWNER_TOKEN=hf_bench_owner_write_token

use_workdir load

install_wrk
build_release
echo "== $(machine_line)"

echo "== seed: $USERS users with a read token each, an owner, a gated manual repo $REPO"
t0=$(now)
python3 "$BENCH/gen_seed.py" "$WORK/seed.yaml" --users "$USERS" --tokens --tokens-out "$WORK/tokens.txt"
echo "seed file written in $(elapsed "$t0" "$(now)") s ($(wc -c <"$WORK/seed.yaml") bytes)"
start_server "$WORK/data" "$WORK/server.log" "$WORK/seed.yaml"
transactions=$((2 * USERS + 4)) # users and tokens, plus the owner, their token, the repo, its commit
echo "seed loaded in $SEED_SECONDS s: $transactions write transactions," \
  "$(python3 -c "print(f'{$SEED_SECONDS * 1e6 / $transactions:.0f}')") us each; server at $BASE (pid $SERVER_PID)"

# The routes answer as expected before any load.
check_status() { # EXPECTED URL [curl args...]
  local expected=$1 url=$2 status
  shift 2
  status=$(curl -s --max-time 60 -o /dev/null -w '%{http_code}' "$@" "$url")
  if [[ $status != "$expected" ]]; then
    echo "expected $expected from $url, got $status" >&2
    exit 1
  fi
}
check_status 200 "$BASE/api/agent-harnesses"
check_status 200 "$BASE/api/models/$REPO/user-access-request/pending" -H "Authorization: Bearer $OWNER_TOKEN"

run_wrk trivial_before "$BASE/api/agent-harnesses" -s "$BENCH/get.lua"

run_wrk ask_access "$BASE/$REPO/ask-access" \
  -s "$BENCH/ask.lua" -- "/$REPO/ask-access" "$WORK/tokens.txt" "$THREADS"
ask_line=$(grep '^ASK ' "$WORK/wrk-ask_access.txt")
sent=$(sed -E 's/.*distinct_tokens_sent=([0-9]+).*/\1/' <<<"$ask_line")
if [[ $ask_line == *exhausted=1* ]]; then
  echo "ask-access ran out of distinct users ($USERS): run again with more USERS" >&2
  exit 1
fi
# Every answered ask made a request, and no user asked twice: the store holds between the answered
# asks and the distinct tokens sent (the last few were in flight when wrk stopped).
stored=$(($(curl -sf --max-time 300 "$BASE/api/models/$REPO/user-access-request/report?format=csv" \
  -H "Authorization: Bearer $OWNER_TOKEN" | wc -l) - 1))
echo "  distinct users sent: $sent of $USERS; requests stored: $stored"
if ((stored < REQS[ask_access] || stored > sent)); then
  echo "ask-access: $stored requests stored for ${REQS[ask_access]} answered asks" >&2
  exit 1
fi

page=$(curl -sf --max-time 60 "$BASE/api/models/$REPO/user-access-request/pending" -H "Authorization: Bearer $OWNER_TOKEN" |
  python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
echo "== the pending listing's first page holds $page requests (of $stored pending)"
run_wrk pending_page "$BASE/api/models/$REPO/user-access-request/pending" \
  -H "Authorization: Bearer $OWNER_TOKEN" -s "$BENCH/get.lua"

run_wrk trivial_after "$BASE/api/agent-harnesses" -s "$BENCH/get.lua"

peak=$(peak_rss_mib)
stop_server

print_results "$peak" trivial_before ask_access pending_page trivial_after
