#!/usr/bin/env bash
# The access report streamed with flat memory: a gated repo seeded with 10,000 and then 100,000
# pending requests (one user each), its CSV and JSON reports downloaded with curl, the row counts
# checked, each download timed, and the server's peak RSS (VmHWM) printed after seeding (before
# any download) and after the downloads. The seeding process holds the whole parsed seed, so its
# peak says nothing about the report: the server is restarted on the seeded data dir, and that
# fresh process's peak is read before and after the downloads.
#
# usage: tests/bench/report.sh          (from any directory)
# env:   SIZES ("10000 100000"), KEEP=1 keeps the temp dir
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${SIZES:-10000 100000}
REPO=owner/gated
OWNER_TOKEN=hf_bench_owner_write_token

use_workdir report

build_release
echo "== $(machine_line)"

# download FORMAT FILE: prints "SECONDS BYTES" of one report download; fails on a non-200.
download() {
  local out
  out=$(curl -s --max-time 600 -o "$2" -w '%{http_code} %{time_total} %{size_download}' \
    -H "Authorization: Bearer $OWNER_TOKEN" \
    "$BASE/api/models/$REPO/user-access-request/report?format=$1")
  if [[ ${out%% *} != 200 ]]; then
    echo "the $1 report answered ${out%% *}" >&2
    exit 1
  fi
  echo "${out#* }"
}

declare -a ROWS
for n in $SIZES; do
  echo "== $n requests"
  dir="$WORK/$n"
  mkdir -p "$dir"
  t0=$(now)
  python3 "$BENCH/gen_seed.py" "$dir/seed.yaml" --users "$n" --requests "$n"
  echo "seed file written in $(elapsed "$t0" "$(now)") s ($(wc -c <"$dir/seed.yaml") bytes)"
  start_server "$dir/data" "$dir/server.log" "$dir/seed.yaml"
  transactions=$((2 * n + 4)) # users and requests, plus the owner, their token, the repo, its commit
  seed_s=$SEED_SECONDS
  echo "seed loaded in $SEED_SECONDS s: $transactions write transactions," \
    "$(python3 -c "print(f'{$SEED_SECONDS * 1e6 / $transactions:.0f}')") us each; server at $BASE (pid $SERVER_PID)"
  seeding_peak=$(peak_rss_mib)
  echo "peak RSS of the seeding process: $seeding_peak MiB"
  stop_server
  start_server "$dir/data" "$dir/server.log"
  seeded_peak=$(peak_rss_mib)
  echo "restarted on the seeded data in $SEED_SECONDS s (pid $SERVER_PID);" \
    "peak RSS before any download: $seeded_peak MiB"

  read -r csv_s csv_bytes < <(download csv "$dir/report.csv")
  csv_lines=$(wc -l <"$dir/report.csv")
  echo "csv:  $csv_lines lines (expected $((n + 1))), $csv_bytes bytes in $csv_s s"
  read -r json_s json_bytes < <(download json "$dir/report.json")
  json_rows=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$dir/report.json")
  echo "json: $json_rows rows (expected $n), $json_bytes bytes in $json_s s"
  after_peak=$(peak_rss_mib)
  echo "peak RSS after the downloads: $after_peak MiB (RSS now $(rss_mib) MiB)"
  stop_server

  if ((csv_lines != n + 1 || json_rows != n)); then
    echo "the reports do not hold one row per request" >&2
    exit 1
  fi
  ROWS+=("$(printf '%-9s %8s %11s %10s %11s %8s %11s %8s %12s %12s %12s' "$n" "$seed_s" \
    "$seeding_peak" "$csv_lines" "$csv_bytes" "$csv_s" "$json_bytes" "$json_s" "$seeded_peak" \
    "$after_peak" "$(python3 -c "print(f'{$after_peak - $seeded_peak:+.1f}')")")")
  rm -rf "$dir/data" "$dir/report.csv" "$dir/report.json"
done

echo
echo "== results"
printf '%-9s %8s %11s %10s %11s %8s %11s %8s %12s %12s %12s\n' requests 'seed s' 'seed MiB' \
  'csv lines' 'csv bytes' 'csv s' 'json bytes' 'json s' 'before MiB' 'after MiB' 'delta MiB'
printf '%s\n' "${ROWS[@]}"
echo "(seed MiB: peak RSS of the seeding process; before/after MiB: peak RSS (VmHWM) of the"
echo " restarted server before any download and after both; delta: what the downloads added)"
