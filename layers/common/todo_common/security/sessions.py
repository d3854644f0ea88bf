"""Server-side sessions in Redis: why logout, deactivation and role changes apply at once.

`session:{sid}` is a hash {userId, role, refreshJti} that expires with the refresh token;
`user-sessions:{userId}` is the set of a user's session ids, so all of them can be revoked together.
Refresh rotation and reuse detection are one Lua script, so two refreshes racing with the same token
cannot both win.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

import redis

_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refreshJti')
if not current then return 0 end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refreshJti', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
redis.call('DEL', KEYS[1])
return -1
"""


class Rotation(Enum):
    ROTATED = 1
    UNKNOWN = 0  # no such session: expired, logged out or revoked
    REUSED = -1  # a refresh token that was already used: the session is now revoked


@dataclass(frozen=True)
class Session:
    sid: str
    user_id: str
    role: str


class SessionStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._rotate = client.register_script(_ROTATE)

    @staticmethod
    def _key(sid: str) -> str:
        return f"session:{sid}"

    @staticmethod
    def _user_key(user_id: str) -> str:
        return f"user-sessions:{user_id}"

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def create(self, sid: str, user_id: str, role: str, refresh_jti: str, ttl_seconds: int) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            self._key(sid), mapping={"userId": user_id, "role": role, "refreshJti": refresh_jti}
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

    def rotate(self, sid: str, presented_jti: str, new_jti: str, ttl_seconds: int) -> Rotation:
        """Swap the session's refresh token id if `presented_jti` is the current one."""
        result = self._rotate(keys=[self._key(sid)], args=[presented_jti, new_jti, ttl_seconds])
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
