"""accept / reject / cancel (hf-wire §3) on org/m-handle, org/d-handle, org/s-handle.

Every test acts on its own requester, so tests are independent of each other and of order.
"""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from support import (EP, HANDLE_D, HANDLE_M, HANDLE_S, MALLORY_W, OPEN, OWNER_R, OWNER_W, READER_W, WRITER_W,
                     assert_error, assert_status, describe, http, msg_rejected, request_of, tok, uar)

owner = HfApi(endpoint=EP, token=OWNER_W)


def statuses(rid: str, repo_type: str | None = None) -> dict[str, tuple[str, str]]:
    """username -> (status, request_id) over the three lists, through the client."""
    out: dict[str, tuple[str, str]] = {}
    for s in ("pending", "accepted", "rejected"):
        for r in getattr(owner, f"list_{s}_access_requests")(rid, repo_type=repo_type):
            assert r.username not in out, f"{r.username} in two lists"
            out[r.username] = (r.status, r.request_id)
            assert r.status == s
    return out


def test_accept_by_username():
    before = statuses(HANDLE_M)["hana"]
    assert before[0] == "pending"
    assert owner.accept_access_request(HANDLE_M, "hana") is None
    after = statuses(HANDLE_M)["hana"]
    assert after == ("accepted", before[1])
    HfApi(endpoint=EP, token=tok("hana")).auth_check(HANDLE_M)  # access granted


def test_accept_by_request_id():
    _, rid = statuses(HANDLE_M)["hugo"]
    owner.accept_access_request(HANDLE_M, request_id=rid)
    assert statuses(HANDLE_M)["hugo"] == ("accepted", rid)


def test_reject_with_reason():
    _, rid = statuses(HANDLE_M)["hedy"]
    owner.reject_access_request(HANDLE_M, "hedy", rejection_reason="not eligible")
    assert statuses(HANDLE_M)["hedy"] == ("rejected", rid)
    with pytest.raises(GatedRepoError) as ei:
        HfApi(endpoint=EP, token=tok("hedy")).auth_check(HANDLE_M)
    assert ei.value.response.status_code == 403
    assert ei.value.response.headers["x-error-message"].startswith(msg_rejected("model", HANDLE_M))


def test_reject_without_reason():
    _, rid = statuses(HANDLE_M)["holly"]
    owner.reject_access_request(HANDLE_M, "holly", rejection_reason=None)
    assert statuses(HANDLE_M)["holly"] == ("rejected", rid)


def test_cancel_moves_accepted_back_to_pending():
    _, rid = statuses(HANDLE_M)["hal"]
    HfApi(endpoint=EP, token=tok("hal")).auth_check(HANDLE_M)
    owner.cancel_access_request(HANDLE_M, "hal")
    assert statuses(HANDLE_M)["hal"] == ("pending", rid)
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("hal")).auth_check(HANDLE_M)


def test_write_member_can_handle():
    writer = HfApi(endpoint=EP, token=WRITER_W)
    writer.accept_access_request(HANDLE_M, "hilda")
    assert statuses(HANDLE_M)["hilda"][0] == "accepted"


def test_handle_raw_response_is_json_object():
    # hoyt: pending -> rejected -> pending via raw requests
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json={"user": "hoyt", "status": "rejected"})
    assert_status(r, 200)
    assert r.json() == {}
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json={"user": "hoyt", "status": "pending"})
    assert_status(r, 200)
    assert statuses(HANDLE_M)["hoyt"][0] == "pending"


def test_same_status_is_404():
    with pytest.raises(HfHubHTTPError) as ei:
        owner.reject_access_request(HANDLE_M, "hank", rejection_reason=None)  # already rejected
    assert ei.value.response.status_code == 404
    assert_error(http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json={"user": "hank", "status": "rejected"}), 404)
    assert statuses(HANDLE_M)["hank"][0] == "rejected"


def test_unknown_user_and_no_request_are_404():
    with pytest.raises(HfHubHTTPError) as ei:
        owner.accept_access_request(HANDLE_M, "nobody-at-all")
    assert ei.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as ei:
        owner.accept_access_request(HANDLE_M, "hector")  # exists, never asked
    assert ei.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as ei:
        owner.accept_access_request(HANDLE_M, request_id="0123456789abcdef01234567")
    assert ei.value.response.status_code == 404


@pytest.mark.parametrize("token,status", [(OWNER_R, 403), (READER_W, 403), (tok("hana"), 403), (MALLORY_W, 403)],
                         ids=["owner-read-token", "read-member", "requester", "outsider"])
def test_handle_forbidden(token, status):
    with pytest.raises(HfHubHTTPError) as ei:
        HfApi(endpoint=EP, token=token).accept_access_request(HANDLE_M, "hoyt")
    assert ei.value.response.status_code == status
    assert statuses(HANDLE_M)["hoyt"][0] == "pending"


