"""Login, token refresh with rotation and reuse detection, logout, and request authentication
(a session's access token, or a personal access token)."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from todo_common import context, metrics
from todo_common.audit.events import AuditAction, AuditEntity, new_event
from todo_common.audit.trail import AuditTrail
from todo_common.documents import Doc
from todo_common.errors import Unauthorized
from todo_common.instants import utcnow
from todo_common.logs import logger
from todo_common.metrics import Metric
from todo_common.principal import Principal, Role, Scope
from todo_common.rbac import require_session
from todo_common.records import AccessToken, User
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.users import UserRepository
from todo_common.security.access_tokens import TokenLookups, token_hash, well_formed
from todo_common.security.passwords import dummy_hash, verify_password
from todo_common.security.rate_limit import RateLimited, RequestBudget
from todo_common.security.sessions import Opening, Rotation, SessionStore
from todo_common.security.throttle import LoginThrottle, LoginThrottled
from todo_common.security.tokens import TokenPair, TokenService, TokenType

BAD_CREDENTIALS = "Incorrect email or password"
# One answer whatever is wrong with a personal access token (SPEC §4: the same 401).
BAD_ACCESS_TOKEN = "The access token is unknown, revoked or expired, or its owner is inactive"
# A token's `lastUsedAt` is written at most this often: not one MongoDB write per request.
LAST_USE_PRECISION = timedelta(minutes=1)


class AccessTokenAuth(NamedTuple):
    """What authenticating a personal access token needs: the tokens, by the hash of their
    value, and the per-address budget of failed lookups (with the per-token request count)."""

    tokens: AccessTokenRepository
    lookups: TokenLookups


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        sessions: SessionStore,
        tokens: TokenService,
        throttle: LoginThrottle,
        audit: AuditTrail,
        bcrypt_rounds: int,
        hash_key: Callable[[], str] = str,
        *,
        access_tokens: AccessTokenAuth,
        budget: RequestBudget | None = None,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._tokens = tokens
        self._throttle = throttle
        self._audit = audit
        self._rounds = bcrypt_rounds
        self._budget = budget or RequestBudget(requests=600, window_seconds=60)
        self._access_tokens = access_tokens
        # Read when a login first needs it: the functions that only authenticate requests
        # (reports, webhooks) are given no hash key, and may not read its secret.
        self._hash_key = hash_key

    def login(self, email: str, password: str, client_ip: str, user_agent: str = "") -> TokenPair:
        """Check the credentials and open a session; every failure looks and costs the same.

        The attempt is counted before the password is checked (see `security/throttle.py`).
        """
        email = email.lower()
        doc = self._users.get_by_email(email)
        account = str(doc["_id"]) if doc else email  # who the attempt was for, in the trail
        try:
            self._throttle.reserve(email, client_ip)
        except LoginThrottled as refused:
            metrics.count(Metric.LOGIN_THROTTLED)
            logger.info("Login throttled", extra={"account": self._log_account(doc, email)})
            if refused.first_in_window:  # one record per (email, address, window), not per try
                self._failed(account, "LOGIN_FAILED_THROTTLED")
            raise
        if doc is None:
            verify_password(password, dummy_hash(self._rounds))
            failure: str | None = "LOGIN_FAILED_UNKNOWN_EMAIL"
        else:
            user = User.from_document(doc)
            password_ok = verify_password(password, user.password_hash)
            failure = (
                None
                if password_ok and user.is_active
                else "LOGIN_FAILED_WRONG_PASSWORD"
                if not password_ok
                else "LOGIN_FAILED_INACTIVE"
            )
        if failure is not None:
            reason = failure.removeprefix("LOGIN_FAILED_")
            metrics.count_by(Metric.LOGIN_FAILED, "reason", reason)
            logger.info(
                "Login failed",
                extra={"reason": reason, "account": self._log_account(doc, email)},
            )
            self._failed(account, failure)
            raise Unauthorized(BAD_CREDENTIALS, error=None)
        self._throttle.succeeded(email, client_ip)
        pair, sid = self._open_session(user, Opening(utcnow(), client_ip, user_agent))
        metrics.count(Metric.LOGIN_SUCCEEDED)
        logger.append_keys(user_id=user.id)
        logger.info("Login succeeded", extra={"account": user.id})
        self._session_event(Principal(user.id, user.role, sid), AuditAction.LOGIN, "LOGIN")
        return pair

    def refresh(self, refresh_token: str) -> TokenPair:
        """Swap a refresh token for a new pair; a second use of one revokes its whole session."""
        claims = self._tokens.verify(refresh_token, TokenType.REFRESH)
        session = self._sessions.get(claims.sid)
        if session is None or session.user_id != claims.sub:
            raise Unauthorized("The session has ended; log in again")
        pair = self._tokens.issue_pair(session.user_id, session.role, session.sid)
        outcome = self._sessions.rotate(
            session.sid,
            claims.jti,
            pair.refresh_jti,
            pair.refresh_expires_in,
            user_id=session.user_id,
        )
        if outcome is Rotation.REUSED:
            metrics.count(Metric.TOKEN_REUSE_DETECTED)
            logger.warning(
                "Refresh token reused: session revoked",
                extra={"account": session.user_id, "user_id": session.user_id},
            )
            self._session_event(
                Principal(session.user_id, Role(session.role), session.sid),
                AuditAction.TOKEN_REUSE,
                "TOKEN_REUSE_SESSION_REVOKED",
            )
            raise Unauthorized("Refresh token was already used; the session has been revoked")
        if outcome is Rotation.UNKNOWN:
            raise Unauthorized("The session has ended; log in again")
        return pair

    def logout(self, principal: Principal) -> None:
        sid = require_session(principal, "Logging out")
        self._sessions.revoke(sid, principal.user_id)
        self._session_event(principal, AuditAction.LOGOUT, "LOGOUT")

    def authenticate(self, access_token: str) -> Principal:
        """The caller of a request: a valid access token whose session is still open, within
        its rate budget (a 429 past it). One Redis round trip reads the session, marks it used
        and counts the request (`SessionStore.use`); the quota goes to the client."""
        claims = self._tokens.verify(access_token, TokenType.ACCESS)
        use = self._sessions.use(claims.sid, self._budget, utcnow())
        session = use.session
        if session is None or session.user_id != claims.sub:
            raise Unauthorized("The session has ended; log in again")
        quota = self._budget.quota(use.used, use.resets_in)
        context.report_quota(quota)
        if self._budget.exceeded(use.used):
            raise RateLimited(quota.reset)
        return Principal(user_id=session.user_id, role=Role(session.role), session_id=session.sid)

    def authenticate_access_token(self, token: str, client_ip: str) -> Principal:
        """The caller of a request made with a personal access token: one found by its hash, not
        revoked, not expired, whose owner is active, within the token's rate budget. The role is
        the owner's now (read from the user record), the scopes the token's.

        Every presented value spends a unit of the address's budget of failed lookups, given back
        when the token is good (`security/access_tokens.py`): past it, 429 without a lookup."""
        self._access_tokens.lookups.reserve(client_ip)
        record, owner = self._token_and_owner(token)
        use = self._access_tokens.lookups.use(client_ip, record.id, self._budget)
        quota = self._budget.quota(use.used, use.resets_in)
        context.report_quota(quota)
        if self._budget.exceeded(use.used):
            raise RateLimited(quota.reset)
        now = utcnow()
        if record.last_used_at is None or record.last_used_at <= now - LAST_USE_PRECISION:
            self._access_tokens.tokens.mark_used(
                record.id, now, client_ip, if_before=now - LAST_USE_PRECISION
            )
        return Principal(
            user_id=owner.id,
            role=owner.role,
            session_id=None,
            token_id=record.id,
            scopes=frozenset(Scope(s) for s in record.scopes),
        )

    def _token_and_owner(self, token: str) -> tuple[AccessToken, User]:
        doc = self._access_tokens.tokens.by_hash(token_hash(token)) if well_formed(token) else None
        if doc is None or not doc["isActive"] or doc["expiresAt"] <= utcnow():
            raise Unauthorized(BAD_ACCESS_TOKEN)
        record = AccessToken.from_document(doc)
        owner_doc = self._users.get(record.user_id)
        if owner_doc is None or not owner_doc["isActive"]:
            raise Unauthorized(BAD_ACCESS_TOKEN)
        return record, User.from_document(owner_doc)

    def _open_session(self, user: User, opening: Opening) -> tuple[TokenPair, str]:
        sid = SessionStore.new_id()
        pair = self._tokens.issue_pair(user.id, user.role.value, sid)
        self._sessions.create(
            sid, user.id, user.role.value, pair.refresh_jti, pair.refresh_expires_in, opening
        )
        return pair, sid

    @functools.cached_property
    def _email_hash_key(self) -> bytes:
        """A key of its own for the hashes of unknown emails in log lines (`_log_account`)."""
        return hmac.new(
            self._hash_key().encode(), b"todo-api: login account in logs", hashlib.sha256
        ).digest()

    def _log_account(self, doc: Doc | None, email: str) -> str:
        """Who a login was for, as a log line may say it: the user id of a known account; for an
        unknown email, a keyed hash (`email:` and 16 hex digits), the same for every attempt with
        that email, that no one without the secret key can turn back into the address."""
        if doc is not None:
            return str(doc["_id"])
        digest = hmac.new(self._email_hash_key, email.encode(), hashlib.sha256).hexdigest()
        return f"email:{digest[:16]}"

    def _session_event(self, actor: Principal, action: AuditAction, detail: str) -> None:
        self._audit.record(
            new_event(
                actor=actor,
                action=action,
                entity=AuditEntity.SESSION,
                entity_id=actor.user_id,
                detail=detail,
            )
        )

    def _failed(self, account: str, detail: str) -> None:
        """A failed login: no actor; the entity is the account's id (or the unknown email)."""
        self._audit.record(
            new_event(
                actor=None,
                action=AuditAction.LOGIN_FAILED,
                entity=AuditEntity.SESSION,
                entity_id=account,
                detail=detail,
            )
        )
