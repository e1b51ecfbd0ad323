from typing import Any

from sqlalchemy.orm import Session

from app.staff.models import Staff
from app.surveys import service
from app.surveys.models import Survey, SurveyState
from app.surveys.schemas import SurveyCreate
from tests.factories import COUNTY


def survey_data(*, region_code: str = COUNTY, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "2026 年党风廉政建设社会评价",
        "region_code": region_code,
        "targets": [
            {"name": "县民政局", "kind": "department"},
            {"name": "佛楼镇干部", "kind": "cadres"},
        ],
        "questions": [
            {"kind": "single", "text": "您知道低保怎么申请吗？", "options": ["知道", "不知道"]},
            {"kind": "rating", "text": "请给各单位打分", "per_target": True},
            {
                "kind": "multiple",
                "text": "您从哪里了解政策？",
                "options": ["村广播", "公示栏", "手机"],
                "required": False,
            },
            {"kind": "text", "text": "还有什么意见？", "required": False},
        ],
    }
    data.update(overrides)
    return data


def make_survey(
    session: Session, actor: Staff, *, state: SurveyState = SurveyState.open, **overrides: Any
) -> Survey:
    survey = service.create_survey(
        session, data=SurveyCreate.model_validate(survey_data(**overrides)), actor=actor
    )
    for step in (SurveyState.open, SurveyState.closed, SurveyState.published):
        if list(SurveyState).index(step) > list(SurveyState).index(state):
            break
        service.advance_survey(session, survey.id, to=step, actor=actor)
    return survey


def answers_for(
    survey: Survey, *, choice: int = 0, ratings: tuple[int, int] = (5, 3), text: str | None = None
) -> list[dict[str, Any]]:
    single, rating, multiple, free = survey.questions
    answers: list[dict[str, Any]] = [
        {"question_id": single.id, "option_ids": [single.options[choice].id]},
        *(
            {"question_id": rating.id, "target_id": t.id, "rating": r}
            for t, r in zip(survey.targets, ratings, strict=True)
        ),
        {"question_id": multiple.id, "option_ids": [o.id for o in multiple.options[:2]]},
    ]
    if text is not None:
        answers.append({"question_id": free.id, "text": text})
    return answers
