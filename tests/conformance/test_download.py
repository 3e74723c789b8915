"""Downloads (hf-wire §7, §6): hf_hub_download, snapshot_download, file_exists and `hf download`
see a gated repo's files exactly as on the Hub: the accepted requester, the owner and the org's
members get them; everyone else gets the GatedRepoError of their state. Repos: org/m-dl-open,
org/m-dl, org/d-dl, and a 50 MB file on a server of its own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (GatedRepoError, RemoteEntryNotFoundError, RepositoryNotFoundError,
                                    RevisionNotFoundError)

from support import (DL_D, DL_FILES, DL_M, DL_OPEN, EP, GATEHOUSE_BIN, HEX40_RE, MALLORY_W, OWNER_R,
                     PRIVATE_GATED, READER_W, assert_error, assert_status, cli_out, hf_cli, http, msg_anonymous,
                     msg_not_in_list, msg_pending, msg_rejected, store_args, tok)


def download(repo_id: str, filename: str, token, tmp_path: Path, **kwargs) -> str:
    """The file's text, downloaded into a cache of the test's own (so nothing is served from an
    earlier test's cache)."""
    path = hf_hub_download(repo_id, filename, token=token, cache_dir=tmp_path / "cache", **kwargs)
    return Path(path).read_text()


# ------------------------------------------------------------------ who gets the files


def test_anyone_downloads_an_ungated_repo_anonymously(tmp_path):
    assert download(DL_OPEN, "weights/model.bin", False, tmp_path) == DL_FILES["weights/model.bin"]


@pytest.mark.parametrize("token", [tok("duke"), OWNER_R, READER_W], ids=["accepted", "owner", "org-member"])
def test_the_accepted_requester_the_owner_and_an_org_member_download_a_gated_file(token, tmp_path):
    assert download(DL_M, "config.json", token, tmp_path) == DL_FILES["config.json"]


def test_an_anonymous_download_of_a_gated_file_raises_gated_repo_error_with_401(tmp_path):
    with pytest.raises(GatedRepoError) as ei:
        download(DL_M, "config.json", False, tmp_path)
    assert ei.value.response.status_code == 401
    assert ei.value.response.headers["x-error-message"] == msg_anonymous("model", DL_M)


@pytest.mark.parametrize(("user", "messages"), [
    ("dina", msg_not_in_list("model", DL_M)),
    ("dora", [msg_pending("model", DL_M)]),
    ("drew", [msg_rejected("model", DL_M)]),
], ids=["no-request", "pending", "rejected"])
def test_a_signed_in_user_without_access_gets_the_message_of_their_state(user, messages, tmp_path):
    with pytest.raises(GatedRepoError) as ei:
        download(DL_M, "config.json", tok(user), tmp_path)
    assert ei.value.response.status_code == 403
    assert ei.value.response.headers["x-error-code"] == "GatedRepo"
    assert ei.value.response.headers["x-error-message"] in messages
    assert not list((tmp_path / "cache").rglob("config.json"))


def test_an_outsider_cannot_tell_a_private_gated_repo_exists(tmp_path):
    with pytest.raises(RepositoryNotFoundError):
        download(PRIVATE_GATED, "config.json", MALLORY_W, tmp_path)


def test_a_gated_dataset_downloads_for_its_accepted_requester_only(tmp_path):
    assert download(DL_D, "data/train.csv", tok("duke"), tmp_path / "duke", repo_type="dataset") == "a,b\n1,2\n"
    # A cache of its own: huggingface_hub falls back to a cached copy when the HEAD fails.
    with pytest.raises(GatedRepoError):
        download(DL_D, "data/train.csv", tok("dina"), tmp_path / "dina", repo_type="dataset")


# ------------------------------------------------------------------ missing things


def test_a_missing_file_raises_entry_not_found_and_file_exists_says_false(tmp_path):
    with pytest.raises(RemoteEntryNotFoundError):
        download(DL_M, "no/such/file.bin", tok("duke"), tmp_path)
    api = HfApi(endpoint=EP, token=tok("duke"))
    assert api.file_exists(DL_M, "no/such/file.bin") is False
    assert api.file_exists(DL_M, "weights/model.bin") is True


def test_file_exists_raises_for_the_gate_rather_than_saying_false():
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=EP, token=tok("dina")).file_exists(DL_M, "config.json")


