"""update_repo_settings, notification settings, `hf repos settings` (hf-wire §9)."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from support import (EP, MALLORY_W, OWNER_R, OWNER_W, READER_W, SET_ATOMIC, SET_CLI, SET_GATE, SET_GATE_D, SET_NOTIFY,
                     SET_PERM, SET_PRIV, WRITER_W, api_path, assert_error, assert_status, cli_out, hf_cli, http, tok)

owner = HfApi(endpoint=EP, token=OWNER_W)
anon = HfApi(endpoint=EP, token=False)


def settings_path(rid, kind="model"):
    return api_path(rid, kind, "/settings")


def manager_view(rid, kind="model"):
    r = http("GET", api_path(rid, kind), token=OWNER_W)
    assert_status(r, 200)
    return r.json()


def test_gated_auto_manual_false():
    assert anon.model_info(SET_GATE).gated is False
    owner.update_repo_settings(SET_GATE, gated="auto")
    assert anon.model_info(SET_GATE).gated == "auto"
    owner.update_repo_settings(SET_GATE, gated="manual")
    assert anon.model_info(SET_GATE).gated == "manual"
    owner.update_repo_settings(SET_GATE, gated=False)
    assert anon.model_info(SET_GATE).gated is False
    assert http("GET", api_path(SET_GATE)).json()["gated"] is False


def test_dataset_gating_by_write_member():
    HfApi(endpoint=EP, token=WRITER_W).update_repo_settings(SET_GATE_D, gated="manual", repo_type="dataset")
    assert anon.dataset_info(SET_GATE_D).gated == "manual"
    owner.update_repo_settings(SET_GATE_D, gated=False, repo_type="dataset")
    assert anon.dataset_info(SET_GATE_D).gated is False


def test_private_then_public():
    owner.update_repo_settings(SET_PRIV, private=True)
    with pytest.raises(RepositoryNotFoundError):
        anon.model_info(SET_PRIV)
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=EP, token=tok("ada")).model_info(SET_PRIV)
    assert owner.model_info(SET_PRIV).private is True
    owner.update_repo_settings(SET_PRIV, private=False)
    assert anon.model_info(SET_PRIV).private is False
    # 0.x clients send {"private": bool}
    r = http("PUT", settings_path(SET_PRIV), token=OWNER_W, json={"private": True})
    assert_status(r, 200)
    assert_error(http("GET", api_path(SET_PRIV)), 401, code="RepoNotFound")
    r = http("PUT", settings_path(SET_PRIV), token=OWNER_W, json={"visibility": "public", "gated": "auto"})
    assert_status(r, 200)
    info = anon.model_info(SET_PRIV)
    assert info.private is False and info.gated == "auto"


def test_settings_echo_is_json():
    r = http("PUT", settings_path(SET_PERM), token=OWNER_W, json={"gated": "manual"})
    assert_status(r, 200)
    body = r.json()
    assert isinstance(body, dict)
    assert body.get("gated") == "manual"


def test_notification_settings():
    v = manager_view(SET_NOTIFY)
    assert v["gatedNotificationsMode"] == "bulk" and v["gatedNotificationsEmail"] == "team@example.com"

    r = http("PUT", settings_path(SET_NOTIFY), token=OWNER_W,
             json={"gatedNotificationsMode": "real-time", "gatedNotificationsEmail": "ops@example.com"})
    assert_status(r, 200)
    body = r.json()
    assert body.get("gatedNotificationsMode") == "real-time"
    assert body.get("gatedNotificationsEmail") == "ops@example.com"
    v = manager_view(SET_NOTIFY)
    assert v["gatedNotificationsMode"] == "real-time" and v["gatedNotificationsEmail"] == "ops@example.com"

    r = http("PUT", settings_path(SET_NOTIFY), token=WRITER_W, json={"gatedNotificationsEmail": None})
    assert_status(r, 200)
    v = manager_view(SET_NOTIFY)
    assert v["gatedNotificationsEmail"] is None and v["gatedNotificationsMode"] == "real-time"

    r = http("PUT", settings_path(SET_NOTIFY), token=OWNER_W, json={"gatedNotificationsMode": "bulk"})
    assert_status(r, 200)
    assert manager_view(SET_NOTIFY)["gatedNotificationsMode"] == "bulk"


@pytest.mark.parametrize("body", [
    {},
    {"bogus": 1},
    {"gated": "auto", "bogus": 1},
    {"gated": True},
    {"gated": "true"},
    {"gated": "false"},
    {"gated": None},
    {"gated": "Manual"},
    {"visibility": "secret"},
    {"visibility": "protected"},
    {"private": "yes"},
    {"gatedNotificationsMode": "daily"},
    {"gatedNotificationsMode": "weekly", "gated": "auto"},
    {"gatedNotificationsEmail": "not-an-email"},
    {"gatedNotificationsEmail": "a@b@c"},
    {"gatedNotificationsEmail": 5},
    {"gated": "auto", "gatedNotificationsEmail": "nope"},
    [],
    "gated",
    None,
], ids=lambda b: repr(b)[:40])
def test_bad_settings_are_400_and_atomic(body):
    before = manager_view(SET_ATOMIC)
    r = http("PUT", settings_path(SET_ATOMIC), token=OWNER_W, json=body)
    assert_error(r, 400)
    after = manager_view(SET_ATOMIC)
    for key in ("gated", "private", "gatedNotificationsMode", "gatedNotificationsEmail"):
        assert after.get(key) == before.get(key), f"{key} changed by a refused request"


def test_client_side_empty_payload():
    with pytest.raises(ValueError):
        owner.update_repo_settings(SET_ATOMIC)


@pytest.mark.parametrize("token,status", [(OWNER_R, 403), (READER_W, 403), (MALLORY_W, 403), (tok("ada"), 403),
                                          (None, 401)],
                         ids=["owner-read-token", "read-member", "outsider", "user-read-token", "anonymous"])
def test_settings_permissions(token, status):
    before = manager_view(SET_PERM)
    r = http("PUT", settings_path(SET_PERM), token=token, json={"gated": "auto"})
    assert_error(r, status)
    after = manager_view(SET_PERM)
    assert after["gated"] == before["gated"]
    if token is not None:
        with pytest.raises(HfHubHTTPError) as ei:
            HfApi(endpoint=EP, token=token).update_repo_settings(SET_PERM, gated="auto")
        assert ei.value.response.status_code == status


def test_settings_missing_repo():
    with pytest.raises(RepositoryNotFoundError):
        owner.update_repo_settings("org/not-there", gated="auto")
    assert_error(http("PUT", settings_path("org/not-there"), token=OWNER_W, json={"gated": "auto"}), 404,
                 code="RepoNotFound")


def test_cli_repos_settings(tmp_path):
    cp = hf_cli("repos", "settings", SET_CLI, "--gated", "manual", "--token", OWNER_W)
    assert cp.returncode == 0, cli_out(cp)
    assert anon.model_info(SET_CLI).gated == "manual"
    cp = hf_cli("repos", "settings", SET_CLI, "--gated", "auto", "--token", OWNER_W)
    assert cp.returncode == 0, cli_out(cp)
    assert anon.model_info(SET_CLI).gated == "auto"
    cp = hf_cli("repos", "settings", SET_CLI, "--gated", "false", "--token", OWNER_W)
    assert cp.returncode == 0, cli_out(cp)
    assert anon.model_info(SET_CLI).gated is False
    # a logged-in read token is refused
    cp = hf_cli("repos", "settings", SET_CLI, "--gated", "manual", "--token", OWNER_R)
    assert cp.returncode != 0, cli_out(cp)
    assert anon.model_info(SET_CLI).gated is False
