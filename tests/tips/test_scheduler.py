from datetime import date, timedelta

from sqlalchemy import select, update

from app.config import get_settings
from app.db.engines import session_scope
from app.scheduler import run_scheduled_purge
from app.staff.models import Role
from app.tips import service
from app.tips.models import Tip
from app.tips.schemas import TipCreate, TipTransition
from tests.factories import make_staff


def test_the_daily_job_purges_tips_past_retention(committed_db: str) -> None:
    settings = get_settings()
    with session_scope().begin() as session:
        service.submit_tip(
            session,
            data=TipCreate(category="funds", content="村会计虚报了危房改造补助。"),
            uploads=[],
            client="10.0.0.9",
            settings=settings,
        )
        tip = session.scalars(select(Tip)).one()
        staff = make_staff(session, role=Role.commission)
        service.change_state(
            session,
            tip.id,
            data=TipTransition(state="rejected", reason="不受理"),
            actor=staff,
            settings=settings,
        )
        long_ago = date.today() - timedelta(days=settings.tip_retention_days + 2)
        session.execute(update(Tip).values(closed_on=long_ago))

    run_scheduled_purge()

    with session_scope()() as session:
        purged = session.scalars(select(Tip)).one()
        assert purged.purged_on is not None and purged.content_enc is None
