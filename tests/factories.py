"""Typed factories: they flush, never commit."""

from itertools import count

from sqlalchemy.orm import Session

from app.config import get_settings
from app.security import create_access_token, hash_password
from app.staff.models import Role, Staff

COUNTY = "511923000000"
FOLOU = "511923103000"  # 佛楼镇
SANGUANZHAI = "511923103204"  # 佛楼镇三官寨村
HUANGLIU = "511923102205"  # 西兴镇黄柳村
XIXING = "511923102000"  # 西兴镇
DEFAULT_PASSWORD = "correct-horse-battery"

_numbers = count(1)
_PASSWORD_HASH = hash_password(DEFAULT_PASSWORD)


def make_staff(
    session: Session,
    *,
    role: Role = Role.county_admin,
    region_code: str = COUNTY,
    username: str | None = None,
    is_active: bool = True,
) -> Staff:
    staff = Staff(
        username=username or f"staff{next(_numbers)}",
        display_name="测试人员",
        password_hash=_PASSWORD_HASH,
        role=role,
        region_code=region_code,
        is_active=is_active,
    )
    session.add(staff)
    session.flush()
    return staff


def auth_headers(staff: Staff) -> dict[str, str]:
    settings = get_settings()
    token = create_access_token(
        subject=str(staff.id),
        claims={"role": staff.role, "region": staff.region_code},
        key=settings.secret("secret_key"),
        minutes=settings.access_token_minutes,
    )
    return {"Authorization": f"Bearer {token}"}
