"""Operator commands against whatever database the settings name (local, staging, prod).

python -m todo_common.cli create-indexes
python -m todo_common.cli create-admin --email a@b.c [--username admin] [--full-name ...]
    (the password is read from --password, $ADMIN_PASSWORD, or a prompt)
python -m todo_common.cli ensure-admin --email a@b.c --password ...   # only if no ADMIN exists
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from pydantic import ValidationError

from todo_common import container
from todo_common.clients import get_database
from todo_common.errors import DomainError
from todo_common.indexes import ensure_indexes
from todo_common.models import Role
from todo_common.repositories.users import user_fields
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
    args = parser.parse_args(argv)
    if args.command == "create-indexes":
        return create_indexes()
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
