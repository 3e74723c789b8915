#!/usr/bin/env bash
# Init time of every Lambda function under functions/, side by side with an empty
# `lambda_runtime` function (tests/bench/empty-function) built the same way: each run is a fresh
# process started against a small Lambda Runtime API emulator (tests/bench/runtime_api.py) with
# the environment Lambda gives and one event that fits the function, timed from the spawn to its
# first GET .../invocation/next (init done) and to the end of its first answer. Empty and
# function runs alternate, so machine noise hits both; the figures are the medians, the p90s
# and each function's ratio to the empty runs interleaved with it. The functions reach DynamoDB
# Local through a relay of the emulator's that times the wait on it, so that the first answer's
# own time shows apart from the emulator's (a JVM on the same cores, far slower than DynamoDB).
# Extra rows: the empty function against itself (the noise floor), the empty function on tokio's
# single-threaded runtime (the functions' runtime; tests/bench/empty-function/src/current_thread.rs),
# and whoami with the system's TLS roots instead of the built-in ones (SSL_CERT_FILE: one bundle
# file; none).
#
# usage: tests/bench/lambda-init.sh            (from any directory)
# env:   RUNS (20): timed runs of each function (and as many of the empty function beside them)
#        TARGET (1.5): the init ratio the issue sets; FAIL_OVER=1 fails the script above it
#        SKIP_BUILD=1 uses the binaries already built; KEEP=1 keeps the temp dir (logs, cases,
#        every run's times in results.json); CA_BUNDLE (/etc/ssl/certs/ca-certificates.crt)
#        CARGO_TARGET_DIR (default target/lambda-host)
#
# The binaries are built for this host (x86_64: arm64 cannot run here) with the size settings
# the Lambda builds use (opt-level s, fat LTO, one codegen unit, stripped): the workspace's
# `lambda` profile if Cargo.toml has one, else the release profile with those settings set by
# CARGO_PROFILE_RELEASE_* (today they are the release profile's own; set anyway, so the figures
# keep measuring them), in their own target dir so target/release is never rebuilt. The
# functions read and write DynamoDB Local: the running one if target/emulators/run/env points at
# one that answers, else one that tests/emulators/start starts and tests/emulators/stop stops.
# A fresh table is created, seeded with the `gatehouse` admin commands, and deleted on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-20}
TARGET=${TARGET:-1.5}
EMU_ENV="$ROOT/target/emulators/run/env"
GATEHOUSE="$ROOT/target/debug/gatehouse"
TABLE="lambda-init-$(date +%s)-$$"
REPO=owner/gated

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-lambda-init.XXXXXX")
STARTED_EMULATORS=0
TABLE_CREATED=0

