from pydantic import BaseModel, ConfigDict, Field

from app.regions.models import RegionLevel


class RegionBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["511923106201"], description="12 位统计用区划代码")
    name: str = Field(examples=["三官寨村"])


class TownshipRead(RegionBrief):
    villages: list[RegionBrief]


class RegionTree(BaseModel):
    county: RegionBrief
    townships: list[TownshipRead]


class RegionRead(RegionBrief):
    level: RegionLevel
    full_name: str = Field(examples=["平昌县佛楼镇三官寨村"])
    parent: RegionBrief | None
    children: list[RegionBrief]


class ImportSummary(BaseModel):
    created: int
    updated: int
    unchanged: int
