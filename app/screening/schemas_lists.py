"""Schemas of the reference lists, the item standards and the cadre-benefit disclosure."""

from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.errors import RowProblem
from app.schemas import LocalDateTime, StrictInt, Text, Yuan
from app.screening.models import ListKind

__all__ = [
    "CadreBenefitItem",
    "CadreBenefitPerson",
    "CadreBenefits",
    "ListRead",
    "ListUploadRead",
    "RowProblem",
    "StandardRead",
    "StandardUpdate",
]

# --- reference lists ------------------------------------------------------------------------


class ListRead(BaseModel):
    kind: ListKind
    name: str = Field(examples=["死亡人员名单"])
    columns: list[str] = Field(description="CSV 表头应有的列", examples=[["id_number", "died_on"]])
    entries: int = Field(description="名单现有的人数（条数）")
    uploaded_at: LocalDateTime | None = Field(description="最近一次上传的时间；从未上传为空")
    uploaded_by: str | None = Field(description="最近一次上传的工作人员用户名")


class ListUploadRead(BaseModel):
    kind: ListKind
    name: str
    entries: int = Field(description="新名单的条数")
    uploaded_at: LocalDateTime
    uploaded_by: str
    encoding: str = Field(description="读出的文件编码：UTF-8 或 GBK/GB18030", examples=["UTF-8"])
    previous_entries: int | None = Field(description="被替换的旧名单的条数；第一次上传为空")
    cadres: int | None = Field(default=None, description="干部名册：其中干部本人的人数")
    screening_run_id: int | None = Field(
        default=None,
        description="按新名单重新筛查（用到这份名单的规则，全部发放记录）的筛查记录；"
        "同步正在进行时为空：同步结束后补做",
    )


# --- item standards -------------------------------------------------------------------------

YuanText = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,8}(\.\d{1,2})?$")
]
MAX_STANDARD_FEN = 1_000_000_000  # 1000 万元: far above any one payout, within the column


class StandardUpdate(BaseModel):
    """The most one payout of the item may be: `max_yuan` ("540.00") or `max_fen` (54000)."""

    max_yuan: YuanText | None = Field(default=None, examples=["540.00"])
    max_fen: Annotated[StrictInt, Field(ge=1, le=MAX_STANDARD_FEN)] | None = None
    basis: Annotated[Text, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        default="", description="标准的出处，如“平昌县民政局2026年低保标准”"
    )

    @model_validator(mode="after")
    def _one_amount(self) -> Self:
        if (self.max_yuan is None) == (self.max_fen is None):
            raise ValueError("请给出 max_yuan（元）或 max_fen（分）中的一个")
        if self.max_yuan is not None:
            fen = int(Decimal(self.max_yuan) * 100)
            if not 1 <= fen <= MAX_STANDARD_FEN:
                raise ValueError("单笔最高标准应大于 0 元、不超过 1000 万元")
        return self

    @property
    def fen(self) -> int:
        if self.max_fen is not None:
            return self.max_fen
        return int(Decimal(str(self.max_yuan)) * 100)


class StandardRead(BaseModel):
    item_name: str = Field(examples=["城乡居民最低生活保障金"])
    category_code: str | None = Field(description="县里的补贴项目所属的类别；不在县里项目表的为空")
    max: Yuan = Field(examples=["540.00"], description="单笔最高（元）")
    basis: str
    staff_edited: bool = Field(description="是否由工作人员设定（否则为演示数据）")
    updated_at: LocalDateTime


# --- the cadre-benefit disclosure ------------------------------------------------------------


class CadreBenefitItem(BaseModel):
    category_code: str
    category_name: str
    item_name: str
    lines: int = Field(description="发放笔数（不含已追回/撤销的）")
    total: Yuan = Field(examples=["1716.00"])


class CadreBenefitPerson(BaseModel):
    name_masked: str = Field(examples=["张*明"])
    relation: str = Field(description="与干部的关系", examples=["配偶"])
    cadre_post: str = Field(description="干部的职务", examples=["村党支部书记"])
    items: list[CadreBenefitItem]
    total: Yuan


class CadreBenefits(BaseModel):
    """Figures of the paid lines of the village in the year; reversed lines are left out."""

    village_code: str
    village: str = Field(examples=["平昌县佛楼镇三官寨村"])
    year: int
    persons: list[CadreBenefitPerson] = Field(
        description="本村干部及其近亲属中当年在本村领到补贴的人（一人是两位干部的亲属时列两行）"
    )
    group_persons: int = Field(description="其中不同的人数")
    group_total: Yuan = Field(description="他们当年在本村领到的补贴合计")
    village_persons: int = Field(description="本村当年领到补贴的人数")
    village_total: Yuan = Field(description="本村当年发放的补贴合计")
    persons_share: str = Field(
        description="干部及其近亲属占本村领补贴人数的百分比，两位小数", examples=["3.45"]
    )
    money_share: str = Field(
        description="干部及其近亲属领到的金额占本村补贴总额的百分比，两位小数", examples=["2.10"]
    )
