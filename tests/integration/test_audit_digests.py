"""The tamper-evident audit trail (SPEC §7): signed, chained digests in a write-once store, and a
verifier that names what changed, against the real local servers (FerretDB, and moto's KMS for
the signatures and its S3, with Object Lock, for the store).

A trail of four hourly periods is written through the consumer's own code (`record_message`)
with an injected clock, so each record lands in a chosen period; the digest function is run
with an injected "now". Each tamper test then changes the database the way someone with write
access could, and checks that the verifier reports exactly that, naming the record or period.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pymongo.database import Database

from tests.factories import audit_event
from tests.servers import new_digest_bucket
from todo_common import container
from todo_common.audit.canonical import record_hash
from todo_common.audit.consumer import record_message
from todo_common.audit.digests import DigestSchedule, DigestService
from todo_common.audit.findings import Finding, FindingKind, Verification
from todo_common.audit.store import S3DigestStore
from todo_common.audit.verify import AuditVerifier
from todo_common.repositories.audit_digests import AuditDigestRepository
from todo_common.repositories.audits import AuditRepository

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]
HOUR = timedelta(hours=1)
MARGIN = timedelta(minutes=5)
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the start of the first period
# Minutes into each hour at which records are stored; hour 2 stays empty.
PLAN = {0: (10, 20, 30), 1: (5, 50), 2: (), 3: (0, 59)}
CLOSED = T0 + 4 * HOUR + MARGIN  # "now" once the four periods are over, plus the margin
# The trail is written in the past and sealed now: its digests are all "late" on S3's clock,
# which only the tests of lateness look at.
PATIENT = timedelta(days=3650)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Trail:
    db: Db
    audits: AuditRepository
    digests: AuditDigestRepository
    store: S3DigestStore
    service: DigestService
    verifier: AuditVerifier
    event_ids: dict[int, list[str]] = field(default_factory=dict)  # by hour

    def verify(self, now: datetime = CLOSED, **range_: datetime) -> Verification:
        return self.verifier.verify(now, range_.get("from_"), range_.get("to"))

    def digest(self, hour: int) -> dict[str, Any]:
        doc = self.db.audit_digests.find_one({"periodStart": T0 + hour * HOUR})
        assert doc is not None
        return doc


def _schedule() -> DigestSchedule:
    return DigestSchedule(HOUR, MARGIN)


def _trail(db: Db, bucket: str) -> Trail:
    clock = Clock(T0)
    audits = AuditRepository(db, container.server(), clock=clock)
    digests = AuditDigestRepository(db, container.server())
    store = S3DigestStore(bucket)
    signer = container.digest_signer()
    trail = Trail(
        db,
        audits,
        digests,
        store,
        DigestService(audits, digests, store, signer, _schedule()),
        AuditVerifier(audits, digests, store, signer, _schedule(), PATIENT),
    )
    for hour, minutes in PLAN.items():
        trail.event_ids[hour] = []
        for minute in minutes:
            clock.now = T0 + hour * HOUR + timedelta(minutes=minute, microseconds=123_456)
            event = audit_event(changes={"status": {"from": "PENDING", "to": "ASSIGNED"}})
            assert record_message(json.dumps(event), audits)
            trail.event_ids[hour].append(event["eventId"])
    return trail


@pytest.fixture
def trail(digest_bucket: str, db: Db) -> Trail:
    """Four closed, digested periods: 3 records, 2, none, 2."""
    trail = _trail(db, digest_bucket)
    run = trail.service.close_periods(CLOSED)
    assert (run.digests, run.records) == (4, 7)
    return trail


def kinds(result: Verification) -> list[tuple[FindingKind, datetime | None, str | None]]:
    return [(f.kind, f.period_start, f.event_id) for f in result.findings]


def only(result: Verification, kind: FindingKind) -> Finding:
    assert not result.intact
    matching = [f for f in result.findings if f.kind is kind]
    assert len(matching) == 1, kinds(result)
    return matching[0]


# --- the digests -------------------------------------------------------------------------


def test_given_closed_periods_then_each_has_one_signed_chained_digest_empty_ones_too(
    trail: Trail,
) -> None:
    digests = list(trail.db.audit_digests.find().sort("periodStart", 1))

    assert [d["periodStart"] for d in digests] == [T0 + h * HOUR for h in range(4)]
    assert [d["periodEnd"] for d in digests] == [T0 + (h + 1) * HOUR for h in range(4)]
    assert [d["count"] for d in digests] == [3, 2, 0, 2]
    assert digests[0]["previousDigestHash"] is None
    for previous, digest in itertools.pairwise(digests):
        assert digest["previousDigestHash"] == previous["digestHash"]
    assert [e["eventId"] for e in digests[0]["records"]] == trail.event_ids[0]  # stored order
    assert all(d["keyId"].startswith("arn:aws:kms:") and d["signature"] for d in digests)


def test_given_a_period_not_over_by_the_margin_then_it_is_not_digested_yet(
    digest_bucket: str, db: Db
) -> None:
    trail = _trail(db, digest_bucket)

    run = trail.service.close_periods(T0 + 4 * HOUR + MARGIN - timedelta(milliseconds=1))

    assert run.digests == 3  # hour 3 ends at T0+4h: its margin is not over
    result = trail.verify(T0 + 4 * HOUR + MARGIN - timedelta(milliseconds=1))
    assert result.intact, kinds(result)
    assert result.pending_records == 2


def test_given_the_digest_function_runs_again_then_it_writes_nothing_new(trail: Trail) -> None:
    again = trail.service.close_periods(CLOSED)

    assert again.digests == 0
    assert trail.db.audit_digests.count_documents({}) == 4


def test_given_two_digest_functions_at_once_then_each_period_has_one_digest(
    digest_bucket: str, db: Db
) -> None:
    trail = _trail(db, digest_bucket)
    services = [
        DigestService(
            AuditRepository(db, container.server()),
            AuditDigestRepository(db, container.server()),
            S3DigestStore(digest_bucket),
            container.digest_signer(),
            _schedule(),
        )
        for _ in range(2)
    ]
    start = threading.Barrier(len(services))
    written: list[int] = []

    def run(service: DigestService) -> None:
        start.wait()
        written.append(service.close_periods(CLOSED).digests)

    threads = [threading.Thread(target=run, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    starts = [d["periodStart"] for d in db.audit_digests.find()]
    assert sorted(starts) == [T0 + h * HOUR for h in range(4)]
    assert sum(written) == 4
    versions = trail.store._s3().list_object_versions(Bucket=digest_bucket)
    assert sorted(v["Key"] for v in versions["Versions"]) == [
        trail.store.key(T0 + h * HOUR) for h in range(4)
    ]  # one object per period, one version each
    assert "DeleteMarkers" not in versions
    result = trail.verify()
    assert result.intact, kinds(result)


# --- an untouched trail ----------------------------------------------------------------------


def test_given_an_untouched_trail_then_it_verifies_clean(trail: Trail) -> None:
    result = trail.verify()

    assert result.intact, kinds(result)
    assert (result.digests, result.records, result.pending_records) == (4, 7, 0)


def test_given_a_range_then_only_its_periods_are_checked(trail: Trail) -> None:
    result = trail.verify(from_=T0 + HOUR, to=T0 + 3 * HOUR)

    assert result.intact, kinds(result)
    assert (result.digests, result.records) == (2, 2)


def test_given_timestamps_with_microseconds_then_the_hash_survives_a_round_trip(db: Db) -> None:
    """MongoDB keeps milliseconds: the canonical form does too, so the hash is the same after."""
    doc = {
        "_id": "round-trip",
        "eventId": "e-1",
        "recordedAt": datetime(2026, 11, 30, 9, 10, 0, 123_999, tzinfo=UTC),
        "changes": {"dueDate": {"from": None, "to": "2026-12-01T00:00:00Z"}, "é": [1, 2.5]},
    }
    before = record_hash(doc)
    db.hash_round_trip.insert_one(doc)

    stored = db.hash_round_trip.find_one({"_id": "round-trip"})

    assert stored is not None
    assert stored["recordedAt"].microsecond == 123_000
    assert record_hash(stored) == before


# --- records changed, removed, added ---------------------------------------------------------


def test_given_one_field_of_one_record_edited_then_that_record_and_period_are_named(
    trail: Trail,
) -> None:
    target = trail.event_ids[0][1]
    trail.db.audits.update_one({"eventId": target}, {"$set": {"detail": "NOTHING_HAPPENED"}})

    finding = only(trail.verify(), FindingKind.RECORD_MODIFIED)

    assert (finding.event_id, finding.period_start, finding.period_end) == (target, T0, T0 + HOUR)
    assert len(trail.verify().findings) == 1


def test_given_a_record_deleted_then_its_period_the_count_and_the_event_id_are_named(
    trail: Trail,
) -> None:
    target = trail.event_ids[1][0]
    trail.db.audits.delete_one({"eventId": target})

    finding = only(trail.verify(), FindingKind.RECORD_DELETED)

    assert finding.period_start == T0 + HOUR
    assert finding.count == 1
    assert finding.event_ids == (target,)
    assert len(trail.verify().findings) == 1


def test_given_a_forged_record_inserted_into_a_digested_period_then_it_is_named(
    trail: Trail,
) -> None:
    forged = trail.db.audits.find_one({"eventId": trail.event_ids[3][0]}, {"_id": 0})
    assert forged is not None
    forged |= {"eventId": "forged-event", "detail": "GRANT_ADMIN"}
    trail.db.audits.insert_one(forged)

    finding = only(trail.verify(), FindingKind.RECORD_INSERTED)

    assert (finding.event_id, finding.period_start) == ("forged-event", T0 + 3 * HOUR)


def test_given_a_record_without_any_storage_time_inserted_then_it_is_named(trail: Trail) -> None:
    trail.db.audits.insert_one({"eventId": "no-time", "action": "LOGIN", "entity": "SESSION"})

    finding = only(trail.verify(), FindingKind.RECORD_INSERTED)

    assert finding.event_id == "no-time"


def test_given_a_record_inserted_before_the_first_period_then_it_is_named(trail: Trail) -> None:
    old = trail.db.audits.find_one({"eventId": trail.event_ids[0][0]}, {"_id": 0})
    assert old is not None
    old |= {"eventId": "backdated", "recordedAt": T0 - HOUR, "updatedAt": T0 - HOUR}
    trail.db.audits.insert_one(old)

    finding = only(trail.verify(), FindingKind.RECORD_INSERTED)

    assert finding.event_id == "backdated"


# --- the attack: a database writer rewrites history and lets it be re-signed (issue 18) --------


def test_given_a_record_edited_and_the_database_digests_deleted_from_its_period_on_when_the_digest_function_runs_then_verify_names_the_record(  # noqa: E501
    trail: Trail,
) -> None:
    target = trail.event_ids[1][1]
    trail.db.audits.update_one({"eventId": target}, {"$set": {"actorRole": "ADMIN"}})
    trail.db.audit_digests.delete_many({"periodStart": {"$gte": T0 + HOUR}})

    run = trail.service.close_periods(CLOSED + HOUR)  # the next schedule, an hour on

    assert run.digests == 1  # only the hour that has just closed: nothing is signed again
    result = trail.verify(CLOSED + HOUR)
    modified = only(result, FindingKind.RECORD_MODIFIED)
    assert (modified.event_id, modified.period_start) == (target, T0 + HOUR)
    missing = {
        f.period_start for f in result.findings if f.kind is FindingKind.DATABASE_DIGEST_MISSING
    }
    assert missing == {T0 + HOUR, T0 + 2 * HOUR}  # the newest was copied back by the run


def test_given_every_database_digest_deleted_when_the_digest_function_runs_then_it_signs_nothing_again_and_verify_reports_it(  # noqa: E501
    trail: Trail,
) -> None:
    trail.db.audit_digests.delete_many({})

    run = trail.service.close_periods(CLOSED)

    assert run.digests == 0
    result = trail.verify()
    missing = {
        f.period_start for f in result.findings if f.kind is FindingKind.DATABASE_DIGEST_MISSING
    }
    assert missing == {T0, T0 + HOUR, T0 + 2 * HOUR}
    assert {f.kind for f in result.findings} == {FindingKind.DATABASE_DIGEST_MISSING}


def test_given_every_database_digest_deleted_without_a_run_then_each_is_reported(
    trail: Trail,
) -> None:
    trail.db.audit_digests.delete_many({})

    result = trail.verify()

    assert kinds(result) == [
        (FindingKind.DATABASE_DIGEST_MISSING, T0 + h * HOUR, None) for h in range(4)
    ]
    assert (result.digests, result.records) == (4, 7)  # the records still checked, on the store


# --- digests changed in the database only: the store says what they were ----------------------


def test_given_a_digest_field_changed_in_the_database_then_it_differs_from_the_store(
    trail: Trail,
) -> None:
    trail.db.audit_digests.update_one({"periodStart": T0 + HOUR}, {"$set": {"count": 1}})

    finding = only(trail.verify(), FindingKind.DATABASE_DIGEST_DIFFERS)

    assert (finding.period_start, finding.period_end) == (T0 + HOUR, T0 + 2 * HOUR)
    assert len(trail.verify().findings) == 1


def test_given_a_digest_rewritten_in_the_database_to_cover_an_edit_then_the_edit_and_the_copy_are_named(  # noqa: E501
    trail: Trail,
) -> None:
    """Edit a record, then recompute its period's digest consistently in the database."""
    target = trail.event_ids[0][0]
    trail.db.audits.update_one({"eventId": target}, {"$set": {"actorRole": "ADMIN"}})
    rebuilt = trail.service.build(T0, T0 + HOUR, None)  # signed with the key, even
    trail.db.audit_digests.replace_one({"periodStart": T0}, rebuilt)

    result = trail.verify()

    assert set(kinds(result)) == {
        (FindingKind.RECORD_MODIFIED, T0, target),
        (FindingKind.DATABASE_DIGEST_DIFFERS, T0, None),
    }


