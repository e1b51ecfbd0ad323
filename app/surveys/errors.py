from app.errors import Conflict, InvalidState, NotFound


class SurveyNotFound(NotFound):
    code = "survey_not_found"
    title = "找不到该测评"


class SurveyStateInvalid(InvalidState):
    code = "survey_state_invalid"
    title = "测评当前的状态不允许此操作"


class SurveyNotOpen(InvalidState):
    code = "survey_not_open"
    title = "测评未在进行中"


class SurveyResultsNotPublished(InvalidState):
    code = "survey_results_not_published"
    title = "测评结果尚未公布"


class SurveyAlreadyAnswered(Conflict):
    code = "survey_already_answered"
    title = "您已参加过这次测评"


class SurveyAnswerInvalid(InvalidState):
    code = "survey_answer_invalid"
    title = "答卷有误"
