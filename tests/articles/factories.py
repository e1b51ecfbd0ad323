"""Articles and cases made through the service, as staff would (audited, indexed)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.articles import cases, service
from app.articles.schemas import ArticleCreate, CaseCreate
from app.public_writes import today
from app.staff.models import Role, Staff
from tests.factories import HUANGLIU, XIXING, make_staff

CASE: dict[str, Any] = {
    "number": "平纪通〔2026〕3号",
    "township_code": XIXING,
    "village_code": HUANGLIU,
    "person_name": "王小明",
    "post": "村委会主任",
    "problem": "违规为亲属申报低保",
    "facts": "2023年3月，王小明利用职务便利，为不符合条件的弟弟申报低保，"
    "违规领取低保金共计8640元。",
    "facts_on": "2023-03-01",
    "amount_involved": "8640",
    "amount_recovered": "8640",
    "disciplines": ["party_serious_warning", "gov_dismissal"],
    "discipline_on": "2024-05-20",
    "issued_by": "县纪委监委",
    "tip_category": "dibao",
    "policy_category": "01",
}


def editor(session: Session) -> Staff:
    return make_staff(session, role=Role.editor)


def commission(session: Session) -> Staff:
    return make_staff(session, role=Role.commission)


def make_article(
    session: Session,
    *,
    title: str = "身边的“微腐败”要不得",
    column: str = "warning",
    body: str = "村里的钱，一分一厘都要用在明处。",
    publish: bool = True,
    publish_at: datetime | None = None,
    unpublish_at: datetime | None = None,
    actor: Staff | None = None,
) -> int:
    actor = actor or editor(session)
    made = service.create_article(
        session,
        data=ArticleCreate(
            column=column,  # type: ignore[arg-type]
            title=title,
            summary="",
            body_markdown=body,
            publish_at=publish_at,
            unpublish_at=unpublish_at,
        ),
        actor=actor,
    )
    if publish:
        service.publish_article(session, made.id, actor=actor)
    return made.id


def make_case(
    session: Session, *, publish: bool = True, actor: Staff | None = None, **fields: Any
) -> int:
    actor = actor or commission(session)
    data = CaseCreate.model_validate({**CASE, **fields})
    made = cases.create_case(session, data=data, actor=actor)
    if publish:
        cases.publish_case(session, made.id, actor=actor)
    return made.id


def past(days: int = 1) -> date:
    return date.fromordinal(today().toordinal() - days)
