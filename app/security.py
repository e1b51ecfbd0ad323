"""Password hashing (argon2id), access tokens (JWT, HS256 pinned) and opaque-token digests."""

import hashlib
import secrets
import uuid
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from app.db.base import utcnow

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value, not a secret)
ACCESS_TOKEN_AUDIENCE = "lianyun-staff"  # noqa: S105 (a claim value, not a secret)
# A token lacking any of these is refused: without `exp` it would never expire, without `iat`
# a password reset could not end it, without `aud` a token signed for another use would pass.
_REQUIRED_CLAIMS = {
    "require_exp": True,
    "require_iat": True,
    "require_aud": True,
    "require_sub": True,
}

# Clocks of the workers may differ this much: a token issued later than now by more is forged.
CLOCK_SKEW_SECONDS = 60
MAX_STAFF_ID = 2**31 - 1

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password, verified against when the username is unknown, so that both
    paths cost the same. Made when first asked for, and the web app asks at startup: made at
    import, it cost every process 64 MiB of peak memory and about 0.15 s, the sync's included
    (docs/performance.md#dummy-hash-made-at-startup)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def create_access_token(*, subject: str, claims: dict[str, Any], key: str, minutes: int) -> str:
    now = utcnow()
    payload = {
        **claims,
        "sub": subject,
        "type": ACCESS_TOKEN_TYPE,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return str(jwt.encode(payload, key, algorithm=JWT_ALGORITHM))


def decode_access_token(token: str, *, key: str, minutes: int) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token for Lianyun's staff API that carries
    `exp`, `iat`, `aud`, `type` and a staff id as `sub`, issued no later than now and for at
    most `minutes`; None for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            audience=ACCESS_TOKEN_AUDIENCE,
            options=_REQUIRED_CLAIMS,
        )
    except JWTError:
        return None
    issued, expires = claims["iat"], claims["exp"]
    if (
        claims.get("type") != ACCESS_TOKEN_TYPE
        or not is_staff_id(claims["sub"])
        or issued > utcnow().timestamp() + CLOCK_SKEW_SECONDS
        or expires - issued > minutes * 60
    ):
        return None
    return claims


def is_staff_id(subject: object) -> bool:
    """A token's `sub` that names a row of `staff` (its ids are 32-bit)."""
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= 10
        and subject.isascii()
        and subject.isdigit()
        and 0 < int(subject) <= MAX_STAFF_ID
    )


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy random token: enough to store it safely, and fast to look up."""
    return hashlib.sha256(token.encode()).hexdigest()
