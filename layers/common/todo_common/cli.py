"""Operator commands against whatever database the settings name (local, staging, prod).

python -m todo_common.cli create-indexes
python -m todo_common.cli create-admin --email a@b.c [--username admin] [--full-name ...]
    (the password is read from --password, $ADMIN_PASSWORD, or a prompt)
python -m todo_common.cli ensure-admin --email a@b.c --password ...   # only if no ADMIN exists
python -m todo_common.cli verify-audit [--store s3://BUCKET] [--public-key digest-key.pem]
    [--from 2026-12-01T00:00:00Z] [--to ...] [--json]
    (exit status 0 when the audit trail is intact, 1 when something was found, 2 when it could
    not be checked: the store unreachable, the key file unreadable). With both
    --store and --public-key it needs only read access to the database and the bucket: no API,
    no KMS (docs/deploy.md, "How an auditor verifies").
python -m todo_common.cli digest-audit      # sign the periods that are over now (as scheduled)
python -m todo_common.cli export-digest-key [--out digest-key.pem]
    (the digest key's public key, PEM, for auditors; to stdout without --out)
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pymongo
from pydantic import ValidationError

from todo_common import container
from todo_common.audit.signing import DigestSigner, PublicKeyVerifier, public_key_pem
from todo_common.audit.store import S3DigestStore, StoreUnavailable
from todo_common.clients import get_database
from todo_common.errors import DomainError
from todo_common.indexes import ensure_indexes
from todo_common.instants import utcnow
from todo_common.principal import Role
from todo_common.repositories.users import user_fields
from todo_common.schemas.audit_trail import AuditVerificationPublic
from todo_common.schemas.users import UserCreate
from todo_common.security.passwords import hash_password
from todo_common.settings import get_settings


def create_indexes() -> int:
    for collection, names in ensure_indexes(get_database()).items():
        print(f"{collection}: {', '.join(names)}")
    return 0


def create_admin(
    email: str, password: str, username: str, full_name: str, *, only_if_none: bool
) -> int:
    users = container.repositories().users
    if only_if_none and users.collection.count_documents({"role": Role.ADMIN.value}, limit=1):
        print("An ADMIN already exists; nothing to do.")
        return 0
    try:
        data = UserCreate(
            username=username, email=email, full_name=full_name, password=password, role=Role.ADMIN
        )
    except ValidationError as exc:
        for err in exc.errors():
            print(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    try:
        doc = users.insert(
            user_fields(
                username=data.username,
                email=str(data.email),
                full_name=data.full_name,
                password_hash=hash_password(data.password, get_settings().security.bcrypt_rounds),
                role=Role.ADMIN,
                is_active=True,
            )
        )
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Created ADMIN {data.email} (id {doc['_id']}).")
    return 0


def _instant(value: str) -> datetime:
    """An ISO 8601 instant; without an offset it is UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _bucket(url: str) -> str:
    """The bucket of an `s3://BUCKET` URL."""
    if not url.startswith("s3://") or not url[5:].strip("/"):
        raise argparse.ArgumentTypeError(f"{url!r} is not s3://BUCKET")
    return url[5:].strip("/")


def verify_audit(
    from_: datetime | None,
    to: datetime | None,
    as_json: bool,
    bucket: str | None = None,
    public_key: str | None = None,
) -> int:
    store = S3DigestStore(bucket) if bucket else container.digest_store()
    signatures: DigestSigner = container.digest_signer()
    try:
        if public_key:
            signatures = PublicKeyVerifier(Path(public_key).read_bytes())
        # An operator's command over the whole trail: no deadline but Ctrl-C (the requests'
        # dependency budget would cut a long read short).
        with pymongo.timeout(None):
            result = container.verifier_with(store, signatures).verify(utcnow(), from_, to)
    except (OSError, ValueError, StoreUnavailable) as exc:  # no verdict: neither 0 nor 1
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if as_json:
        body = AuditVerificationPublic.of(result).model_dump(mode="json", by_alias=True)
        print(json.dumps(body, indent=2))
        return 0 if result.intact else 1
    for finding in result.findings:
        print(f"{finding.kind.value}: {finding.detail}")
        if finding.event_ids:
            print(f"  eventIds: {', '.join(finding.event_ids)}")
    if result.truncated:
        print("... more findings than listed")
    verdict = "intact" if result.intact else f"NOT intact ({len(result.findings)} finding(s))"
    print(
        f"Audit trail {verdict}: {result.digests} digest(s), {result.records} record(s) checked, "
        f"{result.pending_records} record(s) in periods not closed yet."
    )
    return 0 if result.intact else 1


def digest_audit() -> int:
    with pymongo.timeout(None):
        run = container.digest_service().close_periods(utcnow())
    print(f"{run.digests} digest(s) written over {run.records} record(s).")
    return 0


def export_digest_key(out: str | None) -> int:
    pem = public_key_pem(container.digest_signer().public_key())
    if out is None:
        print(pem, end="")
    else:
        Path(out).write_text(pem)
        print(f"Wrote the digest key's public key to {out}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="todo_common.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-indexes", help="create every index the API's queries need")
    for name in ("create-admin", "ensure-admin"):
        cmd = sub.add_parser(
            name, help="create an ADMIN" + (" unless one exists" if name == "ensure-admin" else "")
        )
        cmd.add_argument("--email", required=True)
        cmd.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD"))
        cmd.add_argument("--username", default="admin")
        cmd.add_argument("--full-name", default="Administrator")
    verify = sub.add_parser("verify-audit", help="check the audit trail's digests and records")
    verify.add_argument(
        "--store", type=_bucket, help="s3://BUCKET of the digests (default: AUDIT_DIGEST_BUCKET)"
    )
    verify.add_argument(
        "--public-key", help="the PEM of export-digest-key: signatures checked without KMS"
    )
    verify.add_argument("--from", dest="from_", type=_instant, help="first period (ISO 8601)")
    verify.add_argument("--to", type=_instant, help="end of the range (default: now)")
    verify.add_argument("--json", action="store_true", help="the report as GET /audits/verify")
    sub.add_parser("digest-audit", help="sign a digest of every audit period that is over")
    export = sub.add_parser("export-digest-key", help="the digest key's public key (PEM)")
    export.add_argument("--out", help="write it to this file (default: stdout)")
    args = parser.parse_args(argv)
    if args.command == "create-indexes":
        return create_indexes()
    if args.command == "verify-audit":
        return verify_audit(args.from_, args.to, args.json, args.store, args.public_key)
    if args.command == "digest-audit":
        return digest_audit()
    if args.command == "export-digest-key":
        return export_digest_key(args.out)
    password = args.password or getpass.getpass("Password for the new ADMIN: ")
    return create_admin(
        args.email,
        password,
        args.username,
        args.full_name,
        only_if_none=args.command == "ensure-admin",
    )


if __name__ == "__main__":
    sys.exit(main())
