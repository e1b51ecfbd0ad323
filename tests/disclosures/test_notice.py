"""The month's 晒账 printed for the village notice board."""

from io import BytesIO

import pypdfium2
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.config import get_settings
from app.staff.models import Role
from app.subsidies import service
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, auth_headers, make_staff
from tests.onboarding.images import decode_qr
from tests.subsidies.factories import ID_A, ID_B, make_payout

NOTICE = f"/api/v1/admin/villages/{SANGUANZHAI}/disclosures/2026-10/notice.pdf"


def _seed(session: Session, lines: int = 3) -> None:
    service.store_payouts(
        session,
        [
            make_payout(record_id=f"A-{n}", id_number=ID_A if n % 2 else ID_B, name="欧阳明华")
            for n in range(lines)
        ],
    )


def test_the_notice_is_a4_with_a_qr_code_to_the_list_on_every_page(
    client: TestClient, session: Session
) -> None:
    _seed(session, lines=45)  # more than one page
    headers = auth_headers(make_staff(session, role=Role.township_officer, region_code=FOLOU))
    pdf = client.get(NOTICE, headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(BytesIO(pdf.content))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    url = f"{get_settings().public_base_url}/villages/{SANGUANZHAI}/2026-10"
    for page in pypdfium2.PdfDocument(pdf.content):
        assert [code.text for code in decode_qr(page.render(scale=2).to_pil())] == [url]
    assert ID_A.encode() not in pdf.content and "欧阳明华".encode() not in pdf.content


def test_only_staff_of_the_village_print_it(client: TestClient, session: Session) -> None:
    _seed(session)
    assert_problem(client.get(NOTICE), 401, "authentication_required")
    other = auth_headers(make_staff(session, role=Role.village_clerk, region_code=HUANGLIU))
    assert_problem(client.get(NOTICE, headers=other), 403, "forbidden")
    clerk = auth_headers(make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI))
    assert client.get(NOTICE, headers=clerk).status_code == 200
    missing = NOTICE.replace("2026-10", "2026-03")
    assert_problem(client.get(missing, headers=clerk), 404, "not_found")