def test_an_unknown_revision_raises_revision_not_found(tmp_path):
    with pytest.raises(RevisionNotFoundError):
        download(DL_M, "config.json", tok("duke"), tmp_path, revision="v9.9")
    with pytest.raises(RevisionNotFoundError):
        download(DL_M, "config.json", tok("duke"), tmp_path, revision="0" * 40)


def test_the_head_commit_names_the_same_files_as_main(tmp_path):
    head = HfApi(endpoint=EP, token=tok("duke")).repo_info(DL_M).sha
    assert HEX40_RE.match(head)
    assert download(DL_M, "config.json", tok("duke"), tmp_path, revision=head) == DL_FILES["config.json"]


# ------------------------------------------------------------------ whole repos


def test_snapshot_download_fetches_every_file_of_a_gated_repo_for_the_accepted_requester(tmp_path):
    folder = Path(snapshot_download(DL_M, token=tok("duke"), cache_dir=tmp_path))
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert found == {"README.md", *DL_FILES}
    for name, text in DL_FILES.items():
        assert (folder / name).read_text() == text


def test_snapshot_download_of_a_gated_repo_raises_for_a_pending_requester(tmp_path):
    with pytest.raises(GatedRepoError) as ei:
        snapshot_download(DL_M, token=tok("dora"), cache_dir=tmp_path)
    assert ei.value.response.headers["x-error-message"] == msg_pending("model", DL_M)


def test_snapshot_download_of_an_ungated_dataset_folder_works_anonymously(tmp_path):
    folder = Path(snapshot_download(DL_OPEN, token=False, cache_dir=tmp_path, allow_patterns=["weights/*"]))
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert found == ["weights/extra/notes.txt", "weights/model.bin"]


def test_list_repo_files_lists_the_gated_repo_for_the_accepted_requester():
    files = HfApi(endpoint=EP, token=tok("duke")).list_repo_files(DL_M)
    assert sorted(files) == sorted(["README.md", *DL_FILES])


def test_the_hf_cli_downloads_for_the_accepted_requester_and_reports_the_gate_to_others(tmp_path):
    ok = hf_cli("download", DL_M, "config.json", "--local-dir", str(tmp_path / "ok"),
                env_extra={"HF_TOKEN": tok("duke")})
    assert ok.returncode == 0, cli_out(ok)
    assert (tmp_path / "ok" / "config.json").read_text() == DL_FILES["config.json"]
    refused = hf_cli("download", DL_M, "config.json", "--local-dir", str(tmp_path / "no"),
                     env_extra={"HF_TOKEN": tok("drew")})
    assert refused.returncode != 0, cli_out(refused)
    assert f"Model '{DL_M}' requires approval" in refused.stderr, cli_out(refused)
    assert not (tmp_path / "no" / "config.json").exists()


# ------------------------------------------------------------------ the wire


def test_head_answers_the_metadata_without_a_body():
    resp = http("HEAD", f"/{DL_M}/resolve/main/weights/model.bin", token=tok("duke"))
    assert_status(resp, 200)
    size = len(DL_FILES["weights/model.bin"])
    assert resp.headers["content-length"] == str(size)
    assert HEX40_RE.match(resp.headers["x-repo-commit"])
    blob = DL_FILES["weights/model.bin"].encode()
    git_oid = hashlib.sha1(b"blob %d\0" % len(blob) + blob).hexdigest()
    assert resp.headers["etag"] == f'"{git_oid}"'
    assert resp.content == b""


def test_a_range_is_answered_with_206_and_a_bad_one_with_a_clear_4xx():
    path = f"/{DL_M}/resolve/main/weights/model.bin"
    part = http("GET", path, token=tok("duke"), headers={"Range": "bytes=10-19"})
    assert_status(part, 206)
    assert part.content == b"0123456789"
    assert part.headers["content-range"] == "bytes 10-19/1000"
    past = http("GET", path, token=tok("duke"), headers={"Range": "bytes=5000-"})
    assert_status(past, 416)
    assert past.headers["content-range"] == "bytes */1000"
    assert_error(http("GET", path, token=tok("duke"), headers={"Range": "lines=1-2"}), 400)


