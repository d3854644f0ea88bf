"""The audit trail's integrity, end to end through the real entry points: the consumer and the
digest function as Lambda handlers, `verify-audit` on the command line (also as an auditor runs
it: the database, the store and the exported public key, no KMS), and `GET /audits/verify` and
`GET /audits/digests` through the reports handler (ADMIN only).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from devtools.lambda_local import LocalContext, handler_at
from devtools.worker import sqs_event
from tests.factories import audit_event, make_user
from tests.integration.lambda_events import ReportsApi, session_token
from todo_common import cli, container
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.repositories.audits import AuditRepository
from todo_common.settings import get_settings

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:todo-audit"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
# DER SubjectPublicKeyInfo of an EC key on P-256: id-ecPublicKey, prime256v1.
P256_PUBLIC_KEY_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


@pytest.fixture
def one_second_periods(digest_bucket: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Periods of one second, closed at once: the handlers run on the real clock."""
    monkeypatch.setenv("AUDIT_DIGEST_PERIOD_SECONDS", "1")
    monkeypatch.setenv("AUDIT_DIGEST_MARGIN_SECONDS", "0")
    get_settings.cache_clear()
    container.reset()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()


def test_given_events_through_the_consumer_when_the_digest_function_runs_then_verify_audit_says_intact(  # noqa: E501
    one_second_periods: None, db: Db, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = handler_at("audit_consumer")
    digest = handler_at("audit_digests")
    events = [audit_event() for _ in range(3)]
    messages = [
        {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "r", "Body": json.dumps(e)}
        for e in events
    ]
    failures = consumer(sqs_event(messages, QUEUE_ARN), LocalContext("AuditConsumerFunction"))
    assert failures == {"batchItemFailures": []}

    # The one-second period of the last record closes within a second of real time.
    deadline = time.monotonic() + 15
    while _digested(db) < len(events) and time.monotonic() < deadline:
        digest({}, LocalContext("AuditDigestFunction"))
        time.sleep(0.2)

    assert _digested(db) == len(events)
    stored = {d["eventId"]: d["recordedAt"] for d in db.audits.find()}
    assert set(stored) == {e["eventId"] for e in events}
    assert all(when <= utcnow() for when in stored.values())
    capsys.readouterr()
    assert cli.main(["verify-audit"]) == 0
    assert "Audit trail intact" in capsys.readouterr().out

    target = events[1]["eventId"]
    db.audits.update_one({"eventId": target}, {"$set": {"detail": "EDITED"}})
    assert cli.main(["verify-audit", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False
    assert [(f["kind"], f["eventId"]) for f in report["findings"]] == [("RECORD_MODIFIED", target)]


def _digested(db: Db) -> int:
    return sum(d["count"] for d in db.audit_digests.find({}, {"count": 1}))


def test_given_the_digest_key_when_exported_then_the_cli_prints_its_public_key(
    clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export-digest-key"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# ")
    assert out[0].endswith("(ECDSA_SHA_256)")
    assert (out[1], out[-1]) == ("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----")
    der = base64.b64decode("".join(out[2:-1]))
    assert der.startswith(P256_PUBLIC_KEY_PREFIX)


# --- the auditor: the database, the store and the PEM; no API, no KMS -------------------------


@pytest.fixture
def auditor(digested: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The exported key in a file, then KMS out of reach: every check must do without it."""
    pem = tmp_path / "digest-key.pem"
    assert cli.main(["export-digest-key", "--out", str(pem)]) == 0
    monkeypatch.setenv("AUDIT_DIGEST_KEY_ID", "alias/not-for-auditors")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    container.reset()
    return [
        "verify-audit",
        "--store",
        f"s3://{get_settings().audit.digest_bucket}",
        "--public-key",
        str(pem),
        "--to",
        (T0 + 2 * HOUR).isoformat(),
    ]


def test_given_an_untouched_trail_then_the_auditor_cli_says_intact(
    auditor: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(auditor) == 0, capsys.readouterr().out
    assert "Audit trail intact: 2 digest(s), 4 record(s)" in capsys.readouterr().out


def test_given_an_unknown_bucket_or_no_key_file_then_the_auditor_cli_gives_no_verdict(
    auditor: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown_store = [*auditor[:2], "s3://no-such-digest-bucket", *auditor[3:]]
    no_key = [*auditor[:4], str(tmp_path / "missing.pem"), *auditor[5:]]

    assert cli.main(unknown_store) == 2
    assert cli.main(no_key) == 2
    assert capsys.readouterr().err.count("error: ") == 2


def _edit_record(db: Db, ids: list[str]) -> None:
    db.audits.update_one({"eventId": ids[0]}, {"$set": {"detail": "EDITED"}})


def _edit_and_drop_digests(db: Db, ids: list[str]) -> None:
    """The attack: edit a record, delete the database digests from its period on, re-run."""
    db.audits.update_one({"eventId": ids[2]}, {"$set": {"actorRole": "ADMIN"}})
    db.audit_digests.delete_many({"periodStart": {"$gte": T0 + HOUR}})
    container.digest_service().close_periods(T0 + 2 * HOUR + timedelta(minutes=5))


def _drop_every_digest(db: Db, ids: list[str]) -> None:
    db.audit_digests.delete_many({})


def _edit_a_database_digest(db: Db, ids: list[str]) -> None:
    db.audit_digests.update_one({"periodStart": T0}, {"$set": {"recordsHash": "0" * 64}})


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (_edit_record, "RECORD_MODIFIED"),
        (_edit_and_drop_digests, "RECORD_MODIFIED"),
        (_drop_every_digest, "DATABASE_DIGEST_MISSING"),
        (_edit_a_database_digest, "DATABASE_DIGEST_DIFFERS"),
    ],
    ids=["record-edited", "attack", "digests-deleted", "digest-edited"],
)
def test_given_a_tampered_trail_then_the_auditor_cli_exits_non_zero_and_names_it(
    auditor: list[str],
    digested: list[str],
    db: Db,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[Db, list[str]], None],
    kind: str,
) -> None:
    tamper(db, digested)
    capsys.readouterr()

    assert cli.main([*auditor, "--json"]) == 1

    report = json.loads(capsys.readouterr().out)
    assert kind in {f["kind"] for f in report["findings"]}
    if kind == "RECORD_MODIFIED":
        named = {f["eventId"] for f in report["findings"] if f["kind"] == kind}
        assert named & set(digested)


# --- the HTTP API ------------------------------------------------------------------------------


@pytest.fixture
def digested(digest_bucket: str, db: Db, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Two hourly periods with two records each, digested; returns the eventIds."""
    # Sealed today, weeks after the periods ended: not the lateness these tests are about.
    monkeypatch.setenv("AUDIT_DIGEST_LATE_TOLERANCE_SECONDS", str(3650 * 86400))
    get_settings.cache_clear()
    container.reset()
    clock_now = [T0]
    audits = AuditRepository(db, container.server(), clock=lambda: clock_now[0])
    ids = []
    for minutes in (10, 20, 70, 80):
        clock_now[0] = T0 + timedelta(minutes=minutes)
        event = audit_event()
        assert audits.record(event)
        ids.append(event["eventId"])
    run = container.digest_service().close_periods(T0 + 2 * HOUR + timedelta(minutes=5))
    assert run.digests == 2
    yield ids
    monkeypatch.undo()
    get_settings.cache_clear()
    container.reset()


def _range() -> dict[str, str]:
    return {"from": "2026-11-02T09:00:00Z", "to": "2026-11-02T11:00:00Z"}


def test_given_an_admin_when_verifying_an_untouched_range_then_it_is_intact(
    digested: list[str], db: Db
) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))

    response = ReportsApi().request("GET", "/audits/verify", token=token, query=_range())

    assert response.status == 200, response.body
    body = response.json()
    assert body["intact"] is True
    assert (body["digests"], body["records"], body["findings"]) == (2, 4, [])


def test_given_a_deleted_record_when_an_admin_verifies_then_the_api_names_it(
    digested: list[str], db: Db
) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))
    db.audits.delete_one({"eventId": digested[2]})

    body = ReportsApi().request("GET", "/audits/verify", token=token, query=_range()).json()

    assert body["intact"] is False
    assert [(f["kind"], f["periodStart"], f["count"], f["eventIds"]) for f in body["findings"]] == [
        ("RECORD_DELETED", "2026-11-02T10:00:00.000Z", 1, [digested[2]])
    ]


