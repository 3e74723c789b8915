#!/usr/bin/env python3
"""A small Lambda Runtime API emulator, and the runner of tests/bench/lambda-init.sh on it.

The emulator serves what the `lambda_runtime` crate calls, as the Lambda service does:

  GET  /2018-06-01/runtime/invocation/next            one queued event, then a long poll
  POST /2018-06-01/runtime/invocation/{id}/response   buffered (Content-Length) or streamed
                                                      (Transfer-Encoding: chunked, trailers)
  POST /2018-06-01/runtime/invocation/{id}/error
  POST /2018-06-01/runtime/init/error

The runner starts a function's binary as a fresh process with the environment Lambda gives
(built from nothing, not inherited), serves it one event and times, from just before the spawn:

  init      the first GET .../invocation/next (the runtime is ready: init is over)
  answered  the end of the first response's body (for a streamed response, its last chunk)

then SIGKILLs the process by its PID (Lambda freezes a finished sandbox; nothing here waits for a
graceful exit) and reaps it. When the environment names a plain-HTTP AWS_ENDPOINT_URL_DYNAMODB
(DynamoDB Local), the function reaches it through a relay that counts the requests and times the
wait on each answer, so "answered minus wait" is the first invocation's own time. Each run gets
its own Runtime API port and relay: nothing a killed process left on the wire reaches the next.
Every run is checked: the answer must be what the case expects (an HTTP status, a JSON value, or
the event echoed), else the run fails and the bench stops.

    runtime_api.py bench CASES.json [--runs N] [--json OUT]   the interleaved benchmark
    runtime_api.py once CASES.json NAME                       one run of one case, its answer shown

CASES.json (tests/bench/lambda-init.sh writes it):

    {"env": {...common environment...},
     "baseline": CASE,
     "functions": [CASE, ...]}
    CASE = {"name", "binary", "env"?: {...}, "event"?: JSON, "http"?: HTTP,
            "expect": {"status": 200} | {"json": VALUE} | {"echo": true}}
    HTTP = {"method", "path", "query"?, "headers"?, "body"?}: an API Gateway HTTP API
           (payload 2.0) event, the shape function URLs send too.

`bench` runs, for each of N rounds (plus one unrecorded warm-up round, which also checks every
answer before anything is timed), every function in the order given, each next to a run of the
baseline: baseline then function in odd rounds, function then baseline in even ones, so machine
noise and cache effects hit both. A function's ratio is its median over the median of the
baseline runs paired with it. Standard library only.
"""

import argparse
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
RUN_TIMEOUT_S = 30.0
ACCOUNT = "123456789012"


def now_ns():
    return time.perf_counter_ns()


class Run:
    """One process's invocation: its event and what happened to it, with monotonic times."""

    def __init__(self, name, event):
        self.name = name
        self.request_id = str(uuid.uuid4())
        self.event = json.dumps(event).encode()
        self.started_ns = None
        self.init_ns = None  # the first /next
        self.answered_ns = None  # the end of the response (or error) body
        self.delivered = False
        self.outcome = None  # "response" | "error" | "init-error"
        self.body = b""
        self.headers = {}
        self.trailers = {}
        self.done = threading.Event()  # the invocation ended (answered, or failed)
        self.over = threading.Event()  # the process is gone: long polls may return


