"""宣传教育 and 通报曝光 in the H5 app: articles by column with their pictures, cases by township,
village and year, a name masked on the page exactly as the API masks it, Chinese 404 pages."""

import gzip
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.articles.factories import editor, make_article, make_case, past
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers
from tests.tips.files import png

ADMIN = "/api/v1/admin/articles"


def test_articles_by_column_searched_and_read_with_their_pictures(
    client: TestClient, session: Session
) -> None:
    staff = editor(session)
    warning = make_article(session, title="身边的微腐败要不得", column="warning", actor=staff)
    make_article(session, title="廉洁家风代代传", column="culture", body="家风正则民风淳。")
    sent = [("images", ("a.png", png(), "image/png"))]
    uploaded = client.post(f"{ADMIN}/{warning}/images", files=sent, headers=auth_headers(staff))
    assert uploaded.status_code == 201, uploaded.text
    [image] = uploaded.json()["items"]
    body = f"村里的钱，一分一厘都要用在明处。\n\n{image['markdown']}\n"
    edited = client.patch(
        f"{ADMIN}/{warning}", json={"body_markdown": body}, headers=auth_headers(staff)
    )
    assert edited.status_code == 200, edited.text
    client.post(f"{ADMIN}/{warning}/publish", headers=auth_headers(staff))

    every = client.get("/articles")
    assert every.status_code == 200 and "共 2 篇" in every.text
    for name in ("政策宣传", "警示教育", "廉政文化", "工作动态"):
        assert name in every.text
    column = client.get("/articles?column=culture").text
    assert "廉洁家风代代传" in column and "身边的微腐败要不得" not in column
    assert 'class="primary" aria-current="page" href="/articles?column=culture"' in column
    found = client.get("/articles", params={"q": "明处"}).text
    assert f'href="/articles/{warning}"' in found and "<mark>" in found
    assert "廉洁家风代代传" not in found
    assert "共 2 篇" in client.get("/articles?column=nonsense").text  # an unknown tab: all

    page = client.get(f"/articles/{warning}")
    assert page.status_code == 200 and "一分一厘都要用在明处" in page.text
    assert f'<img src="{image["url"]}"' in page.text
    assert client.get(image["url"]).status_code == 200
    assert 'href="/articles?column=warning"' in page.text


def test_cases_filtered_by_township_village_and_year_and_searched(
    client: TestClient, session: Session
) -> None:
    huangliu = make_case(session, published_on=f"{past(0).year}-01-02")
    elsewhere = make_case(
        session,
        township_code=FOLOU,
        village_code=SANGUANZHAI,
        person_name="李大强",
        problem="虚报冒领危房改造补助",
        facts="李大强虚报冒领危房改造补助。",
        tip_category="funds",
        published_on=f"{past(0).year - 1}-06-01",
    )
    every = client.get("/cases")
    assert every.status_code == 200 and "共 2 个案例" in every.text
    assert '<select id="village_code"' not in every.text  # a village is chosen in its township

    township = client.get(f"/cases?township_code={XIXING}").text
    assert f'href="/cases/{huangliu}"' in township and f'href="/cases/{elsewhere}"' not in township
    assert '<select id="village_code"' in township and "黄柳村" in township

    village = client.get(f"/cases?village_code={SANGUANZHAI}").text
    assert f'href="/cases/{elsewhere}"' in village and f'href="/cases/{huangliu}"' not in village
    assert f'<option value="{FOLOU}" selected>' in village  # its township is chosen with it

    last_year = client.get(f"/cases?year={past(0).year - 1}").text
    assert "共 1 个案例" in last_year and f'href="/cases/{elsewhere}"' in last_year

    found = client.get("/cases", params={"q": "危房"}).text
    assert "共 1 个案例" in found and "<mark>危房</mark>" in found

    funds = client.get("/cases?category=funds").text
    assert "共 1 个案例" in funds and f'href="/cases/{elsewhere}"' in funds
    assert '<option value="funds" selected>' in funds

    # filters that name nothing are left out, never a problem in JSON
    odd_filters = ("village_code=abc", "township_code=999999999999", "year=19", "category=x")
    for odd in odd_filters:
        page = client.get(f"/cases?{odd}")
        assert page.status_code == 200 and "共 2 个案例" in page.text, odd


def test_a_case_page_masks_the_name_as_the_api_and_shows_the_return_visit(
    client: TestClient, session: Session
) -> None:
    hidden = make_case(
        session,
        name_public_until=past(1).isoformat(),
        revisit_on="2024-09-10",
        money_returned="8640",
        rectified=True,
        revisit_note="王小明已退回全部钱款",
    )
    named = make_case(session, person_name="李大强", facts="李大强违规为亲属申报低保。")
    api = client.get(f"/api/v1/cases/{hidden}").json()
    page = client.get(f"/cases/{hidden}")
    assert page.status_code == 200
    assert "王小明" not in page.text and "王某某" in page.text
    assert api["text"] in page.text
    assert "通报回访" in page.text and api["revisit"]["text"] in page.text
    assert f'href="/cases?village_code={HUANGLIU}"' in page.text
    assert "王小明" not in client.get("/cases").text

    shown = client.get(f"/cases/{named}").text
    assert "李大强" in shown and "通报回访" not in shown


def test_home_pages_lead_to_articles_and_the_village_s_cases(
    client: TestClient, session: Session
) -> None:
    home = client.get("/").text
    assert 'href="/articles"' in home and 'href="/cases"' in home
    village = client.get(f"/?village={HUANGLIU}").text
    assert f'href="/cases?village_code={HUANGLIU}"' in village and "本村通报" in village
    assert 'href="/articles"' in village


def test_new_pages_are_chinese_self_contained_and_small(
    client: TestClient, session: Session
) -> None:
    article = make_article(session)
    case = make_case(session)
    for path in ("/articles", "/articles?q=微腐败", f"/articles/{article}", "/cases"):
        self_contained(client, path)
    self_contained(client, f"/cases/{case}")


def self_contained(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, path
    assert '<html lang="zh-CN"' in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text), path
    assert len(gzip.compress(page.content)) <= 30 * 1024, path


def test_wrong_articles_and_cases_get_the_chinese_page(
    client: TestClient, session: Session
) -> None:
    draft = make_article(session, publish=False)
    unpublished = make_case(session, publish=False)
    for path in (
        "/articles/x",
        "/articles/99999",
        f"/articles/{draft}",
        "/cases/abc",
        "/cases/1234567890123",
        f"/cases/{unpublished}",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert re.search(r'id="message">[^<]*(没有|不公开)', page.text), path
