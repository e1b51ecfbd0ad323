"""Problems of the reference lists, the item standards and the cadre-benefit disclosure."""

from app.errors import InvalidState, NotFound, PayloadTooLarge


class ListTooLarge(PayloadTooLarge):
    code = "screening_list_too_large"
    title = "名单文件太大"


class ListEncodingUnknown(InvalidState):
    code = "screening_list_encoding"
    title = "名单文件的编码无法识别"


class ListColumnsInvalid(InvalidState):
    code = "screening_list_columns"
    title = "名单文件的表头不对"


class ListRowsInvalid(InvalidState):
    """Rows that cannot be taken, each by its row number and reason (`rows`), never its
    content: a cell may hold an ID number, even in a column meant for something else."""

    code = "screening_list_rows"
    title = "名单中有无法接收的行"


class ListFileMissing(InvalidState):
    code = "screening_list_file_missing"
    title = "没有收到名单文件"


class ItemUnknown(InvalidState):
    code = "screening_item_unknown"
    title = "没有这个补贴项目"


class StandardNotFound(NotFound):
    code = "screening_standard_not_found"
    title = "这个项目没有单笔最高标准"


class VillageNotFound(NotFound):
    code = "screening_village_not_found"
    title = "没有这个村（社区）"
