"""Listing access requests (hf-wire §2, §1.7): read-only repos org/m-lists, org/d-lists, org/s-lists, org/m-page."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from huggingface_hub import HfApi
from huggingface_hub.hf_api import AccessRequest
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError

from support import (EP, HEX24_RE, LISTS_D, LISTS_M, LISTS_S, MALLORY_W, OPEN, OWNER_R, OWNER_W, PAGE, PAGE_USERS,
                     PERSONAL, PRIVATE_GATED, READER_W, TIME_RE, WRITER_W, assert_error, assert_status, email,
                     fullname, http, tok, uar)

owner = HfApi(endpoint=EP, token=OWNER_W)


def test_pending_list_fields_and_order():
    reqs = list(owner.list_pending_access_requests(LISTS_M))
    assert all(isinstance(r, AccessRequest) for r in reqs)
    # ordered by first-request time, oldest first (liam asked before lena)
    assert [r.username for r in reqs] == ["liam", "lena"]
    liam = reqs[0]
    assert liam.fullname == fullname("liam")
    assert liam.email == email("liam")
    assert liam.status == "pending"
    assert HEX24_RE.match(liam.request_id), liam.request_id
    assert liam.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert liam.fields == {"Company": "Liam Inc", "Country": "DE"}
    assert reqs[0].request_id != reqs[1].request_id


def test_accepted_and_rejected_lists():
    acc = list(owner.list_accepted_access_requests(LISTS_M))
    assert [(r.username, r.status) for r in acc] == [("lola", "accepted")]
    assert acc[0].fields == {"Company": "Lola SA", "Country": "ES"}
    assert acc[0].email == email("lola")
    rej = list(owner.list_rejected_access_requests(LISTS_M))
    assert [(r.username, r.status) for r in rej] == [("lars", "rejected")]


def test_namespace_members_not_listed():
    names = {r.username for s in ("pending", "accepted", "rejected")
             for r in getattr(owner, f"list_{s}_access_requests")(LISTS_M)}
    assert names == {"lena", "liam", "lola", "lars"}


def test_raw_list_element_shape():
    r = http("GET", uar(LISTS_M, "pending"), token=OWNER_W)
    assert_status(r, 200)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and len(body) == 2
    for el in body:
        assert set(el) >= {"user", "requestId", "status", "timestamp", "fields"}
        assert isinstance(el["user"], dict)
        assert {"user", "fullname", "email"} <= set(el["user"])
        assert HEX24_RE.match(el["requestId"])
        assert el["status"] == "pending"
        assert TIME_RE.match(el["timestamp"]), el["timestamp"]
    assert "link" not in r.headers or 'rel="next"' not in r.headers["link"]


def test_dataset_lists():
    api = HfApi(endpoint=EP, token=OWNER_W)
    pend = list(api.list_pending_access_requests(LISTS_D, repo_type="dataset"))
    assert [(r.username, r.status) for r in pend] == [("lena", "pending")]
    assert list(api.list_accepted_access_requests(LISTS_D, repo_type="dataset")) == []
    assert list(api.list_rejected_access_requests(LISTS_D, repo_type="dataset")) == []
    # the same id as a model does not exist
    with pytest.raises(RepositoryNotFoundError):
        list(api.list_pending_access_requests(LISTS_D))


def test_space_lists():
    rej = list(owner.list_rejected_access_requests(LISTS_S, repo_type="space"))
    assert [(r.username, r.status) for r in rej] == [("liam", "rejected")]
    acc = list(owner.list_accepted_access_requests(LISTS_S, repo_type="space"))
    assert [(r.username, r.status) for r in acc] == [("lola", "accepted")]
    assert list(owner.list_pending_access_requests(LISTS_S, repo_type="space")) == []


def test_write_member_can_list():
    api = HfApi(endpoint=EP, token=WRITER_W)
    assert [r.username for r in api.list_pending_access_requests(LISTS_M)] == ["liam", "lena"]


@pytest.mark.parametrize("token", [OWNER_R, READER_W, tok("lena")], ids=["owner-read-token", "read-member", "requester"])
def test_list_forbidden_without_write(token):
    api = HfApi(endpoint=EP, token=token)
    with pytest.raises(HfHubHTTPError) as ei:
        list(api.list_pending_access_requests(LISTS_M))
    assert ei.value.response.status_code == 403
    assert_error(http("GET", uar(LISTS_M, "accepted"), token=token), 403)


def test_list_outsider_and_anonymous():
    assert_error(http("GET", uar(LISTS_M, "pending"), token=MALLORY_W), (403, 404))
    assert_error(http("GET", uar(LISTS_M, "pending")), 401)
    with pytest.raises(HfHubHTTPError):
        list(HfApi(endpoint=EP, token=False).list_pending_access_requests(LISTS_M))


def test_list_not_gated_is_bad_request():
    with pytest.raises(BadRequestError):
        list(owner.list_pending_access_requests(OPEN))
    assert_error(http("GET", uar(OPEN, "accepted"), token=OWNER_W), 400)


def test_list_missing_repo():
    with pytest.raises(RepositoryNotFoundError):
        list(owner.list_pending_access_requests("org/does-not-exist"))
    assert_error(http("GET", uar("org/does-not-exist", "pending"), token=OWNER_W), 404, code="RepoNotFound")


def test_list_private_repo_member_ok_outsider_not_found():
    assert list(owner.list_pending_access_requests(PRIVATE_GATED)) == []
    assert_error(http("GET", uar(PRIVATE_GATED, "pending"), token=MALLORY_W), 404, code="RepoNotFound")
    assert_error(http("GET", uar(PRIVATE_GATED, "pending")), 401, code="RepoNotFound")


def test_bad_status_segment():
    r = http("GET", uar(LISTS_M, "everything"), token=OWNER_W)
    assert_error(r, (400, 404))


def test_user_namespace_repo_owner_can_list():
    # owner/m-personal belongs to the user "owner"; an org writer has no rights there.
    assert [r.username for r in owner.list_pending_access_requests(PERSONAL)] == ["ben"]
    with pytest.raises(HfHubHTTPError) as ei:
        list(HfApi(endpoint=EP, token=WRITER_W).list_pending_access_requests(PERSONAL))
    assert ei.value.response.status_code == 403


# ---------------------------------------------------------------------------------- pagination


def test_pagination_over_150_requests():
    reqs = list(owner.list_pending_access_requests(PAGE))
    assert len(reqs) == 150
    assert [r.username for r in reqs] == PAGE_USERS  # oldest first, across pages
    assert len({r.request_id for r in reqs}) == 150
    assert all(r.status == "pending" for r in reqs)
    assert reqs[0].fields == {"Company": "C000"} and reqs[-1].fields == {"Company": "C149"}
    assert reqs[0].timestamp < reqs[-1].timestamp


def test_pagination_link_header_is_absolute():
    r = http("GET", uar(PAGE, "pending"), token=OWNER_W)
    assert_status(r, 200)
    first = r.json()
    assert 0 < len(first) <= 100
    link = r.headers.get("link")
    assert link and 'rel="next"' in link, f"no next link: {r.headers}"
    nxt = r.links["next"]["url"]
    assert nxt.startswith(EP + "/"), f"Link next URL must be absolute on the server's base URL: {link}"
    users = [e["user"]["user"] for e in first]
    seen = 0
    while nxt:
        seen += 1
        assert seen < 5
        r = http("GET", nxt, token=OWNER_W)
        assert_status(r, 200)
        page = r.json()
        assert isinstance(page, list) and 0 < len(page) <= 100
        users += [e["user"]["user"] for e in page]
        nxt = r.links.get("next", {}).get("url")
        if nxt:
            assert nxt.startswith(EP + "/")
    assert users == PAGE_USERS


def test_pagination_next_page_needs_auth_too():
    r = http("GET", uar(PAGE, "pending"), token=OWNER_W)
    nxt = r.links["next"]["url"]
    assert_error(http("GET", nxt, token=READER_W), 403)
    assert_error(http("GET", nxt), 401)


def test_pagination_bad_cursor_is_4xx():
    r = http("GET", uar(PAGE, "pending") + "?cursor=%%%not-a-cursor", token=OWNER_W)
    assert r.status_code < 500, r.text
    r = http("GET", uar(PAGE, "pending") + "?cursor=" + "A" * 5000, token=OWNER_W)
    assert r.status_code < 500, r.text


def test_module_level_functions_use_hf_endpoint():
    # huggingface_hub.list_* are bound to HfApi() and so go to HF_ENDPOINT (hf-wire §1.1)
    import huggingface_hub as hh

    assert [r.username for r in hh.list_pending_access_requests(LISTS_M, token=OWNER_W)] == ["liam", "lena"]
    assert [r.username for r in hh.list_accepted_access_requests(LISTS_M, token=OWNER_W)] == ["lola"]
    assert hh.whoami(token=OWNER_W)["name"] == "owner"
