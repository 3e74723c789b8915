"""model_info / dataset_info / space_info / repo_exists / `hf models info` (hf-wire §8)."""

from __future__ import annotations

from datetime import datetime

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from support import (BADCARD, COMPANY_COUNTRY, EP, HEX40_RE, INFO_D, INFO_M, INFO_PROMPT, INFO_RT, INFO_S, MALLORY_W,
                     OPEN, OWNER_R, OWNER_W, PRIVATE, READER_W, TIME_RE, WRITER_W, api_path, assert_error,
                     assert_status, cli_out, hf_cli, http, parse_json_output, tok)

MANAGER_KEYS = {"gatedNotificationsMode", "gatedNotificationsEmail", "cardError"}


def api(token):
    return HfApi(endpoint=EP, token=token)


@pytest.mark.parametrize("token", [False, tok("ada"), OWNER_W, MALLORY_W], ids=["anonymous", "user", "owner", "outsider"])
def test_model_info_gated_repo_for_everyone(token):
    info = api(token).model_info(INFO_M)
    assert info.id == INFO_M
    assert info.gated == "manual"
    assert info.private is False
    assert info.disabled is False
    assert HEX40_RE.match(info.sha), info.sha
    assert info.author == "org"
    assert isinstance(info.last_modified, datetime) and info.last_modified.tzinfo is not None
    assert isinstance(info.created_at, datetime)
    card = info.card_data.to_dict()
    assert card["extra_gated_fields"] == COMPANY_COUNTRY
    assert card["extra_gated_prompt"] == INFO_PROMPT
    assert card.get("license") == "mit"
    sib = {s.rfilename: s for s in info.siblings}
    assert {"config.json", "weights/model.bin"} <= set(sib), list(sib)
    assert sib["config.json"].size == len('{"a": 1}')
    assert sib["weights/model.bin"].size == 10
    assert sib["config.json"].blob_id and HEX40_RE.match(sib["config.json"].blob_id)


def test_raw_model_info_shape():
    r = http("GET", api_path(INFO_M))
    assert_status(r, 200)
    body = r.json()
    for key in ("_id", "id", "author", "sha", "private", "disabled", "gated", "lastModified", "createdAt",
                "cardData", "siblings", "tags", "downloads", "likes"):
        assert key in body, f"missing {key}: {sorted(body)}"
    assert body["id"] == INFO_M and body["gated"] == "manual"
    assert body["disabled"] is False and body["private"] is False
    assert body["tags"] == [] or isinstance(body["tags"], list)
    assert body["downloads"] == 0 and body["likes"] == 0
    assert TIME_RE.match(body["lastModified"]) and TIME_RE.match(body["createdAt"])
    for s in body["siblings"]:
        assert set(s) >= {"rfilename", "size", "blobId"}
    assert not (MANAGER_KEYS & set(body)), "anonymous callers must not see manager-only keys"


def test_not_gated_repo_reports_false():
    info = api(False).model_info(OPEN)
    assert info.gated is False
    assert http("GET", api_path(OPEN)).json()["gated"] is False


def test_dataset_info():
    info = api(tok("ada")).dataset_info(INFO_D)
    assert info.id == INFO_D and info.gated == "auto"
    assert info.card_data.to_dict()["extra_gated_fields"] == {"Company": "text"}
    assert HEX40_RE.match(info.sha)
    assert "data.csv" in {s.rfilename for s in info.siblings}
    with pytest.raises(RepositoryNotFoundError):
        api(OWNER_W).model_info(INFO_D)


def test_space_info():
    info = api(False).space_info(INFO_S)
    assert info.id == INFO_S and info.gated == "manual"
    assert info.card_data.to_dict()["extra_gated_fields"] == {"Company": "text"}
    assert "app.py" in {s.rfilename for s in info.siblings}