def test_given_a_digest_inserted_in_the_database_for_a_period_the_store_lacks_then_it_is_named(
    trail: Trail,
) -> None:
    forged = trail.service.build(T0 - HOUR, T0, None)
    trail.db.audit_digests.insert_one(forged)

    finding = only(trail.verify(), FindingKind.DATABASE_DIGEST_NOT_IN_STORE)

    assert finding.period_start == T0 - HOUR


def test_given_two_digests_periods_exchanged_in_the_database_then_both_differ(
    trail: Trail,
) -> None:
    first, second = trail.digest(0), trail.digest(1)
    parking = T0 - 10 * HOUR  # the unique index allows one digest per periodStart at a time
    trail.db.audit_digests.update_one({"_id": first["_id"]}, {"$set": {"periodStart": parking}})
    trail.db.audit_digests.update_one(
        {"_id": second["_id"]},
        {"$set": {"periodStart": first["periodStart"], "periodEnd": first["periodEnd"]}},
    )
    trail.db.audit_digests.update_one(
        {"_id": first["_id"]},
        {"$set": {"periodStart": second["periodStart"], "periodEnd": second["periodEnd"]}},
    )

    result = trail.verify()

    assert set(kinds(result)) == {
        (FindingKind.DATABASE_DIGEST_DIFFERS, T0, None),
        (FindingKind.DATABASE_DIGEST_DIFFERS, T0 + HOUR, None),
    }


