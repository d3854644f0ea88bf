"""Session control (issue 21.2): a user sees their open sessions and ends them; an ADMIN anyone's.

Every ending is one audit event (`LOGOUT`, entity `SESSION`, the entity id the session's user,
as for a login or a logout), with the detail saying which kind: `END_SESSION` for one,
`END_OTHER_SESSIONS` for all but the caller's. Someone else's session is a 404 to a non-ADMIN,
as an unknown one is: session ids do not leak. Ending sessions needs a session: a personal access
token may list them, never end them.
"""

from __future__ import annotations

from todo_common.audit.events import AuditAction, AuditEntity, new_event
from todo_common.audit.trail import AuditTrail
from todo_common.errors import Forbidden, NotFound
from todo_common.principal import Principal
from todo_common.rbac import Action, authorize, owner_relation, require_session
from todo_common.security.sessions import SessionRecord, SessionStore

NO_SUCH_SESSION = "No such session"


class SessionService:
    def __init__(self, sessions: SessionStore, audit: AuditTrail) -> None:
        self._sessions = sessions
        self._audit = audit

    def list(self, principal: Principal, user_id: str | None = None) -> list[SessionRecord]:
        """The open sessions of `user_id` (the caller's own by default), most recently used
        first."""
        owner = user_id or principal.user_id
        authorize(Action.SESSIONS_LIST, principal, owner_relation(principal, owner))
        return self._sessions.sessions_of(owner)

    def end(self, principal: Principal, sid: str) -> None:
        """End one session: its access and refresh tokens stop working at once."""
        require_session(principal, "Ending a session")
        session = self._sessions.get(sid)
        if session is None:
            raise NotFound(NO_SUCH_SESSION)
        try:
            authorize(Action.SESSIONS_END, principal, owner_relation(principal, session.user_id))
        except Forbidden:
            raise NotFound(NO_SUCH_SESSION) from None
        self._sessions.revoke(sid, session.user_id)
        self._ended(principal, session.user_id, "END_SESSION")

    def end_others(self, principal: Principal) -> int:
        """End every session of the caller but the one of this request; how many ended."""
        authorize(Action.SESSIONS_END_OTHERS, principal)
        current = require_session(principal, "Ending sessions")
        ended = self._sessions.revoke_all(principal.user_id, keep=current)
        if ended:
            self._ended(principal, principal.user_id, "END_OTHER_SESSIONS")
        return ended

    def _ended(self, actor: Principal, owner_id: str, detail: str) -> None:
        self._audit.record(
            new_event(
                actor=actor,
                action=AuditAction.LOGOUT,
                entity=AuditEntity.SESSION,
                entity_id=owner_id,
                detail=detail,
            )
        )
