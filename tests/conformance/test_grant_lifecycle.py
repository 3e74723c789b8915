"""grant_access (hf-wire §4) and the upstream lifecycle test (§3): org/m-grant, org/d-grant, org/m-life."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from support import (EP, GRANT_D, GRANT_M, LIFE_M, OPEN, OWNER_R, OWNER_W, READER_W, WRITER_W, assert_error,
                     assert_status, http, msg_not_in_list, msg_pending, msg_rejected, request_of, tok, uar)

owner = HfApi(endpoint=EP, token=OWNER_W)


def find(rid: str, user: str, status: str, repo_type: str | None = None):
    for r in getattr(owner, f"list_{status}_access_requests")(rid, repo_type=repo_type):
        if r.username == user:
            return r
    return None


def test_grant_user_who_never_asked():
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("greta")).auth_check(GRANT_M)
    res = owner.grant_access(GRANT_M, "greta")
    assert isinstance(res, dict)
    r = find(GRANT_M, "greta", "accepted")
    assert r is not None, "granted user missing from the accepted list"
    assert r.status == "accepted"
    assert r.email is None  # granted manually
    HfApi(endpoint=EP, token=tok("greta")).auth_check(GRANT_M)
    # second grant fails with 400
    with pytest.raises(HfHubHTTPError) as ei:
        owner.grant_access(GRANT_M, "greta")
    assert ei.value.response.status_code == 400
    # and accepting again is "already in that status"
    with pytest.raises(HfHubHTTPError) as ei:
        owner.accept_access_request(GRANT_M, "greta")
    assert ei.value.response.status_code == 404


def test_grant_raw_returns_json_object():
    r = http("POST", uar(GRANT_M, "grant"), token=WRITER_W, json={"user": "gale"})
    assert_status(r, 200)
    assert isinstance(r.json(), dict)
    assert find(GRANT_M, "gale", "accepted") is not None


def test_grant_pending_user_keeps_request_id():
    before = find(GRANT_M, "gina", "pending")
    assert before is not None
    owner.grant_access(GRANT_M, "gina")
    after = find(GRANT_M, "gina", "accepted")
    assert after is not None and after.request_id == before.request_id
    assert find(GRANT_M, "gina", "pending") is None
    assert after.fields == before.fields


def test_grant_rejected_user_keeps_request_id():
    before = find(GRANT_M, "gus", "rejected")
    assert before is not None
    owner.grant_access(GRANT_M, "gus")
    after = find(GRANT_M, "gus", "accepted")
    assert after is not None and after.request_id == before.request_id
    assert find(GRANT_M, "gus", "rejected") is None


def test_grant_errors():
    with pytest.raises(HfHubHTTPError) as ei:
        owner.grant_access(GRANT_M, "no-such-user-here")
    assert ei.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as ei:
        owner.grant_access(GRANT_M, "org")  # access goes to users, never to organizations
    assert ei.value.response.status_code in (400, 404)
    with pytest.raises(BadRequestError):
        owner.grant_access(OPEN, "lucy")
    with pytest.raises(RepositoryNotFoundError):
        owner.grant_access("org/not-a-repo", "lucy")
    for token in (OWNER_R, READER_W, tok("lucy")):
        with pytest.raises(HfHubHTTPError) as ei:
            HfApi(endpoint=EP, token=token).grant_access(GRANT_M, "lucy")
        assert ei.value.response.status_code == 403
    assert_error(http("POST", uar(GRANT_M, "grant"), json={"user": "lucy"}), 401)
    for body in ({}, {"user": ""}, {"user": 1}, {"user": None}, {"users": ["lucy"]}):
        assert_error(http("POST", uar(GRANT_M, "grant"), token=OWNER_W, json=body), (400, 404))
    assert request_of(GRANT_M, "lucy") is None


def test_grant_dataset():
    res = owner.grant_access(GRANT_D, "greta", repo_type="dataset")
    assert isinstance(res, dict)
    assert find(GRANT_D, "greta", "accepted", "dataset") is not None
    HfApi(endpoint=EP, token=tok("greta")).auth_check(GRANT_D, repo_type="dataset")


def _auth_message(token: str) -> str | None:
    try:
        HfApi(endpoint=EP, token=token).auth_check(LIFE_M)
        return None
    except GatedRepoError as e:
        return e.response.headers.get("x-error-message")


def test_lifecycle_same_request_id_throughout():
    lucy = tok("lucy")
    assert _auth_message(lucy) in msg_not_in_list("model", LIFE_M)

    owner.grant_access(LIFE_M, "lucy")
    r = find(LIFE_M, "lucy", "accepted")
    assert r is not None
    rid = r.request_id
    assert _auth_message(lucy) is None

    owner.cancel_access_request(LIFE_M, "lucy")
    r = find(LIFE_M, "lucy", "pending")
    assert r is not None and r.request_id == rid
    assert _auth_message(lucy) == msg_pending("model", LIFE_M)

    owner.reject_access_request(LIFE_M, "lucy", rejection_reason="Not eligible")
    r = find(LIFE_M, "lucy", "rejected")
    assert r is not None and r.request_id == rid
    assert _auth_message(lucy).startswith(msg_rejected("model", LIFE_M))

    owner.accept_access_request(LIFE_M, "lucy")
    r = find(LIFE_M, "lucy", "accepted")
    assert r is not None and r.request_id == rid
    assert _auth_message(lucy) is None

    # by request id too
    owner.cancel_access_request(LIFE_M, request_id=rid)
    assert find(LIFE_M, "lucy", "pending").request_id == rid
    owner.accept_access_request(LIFE_M, request_id=rid)
    assert find(LIFE_M, "lucy", "accepted").request_id == rid
