from pydantic import BaseModel, ConfigDict, Field

from app.contacts.models import ContactKind
from app.schemas import LocalDateTime, Text

KIND_NAMES: dict[str, str] = {
    ContactKind.township_commission: "乡镇纪委监督电话",
    ContactKind.county_hotline: "县纪委监委举报电话",
    ContactKind.area_leader: "包片领导电话",
}


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    region_code: Text = Field(
        pattern=r"^\d{12}$",
        description="county_hotline：县的代码；township_commission：乡镇的；area_leader：村的",
    )
    kind: ContactKind = Field(
        description="township_commission 乡镇纪委监督电话，county_hotline 县纪委监委举报电话，"
        "area_leader 包片领导的公开电话"
    )
    title: Text = Field(min_length=1, max_length=64, examples=["佛楼镇纪委"])
    person: Text = Field(default="", max_length=64, examples=["包片领导：副镇长 王某"])
    phone: Text = Field(
        min_length=3, max_length=32, pattern=r"^[0-9０-９+\- ()（）转]+$", examples=["0827-6212388"]
    )
    note: Text = Field(default="", max_length=200, examples=["工作日 8:30–17:30"])
    demo: bool = Field(default=False, description="演示用的虚构号码（页面上标明）")


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Text = Field(min_length=1, max_length=64)
    person: Text = Field(default="", max_length=64)
    phone: Text = Field(min_length=3, max_length=32, pattern=r"^[0-9０-９+\- ()（）转]+$")
    note: Text = Field(default="", max_length=200)
    demo: bool = False


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    kind: ContactKind
    kind_name: str
    title: str
    person: str
    phone: str
    note: str
    demo: bool
    updated_at: LocalDateTime


class VillageContacts(BaseModel):
    village_code: str
    village: str = Field(examples=["平昌县佛楼镇三官寨村"])
    items: list[ContactRead] = Field(
        description="找谁监督：乡镇纪委监督电话、县纪委监委举报电话、包片领导电话（有几项列几项）"
    )


class ContactFilter(BaseModel):
    region_code: str | None = Field(default=None, pattern=r"^\d{12}$")
