from app.errors import Conflict, InvalidState, NotFound


class QuestionNotFound(NotFound):
    code = "question_not_found"
    title = "找不到该留言"


class CodeNotFound(NotFound):
    code = "question_code_not_found"
    title = "查询码不对"


class VillageUnknown(InvalidState):
    code = "question_village_unknown"
    title = "没有这个村（社区）"


class QuestionStateInvalid(InvalidState):
    code = "question_state_invalid"
    title = "留言当前的状态不允许此操作"


class NotYetAnswered(InvalidState):
    code = "question_not_answered"
    title = "留言还没有答复"


class AlreadyRated(Conflict):
    code = "question_already_rated"
    title = "已经评价过了"


class AnswererInvalid(InvalidState):
    code = "question_answerer_invalid"
    title = "不能交给这位工作人员办理"
