"""whoami-v2, login (API and `hf auth login`), `hf auth whoami` (hf-wire §5)."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from support import (BAD_TOKEN, CLIENT_ENV, EP, MALLORY_W, OWNER_R, OWNER_W, READER_W, TIME_RE, WRITER_W,
                     assert_error, cli_out, email, fullname, hf_cli, http, parse_json_output, tok)


def test_whoami_full_shape_owner_write_token():
    info = HfApi(endpoint=EP, token=OWNER_W).whoami(cache=False)
    assert info["type"] == "user"
    assert info["name"] == "owner"
    assert info["fullname"] == fullname("owner")
    assert info["email"] == email("owner")
    assert isinstance(info["id"], str) and info["id"]
    assert isinstance(info["orgs"], list)
    orgs = {o["name"]: o for o in info["orgs"]}
    assert set(orgs) == {"org"}
    assert orgs["org"]["roleInOrg"] == "admin"
    assert orgs["org"].get("type", "org") == "org"
    auth = info["auth"]
    assert auth["type"] == "access_token"
    at = auth["accessToken"]
    assert at["displayName"] == "ci-token"
    assert at["role"] == "write"
    assert TIME_RE.match(at["createdAt"]), at


@pytest.mark.parametrize("token,name,role,org_role", [
    (OWNER_R, "owner", "read", "admin"),
    (WRITER_W, "writer", "write", "write"),
    (READER_W, "reader", "write", "read"),
])
def test_whoami_roles(token, name, role, org_role):
    info = HfApi(endpoint=EP, token=token).whoami(cache=False)
    assert info["name"] == name
    assert info["auth"]["accessToken"]["role"] == role
    assert [(o["name"], o["roleInOrg"]) for o in info["orgs"]] == [("org", org_role)]


def test_whoami_user_without_orgs_and_outsider():
    info = HfApi(endpoint=EP, token=tok("ada")).whoami(cache=False)
    assert info["name"] == "ada" and info["orgs"] == []
    assert info["auth"]["accessToken"]["displayName"] == "ada-read"
    info = HfApi(endpoint=EP, token=MALLORY_W).whoami(cache=False)
    assert [o["name"] for o in info["orgs"]] == ["other"]


def test_whoami_bad_token_raises():
    with pytest.raises(HfHubHTTPError, match="Invalid user token"):
        HfApi(endpoint=EP, token=BAD_TOKEN).whoami(cache=False)


def test_whoami_raw_errors():
    assert_error(http("GET", "/api/whoami-v2", token=BAD_TOKEN), 401)
    assert_error(http("GET", "/api/whoami-v2"), 401)
    assert_error(http("GET", "/api/whoami-v2", headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401)
    assert_error(http("GET", "/api/whoami-v2", headers={"Authorization": "Bearer"}), 401)


def _read_stored_tokens(hf_home: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser()
    cp.read(hf_home / "stored_tokens")
    return cp


def test_cli_login_then_whoami(tmp_path):
    home = tmp_path / "hf_home"
    cp = hf_cli("auth", "login", "--token", OWNER_W, hf_home=home)
    assert cp.returncode == 0, cli_out(cp)
    assert (home / "token").read_text().strip() == OWNER_W
    stored = _read_stored_tokens(home)
    assert "ci-token" in stored.sections(), (home / "stored_tokens").read_text()
    assert stored["ci-token"]["hf_token"] == OWNER_W

    cp = hf_cli("auth", "whoami", hf_home=home)
    assert cp.returncode == 0, cli_out(cp)
    assert "owner" in cp.stdout and "org" in cp.stdout, cli_out(cp)
    assert EP in cp.stdout, cli_out(cp)

    cp = hf_cli("auth", "whoami", "--format", "json", hf_home=home)
    assert cp.returncode == 0, cli_out(cp)
    data = parse_json_output(cp.stdout)
    assert data["user"] == "owner", data
    assert "org" in str(data.get("orgs")), data


def test_cli_login_second_token_stored_by_display_name(tmp_path):
    home = tmp_path / "hf_home"
    for token in (OWNER_W, tok("ada")):
        cp = hf_cli("auth", "login", "--token", token, hf_home=home)
        assert cp.returncode == 0, cli_out(cp)
    stored = _read_stored_tokens(home)
    assert {"ci-token", "ada-read"} <= set(stored.sections())
    assert stored["ada-read"]["hf_token"] == tok("ada")
    assert (home / "token").read_text().strip() == tok("ada")
    cp = hf_cli("auth", "whoami", hf_home=home)
    assert cp.returncode == 0 and "ada" in cp.stdout, cli_out(cp)


def test_cli_login_bad_token_fails(tmp_path):
    home = tmp_path / "hf_home"
    cp = hf_cli("auth", "login", "--token", BAD_TOKEN, hf_home=home)
    assert cp.returncode != 0, cli_out(cp)
    assert "Invalid user token" in cp.stdout + cp.stderr, cli_out(cp)
    assert not (home / "token").exists()


def test_cli_whoami_not_logged_in(tmp_path):
    cp = hf_cli("auth", "whoami", hf_home=tmp_path / "empty_home")
    assert cp.returncode != 0, cli_out(cp)


def test_python_login_writes_token_files(tmp_path):
    home = tmp_path / "hf_home"
    env = dict(CLIENT_ENV, HF_HOME=str(home), PATH="/usr/bin:/bin")
    code = (
        "from huggingface_hub import login, whoami\n"
        f"login(token={WRITER_W!r})\n"
        "print(whoami()['name'])\n"
    )
    cp = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cli_out(cp)
    assert cp.stdout.strip().splitlines()[-1] == "writer"
    assert (home / "token").read_text().strip() == WRITER_W
    assert _read_stored_tokens(home)["writer-write"]["hf_token"] == WRITER_W


def test_agent_harnesses_answers_quickly():
    r = http("GET", "/api/agent-harnesses")
    assert r.status_code in (200, 404), r.text
    if r.status_code == 200:
        assert r.json() == {"standardEnvVars": [], "harnesses": {}}
    assert r.elapsed.total_seconds() < 2

