from app.errors import Conflict, InvalidState, NotFound


class ExamNotFound(NotFound):
    code = "exam_not_found"
    title = "找不到该考试"


class AttemptNotFound(NotFound):
    code = "exam_attempt_not_found"
    title = "找不到这次答题"


class QuestionNotFound(NotFound):
    code = "exam_question_not_found"
    title = "找不到该题目"


class BankFileInvalid(InvalidState):
    code = "exam_bank_file_invalid"
    title = "题库文件有误"


class DrawExceedsBank(InvalidState):
    code = "exam_draw_exceeds_bank"
    title = "抽题数超过了题库的题数"


class ExamStateInvalid(InvalidState):
    code = "exam_state_invalid"
    title = "考试当前的状态不允许此操作"


class ExamNotAvailable(InvalidState):
    code = "exam_not_available"
    title = "现在不能参加这次考试"


class AttemptsExhausted(Conflict):
    code = "exam_attempts_exhausted"
    title = "答题次数已用完"


class SlotNotInAttempt(InvalidState):
    code = "exam_slot_not_in_attempt"
    title = "这次答题没有这道题"


class AttemptDeadlinePassed(Conflict):
    code = "exam_deadline_passed"
    title = "答题时间已到"


class AttemptFinished(Conflict):
    code = "exam_attempt_finished"
    title = "这次答题已经交卷"


class AnswerShapeInvalid(InvalidState):
    code = "exam_answer_invalid"
    title = "答案的格式与题型不符"


class ReviewNotYet(InvalidState):
    code = "exam_review_not_yet"
    title = "还不能查看成绩和解析"
