"""The user access report (CSV and JSON) on org/m-report."""

from __future__ import annotations

import csv
import io

import pytest
from huggingface_hub import HfApi

from support import (EP, MALLORY_W, OWNER_R, OWNER_W, READER_W, REPORT_FIELDS, REPORT_M, TIME_RE, WRITER_W,
                     assert_error, assert_status, email, http, tok, uar)

HEADER = ["user", "fullname", "email", "status", "time", "reviewedAt", "reviewer", "rejectionReason",
          *REPORT_FIELDS]


@pytest.fixture(scope="module", autouse=True)
def reviewed():
    """roy gets rejected (with a formula-looking reason) before the report tests run."""
    HfApi(endpoint=EP, token=OWNER_W).reject_access_request(REPORT_M, "roy", rejection_reason="-bad reason")


def report(fmt=None, token=OWNER_W):
    path = uar(REPORT_M, "report") + (f"?format={fmt}" if fmt else "")
    return http("GET", path, token=token)


def test_csv_report():
    r = report("csv")
    assert_status(r, 200)
    assert r.headers["content-type"].startswith("text/csv"), r.headers
    assert "attachment" in r.headers.get("content-disposition", ""), r.headers
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == HEADER
    by_user = {row[0]: dict(zip(HEADER, row)) for row in rows[1:] if row}
    assert set(by_user) == {"rex", "roy", "rae"}

    rex = by_user["rex"]
    assert rex["fullname"] == "'=HYPERLINK(\"http://evil\")"
    assert rex["email"] == email("rex")
    assert rex["status"] == "pending"
    assert rex["time"] == "2024-03-01T10:00:00.000Z"
    assert rex["reviewedAt"] == "" and rex["reviewer"] == "" and rex["rejectionReason"] == ""
    assert rex["Company"] == "'=HYPERLINK(\"x\")"
    assert rex["Country"] == "FR"
    assert rex["Why"] == "'+1 because"

    roy = by_user["roy"]
    assert roy["status"] == "rejected"
    assert TIME_RE.match(roy["reviewedAt"]), roy
    assert roy["reviewer"] == "owner"
    assert roy["rejectionReason"] == "'-bad reason"
    assert roy["Why"] == "'-minus"
    assert roy["fullname"] == "Roy Example"

    rae = by_user["rae"]
    assert rae["fullname"] == "'@SUM(A1)"
    assert rae["Company"] == "'\tTabbed"
    assert rae["Why"] == "'\rcr"


def test_json_report_is_default():
    for r in (report(), report("json")):
        assert_status(r, 200)
        assert r.headers["content-type"].startswith("application/json")
        assert "attachment" in r.headers.get("content-disposition", "")
        body = r.json()
        assert isinstance(body, list)
        by_user = {e["user"]: e for e in body}
        assert set(by_user) == {"rex", "roy", "rae"}
        for e in body:
            assert {"user", "fullname", "email", "status", "time", "fields"} <= set(e), e
            assert TIME_RE.match(e["time"])
        rex = by_user["rex"]
        assert rex["status"] == "pending"
        assert rex.get("reviewedAt") is None
        assert rex["fullname"] == "=HYPERLINK(\"http://evil\")"  # JSON is not escaped
        assert rex["fields"] == {"Company": "=HYPERLINK(\"x\")", "Country": "FR", "Why": "+1 because"}
        roy = by_user["roy"]
        assert roy["status"] == "rejected"
        assert TIME_RE.match(roy["reviewedAt"])
        assert roy["reviewer"] == "owner"
        assert roy["rejectionReason"] == "-bad reason"


def test_report_write_member_allowed():
    assert_status(report("csv", token=WRITER_W), 200)


@pytest.mark.parametrize("token,status", [(OWNER_R, 403), (READER_W, 403), (MALLORY_W, 403), (tok("rex"), 403),
                                          (None, 401)],
                         ids=["owner-read-token", "read-member", "outsider", "requester", "anonymous"])
def test_report_rights(token, status):
    assert_error(report("csv", token=token), status)
    assert_error(report("json", token=token), status)


def test_report_bad_format_and_missing_repo():
    r = report("xlsx")
    assert 400 <= r.status_code < 500, r.text
    assert_error(http("GET", uar("org/no-report", "report"), token=OWNER_W), 404, code="RepoNotFound")
