"""The `lianyun` command (also `python -m app`). Every command runs without prompts when its
input is given on the command line or in the environment."""

import argparse
import getpass
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app.config import ConfigError, get_settings
from app.db.engines import is_sqlite, session_scope, sorting_session_scope
from app.db.migrations import upgrade_head
from app.logs import configure_logging

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.mockfeed import MockFeedConfig
    from app.sync.models import SyncRun

DEMO_ADMIN = "admin"
DEMO_COMMISSION = "jiwei"
DEMO_POSTER_VILLAGE = "511923103204"  # 佛楼镇三官寨村
DEMO_POSTER_CHANNEL = "村务公开栏"
# Of its 2 000 persons, 6 of each kind of payout anomaly for the screening to flag.
DEMO_ANOMALIES = 0.003


def _migrate(_args: argparse.Namespace) -> int:
    upgrade_head()
    print("数据库已迁移到最新版本。")
    return 0


def _import_regions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.regions import service as regions

    try:
        rows = regions.read_csv(Path(args.file)) if args.file else regions.read_csv()
    except (OSError, ValueError) as exc:
        print(f"地区未导入：{exc}", file=sys.stderr)
        return 2
    with session_scope().begin() as session:
        summary = regions.import_regions(session, rows)
    print(
        f"地区已导入：新增 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}，"
        f"不再现行 {summary.retired}（保留，原有引用不受影响）。"
    )
    return 0


