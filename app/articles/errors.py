from app.errors import Forbidden, InvalidState, NotFound


class ArticleNotFound(NotFound):
    code = "article_not_found"
    title = "找不到该文章"


class ArticleImageNotFound(NotFound):
    code = "article_image_not_found"
    title = "找不到该图片"


class CaseNotFound(NotFound):
    code = "case_not_found"
    title = "找不到该案例"


class UnsafeMarkdown(InvalidState):
    code = "article_markdown_unsafe"
    title = "正文含有不安全的内容"


class ArticleStateInvalid(InvalidState):
    code = "article_state_invalid"
    title = "文章当前的状态不允许此操作"


class ImageInvalid(InvalidState):
    code = "article_image_invalid"
    title = "图片有误"


class CaseInvalid(InvalidState):
    code = "case_invalid"
    title = "案例内容有误"


class CaseStateInvalid(InvalidState):
    code = "case_state_invalid"
    title = "案例当前的状态不允许此操作"


class OutsideTownship(Forbidden):
    code = "outside_township"
    title = "不在您的乡镇"
