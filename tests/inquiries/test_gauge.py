from prometheus_client import generate_latest

from app.db.engines import session_scope
from app.inquiries.models import ItemState
from app.scheduler import refresh_overdue_gauge
from app.staff.models import Role
from tests.factories import make_staff
from tests.inquiries.factories import days, make_item


def _gauge() -> str:
    lines = generate_latest().decode().splitlines()
    return next(line for line in lines if line.startswith("lianyun_inquiries_overdue "))


def test_the_job_in_serve_counts_the_overdue_items_for_the_gauge(committed_db: str) -> None:
    with session_scope().begin() as session:
        commission = make_staff(session, role=Role.commission)
        make_item(session, commission, state=ItemState.rectifying, deadline=days(-1).isoformat())
        make_item(session, commission, deadline=days(5).isoformat())
        make_item(session, commission, state=ItemState.closed, deadline=days(-9).isoformat())
    refresh_overdue_gauge()
    assert _gauge() == "lianyun_inquiries_overdue 1.0"
    with session_scope().begin() as session:
        make_item(session, commission, deadline=days(-2).isoformat())
    refresh_overdue_gauge()
    assert _gauge() == "lianyun_inquiries_overdue 2.0"
