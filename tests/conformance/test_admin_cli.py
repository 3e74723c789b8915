"""The admin commands manage a data dir, with or without a server running on it (which then runs
them: it holds the embedded store while it runs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError
import pytest

from support import GATEHOUSE_BIN, card, http, store_args, tok, write_seed


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


@pytest.mark.skipif(os.environ.get("GATEHOUSE_TEST_STORE", "sqlite") == "dynamodb",
                    reason="the embedded store's data dir is one server's; a table is shared by design")
def test_a_served_data_dir_is_the_servers_alone_and_a_killed_servers_socket_is_no_obstacle(
        gatehouse_factory, tmp_path):
    data = tmp_path / "owned"
    srv = gatehouse_factory(None, data_dir=data).start()
    assert (data / "admin.sock").stat().st_mode & 0o777 == 0o600

    second = subprocess.run([str(GATEHOUSE_BIN), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert second.returncode != 0
    assert "is held by another process" in second.stderr, second.stderr

    # Through the server, from another directory, with a path relative to it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "weights.bin").write_bytes(b"\x00" * 1000)
    run = lambda *args: subprocess.run([str(GATEHOUSE_BIN), "--data-dir", str(data), *args], cwd=elsewhere,
                                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run("user", "add", "ann").returncode == 0
    assert run("repo", "create", "ann/model").returncode == 0
    uploaded = run("repo", "upload", "ann/model", "weights.bin")
    assert uploaded.returncode == 0, uploaded.stderr
    assert "(1 files)" in uploaded.stdout
    refused = run("user", "add", "ann")
    assert refused.returncode != 0 and "ann" in refused.stderr

    srv.stop(hard=True)
    assert (data / "admin.sock").exists()
    token = admin(data, "token", "create", "ann", "--name", "laptop").stdout.strip()
    srv = gatehouse_factory(None, data_dir=data).start()
    ann = HfApi(endpoint=srv.endpoint, token=token)
    assert ann.whoami()["name"] == "ann"
    assert ann.list_repo_files("ann/model") == ["weights.bin"]
    srv.stop()
    assert not (data / "admin.sock").exists()


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


def serve_refused_seed(data_dir: Path, seed: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """`gatehouse serve --seed` with a seed that must not load: it exits before it listens."""
    path = write_seed(data_dir.parent / f"{data_dir.name}-seed.yaml", seed)
    cp = subprocess.run([str(GATEHOUSE_BIN), *store_args(data_dir), "serve", "--addr", "127.0.0.1:0",
                         "--data-dir", str(data_dir), "--seed", str(path)],
                        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert cp.returncode != 0, f"the seed loaded: {cp.stderr}"
    assert "panicked" not in cp.stderr, cp.stderr
    return cp


EARLY = {"name": "early", "fullname": "Early Bird", "email": "early@example.com"}
EARLY_TOKEN = {"user": "early", "role": "read", "name": "early-read", "value": tok("early")}


def test_a_bad_seed_is_refused_with_a_message_and_writes_nothing(gatehouse_factory, tmp_path):
    data = tmp_path / "bad-seed"
    start = {"users": [EARLY], "tokens": [EARLY_TOKEN]}
    for seed, expected in (
        ({**start, "tokens": [EARLY_TOKEN, {"user": "ghost", "role": "read", "name": "x"}]},
         "'ghost' is no user of the seed or the store"),
        ({**start, "requests": [{"repo": "early/nope", "user": "early", "status": "pending"}]},
         "model early/nope is not in the seed or the store"),
        ({**start, "users": [EARLY, EARLY]}, "user 'early' is in the seed twice"),
        ({**start, "orgs": [{"name": "lab", "members": [{"user": "ghost", "role": "read"}]}]},
         "member 'ghost' is no user"),
        ({**start, "repos": [{"id": "early/m", "readme": card(None, license="x" * 70_000)}]},
         "front matter is larger than"),
    ):
        cp = serve_refused_seed(data, seed)
        assert "the seed was refused, and nothing of it was written" in cp.stderr, cp.stderr
        assert expected in cp.stderr, cp.stderr

    # Nothing was written: the store is still empty, so a good seed loads into it.
    late = {"name": "late", "fullname": "Late Comer", "email": "late@example.com"}
    good = {"users": [late], "tokens": [{"user": "late", "role": "read", "name": "r", "value": tok("late")}]}
    srv = gatehouse_factory(good, data_dir=data).start()
    assert http("GET", f"{srv.endpoint}/api/whoami-v2", token=tok("late")).json()["name"] == "late"
    assert http("GET", f"{srv.endpoint}/api/whoami-v2", token=tok("early")).status_code == 401


def test_a_seed_whose_writes_fail_part_way_says_what_it_wrote(tmp_path):
    data = tmp_path / "half-seed"
    data.mkdir()
    (data / "blobs").write_text("")  # file contents cannot be written under a file
    seed = {"users": [EARLY], "repos": [{"id": "early/m", "gated": False, "files": {"config.json": "{}"}}]}
    cp = serve_refused_seed(data, seed)
    assert "the seed stopped at the files of model early/m (the repo itself was created)" in cp.stderr, cp.stderr
    assert "1 of 1 users, 0 of 1 repos" in cp.stderr, cp.stderr
    if os.environ.get("GATEHOUSE_TEST_STORE", "sqlite") == "dynamodb":
        assert "Drop the table before seeding again" in cp.stderr, cp.stderr
    else:
        assert "nothing of it was kept" in cp.stderr, cp.stderr
        assert not any(data.iterdir())
