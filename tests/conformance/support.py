"""Shared state for the gatehouse conformance suite.

Importing this module (conftest.py does it first) picks the server's port and sets the client
environment (HF_ENDPOINT, HF_HOME, ...) *before* huggingface_hub is imported anywhere, because the
client reads HF_ENDPOINT once, at import time (hf-wire.md §1.1).

It also holds the seed (users, orgs, tokens, repos, requests), token constants, and small helpers
for raw HTTP checks. Each test module works on its own repos so modules are independent.
"""

from __future__ import annotations

import json as _json
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

# --------------------------------------------------------------------------------------------
# Environment: must run before `import huggingface_hub`.
# --------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SESSION_TMP = Path(tempfile.mkdtemp(prefix="gatehouse-conformance-"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
EP = f"http://127.0.0.1:{PORT}"
HF_HOME = SESSION_TMP / "hf_home"
HF_HOME.mkdir(parents=True, exist_ok=True)

if "huggingface_hub" in sys.modules:  # pragma: no cover - guard against misuse
    raise RuntimeError("huggingface_hub was imported before the conformance environment was set")

CLIENT_ENV = {
    "HF_ENDPOINT": EP,
    "HF_HOME": str(HF_HOME),
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
os.environ.update(CLIENT_ENV)
for _var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
    os.environ.pop(_var, None)

import httpx2  # noqa: E402  (a dependency of huggingface_hub 2.4.0)

GATEHOUSE_BIN = Path(os.environ.get("GATEHOUSE_BIN") or ROOT / "target" / "debug" / "gatehouse")
if not GATEHOUSE_BIN.is_absolute():
    GATEHOUSE_BIN = (ROOT / GATEHOUSE_BIN).resolve()

# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX24_RE = re.compile(r"^[0-9a-f]{24}$")
HEX40_RE = re.compile(r"^[0-9a-f]{40}$")

# --------------------------------------------------------------------------------------------
# Users and tokens
# --------------------------------------------------------------------------------------------


def tok(user: str, role: str = "read") -> str:
    """Deterministic token value for a seeded user (20–200 printable ASCII chars)."""
    if user == "owner" and role == "write":
        return "hf_owner_write_000000"
    return f"hf_{role}_{user}_" + "x" * 12


def tok_name(user: str, role: str) -> str:
    if user == "owner" and role == "write":
        return "ci-token"
    return f"{user}-{role}"


OWNER_W = tok("owner", "write")  # org admin, write token ("ci-token")
OWNER_R = tok("owner", "read")  # org admin, read token
WRITER_W = tok("writer", "write")  # org member with role write
READER_W = tok("reader", "write")  # org member with role read (write token, read role)
MALLORY_W = tok("mallory", "write")  # outsider (admin of another org)
BAD_TOKEN = "hf_this_token_does_not_exist_0000"

# name -> (fullname, email). Requesters are grouped by the module that uses them.
_USERS: dict[str, tuple[str, str]] = {}


def _user(name: str, fullname: str | None = None, email: str | None = None) -> str:
    _USERS[name] = (fullname or name.capitalize() + " Example", email or f"{name}@example.com")
    return name


for _n, _f in [("owner", "Olive Owner"), ("writer", "Walt Writer"), ("reader", "Rita Reader"), ("mallory", "Mal Lory")]:
    _user(_n, _f)

# lists module
for _n in ["lena", "liam", "lola", "lars"]:
    _user(_n)
PAGE_USERS = [_user(f"p{i:03d}") for i in range(150)]
# handle module
for _n in ["hana", "hugo", "hedy", "hal", "hank", "holly", "hector", "hilda", "hoyt", "hux", "hans"]:
    _user(_n)
# grant / lifecycle modules
for _n in ["gina", "gus", "greta", "gale", "lucy"]:
    _user(_n)
# auth module
for _n in ["ada", "ben", "cyd", "dot"]:
    _user(_n)
# ask / validate / cancel / me modules
for _n in ["ava", "abe", "amy", "art", "vic", "val", "vera", "vlad", "cal", "cat", "cody", "cole", "rid", "fay",
           "kit"]:
    _user(_n)
# report module (the fullnames try spreadsheet-formula injection)
_user("rex", "=HYPERLINK(\"http://evil\")")
_user("roy", "Roy Example")
_user("rae", "@SUM(A1)")
# robustness / settings / cli
for _n in ["rob", "sid", "cliff"]:
    _user(_n)
# eu module
for _n in ["eve", "eli"]:
    _user(_n)
# download module: no request, pending, rejected, accepted
for _n in ["dina", "dora", "drew", "duke"]:
    _user(_n)
# web pages module (a browser)
_user("wendy", "Wendy <b>Web</b>")

WRITE_TOKEN_USERS = ["owner", "writer", "reader", "mallory"]

# --------------------------------------------------------------------------------------------
# READMEs (cards)
# --------------------------------------------------------------------------------------------


def card(fields: dict[str, Any] | None = None, body: str = "# Model\n", **extra: Any) -> str:
    meta: dict[str, Any] = dict(extra)
    if fields is not None:
        meta["extra_gated_fields"] = fields
    if not meta:
        return body
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body


COMPANY = {"Company": "text"}
COMPANY_COUNTRY = {"Company": "text", "Country": "country"}
VALIDATE_FIELDS = {
    "Company": "text",
    "Country": "country",
    "Date of birth": "date_picker",
    "Intended use": {"type": "select", "options": ["Research", "Education", {"label": "Other", "value": "other"}]},
    "I accept the license": "checkbox",
}
REPORT_FIELDS = {"Company": "text", "Country": "country", "Why": "text"}
INFO_PROMPT = "By requesting access you agree to the license terms."

# --------------------------------------------------------------------------------------------
# Repos and requests
# --------------------------------------------------------------------------------------------

_REPOS: list[dict[str, Any]] = []
_REQUESTS: list[dict[str, Any]] = []


def _repo(rid: str, *, type: str = "model", gated: Any = "manual", private: bool = False,
          readme: str | None = None, files: dict[str, str] | None = None,
          notifications: dict[str, Any] | None = None) -> str:
    r: dict[str, Any] = {"id": rid, "type": type, "gated": gated, "private": private}
    if readme is None and gated is not False:
        readme = card(COMPANY)
    if readme is not None:
        r["readme"] = readme
    r["files"] = files if files is not None else {"config.json": '{"a": 1}'}
    if notifications is not None:
        r["notifications"] = notifications
    _REPOS.append(r)
    return rid


def _req(repo: str, user: str, status: str, fields: dict[str, Any] | None = None, *,
         time: str, type: str = "model") -> None:
    _REQUESTS.append({"repo": repo, "type": type, "user": user, "status": status,
                      "fields": fields if fields is not None else {"Company": f"{user} Corp"}, "time": time})


# Shared, never modified: a public repo that is not gated.
OPEN = _repo("org/m-open", gated=False, readme=card(None, license="mit"))
OPEN_DS = _repo("org/d-open", type="dataset", gated=False, readme=card(None), files={"data.csv": "a,b\n1,2\n"})
PRIVATE = _repo("org/m-private", gated=False, private=True, readme=card(None))
PRIVATE_GATED = _repo("org/m-private-gated", gated="manual", private=True)

# lists module (read-only)
LISTS_M = _repo("org/m-lists", readme=card(COMPANY_COUNTRY))
_req(LISTS_M, "lena", "pending", {"Company": "Lena Ltd", "Country": "FR"}, time="2024-05-02T10:00:00.000Z")
_req(LISTS_M, "liam", "pending", {"Company": "Liam Inc", "Country": "DE"}, time="2024-05-01T10:00:00.000Z")
_req(LISTS_M, "lola", "accepted", {"Company": "Lola SA", "Country": "ES"}, time="2024-04-01T09:30:00.000Z")
_req(LISTS_M, "lars", "rejected", {"Company": "Lars AB", "Country": "SE"}, time="2024-03-01T08:00:00.000Z")
LISTS_D = _repo("org/d-lists", type="dataset", files={"data.csv": "x\n1\n"})
_req(LISTS_D, "lena", "pending", time="2024-05-03T10:00:00.000Z", type="dataset")
LISTS_S = _repo("org/s-lists", type="space", files={"app.py": "print(1)\n"})
_req(LISTS_S, "liam", "rejected", time="2024-05-03T11:00:00.000Z", type="space")
_req(LISTS_S, "lola", "accepted", time="2024-05-03T12:00:00.000Z", type="space")
PAGE = _repo("org/m-page")
for _i, _u in enumerate(PAGE_USERS):
    _req(PAGE, _u, "pending", {"Company": f"C{_i:03d}"},
         time=f"2024-01-01T{_i // 60:02d}:{_i % 60:02d}:00.000Z")
PERSONAL = _repo("owner/m-personal")
_req(PERSONAL, "ben", "pending", time="2024-05-01T10:00:00.000Z")

# handle module
HANDLE_M = _repo("org/m-handle")
for _k, (_u, _s) in enumerate([("hana", "pending"), ("hugo", "pending"), ("hedy", "pending"), ("hal", "accepted"),
                              ("hank", "rejected"), ("holly", "pending"), ("hilda", "pending"), ("hoyt", "pending"),
                              ("hux", "pending"), ("hans", "pending")]):
    _req(HANDLE_M, _u, _s, time=f"2024-02-01T10:{_k:02d}:00.000Z")
HANDLE_D = _repo("org/d-handle", type="dataset", files={"data.csv": "x\n"})
_req(HANDLE_D, "hana", "pending", time="2024-02-01T10:00:00.000Z", type="dataset")
HANDLE_S = _repo("org/s-handle", type="space", files={"app.py": "x\n"})
_req(HANDLE_S, "hugo", "pending", time="2024-02-01T10:00:00.000Z", type="space")

# grant + lifecycle modules
GRANT_M = _repo("org/m-grant")
_req(GRANT_M, "gina", "pending", time="2024-02-02T10:00:00.000Z")
_req(GRANT_M, "gus", "rejected", time="2024-02-02T11:00:00.000Z")
GRANT_D = _repo("org/d-grant", type="dataset", files={"data.csv": "x\n"})
LIFE_M = _repo("org/m-life")

# auth module
AUTH_M = _repo("org/m-auth")
_req(AUTH_M, "ben", "pending", time="2024-02-03T10:00:00.000Z")
_req(AUTH_M, "cyd", "rejected", time="2024-02-03T11:00:00.000Z")
_req(AUTH_M, "dot", "accepted", time="2024-02-03T12:00:00.000Z")
AUTH_D = _repo("org/d-auth", type="dataset", files={"data.csv": "x\n"})
_req(AUTH_D, "ben", "pending", time="2024-02-03T10:00:00.000Z", type="dataset")
AUTH_S = _repo("org/s-auth", type="space", files={"app.py": "x\n"})
_req(AUTH_S, "cyd", "rejected", time="2024-02-03T11:00:00.000Z", type="space")
AUTH_AUTO = _repo("org/m-auth-auto", gated="auto")

# info module
INFO_M = _repo("org/m-info", readme=card(COMPANY_COUNTRY, license="mit", extra_gated_prompt=INFO_PROMPT),
               files={"config.json": '{"a": 1}', "weights/model.bin": "0123456789"},
               notifications={"mode": "daily", "email": "team@example.com"})
INFO_RT = _repo("org/m-info-rt", notifications={"mode": "realtime"})
INFO_D = _repo("org/d-info", type="dataset", gated="auto", readme=card(COMPANY, license="cc-by-4.0"),
               files={"data.csv": "a,b\n1,2\n"})
INFO_S = _repo("org/s-info", type="space", readme=card(COMPANY, sdk="gradio"), files={"app.py": "print('hi')\n"})
BADCARD = _repo("org/m-badcard", readme=card({"Company": "no_such_field_type"}))

# settings module
SET_GATE = _repo("org/m-settings", gated=False, readme=card(COMPANY))
SET_GATE_D = _repo("org/d-settings", type="dataset", gated=False, readme=card(COMPANY), files={"data.csv": "x\n"})
SET_PRIV = _repo("org/m-settings-priv", gated=False, readme=card(COMPANY))
SET_NOTIFY = _repo("org/m-settings-notify", notifications={"mode": "daily", "email": "team@example.com"})
SET_ATOMIC = _repo("org/m-settings-atomic")
SET_PERM = _repo("org/m-settings-perm")
SET_CLI = _repo("org/m-settings-cli", gated=False, readme=card(COMPANY))

# ask-access / cancel / me
ASK_M = _repo("org/m-ask")
_req(ASK_M, "amy", "rejected", time="2024-02-04T10:00:00.000Z")
_req(ASK_M, "art", "accepted", time="2024-02-04T11:00:00.000Z")
ASK_AUTO = _repo("org/m-ask-auto", gated="auto")
ASK_FORM = _repo("org/m-ask-form")
ASK_D = _repo("org/d-ask", type="dataset", files={"data.csv": "x\n"})
ASK_S = _repo("org/s-ask", type="space", files={"app.py": "x\n"})
VALIDATE = _repo("org/m-validate", readme=card(VALIDATE_FIELDS))
CANCEL_M = _repo("org/m-cancel")
_req(CANCEL_M, "cal", "pending", time="2024-02-05T10:00:00.000Z")
_req(CANCEL_M, "cat", "accepted", time="2024-02-05T11:00:00.000Z")
_req(CANCEL_M, "cody", "rejected", time="2024-02-05T12:00:00.000Z")
RID_M = _repo("org/m-rid")

# report
REPORT_M = _repo("org/m-report", readme=card(REPORT_FIELDS))
_req(REPORT_M, "rex", "pending", {"Company": "=HYPERLINK(\"x\")", "Country": "FR", "Why": "+1 because"},
     time="2024-03-01T10:00:00.000Z")
_req(REPORT_M, "roy", "pending", {"Company": "Roy Co", "Country": "DE", "Why": "-minus"},
     time="2024-03-01T11:00:00.000Z")
_req(REPORT_M, "rae", "pending", {"Company": "\tTabbed", "Country": "IT", "Why": "\rcr"},
     time="2024-03-01T12:00:00.000Z")

# robustness
ROBUST_M = _repo("org/m-robust")
_req(ROBUST_M, "rob", "pending", time="2024-02-06T10:00:00.000Z")
_req(ROBUST_M, "sid", "accepted", time="2024-02-06T11:00:00.000Z")

FUZZ_M = _repo("org/m-fuzz")
_req(FUZZ_M, "rob", "pending", time="2024-02-07T10:00:00.000Z")

# cli
CLI_M = _repo("org/m-cli", readme=card(COMPANY, license="apache-2.0"))

# eu: gated repos whose card keeps the EU out (extra_gated_eu_disallowed, hf-wire §11.4)
EU_M = _repo("org/m-eu", readme=card(COMPANY, extra_gated_eu_disallowed=True))
_req(EU_M, "eve", "accepted", time="2024-02-08T10:00:00.000Z")
EU_ASK = _repo("org/m-eu-ask", readme=card(COMPANY, extra_gated_eu_disallowed=True))
EU_OPEN = _repo("org/m-eu-open", gated=False, readme=card(None, extra_gated_eu_disallowed=True))

# downloads (hf-wire §7): the gate guards every file of a repo
DL_FILES = {"config.json": '{"model_type": "gpt2"}', "weights/model.bin": "0123456789" * 100,
            "weights/extra/notes.txt": "notes\n"}
DL_OPEN = _repo("org/m-dl-open", gated=False, readme=card(None), files=DL_FILES)
DL_M = _repo("org/m-dl", files=DL_FILES)
_req(DL_M, "dora", "pending", time="2024-02-09T10:00:00.000Z")
_req(DL_M, "drew", "rejected", time="2024-02-09T11:00:00.000Z")
_req(DL_M, "duke", "accepted", time="2024-02-09T12:00:00.000Z")
DL_D = _repo("org/d-dl", type="dataset", files={"data/train.csv": "a,b\n1,2\n"})
_req(DL_D, "duke", "accepted", time="2024-02-09T12:00:00.000Z", type="dataset")

# web pages: a gate form with every field type, and a card and prompt that try to run script
WEB_M = _repo("org/m-web", readme=card(
    VALIDATE_FIELDS,
    body="# Web model\n\nA model behind a gate.\n\n<script>document.title = 'pwned'</script>\n",
    extra_gated_heading="Ask for the web model",
    extra_gated_prompt="Read the **license** first. <img src=x onerror=\"document.title = 'pwned'\">",
), files={"config.json": '{"web": true}'})


def build_seed() -> dict[str, Any]:
    tokens = [{"user": u, "role": "read", "name": tok_name(u, "read"), "value": tok(u, "read")} for u in _USERS]
    tokens += [{"user": u, "role": "write", "name": tok_name(u, "write"), "value": tok(u, "write")}
               for u in WRITE_TOKEN_USERS]
    return {
        "users": [{"name": n, "fullname": f, "email": e} for n, (f, e) in _USERS.items()],
        "orgs": [
            {"name": "org", "fullname": "The Org",
             "members": [{"user": "owner", "role": "admin"}, {"user": "writer", "role": "write"},
                         {"user": "reader", "role": "read"}]},
            {"name": "other", "fullname": "Other Org", "members": [{"user": "mallory", "role": "admin"}]},
        ],
        "tokens": tokens,
        "repos": _REPOS,
        "requests": _REQUESTS,
    }


def write_seed(path: Path, seed: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(seed, sort_keys=False, allow_unicode=True, width=1000))
    return path


def fullname(user: str) -> str:
    return _USERS[user][0]


def email(user: str) -> str:
    return _USERS[user][1]


# --------------------------------------------------------------------------------------------
# Gated-repo messages (hf-wire §6), with the server's own base URL as {endpoint}
# --------------------------------------------------------------------------------------------


def msg_anonymous(kind: str, rid: str) -> str:
    return (f"Access to {kind} {rid} is restricted. You must have access to it and be authenticated "
            f"to access it. Please log in.")


def msg_not_in_list(kind: str, rid: str, endpoint: str | None = None) -> list[str]:
    """Acceptable not-in-list messages. For datasets/spaces the page is `{endpoint}/{kind}s/{id}` on the
    real Hub; hf-wire §6 writes `{endpoint}/{id}`, so both are accepted there."""
    ep = endpoint or EP
    pages = [rid] if kind == "model" else [f"{kind}s/{rid}", rid]
    return [f"Access to {kind} {rid} is restricted and you are not in the authorized list. "
            f"Visit {ep}/{page} to ask for access." for page in pages]


def msg_pending(kind: str, rid: str) -> str:
    return f"Your request to access {kind} {rid} is awaiting a review from the repo authors."


def msg_rejected(kind: str, rid: str) -> str:
    return f"Your request to access {kind} {rid} has been rejected by the repo's authors."


def msg_eu_disallowed(kind: str, rid: str) -> str:
    return (f"Access to {kind} {rid} is restricted in your region: its authors do not allow access "
            f"from the European Union.")


# --------------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------------

_UNSET = object()
_clients: dict[str, httpx2.Client] = {}


def _client(base: str) -> httpx2.Client:
    c = _clients.get(base)
    if c is None:
        c = httpx2.Client(base_url=base, trust_env=False, timeout=20.0, follow_redirects=False)
        _clients[base] = c
    return c


def http(method: str, path: str, *, token: str | None = None, json: Any = _UNSET, data: Any = None,
         content: bytes | str | None = None, headers: dict[str, str] | None = None,
         params: dict[str, str] | None = None, base: str | None = None) -> httpx2.Response:
    """One raw request to the server (no redirects followed). `path` may be absolute."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    kw: dict[str, Any] = {"headers": h}
    if json is None:
        # httpx would send no body at all for json=None; the test means the JSON value null.
        kw["content"] = b"null"
        h.setdefault("Content-Type", "application/json")
    elif json is not _UNSET:
        kw["json"] = json
    if data is not None:
        kw["data"] = data
    if content is not None:
        kw["content"] = content
    if params is not None:
        kw["params"] = params
    return _client(base or EP).request(method, path, **kw)


def api_path(rid: str, kind: str = "model", suffix: str = "") -> str:
    return f"/api/{kind}s/{rid}{suffix}"


def uar(rid: str, what: str, kind: str = "model") -> str:
    return api_path(rid, kind, f"/user-access-request/{what}")


def ask_path(rid: str, kind: str = "model") -> str:
    return f"/{rid}/ask-access" if kind == "model" else f"/{kind}s/{rid}/ask-access"


def describe(resp: httpx2.Response) -> str:
    body = resp.text if resp.request.method != "HEAD" else ""
    return (f"{resp.request.method} {resp.request.url} -> {resp.status_code} "
            f"X-Error-Code={resp.headers.get('x-error-code')!r} "
            f"X-Error-Message={resp.headers.get('x-error-message')!r} body={body[:300]!r}")


def assert_status(resp: httpx2.Response, *expected: int) -> None:
    assert resp.status_code in expected, f"expected {expected}: {describe(resp)}"


def assert_error(resp: httpx2.Response, status: int | tuple[int, ...], code: str | None = None,
                 message: str | None = None) -> None:
    """An error answer: status, X-Error-Message, JSON {"error": ...} body (non-HEAD), optional code."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, f"expected {statuses}: {describe(resp)}"
    assert resp.headers.get("x-error-message"), f"missing X-Error-Message: {describe(resp)}"
    if code is not None:
        assert resp.headers.get("x-error-code") == code, f"expected X-Error-Code {code}: {describe(resp)}"
    if message is not None:
        assert resp.headers.get("x-error-message") == message, f"wrong message: {describe(resp)}"
    if resp.request.method != "HEAD":
        try:
            body = resp.json()
        except ValueError:
            raise AssertionError(f"error body is not JSON: {describe(resp)}") from None
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], \
            f"error body lacks 'error': {describe(resp)}"