# --- the store: write-once --------------------------------------------------------------------


def test_given_a_stored_digest_when_its_version_is_deleted_then_the_lock_refuses(
    trail: Trail,
) -> None:
    s3, key = trail.store._s3(), trail.store.key(T0)
    version = s3.head_object(Bucket=trail.store.bucket, Key=key)["VersionId"]

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=trail.store.bucket, Key=key, VersionId=version)

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    batch = s3.delete_objects(
        Bucket=trail.store.bucket, Delete={"Objects": [{"Key": key, "VersionId": version}]}
    )
    assert [e["Code"] for e in batch.get("Errors", [])] == ["AccessDenied"]
    assert trail.verify().intact


def test_given_a_stored_digest_when_written_again_conditionally_then_s3_refuses(
    trail: Trail,
) -> None:
    with pytest.raises(ClientError) as refused:
        trail.store._s3().put_object(
            Bucket=trail.store.bucket, Key=trail.store.key(T0), Body=b"{}", IfNoneMatch="*"
        )

    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert not trail.store.put(trail.digest(0))  # and the store's own put says the period is taken


def test_given_a_version_and_a_delete_marker_put_over_stored_digests_then_the_first_versions_still_hold_and_it_is_reported(  # noqa: E501
    trail: Trail,
) -> None:
    """What S3 allows without the bucket policy (which refuses both to everyone in AWS)."""
    target = trail.event_ids[0][0]
    trail.db.audits.update_one({"eventId": target}, {"$set": {"detail": "EDITED"}})
    s3, bucket = trail.store._s3(), trail.store.bucket
    forged = trail.service.build(T0, T0 + HOUR, None)  # over the edited record
    s3.put_object(Bucket=bucket, Key=trail.store.key(T0), Body=json.dumps(forged, default=str))
    s3.delete_object(Bucket=bucket, Key=trail.store.key(T0 + HOUR))  # a delete marker

    result = trail.verify()

    assert [f.kind for f in result.findings].count(FindingKind.STORE_OBJECT_REPLACED) == 2
    assert (FindingKind.RECORD_MODIFIED, T0, target) in kinds(result)
    assert trail.service.close_periods(CLOSED).digests == 0  # nothing signed again


