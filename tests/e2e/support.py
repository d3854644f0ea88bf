"""What the end-to-end tests check again and again: problem documents, bad inputs, the
stored users, and tokens made by hand (expired, forged) with PyJWT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
import httpx
import jwt
from bson import ObjectId
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pymongo.database import Database

from tests.factories import WITHOUT_OUTBOX
from todo_common import container
from todo_common.audit.events import AuditAction, AuditEntity, AuditEvent, Change
from todo_common.repositories.audits import AuditRepository
from todo_common.security.keys import KmsTokenSigner, VerifyingKeys, kid_of, verifying_keys
from todo_common.security.tokens import TokenService
from todo_common.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

PROBLEM_KEYS = frozenset({"type", "title", "status", "detail", "instance", "requestId"})
# A body just over the 64 KiB limit of SPEC §6.
OVERSIZED = 70 * 1024


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is an RFC 9457 problem of `status` from a function, and return its body.

    Checks the media type, the members (and no others, so no stack trace), `instance`, the
    `X-Request-Id` echo (the one the client sent, if any) and the headers `status` requires.
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body.keys() <= PROBLEM_KEYS | {"errors"}, body
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    echoed = response.headers.get("x-request-id")
    assert echoed, "every function response carries X-Request-Id"
    assert body["requestId"] == echoed
    sent = response.request.headers.get("x-request-id")
    if sent is not None:
        assert echoed == sent
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if status == 422:
        assert body["errors"], "a 422 names the offending fields"
        assert all(set(error) == {"loc", "msg"} for error in body["errors"])
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1
    return body


Context = TypeVar("Context")


@dataclass(frozen=True)
class BadInput(Generic[Context]):
    """A request, made from a test's `Context`, that must be refused with `status`."""

    send: Callable[[Context], httpx.Response]
    status: int

    def assert_refused(self, response: httpx.Response) -> None:
        """Refused with `status` and a problem document; never a traceback."""
        assert_problem(response, self.status)
        assert "Traceback" not in response.text


def list_cursor(payload: Any) -> str:
    """`payload` encoded as a list cursor is (unpadded URL-safe base64 of JSON): for cursors the
    API never issued."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def users_state(db: Database[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every stored user document, in a stable order: compare before and after a request."""
    return list(db["users"].find({}, WITHOUT_OUTBOX, sort=[("_id", 1)]))


def stored_user(db: Database[dict[str, Any]], user_id: str) -> dict[str, Any]:
    doc = db["users"].find_one({"_id": ObjectId(user_id)})
    assert doc is not None, f"user {user_id} is not stored"
    return doc


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of one of the API's tokens, read without checking them (to reuse `sid`)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# A key of the attacker's: a real P-256 key, of the right kind, that the API has never seen.
ATTACKER_EC_KEY = ec.generate_private_key(ec.SECP256R1())


def make_token(
    *,
    sub: str,
    role: str,
    sid: str,
    typ: str = "access",
    issued: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(minutes=15),
    key: str | bytes | ec.EllipticCurvePrivateKey | None = None,
    algorithm: str | None = None,
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A token signed like the API's own (by KMS, with the API's signing key), issued `issued` ago.

    A negative `lifetime - issued` gives a token that has already expired; `drop` leaves claims
    out. Forgeries: `key` signs it instead (an EC key: ES256; a string: HS256, or `algorithm`),
    with `headers` added; `algorithm` alone is the algorithm confusion: an HMAC whose secret is
    the API's own public key (PEM), which anyone can read from the JWKS.
    """
    security = get_settings().security
    iat = datetime.now(UTC) - issued
    claims: dict[str, Any] = {
        "iss": security.jwt_issuer,
        "aud": security.jwt_audience,
        "sub": sub,
        "role": role,
        "sid": sid,
        "jti": uuid.uuid4().hex,
        "typ": typ,
        "iat": iat,
        "exp": iat + lifetime,
    }
    for name in drop:
        del claims[name]
    if key is None and algorithm is None:
        return container.token_service().encode(claims)
    if key is None:
        return hmac_token(claims, api_public_key_pem(), algorithm or "HS256", headers)
    default = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "HS256"
    return jwt.encode(claims, key, algorithm=algorithm or default, headers=headers)


def api_public_key_pem() -> bytes:
    """The API's signing key's public half, PEM: public knowledge (the JWKS)."""
    keys = verifying_keys(get_settings().security.verify_key_ids())
    public = next(iter(keys.keys.values()))
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def api_kid() -> str:
    """The `kid` of the API's signing key."""
    return next(iter(verifying_keys(get_settings().security.verify_key_ids()).keys))