class RuntimeApi(ThreadingHTTPServer):
    """The Runtime API of one sandbox, for one run: on its own port, so a killed process's
    last request (its next long poll, already on the wire) never reaches the next run's API."""

    daemon_threads = True

    def __init__(self, run):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.run = run
        self.thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self):
        self.run.over.set()  # releases the long polls
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        # A killed function drops its connections: that is how every run ends, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def address(self):
        host, port = self.server_address[:2]
        return f"{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with keep-alive, as the Runtime API: every answer has a Content-Length.
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet, unless RUNTIME_API_DEBUG is set
        if os.environ.get("RUNTIME_API_DEBUG"):
            sys.stderr.write(f"{time.monotonic():.3f} {self.address_string()} {fmt % args}\n")

    def reply(self, status, payload=None, headers=None):
        body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        """The request body, buffered or chunked, and the chunked body's trailers."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data, trailers = bytearray(), {}
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("the chunked body ended early")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    break
                data += self.rfile.read(size)
                self.rfile.readline()  # the chunk's CRLF
            while True:  # trailers, then the empty line
                line = self.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                trailers[key.strip().lower()] = value.strip()
            return bytes(data), trailers
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length), {}

    def do_GET(self):
        at = now_ns()
        server = self.server
        if self.path != f"{PREFIX}/invocation/next":
            self.reply(404, {"errorMessage": f"no such path {self.path}"})
            return
        run = server.run
        with server.lock:
            if run.init_ns is None:
                run.init_ns = at
            first = not run.delivered
            run.delivered = True
        if not first:
            # The next event never comes: a long poll until the runner ends the process.
            run.over.wait(RUN_TIMEOUT_S * 2)
            self.close_connection = True
            return
        self.send_event(run, int(time.time() * 1000) + 900_000)

    def send_event(self, run, deadline_ms):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(run.event)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", run.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline_ms))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{run.name}",
        )
        self.send_header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
        )
        self.end_headers()
        self.wfile.write(run.event)

    def do_POST(self):
        server = self.server
        try:
            body, trailers = self.read_body()
        except (ConnectionError, ValueError) as error:
            self.close_connection = True
            run = server.run
            if not run.done.is_set():
                run.outcome = f"broken body: {error}"
                run.done.set()
            return
        at = now_ns()
        run = server.run
        match = re.fullmatch(rf"{PREFIX}/invocation/([^/]+)/(response|error)", self.path)
        if self.path == f"{PREFIX}/init/error":
            outcome = "init-error"
        elif match and match.group(1) == run.request_id:
            outcome = match.group(2)
        elif match:
            self.reply(400, {"errorMessage": "unknown request id", "errorType": "InvalidRequestID"})
            return
        else:
            self.reply(404, {"errorMessage": f"no such path {self.path}"})
            return
        # Accepted first, then the run is over: the runner kills the process once `done` is set.
        self.reply(202, {"status": "OK"})
        if not run.done.is_set():
            run.answered_ns = at
            run.outcome = outcome
            run.body = body
            run.headers = {k.lower(): v for k, v in self.headers.items()}
            run.trailers = trailers
            run.done.set()


class UpstreamProxy:
    """A TCP relay in front of DynamoDB Local, for one run: it counts the requests and the time
    spent waiting on DynamoDB Local (from a request's last byte sent to the first byte of its
    answer), so that the first invocation's own time can be told from the emulator's, which is
    a JVM on the same two cores and much slower than DynamoDB is."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.lock = threading.Lock()
        self.requests = 0
        self.wait_ns = 0
        self.sockets = [self.sock]
        threading.Thread(target=self.accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
                upstream = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                return
            upstream.settimeout(None)
            for conn in (client, upstream):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.sockets += [client, upstream]
            state = {"sent_ns": None}
            for src, dst, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self.pump, args=(src, dst, state, up), daemon=True).start()

    def pump(self, src, dst, state, to_upstream):
        try:
            while data := src.recv(65536):
                at = now_ns()
                if to_upstream:
                    state["sent_ns"] = at
                else:
                    with self.lock:
                        if state["sent_ns"] is not None:
                            self.requests += 1
                            self.wait_ns += at - state["sent_ns"]
                            state["sent_ns"] = None
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (src, dst):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        with self.lock:
            for conn in self.sockets:
                conn.close()


# ---------------------------------------------------------------------------- events


def http_event(spec, name):
    """An API Gateway HTTP API payload 2.0 event (function URLs send the same shape)."""
    method = spec.get("method", "GET")
    path = spec["path"]
    query = spec.get("query", "")
    headers = {
        "accept": "*/*",
        "host": "bench.execute-api.us-east-1.amazonaws.com",
        "user-agent": "lambda-init-bench",
        "x-forwarded-proto": "https",
    }
    headers.update({k.lower(): v for k, v in spec.get("headers", {}).items()})
    body = spec.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        headers.setdefault("content-type", "application/json")
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "bench",
            "domainName": headers["host"],
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": headers["user-agent"],
            },
            "requestId": f"{name}-{uuid.uuid4().hex[:12]}",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(
            pair.split("=", 1) if "=" in pair else (pair, "") for pair in query.split("&")
        )
    if body is not None:
        event["body"] = body
    return event


def case_event(case):
    if "http" in case:
        return http_event(case["http"], case["name"])
    return case.get("event", {})


# ---------------------------------------------------------------------------- checks


def answer_of(run):
    """(status, JSON value or None, text) of a run's response."""
    body = run.body
    if run.headers.get("lambda-runtime-function-response-mode") == "streaming":
        prelude, sep, rest = body.partition(b"\0" * 8)
        if not sep:
            return None, None, body[:300].decode("utf-8", "replace")
        meta = json.loads(prelude)
        return meta.get("statusCode"), None, rest[:300].decode("utf-8", "replace")
    text = body.decode("utf-8", "replace")
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return None, None, text[:300]
    status = value.get("statusCode") if isinstance(value, dict) else None
    return status, value, text[:300]


