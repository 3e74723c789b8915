"""The requester side (raw HTTP): ask-access, form validation, cancel, me, request id stability."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError

from support import (PRIVATE_GATED, ASK_AUTO, ASK_D, ASK_FORM, ASK_M, ASK_S, BAD_TOKEN, CANCEL_M, EP, HEX24_RE, OPEN, OWNER_W,
                     RID_M, TIME_RE, VALIDATE, ask_path, assert_error, assert_status, email, fullname, http, list_raw,
                     msg_not_in_list, msg_pending, msg_rejected, request_of, tok, uar)

owner = HfApi(endpoint=EP, token=OWNER_W)


def ask(rid, user, fields, kind="model", token=None):
    return http("POST", ask_path(rid, kind), token=token or tok(user), json={"fields": fields})


def me(rid, user, kind="model"):
    return http("GET", uar(rid, "me", kind), token=tok(user))


def check_request_json(el, user, status, fields):
    assert el["user"]["user"] == user
    assert el["user"]["fullname"] == fullname(user)
    assert el["user"]["email"] == email(user)
    assert HEX24_RE.match(el["requestId"]), el
    assert el["status"] == status
    assert TIME_RE.match(el["timestamp"]), el["timestamp"]
    assert el["fields"] == fields


# ------------------------------------------------------------------------------------- ask-access


def test_ask_manual_goes_pending():
    r = ask(ASK_M, "ava", {"Company": "Ava Labs"})
    assert_status(r, 200)
    el = r.json()
    check_request_json(el, "ava", "pending", {"Company": "Ava Labs"})
    listed = request_of(ASK_M, "ava")
    assert listed is not None and listed["status"] == "pending"
    assert listed["requestId"] == el["requestId"]
    assert listed["fields"] == {"Company": "Ava Labs"}
    m = me(ASK_M, "ava")
    assert_status(m, 200)
    assert m.json()["requestId"] == el["requestId"] and m.json()["status"] == "pending"
    with pytest.raises(GatedRepoError) as ei:
        HfApi(endpoint=EP, token=tok("ava")).auth_check(ASK_M)
    assert ei.value.response.headers["x-error-message"] == msg_pending("model", ASK_M)
    # asking again while pending
    assert_error(ask(ASK_M, "ava", {"Company": "Other"}), 409)
    assert request_of(ASK_M, "ava")["fields"] == {"Company": "Ava Labs"}


def test_ask_again_after_accept_is_409():
    assert_status(ask(ASK_M, "abe", {"Company": "Abe"}), 200)
    owner.accept_access_request(ASK_M, "abe")
    assert_error(ask(ASK_M, "abe", {"Company": "Abe"}), 409)
    assert_error(ask(ASK_M, "art", {"Company": "Art"}), 409)  # seeded accepted


def test_rejected_user_cannot_ask_again():
    r = ask(ASK_M, "amy", {"Company": "Amy"})
    assert_error(r, 403)
    assert r.headers["x-error-message"].startswith(msg_rejected("model", ASK_M)), r.headers["x-error-message"]
    assert request_of(ASK_M, "amy")["status"] == "rejected"


def test_ask_auto_is_accepted_at_once():
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("ava")).auth_check(ASK_AUTO)
    r = ask(ASK_AUTO, "ava", {"Company": "Ava Labs"})
    assert_status(r, 200)
    check_request_json(r.json(), "ava", "accepted", {"Company": "Ava Labs"})
    HfApi(endpoint=EP, token=tok("ava")).auth_check(ASK_AUTO)
    assert list(owner.list_pending_access_requests(ASK_AUTO)) == []
    assert [x.username for x in owner.list_accepted_access_requests(ASK_AUTO)] == ["ava"]


def test_ask_dataset_and_space():
    r = ask(ASK_D, "ava", {"Company": "D"}, kind="dataset")
    assert_status(r, 200)
    assert r.json()["status"] == "pending"
    assert [x.username for x in owner.list_pending_access_requests(ASK_D, repo_type="dataset")] == ["ava"]
    assert_error(ask(ASK_D, "abe", {"Company": "D"}), 404, code="RepoNotFound")  # no such *model*
    r = ask(ASK_S, "ava", {"Company": "S"}, kind="space")
    assert_status(r, 200)
    assert [x.username for x in owner.list_pending_access_requests(ASK_S, repo_type="space")] == ["ava"]
    m = me(ASK_S, "ava", "space")
    assert_status(m, 200)
    assert m.json()["fields"] == {"Company": "S"}


def test_form_post_redirects_to_repo_page():
    r = http("POST", ask_path(ASK_FORM), token=tok("fay"), content="Company=Fay+Corp",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 303, r.text
    loc = r.headers.get("location", "")
    assert urlsplit(loc).path == f"/{ASK_FORM}", loc
    if urlsplit(loc).netloc:
        assert loc.startswith(EP)
    el = request_of(ASK_FORM, "fay")
    assert el is not None and el["status"] == "pending"


def test_ask_errors():
    assert_error(http("POST", ask_path(ASK_M), json={"fields": {"Company": "x"}}), 401)
    assert_error(http("POST", ask_path(ASK_M), token=BAD_TOKEN, json={"fields": {"Company": "x"}}), 401)
    assert_error(ask(OPEN, "cole", {}), 400)
    assert_error(ask("org/unknown-repo", "cole", {"Company": "x"}), 404)
    assert_error(ask(PRIVATE_GATED, "cole", {"Company": "x"}), 404, code="RepoNotFound")
    assert_error(http("POST", ask_path(PRIVATE_GATED), json={"fields": {"Company": "x"}}), 401)
    assert_error(me(PRIVATE_GATED, "cole"), 404, code="RepoNotFound")
    assert_error(http("POST", uar(PRIVATE_GATED, "cancel"), token=tok("cole")), 404, code="RepoNotFound")
    assert request_of(ASK_M, "cole") is None


# ------------------------------------------------------------------------------------- validation

VALID = {"Company": "ACME", "Country": "FR", "Date of birth": "1990-01-31", "Intended use": "Research",
         "I accept the license": True}


def _without(key):
    return {k: v for k, v in VALID.items() if k != key}


BAD_FORMS = [
    ("Company", _without("Company")),
    ("Company", dict(VALID, Company="")),
    ("Company", dict(VALID, Company="x" * 1001)),
    ("Company", dict(VALID, Company=5)),
    ("I accept the license", dict(VALID, **{"I accept the license": False})),
    ("I accept the license", _without("I accept the license")),
    ("Date of birth", dict(VALID, **{"Date of birth": "2023-02-29"})),
    ("Date of birth", dict(VALID, **{"Date of birth": "1990/01/31"})),
    ("Date of birth", dict(VALID, **{"Date of birth": "31-01-1990"})),
    ("Date of birth", dict(VALID, **{"Date of birth": "1990-13-01"})),
    ("Date of birth", dict(VALID, **{"Date of birth": ""})),
    ("Date of birth", dict(VALID, **{"Date of birth": "1990-01-31T00:00:00"})),
    ("Date of birth", dict(VALID, **{"Date of birth": 19900131})),
    ("Country", dict(VALID, Country="ZZ")),
    ("Country", dict(VALID, Country="France")),
    ("Country", dict(VALID, Country="")),
    ("Intended use", dict(VALID, **{"Intended use": "Gaming"})),
    ("Intended use", dict(VALID, **{"Intended use": ""})),
    ("Intended use", dict(VALID, **{"Intended use": ["Research"]})),
    ("Country", dict(VALID, Country=None)),
    ("Hobby", dict(VALID, Hobby="chess")),
]


@pytest.mark.parametrize("label,fields", BAD_FORMS, ids=[f"{i}-{lab}" for i, (lab, _) in enumerate(BAD_FORMS)])
def test_validation_refuses_and_stores_nothing(label, fields):
    r = ask(VALIDATE, "vic", fields)
    assert_error(r, 400)
    body = r.json()
    assert isinstance(body.get("fields"), list) and body["fields"], body
    for f in body["fields"]:
        assert isinstance(f.get("label"), str) and isinstance(f.get("message"), str) and f["message"], body
    assert label in [f["label"] for f in body["fields"]], body
    assert_error(me(VALIDATE, "vic"), 404)


def test_validation_error_header_is_safe():
    r = ask(VALIDATE, "vic", dict(VALID, **{"Farbe ü\r\nX-Evil: 1": "x"}))
    assert_error(r, 400)
    assert "x-evil" not in r.headers
    assert_error(me(VALIDATE, "vic"), 404)


@pytest.mark.parametrize("body", [{}, {"fields": ["Company"]}, {"fields": "ACME"}, {"fields": None}, [], "x"],
                         ids=repr)
def test_validation_bad_shapes(body):
    assert_error(http("POST", ask_path(VALIDATE), token=tok("vic"), json=body), 400)
    assert_error(me(VALIDATE, "vic"), 404)


def test_validation_accepts_valid_forms():
    r = ask(VALIDATE, "val", VALID)
    assert_status(r, 200)
    assert r.json()["fields"] == VALID
    edge = {"Company": "y" * 1000, "Country": "JP", "Date of birth": "2024-02-29", "Intended use": "other",
            "I accept the license": True}
    r = ask(VALIDATE, "vera", edge)
    assert_status(r, 200)
    assert request_of(VALIDATE, "vera")["fields"] == edge


def test_validation_counts_characters_not_bytes():
    fields = dict(VALID, Company="é" * 999 + "😀")  # 1000 characters, 2002 bytes
    r = ask(VALIDATE, "vlad", fields)
    assert_status(r, 200)
    assert request_of(VALIDATE, "vlad")["fields"]["Company"] == fields["Company"]


def test_concurrent_asks_store_one_request():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda i: ask(ASK_M, "kit", {"Company": f"Kit {i}"}).status_code, range(8)))
    assert codes[0] == 200 and all(c == 409 for c in codes[1:]), codes
    listed = [e for e in list_raw(ASK_M, "pending") if e["user"]["user"] == "kit"]
    assert len(listed) == 1


# ------------------------------------------------------------------------------------- cancel / me


def cancel(rid, user, kind="model"):
    return http("POST", uar(rid, "cancel", kind), token=tok(user))


def test_withdraw_pending_then_ask_again():
    assert request_of(CANCEL_M, "cal")["status"] == "pending"
    r = cancel(CANCEL_M, "cal")
    assert_status(r, 200)
    assert r.json() == {"ok": True}
    assert request_of(CANCEL_M, "cal") is None
    assert_error(me(CANCEL_M, "cal"), 404)
    with pytest.raises(GatedRepoError) as ei:
        HfApi(endpoint=EP, token=tok("cal")).auth_check(CANCEL_M)
    assert ei.value.response.headers["x-error-message"] in msg_not_in_list("model", CANCEL_M)
    assert_error(cancel(CANCEL_M, "cal"), 404)
    r = ask(CANCEL_M, "cal", {"Company": "Cal again"})
    assert_status(r, 200)
    assert r.json()["status"] == "pending"
    assert request_of(CANCEL_M, "cal")["fields"] == {"Company": "Cal again"}


def test_withdraw_accepted_revokes_access():
    HfApi(endpoint=EP, token=tok("cat")).auth_check(CANCEL_M)
    r = cancel(CANCEL_M, "cat")
    assert_status(r, 200)
    assert r.json() == {"ok": True}
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("cat")).auth_check(CANCEL_M)
    assert request_of(CANCEL_M, "cat") is None


def test_withdraw_rejected_is_forbidden():
    assert_error(cancel(CANCEL_M, "cody"), 403)
    assert request_of(CANCEL_M, "cody")["status"] == "rejected"


def test_withdraw_none_and_anonymous():
    assert_error(cancel(CANCEL_M, "cole"), 404)
    assert_error(http("POST", uar(CANCEL_M, "cancel")), 401)


def test_me():
    m = me(CANCEL_M, "cody")
    assert_status(m, 200)
    check_request_json(m.json(), "cody", "rejected", {"Company": "cody Corp"})
    assert_error(me(CANCEL_M, "cole"), 404)
    assert_error(http("GET", uar(CANCEL_M, "me")), 401)


def test_request_id_is_stable_across_changes():
    r = ask(RID_M, "rid", {"Company": "Rid"})
    assert_status(r, 200)
    rid = r.json()["requestId"]
    r = http("POST", uar(RID_M, "handle"), token=OWNER_W, json={"requestId": rid, "status": "accepted"})
    assert_status(r, 200)
    m = me(RID_M, "rid").json()
    assert m["requestId"] == rid and m["status"] == "accepted"
    owner.reject_access_request(RID_M, "rid", rejection_reason="changed my mind")
    assert request_of(RID_M, "rid")["requestId"] == rid
    assert me(RID_M, "rid").json()["status"] == "rejected"
    owner.cancel_access_request(RID_M, request_id=rid)
    el = request_of(RID_M, "rid")
    assert el["status"] == "pending" and el["requestId"] == rid
    assert el["fields"] == {"Company": "Rid"}
