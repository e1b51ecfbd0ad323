"""What every write of a villager follows (SPEC.md, "Shared rules for every public write"): tips,
survey responses, 阳光问廉 confirmations, exam practice answers, and every public write after
them. One module, so that no domain keeps a copy of these rules.

- Nothing identifies the writer. Their routes match `ANONYMOUS_PATHS`: the middleware
  (app.observability) gives them no request id, no access line and no metric sample; rows keep
  the county's date only (`today`), never an address, user agent, device id or account.
- A follow-up code is 16 random digits shown once (`new_code`, shown `grouped`), kept only as a
  slow salted hash (`code_hash`): the same work for every code, right or wrong.
- One vote per phone: only a keyed hash of the phone's `device_token`, scoped to what is voted
  on (`device_hash`), so two scopes' hashes of one phone cannot be linked.
- Per-client limits count in expiring fixed windows under a daily keyed hash of the client
  (`limit`): neither the address nor the moment of each attempt is kept.
"""

import hashlib
import hmac
import re
import secrets
from datetime import date, datetime
from typing import Annotated

from argon2.low_level import Type, hash_secret_raw
from pydantic import Field

from app import ratelimit
from app.config import Settings
from app.schemas import COUNTY_TZ, Text

ANONYMOUS_PATHS = re.compile(
    r"/api/v1/(tips(/.*)?|surveys/[^/]+/responses|inquiries/[^/]+/confirmations"
    r"|villages/[^/]+/disclosures/[^/]+/objections|exam-practice/answers"
    r"|questions(/status|/rating)?)"
    r"|/wl/[^/]+/votes"
    # the H5 app's pages of the same writes (app.web), forms included
    r"|/tips/.*|/villages/[^/]+/[^/]+/objections|/surveys/[^/]+|/inquiries/[^/]+/votes"
    r"|/questions/(new|mine)"
)
CODE_DIGITS = 16
# argon2id at OWASP's minimum profile (19 MiB, 2 passes): ~30 ms per code on one core.
_ARGON2_TIME_COST = 2
_ARGON2_MEMORY_KIB = 19 * 1024

DeviceToken = Annotated[
    Text,
    Field(
        min_length=16,
        max_length=128,
        description="应用或网页第一次打开时生成的随机令牌；只存它的带密钥哈希",
    ),
]


def is_anonymous(path: str) -> bool:
    return ANONYMOUS_PATHS.fullmatch(path) is not None


def today() -> date:
    """The county's date: all a public write keeps of when it happened."""
    return datetime.now(COUNTY_TZ).date()


def new_code() -> str:
    """16 random digits (log2(10¹⁶) ≈ 53.2 bits)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def grouped(code: str) -> str:
    """The code as shown once, in groups of four: "1234 5678 9012 3456"."""
    return " ".join(code[i : i + 4] for i in range(0, CODE_DIGITS, 4))


def normalised_code(value: str, *, name: str = "查询码") -> str:
    """The 16 digits of a code as a villager types it back (spaces and dashes dropped)."""
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != CODE_DIGITS or not digits.isdigit() or not digits.isascii():
        raise ValueError(f"{name}应为 {CODE_DIGITS} 位数字")
    return digits


def scoped_salt(scope: str, *, settings: Settings) -> bytes:
    """The salt of one kind of code (e.g. "question"), derived from the installation's key
    (LIANYUN_ID_PEPPER): one salt for all codes of the kind, so that a code is found by its
    hash, and a copy of the database alone does not even have it."""
    key = settings.secret("id_pepper").encode()
    return hmac.new(key, f"code-salt:{scope}".encode(), hashlib.sha256).digest()[:16]


def code_hash(code: str, salt: bytes) -> str:
    """argon2id of the digits under the installation's salt; the same work for every code."""
    digest = hash_secret_raw(
        secret=code.encode(),
        salt=salt,
        time_cost=_ARGON2_TIME_COST,
        memory_cost=_ARGON2_MEMORY_KIB,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    return digest.hex()


def device_hash(scope: str, device_token: str, *, settings: Settings) -> str:
    """Keyed hash of a phone's token within `scope` (e.g. "survey:7", "inquiry:12")."""
    key = settings.secret("id_pepper").encode()
    return hmac.new(key, f"{scope}:{device_token}".encode(), hashlib.sha256).hexdigest()


def limit(rate: str, name: str, client: str) -> None:
    """Count one public write of `client` under `name`; RateLimited past `rate`."""
    ratelimit.hit(rate, name, client, private=True)


async def limit_off_loop(rate: str, name: str, client: str) -> None:
    """`limit` for code on the event loop (see app.ratelimit.hit_off_loop)."""
    await ratelimit.hit_off_loop(rate, name, client, private=True)
