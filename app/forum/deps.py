"""The asker's requests: the code's slow hash is worked out here, as a dependency resolved
before the request's session, so that on SQLite (where a write request holds the write lock
from its first statement) no other write waits for a hash. The client's limit is counted
first: no hash is made for a client past it."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.config import SettingsDep
from app.forum import service
from app.forum.schemas import CodeQuery, ForumQuestionCreate, RatingCreate
from app.ratelimit import ClientAddress


@dataclass(frozen=True)
class Asking:
    data: ForumQuestionCreate
    code: service.NewCode


@dataclass(frozen=True)
class Rating:
    score: int
    digest: str


def _asking(data: ForumQuestionCreate, client: ClientAddress, settings: SettingsDep) -> Asking:
    return Asking(data=data, code=service.new_code(client=client, settings=settings))


def _digest(body: CodeQuery, client: ClientAddress, settings: SettingsDep) -> str:
    return service.code_digest(body.code, client=client, settings=settings)


def _rating(body: RatingCreate, client: ClientAddress, settings: SettingsDep) -> Rating:
    digest = service.code_digest(body.code, client=client, settings=settings)
    return Rating(score=body.score, digest=digest)


AskingDep = Annotated[Asking, Depends(_asking)]
CodeDigest = Annotated[str, Depends(_digest)]
RatingDep = Annotated[Rating, Depends(_rating)]