def assert_4xx(resp: httpx2.Response) -> None:
    assert 400 <= resp.status_code < 500, f"expected a 4xx: {describe(resp)}"
    assert resp.headers.get("x-error-message"), f"missing X-Error-Message: {describe(resp)}"


def list_raw(rid: str, status: str, kind: str = "model", token: str = OWNER_W) -> list[dict[str, Any]]:
    """All elements of a list, following absolute Link next URLs."""
    out: list[dict[str, Any]] = []
    url: str | None = uar(rid, status, kind)
    for _ in range(100):
        resp = http("GET", url, token=token)
        assert_status(resp, 200)
        page = resp.json()
        assert isinstance(page, list), describe(resp)
        out.extend(page)
        nxt = resp.links.get("next")
        if not nxt:
            return out
        url = nxt["url"]
    raise AssertionError("pagination did not stop")


def request_of(rid: str, user: str, kind: str = "model") -> dict[str, Any] | None:
    """(status, element) of `user`'s request on a repo, looked up in the three lists."""
    for status in ("pending", "accepted", "rejected"):
        for el in list_raw(rid, status, kind):
            if el.get("user", {}).get("user") == user:
                return el
    return None


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


def store_args(data_dir: Path) -> list[str]:
    """The store flags for a data dir: the embedded store, or with GATEHOUSE_TEST_STORE=dynamodb a
    DynamoDB table of its own (named after the dir, so a restart finds the same table)."""
    if os.environ.get("GATEHOUSE_TEST_STORE", "sqlite") != "dynamodb":
        return []
    table = "gatehouse-" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return ["--store", "dynamodb", "--table", table, "--create-table",
            "--cursor-key", "conformance-suite-cursor-key-of-32-bytes-or-more"]


