from app.errors import Conflict, InvalidState, NotFound


class MeetingNotFound(NotFound):
    code = "inquiry_meeting_not_found"
    title = "找不到该问廉会议"


class InquiryNotFound(NotFound):
    code = "inquiry_not_found"
    title = "找不到该问题"


class NotAPlace(InvalidState):
    code = "inquiry_place_invalid"
    title = "会议地点不是村（社区）或乡镇"


class MeetingDateInvalid(InvalidState):
    code = "inquiry_meeting_date_invalid"
    title = "开会日期不对"


class MeetingStateInvalid(InvalidState):
    code = "inquiry_meeting_state_invalid"
    title = "会议当前的状态不允许此操作"


class DeadlineInvalid(InvalidState):
    code = "inquiry_deadline_invalid"
    title = "整改期限不对"


class InquiryStateInvalid(InvalidState):
    code = "inquiry_state_invalid"
    title = "问题当前的状态不允许此操作"


class ConfirmationRequired(Conflict):
    code = "confirmation_required"
    title = "销号需要群众确认"


class VotingClosed(InvalidState):
    code = "inquiry_voting_closed"
    title = "这个问题现在不能投票"


class AlreadyVoted(Conflict):
    code = "inquiry_already_voted"
    title = "这台手机已经投过票"


class ReasonRequired(InvalidState):
    code = "inquiry_reason_required"
    title = "请写明不予受理的原因"


class PhotoInvalid(InvalidState):
    code = "inquiry_photo_invalid"
    title = "照片有误"


class PhotoNotFound(NotFound):
    code = "inquiry_photo_not_found"
    title = "找不到该照片"
