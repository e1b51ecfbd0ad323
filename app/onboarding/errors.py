from app.errors import Conflict, InvalidState, NotFound, UpstreamUnavailable


class PosterNotFound(NotFound):
    code = "poster_not_found"
    title = "找不到该海报"


class NotAVillage(InvalidState):
    code = "poster_village_invalid"
    title = "海报只能为村（社区）制作"


class PosterFontMissing(UpstreamUnavailable):
    code = "poster_font_missing"
    title = "服务器缺少中文字体，无法生成海报"


class PosterExists(Conflict):
    """A second poster for the same village and channel would split its scan counts; the
    problem carries the existing poster's code as `poster_code`."""

    code = "poster_exists"
    title = "这个村的这个渠道已有海报"
