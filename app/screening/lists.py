"""The reference lists of payout screening (死亡人员、财政供养人员、村干部及其近亲属), uploaded
by the commission as CSV files.

Invariants:
- No ID number is kept, logged or echoed: each is checked (GB 11643) and turned into the keyed
  hash of `person.id_hash` as its row is read. A row that cannot be taken is reported by its row
  number (as Excel numbers it: the header is row 1) and a reason, never by a cell's content (a
  cell may hold an ID number, even in a column meant for something else).
- An upload replaces its list whole, in the request's transaction, only once every row is
  valid: until then the old list stays as it was.
- The rules that read the list are run again over every line with the upload (app.screening.
  runs.rescreen), or, while a sync holds the lease, owed to the sync's end.
- The file is read in memory (never spooled to disk) and decoded as UTF-8 (with or without a
  BOM) or, failing that, GB18030 (which contains GBK, what county offices' Excel writes).
"""

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.db.base import dialect_insert, utcnow
from app.db.fastpath import BulkInsert
from app.regions.models import Region, RegionLevel
from app.schemas import COUNTY_TZ
from app.screening import runs
from app.screening.errors_lists import (
    ListColumnsInvalid,
    ListEncodingUnknown,
    ListRowsInvalid,
    ListTooLarge,
)
from app.screening.models import Deceased, ListKind, PublicEmployee, ReferenceList, RosterEntry
from app.screening.schemas_lists import ListRead, ListUploadRead, RowProblem
from app.staff.models import Staff
from app.subsidies.identity import InvalidIdNumber, birth_on, check_id, keyed_hash

MAX_LIST_BYTES = 10 * 1024 * 1024
MAX_REPORTED_ROWS = 50  # problems listed in one answer; the count says how many there are
MAX_POST_CHARS = 32


class CadreRelation(StrEnum):
    """Who may be on the roster: the cadre (本人) and their 近亲属 as 民法典 第一千零四十五条
    names them (配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女), with the
    children's spouses (儿媳、女婿) that the Party's rules on cadres' families add ("配偶、子女
    及其配偶") and that share a household with the cadre in many villages."""

    self_ = "本人"
    spouse = "配偶"
    parent = "父母"
    child = "子女"
    sibling = "兄弟姐妹"
    paternal_grandparent = "祖父母"
    maternal_grandparent = "外祖父母"
    grandchild = "孙子女"
    daughters_grandchild = "外孙子女"
    daughter_in_law = "儿媳"
    son_in_law = "女婿"


RELATIONS = tuple(relation.value for relation in CadreRelation)
LIST_NAMES: dict[ListKind, str] = {
    ListKind.deceased: "死亡人员名单",
    ListKind.public_employees: "财政供养人员名单",
    ListKind.cadre_relatives: "村（社区）干部及其近亲属名册",
}
COLUMNS: dict[ListKind, tuple[str, ...]] = {
    ListKind.deceased: ("id_number", "died_on"),
    ListKind.public_employees: ("id_number",),
    ListKind.cadre_relatives: ("id_number", "cadre_id_number", "village_code", "post", "relation"),
}
# Headers as a county office may write them in Chinese.
_HEADER_ALIASES = {
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "死亡日期": "died_on",
    "干部身份证号": "cadre_id_number",
    "干部身份证号码": "cadre_id_number",
    "村代码": "village_code",
    "村（社区）代码": "village_code",
    "区划代码": "village_code",
    "职务": "post",
    "干部职务": "post",
    "关系": "relation",
    "与干部关系": "relation",
    "与干部的关系": "relation",
}