def check(case, run, event):
    """None when the answer is the one expected, else what is wrong."""
    if run.outcome != "response":
        return f"{run.outcome}: {run.body[:500].decode('utf-8', 'replace')}"
    if run.trailers.get("lambda-runtime-function-error-type"):
        return f"streamed error: {run.trailers}"
    status, value, text = answer_of(run)
    expect = case["expect"]
    if "status" in expect and status != expect["status"]:
        return f"status {status}, expected {expect['status']}: {text}"
    if "json" in expect and value != expect["json"]:
        return f"answer {text!r}, expected {json.dumps(expect['json'])}"
    if expect.get("echo") and value != event:
        return f"the event was not echoed: {text}"
    return None


# ---------------------------------------------------------------------------- runs


def lambda_env(common, case, api):
    """The environment a Lambda sandbox gives, from nothing (nothing of the caller's leaks in)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": os.path.dirname(case["binary"]),
        "LAMBDA_RUNTIME_DIR": os.path.dirname(case["binary"]),
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": case["name"],
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{case['name']}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    env.update(common)
    env.update(case.get("env", {}))
    return env


class Runner:
    def __init__(self, cases, logdir, proxy=True):
        self.common = cases.get("env", {})
        self.logdir = logdir
        endpoint = self.common.get("AWS_ENDPOINT_URL_DYNAMODB", "")
        match = re.fullmatch(r"http://([^:/]+):(\d+)/?", endpoint)
        self.upstream = (match.group(1), int(match.group(2))) if (proxy and match) else None

    def run(self, case):
        """One fresh process, one event: a dict of the times (ms) and its max RSS (KiB)."""
        event = case_event(case)
        run = Run(case["name"], event)
        api = RuntimeApi(run)
        env = lambda_env(self.common, case, api.address)
        proxy = UpstreamProxy(self.upstream) if self.upstream else None
        if proxy:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.url
        log_path = os.path.join(self.logdir, f"{case['name']}.log")
        with open(log_path, "ab") as log:
            run.started_ns = now_ns()
            proc = subprocess.Popen(
                [case["binary"]],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=env["LAMBDA_TASK_ROOT"],
            )
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while not run.done.wait(0.05):
                if proc.poll() is not None:
                    run.done.wait(0.2)  # an answer may still be landing
                    if not run.done.is_set():
                        run.outcome = f"exited with {proc.returncode} before answering"
                    break
                if time.monotonic() > deadline:
                    run.outcome = f"no answer within {RUN_TIMEOUT_S:.0f} s"
                    break
        finally:
            rss_kib = self.stop(proc)
            api.close()
            if proxy:
                proxy.close()
        problem = check(case, run, event)
        if problem:
            with open(log_path, "rb") as log:
                tail = log.read()[-3000:].decode("utf-8", "replace")
            raise RuntimeError(f"{case['name']}: {problem}\n--- its log ({log_path}):\n{tail}")
        answered_ms = (run.answered_ns - run.started_ns) / 1e6
        wait_ms = proxy.wait_ns / 1e6 if proxy else 0.0
        return {
            "init_ms": (run.init_ns - run.started_ns) / 1e6,
            "answered_ms": answered_ms,
            "dynamodb_requests": proxy.requests if proxy else 0,
            "dynamodb_wait_ms": wait_ms,
            "own_ms": answered_ms - wait_ms,
            "maxrss_kib": rss_kib,
        }

    @staticmethod
    def stop(proc):
        """Its peak RSS (VmHWM, KiB: of the binary's own image, unlike the rusage of a child
        that Python spawned, which counts Python), then SIGKILL by PID, and reaped."""
        peak = None
        if proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peak = int(line.split()[1])
            except OSError:
                pass
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        return peak


# ---------------------------------------------------------------------------- figures


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]  # nearest rank


KEYS = ("init_ms", "answered_ms", "dynamodb_requests", "dynamodb_wait_ms", "own_ms", "maxrss_kib")


def stats(runs):
    row = {}
    for key in KEYS:
        values = [r[key] for r in runs if r[key] is not None]
        row[key] = {"median": statistics.median(values), "p90": p90(values)} if values else None
    return row


def summarize(results, baseline_name):
    """The baseline over all its runs, and per function its figures and its ratios to the
    baseline runs interleaved with it: init to init, answered to answered, and its own time
    (answered minus the wait on DynamoDB Local) to the baseline's answered."""
    rows = []
    for name, pairs in results.items():
        row = {"name": name, "runs": len(pairs), **stats([p["function"] for p in pairs])}
        base = stats([p["baseline"] for p in pairs])
        row["baseline"] = base
        row["ratio"] = {
            "init": row["init_ms"]["median"] / base["init_ms"]["median"],
            "answered": row["answered_ms"]["median"] / base["answered_ms"]["median"],
            "own": row["own_ms"]["median"] / base["answered_ms"]["median"],
        }
        rows.append(row)
    every_base = [p["baseline"] for pairs in results.values() for p in pairs]
    return {"name": baseline_name, "runs": len(every_base), **stats(every_base)}, rows