def test_given_a_delete_marker_over_a_period_when_the_store_puts_it_again_then_its_own_check_refuses(  # noqa: E501
    trail: Trail,
) -> None:
    """S3's conditional put looks at the current version only: behind a delete marker it would
    accept a second digest of the period. The store's check of every version refuses it."""
    s3, bucket, key = trail.store._s3(), trail.store.bucket, trail.store.key(T0 + 3 * HOUR)
    s3.delete_object(Bucket=bucket, Key=key)
    probe = trail.store.key(T0 - HOUR)  # S3 alone, on another key behind a marker: accepted
    s3.put_object(Bucket=bucket, Key=probe, Body=b"{}")
    s3.delete_object(Bucket=bucket, Key=probe)
    s3.put_object(Bucket=bucket, Key=probe, Body=b"{}", IfNoneMatch="*")

    assert not trail.store.put(trail.digest(3))


def test_given_a_locked_version_unlocked_as_moto_allows_and_deleted_then_the_verifier_reports_the_gap(  # noqa: E501
    trail: Trail,
) -> None:
    """moto 5.2.5 lets `PutObjectRetention` shorten a compliance lock (AWS refuses it), after
    which the version can be deleted: were one ever gone, the store's chain shows the hole and
    nothing fills it again."""
    s3, bucket, key = trail.store._s3(), trail.store.bucket, trail.store.key(T0 + HOUR)
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    s3.put_object_retention(
        Bucket=bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime(2020, 1, 1, tzinfo=UTC)},
    )
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": version}]})

    result = trail.verify()

    gap = only(result, FindingKind.DIGEST_MISSING)
    assert (gap.period_start, gap.count) == (T0 + HOUR, 2)
    assert (FindingKind.DATABASE_DIGEST_NOT_IN_STORE, T0 + HOUR, None) in kinds(result)
    assert trail.service.close_periods(CLOSED).digests == 0