def test_handle_anonymous_401():
    assert_error(http("POST", uar(HANDLE_M, "handle"), json={"user": "hoyt", "status": "accepted"}), 401)


def test_handle_not_gated_is_bad_request():
    with pytest.raises(BadRequestError):
        owner.accept_access_request(OPEN, "hoyt")


def test_handle_missing_repo():
    with pytest.raises(RepositoryNotFoundError):
        owner.accept_access_request("org/no-such-repo", "hoyt")


@pytest.mark.parametrize("body", [
    {"user": "hoyt", "status": "rejected", "rejectionReason": "x" * 201},
    {"user": "hoyt", "status": "accepted", "rejectionReason": "why"},
    {"user": "hoyt", "status": "pending", "rejectionReason": "because"},
    {"user": "hoyt", "requestId": "0123456789abcdef01234567", "status": "accepted"},
    {"status": "accepted"},
    {"user": "hoyt", "status": "approved"},
    {"user": "hoyt"},
    {"user": 42, "status": "accepted"},
    {"user": "hoyt", "status": "rejected", "rejectionReason": 5},
    {"requestId": ["x"], "status": "accepted"},
], ids=["reason-too-long", "reason-with-accepted", "reason-with-pending", "user-and-requestId", "neither",
        "bad-status", "no-status", "user-not-string", "reason-not-string", "requestId-not-string"])
def test_handle_bad_bodies_are_400_and_change_nothing(body):
    before = statuses(HANDLE_M)["hoyt"]
    assert_error(http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json=body), 400)
    assert statuses(HANDLE_M)["hoyt"] == before


def test_reason_of_exactly_200_chars_is_fine():
    # a fresh state change on hoyt: pending -> rejected (200-char reason) -> pending again
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W,
             json={"user": "hoyt", "status": "rejected", "rejectionReason": "r" * 200})
    assert_status(r, 200)
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json={"user": "hoyt", "status": "pending"})
    assert_status(r, 200)


def test_dataset_accept():
    api = HfApi(endpoint=EP, token=OWNER_W)
    _, rid = statuses(HANDLE_D, "dataset")["hana"]
    api.accept_access_request(HANDLE_D, "hana", repo_type="dataset")
    assert statuses(HANDLE_D, "dataset")["hana"] == ("accepted", rid)
    HfApi(endpoint=EP, token=tok("hana")).auth_check(HANDLE_D, repo_type="dataset")
    # the model namespace is separate: hana's model request on org/m-handle is unaffected by this
    assert request_of(HANDLE_D, "hana", "dataset")["status"] == "accepted"


def test_space_reject():
    _, rid = statuses(HANDLE_S, "space")["hugo"]
    owner.reject_access_request(HANDLE_S, "hugo", rejection_reason="spaces are closed", repo_type="space")
    assert statuses(HANDLE_S, "space")["hugo"] == ("rejected", rid)


def test_concurrent_reviews_exactly_one_wins():
    """Two reviewers acting at once: conditional writes, no lost update (DESIGN: rules that hold everywhere)."""
    from concurrent.futures import ThreadPoolExecutor

    _, rid = statuses(HANDLE_M)["hux"]
    body = {"user": "hux", "status": "accepted"}
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json=body).status_code,
                                range(8)))
    # one winner; the others see "already in that status" (404) or lose the conditional write (409)
    assert codes[0] == 200 and all(c in (404, 409) for c in codes[1:]), codes
    assert statuses(HANDLE_M)["hux"] == ("accepted", rid)


def test_request_id_of_another_repo_is_404():
    from support import LISTS_M

    liam = request_of(LISTS_M, "liam")
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W, json={"requestId": liam["requestId"], "status": "accepted"})
    assert_error(r, 404)
    assert request_of(LISTS_M, "liam")["status"] == "pending"


def test_rejection_reason_with_unicode_and_newlines_is_safe_in_headers():
    # control characters: refused (400, nothing stored) or stored and kept out of the headers
    r = http("POST", uar(HANDLE_M, "handle"), token=OWNER_W,
             json={"user": "hans", "status": "rejected", "rejectionReason": "no\r\nX-Evil: 1"})
    assert r.status_code in (200, 400), describe(r)
    if r.status_code == 400:
        assert_error(r, 400)
        assert statuses(HANDLE_M)["hans"][0] == "pending"
        owner.reject_access_request(HANDLE_M, "hans", rejection_reason="Nicht berechtigt – ü")
    assert statuses(HANDLE_M)["hans"][0] == "rejected"
    r = http("GET", "/api/models/" + HANDLE_M + "/auth-check", token=tok("hans"))
    assert_error(r, 403, code="GatedRepo")
    assert "x-evil" not in r.headers
    assert r.headers["x-error-message"].startswith(msg_rejected("model", HANDLE_M)[:-1]), r.headers
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("hans")).auth_check(HANDLE_M)
