"""Durability: kill -9, restart on the same data dir, data still there; a seed for a non-empty data dir is ignored.

Uses its own server (own port and data dir), not the session server.
"""

from __future__ import annotations

from support import (api_path, ask_path, assert_error, assert_status, card, http, tok, uar)

OWNER = "hf_owner_write_000000"


def small_seed(**overrides):
    seed = {
        "users": [{"name": "owner", "fullname": "Olive Owner", "email": "owner@example.com"},
                  {"name": "duo", "fullname": "Duo Example", "email": "duo@example.com"},
                  {"name": "trio", "fullname": "Trio Example", "email": "trio@example.com"}],
        "orgs": [{"name": "org", "fullname": "The Org", "members": [{"user": "owner", "role": "admin"}]}],
        "tokens": [{"user": "owner", "role": "write", "name": "ci-token", "value": OWNER},
                   {"user": "duo", "role": "read", "name": "duo-read", "value": tok("duo")},
                   {"user": "trio", "role": "read", "name": "trio-read", "value": tok("trio")}],
        "repos": [{"id": "org/m-dur", "type": "model", "gated": "manual", "private": False,
                   "notifications": {"mode": "daily", "email": "team@example.com"},
                   "readme": card({"Company": "text"}), "files": {"config.json": "{}"}}],
        "requests": [],
    }
    seed.update(overrides)
    return seed


def test_kill_9_restart_keeps_data_and_ignores_new_seed(gatehouse_factory, tmp_path):
    data = tmp_path / "data"
    srv = gatehouse_factory(small_seed(), data_dir=data).start()
    ep = srv.endpoint

    r = http("POST", ask_path("org/m-dur"), token=tok("duo"), json={"fields": {"Company": "Duo"}}, base=ep)
    assert_status(r, 200)
    rid = r.json()["requestId"]
    assert_status(http("POST", uar("org/m-dur", "handle"), token=OWNER, json={"user": "duo", "status": "accepted"},
                       base=ep), 200)
    assert_status(http("POST", uar("org/m-dur", "grant"), token=OWNER, json={"user": "trio"}, base=ep), 200)
    assert_status(http("PUT", api_path("org/m-dur", suffix="/settings"), token=OWNER,
                       json={"gatedNotificationsMode": "real-time", "gatedNotificationsEmail": "ops@example.com"},
                       base=ep), 200)
    srv.stop(hard=True)  # SIGKILL right after the last 200: acknowledged writes must be durable

    # restart on the same data dir with a different seed: it must be ignored
    other_seed = small_seed(
        users=small_seed()["users"] + [{"name": "zed", "fullname": "Zed", "email": "zed@example.com"}],
        tokens=small_seed()["tokens"] + [{"user": "zed", "role": "write", "name": "z", "value": tok("zed", "write")}],
        repos=[dict(small_seed()["repos"][0], gated=False), {"id": "org/m-new", "gated": False}],
    )
    srv2 = gatehouse_factory(other_seed, data_dir=data, name="seed2.yaml")
    srv2.start()
    ep2 = srv2.endpoint

    assert_error(http("GET", "/api/whoami-v2", token=tok("zed", "write"), base=ep2), 401)
    assert_error(http("GET", api_path("org/m-new"), token=OWNER, base=ep2), 404, code="RepoNotFound")
    info = http("GET", api_path("org/m-dur"), token=OWNER, base=ep2).json()
    assert info["gated"] == "manual"
    assert info["gatedNotificationsMode"] == "real-time"
    assert info["gatedNotificationsEmail"] == "ops@example.com"
    accepted = http("GET", uar("org/m-dur", "accepted"), token=OWNER, base=ep2).json()
    by_user = {e["user"]["user"]: e for e in accepted}
    assert set(by_user) == {"duo", "trio"}
    assert by_user["duo"]["requestId"] == rid
    assert by_user["duo"]["fields"] == {"Company": "Duo"}
    assert by_user["trio"]["user"]["email"] is None
    assert_status(http("GET", api_path("org/m-dur", suffix="/auth-check"), token=tok("duo"), base=ep2), 200)
    who = http("GET", "/api/whoami-v2", token=OWNER, base=ep2).json()
    assert who["name"] == "owner" and who["auth"]["accessToken"]["displayName"] == "ci-token"

    # a graceful stop and a restart without any seed keep everything too
    srv2.stop()
    srv3 = gatehouse_factory(None, data_dir=data)
    srv3.start()
    ep3 = srv3.endpoint
    accepted = http("GET", uar("org/m-dur", "accepted"), token=OWNER, base=ep3).json()
    assert {e["user"]["user"] for e in accepted} == {"duo", "trio"}
    assert_status(http("POST", uar("org/m-dur", "handle"), token=OWNER,
                       json={"requestId": rid, "status": "rejected", "rejectionReason": "after restart"}, base=ep3), 200)
    rejected = http("GET", uar("org/m-dur", "rejected"), token=OWNER, base=ep3).json()
    assert [(e["user"]["user"], e["requestId"]) for e in rejected] == [("duo", rid)]


def test_empty_data_dir_without_seed_starts_empty(gatehouse_factory, tmp_path):
    srv = gatehouse_factory(None, data_dir=tmp_path / "empty").start()
    assert_error(http("GET", "/api/whoami-v2", token=OWNER, base=srv.endpoint), 401)
    assert_error(http("GET", api_path("org/m-dur"), base=srv.endpoint), (401, 404), code="RepoNotFound")
