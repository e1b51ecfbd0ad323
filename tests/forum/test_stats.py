"""The monthly figures, counted by the database."""

from datetime import date

from prometheus_client import generate_latest
from sqlalchemy.orm import Session

from app.db.engines import session_scope
from app.forum import service, stats
from app.scheduler import refresh_overdue_gauge
from app.staff.models import Role
from tests.factories import make_staff
from tests.forum.factories import answered, days, make_question


def test_asked_answered_reply_rate_median_working_days_and_mean_rating_per_month(
    session: Session,
) -> None:
    commission = make_staff(session, role=Role.commission)
    # March 2025: four questions asked on Monday 3 March, answered after 1, 2, 4 and 9
    # working days (median 3), rated 5 and 2; one more asked and never answered
    march = date(2025, 3, 3)
    for answered_on, rating in (
        (date(2025, 3, 4), 5),
        (date(2025, 3, 5), 2),
        (date(2025, 3, 7), None),
        (date(2025, 3, 14), None),
    ):
        question, _ = make_question(session, asked_on=march)
        answered(session, question, commission, on=answered_on)
        question.rating = rating
    make_question(session, asked_on=march)
    # May 2025: one question, answered across the Labour Day holiday (1–5 May 2025 off,
    # Sunday 27 April a working day): asked 30 April, answered 6 May = 1 working day
    question, _ = make_question(session, asked_on=date(2025, 4, 30), kind="complaint")
    answered(session, question, commission, on=date(2025, 5, 6))
    question.rating = 4
    make_question(session, asked_on=date(2024, 12, 31))  # another year
    session.flush()

    figures = stats.stats(session, year=2025)
    months = {m.month: m for m in figures.months}
    assert len(figures.months) == 12
    assert (months["2025-03"].asked, months["2025-03"].answered) == (5, 4)
    assert months["2025-03"].reply_rate == 0.8
    assert months["2025-03"].median_working_days == 3.0
    assert (months["2025-03"].mean_rating, months["2025-03"].ratings) == (3.5, 2)
    assert months["2025-04"].median_working_days == 1.0  # asked in April
    assert months["2025-05"].asked == 0 and months["2025-05"].reply_rate is None
    total = figures.total
    assert (total.asked, total.answered, total.ratings) == (6, 5, 3)
    assert total.median_working_days == 2.0  # 1, 1, 2, 4, 9
    assert total.mean_rating == round(11 / 3, 2)


def test_the_job_in_serve_counts_the_overdue_questions_for_the_gauge(committed_db: str) -> None:
    def gauge() -> str:
        lines = generate_latest().decode().splitlines()
        return next(line for line in lines if line.startswith("lianyun_questions_overdue "))

    with session_scope().begin() as session:
        commission = make_staff(session, role=Role.commission)
        make_question(session, asked_on=days(-30))
        make_question(session)
        done, _ = make_question(session, asked_on=days(-40))
        answered(session, done, commission, on=days(-1))
    refresh_overdue_gauge()
    assert gauge() == "lianyun_questions_overdue 1.0"
    with session_scope().begin() as session:
        make_question(session, asked_on=days(-20), kind="complaint")
        assert service.count_overdue(session) == 2
    refresh_overdue_gauge()
    assert gauge() == "lianyun_questions_overdue 2.0"
