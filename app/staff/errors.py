from app.errors import Forbidden, InvalidState, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    title = "用户名或密码不对"


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    title = "登录已失效，请重新登录"


class RegionRoleMismatch(InvalidState):
    code = "region_role_mismatch"
    title = "所辖地区与角色不符"


class StaffImportInvalid(InvalidState):
    code = "staff_import_invalid"
    title = "干部名单有误"


class CurrentPasswordWrong(Forbidden):
    code = "current_password_wrong"
    title = "当前密码不对"