def test_given_an_admin_when_listing_digests_then_pages_come_newest_first(
    digested: list[str], db: Db
) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))
    api = ReportsApi()

    first = api.request("GET", "/audits/digests", token=token, query={"limit": "1"}).json()
    second = api.request(
        "GET", "/audits/digests", token=token, query={"limit": "1", "cursor": first["nextCursor"]}
    ).json()

    assert [d["periodStart"] for d in first["items"] + second["items"]] == [
        "2026-11-02T10:00:00.000Z",
        "2026-11-02T09:00:00.000Z",
    ]
    assert second["nextCursor"] is None
    oldest = second["items"][0]
    assert [e["eventId"] for e in oldest["records"]] == digested[:2]
    assert oldest["previousDigestHash"] is None
    assert first["items"][0]["previousDigestHash"] == oldest["digestHash"]


@pytest.mark.parametrize("path", ["/audits/verify", "/audits/digests"])
@pytest.mark.parametrize("role", [Role.MANAGER, Role.USER])
def test_given_a_non_admin_then_the_integrity_endpoints_are_forbidden(
    clean: None, db: Db, path: str, role: Role
) -> None:
    token = session_token(make_user(db, role=role))

    response = ReportsApi().request("GET", path, token=token)

    assert response.status == 403
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:01Z"},  # over 7 days
        {"from": "2026-03-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},  # backwards
    ],
    ids=["too-long", "backwards"],
)
def test_given_a_bad_range_then_verify_answers_422(
    clean: None, db: Db, query: dict[str, str]
) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))

    response = ReportsApi().request("GET", "/audits/verify", token=token, query=query)

    assert response.status == 422, response.body


def test_given_the_digest_store_unreachable_then_verify_answers_503_naming_it(
    clean: None, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))
    monkeypatch.setenv("AUDIT_DIGEST_BUCKET", "no-such-digest-bucket")
    get_settings.cache_clear()
    container.reset()
    try:
        response = ReportsApi().request("GET", "/audits/verify", token=token)
    finally:  # the next test's services use the real store again
        monkeypatch.undo()
        get_settings.cache_clear()
        container.reset()

    assert response.status == 503, response.body
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "digest store" in response.json()["detail"]
    assert response.headers["retry-after"]


def test_given_a_bad_cursor_then_listing_digests_answers_422(clean: None, db: Db) -> None:
    token = session_token(make_user(db, role=Role.ADMIN))

    response = ReportsApi().request(
        "GET", "/audits/digests", token=token, query={"cursor": "not-a-cursor!"}
    )

    assert response.status == 422, response.body
