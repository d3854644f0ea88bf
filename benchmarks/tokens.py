"""What the ES256 tokens cost (issue 19): checking one per request, beside HS256; signing with KMS.

Verifying is what every protected request pays: `TokenService.verify` (kid lookup, ES256 with the
pinned public key, every claim), beside PyJWT's HS256 check of the same claims (what the API did
before). Signing is a login's and a refresh's: two KMS `Sign` calls each, here against moto.
"""

from __future__ import annotations

import secrets
import time
import uuid

from benchmarks.measure import repeat_ms, row


def verify_cost(runs: int = 2000) -> None:
    import jwt

    from todo_common import container
    from todo_common.security.tokens import TokenType
    from todo_common.settings import get_settings

    security = get_settings().security
    tokens = container.token_service()
    now = int(time.time())
    claims = {
        "iss": security.jwt_issuer,
        "aud": security.jwt_audience,
        "sub": "64b000000000000000000042",
        "role": "USER",
        "sid": uuid.uuid4().hex,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iat": now,
        "exp": now + 900,
    }
    es256 = tokens.encode(claims)
    hs256_key = secrets.token_urlsafe(48)
    hs256 = jwt.encode(claims, hs256_key, algorithm="HS256")

    def check_hs256() -> object:
        return jwt.decode(
            hs256,
            hs256_key,
            algorithms=["HS256"],
            audience=security.jwt_audience,
            issuer=security.jwt_issuer,
            options={"require": list(claims)},
        )

    print(f"\n# Checking one access token ({runs} checks each)")
    floor = repeat_ms(check_hs256, runs, warmup=100)
    row("HS256: PyJWT, shared secret (before)", floor)
    row(
        "ES256: TokenService.verify, pinned key",
        repeat_ms(lambda: tokens.verify(es256, TokenType.ACCESS), runs, warmup=100),
        floor,
    )
    row(
        "KMS Sign (moto): one token",
        repeat_ms(lambda: tokens.encode(claims), 200, warmup=10),
    )
