"""The problems of the flags and of the villagers' objections."""

from app.errors import Conflict, InvalidState, NotFound


class FlagNotFound(NotFound):
    code = "screening_flag_not_found"
    title = "找不到该疑点"


class FlagClosed(Conflict):
    code = "screening_flag_closed"
    title = "该疑点已经处理过"


class FlagReasonMissing(InvalidState):
    code = "screening_flag_reason_missing"
    title = "须填写处理理由"


class FlagNotConfirmed(InvalidState):
    code = "screening_flag_not_confirmed"
    title = "只有确认属实的疑点才能转为举报"


class FlagTipExists(Conflict):
    code = "screening_flag_tip_exists"
    title = "该疑点已转为举报"


class LineNotListed(NotFound):
    code = "screening_line_not_listed"
    title = "公示清单里没有这一条"