def _import_policies(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.policies import service as policies

    directory = Path(args.directory) if args.directory else policies.CONTENT_DIR
    try:
        with session_scope().begin() as session:
            summary = policies.import_policies(session, directory)
    except ValueError as exc:
        print(f"政策未导入：{exc}", file=sys.stderr)
        return 2
    print(f"政策已导入：新增 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}。")
    return 0


def _create_staff(args: argparse.Namespace) -> int:
    from app.staff import service as staff_service
    from app.staff.schemas import StaffCreate

    settings = get_settings()
    if settings.staff_password is not None:
        password = settings.staff_password.get_secret_value()
    elif sys.stdin.isatty():
        password = getpass.getpass("密码（至少 10 个字符）：")
    else:
        print("请用环境变量 LIANYUN_STAFF_PASSWORD 提供密码。", file=sys.stderr)
        return 2
    try:
        data = StaffCreate(
            username=args.username,
            display_name=args.display_name or args.username,
            password=password,
            role=args.role,
            region_code=args.region,
        )
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", file=sys.stderr)
        return 2
    with session_scope().begin() as session:
        staff = staff_service.create_staff(session, data=data, actor=None)
        print(f"已创建工作人员 {staff.username}（{staff.role}，辖区 {staff.region_code}）。")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Regions, a demo admin, a demo poster and payouts synced from the built-in mock; safe to
    run again."""
    code = _demo_admin(args) or _demo_poster() or _demo_inquiries() or _demo_articles()
    code = code or _demo_forum() or _demo_standards() or _demo_exams()
    code = code or _demo_contacts() or _demo_survey()
    return code or _demo_sync(args)


def _demo_admin(args: argparse.Namespace) -> int:
    from app.staff import service as staff_service
    from app.staff.models import Role
    from app.staff.schemas import StaffCreate

    upgrade_head()
    _import_regions(argparse.Namespace(file=None))
    _import_policies(argparse.Namespace(directory=None))
    with session_scope().begin() as session:
        if staff_service.find_by_username(session, DEMO_ADMIN) is not None:
            print(f"演示管理员 {DEMO_ADMIN} 已存在（密码只在第一次运行 demo 时显示）。")
            return 0
        password = secrets.token_urlsafe(12)
        staff_service.create_staff(
            session,
            data=StaffCreate(
                username=DEMO_ADMIN,
                display_name="演示管理员",
                password=password,
                role=Role.county_admin,
            ),
            actor=None,
        )
    print(f"演示管理员：用户名 {DEMO_ADMIN}  密码 {password}  （只显示这一次，请记下）")
    return 0


def _demo_poster() -> int:
    """One poster for 三官寨村's notice board, made once."""
    from app.onboarding import service as onboarding
    from app.onboarding.schemas import PosterCreate
    from app.staff import service as staff_service

    settings = get_settings()
    with session_scope().begin() as session:
        poster = onboarding.find_poster(
            session, village_code=DEMO_POSTER_VILLAGE, channel=DEMO_POSTER_CHANNEL
        )
        admin = staff_service.find_by_username(session, DEMO_ADMIN)
        if poster is not None:
            code = poster.code
        elif admin is not None:
            data = PosterCreate(village_code=DEMO_POSTER_VILLAGE, channel=DEMO_POSTER_CHANNEL)
            code = onboarding.create_poster(session, data=data, actor=admin, settings=settings).code
        else:
            return 0
    url = onboarding.poster_url(code, settings)
    print(f"演示海报（佛楼镇三官寨村 · {DEMO_POSTER_CHANNEL}）：扫码打开 {url}")
    print(f"  可打印的 A4 海报（登录后）：GET /api/v1/admin/posters/{code}/poster.png")
    home = f"{settings.public_base_url.rstrip('/')}/?village={DEMO_POSTER_VILLAGE}"
    print(f"  手机上直接用（不用安装）：{home}")
    return 0


def _demo_inquiries() -> int:
    """A demo commission member (password shown once) and a year of 阳光问廉."""
    from app.inquiries import demo as inquiries_demo
    from app.staff import service as staff_service
    from app.staff.models import Role
    from app.staff.schemas import StaffCreate

    with session_scope().begin() as session:
        member = staff_service.find_by_username(session, DEMO_COMMISSION)
        if member is None:
            password = secrets.token_urlsafe(12)
            member = staff_service.create_staff(
                session,
                data=StaffCreate(
                    username=DEMO_COMMISSION,
                    display_name="演示纪委工作人员",
                    password=password,
                    role=Role.commission,
                ),
                actor=None,
            )
            print(
                f"演示纪委工作人员：用户名 {DEMO_COMMISSION}  密码 {password}  "
                "（只显示这一次，请记下；可登记问廉会议和问题）"
            )
        made = inquiries_demo.load_demo(session, actor=member, settings=get_settings())
    if made:
        print(f"阳光问廉：载入 8 次会议、{made} 个问题（GET /api/v1/inquiries）。")
    return 0


def _demo_articles() -> int:
    """12 articles in the four columns and 10 通报曝光 cases, by the demo admin and the demo
    commission member (made by `_demo_admin` and `_demo_inquiries`)."""
    from app.articles import demo as articles_demo
    from app.staff import service as staff_service

    with session_scope().begin() as session:
        editor = staff_service.find_by_username(session, DEMO_ADMIN)
        member = staff_service.find_by_username(session, DEMO_COMMISSION)
        if editor is None or member is None:
            return 0
        articles, cases = articles_demo.load_demo(session, editor=editor, commission=member)
    if articles:
        print(
            f"宣传教育：载入 {articles} 篇文章（GET /api/v1/articles）；"
            f"通报曝光：{cases} 个案例（GET /api/v1/cases?village_code=511923102205）。"
        )
    return 0


def _demo_forum() -> int:
    """云端话廉: questions of every kind answered and published by the demo commission member
    (made by _demo_inquiries), and a few still open."""
    from app.forum import demo as forum_demo
    from app.staff import service as staff_service

    with session_scope().begin() as session:
        member = staff_service.find_by_username(session, DEMO_COMMISSION)
        if member is None:
            return 0
        made = forum_demo.load_demo(session, actor=member, settings=get_settings())
    if made:
        print(
            f"云端话廉：公开 {made} 条留言和答复（咨询、建议、投诉），"
            f"另有 {len(forum_demo.OPEN)} 条待办（GET /api/v1/questions）。"
        )
    return 0


def _demo_standards() -> int:
    """The item standards of payout screening, from the policies (never over one kept)."""
    from app.screening.standards import load_demo_standards

    with session_scope().begin() as session:
        added = load_demo_standards(session)
    if added:
        print(f"疑点筛查：载入 {added} 个项目的单笔最高标准（演示值，取自政策的补贴标准）。")
    return 0


def _demo_contacts() -> int:
    """找谁监督: the county's 12388 and made-up 0827 numbers, marked as demo."""
    from app.contacts.service import load_demo

    with session_scope().begin() as session:
        added = load_demo(session)
    if added:
        print(f"找谁监督：登记 {added} 个监督电话（12388 以外都是演示号码，页面上已标明）。")
    return 0


def _demo_survey() -> int:
    """One open 民意测评 of the county, to answer on the H5 app's village pages."""
    from app.staff import service as staff_service
    from app.surveys import service as surveys_service

    with session_scope().begin() as session:
        admin = staff_service.find_by_username(session, DEMO_ADMIN)
        survey = surveys_service.load_demo(session, actor=admin) if admin is not None else None
    if survey is not None:
        print(f"民意测评：开始一次演示测评（手机上打开 /surveys/{survey}）。")
    return 0


def _demo_exams() -> int:
    """云考堂: the starter bank, 佛楼镇's officer (password shown once), an open exam, cadres."""
    from app.exams import demo as exams_demo

    with session_scope().begin() as session:
        made = exams_demo.load_demo(session)
    if made.questions_added:
        print(f"云考堂：题库载入 {made.questions_added} 道题（GET /api/v1/admin/exam-questions）。")
    if made.officer_password:
        print(
            f"演示乡镇工作人员（佛楼镇）：用户名 {exams_demo.OFFICER}  "
            f"密码 {made.officer_password}  （只显示这一次，请记下；可导入干部、出卷、看考试情况）"
        )
    if made.exam_id is not None:
        print(
            f"云考堂：演示考试已开放（佛楼镇，{made.cadres} 名干部，{made.finished} 人已交卷），"
            f"考试情况 GET /api/v1/admin/exams/{made.exam_id}/report"
        )
    return 0


def _demo_sync(args: argparse.Namespace) -> int:
    """Serve the built-in mock feed on a free local port and sync from it."""
    from app.mockfeed import create_mock_feed_app, demo_persons
    from app.servers import serving_in_thread
    from app.sync import service as sync_service
    from app.sync.client import FeedClient
    from app.sync.lease import SyncAlreadyRunning

    config = _mock_feed_config(args, token=secrets.token_urlsafe(16))
    if config is None:
        return 2
    with (
        serving_in_thread(create_mock_feed_app(config)) as url,
        FeedClient(url, config.token) as client,
    ):
        try:
            run = sync_service.run_sync(get_settings(), trigger="demo", client=client)
        except SyncAlreadyRunning as exc:
            print(exc.detail, file=sys.stderr)
            return 3
    _print_run(run)
    if run.outcome == "succeeded":
        _demo_screening(config)
    print("可用来试查询的演示村民（仅为演示数据）：")
    for person in demo_persons(config, n=3):
        print(f"  身份证号 {person.id_number}  姓名 {person.name}  村 {person.village_code}")
    return 0 if run.outcome == "succeeded" else 1


def _print_run(run: "SyncRun") -> None:
    outcome = {"succeeded": "成功", "failed": "失败", "running": "进行中"}[run.outcome]
    print(
        f"同步 #{run.id} {outcome}：{run.pages} 页，取到 {run.fetched} 条，新增 {run.created}，"
        f"更新 {run.updated}，未变 {run.unchanged}，隔离 {run.rejected}。"
    )
    print(f"游标：{run.cursor_start or '（起点）'} → {run.cursor_end or '（起点）'}")
    if run.error:
        print(f"原因：{run.error}")


def _demo_screening(config: "MockFeedConfig") -> None:
    """The mock's reference lists uploaded by the demo commission member (no ID number
    printed), one villager's objection to a line of 三官寨村's list, and a full screening."""
    from app.mockfeed import FeedGenerator
    from app.mockfeed.anomalies import reference_lists
    from app.screening import runs
    from app.screening.lists import upload_list
    from app.screening.models import ListKind, RunScope
    from app.staff import service as staff_service
    from app.subsidies import store

    settings = get_settings()
    files = reference_lists(FeedGenerator(config)).files()
    with sorting_session_scope().begin() as session:
        member = staff_service.find_by_username(session, DEMO_COMMISSION)
        periods = store.village_periods(session, DEMO_POSTER_VILLAGE)
        if member is None or not periods:
            return
        # Each upload re-runs the rules that read its list; the full run then finds the rest.
        run_ids = [
            upload_list(
                session, ListKind(kind), data=data, actor=member, settings=settings
            ).screening_run_id
            for kind, data in files.items()
        ]
        _demo_objection(session, periods[0])
        run = runs.run_now(
            session, scope=RunScope.full, actor=member, lease_seconds=settings.sync_lease_seconds
        )
        found = runs.new_flags(session, [*(i for i in run_ids if i is not None), run.id])
    print(
        "疑点筛查：上传死亡、财政供养、干部及近亲属三份参考名单（模拟人员），全量筛查一次，"
        f"新疑点 {found} 个（GET /api/v1/admin/screening/flags，纪委工作人员登录）。"
    )
    print(
        "  干部及近亲属享受惠民政策公示："
        f"GET /api/v1/villages/{DEMO_POSTER_VILLAGE}/cadre-benefits/{periods[0][:4]}"
    )


def _demo_objection(session: "Session", period: str) -> None:
    """A villager's "这条不对" on the first line of 三官寨村's newest list, once."""
    from sqlalchemy import func, select

    from app.screening import objections
    from app.screening.models import Objection
    from app.screening.schemas_objections import ObjectionCreate
    from app.subsidies import store

    if session.scalar(select(func.count()).select_from(Objection)):
        return
    lines = store.village_month_lines(session, DEMO_POSTER_VILLAGE, period=period, category=None)
    data = ObjectionCreate(record_id=lines[0].record_id, reason="这个人去年就搬到城里住了。")
    objections.object_to_line(
        session,
        DEMO_POSTER_VILLAGE,
        period=period,
        data=data,
        client="demo",
        settings=get_settings(),
    )


def _sync(args: argparse.Namespace) -> int:
    from app.sync import service as sync_service
    from app.sync.lease import SyncAlreadyRunning

    settings = get_settings()
    upgrade_head()
    try:
        run = sync_service.run_sync(settings, trigger="cli", page_size=args.limit)
    except SyncAlreadyRunning as exc:
        print(f"{exc.detail}", file=sys.stderr)
        return 3
    except sync_service.FeedNotConfigured as exc:
        print(f"{exc.detail}", file=sys.stderr)
        return 2
    _print_run(run)
    return 0 if run.outcome == "succeeded" else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.logs import logging_config

    settings = get_settings()
    upgrade_head()
    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lianyun-metrics-")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # On SQLite asyncio's own loop: the lookups read on the loop itself, and uvloop then
        # left 1–2 % of them waiting 0.2–0.7 s; on PostgreSQL uvloop, which hands the reads to
        # their thread and back faster (docs/performance.md#event-loop)
        loop="asyncio" if is_sqlite(settings.database_url) else "auto",
        access_log=False,
        log_config=logging_config(settings.log_level),
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips or "",
        server_header=False,
    )
    return 0


