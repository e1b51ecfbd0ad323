import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import public_writes
from app.audit.models import AuditEntry
from app.config import get_settings
from app.errors import Forbidden
from app.staff.models import Role
from app.surveys import service
from app.surveys.errors import (
    SurveyAlreadyAnswered,
    SurveyAnswerInvalid,
    SurveyNotOpen,
    SurveyStateInvalid,
)
from app.surveys.models import SurveyResponse, SurveyState
from app.surveys.schemas import ResponseCreate, SurveyCreate
from tests.factories import COUNTY, FOLOU, SANGUANZHAI, XIXING, make_staff
from tests.surveys.factories import answers_for, make_survey, survey_data


def _submit(session: Session, survey_id: int, token: str, answers: list[dict[str, object]]) -> None:
    service.submit_response(
        session,
        survey_id,
        data=ResponseCreate.model_validate({"device_token": token, "answers": answers}),
        client=token,
        settings=get_settings(),
    )


def test_the_lifecycle_is_audited_and_only_drafts_can_be_edited(session: Session) -> None:
    admin = make_staff(session)
    survey = make_survey(session, admin, state=SurveyState.draft)
    edited = service.update_survey(
        session,
        survey.id,
        data=SurveyCreate.model_validate(survey_data(title="新标题")),
        actor=admin,
    )
    assert edited.title == "新标题" and len(edited.questions) == 4
    service.advance_survey(session, survey.id, to=SurveyState.open, actor=admin)
    with pytest.raises(SurveyStateInvalid):
        service.update_survey(
            session, survey.id, data=SurveyCreate.model_validate(survey_data()), actor=admin
        )
    with pytest.raises(SurveyStateInvalid):
        service.advance_survey(session, survey.id, to=SurveyState.published, actor=admin)
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "survey", AuditEntry.entity_id == str(survey.id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["survey.create", "survey.update", "survey.open"]


def test_a_township_officer_works_only_inside_their_township(session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    assert make_survey(session, officer, region_code=SANGUANZHAI).region_code == SANGUANZHAI
    for region in (COUNTY, XIXING):
        with pytest.raises(Forbidden):
            make_survey(session, officer, region_code=region)


def test_one_response_per_device_stored_only_as_a_keyed_hash(session: Session) -> None:
    survey = make_survey(session, make_staff(session))
    token = "device-token-0123456789"
    _submit(session, survey.id, token, answers_for(survey))
    with pytest.raises(SurveyAlreadyAnswered):
        _submit(session, survey.id, token, answers_for(survey))
    stored = session.scalars(select(SurveyResponse.device_hash)).all()
    assert len(stored) == 1 and token not in stored[0]
    settings = get_settings()
    assert stored[0] == public_writes.device_hash(f"survey:{survey.id}", token, settings=settings)
    assert stored[0] != public_writes.device_hash(
        f"survey:{survey.id + 1}", token, settings=settings
    )


def test_answers_are_checked_against_their_questions(session: Session) -> None:
    survey = make_survey(session, make_staff(session))
    good = answers_for(survey)
    with pytest.raises(SurveyAnswerInvalid, match="第 1 题「您知道低保怎么申请吗？」必须回答"):
        _submit(session, survey.id, "token-aaaaaaaaaaaaaaaa", good[1:])
    bad_rating = [*good[:1], {**good[1], "rating": 6}, *good[2:]]
    with pytest.raises(SurveyAnswerInvalid, match="第 2 题"):
        _submit(session, survey.id, "token-bbbbbbbbbbbbbbbb", bad_rating)
    two_choices = [
        {**good[0], "option_ids": [o.id for o in survey.questions[0].options]},
        *good[1:],
    ]
    with pytest.raises(SurveyAnswerInvalid, match="只能选一项"):
        _submit(session, survey.id, "token-cccccccccccccccc", two_choices)
    assert session.scalar(select(SurveyResponse.id)) is None


def test_a_closed_survey_takes_no_responses(session: Session) -> None:
    survey = make_survey(session, make_staff(session), state=SurveyState.closed)
    with pytest.raises(SurveyNotOpen):
        _submit(session, survey.id, "token-dddddddddddddddd", answers_for(survey))


def test_results_agree_with_the_responses(session: Session) -> None:
    admin = make_staff(session)
    survey = make_survey(session, admin)
    _submit(
        session, survey.id, "token-1111111111111111", answers_for(survey, choice=0, ratings=(5, 2))
    )
    _submit(
        session,
        survey.id,
        "token-2222222222222222",
        answers_for(survey, choice=0, ratings=(4, 3), text="路灯坏了"),
    )
    _submit(
        session, survey.id, "token-3333333333333333", answers_for(survey, choice=1, ratings=(1, 5))
    )
    results = service.compute_results(session, survey)
    assert results.response_count == 3
    single, rating, multiple, free = results.questions
    assert [o.count for o in single.options] == [2, 1]
    assert [o.count for o in multiple.options] == [3, 3, 0] and multiple.answer_count == 3
    bureau, cadres = rating.ratings
    assert bureau.target_name == "县民政局" and bureau.count == 3
    assert bureau.mean == pytest.approx(3.33) and bureau.satisfaction_rate == pytest.approx(0.6667)
    assert bureau.distribution == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert cadres.mean == pytest.approx(3.33) and cadres.satisfaction_rate == pytest.approx(0.3333)
    assert free.answer_count == 1
