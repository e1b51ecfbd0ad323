"""Readiness: the database answers and its schema is at the migrations' head (else 503).

Redis is reported, not required: without it the villagers' requests are still served (rate
limits count in each worker's memory) and only staff sign-in pauses, so taking the workers out
of a load balancer would do more harm than good. The answer stays 200 with `status: degraded`
and `redis: unavailable`, for monitoring to alert on."""

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import ratelimit
from app.db.migrations import current_revisions, head_revisions
from app.errors import UpstreamUnavailable
from app.health.schemas import Readiness

logger = logging.getLogger(__name__)


class NotReady(UpstreamUnavailable):
    code = "service_unavailable"
    title = "服务尚未就绪"


def check_ready(session: Session) -> Readiness:
    try:
        connection = session.connection()
        connection.execute(text("SELECT 1"))
        current = current_revisions(connection)
    except SQLAlchemyError as exc:
        logger.warning("readiness: database unreachable: %s", type(exc).__name__)
        raise NotReady("数据库无法连接。") from None
    heads = head_revisions()
    if current != heads:
        raise NotReady("数据库结构不是最新版本，请先运行 lianyun migrate。")
    redis = ratelimit.redis_state()
    return Readiness(
        status="degraded" if redis == "unavailable" else "ready",
        redis=redis,
        schema_revision=",".join(sorted(current)),
    )
