from app.errors import Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    title = "用户名或密码不对"


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    title = "登录已失效，请重新登录"
