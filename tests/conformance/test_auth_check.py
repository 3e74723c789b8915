"""auth_check and gated/not-found signalling (hf-wire §6): org/m-auth, org/d-auth, org/s-auth, org/m-auth-auto."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from support import (AUTH_AUTO, AUTH_D, AUTH_M, AUTH_S, BAD_TOKEN, EP, MALLORY_W, OPEN, OWNER_R, OWNER_W, PRIVATE,
                     PRIVATE_GATED, READER_W, WRITER_W, api_path, assert_error, assert_status, http,
                     msg_anonymous, msg_not_in_list, msg_pending, msg_rejected, tok)


def api(token):
    return HfApi(endpoint=EP, token=token)


def gated_error(token, rid, repo_type=None, write=False) -> GatedRepoError:
    with pytest.raises(GatedRepoError) as ei:
        api(token).auth_check(rid, repo_type=repo_type, write=write)
    return ei.value


@pytest.mark.parametrize("token", [OWNER_W, OWNER_R, WRITER_W, READER_W, tok("dot")],
                         ids=["owner", "owner-read-token", "writer", "read-member", "accepted-user"])
def test_access_granted(token):
    assert api(token).auth_check(AUTH_M) is None
    assert_status(http("GET", api_path(AUTH_M, suffix="/auth-check"), token=token), 200)


def test_write_check_allowed_for_write_members():
    api(OWNER_W).auth_check(AUTH_M, write=True)
    api(WRITER_W).auth_check(AUTH_M, write=True)
    assert_status(http("GET", api_path(AUTH_M, suffix="/auth-check/write"), token=OWNER_W), 200)


@pytest.mark.parametrize("token", [OWNER_R, READER_W, tok("dot")], ids=["owner-read-token", "read-member", "accepted"])
def test_write_check_forbidden(token):
    with pytest.raises(HfHubHTTPError) as ei:
        api(token).auth_check(AUTH_M, write=True)
    assert not isinstance(ei.value, GatedRepoError)
    r = http("GET", api_path(AUTH_M, suffix="/auth-check/write"), token=token)
    assert_error(r, 403)
    assert r.headers.get("x-error-code") != "GatedRepo"


def test_anonymous_gets_401_gated():
    e = gated_error(False, AUTH_M)
    assert e.response.status_code == 401
    assert e.response.headers["x-error-code"] == "GatedRepo"
    assert e.response.headers["x-error-message"] == msg_anonymous("model", AUTH_M)
    assert_error(http("GET", api_path(AUTH_M, suffix="/auth-check")), 401, code="GatedRepo",
                 message=msg_anonymous("model", AUTH_M))
    assert_error(http("GET", api_path(AUTH_M, suffix="/auth-check/write")), 401)


def test_never_requested_gets_not_in_list():
    e = gated_error(tok("ada"), AUTH_M)
    assert e.response.status_code == 403
    msg = e.response.headers["x-error-message"]
    assert msg in msg_not_in_list("model", AUTH_M), msg
    assert f"{EP}/{AUTH_M}" in msg
    with pytest.raises(GatedRepoError, match="is restricted and you are not in the authorized list"):
        api(tok("ada")).auth_check(AUTH_M)
    # JSON body carries the same message
    r = http("GET", api_path(AUTH_M, suffix="/auth-check"), token=tok("ada"))
    assert_error(r, 403, code="GatedRepo")
    assert r.json()["error"] == r.headers["x-error-message"]


def test_outsider_with_write_token_is_gated_too():
    e = gated_error(MALLORY_W, AUTH_M)
    assert e.response.status_code == 403
    assert e.response.headers["x-error-message"] in msg_not_in_list("model", AUTH_M)


def test_pending_message():
    e = gated_error(tok("ben"), AUTH_M)
    assert e.response.status_code == 403
    assert e.response.headers["x-error-message"] == msg_pending("model", AUTH_M)


def test_rejected_message():
    e = gated_error(tok("cyd"), AUTH_M)
    assert e.response.status_code == 403
    assert e.response.headers["x-error-message"].startswith(msg_rejected("model", AUTH_M))


def test_write_true_on_gated_repo_without_access_is_403():
    with pytest.raises(HfHubHTTPError) as ei:
        api(tok("ada")).auth_check(AUTH_M, write=True)
    assert ei.value.response.status_code == 403


def test_missing_repo_is_not_found_not_gated():
    for token in (OWNER_W, tok("ada"), False):
        with pytest.raises(RepositoryNotFoundError) as ei:
            api(token).auth_check("org/missing-repo")
        assert not isinstance(ei.value, GatedRepoError)
    assert_error(http("GET", api_path("org/missing-repo", suffix="/auth-check"), token=OWNER_W), 404,
                 code="RepoNotFound")
    assert_error(http("GET", api_path("org/missing-repo", suffix="/auth-check")), (401, 404), code="RepoNotFound")


def test_private_repo():
    api(OWNER_W).auth_check(PRIVATE)
    api(READER_W).auth_check(PRIVATE)
    for token in (MALLORY_W, tok("ada"), False):
        with pytest.raises(RepositoryNotFoundError) as ei:
            api(token).auth_check(PRIVATE)
        assert not isinstance(ei.value, GatedRepoError)
    assert_error(http("GET", api_path(PRIVATE, suffix="/auth-check")), 401, code="RepoNotFound")
    assert_error(http("GET", api_path(PRIVATE, suffix="/auth-check"), token=MALLORY_W), 404, code="RepoNotFound")
    # private + gated: outsiders learn nothing about the gate
    r = http("GET", api_path(PRIVATE_GATED, suffix="/auth-check"), token=tok("ada"))
    assert_error(r, 404, code="RepoNotFound")


def test_not_gated_public_repo_is_open():
    api(False).auth_check(OPEN)
    api(tok("ada")).auth_check(OPEN)
    with pytest.raises(HfHubHTTPError):
        api(tok("ada")).auth_check(OPEN, write=True)


def test_invalid_token_is_401_without_gated_code():
    r = http("GET", api_path(AUTH_M, suffix="/auth-check"), token=BAD_TOKEN)
    assert_error(r, 401)
    assert r.headers.get("x-error-code") != "GatedRepo"
    with pytest.raises(HfHubHTTPError):
        api(BAD_TOKEN).auth_check(AUTH_M)


def test_dataset_messages():
    e = gated_error(False, AUTH_D, "dataset")
    assert e.response.status_code == 401
    assert e.response.headers["x-error-message"] == msg_anonymous("dataset", AUTH_D)
    e = gated_error(tok("ben"), AUTH_D, "dataset")
    assert e.response.headers["x-error-message"] == msg_pending("dataset", AUTH_D)
    e = gated_error(tok("ada"), AUTH_D, "dataset")
    assert e.response.headers["x-error-message"] in msg_not_in_list("dataset", AUTH_D)
    api(OWNER_W).auth_check(AUTH_D, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api(OWNER_W).auth_check(AUTH_D, repo_type="space")


def test_space_messages():
    e = gated_error(tok("cyd"), AUTH_S, "space")
    assert e.response.status_code == 403
    assert e.response.headers["x-error-message"].startswith(msg_rejected("space", AUTH_S))
    e = gated_error(False, AUTH_S, "space")
    assert e.response.headers["x-error-message"] == msg_anonymous("space", AUTH_S)
    api(WRITER_W).auth_check(AUTH_S, repo_type="space", write=True)


def test_auto_mode_still_needs_a_request():
    e = gated_error(tok("ada"), AUTH_AUTO)
    assert e.response.status_code == 403
    assert e.response.headers["x-error-message"] in msg_not_in_list("model", AUTH_AUTO)
    api(OWNER_W).auth_check(AUTH_AUTO)


def test_head_auth_check_has_error_headers():
    r = http("HEAD", api_path(AUTH_M, suffix="/auth-check"), token=tok("ada"))
    assert r.status_code < 500
    if r.status_code == 403:
        assert r.headers.get("x-error-code") == "GatedRepo"
        assert r.headers.get("x-error-message")