class GatehouseServer:
    """`gatehouse serve` as a child process on 127.0.0.1."""

    def __init__(self, data_dir: Path, seed: Path | None, port: int | None = None, log: Path | None = None):
        self.data_dir = data_dir
        self.seed = seed
        self.port = port or free_port()
        self.log_path = log or data_dir.parent / f"gatehouse-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file = None
        self.test_id: str | None = None  # set for per-test servers

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, seed: Path | None | object = _UNSET, timeout: float = 30.0) -> "GatehouseServer":
        if not GATEHOUSE_BIN.exists():
            raise RuntimeError(f"gatehouse binary not found at {GATEHOUSE_BIN} (build it or set GATEHOUSE_BIN)")
        seed_path = self.seed if seed is _UNSET else seed
        cmd = [str(GATEHOUSE_BIN), *store_args(self.data_dir), "serve", "--addr", f"127.0.0.1:{self.port}",
               "--data-dir", str(self.data_dir)]
        if seed_path is not None:
            cmd += ["--seed", str(seed_path)]
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n===== {' '.join(cmd)}\n".encode())
        self._log_file.flush()
        env = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="1")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, cwd=str(self.data_dir.parent))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gatehouse exited with {self.proc.returncode} during startup\n{self.log_tail()}")
            try:
                urllib.request.urlopen(  # noqa: S310 - loopback only
                    urllib.request.Request(f"{self.endpoint}/api/agent-harnesses"), timeout=2)
                return self
            except urllib.error.HTTPError:
                return self  # any status means it answers
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gatehouse did not answer within {timeout}s\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, hard: bool = False) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            if hard:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(10)
            else:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
        self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return f"--- last {lines} lines of {self.log_path} ---\n" + "\n".join(text[-lines:])


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def hf_cli(*args: str, hf_home: Path | None = None, env_extra: dict[str, str] | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the `hf` CLI of this venv with the conformance environment."""
    exe = Path(sys.executable).parent / "hf"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    env.update(CLIENT_ENV)
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(env_extra or {})
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "huggingface_hub.cli.hf", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def cli_out(cp: subprocess.CompletedProcess[str]) -> str:
    return f"exit={cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}"


def parse_json_output(text: str) -> Any:
    """The JSON document in a CLI's stdout (ignores any non-JSON lines around it)."""
    text = text.strip()
    try:
        return _json.loads(text)
    except ValueError:
        start = min([i for i in (text.find("{"), text.find("[")) if i >= 0], default=-1)
        if start < 0:
            raise
        return _json.loads(text[start:])
