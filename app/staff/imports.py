"""Cadre accounts in bulk: a township officer uploads a CSV of their township's cadres
(`username,display_name,role,region_code`, role `cadre`), and each account gets a random
password that the answer shows once (it is kept only as its argon2id hash). All rows or none;
each problem names its row (the header is row 1) without quoting it. Every account created is
in the audit log, without its password."""

import csv
import io
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.errors import Forbidden
from app.regions import service as regions_service
from app.regions.models import RegionLevel
from app.schemas import single_line
from app.screening.lists import decode
from app.security import hash_password
from app.staff.errors import StaffImportInvalid
from app.staff.models import Role, Staff
from app.staff.service import check_region, public_fields

COLUMNS = ("username", "display_name", "role", "region_code")
MAX_ROWS = 500
MAX_IMPORT_BYTES = 512 * 1024
MAX_REPORTED_ROWS = 50
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
# no 0/O, 1/l/I: read aloud over the phone or copied from paper
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class CreatedAccount:
    username: str
    display_name: str
    region_code: str
    password: str


def one_time_password() -> str:
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if len(set(password)) >= 5 and not password.isdigit():
            return password


def _rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    text, _ = decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            raise StaffImportInvalid(f"文件是空的。第一行应为表头：{','.join(COLUMNS)}")
        names = [h.strip().lower() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise StaffImportInvalid(
                f"表头缺少 {'、'.join(missing)} 列。第一行应为表头：{','.join(COLUMNS)}"
            )
        where = {c: names.index(c) for c in COLUMNS}
        rows = [
            (
                reader.line_num,
                {c: cells[i].strip() if i < len(cells) else "" for c, i in where.items()},
            )
            for cells in reader
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error:
        raise StaffImportInvalid(
            f"第 {reader.line_num} 行不是有效的 CSV（例如引号没有成对）。"
        ) from None
    if not rows:
        raise StaffImportInvalid("文件里没有干部：表头下面至少要有一行。")
    if len(rows) > MAX_ROWS:
        raise StaffImportInvalid(f"一次最多导入 {MAX_ROWS} 个账号，请分成几个文件。")
    return rows


def _problem(cells: dict[str, str], actor: Staff, levels: dict[str, str]) -> str | None:
    username = cells["username"].lower()
    if not _USERNAME.match(username):
        return "用户名应为 3–32 个小写字母、数字、_、.、-，以字母或数字开头"
    name = cells["display_name"]
    if not 1 <= len(name) <= 64:
        return "姓名应为 1–64 个字"
    try:
        single_line(name)
    except ValueError:
        return "姓名不能含控制字符或换行"
    if cells["role"] != Role.cadre:
        return "批量导入只能建考试账号，角色应为 cadre"
    code = cells["region_code"]
    level = levels.get(code)
    if level is None:
        return "区划代码不是本县的村（社区）或乡镇（街道）"
    if level not in (RegionLevel.village, RegionLevel.township):
        return "干部的所在地区应是村（社区）或乡镇（街道）"
    return None


def import_cadres(session: Session, *, data: bytes, actor: Staff) -> list[CreatedAccount]:
    rows = _rows(data)
    codes = {cells["region_code"] for _, cells in rows}
    levels = {
        code: regions_service.find_region(session, code).level  # type: ignore[union-attr]
        for code in codes
        if re.fullmatch(r"\d{12}", code) and regions_service.find_region(session, code)
    }
    outside = [
        n
        for n, cells in rows
        if not regions_service.contains(actor.region_code, cells["region_code"])
    ]
    if outside:
        listed = "、".join(str(n) for n in outside[:MAX_REPORTED_ROWS])
        raise Forbidden(f"第 {listed} 行的所在地区不在您的辖区内；一个账号也没有建。")
    usernames = [cells["username"].lower() for _, cells in rows]
    taken = set(session.scalars(select(Staff.username).where(Staff.username.in_(usernames))))
    problems: list[tuple[int, str]] = []
    first_row: dict[str, int] = {}
    for number, cells in rows:
        problem = _problem(cells, actor, levels)
        username = cells["username"].lower()
        if problem is None and username in taken:
            problem = "用户名已被占用"
        if problem is None and username in first_row:
            problem = f"用户名与第 {first_row[username]} 行重复"
        first_row.setdefault(username, number)
        if problem is not None:
            problems.append((number, problem))
    if problems:
        shown = problems[:MAX_REPORTED_ROWS]
        raise StaffImportInvalid(
            f"干部名单有 {len(problems)} 处问题（按行号，表头是第 1 行）。"
            "改正后请重新上传整个文件；在此之前，一个账号也没有建。",
            rows=[{"row": row, "message": message} for row, message in shown],
            rows_total=len(problems),
        )
    created: list[CreatedAccount] = []
    for _, cells in rows:
        check_region(actor, cells["region_code"])
        password = one_time_password()
        staff = Staff(
            username=cells["username"].lower(),
            display_name=cells["display_name"],
            password_hash=hash_password(password),
            role=Role.cadre,
            region_code=cells["region_code"],
        )
        session.add(staff)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="staff.import",
            entity_type="staff",
            entity_id=staff.id,
            after=public_fields(staff),
        )
        created.append(
            CreatedAccount(staff.username, staff.display_name, staff.region_code, password)
        )
    return created
