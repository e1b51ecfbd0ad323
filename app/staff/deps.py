"""Who is calling: `CurrentStaff` (any role but `cadre`), `CurrentExaminee` (a cadre, who can do
nothing but take exams), `CurrentAccount` (either), and the one reusable rule
`require_role(...)`."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import Forbidden, Unauthorized
from app.staff import service
from app.staff.models import Role, Staff

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_account(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Staff:
    if not token:
        raise Unauthorized("请先登录：请求头中缺少 Authorization: Bearer 令牌。")
    return service.staff_from_token(session, token=token, settings=settings)


CurrentAccount = Annotated[Staff, Depends(current_account)]


def current_staff(account: CurrentAccount) -> Staff:
    """A staff member at work: a cadre's account only takes exams, so it is refused here, on
    every route of every domain that asks for staff."""
    if account.role == Role.cadre:
        raise Forbidden("考试账号只能参加考试，不能进行此操作。")
    return account


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def current_examinee(account: CurrentAccount) -> Staff:
    service.check_examinee(account)
    return account


CurrentExaminee = Annotated[Staff, Depends(current_examinee)]


async def examinee_token(token: Annotated[str | None, Depends(oauth2_scheme)]) -> str:
    """The bearer token of a cadre's route that checks it inside its own transaction
    (`service.examinee_from_token`): a route that does all its work in one blocking call."""
    if not token:
        raise Unauthorized("请先登录：请求头中缺少 Authorization: Bearer 令牌。")
    return token


ExamineeToken = Annotated[str, Depends(examinee_token)]


def require_role(*roles: Role, region_param: str | None = None) -> Callable[..., Staff]:
    """A dependency: the caller holds one of `roles`, and, when `region_param` names a path or
    query parameter that the request carries, that region lies inside the caller's own."""

    def dependency(request: Request, staff: CurrentStaff) -> Staff:
        service.check_role(staff, roles)
        if region_param is not None:
            code = request.path_params.get(region_param) or request.query_params.get(region_param)
            if code:
                service.check_region(staff, code)
        return staff

    return dependency
