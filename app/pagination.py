"""`?page=1&size=20` lists, answered as `{"items", "total", "page", "size"}`."""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_SIZE = 100
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PageParams:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def _page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="页码，从 1 开始")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_SIZE, description="每页条数，最多 100")] = 20,
) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


def paginate(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """The rows of one page of `stmt` (which must be ordered) and the total count."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(params.size).offset(params.offset)))
    return rows, total


def page_of(schema: type[M], rows: list[Any], total: int, params: PageParams) -> "Page[M]":
    """A `Page` of `schema` items, each validated from an ORM row."""
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(r) for r in rows],
        total=total,
        page=params.page,
        size=params.size,
    )
