"""Personal access tokens (issue 21.1): a user creates, lists and revokes their own; an ADMIN
anyone's.

Creating one needs a session (a token cannot mint tokens); its value is shown once and only its
hash is kept (`security/access_tokens.py`). Creating and revoking are audit events (entity
`ACCESS_TOKEN`, details `CREATE_ACCESS_TOKEN` and `REVOKE_ACCESS_TOKEN`), stored with the record
in its outbox. Someone else's token is a 404 to a non-ADMIN, as an unknown one is, so token ids
do not leak. How a token authenticates a request is `AuthService.authenticate_access_token`.
"""

from __future__ import annotations

from datetime import timedelta

from todo_common.audit.events import AuditAction, AuditEntity
from todo_common.audit.trail import AuditTrail
from todo_common.errors import FieldError, Forbidden, InvalidInput, NotFound
from todo_common.instants import utcnow
from todo_common.principal import Principal, Scope
from todo_common.rbac import Action, authorize, owner_relation, require_session
from todo_common.records import AccessToken
from todo_common.repositories.access_tokens import AccessTokenRepository
from todo_common.repositories.pagination import Slice, SortSpec
from todo_common.schemas.access_tokens import AccessTokenCreate
from todo_common.security.access_tokens import new_token, token_hash
from todo_common.services.writes import AuditedWrites, retrying

MAX_LIFETIME = timedelta(days=366)
NO_SUCH_TOKEN = "No such access token"
OLDEST_FIRST = SortSpec("createdAt", descending=False)


class AccessTokenService:
    def __init__(self, tokens: AccessTokenRepository, audit: AuditTrail) -> None:
        self._tokens = tokens
        self._writes = AuditedWrites(tokens, audit, AuditEntity.ACCESS_TOKEN, AccessToken)

    def create(self, principal: Principal, data: AccessTokenCreate) -> tuple[AccessToken, str]:
        """A new token of the caller's and its value (shown this once)."""
        authorize(Action.TOKENS_CREATE, principal)
        require_session(principal, "Creating an access token")
        now = utcnow()
        if not now < data.expires_at <= now + MAX_LIFETIME:
            raise InvalidInput(
                "expiresAt must be in the future and at most 366 days ahead",
                [FieldError(("body", "expiresAt"), "in the future, at most 366 days ahead")],
            )
        token = new_token()
        doc = self._writes.create(
            principal,
            AccessToken.document(
                user_id=principal.user_id,
                name=data.name,
                scopes=[scope.value for scope in Scope if scope in data.scopes],
                token_hash=token_hash(token),
                expires_at=data.expires_at,
                is_active=True,
                revoked_at=None,
                last_used_at=None,
                last_used_from=None,
            ),
            detail="CREATE_ACCESS_TOKEN",
        )
        return AccessToken.from_document(doc), token

    def list(
        self, principal: Principal, user_id: str | None, *, limit: int, cursor: str | None
    ) -> Slice[AccessToken]:
        """The tokens of `user_id` (the caller's own by default) not revoked, expired ones
        included, oldest first."""
        owner = user_id or principal.user_id
        authorize(Action.TOKENS_LIST, principal, owner_relation(principal, owner))
        page = self._tokens.search(
            self._tokens.list_query(user_id=owner), OLDEST_FIRST, limit, cursor
        )
        return Slice([AccessToken.from_document(d) for d in page.items], page.next_cursor)

    def get(self, principal: Principal, token_id: str) -> AccessToken:
        return self._visible(Action.TOKENS_READ, principal, token_id)

    def revoke(self, principal: Principal, token_id: str) -> None:
        """Revoke a token: its next request is a 401. The record stays, inactive."""

        def attempt() -> None:
            current = self._visible(Action.TOKENS_REVOKE, principal, token_id)
            self._writes.update(
                principal,
                AuditAction.DELETE,
                current.id,
                current,
                AccessToken.document(is_active=False, revoked_at=utcnow()),
                version=current.version,
                detail="REVOKE_ACCESS_TOKEN",
            )

        retrying(None, attempt)

    def _visible(self, action: Action, principal: Principal, token_id: str) -> AccessToken:
        """The active token `token_id`, if the caller may do `action` to it; else 404."""
        doc = self._tokens.get(token_id)
        if doc is None or not doc["isActive"]:
            raise NotFound(NO_SUCH_TOKEN)
        token = AccessToken.from_document(doc)
        try:
            authorize(action, principal, owner_relation(principal, token.user_id))
        except Forbidden:
            raise NotFound(NO_SUCH_TOKEN) from None
        return token