def _mock_feed(args: argparse.Namespace) -> int:
    from app.mockfeed import serve_mock_feed

    settings = get_settings()
    token = args.token or (settings.feed_token.get_secret_value() if settings.feed_token else None)
    if not token:
        print("请用 --token 或 LIANYUN_FEED_TOKEN 指定接口令牌。", file=sys.stderr)
        return 2
    config = _mock_feed_config(args, token=token)
    if config is None:
        return 2
    if args.write_lists is not None:
        _write_reference_lists(config, args.write_lists)
    print(f"模拟一卡通接口：http://{args.host}:{args.port}/api/payouts", flush=True)
    serve_mock_feed(config, host=args.host, port=args.port)
    return 0


def _mock_feed_config(args: argparse.Namespace, *, token: str) -> "MockFeedConfig | None":
    """The config of the options a command has; None (and why, on stderr) when one is wrong."""
    from app.mockfeed import MockFeedConfig

    options = ("seed", "persons", "months", "start", "fault_rate", "anomalies")
    try:
        return MockFeedConfig(token=token, **{k: v for k, v in vars(args).items() if k in options})
    except ValueError as exc:
        print(f"参数不对：{exc}", file=sys.stderr)
        return None


def _write_reference_lists(config: "MockFeedConfig", directory: Path) -> None:
    """The screening lists of the mock's persons, as files only: their ID numbers are never
    printed."""
    from app.mockfeed import FeedGenerator
    from app.mockfeed.anomalies import write_reference_lists

    written = write_reference_lists(FeedGenerator(config), directory)
    print("疑点筛查参考名单（模拟人员，可在管理端上传）：")
    for kind, path in written.items():
        rows = path.read_bytes().count(b"\n") - 1
        print(f"  {kind}: {path}（{rows} 行）")


