"""The admin commands manage a data dir, with or without a server running on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError
import pytest

from support import GATEHOUSE_BIN, http, store_args


def admin(data_dir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    cp = subprocess.run([str(GATEHOUSE_BIN), "--data-dir", str(data_dir), *store_args(data_dir), *args],
                        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if ok:
        assert cp.returncode == 0, f"{args}: {cp.stderr}"
    return cp


def test_admin_commands_build_a_working_gated_repo_while_the_server_runs(gatehouse_factory, tmp_path):
    data = tmp_path / "admin-data"
    srv = gatehouse_factory(None, data_dir=data).start()
    admin(data, "user", "add", "ann", "--fullname", "Ann Admin", "--email", "ann@example.com")
    admin(data, "user", "add", "rey", "--fullname", "Rey Requester", "--email", "rey@example.com")
    admin(data, "org", "add", "lab", "--fullname", "The Lab")
    admin(data, "org", "add-member", "lab", "ann", "--role", "admin")
    owner_token = admin(data, "token", "create", "ann", "--name", "laptop", "--role", "write").stdout.strip()
    rey_token = admin(data, "token", "create", "rey", "--name", "cli").stdout.strip()
    assert owner_token.startswith("hf_") and len(owner_token) == 37
    admin(data, "repo", "create", "lab/model", "--gated", "manual")
    readme = tmp_path / "README.md"
    readme.write_text("---\nextra_gated_fields:\n  Company: text\n---\n# Lab model\n")
    admin(data, "repo", "readme", "lab/model", str(readme))

    owner = HfApi(endpoint=srv.endpoint, token=owner_token)
    assert owner.whoami()["orgs"][0]["name"] == "lab"
    info = owner.model_info("lab/model")
    assert info.gated == "manual"
    assert info.card_data.to_dict()["extra_gated_fields"] == {"Company": "text"}

    rey = HfApi(endpoint=srv.endpoint, token=rey_token)
    with pytest.raises(GatedRepoError):
        rey.auth_check("lab/model")
    r = http("POST", f"{srv.endpoint}/lab/model/ask-access", token=rey_token, json={"fields": {"Company": "ACME"}})
    assert r.status_code == 200, r.text
    owner.accept_access_request("lab/model", "rey")
    rey.auth_check("lab/model")

    admin(data, "token", "revoke", "rey", "cli")
    with pytest.raises(HfHubHTTPError):
        rey.whoami()
    admin(data, "org", "remove-member", "lab", "ann")
    with pytest.raises(HfHubHTTPError):
        owner.update_repo_settings("lab/model", gated="auto")


def test_admin_commands_refuse_bad_input_with_a_message(tmp_path):
    data = tmp_path / "bad-admin"
    admin(data, "user", "add", "ann")
    for args in (
        ("user", "add", "ann"),                                  # taken
        ("user", "add", "bad name"),                             # invalid name
        ("user", "add", "eve", "--email", "not-an-email"),
        ("user", "add", "eve", "--fullname", "x" * 201),            # full names are at most 200 characters
        ("token", "create", "ann", "--name", "x" * 201),            # so are token names
        ("org", "add", "ann"),                                   # users and orgs share names
        ("org", "add-member", "nolab", "ann"),                   # unknown org
        ("token", "create", "ghost", "--name", "x"),             # unknown user
        ("token", "revoke", "ann", "missing"),
        ("repo", "create", "nobody/model"),                      # unknown namespace
        ("repo", "create", "ann/model", "--gated", "sometimes"),
        ("repo", "create", "gpt2"),                              # one segment needs --owner
        ("repo", "readme", "ann/missing", str(tmp_path / "nope.md")),
    ):
        cp = admin(data, *args, ok=False)
        assert cp.returncode != 0, args
        assert cp.stderr.strip(), args
        assert "panicked" not in cp.stderr, args
    admin(data, "repo", "create", "gpt2", "--owner", "ann")
