from pydantic import BaseModel, ConfigDict, Field

from app.regions.models import RegionLevel

URBAN_RURAL_DESCRIPTION = (
    "城乡分类代码（国家统计局）：111 主城区、112 城乡结合区、121 镇中心区、122 镇乡结合区、"
    "123 特殊区域、210 乡中心区、220 村庄；导入的文件没有这一项时为 null"
)


class RegionBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["511923103204"], description="12 位统计用区划代码")
    name: str = Field(examples=["三官寨村"])


class VillageBrief(RegionBrief):
    urban_rural_code: str | None = Field(examples=["220"], description=URBAN_RURAL_DESCRIPTION)


class TownshipRead(RegionBrief):
    villages: list[VillageBrief] = Field(description="现行的村（社区），不含已从区划中撤销的")


class RegionTree(BaseModel):
    county: RegionBrief
    townships: list[TownshipRead] = Field(description="现行的乡镇（街道）")


class RegionRead(RegionBrief):
    level: RegionLevel
    full_name: str = Field(examples=["平昌县佛楼镇三官寨村"])
    urban_rural_code: str | None = Field(examples=["220"], description=URBAN_RURAL_DESCRIPTION)
    current: bool = Field(
        description="最近导入的区划文件是否还有这个编码；撤销、合并的村仍可查到，但为 false"
    )
    parent: RegionBrief | None
    children: list[RegionBrief]


class ImportSummary(BaseModel):
    created: int
    updated: int
    unchanged: int
    retired: int = Field(default=0, description="新文件里没有、标为不再现行的地区数（不删除）")