def hmac_token(
    claims: dict[str, Any], secret: bytes, algorithm: str, headers: dict[str, Any] | None = None
) -> str:
    """A token HMAC-signed with `secret`, assembled by hand (PyJWT refuses a PEM as a secret)."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    header = {"alg": algorithm, "typ": "JWT", "kid": api_kid(), **(headers or {})}
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = f"{_segment(header)}.{_segment(body)}"
    signature = hmac.new(secret, signing_input.encode(), digest[algorithm]).digest()
    return f"{signing_input}.{_b64url(signature)}"


def kms_token(claims: dict[str, Any], key_id: str, kid: str | None = None) -> str:
    """`claims` signed by the KMS key `key_id` (of this moto), its header naming `kid` (by
    default the key's own): a genuine signature the API may or may not trust."""
    arn = boto3.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    signer = KmsTokenSigner(key_id, kid or kid_of(arn))
    return TokenService(get_settings().security, VerifyingKeys({}), signer).encode(claims)


@lru_cache(maxsize=1)
def key_outside_the_allow_list() -> str:
    """A KMS key of this moto, ECC_NIST_P256 like the API's, that the API does not list: what a
    removed key, or another stack's, looks like to it."""
    created = boto3.client("kms").create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="not the API's (tests)"
    )
    return str(created["KeyMetadata"]["KeyId"])


def resigned_by_kms(token: str, key_id: str | None = None, kid: str | None = None) -> str:
    """`token`'s claims (fresh times), signed by KMS with `key_id` (the API's signing key by
    default), its header naming `kid` (by default the key's own)."""
    claims = unverified_claims(token)
    now = datetime.now(UTC)
    claims |= {"jti": uuid.uuid4().hex, "iat": now, "exp": now + timedelta(minutes=15)}
    return kms_token(claims, key_id or str(get_settings().security.jwt_signing_key_id), kid)


def attacker_jwk() -> dict[str, Any]:
    """The attacker's public key as a JWK, as a `jwk` header would carry it."""
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER_EC_KEY.public_key())
    )
    return jwk


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def resigned(
    token: str,
    *,
    key: str | bytes | ec.EllipticCurvePrivateKey | None = None,
    algorithm: str | None = None,
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    issued: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(minutes=15),
) -> str:
    """A new token for the same user, session and type as `token`, signed and timed as asked."""
    claims = unverified_claims(token)
    return make_token(
        sub=claims["sub"],
        role=claims["role"],
        sid=claims["sid"],
        typ=claims["typ"],
        key=key,
        algorithm=algorithm,
        headers=headers,
        drop=drop,
        issued=issued,
        lifetime=lifetime,
    )


def expired_access_token(access_token: str) -> str:
    """A genuinely signed access token of the same live session that expired an hour ago."""
    return resigned(access_token, issued=timedelta(hours=2), lifetime=timedelta(hours=1))


def unsigned_token(access_token: str) -> str:
    """The same claims with `alg: none` and no signature: must never be accepted."""
    claims = unverified_claims(access_token)
    return jwt.encode(claims, key="", algorithm="none")


def forged_headers(headers: dict[str, str]) -> dict[str, str]:
    """The session of `headers`, its access token re-signed with a key that is not the API's."""
    forged = resigned(_token_of(headers), key=ATTACKER_EC_KEY, headers={"kid": api_kid()})
    return {"Authorization": f"Bearer {forged}"}


def expired_headers(headers: dict[str, str]) -> dict[str, str]:
    """The session of `headers`, with a genuine access token that expired an hour ago."""
    return {"Authorization": f"Bearer {expired_access_token(_token_of(headers))}"}


def _token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


# -- projects and tasks ------------------------------------------------------------------------


