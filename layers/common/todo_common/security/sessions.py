"""Server-side sessions in Redis: why logout, deactivation and role changes apply at once.

`session:{sid}` is a hash {userId, role, refreshJti, createdAt, lastUsedAt, clientAddress,
userAgent} that expires with the refresh token; `user-sessions:{userId}` is the set of a user's
session ids, so all of them can be listed and revoked together (an id whose hash has expired is
dropped when the set is read). Refresh rotation and reuse detection are one Lua script, so two
refreshes racing with the same token cannot both win; so is a request's use of its session
(read it, mark it used, count the request against the rate budget: `use`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import NamedTuple

import redis

from todo_common.instants import instant_text
from todo_common.security.rate_limit import RequestBudget

# KEYS: session, [its user's set]. ARGV: presented jti, new jti, ttl.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refreshJti')
if not current then return 0 end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refreshJti', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
  if KEYS[2] and redis.call('TTL', KEYS[2]) < tonumber(ARGV[3]) then
    redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
  end
  return 1
end
redis.call('DEL', KEYS[1])
return -1
"""

# KEYS: session, rate counter. ARGV: now (text), window seconds.
# Returns {} when there is no session, else {userId, role, requests in window, seconds left}.
# An ended session's hash is gone: it is checked before anything is written, so a request with
# its token never brings it back (HSET would create the hash anew).
_USE = """
local found = redis.call('HMGET', KEYS[1], 'userId', 'role')
if not found[1] then return {} end
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1])
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2])) end
return {found[1], found[2], used, redis.call('TTL', KEYS[2])}
"""

_MAX_USER_AGENT = 256  # what a client sends is stored bounded
_EPOCH = datetime.fromtimestamp(0, UTC)


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Rotation(Enum):
    ROTATED = 1
    UNKNOWN = 0  # no such session: expired, logged out or revoked
    REUSED = -1  # a refresh token that was already used: the session is now revoked


class Session(NamedTuple):
    sid: str
    user_id: str
    role: str


class SessionUse(NamedTuple):
    """A request's use of its session: the session (None when it has ended) and the requests
    its principal has made in the current rate window, which ends in `resets_in` seconds."""

    session: Session | None
    used: int = 0
    resets_in: int = 0


class SessionRecord(NamedTuple):
    """What a user may see of one of their sessions (`GET /auth/sessions`)."""

    sid: str
    user_id: str
    created_at: datetime | None  # None for a session opened before these were kept
    last_used_at: datetime | None
    client_address: str
    user_agent: str


class Opening(NamedTuple):
    """Where and when a session was opened (login)."""

    at: datetime
    client_address: str
    user_agent: str


class SessionStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._rotate = client.register_script(_ROTATE)
        self._use = client.register_script(_USE)

    @staticmethod
    def _key(sid: str) -> str:
        return f"session:{sid}"

    @staticmethod
    def _user_key(user_id: str) -> str:
        return f"user-sessions:{user_id}"

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def create(
        self,
        sid: str,
        user_id: str,
        role: str,
        refresh_jti: str,
        ttl_seconds: int,
        opening: Opening | None = None,
    ) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            self._key(sid), mapping={"userId": user_id, "role": role, "refreshJti": refresh_jti}
        )
        if opening is not None:
            at = instant_text(opening.at)
            pipe.hset(
                self._key(sid),
                mapping={
                    "createdAt": at,
                    "lastUsedAt": at,
                    "clientAddress": opening.client_address,
                    "userAgent": opening.user_agent[:_MAX_USER_AGENT],
                },
            )
        pipe.expire(self._key(sid), ttl_seconds)
        pipe.sadd(self._user_key(user_id), sid)
        pipe.expire(self._user_key(user_id), ttl_seconds)
        pipe.execute()

    def get(self, sid: str) -> Session | None:
        data = self._redis.hgetall(self._key(sid))
        if not data:
            return None
        return Session(sid=sid, user_id=str(data["userId"]), role=str(data["role"]))

    def use(self, sid: str, budget: RequestBudget, now: datetime) -> SessionUse:
        """Read the session for a request, mark it used and count the request against
        `budget`, in one round trip (the `_USE` script)."""
        found = self._use(
            keys=[self._key(sid), budget.key(sid)], args=[instant_text(now), budget.window_seconds]
        )
        if not found:
            return SessionUse(None)
        user_id, role, used, resets_in = found
        return SessionUse(Session(sid, str(user_id), str(role)), int(used), int(resets_in))

    def sessions_of(self, user_id: str) -> list[SessionRecord]:
        """The user's open sessions, most recently used first; forgets the ids of ended ones."""
        sids = sorted(str(s) for s in self._redis.smembers(self._user_key(user_id)))
        if not sids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for sid in sids:
            pipe.hgetall(self._key(sid))
        records, ended = [], []
        for sid, data in zip(sids, pipe.execute(), strict=True):
            if not data or data.get("userId") != user_id:
                ended.append(sid)
                continue
            records.append(
                SessionRecord(
                    sid=sid,
                    user_id=user_id,
                    created_at=_instant(data.get("createdAt")),
                    last_used_at=_instant(data.get("lastUsedAt")),
                    client_address=str(data.get("clientAddress", "")),
                    user_agent=str(data.get("userAgent", "")),
                )
            )
        if ended:
            self._redis.srem(self._user_key(user_id), *ended)
        return sorted(records, key=lambda r: (r.last_used_at or _EPOCH, r.sid), reverse=True)

    def rotate(
        self,
        sid: str,
        presented_jti: str,
        new_jti: str,
        ttl_seconds: int,
        *,
        user_id: str | None = None,
    ) -> Rotation:
        """Swap the session's refresh token id if `presented_jti` is the current one. With
        `user_id`, the user's set of sessions then lives at least as long as the session, so a
        session kept alive by refreshes is still listed and revoked with the others."""
        keys = [self._key(sid)] + ([self._user_key(user_id)] if user_id else [])
        result = self._rotate(keys=keys, args=[presented_jti, new_jti, ttl_seconds])
        return Rotation(int(result))

    def revoke(self, sid: str, user_id: str | None = None) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._key(sid))
        if user_id:
            pipe.srem(self._user_key(user_id), sid)
        pipe.execute()

    def revoke_all(self, user_id: str, *, keep: str | None = None) -> int:
        """Revoke every session of `user_id` but `keep`; return how many were revoked."""
        sids = [str(s) for s in self._redis.smembers(self._user_key(user_id)) if s != keep]
        if not sids:
            return 0
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(*(self._key(s) for s in sids))
        pipe.srem(self._user_key(user_id), *sids)
        pipe.execute()
        return len(sids)
