"""Bad input never yields a 5xx nor a partial write; every error has X-Error-Message (+ JSON body)."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx2
import pytest

from support import (FUZZ_M, OWNER_W, ROBUST_M, api_path, ask_path, assert_4xx, assert_error, assert_status,
                     describe, http, list_raw, tok, uar)

MiB = 1024 * 1024


def snapshot() -> dict[str, Any]:
    lists = {s: sorted((e["user"]["user"], e["requestId"], e["status"]) for e in list_raw(ROBUST_M, s))
             for s in ("pending", "accepted", "rejected")}
    info = http("GET", api_path(ROBUST_M), token=OWNER_W).json()
    keys = ("gated", "private", "gatedNotificationsMode", "gatedNotificationsEmail", "sha")
    return {"lists": lists, "info": {k: info.get(k) for k in keys}}


@pytest.fixture(autouse=True)
def unchanged():
    """Each test here only sends refused requests: org/m-robust must look the same afterwards."""
    before = snapshot()
    yield
    assert snapshot() == before, "a refused request changed the state of org/m-robust"


# (method, path, token, a valid-looking body) for every writing endpoint
WRITES = [
    ("POST", uar(ROBUST_M, "handle"), OWNER_W, {"user": "rob", "status": "accepted"}),
    ("POST", uar(ROBUST_M, "grant"), OWNER_W, {"user": "cole"}),
    ("PUT", api_path(ROBUST_M, suffix="/settings"), OWNER_W, {"gated": "auto"}),
    ("POST", ask_path(ROBUST_M), tok("cole"), {"fields": {"Company": "Cole"}}),
]
WRITE_IDS = ["handle", "grant", "settings", "ask-access"]


@pytest.mark.parametrize("method,path,token,_body", WRITES, ids=WRITE_IDS)
def test_malformed_json(method, path, token, _body):
    for raw in (b'{"user": "rob", ', b"{'user': 'rob'}", b"nul", b"\xff\xfe{}", b'{"a":1}garbage'):
        r = http(method, path, token=token, content=raw, headers={"Content-Type": "application/json"})
        assert_error(r, 400)


@pytest.mark.parametrize("method,path,token,_body", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("value", [[], "text", 1, None, True, [{"user": "rob", "status": "accepted"}]], ids=repr)
def test_non_object_json(method, path, token, _body, value):
    assert_error(http(method, path, token=token, json=value), 400)


@pytest.mark.parametrize("method,path,token,body", WRITES[:3], ids=WRITE_IDS[:3])
def test_wrong_content_type(method, path, token, body):
    for ctype in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        r = http(method, path, token=token, content=json.dumps(body), headers={"Content-Type": ctype})
        assert_4xx(r)
    r = http(method, path, token=token, content=b"")
    assert_4xx(r)


@pytest.mark.parametrize("method,path,token,body", WRITES, ids=WRITE_IDS)
def test_huge_body_is_413(method, path, token, body):
    big = dict(body, padding="x" * (MiB + 10))
    try:
        r = http(method, path, token=token, json=big)
    except httpx2.TransportError as e:
        pytest.fail(f"{method} {path} with a >1 MiB body: connection error instead of a 413 answer: {e!r}")
    assert_error(r, 413)

    def chunks():
        yield b'{"padding": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'
    try:
        r = http(method, path, token=token, content=chunks(), headers={"Content-Type": "application/json"})
    except httpx2.TransportError as e:
        pytest.fail(f"{method} {path} with a chunked >1 MiB body: connection error: {e!r}")
    assert_error(r, 413)


def test_deeply_nested_json():
    deep = b'{"user": ' + b"[" * 20000 + b"]" * 20000 + b', "status": "accepted"}'
    r = http("POST", uar(ROBUST_M, "handle"), token=OWNER_W, content=deep, headers={"Content-Type": "application/json"})
    assert_error(r, (400, 413))
    deep = b'{"fields": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"
    r = http("POST", ask_path(ROBUST_M), token=tok("cole"), content=deep, headers={"Content-Type": "application/json"})
    assert_error(r, (400, 413))


def test_json_with_charset_is_accepted():
    current = http("GET", api_path(ROBUST_M), token=OWNER_W).json()["gated"]
    r = http("PUT", api_path(ROBUST_M, suffix="/settings"), token=OWNER_W,
             content=json.dumps({"gated": current}), headers={"Content-Type": "application/json; charset=utf-8"})
    assert_status(r, 200)  # the current value again: no change


def test_over_long_and_odd_values():
    path = uar(ROBUST_M, "handle")
    for body in ({"user": "rob", "status": "rejected", "rejectionReason": "z" * 10000},
                 {"user": "rob", "status": "rejected", "rejectionReason": "é" * 201},
                 {"user": "x" * 100000, "status": "accepted"},
                 {"user": "rob\u0000", "status": "accepted"},
                 {"user": "../rob", "status": "accepted"},
                 {"requestId": "zzzzzzzzzzzzzzzzzzzzzzzz", "status": "accepted"},
                 {"requestId": "0" * 1000, "status": "accepted"},
                 {"user": "rob", "status": "ACCEPTED"},
                 {"user": "rob", "status": None}):
        r = http("POST", path, token=OWNER_W, json=body)
        assert_error(r, (400, 404, 413))


BAD_IDS = ["a--b", "org/a--b", "org/..%2Fetc", "..%2F..%2Fetc%2Fpasswd", "org%2Fm-robust", "%2E%2E/%2E%2E",
           "org/m-robust%2F..%2Fm-open", "a/b/c", "org/" + "n" * 200, "org/a%20b", "org/caf%C3%A9", "org/a%00b",
           "-org/x", "org/.x", "org/x.", "%ZZ/x"]


@pytest.mark.parametrize("rid", BAD_IDS)
def test_bad_repo_ids(rid):
    for method, suffix, token, body in [
        ("GET", "", None, None),
        ("GET", "/auth-check", OWNER_W, None),
        ("GET", "/user-access-request/pending", OWNER_W, None),
        ("POST", "/user-access-request/handle", OWNER_W, {"user": "rob", "status": "accepted"}),
        ("PUT", "/settings", OWNER_W, {"gated": "auto"}),
    ]:
        kw = {} if body is None else {"json": body}
        r = http(method, f"/api/models/{rid}{suffix}", token=token, **kw)
        assert_4xx(r)
    assert_4xx(http("POST", f"/{rid}/ask-access", token=tok("cole"), json={"fields": {"Company": "x"}}))


@pytest.mark.parametrize("path", ["/api/foos/x", "/api/foos/org/x", "/api/foos/org/x/settings", "/api/model/org/m-robust",
                                  "/api/modelss/org/m-robust", "/api/", "/api", "/api/models", "/api/models/",
                                  "/nope/nope/nope/nope", "/api/models/org/m-robust/nothing-here",
                                  "/api/models/org/" + "a" * 10000, "/" + "b" * 10000 + "/ask-access"])
def test_unknown_routes(path):
    for method in ("GET", "POST", "PUT"):
        if method == "GET":
            r = http(method, path, token=OWNER_W)
        else:
            r = http(method, path, token=OWNER_W, json={"gated": "auto"})
        assert_4xx(r)
        if r.headers.get("content-type", "").startswith("application/json"):
            assert "error" in r.json()


def test_wrong_methods():
    for method, path in [("DELETE", api_path(ROBUST_M, suffix="/settings")), ("GET", uar(ROBUST_M, "handle")),
                         ("GET", uar(ROBUST_M, "grant")), ("PATCH", api_path(ROBUST_M, suffix="/settings")),
                         ("DELETE", api_path(ROBUST_M)), ("POST", api_path(ROBUST_M)),
                         ("PUT", uar(ROBUST_M, "pending")), ("GET", ask_path(ROBUST_M) + "x")]:
        assert_4xx(http(method, path, token=OWNER_W))


def test_odd_authorization_headers():
    for value in ("Bearer " + "x" * 10000, "Bearer", "bearer " + OWNER_W.upper(), "Token abc", "Bearer a b c", ""):
        r = http("GET", "/api/whoami-v2", headers={"Authorization": value})
        assert_error(r, (400, 401, 431))
    r = http("GET", api_path(ROBUST_M, suffix="/auth-check"), headers={"Authorization": "Bearer " + "y" * 5000})
    assert_error(r, (400, 401, 431))


def test_head_requests_never_5xx():
    for path in (api_path(ROBUST_M), api_path("org/missing"), api_path(ROBUST_M, suffix="/auth-check"),
                 "/api/whoami-v2", uar(ROBUST_M, "pending")):
        r = http("HEAD", path)
        assert r.status_code < 500, describe(r)
        if r.status_code >= 400:
            assert r.headers.get("x-error-message"), describe(r)


def test_bounded_fuzz_never_5xx():
    """A seeded, bounded random walk over the writing endpoints of org/m-fuzz."""
    rng = random.Random(1234)
    keys = ["user", "requestId", "status", "rejectionReason", "gated", "visibility", "private", "fields",
            "gatedNotificationsMode", "gatedNotificationsEmail", "Company", ""]
    atoms = [None, True, False, 0, -1, 1.5, 10**30, "", "rob", "nobody", "accepted", "rejected", "pending", "auto",
             "manual", "public", "private", "real-time", "bulk", "a@b.co", "x" * 300, "\u0000", "é", "0" * 24,
             "=1+2", [], {}]

    def value(depth=0):
        roll = rng.random()
        if depth < 2 and roll < 0.15:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        if depth < 2 and roll < 0.3:
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}
        return rng.choice(atoms)

    endpoints = [("POST", uar(FUZZ_M, "handle"), OWNER_W), ("POST", uar(FUZZ_M, "grant"), OWNER_W),
                 ("PUT", api_path(FUZZ_M, suffix="/settings"), OWNER_W), ("POST", ask_path(FUZZ_M), tok("cole")),
                 ("POST", uar(FUZZ_M, "cancel"), tok("rob"))]
    for _ in range(300):
        method, path, token = rng.choice(endpoints)
        body = {rng.choice(keys): value() for _ in range(rng.randint(0, 4))} if rng.random() < 0.85 else value()
        r = http(method, path, token=token, json=body)
        assert r.status_code < 500, f"body={body!r}: {describe(r)}"
        if r.status_code >= 400:
            assert r.headers.get("x-error-message"), f"body={body!r}: {describe(r)}"
    assert_status(http("GET", api_path(FUZZ_M)), 200)