# DynamoDB Local's API, unsigned-but-accepted (as tests/emulators/start probes it).
ddb() { # TARGET_ACTION JSON
  python3 - "$AWS_ENDPOINT_URL_DYNAMODB" "$1" "$2" <<'PY'
import sys, urllib.request
url, action, body = sys.argv[1:]
req = urllib.request.Request(url + "/", data=body.encode(), headers={
    "X-Amz-Target": "DynamoDB_20120810." + action,
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"})
sys.stdout.write(urllib.request.urlopen(req, timeout=5).read().decode())
PY
}

cleanup() {
  local status=$?
  if ((TABLE_CREATED)) && [[ $STARTED_EMULATORS == 0 ]]; then
    ddb DeleteTable "{\"TableName\": \"$TABLE\"}" >/dev/null 2>&1 || true
  fi
  if ((STARTED_EMULATORS)); then "$ROOT/tests/emulators/stop" || true; fi
  if [[ ${KEEP:-0} == 1 || $status != 0 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- the binaries
packages=()
functions=()
for manifest in "$ROOT"/functions/*/Cargo.toml; do
  packages+=(-p "$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -1)")
  functions+=("$(basename "$(dirname "$manifest")")")
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/lambda-host}"
if grep -q '^\[profile\.lambda\]' "$ROOT/Cargo.toml"; then
  profile=(--profile lambda)
  OUT="$CARGO_TARGET_DIR/lambda"
else
  # The Lambda size settings (tests/infra/lambda-build.sh, `sam build`).
  export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
  export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-fat}"
  export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}"
  export CARGO_PROFILE_RELEASE_STRIP="${CARGO_PROFILE_RELEASE_STRIP:-true}"
  profile=(--release)
  OUT="$CARGO_TARGET_DIR/release"
fi
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  echo "== building ${#functions[@]} functions and the empty function for the host" \
    "(${profile[*]}, ${CARGO_TARGET_DIR#"$ROOT"/})"
  t0=$(now)
  (cd "$ROOT" && cargo build --quiet "${profile[@]}" "${packages[@]}" -p gatehouse-bench-empty-function)
  echo "built in $(elapsed "$t0" "$(now)") s"
  echo "== building the gatehouse admin binary (debug)"
  (cd "$ROOT" && env -u CARGO_TARGET_DIR cargo build --quiet -p gatehouse)
fi
for binary in "${functions[@]}" empty-function empty-function-current-thread; do
  [[ -x $OUT/$binary ]] || { echo "no $OUT/$binary: build it first (without SKIP_BUILD)" >&2; exit 1; }
done
[[ -x $GATEHOUSE ]] || { echo "no $GATEHOUSE: run 'cargo build -p gatehouse'" >&2; exit 1; }
echo "== $(machine_line)"
echo "binary sizes: $(for b in empty-function empty-function-current-thread "${functions[@]}"; do printf '%s %s  ' "$b" "$(stat -c %s "$OUT/$b")"; done)"

# ---------------------------------------------------------------- DynamoDB Local
ddb_answers() { [[ -n ${AWS_ENDPOINT_URL_DYNAMODB:-} ]] && ddb ListTables '{}' 2>/dev/null | grep -q TableNames; }
if [[ -f $EMU_ENV ]] && (source "$EMU_ENV" && ddb_answers); then
  echo "== using the running DynamoDB Local ($EMU_ENV)"
else
  echo "== starting the emulators (tests/emulators/start)"
  STARTED_EMULATORS=1
  "$ROOT/tests/emulators/start" >"$WORK/emulators.log"
fi
# shellcheck disable=SC1090
source "$EMU_ENV"
ddb_answers || { echo "DynamoDB Local does not answer at $AWS_ENDPOINT_URL_DYNAMODB" >&2; exit 1; }

# ---------------------------------------------------------------- the table and its data
CURSOR_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
SESSION_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
admin() { "$GATEHOUSE" --data-dir "$WORK/data" --store dynamodb --table "$TABLE" --cursor-key "$CURSOR_KEY" "$@"; }
echo "== table $TABLE: an owner with a write token, a requester with a read token, a grantee, a gated manual repo $REPO with a README"
TABLE_CREATED=1
admin --create-table user add owner --email owner@example.com >/dev/null
admin user add requester --email requester@example.com >/dev/null
admin user add grantee --email grantee@example.com >/dev/null
OWNER_TOKEN=$(admin token create owner --name bench --role write)
READ_TOKEN=$(admin token create requester --name bench)
admin repo create "$REPO" --gated manual >/dev/null
printf '# A gated model\n' >"$WORK/README.md"
admin repo readme "$REPO" "$WORK/README.md" >/dev/null

# ---------------------------------------------------------------- the cases
# Each function's first event, and what it must answer. Every run is a fresh process on the
# same table, so the events that change state go round: within one round (functions in
# alphabetical order) the requester asks (pending), reads their request, and withdraws it; the
# owner grants the grantee access (-> accepted) and then moves the request back to pending.
export OUT TABLE CURSOR_KEY SESSION_KEY OWNER_TOKEN READ_TOKEN REPO
python3 - "$WORK/cases.json" "${functions[@]}" <<'PY'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
e = os.environ
repo, bin_dir = e["REPO"], e["OUT"]
owner = {"authorization": f"Bearer {e['OWNER_TOKEN']}"}
reader = {"authorization": f"Bearer {e['READ_TOKEN']}"}
api = f"/api/models/{repo}"
requests = f"{api}/user-access-request"

def http(method, path, headers=None, body=None, query=""):
    spec = {"method": method, "path": path, "headers": headers or {}}
    if body is not None:
        spec["body"] = body
    if query:
        spec["query"] = query
    return {"http": spec, "expect": {"status": 200}}

events = {
    "access-report": http("GET", f"{requests}/report", owner, query="format=csv"),
    "agent-harnesses": http("GET", "/api/agent-harnesses"),
    "ask-access": http("POST", f"/{repo}/ask-access", reader, {"fields": {}}),
    "auth-check": http("GET", f"{api}/auth-check", owner),
    "auth-check-write": http("GET", f"{api}/auth-check/write", owner),
    "daily-digest": {"event": {"scheduledTime": "2026-01-01T06:00:00Z"}, "expect": {"json": None}},
    # Behind CloudFront: a function URL event, the viewer's token in x-viewer-authorization.
    # HEAD, as huggingface_hub asks first: its answer comes from the table alone.
    # The template gives it the blob bucket (a HEAD never reads it).
    "edge-worker": dict(http("HEAD", f"/{repo}/resolve/main/README.md",
                             {"x-viewer-authorization": owner["authorization"]}),
                        env={"BLOB_BUCKET": "lambda-init-bench"}),
    "grant-access": http("POST", f"{requests}/grant", owner, {"user": "grantee"}),
    "handle-request": http("POST", f"{requests}/handle", owner, {"user": "grantee", "status": "pending"}),
    "list-requests": http("GET", f"{requests}/pending", owner),
    "list-tree": http("GET", f"{api}/tree/main", owner),
    "own-request": http("GET", f"{requests}/me", reader),
    "repo-info": http("GET", api, reader),
    "repo-page": http("GET", f"/{repo}", owner),
    "repo-settings": http("GET", f"/{repo}/settings", owner),
    # Its init, and an empty batch: the events it publishes go to EventBridge, not measured here.
    "request-changes": {"event": {"Records": []}, "expect": {"json": {"batchItemFailures": []}},
                        "env": {"EVENT_BUS": "lambda-init-bench"}},
    "sign-in": http("GET", "/login"),
    "revision-info": http("GET", f"{api}/revision/main", owner),
    # Its init, and an empty batch: an alert's mail goes to SES, not measured here.
    "stream-alerts": {"event": {"Records": []}, "expect": {"json": {"batchItemFailures": []}}},
    "update-settings": http("PUT", f"{api}/settings", owner, {"gated": "manual"}),
    "whoami": http("GET", "/api/whoami-v2", reader),
    "withdraw-request": http("POST", f"{requests}/cancel", reader),
}
missing = [n for n in names if n not in events]
if missing:
    sys.exit(f"lambda-init.sh has no event for {', '.join(missing)}: add one to its cases")
env = {k: e[k] for k in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                         "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB")}
env.update({
    "AWS_ACCESS_KEY": e["AWS_ACCESS_KEY_ID"],
    "AWS_SESSION_TOKEN": "bench-session-token",  # Lambda's role credentials have one
    "TABLE_NAME": e["TABLE"],
    "CURSOR_KEY": e["CURSOR_KEY"],
    "SESSION_KEY": e["SESSION_KEY"],
    # The notification functions' (the template sets them on those alone; the others ignore them).
    "MAIL_FROM": "gatehouse <noreply@example.com>",
    "PUBLIC_URL": "https://hub.example.com",
})
if e.get("AWS_ENDPOINT_URL"):
    env["AWS_ENDPOINT_URL"] = e["AWS_ENDPOINT_URL"]  # moto, for SES
empty = {"name": "empty-function", "binary": f"{bin_dir}/empty-function",
         "http": {"method": "GET", "path": "/api/whoami-v2", "headers": reader},
         "expect": {"echo": True}}
# The empty function measured as a function too: the ratio an identical binary gets, the noise floor.
control = dict(empty, name="empty-function-control")
# The same empty function on tokio's single-threaded runtime, as the functions run: against the
# baseline, what the runtime flavor alone saves; the functions' ratios over it, their own start-up.
current_thread = dict(empty, name="empty-function-current-thread",
                      binary=f"{bin_dir}/empty-function-current-thread")
cases = [control, current_thread] + [dict(events[n], name=n, binary=f"{bin_dir}/{n}") for n in names]
# What the TLS root certificates cost. The functions trust the five Amazon Trust Services roots
# built in (shared/src/lambda/sdk.rs); SSL_CERT_FILE is the operator's opt-out to the system's
# roots (rustls-native-certs). whoami again, with SSL_CERT_FILE naming one bundle file, then an
# empty one (no roots at all).
if "whoami" in names:
    whoami = dict(events["whoami"], binary=f"{bin_dir}/whoami")
    bundle = e.get("CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    if os.path.isfile(bundle):
        cases.append(dict(whoami, name="whoami+bundle-roots-only", env={"SSL_CERT_FILE": bundle}))
    cases.append(dict(whoami, name="whoami+no-roots", env={"SSL_CERT_FILE": "/dev/null"}))
with open(out, "w") as f:
    json.dump({"env": env, "baseline": empty, "functions": cases}, f, indent=1)
PY

echo "== $RUNS rounds: each function beside a run of the empty function, alternating which goes first"
args=(bench "$WORK/cases.json" --runs "$RUNS" --target "$TARGET" --json "$WORK/results.json" --logs "$WORK/logs")
[[ ${FAIL_OVER:-0} == 1 ]] && args+=(--fail-over)
python3 "$BENCH/runtime_api.py" "${args[@]}"
echo "== $(machine_line)"
