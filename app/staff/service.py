"""Staff accounts, sign-in and what each role may see.

Invariants:
- A password is kept only as an argon2id hash; a refresh token only as its SHA-256 digest.
- A staff member's region fits the role: county roles hold the county, `township_officer` a
  township, `village_clerk` a village. A staff member sees only what lies inside their region.
- Every write here goes through the audit log, with public fields only.
- Disabling an account or resetting its password ends all its sessions; so does its owner
  changing it (a cadre's one-time password was seen by the officer who made the account).
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import ratelimit
from app.audit import service as audit
from app.config import Settings
from app.db.base import utcnow
from app.errors import Conflict, Forbidden, InvalidState, NotFound
from app.pagination import PageParams, paginate
from app.regions import service as regions_service
from app.regions.models import RegionLevel
from app.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    new_opaque_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)
from app.staff.errors import (
    CurrentPasswordWrong,
    InvalidCredentials,
    RegionRoleMismatch,
    TokenInvalid,
)
from app.staff.models import RefreshToken, Role, Staff
from app.staff.schemas import PasswordChange, StaffCreate, StaffFilter, StaffUpdate, TokenPair

# The levels of region each role may hold (the first is the default of a county role).
_LEVELS_FOR_ROLE: dict[Role, tuple[RegionLevel, ...]] = {
    Role.county_admin: (RegionLevel.county,),
    Role.commission: (RegionLevel.county,),
    Role.editor: (RegionLevel.county,),
    Role.township_officer: (RegionLevel.township,),
    Role.village_clerk: (RegionLevel.village,),
    Role.cadre: (RegionLevel.village, RegionLevel.township),
}
_LEVEL_NAMES = {
    RegionLevel.county: "县",
    RegionLevel.township: "乡镇（街道）",
    RegionLevel.village: "村（社区）",
}


def public_fields(staff: Staff) -> dict[str, Any]:
    """What the audit log keeps of a staff member (never the password hash)."""
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "role": staff.role,
        "region_code": staff.region_code,
        "is_active": staff.is_active,
    }


# --- sign-in -----------------------------------------------------------------------------


def login(
    session: Session, *, username: str, password: str, client: str, settings: Settings
) -> TokenPair:
    """Check a password and issue a token pair.

    Limits: attempts per client; failures per account and client, so that someone failing
    from elsewhere does not lock the owner out; and failures per account from all clients
    together, a higher ceiling against guessing from many addresses. An attempt counts as a
    failure before the (slow) password check, so parallel guesses cannot all be checked
    before the first is counted; a success then forgets the failures of that account from
    that client (not from all clients). All of them refuse (503) rather than count per worker
    when Redis is away."""
    username = username.strip().lower()
    account_from_client = f"{username}\n{client}"
    ratelimit.hit(settings.login_limit_per_client, "login-client", client, fail_closed=True)
    ratelimit.hit(
        settings.login_limit_per_account, "login-failures", account_from_client, fail_closed=True
    )
    ratelimit.hit(
        settings.login_limit_per_account_all_clients,
        "login-failures-all",
        username,
        fail_closed=True,
    )
    staff = session.scalar(select(Staff).where(Staff.username == username))
    ok = verify_password(staff.password_hash if staff else None, password)
    if staff is None or not ok or not staff.is_active:
        raise InvalidCredentials("用户名或密码不对，或账号已停用。")
    ratelimit.clear(settings.login_limit_per_account, "login-failures", account_from_client)
    if password_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    return _issue_tokens(session, staff, settings=settings, family=new_opaque_token()[:32])


def _issue_tokens(session: Session, staff: Staff, *, settings: Settings, family: str) -> TokenPair:
    access = create_access_token(
        subject=str(staff.id),
        claims={"role": staff.role, "region": staff.region_code},
        key=settings.secret("secret_key"),
        minutes=settings.access_token_minutes,
    )
    refresh = new_opaque_token()
    lifetime = timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(
            staff_id=staff.id,
            token_hash=token_digest(refresh),
            family=family,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return TokenPair(
        access_token=access,
        expires_in=settings.access_token_minutes * 60,
        refresh_token=refresh,
        refresh_expires_in=int(lifetime.total_seconds()),
    )


def refresh(session: Session, *, refresh_token: str, settings: Settings) -> TokenPair:
    """Swap a refresh token for a new pair. A token that was already used (a sign that it was
    stolen) revokes its whole family: the thief and the owner both sign in again."""
    token = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))
    )
    if token is None:
        raise TokenInvalid("刷新令牌无效，请重新登录。")
    now = utcnow()
    if token.revoked_at is not None:
        _revoke(session, RefreshToken.family == token.family)
        error = TokenInvalid("刷新令牌已使用过或已注销，请重新登录。")
        error.keep_writes = True
        raise error
    staff = session.get(Staff, token.staff_id)
    if token.expires_at <= now or staff is None or not staff.is_active:
        raise TokenInvalid("登录已过期，请重新登录。")
    token.revoked_at = now
    return _issue_tokens(session, staff, settings=settings, family=token.family)


def logout(session: Session, *, refresh_token: str) -> None:
    """Revoke the session the refresh token belongs to; an unknown token is not an error."""
    token = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))
    )
    if token is not None:
        _revoke(session, RefreshToken.family == token.family)


def change_password(
    session: Session, staff: Staff, *, data: PasswordChange, settings: Settings
) -> None:
    """The owner's own new password: every session of the account ends, this one too, and
    they sign in again with it. Attempts count against the account's sign-in limit before the
    (slow) check, so a stolen access token cannot be used to guess the password."""
    ratelimit.hit(
        settings.login_limit_per_account, "password-change", staff.username, fail_closed=True
    )
    if not verify_password(staff.password_hash, data.current_password):
        raise CurrentPasswordWrong("现在的密码不对，密码没有修改。")
    if data.new_password == data.current_password:
        raise InvalidState("新密码不能和现在的密码一样。")
    _new_password(session, staff, data.new_password)
    session.flush()
    audit.record(
        session,
        actor=staff,
        action="staff.password",
        entity_type="staff",
        entity_id=staff.id,
        after={"password": "本人已修改"},
    )


def _new_password(session: Session, staff: Staff, password: str) -> None:
    """Set the password and end every session of the account (tokens issued before now)."""
    staff.password_hash = hash_password(password)
    staff.tokens_valid_after = utcnow()
    _revoke(session, RefreshToken.staff_id == staff.id)


def _revoke(session: Session, condition: Any) -> None:
    session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def staff_from_token(session: Session, *, token: str, settings: Settings) -> Staff:
    """The active staff member an access token stands for; role and region are read fresh
    from the database so that a re-role or a disable takes effect at once."""
    claims = decode_access_token(
        token, key=settings.secret("secret_key"), minutes=settings.access_token_minutes
    )
    if claims is None:
        raise TokenInvalid("登录令牌无效或已过期，请重新登录。")
    staff = session.get(Staff, int(claims["sub"]))
    if staff is None or not staff.is_active:
        raise TokenInvalid("账号不存在或已停用。")
    valid_after = staff.tokens_valid_after
    if valid_after is not None and claims.get("iat", 0) <= int(valid_after.timestamp()):
        raise TokenInvalid("密码已重设，请重新登录。")
    return staff


# --- access rules ----------------------------------------------------------------------------


def check_examinee(account: Staff) -> None:
    if account.role != Role.cadre:
        raise Forbidden("只有考试账号（干部）才能参加考试。")


def examinee_from_token(session: Session, *, token: str, settings: Settings) -> Staff:
    """The cadre an access token stands for (see `staff_from_token`)."""
    account = staff_from_token(session, token=token, settings=settings)
    check_examinee(account)
    return account


def check_role(staff: Staff, roles: tuple[Role, ...]) -> None:
    if staff.role not in roles:
        raise Forbidden("您的角色不能进行此操作。")


def check_region(staff: Staff, region_code: str) -> None:
    if not regions_service.contains(staff.region_code, region_code):
        raise Forbidden("该地区不在您的管辖范围内。")


# --- staff management ------------------------------------------------------------------------


def _resolve_region(session: Session, role: Role, region_code: str | None) -> str:
    levels = _LEVELS_FOR_ROLE[role]
    names = "或".join(_LEVEL_NAMES[level] for level in levels)
    if region_code is None and levels[0] is RegionLevel.county:
        county = regions_service.county(session)
        return county.code
    if region_code is None:
        raise RegionRoleMismatch(f"角色 {role.value} 需要指定所辖{names}。")
    region = regions_service.find_region(session, region_code)
    if region is None:
        raise NotFound(f"没有编码为 {region_code} 的地区")
    if region.level not in levels:
        raise RegionRoleMismatch(f"角色 {role.value} 的所辖地区应是{names}。")
    return region.code


def create_staff(session: Session, *, data: StaffCreate, actor: Staff | None) -> Staff:
    username = data.username.lower()
    if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已被占用")
    staff = Staff(
        username=username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role,
        region_code=_resolve_region(session, data.role, data.region_code),
    )
    session.add(staff)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.create",
        entity_type="staff",
        entity_id=staff.id,
        after=public_fields(staff),
    )
    return staff


def update_staff(session: Session, staff_id: int, *, data: StaffUpdate, actor: Staff) -> Staff:
    staff = get_staff(session, staff_id, viewer=actor)
    before = public_fields(staff)
    changes = data.model_dump(exclude_unset=True)
    if staff.id == actor.id and (
        changes.get("is_active") is False or changes.get("role") not in (None, actor.role)
    ):
        raise InvalidState("不能停用自己的账号或更改自己的角色。")
    if "display_name" in changes and data.display_name is not None:
        staff.display_name = data.display_name
    if data.role is not None or data.region_code is not None:
        role = data.role or Role(staff.role)
        region = data.region_code
        if region is None and _LEVELS_FOR_ROLE[role] == _LEVELS_FOR_ROLE[Role(staff.role)]:
            region = staff.region_code  # same level: keep the region
        staff.role, staff.region_code = role, _resolve_region(session, role, region)
    end_sessions = False
    if data.is_active is not None:
        end_sessions = staff.is_active and not data.is_active
        staff.is_active = data.is_active
    if data.password is not None:
        _new_password(session, staff, data.password)
    elif end_sessions:
        _revoke(session, RefreshToken.staff_id == staff.id)
    session.flush()
    after = public_fields(staff)
    if data.password is not None:
        after["password"] = "已重设"  # noqa: S105 (a note that it changed)
    audit.record(
        session,
        actor=actor,
        action="staff.update",
        entity_type="staff",
        entity_id=staff.id,
        before=before,
        after=after,
    )
    return staff


def get_staff(session: Session, staff_id: int, *, viewer: Staff) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("没有这个工作人员")
    check_region(viewer, staff.region_code)
    return staff


def list_staff(
    session: Session, *, viewer: Staff, filters: StaffFilter, page: PageParams
) -> tuple[list[Staff], int]:
    scope = filters.region_code or viewer.region_code
    check_region(viewer, scope)
    prefix = regions_service.scope_prefix(scope)
    stmt = select(Staff).where(Staff.region_code.startswith(prefix)).order_by(Staff.id)
    if filters.role is not None:
        stmt = stmt.where(Staff.role == filters.role)
    if filters.is_active is not None:
        stmt = stmt.where(Staff.is_active == filters.is_active)
    return paginate(session, stmt, page)


def list_cadres(session: Session, *, region_code: str) -> list[Staff]:
    """The active cadres (examinees) inside a region, by region and username."""
    prefix = regions_service.scope_prefix(region_code)
    return list(
        session.scalars(
            select(Staff)
            .where(
                Staff.role == Role.cadre,
                Staff.is_active.is_(True),
                Staff.region_code.startswith(prefix),
            )
            .order_by(Staff.region_code, Staff.username)
        )
    )


def find_by_username(session: Session, username: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.username == username.lower()))
