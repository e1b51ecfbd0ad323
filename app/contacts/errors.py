from app.errors import Conflict, InvalidState, NotFound


class ContactNotFound(NotFound):
    code = "contact_not_found"
    title = "没有这个电话"


class ContactExists(Conflict):
    code = "contact_exists"
    title = "已经登记过"


class ContactRegionInvalid(InvalidState):
    code = "contact_region_invalid"
    title = "地区和电话的种类不相符"