# --- reading the file -----------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the name of its encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ListEncodingUnknown(
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”）。请在 Excel 中另存为"
            "“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”（GBK 编码）后再上传。"
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ListEncodingUnknown(
            "这是 Excel 工作簿（.xlsx 或 .xls），不是 CSV 文件。请在 Excel 中另存为"
            "“CSV UTF-8（逗号分隔）”后再上传。"
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise ListEncodingUnknown(
            "文件既不是 UTF-8 编码，也不是 GBK（GB18030）编码，无法读取。请在 Excel 中另存为"
            "“CSV UTF-8（逗号分隔）”后再上传。"
        ) from None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, ends kept, one at a time (a copy of the whole as a StringIO takes
    four bytes a character)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop == -1 else stop + 1
        yield text[start:stop]
        start = stop


class _Row(NamedTuple):
    number: int  # as Excel numbers it: the header is row 1
    cells: dict[str, str]


def _rows(text: str, kind: ListKind) -> Iterator[_Row]:
    if "\x00" in text:
        raise ListEncodingUnknown(
            "文件中有空字符（NUL），不是文本格式的 CSV。请另存为 CSV 后再上传。"
        )
    reader = csv.reader(_lines(text))
    try:
        header = next(reader, None)
        if header is None:
            raise ListColumnsInvalid(f"文件是空的。第一行应为表头：{','.join(COLUMNS[kind])}")
        names = [_HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in header]
        missing = [c for c in COLUMNS[kind] if c not in names]
        if missing:
            raise ListColumnsInvalid(
                f"表头缺少 {'、'.join(missing)} 列。{LIST_NAMES[kind]}的第一行应为表头："
                f"{','.join(COLUMNS[kind])}"
            )
        repeated = [c for c in COLUMNS[kind] if names.count(c) > 1]
        if repeated:
            raise ListColumnsInvalid(f"表头中 {'、'.join(repeated)} 列出现了不止一次。")
        where = {c: names.index(c) for c in COLUMNS[kind]}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or Excel's empty trailing rows
            yield _Row(
                reader.line_num,
                {c: cells[i].strip() if i < len(cells) else "" for c, i in where.items()},
            )
    except csv.Error:
        # Its message may quote the file: never shown.
        raise ListColumnsInvalid(
            f"第 {reader.line_num} 行不是有效的 CSV（例如引号没有成对）。"
        ) from None


# --- checking rows --------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.found: list[RowProblem] = []

    def add(self, row: int, message: str) -> None:
        self.found.append(RowProblem(row=row, message=message))

    def raise_any(self, kind: ListKind) -> None:
        if not self.found:
            return
        found = sorted(self.found, key=lambda p: p.row)
        shown = found[:MAX_REPORTED_ROWS]
        more = f"，下面列出前 {len(shown)} 处" if len(found) > len(shown) else ""
        raise ListRowsInvalid(
            f"{LIST_NAMES[kind]}有 {len(found)} 处问题{more}（按行号，表头是第 1 行）。"
            "改正后请重新上传整个文件；在此之前，原来的名单保持不变。",
            rows=[p.model_dump() for p in shown],
            rows_total=len(found),
        )


def _hash(pepper: bytes, raw: str, problems: _Problems, row: int, column: str) -> bytes | None:
    label = "干部身份证号" if column == "cadre_id_number" else "身份证号"
    if not raw:
        problems.add(row, f"{label}为空")
        return None
    if "E+" in raw.upper():
        problems.add(row, f"{label}被 Excel 写成了科学计数法：请把这一列设为“文本”后重新导出")
        return None
    try:
        return keyed_hash(pepper, check_id(raw))
    except InvalidIdNumber as exc:  # its message names the fault, never the number
        problems.add(row, f"{label}：{exc}")
        return None


def _date(raw: str) -> date | None:
    """2026-03-05, 2026/3/5, 2026.3.5 or 2026年3月5日 (as Excel writes dates in a CSV)."""
    for separator in ("/", ".", "年", "月"):
        raw = raw.replace(separator, "-")
    parts = raw.removesuffix("日").split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


@dataclass
class _Checked:
    """A list's entries, checked, as the rows to insert."""

    rows: list[tuple[object, ...]]  # in the order of the list's `_INSERTS` columns
    counts: dict[str, int]


def _deceased(rows: Iterator[_Row], pepper: bytes, problems: _Problems) -> _Checked:
    today = datetime.now(COUNTY_TZ).date()
    seen: dict[bytes, int] = {}
    entries: list[tuple[object, ...]] = []
    for row in rows:
        raw = row.cells["id_number"]
        id_hash = _hash(pepper, raw, problems, row.number, "id_number")
        died_on = _date(row.cells["died_on"])
        if died_on is None:
            problems.add(row.number, "死亡日期不是有效的日期（应为 2026-03-05 这样的格式）")
        elif died_on > today:
            problems.add(row.number, "死亡日期晚于今天")
        elif id_hash is not None and died_on < birth_on(check_id(raw)):
            problems.add(row.number, "死亡日期早于身份证号中的出生日期")
        if id_hash is None or died_on is None:
            continue
        if id_hash in seen:
            problems.add(row.number, f"与第 {seen[id_hash]} 行是同一个人（身份证号相同）")
            continue
        seen[id_hash] = row.number
        entries.append((id_hash, died_on))
    return _Checked(entries, {"entries": len(entries)})


def _public_employees(rows: Iterator[_Row], pepper: bytes, problems: _Problems) -> _Checked:
    seen: dict[bytes, int] = {}
    entries: list[tuple[object, ...]] = []
    for row in rows:
        id_hash = _hash(pepper, row.cells["id_number"], problems, row.number, "id_number")
        if id_hash is None:
            continue
        if id_hash in seen:
            problems.add(row.number, f"与第 {seen[id_hash]} 行是同一个人（身份证号相同）")
            continue
        seen[id_hash] = row.number
        entries.append((id_hash,))
    return _Checked(entries, {"entries": len(entries)})


@dataclass
class _RosterRow:
    number: int
    id_hash: bytes
    cadre_hash: bytes
    village_code: str
    post: str
    relation: str


def _roster(session: Session, rows: Iterator[_Row], pepper: bytes, problems: _Problems) -> _Checked:
    """Rules beyond each cell's own: the cadre is on the roster (本人, their own ID number in
    both columns); a relative's village and post may be left empty and are then the cadre's,
    and if given must be the cadre's; one person is listed once per cadre."""
    read: list[_RosterRow] = []
    own_rows: dict[bytes, int] = {}  # each cadre's 本人 row, taken or not
    for row in rows:
        cells = row.cells
        id_hash = _hash(pepper, cells["id_number"], problems, row.number, "id_number")
        cadre_raw = cells["cadre_id_number"]
        cadre_hash = _hash(pepper, cadre_raw, problems, row.number, "cadre_id_number")
        relation, post, village = cells["relation"], cells["post"], cells["village_code"]
        fine = True
        if relation == CadreRelation.self_ and cadre_hash is not None:
            own_rows.setdefault(cadre_hash, row.number)
        if relation not in RELATIONS:
            problems.add(row.number, f"与干部的关系应为以下之一：{'、'.join(RELATIONS)}")
            fine = False
        elif id_hash is not None and cadre_hash is not None:
            if relation == CadreRelation.self_ and id_hash != cadre_hash:
                problems.add(row.number, "关系为“本人”时，身份证号应与干部身份证号相同")
                fine = False
            elif relation != CadreRelation.self_ and id_hash == cadre_hash:
                problems.add(row.number, "身份证号与干部身份证号相同，关系应填“本人”")
                fine = False
        if village and not (len(village) == 12 and village.isascii() and village.isdigit()):
            problems.add(row.number, "村（社区）代码应为 12 位数字的统计用区划代码")
            fine = False
        if len(post) > MAX_POST_CHARS or any(not ch.isprintable() for ch in post):
            problems.add(row.number, f"干部职务最多 {MAX_POST_CHARS} 个字，且不能含控制字符")
            fine = False
        if relation == CadreRelation.self_ and not village:
            problems.add(row.number, "干部本人的村（社区）代码为空")
            fine = False
        if relation == CadreRelation.self_ and not post:
            problems.add(row.number, "干部本人的职务为空")
            fine = False
        if fine and id_hash is not None and cadre_hash is not None:
            read.append(_RosterRow(row.number, id_hash, cadre_hash, village, post, relation))
    cadres = {r.cadre_hash: r for r in read if r.relation == CadreRelation.self_}
    known = _villages(session, {r.village_code for r in read if r.village_code})
    seen: dict[tuple[bytes, bytes], int] = {}
    entries: list[tuple[object, ...]] = []
    for r in read:
        if r.village_code and r.village_code not in known:
            problems.add(r.number, "村（社区）代码不是本县的村（社区）")
            continue
        cadre = cadres.get(r.cadre_hash)
        if cadre is None:
            if r.cadre_hash in own_rows:
                problems.add(r.number, f"干部本人那一行（第 {own_rows[r.cadre_hash]} 行）有问题")
            else:
                problems.add(r.number, "干部本人不在名册中：请加上干部本人那一行（关系填“本人”）")
            continue
        if r.village_code and r.village_code != cadre.village_code:
            problems.add(r.number, f"村（社区）代码与干部本人那一行（第 {cadre.number} 行）不同")
            continue
        if r.post and r.post != cadre.post:
            problems.add(r.number, f"干部职务与干部本人那一行（第 {cadre.number} 行）不同")
            continue
        if (r.id_hash, r.cadre_hash) in seen:
            first = seen[(r.id_hash, r.cadre_hash)]
            problems.add(r.number, f"与第 {first} 行重复（同一人、同一干部）")
            continue
        seen[(r.id_hash, r.cadre_hash)] = r.number
        entries.append((r.id_hash, r.cadre_hash, cadre.village_code, cadre.post, r.relation))
    by_relation = Counter(str(e[4]) for e in entries)
    return _Checked(
        entries,
        {"entries": len(entries), "cadres": by_relation[CadreRelation.self_.value]}
        | {f"relation:{k}": v for k, v in sorted(by_relation.items())},
    )


def _villages(session: Session, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(
        session.scalars(
            select(Region.code).where(
                Region.code.in_(sorted(codes)), Region.level == RegionLevel.village
            )
        )
    )


def _write_rows(session: Session, kind: ListKind, rows: list[tuple[object, ...]]) -> None:
    """On PostgreSQL by COPY (half a million rows in about a second, where an executemany
    takes twenty); on SQLite by the driver's executemany."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        _INSERTS[kind].execute(session, rows)
        return
    sql = f"COPY {_TABLES[kind].__tablename__} ({', '.join(_INSERTS[kind].columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


# --- the upload -----------------------------------------------------------------------------

_TABLES: dict[ListKind, type[Deceased | PublicEmployee | RosterEntry]] = {
    ListKind.deceased: Deceased,
    ListKind.public_employees: PublicEmployee,
    ListKind.cadre_relatives: RosterEntry,
}
_ROSTER_COLUMNS = ("id_hash", "cadre_hash", "village_code", "post", "relation")
# A list of 10 MB is half a million rows: written as tuples by the driver's executemany, which
# costs a small part of the time and memory of SQLAlchemy's rows of dicts.
_INSERTS = {
    ListKind.deceased: BulkInsert(
        lambda insert: insert(Deceased.__table__).values(
            id_hash=bindparam("id_hash"), died_on=bindparam("died_on")
        ),
        ("id_hash", "died_on"),
    ),
    ListKind.public_employees: BulkInsert(
        lambda insert: insert(PublicEmployee.__table__).values(id_hash=bindparam("id_hash")),
        ("id_hash",),
    ),
    ListKind.cadre_relatives: BulkInsert(
        lambda insert: insert(RosterEntry.__table__).values(
            {c: bindparam(c) for c in _ROSTER_COLUMNS}
        ),
        _ROSTER_COLUMNS,
    ),
}


def check_file(
    session: Session, kind: ListKind, *, data: bytes, pepper: bytes
) -> tuple[_Checked, str]:
    """The checked entries of an uploaded file and its encoding, or the problem that it has."""
    if len(data) > MAX_LIST_BYTES:
        raise ListTooLarge(f"名单文件不能超过 {MAX_LIST_BYTES // (1024 * 1024)} MB。")
    text, encoding = decode(data)
    rows = _rows(text, kind)
    problems = _Problems()
    if kind == ListKind.deceased:
        checked = _deceased(rows, pepper, problems)
    elif kind == ListKind.public_employees:
        checked = _public_employees(rows, pepper, problems)
    else:
        checked = _roster(session, rows, pepper, problems)
    problems.raise_any(kind)
    if not checked.rows:
        raise ListRowsInvalid(
            f"{LIST_NAMES[kind]}只有表头，没有数据行。原来的名单保持不变。", rows=[], rows_total=0
        )
    return checked, encoding


def upload_list(
    session: Session, kind: ListKind, *, data: bytes, actor: Staff, settings: Settings
) -> ListUploadRead:
    """Checks the whole file, then replaces the list (see the module's invariants)."""
    pepper = settings.secret("id_pepper").encode()
    checked, encoding = check_file(session, kind, data=data, pepper=pepper)
    # The list's row first: its lock makes a second upload of the same kind wait for this one
    # (on PostgreSQL; SQLite has one writer anyway), so that it deletes what this one inserted;
    # the upsert below locks it on a first upload.
    before = session.execute(
        select(ReferenceList.entries, ReferenceList.uploaded_at)
        .where(ReferenceList.kind == kind.value)
        .with_for_update()  # waits for an upload of the same kind (PostgreSQL)
    ).first()
    previous = (
        {"entries": before.entries, "uploaded_at": before.uploaded_at.isoformat()}
        if before is not None
        else None
    )
    now = utcnow()
    values = {
        "kind": kind.value,
        "entries": len(checked.rows),
        "uploaded_by_id": actor.id,
        "uploaded_at": now,
    }
    upsert = dialect_insert(session, ReferenceList.__table__).values(values)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["kind"], set_={k: upsert.excluded[k] for k in values if k != "kind"}
        )
    )
    session.execute(delete(_TABLES[kind]))
    _write_rows(session, kind, checked.rows)
    session.expire_all()
    run = runs.rescreen(
        session,
        runs.LIST_RULES[kind],
        trigger="list",
        actor=actor,
        lease_seconds=settings.sync_lease_seconds,
    )
    audit.record(
        session,
        actor=actor,
        action="screening.list.upload",
        entity_type="screening_list",
        entity_id=kind.value,
        before=previous,
        after={**checked.counts, "encoding": encoding},
    )
    return ListUploadRead(
        kind=kind,
        name=LIST_NAMES[kind],
        entries=len(checked.rows),
        uploaded_at=now,
        uploaded_by=actor.username,
        encoding=encoding,
        previous_entries=previous["entries"] if previous else None,
        cadres=checked.counts.get("cadres"),
        screening_run_id=run.id if run is not None else None,
    )


def list_lists(session: Session) -> list[ListRead]:
    """Every kind, uploaded or not, with its entries counted in its table."""
    uploads = {
        row.kind: row
        for row in session.execute(
            select(ReferenceList.kind, ReferenceList.uploaded_at, Staff.username).outerjoin(
                Staff, Staff.id == ReferenceList.uploaded_by_id
            )
        )
    }
    counts = {
        kind: session.scalar(select(func.count()).select_from(table)) or 0
        for kind, table in _TABLES.items()
    }
    lists = []
    for kind in ListKind:
        upload = uploads.get(kind.value)
        lists.append(
            ListRead(
                kind=kind,
                name=LIST_NAMES[kind],
                columns=list(COLUMNS[kind]),
                entries=counts[kind],
                uploaded_at=upload.uploaded_at if upload else None,
                uploaded_by=upload.username if upload else None,
            )
        )
    return lists