def print_table(base_row, rows, target):
    print(
        "| Function | Init median ms | Init p90 ms | Init ratio | Answered median ms "
        "| Answered p90 ms | DynamoDB requests | DynamoDB Local wait ms | Answered - wait ms "
        "| (Answered - wait) ratio | Peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def cells(row, ratio=None):
        m = lambda key: row[key]["median"]  # noqa: E731
        rss = f"{m('maxrss_kib') / 1024:.1f}" if row["maxrss_kib"] else "-"
        r = ratio or {"init": 1, "own": 1}
        flag = " **" if r["init"] > target else ""
        return (
            f"{m('init_ms'):.2f} | {row['init_ms']['p90']:.2f} | {r['init']:.2f}{flag} | "
            f"{m('answered_ms'):.2f} | {row['answered_ms']['p90']:.2f} | "
            f"{m('dynamodb_requests'):g} | {m('dynamodb_wait_ms'):.2f} | {m('own_ms'):.2f} | "
            f"{r['own']:.2f} | {rss}"
        )

    print(f"| {base_row['name']} (all {base_row['runs']} runs) | {cells(base_row)} |")
    for row in rows:
        print(f"| {row['name']} | {cells(row, row['ratio'])} |")
    over = [row["name"] for row in rows if row["ratio"]["init"] > target]
    print()
    print(
        "Medians and nearest-rank p90s. Init: start -> first GET /next. Answered: start -> the end "
        "of the first answer. Ratios: the function's median over the median of the empty-function "
        f"runs interleaved with it (for 'answered - wait', over their answered median). Target for "
        f"init: <= {target}; ** marks a function over it."
    )
    print(f"over the target (init): {', '.join(over)}" if over else "every function's init is within the target")
    return over


def bench(args):
    with open(args.cases) as f:
        cases = json.load(f)
    baseline, functions = cases["baseline"], cases["functions"]
    logdir = args.logs or tempfile.mkdtemp(prefix="lambda-init-logs.")
    os.makedirs(logdir, exist_ok=True)
    runner = Runner(cases, logdir, proxy=not args.no_dynamodb_proxy)
    results = {case["name"]: [] for case in functions}
    print(f"warm-up round (not recorded; checks every answer), logs in {logdir}", flush=True)
    runner.run(baseline)
    for case in functions:
        runner.run(case)
        print(f"  {case['name']}: ok", flush=True)
    for round_no in range(1, args.runs + 1):
        for case in functions:
            if round_no % 2:
                base = runner.run(baseline)
                fn = runner.run(case)
            else:
                fn = runner.run(case)
                base = runner.run(baseline)
            results[case["name"]].append({"function": fn, "baseline": base})
        print(f"round {round_no}/{args.runs} done", flush=True)
    base_row, rows = summarize(results, baseline["name"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"baseline": base_row, "functions": rows, "raw": results}, f, indent=1)
    print()
    over = print_table(base_row, rows, args.target)
    return 3 if (over and args.fail_over) else 0


def once(args):
    with open(args.cases) as f:
        cases = json.load(f)
    every = [cases["baseline"], *cases["functions"]]
    case = next((c for c in every if c["name"] == args.name), None)
    if case is None:
        sys.exit(f"no case named {args.name}")
    logdir = tempfile.mkdtemp(prefix="lambda-init-once.")
    runner = Runner(cases, logdir)
    result = runner.run(case)
    print(json.dumps(result))
    with open(os.path.join(logdir, f"{case['name']}.log")) as f:
        sys.stdout.write(f.read())
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="the interleaved benchmark")
    b.add_argument("cases")
    b.add_argument("--runs", type=int, default=20)
    b.add_argument("--json", help="write the figures and every run's times here")
    b.add_argument("--logs", help="the functions' logs go here (default: a temp dir)")
    b.add_argument("--target", type=float, default=1.5)
    b.add_argument(
        "--no-dynamodb-proxy",
        action="store_true",
        help="point the functions at AWS_ENDPOINT_URL_DYNAMODB itself, not through the timing relay",
    )
    b.add_argument("--fail-over", action="store_true", help="exit 3 when a function is over target")
    o = sub.add_parser("once", help="one run of one case, its times and its log")
    o.add_argument("cases")
    o.add_argument("name")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        return bench(args) if args.command == "bench" else once(args)
    except RuntimeError as error:
        print(f"runtime_api: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
