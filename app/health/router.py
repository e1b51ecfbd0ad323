from fastapi import Response

from app.db.engines import SessionDep
from app.errors import ok_content, problems
from app.health import service
from app.health.schemas import Health, Readiness
from app.observability import metrics_payload
from app.routing import ApiRoute, ApiRouter, DirectRoute

router = ApiRouter(tags=["运行状态"], route_class=ApiRoute)


# `async`: on the event loop, where a plain `def` would cost two hops to a worker thread and
# back (the handler, then its response's validation): most of a probe's cost. Handled directly
# (app.routing.DirectRoute): probes come often (docs/performance.md#direct-route).
async def read_health() -> Health:
    return Health()


router.add_api_route(
    "/healthz",
    read_health,
    methods=["GET"],
    summary="存活检查",
    response_model=Health,
    route_class_override=DirectRoute,
)


@router.head("/healthz", include_in_schema=False)
async def head_health() -> Response:
    return Response()


@router.get(
    "/readyz",
    summary="就绪检查：数据库可连接且结构为最新；Redis 不可用时仍为 200，status 为 degraded",
    response_model=Readiness,
    responses=problems(503),
)
def read_readiness(session: SessionDep) -> Readiness:
    return service.check_ready(session)


@router.get(
    "/metrics",
    summary="Prometheus 指标",
    response_class=Response,
    responses=ok_content("text/plain", "Prometheus 文本格式"),
)
def read_metrics() -> Response:
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)
