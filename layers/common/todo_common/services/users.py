"""User rules: who may see and change whom, admin-only fields, the last ADMIN, session effects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic.alias_generators import to_camel

from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.audit.trail import AuditTrail
from todo_common.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from todo_common.locks import Locks
from todo_common.principal import Principal, Role
from todo_common.rbac import (
    ADMIN_ONLY_FIELDS,
    Action,
    Grant,
    Resource,
    authorize,
    authorize_fields,
    owner_relation,
    require_session,
    sees_inactive,
)
from todo_common.records import User
from todo_common.repositories.base import object_id
from todo_common.repositories.pagination import Slice, SortSpec
from todo_common.repositories.tasks import TaskRepository
from todo_common.repositories.users import UserRepository, user_fields, user_search_keys
from todo_common.schemas.users import UserCreate, UserPatch
from todo_common.security.passwords import hash_password, verify_password
from todo_common.security.sessions import SessionStore
from todo_common.security.throttle import LoginThrottle
from todo_common.services.writes import AuditedWrites, check_if_match, retrying

ADMIN_REMOVAL_LOCK = "admin-removal"
SORTABLE = frozenset({"createdAt", "updatedAt", "username"})


class UserService:
    def __init__(
        self,
        users: UserRepository,
        tasks: TaskRepository,
        sessions: SessionStore,
        locks: Locks,
        audit: AuditTrail,
        throttle: LoginThrottle,
        bcrypt_rounds: int,
    ) -> None:
        self._users = users
        self._tasks = tasks
        self._sessions = sessions
        self._locks = locks
        self._writes = AuditedWrites(users, audit, AuditEntity.USER, User)
        self._throttle = throttle
        self._rounds = bcrypt_rounds

    # -- reads -------------------------------------------------------------------------------

    def me(self, principal: Principal) -> User:
        doc = self._users.get(principal.user_id)
        if doc is None or not doc["isActive"]:
            raise Unauthorized("The account no longer exists or is inactive")
        return User.from_document(doc)

    def list(
        self,
        principal: Principal,
        *,
        role: Role | None,
        is_active: bool | None,
        q: str | None,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> Slice[User]:
        """The directory: ADMINs see everyone; MANAGERs see active users only."""
        grant = authorize(Action.USERS_LIST, principal)
        if grant is Grant.ACTIVE_ONLY:
            if is_active is False:
                raise Forbidden("Only an ADMIN may list inactive users")
            is_active = True
        query = self._users.list_query(role=role, is_active=is_active, q=q)
        page = self._users.search(query, SortSpec.parse(sort, SORTABLE, "createdAt"), limit, cursor)
        return Slice([User.from_document(doc) for doc in page.items], page.next_cursor)

    def get(self, principal: Principal, user_id: str) -> User:
        """An ADMIN reads anyone; the others only themselves (403), inactive users only ADMIN."""
        self._authorize(Action.USERS_READ, principal, user_id)
        return self._visible(principal, user_id)

    # -- writes ------------------------------------------------------------------------------

    def create(self, principal: Principal, data: UserCreate) -> User:
        authorize(Action.USERS_CREATE, principal)
        doc = self._writes.create(
            principal,
            user_fields(
                username=data.username,
                email=str(data.email),
                full_name=data.full_name,
                password_hash=hash_password(data.password, self._rounds),
                role=data.role,
                is_active=data.is_active,
            ),
            detail="CREATE_USER",
        )
        return User.from_document(doc)

    def update(
        self,
        principal: Principal,
        user_id: str,
        patch: UserPatch,
        if_match: int | None,
        client_ip: str,
    ) -> User:
        """Apply the fields of `patch` (PUT sends them all); ADMIN-only fields 403 for others.

        A `currentPassword` check spends the login budget of the account and `client_ip`.
        """
        self._authorize(Action.USERS_UPDATE, principal, user_id)

        def attempt() -> User:
            current = self._visible(principal, user_id)
            check_if_match(current.version, if_match)
            changes = self._changes(principal, current, patch, client_ip)
            if not changes:
                return current
            with self._admin_removal(current, changes):
                doc = self._writes.update(
                    principal,
                    AuditAction.UPDATE,
                    user_id,
                    current,
                    changes,
                    version=current.version,
                    detail="UPDATE_USER",
                )
            updated = User.from_document(doc)
            self._apply_session_effects(principal, current, updated, "passwordHash" in changes)
            return updated

        return retrying(if_match, attempt)

    def delete(self, principal: Principal, user_id: str, if_match: int | None) -> None:
        """Soft-delete: the account is deactivated, its sessions end, its open tasks are freed."""
        self._authorize(Action.USERS_DELETE, principal, user_id)

        def attempt() -> None:
            current = self._visible(principal, user_id)
            check_if_match(current.version, if_match)
            if not current.is_active:
                return
            with self._admin_removal(current, User.document(is_active=False)):
                self._writes.update(
                    principal,
                    AuditAction.DELETE,
                    user_id,
                    current,
                    User.document(is_active=False),
                    version=current.version,
                    detail="DELETE_USER",
                )
            self._deactivated(user_id)

        retrying(if_match, attempt)

    def restore(self, principal: Principal, user_id: str, if_match: int | None) -> User:
        authorize(Action.USERS_RESTORE, principal)

        def attempt() -> User:
            current = self._visible(principal, user_id)
            check_if_match(current.version, if_match)
            if current.is_active:
                return current
            return User.from_document(
                self._writes.update(
                    principal,
                    AuditAction.RESTORE,
                    user_id,
                    current,
                    User.document(is_active=True),
                    version=current.version,
                    detail="RESTORE_USER",
                )
            )

        return retrying(if_match, attempt)

    # -- rules -------------------------------------------------------------------------------

    def _authorize(self, action: Action, principal: Principal, user_id: str) -> None:
        if object_id(user_id) is None:
            raise NotFound("User not found")
        authorize(action, principal, owner_relation(principal, user_id))

    def _visible(self, principal: Principal, user_id: str) -> User:
        """The user, or NotFound when it does not exist or is inactive and the caller no ADMIN."""
        doc = self._users.get(user_id)
        own = owner_relation(principal, user_id)
        if doc is None or (
            not doc["isActive"] and not sees_inactive(principal, Resource.USER, own)
        ):
            raise NotFound("User not found")
        return User.from_document(doc)

    def _changes(
        self, principal: Principal, current: User, patch: UserPatch, client_ip: str
    ) -> dict[str, Any]:
        """The stored fields to set: only values that differ from the current ones."""
        sent = patch.changes()
        # Sending the current value of an ADMIN-only field is no change (a PUT of what was read).
        guarded = ADMIN_ONLY_FIELDS[Resource.USER]
        differing = [
            to_camel(k) for k in sent if to_camel(k) in guarded and sent[k] != getattr(current, k)
        ]
        authorize_fields(principal, Resource.USER, Grant.YES, differing)
        if "email" in sent:
            sent["email"] = str(sent["email"]).lower()
        profile = ("username", "email", "full_name", "role", "is_active")
        update = {k: sent[k] for k in profile if k in sent and sent[k] != getattr(current, k)}
        if update.keys() & {"username", "email", "full_name"}:
            update_keys = user_search_keys(
                update.get("username", current.username),
                update.get("email", current.email),
                update.get("full_name", current.full_name),
            )
        else:
            update_keys = {}
        if "password" in sent or "role" in update:
            # Whoever's they are: a leaked token must not take over or promote an account.
            require_session(principal, "Changing a password or a role")
        if "current_password" in sent and "password" not in sent:
            raise InvalidInput(
                "currentPassword is only used together with password",
                [FieldError(("body", "currentPassword"), "unexpected field")],
            )
        if "password" in sent:
            self._check_password_change(principal, current, sent.get("current_password"), client_ip)
            update["password_hash"] = hash_password(sent["password"], self._rounds)
        return User.document(**update) | update_keys

    def _check_password_change(
        self, principal: Principal, current: User, current_password: str | None, client_ip: str
    ) -> None:
        if principal.role is Role.ADMIN:
            return  # an ADMIN resets any password, their own included, without the old one
        if current_password is None:
            raise InvalidInput(
                "currentPassword is required to change your password",
                [FieldError(("body", "currentPassword"), "field required")],
            )
        # A stolen access token must not become an unthrottled password oracle.
        self._throttle.reserve(current.email, client_ip)
        if not verify_password(current_password, current.password_hash):
            raise Forbidden("currentPassword is incorrect")
        self._throttle.succeeded(current.email, client_ip)

    @contextmanager
    def _admin_removal(self, current: User, changes: dict[str, Any]) -> Iterator[None]:
        """Around a write that may remove an active ADMIN (delete, deactivate, demote).

        Without multi-document transactions, "another active ADMIN remains" and the write must
        not interleave with a concurrent removal, so such writes take one Redis lock in turn.
        """
        removes = (
            current.role is Role.ADMIN
            and current.is_active
            and ("role" in changes or changes.get("isActive") is False)
        )
        if not removes:
            yield
            return
        with self._locks.hold(ADMIN_REMOVAL_LOCK):
            if self._users.count_active_admins() <= 1:
                raise Conflict("The last active ADMIN cannot be deleted, deactivated or demoted")
            yield

    def _deactivated(self, user_id: str) -> None:
        """What deleting (deactivating) an account entails: its sessions end, its open tasks
        go back to PENDING with no assignee."""
        self._sessions.revoke_all(user_id)
        self._tasks.unassign_open(user_id)

    def _apply_session_effects(
        self, principal: Principal, before: User, after: User, password_changed: bool
    ) -> None:
        if before.is_active and not after.is_active:
            self._deactivated(after.id)
        elif before.role is not after.role:
            self._sessions.revoke_all(after.id)
        elif password_changed:
            # Everyone else holding this account's tokens is logged out; the caller stays in.
            keep = principal.session_id if principal.user_id == after.id else None
            self._sessions.revoke_all(after.id, keep=keep)