def test_given_a_database_digest_far_ahead_of_the_store_then_the_head_still_comes_from_the_store(
    trail: Trail,
) -> None:
    """The database's newest digest only says where to start listing; a lie costs a full list."""
    trail.db.audit_digests.insert_one(trail.service.build(T0 + 100 * HOUR, T0 + 101 * HOUR, None))

    run = trail.service.close_periods(CLOSED + HOUR)

    assert run.digests == 1
    sealed = trail.store.get(T0 + 4 * HOUR)
    assert sealed is not None
    assert sealed.body is not None
    assert sealed.body["previousDigestHash"] == trail.digest(3)["digestHash"]


# --- the store's chain itself, as a compromised digest function could have written it ----------


def _forged_store(trail: Trail, bucket: str, edit: Any) -> Trail:
    """The trail's digests copied into a fresh bucket, `edit` applied to the list first."""
    digests = [dict(trail.digest(h)) for h in range(4)]
    for digest in digests:
        digest.pop("_id")
    store = S3DigestStore(bucket)
    for digest in edit(digests):
        assert store.put(digest)
    verifier = AuditVerifier(
        trail.audits, trail.digests, store, container.digest_signer(), _schedule(), PATIENT
    )
    return dataclasses.replace(trail, store=store, verifier=verifier)