def projects_and_tasks(db: Database[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every stored project and task, in a stable order: compare before and after a request."""
    return {
        name: list(db[name].find({}, WITHOUT_OUTBOX, sort=[("_id", 1)]))
        for name in ("projects", "tasks")
    }


def stored_task(db: Database[dict[str, Any]], task_id: str) -> dict[str, Any]:
    doc = db["tasks"].find_one({"_id": ObjectId(task_id)})
    assert doc is not None, f"task {task_id} is not stored"
    return doc


# -- the audit trail ---------------------------------------------------------------------------

# How long an event may take from the request to GET /audits (SQS, the worker, the consumer).
AUDIT_DEADLINE_SECONDS = 15.0
_POLL_SECONDS = 0.1


def relay_interval_seconds() -> float:
    """How often the gateway's worker runs the outbox relay: LOCAL_SCHEDULE_SECONDS, else the
    template's rate (each minute)."""
    return float(os.environ.get("LOCAL_SCHEDULE_SECONDS") or 60)


def audit_records(
    client: httpx.Client, headers: dict[str, str], params: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every audit record matching `params` (newest first), following `nextCursor` to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**(params or {}), "limit": "200", **({"cursor": cursor} if cursor else {})}
        response = client.get("/audits", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items


def wait_for_audits(
    client: httpx.Client,
    headers: dict[str, str],
    count: int,
    params: dict[str, str] | None = None,
    deadline_seconds: float = AUDIT_DEADLINE_SECONDS,
) -> list[dict[str, Any]]:
    """Read GET /audits (as an ADMIN) until at least `count` records match `params`, and return
    all that match: the worker delivers events in the background. Fails at the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        records = audit_records(client, headers, params)
        if len(records) >= count:
            return records
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {count} audit records for {params or 'no filter'} within "
                f"{deadline_seconds} s, have {len(records)}: {records}"
            )
        time.sleep(_POLL_SECONDS)


def assert_audits_stay(
    client: httpx.Client,
    headers: dict[str, str],
    records: list[dict[str, Any]],
    seconds: float,
    params: dict[str, str] | None = None,
) -> None:
    """Keep reading GET /audits for `seconds`: what matches `params` stays exactly `records`
    (nothing arrives twice, nothing is changed or removed)."""
    expected = sorted(records, key=lambda r: str(r["id"]))
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        now = sorted(audit_records(client, headers, params), key=lambda r: str(r["id"]))
        assert now == expected, f"the trail changed after it was complete: {now}"
        time.sleep(_POLL_SECONDS * 5)


def record_audit(
    db: Database[dict[str, Any]],
    *,
    action: AuditAction,
    entity: AuditEntity,
    entity_id: str,
    occurred_at: datetime,
    actor_id: str | None = None,
    actor_role: str | None = None,
    detail: str | None = None,
    changes: dict[str, Change] | None = None,
) -> dict[str, Any]:
    """An audit record stored as the consumer stores one (`AuditRepository.record`), for data
    at a known time; returns the stored document."""
    event = AuditEvent(
        event_id=str(uuid.uuid4()),
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail or f"{action.value}_{entity.value}",
        changes=changes or {},
        request_id=f"factory-{uuid.uuid4().hex[:8]}",
        occurred_at=occurred_at,
    )
    assert AuditRepository(db, container.server()).record(event.wire())
    doc = db["audits"].find_one({"eventId": event.event_id})
    assert doc is not None
    return doc


def audit_queue_depth(sqs: SQSClient, queue_url: str) -> int:
    """Messages in the audit queue: waiting, delayed, or received and not yet deleted."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def wait_until_queue_drains(sqs: SQSClient, queue_url: str, deadline_seconds: float) -> bool:
    """Wait until the worker has consumed (and deleted) every message; False at the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while audit_queue_depth(sqs, queue_url):
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_SECONDS / 2)
    return True


def wait_for(condition: Callable[[], bool], deadline_seconds: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` at the deadline."""
    until = time.monotonic() + deadline_seconds
    while not condition():
        assert time.monotonic() < until, f"not within {deadline_seconds} s: {what}"
        time.sleep(_POLL_SECONDS)


def count_audits(
    db: Database[dict[str, Any]],
    query: dict[str, Any],
    count: int,
    seconds: float = AUDIT_DEADLINE_SECONDS,
) -> int:
    """The number of stored audit records matching `query`, once it reaches `count` (or the
    deadline): for tests that must also see that nothing *more* arrives."""
    deadline = time.monotonic() + seconds
    found = db.audits.count_documents(query)
    while found < count and time.monotonic() < deadline:
        time.sleep(0.1)
        found = db.audits.count_documents(query)
    return int(found)