@pytest.mark.parametrize("path", [
    f"/{DL_OPEN}/resolve/main/../../etc/passwd",
    f"/{DL_OPEN}/resolve/main/weights%2Fmodel.bin",
    f"/{DL_OPEN}/resolve/main/" + "a/" * 3000 + "x",
    f"/api/sheep/{DL_OPEN}/revision/main",
])
def test_hostile_paths_get_a_4xx_with_a_message(path):
    resp = http("GET", path)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert resp.headers.get("x-error-message")


# ------------------------------------------------------------------ a large file


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_50_mb_file_downloads_whole_and_by_range_with_flat_server_memory(gatehouse_factory, tmp_path):
    seed = {"users": [{"name": "owner", "email": "owner@example.com"}],
            "tokens": [{"user": "owner", "role": "read", "name": "t", "value": OWNER_R}],
            "repos": [{"id": "owner/big", "gated": "manual", "files": {"README.md": "# Big\n"}}]}
    server = gatehouse_factory(seed)
    big = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with big.open("wb") as f:
        for i in range(50):
            f.write(bytes([i]) + chunk[1:])
    server.start()
    upload = subprocess.run([str(GATEHOUSE_BIN), *store_args(server.data_dir), "repo", "upload", "owner/big",
                             str(big), "--path-in-repo", "weights/big.bin", "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, timeout=120)
    assert upload.returncode == 0, upload.stderr
    before = peak_rss_kib(server.proc.pid)
    started = time.monotonic()
    path = hf_hub_download("owner/big", "weights/big.bin", token=OWNER_R, cache_dir=tmp_path / "cache",
                           endpoint=server.endpoint)
    took = time.monotonic() - started
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    tail = http("GET", "/owner/big/resolve/main/weights/big.bin", token=OWNER_R,
                headers={"Range": "bytes=-16"}, base=server.endpoint)
    assert_status(tail, 206)
    assert tail.content == big.read_bytes()[-16:]
    grown_mib = (peak_rss_kib(server.proc.pid) - before) / 1024
    # Streamed in 64 KiB chunks: the peak grows by buffers, not by the file's 50 MiB.
    assert grown_mib < 16, f"the server's peak memory grew by {grown_mib:.1f} MiB over {took:.1f} s"


# ------------------------------------------------------------------ blobs in S3


def test_with_blobs_in_s3_a_get_redirects_to_a_presigned_url_and_the_client_follows_it(
        gatehouse_factory, tmp_path, monkeypatch):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        if os.environ.get("GATEHOUSE_REQUIRE_EMULATORS") == "1":
            pytest.fail("GATEHOUSE_REQUIRE_EMULATORS=1 but AWS_ENDPOINT_URL (moto) is not set")
        pytest.skip("no S3 emulator (tests/emulators/start starts moto)")
    import boto3

    bucket = f"gatehouse-conformance-{os.getpid()}-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    monkeypatch.setenv("GATEHOUSE_BLOB_BUCKET", bucket)
    seed = {"users": [{"name": "owner", "email": "owner@example.com"}, {"name": "duke"}],
            "tokens": [{"user": "duke", "role": "read", "name": "t", "value": tok("duke")}],
            "repos": [{"id": "owner/s3", "gated": "manual", "readme": "# In S3\n", "files": DL_FILES}],
            "requests": [{"repo": "owner/s3", "user": "duke", "status": "accepted",
                          "time": "2024-01-01T00:00:00.000Z", "fields": {}}]}
    server = gatehouse_factory(seed).start()
    path = "/owner/s3/resolve/main/weights/model.bin"

    redirect = http("GET", path, token=tok("duke"), base=server.endpoint)
    assert_status(redirect, 302)
    assert redirect.headers["location"].startswith(f"{endpoint}/{bucket}/blobs/")
    assert redirect.headers["x-linked-size"] == str(len(DL_FILES["weights/model.bin"]))
    assert HEX40_RE.match(redirect.headers["x-repo-commit"])
    assert_error(http("GET", path, base=server.endpoint), 401, code="GatedRepo")

    got = hf_hub_download("owner/s3", "weights/model.bin", token=tok("duke"), cache_dir=tmp_path,
                          endpoint=server.endpoint)
    assert Path(got).read_text() == DL_FILES["weights/model.bin"]