def test_given_a_store_digest_with_a_changed_field_then_it_is_altered(trail: Trail) -> None:
    def edit(digests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        digests[1]["count"] = 1
        return digests

    result = _forged_store(trail, new_digest_bucket(), edit).verify()

    altered = [f for f in result.findings if f.kind is FindingKind.DIGEST_ALTERED]
    assert [f.period_start for f in altered] == [T0 + HOUR]


def test_given_a_store_with_a_period_missing_then_the_gap_is_reported(trail: Trail) -> None:
    result = _forged_store(trail, new_digest_bucket(), lambda d: d[:1] + d[2:]).verify()

    finding = [f for f in result.findings if f.kind is FindingKind.DIGEST_MISSING]
    assert [(f.period_start, f.count) for f in finding] == [(T0 + HOUR, 2)]


def test_given_a_store_digest_signed_by_no_key_then_its_signature_is_invalid(trail: Trail) -> None:
    def edit(digests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        digests[2]["signature"] = digests[1]["signature"]
        return digests

    result = _forged_store(trail, new_digest_bucket(), edit).verify()

    invalid = [f for f in result.findings if f.kind is FindingKind.SIGNATURE_INVALID]
    assert [f.period_start for f in invalid] == [T0 + 2 * HOUR]


# --- closed in time, or late ------------------------------------------------------------------


def test_given_periods_sealed_hours_after_they_ended_then_each_late_one_names_both_times(
    trail: Trail,
) -> None:
    """The trail's periods ended days before S3 stored their digests (today, on its clock)."""
    strict = dataclasses.replace(trail.verifier, late_tolerance=timedelta(minutes=15))

    result = strict.verify(CLOSED, None, None)

    late = [f for f in result.findings if f.kind is FindingKind.DIGEST_LATE]
    assert [f.period_start for f in late] == [T0 + h * HOUR for h in range(4)]
    assert "was stored at " in late[0].detail
    assert "later than 2026-11-30T10:20:00.000Z" in late[0].detail  # end + 5 min + 15 min


def test_given_a_period_sealed_within_the_margin_and_tolerance_then_it_is_not_late(
    digest_bucket: str, db: Db
) -> None:
    """A period that ends now, on the real clock, sealed at once."""
    second = timedelta(seconds=1)
    audits = AuditRepository(db, container.server())
    store = S3DigestStore(digest_bucket)
    schedule = DigestSchedule(second, timedelta(0))
    digests = AuditDigestRepository(db, container.server())
    service = DigestService(audits, digests, store, container.digest_signer(), schedule)
    verifier = AuditVerifier(
        audits, digests, store, container.digest_signer(), schedule, timedelta(seconds=5)
    )
    assert record_message(json.dumps(audit_event()), audits)
    now = datetime.now(UTC)
    while service.close_periods(datetime.now(UTC)).digests == 0:
        assert datetime.now(UTC) < now + 3 * second

    result = verifier.verify(datetime.now(UTC), None, None)

    assert result.intact, kinds(result)


def test_given_no_digest_function_ever_ran_then_the_closed_periods_are_missing(
    digest_bucket: str, db: Db
) -> None:
    trail = _trail(db, digest_bucket)

    result = trail.verify(CLOSED + HOUR)

    finding = only(result, FindingKind.DIGEST_MISSING)
    assert (finding.period_start, finding.count) == (T0, 7)