def _openapi(_args: argparse.Namespace) -> int:
    from app.main import openapi_schema

    print(json.dumps(openapi_schema(), ensure_ascii=False, indent=2))
    return 0


def _rotate_tip_key(_args: argparse.Namespace) -> int:
    """Re-wrap every tip's data key (and the receipt salt) under LIANYUN_NEW_TIP_KEY; then set
    LIANYUN_TIP_KEY to that value and restart the servers."""
    from app.tips import service as tips_service

    new_key = os.environ.get("LIANYUN_NEW_TIP_KEY", "")
    if len(new_key) < 32:
        print("请用环境变量 LIANYUN_NEW_TIP_KEY 提供新密钥（至少 32 个字符）。", file=sys.stderr)
        return 2
    old_key = get_settings().secret("tip_key")
    with session_scope().begin() as session:
        count = tips_service.rotate_master_key(session, old_tip_key=old_key, new_tip_key=new_key)
    print(f"已用新密钥重新封装 {count} 条举报的密钥。请把 LIANYUN_TIP_KEY 改为新密钥后重启服务。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lianyun", description="廉韵 Lianyun 后端")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", _serve, "迁移数据库，然后启动 API 服务")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    add("migrate", _migrate, "把数据库迁移到最新版本")
    demo = add(
        "demo", _demo, "载入演示数据：地区、演示管理员，并从内置模拟一卡通接口同步（可重复运行）"
    )
    demo.add_argument("--persons", type=int, default=2000)
    demo.add_argument("--months", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--anomalies", type=float, default=DEMO_ANOMALIES, help="每类疑点所占人员比例"
    )
    mock = add("mock-feed", _mock_feed, "启动模拟一卡通发放平台（FEED.md v1）")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8100)
    mock.add_argument("--seed", type=int, default=1)
    mock.add_argument("--persons", type=int, default=2000)
    mock.add_argument("--months", type=int, default=12)
    mock.add_argument("--start", default="2025-11", help="第一个发放月份 YYYY-MM")
    mock.add_argument("--fault-rate", type=float, default=0.0, help="问题记录与临时故障的比例 0–1")
    mock.add_argument("--token", default=None, help="默认取 LIANYUN_FEED_TOKEN")
    mock.add_argument(
        "--anomalies", type=float, default=0.0, help="每类疑点（疑点筛查）所占人员比例，0 为不设"
    )
    mock.add_argument(
        "--write-lists",
        type=Path,
        default=None,
        metavar="DIR",
        help="先把这些疑点对应的参考名单（死亡、财政供养、干部亲属 CSV）写到 DIR",
    )
    staff = add(
        "create-staff", _create_staff, "新建工作人员（密码取自 LIANYUN_STAFF_PASSWORD 或提示输入）"
    )
    staff.add_argument("--username", required=True)
    staff.add_argument("--role", required=True)
    staff.add_argument("--region", default=None, help="12 位区划代码；县级角色可省略")
    staff.add_argument("--display-name", default=None)
    regions = add(
        "import-regions",
        _import_regions,
        "导入地区 CSV（可重复运行；新一年的文件改名、新增，文件里没有的编码标为不再现行，不删除）",
    )
    regions.add_argument("--file", default=None, help="CSV 文件；默认为内置的平昌县数据")
    policies = add("import-policies", _import_policies, "导入政策内容文件并发布（可重复运行）")
    policies.add_argument(
        "--directory", default=None, help="Markdown 文件所在目录；默认为内置的 11 类政策"
    )
    sync = add("sync", _sync, "立即从一卡通接口同步一次，打印摘要；失败时退出码非 0")
    sync.add_argument(
        "--limit", type=int, default=5000, choices=range(1, 5001), metavar="1–5000", help="每页条数"
    )
    add(
        "rotate-tip-key",
        _rotate_tip_key,
        "更换举报主密钥：用 LIANYUN_NEW_TIP_KEY 重新封装所有举报的密钥",
    )
    add("openapi", _openapi, "打印 OpenAPI 文档（JSON）")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        if args.command not in {"openapi", "serve"}:  # serve configures uvicorn's logging too
            configure_logging(settings.log_level)
        result: int = args.handler(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return result
