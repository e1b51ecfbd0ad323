from app.errors import InvalidState, NotFound, PayloadTooLarge, UpstreamUnavailable


class ReceiptNotFound(NotFound):
    code = "tip_receipt_not_found"
    title = "回执码不对"


class TipNotFound(NotFound):
    code = "tip_not_found"
    title = "找不到该举报"


class AttachmentInvalid(InvalidState):
    code = "tip_attachment_invalid"
    title = "附件无法接收"


class AttachmentTooLarge(PayloadTooLarge):
    code = "tip_attachment_too_large"
    title = "附件太大"


class TipStateInvalid(InvalidState):
    code = "tip_state_invalid"
    title = "举报当前的状态不允许此操作"


class TipKeyUnavailable(UpstreamUnavailable):
    code = "tip_key_unavailable"
    title = "举报密钥不可用"


class TipFormInvalid(InvalidState):
    code = "tip_form_invalid"
    title = "表单格式不对"


class VillageUnknown(InvalidState):
    code = "tip_village_unknown"
    title = "没有这个村（社区）"


class PayoutUnknown(InvalidState):
    code = "tip_payout_unknown"
    title = "没有这条发放记录"


class AssigneeInvalid(InvalidState):
    code = "tip_assignee_invalid"
    title = "不能指派给这位工作人员"