def test_repo_exists():
    assert api(False).repo_exists(INFO_M)
    assert api(tok("ada")).repo_exists(INFO_M)
    assert api(False).repo_exists(INFO_D, repo_type="dataset")
    assert not api(False).repo_exists("org/nope-nope")
    assert not api(OWNER_W).repo_exists("org/nope-nope")
    assert not api(False).repo_exists(PRIVATE)
    assert not api(MALLORY_W).repo_exists(PRIVATE)
    assert api(OWNER_W).repo_exists(PRIVATE)


def test_private_repo_info():
    assert api(OWNER_W).model_info(PRIVATE).private is True
    assert api(READER_W).model_info(PRIVATE).private is True
    for token in (False, MALLORY_W, tok("ada")):
        with pytest.raises(RepositoryNotFoundError):
            api(token).model_info(PRIVATE)
    assert_error(http("GET", api_path(PRIVATE)), 401, code="RepoNotFound")
    assert_error(http("GET", api_path(PRIVATE), token=MALLORY_W), 404, code="RepoNotFound")
    assert_error(http("GET", api_path("org/absent")), (401, 404), code="RepoNotFound")
    assert_error(http("GET", api_path("org/absent"), token=OWNER_W), 404, code="RepoNotFound")


@pytest.mark.parametrize("token", [OWNER_W, WRITER_W], ids=["admin", "write-member"])
def test_managers_see_notification_settings(token):
    body = http("GET", api_path(INFO_M), token=token).json()
    assert body["gatedNotificationsMode"] == "bulk"
    assert body["gatedNotificationsEmail"] == "team@example.com"
    assert "cardError" not in body or body["cardError"] in (None, "")
    rt = http("GET", api_path(INFO_RT), token=token).json()
    assert rt["gatedNotificationsMode"] == "real-time"
    assert "gatedNotificationsEmail" in rt and rt["gatedNotificationsEmail"] is None


@pytest.mark.parametrize("token", [None, OWNER_R, READER_W, MALLORY_W, tok("ada")],
                         ids=["anonymous", "owner-read-token", "read-member", "outsider", "user"])
def test_non_managers_never_see_manager_keys(token):
    for rid in (INFO_M, INFO_RT, BADCARD):
        body = http("GET", api_path(rid), token=token).json()
        assert not (MANAGER_KEYS & set(body)), f"{rid}: {sorted(MANAGER_KEYS & set(body))}"


def test_card_error_for_managers_only():
    body = http("GET", api_path(BADCARD), token=OWNER_W).json()
    assert isinstance(body.get("cardError"), str) and body["cardError"], body
    assert body["gated"] == "manual"
    assert "cardError" not in http("GET", api_path(BADCARD)).json()


def test_cli_models_info():
    cp = hf_cli("models", "info", INFO_M, "--format", "json")
    assert cp.returncode == 0, cli_out(cp)
    data = parse_json_output(cp.stdout)
    assert data["id"] == INFO_M
    assert data["gated"] == "manual"
    cp = hf_cli("models", "info", INFO_M)
    assert cp.returncode == 0 and INFO_M in cp.stdout, cli_out(cp)
    cp = hf_cli("models", "info", "org/nothing-here")
    assert cp.returncode != 0 and "not found" in (cp.stdout + cp.stderr).lower(), cli_out(cp)


def test_model_info_query_parameters():
    # the client adds these query parameters; the server may ignore them but must answer the same repo
    info = api(OWNER_W).model_info(INFO_M, expand=["gated", "cardData"])
    assert info.id == INFO_M and info.gated == "manual"
    info = api(OWNER_W).model_info(INFO_M, files_metadata=True)
    assert "config.json" in {s.rfilename for s in info.siblings}
    info = api(False).model_info(INFO_M, securityStatus=True)
    assert info.gated == "manual"


def test_one_segment_ids():
    with pytest.raises(RepositoryNotFoundError):
        api(OWNER_W).model_info("gpt2")
    assert_error(http("GET", api_path("gpt2"), token=OWNER_W), 404, code="RepoNotFound")
    assert_error(http("GET", api_path("gpt2", suffix="/auth-check"), token=OWNER_W), 404, code="RepoNotFound")
    assert not api(False).repo_exists("gpt2")
