"""宣传教育 and 通报曝光 pages: articles by column and cases by place and year, read through the
same service functions as the API (app.articles), so a case's name is masked on a page exactly
when the API masks it, and a refusal is said in the API's Chinese words."""

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.articles import cases as cases_service
from app.articles import service as articles_service
from app.articles.models import COLUMN_NAMES
from app.config import Settings
from app.errors import LianyunError
from app.pagination import PageParams
from app.public_writes import today
from app.regions import service as regions_service
from app.tips.schemas import CATEGORY_NAMES
from app.web.pages import Reader, not_found, render

PAGE_SIZE = 20
YEARS = 6  # this year and the five before it


def _query(q: str | None) -> str | None:
    return (q or "").strip()[:50] or None


def _row_id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 9 else None


# --- 宣传教育 ----------------------------------------------------------------------------------


def articles(
    session: Session,
    reader: Reader,
    *,
    column: str | None,
    q: str | None,
    page: int,
    settings: Settings,
) -> HTMLResponse:
    if column not in COLUMN_NAMES:
        column = None
    query = _query(q)
    found = articles_service.list_published(
        session, column=column, q=query, page=PageParams(page=page, size=PAGE_SIZE)
    )
    return render(
        "articles.html",
        reader,
        settings,
        columns=COLUMN_NAMES,
        column=column,
        q=query or "",
        found=found,
        more=found.total > page * PAGE_SIZE,
        page=page,
    )


def article(
    session: Session, reader: Reader, article_id: str, *, settings: Settings
) -> HTMLResponse:
    number = _row_id(article_id)
    if number is None:
        return not_found(reader, settings, "没有这篇文章。", back="/articles")
    try:
        item = articles_service.get_published(session, number)
    except LianyunError as error:
        return not_found(reader, settings, error.detail, back="/articles")
    return render("article.html", reader, settings, article=item)


# --- 通报曝光 ----------------------------------------------------------------------------------


def case_list(
    session: Session,
    reader: Reader,
    *,
    township_code: str | None,
    village_code: str | None,
    year: int | None,
    category: str | None,
    q: str | None,
    page: int,
    settings: Settings,
) -> HTMLResponse:
    """Filters that name no township, village, year or category of the lists are left out, as
    unchosen."""
    tree = regions_service.region_tree(session)
    village_name = None
    if village_code is not None:
        owner = next(
            (t for t in tree.townships for v in t.villages if v.code == village_code), None
        )
        if owner is None:
            village_code = None
        else:
            township_code = owner.code
            village_name = next(v.name for v in owner.villages if v.code == village_code)
    township = next((t for t in tree.townships if t.code == township_code), None)
    township_code = township.code if township else None
    this_year = today().year
    years = list(range(this_year, this_year - YEARS, -1))
    if year not in years:
        year = None
    if category not in CATEGORY_NAMES:
        category = None
    query = _query(q)
    found = cases_service.list_published(
        session,
        township_code=township_code,
        village_code=village_code,
        year=year,
        category=category,
        q=query,
        page=PageParams(page=page, size=PAGE_SIZE),
    )
    chosen = {
        "township_code": township_code,
        "village_code": village_code,
        "year": year,
        "category": category,
        "q": query,
    }
    return render(
        "cases.html",
        reader,
        settings,
        tree=tree,
        township=township,
        village_name=village_name,
        years=years,
        year=year,
        categories=CATEGORY_NAMES,
        q=query or "",
        found=found,
        filters={k: v for k, v in chosen.items() if v is not None},
        more=found.total > page * PAGE_SIZE,
        page=page,
    )


def case(session: Session, reader: Reader, case_id: str, *, settings: Settings) -> HTMLResponse:
    number = _row_id(case_id)
    if number is None:
        return not_found(reader, settings, "没有这个案例。", back="/cases")
    try:
        item = cases_service.get_published(session, number)
    except LianyunError as error:
        return not_found(reader, settings, error.detail, back="/cases")
    return render("case.html", reader, settings, case=item)
