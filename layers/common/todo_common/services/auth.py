"""Login, token refresh with rotation and reuse detection, logout, and request authentication."""

from __future__ import annotations

from todo_common.errors import Unauthorized
from todo_common.models import Principal, Role, User
from todo_common.repositories.users import UserRepository
from todo_common.security.passwords import dummy_hash, verify_password
from todo_common.security.sessions import Rotation, SessionStore
from todo_common.security.throttle import LoginThrottle
from todo_common.security.tokens import TokenPair, TokenService, TokenType

BAD_CREDENTIALS = "Incorrect email or password"


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        sessions: SessionStore,
        tokens: TokenService,
        throttle: LoginThrottle,
        bcrypt_rounds: int,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._tokens = tokens
        self._throttle = throttle
        self._rounds = bcrypt_rounds

    def login(self, email: str, password: str, client_ip: str) -> TokenPair:
        """Check the credentials and open a session; every failure looks and costs the same."""
        email = email.lower()
        self._throttle.check(email, client_ip)
        doc = self._users.get_by_email(email)
        if doc is None:
            verify_password(password, dummy_hash(self._rounds))
            user = None
        else:
            user = User.from_document(doc)
            if not verify_password(password, user.password_hash) or not user.is_active:
                user = None
        if user is None:
            self._throttle.record_failure(email, client_ip)
            raise Unauthorized(BAD_CREDENTIALS, error=None)
        self._throttle.reset(email, client_ip)
        return self._open_session(user)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Swap a refresh token for a new pair; a second use of one revokes its whole session."""
        claims = self._tokens.verify(refresh_token, TokenType.REFRESH)
        session = self._sessions.get(claims.sid)
        if session is None or session.user_id != claims.sub:
            raise Unauthorized("The session has ended; log in again")
        pair = self._tokens.issue_pair(session.user_id, session.role, session.sid)
        outcome = self._sessions.rotate(
            session.sid, claims.jti, pair.refresh_jti, pair.refresh_expires_in
        )
        if outcome is Rotation.REUSED:
            raise Unauthorized("Refresh token was already used; the session has been revoked")
        if outcome is Rotation.UNKNOWN:
            raise Unauthorized("The session has ended; log in again")
        return pair

    def logout(self, principal: Principal) -> None:
        self._sessions.revoke(principal.session_id, principal.user_id)

    def authenticate(self, access_token: str) -> Principal:
        """The caller of a request: a valid access token whose session is still open."""
        claims = self._tokens.verify(access_token, TokenType.ACCESS)
        session = self._sessions.get(claims.sid)
        if session is None or session.user_id != claims.sub:
            raise Unauthorized("The session has ended; log in again")
        return Principal(user_id=session.user_id, role=Role(session.role), session_id=session.sid)

    def _open_session(self, user: User) -> TokenPair:
        sid = SessionStore.new_id()
        pair = self._tokens.issue_pair(user.id, user.role.value, sid)
        self._sessions.create(
            sid, user.id, user.role.value, pair.refresh_jti, pair.refresh_expires_in
        )
        return pair
