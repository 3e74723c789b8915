"""Notifications on one machine: real RFC 5322 mail in DATA_DIR/outbox. A new pending request to a
real-time repo is mailed to its managers within a second (the embedded store's change feed); a
daily-digest repo's requests go out with `gatehouse digest`, once a day."""

from __future__ import annotations

import email
import json
import email.policy
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from support import GATEHOUSE_BIN, card, http, store_args

ASKER = "hf_read_asker_xxxxxxxxxxxx"


def seed(mode: str) -> dict[str, Any]:
    return {
        "users": [
            {"name": "boss", "email": "boss@example.com"},
            {"name": "a1", "email": "a1@example.com"},
            {"name": "a2"},
            {"name": "a3", "email": "a3@example.com"},
            {"name": "asker", "fullname": "Ada Asker", "email": "asker@example.com"},
        ],
        "orgs": [{"name": "lab", "members": [{"user": "a1", "role": "admin"}, {"user": "a2", "role": "admin"},
                                              {"user": "boss", "role": "write"}, {"user": "a3", "role": "admin"}]}],
        "tokens": [{"user": "asker", "role": "read", "name": "cli", "value": ASKER}],
        "repos": [{"id": "lab/model", "gated": "manual", "notifications": {"mode": mode},
                   "readme": card({"Company": "text", "I agree": "checkbox"})}],
    }


def outbox(data: Path) -> list[email.message.EmailMessage]:
    folder = data / "outbox"
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix == ".eml")
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]


def wait_for_mail(data: Path, count: int, within: float = 5.0) -> list[email.message.EmailMessage]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        mails = outbox(data)
        if len(mails) >= count:
            return mails
        time.sleep(0.05)
    return outbox(data)


def ask(srv: Any, company: str) -> None:
    r = http("POST", f"{srv.endpoint}/lab/model/ask-access", token=ASKER,
             json={"fields": {"Company": company, "I agree": True}})
    assert r.status_code == 200, r.text


def text_of(mail: email.message.EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.skipif(os.environ.get("GATEHOUSE_TEST_STORE") == "dynamodb",
                    reason="on DynamoDB real-time alerts come from the table's stream (the stream-alerts function)")
def test_a_new_request_to_a_real_time_repo_is_mailed_to_the_first_admins_within_a_second(gatehouse_factory, tmp_path):
    data = tmp_path / "data"
    srv = gatehouse_factory(seed("realtime"), data_dir=data).start()
    started = time.monotonic()
    # A hostile answer (line breaks are refused at the form): an encoded word and markup stay text.
    ask(srv, "ACME =?utf-8?q?=0D=0ABcc:_thief@example.net?= <b>bold</b>")
    mails = wait_for_mail(data, 1)
    assert len(mails) == 1, "no alert in the outbox"
    assert time.monotonic() - started < 3
    mail = mails[0]
    # The org's admins with an address, in join order; not the writer, not the admin without one.
    assert [a.addr_spec for a in mail["To"].addresses] == ["a1@example.com", "a3@example.com"]
    assert mail["Bcc"] is None and mail["Cc"] is None
    assert mail["Subject"] == "New access request to lab/model from asker"
    assert mail["From"].addresses[0].addr_spec == "gatehouse@localhost"
    body = text_of(mail)
    for expected in ("asker", "Ada Asker", "asker@example.com", "Company: ACME", "I agree: yes",
                     f"{srv.endpoint}/lab/model/settings/requests/pending"):
        assert expected in body, body
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Ada Asker" in html
    assert "<b>bold</b>" not in html and "&#60;b&#62;bold" in html.replace("&lt;", "&#60;").replace("&gt;", "&#62;")
    assert "thief@example.net" not in str(mail["To"]) + str(mail.get("Bcc", ""))

    # The alert is sent once: a restart (the feed resumes where it stopped) sends nothing new.
    srv.stop()
    srv.start(seed=None)
    time.sleep(1.0)
    assert len(outbox(data)) == 1


def test_a_digest_repo_gets_no_alert_and_one_digest_a_day(gatehouse_factory, tmp_path):
    data = tmp_path / "data"
    srv = gatehouse_factory(seed("daily"), data_dir=data).start()
    ask(srv, "Initech")
    time.sleep(1.0)
    assert outbox(data) == []

    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    digest = [str(GATEHOUSE_BIN), "--data-dir", str(data), *store_args(data), "digest", "--day", today,
              "--public-url", srv.endpoint]
    run = subprocess.run(digest, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    assert "1 sent" in run.stdout
    [mail] = outbox(data)
    assert mail["Subject"] == f"1 new access request to lab/model on {today}"
    assert [a.addr_spec for a in mail["To"].addresses] == ["a1@example.com", "a3@example.com"]
    assert "Company: Initech" in text_of(mail)

    again = subprocess.run(digest, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert "0 sent, 1 sent before" in again.stdout
    assert len(outbox(data)) == 1

    bad = subprocess.run([*digest[:-4], "--day", "2026-02-30"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "YYYY-MM-DD" in bad.stderr


@pytest.mark.skipif(os.environ.get("GATEHOUSE_TEST_STORE") == "dynamodb",
                    reason="on DynamoDB changes come from the table's stream (the request-changes function)")
def test_a_decision_is_mailed_to_the_requester_and_every_change_is_an_event(gatehouse_factory, tmp_path):
    from huggingface_hub import HfApi

    data = tmp_path / "data"
    world = seed("daily")
    world["tokens"].append({"user": "a1", "role": "write", "name": "ci", "value": "hf_write_a1_xxxxxxxxxxxx"})
    srv = gatehouse_factory(world, data_dir=data).start()
    ask(srv, "Initech")
    admin = HfApi(endpoint=srv.endpoint, token="hf_write_a1_xxxxxxxxxxxx")
    admin.reject_access_request("lab/model", "asker", rejection_reason="Not <b>this</b> time")
    [mail] = wait_for_mail(data, 1)
    assert [a.addr_spec for a in mail["To"].addresses] == ["asker@example.com"]
    assert mail["Subject"] == "Your request to access lab/model was rejected"
    assert "The reason given: Not <b>this</b> time" in text_of(mail)

    admin.accept_access_request("lab/model", "asker")
    mails = wait_for_mail(data, 2)
    assert mails[-1]["Subject"] == "Your request to access lab/model was accepted"

    events_file = data / "events.jsonl"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in events_file.read_text().splitlines()] if events_file.exists() else []
        if len(lines) >= 3:
            break
        time.sleep(0.05)
    assert [line["detailType"] for line in lines] == [
        "access-request.created", "access-request.rejected", "access-request.accepted"]
    detail = lines[1]["detail"]
    assert (detail["repoType"], detail["repoId"], detail["user"], detail["status"], detail["by"]) == (
        "model", "lab/model", "asker", "rejected", "a1")
    # Never answers, reasons or addresses.
    assert "Initech" not in events_file.read_text() and "example.com" not in events_file.read_text()
    assert "this" not in json.dumps([line["detail"] for line in lines])
