"""extra_gated_eu_disallowed (hf-wire §11.4): a gated repo whose card keeps the EU out refuses
viewers whose CloudFront-Viewer-Country is an EU member state with a GatedRepo answer, on
auth_check and on ask-access, and stores nothing: org/m-eu, org/m-eu-ask, org/m-eu-open."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError

from support import (COMPANY, EP, EU_ASK, EU_M, EU_OPEN, OWNER_R, READER_W, api_path, ask_path, assert_error,
                     assert_status, http, msg_anonymous, msg_eu_disallowed, msg_not_in_list, request_of, tok)

COUNTRY = "CloudFront-Viewer-Country"


def api(token, country: str | None = None) -> HfApi:
    """The client as a viewer in `country`: CloudFront sets the header in production."""
    return HfApi(endpoint=EP, token=token, headers={COUNTRY: country} if country else None)


def test_auth_check_from_the_eu_raises_gated_repo_error_for_an_accepted_user():
    with pytest.raises(GatedRepoError) as ei:
        api(tok("eve"), "FR").auth_check(EU_M)
    response = ei.value.response
    assert response.status_code == 403
    assert response.headers["x-error-code"] == "GatedRepo"
    assert response.headers["x-error-message"] == msg_eu_disallowed("model", EU_M)


def test_auth_check_from_outside_the_eu_or_without_a_country_succeeds_for_an_accepted_user():
    assert api(tok("eve"), "US").auth_check(EU_M) is None
    assert api(tok("eve")).auth_check(EU_M) is None


def test_an_anonymous_viewer_in_the_eu_gets_the_region_answer_with_401():
    with pytest.raises(GatedRepoError) as ei:
        api(False, "DE").auth_check(EU_M)
    assert ei.value.response.status_code == 401
    assert ei.value.response.headers["x-error-message"] == msg_eu_disallowed("model", EU_M)
    # Outside the EU the usual anonymous answer stands.
    with pytest.raises(GatedRepoError) as ei:
        api(False, "US").auth_check(EU_M)
    assert ei.value.response.headers["x-error-message"] == msg_anonymous("model", EU_M)


@pytest.mark.parametrize("token", [OWNER_R, READER_W], ids=["owner", "read-member"])
def test_the_repos_namespace_keeps_access_from_the_eu(token):
    assert api(token, "FR").auth_check(EU_M) is None


def test_an_ungated_repo_ignores_the_flag():
    assert api(False, "FR").auth_check(EU_OPEN) is None


def test_ask_access_from_the_eu_is_refused_and_stores_nothing_then_works_from_outside():
    fields = {"fields": {label: "ACME" for label in COMPANY}}
    refused = http("POST", ask_path(EU_ASK), token=tok("eli"), json=fields, headers={COUNTRY: "FR"})
    assert_error(refused, 403, code="GatedRepo", message=msg_eu_disallowed("model", EU_ASK))
    assert request_of(EU_ASK, "eli") is None
    with pytest.raises(GatedRepoError) as ei:
        api(tok("eli"), "US").auth_check(EU_ASK)
    assert ei.value.response.headers["x-error-message"] in msg_not_in_list("model", EU_ASK)
    asked = http("POST", ask_path(EU_ASK), token=tok("eli"), json=fields, headers={COUNTRY: "US"})
    assert_status(asked, 200)
    assert asked.json()["status"] == "pending"
    assert request_of(EU_ASK, "eli")["status"] == "pending"
    assert_error(http("GET", api_path(EU_ASK, suffix="/auth-check"), token=tok("eli"), headers={COUNTRY: "IT"}),
                 403, code="GatedRepo", message=msg_eu_disallowed("model", EU_ASK))


def test_a_download_from_the_eu_raises_gated_repo_error_for_an_accepted_user(tmp_path):
    with pytest.raises(GatedRepoError) as ei:
        hf_hub_download(EU_M, "config.json", token=tok("eve"), cache_dir=tmp_path / "fr",
                        headers={COUNTRY: "FR"})
    assert ei.value.response.status_code == 403
    assert ei.value.response.headers["x-error-message"] == msg_eu_disallowed("model", EU_M)
    path = hf_hub_download(EU_M, "config.json", token=tok("eve"), cache_dir=tmp_path / "us",
                           headers={COUNTRY: "US"})
    assert (tmp_path / "us").exists() and path
