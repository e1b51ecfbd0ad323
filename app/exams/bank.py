"""The question bank: files of questions read and checked row by row, then stored all or nothing.

A file is CSV (UTF-8 or GBK) or XLSX, its first row the header
`kind,tag,text,options,answer,explanation` (or the Chinese 题型,标签,题目,选项,答案,解析).
Options are separated by `|`; an answer is option letters (`A`, `AC`) or `T`/`F`. Tags are
separated by `|` too. A question already in the bank (same kind and text) is skipped, so a file
can be imported again. Problems name the row (as Excel numbers it: the header is row 1) and
never quote its content.
"""

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exams.errors import BankFileInvalid
from app.exams.models import ExamQuestion, ExamQuestionTag, QuestionKind
from app.schemas import multiline
from app.screening.lists import decode

STARTER_BANK = Path(__file__).parent / "data" / "starter_bank.csv"
MAX_BANK_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_REPORTED_ROWS = 50
COLUMNS = ("kind", "tag", "text", "options", "answer", "explanation")
_ALIASES = {
    "题型": "kind",
    "标签": "tag",
    "题目": "text",
    "选项": "options",
    "答案": "answer",
    "解析": "explanation",
}
_KINDS = {
    "single": QuestionKind.single,
    "单选": QuestionKind.single,
    "单选题": QuestionKind.single,
    "multiple": QuestionKind.multiple,
    "多选": QuestionKind.multiple,
    "多选题": QuestionKind.multiple,
    "true_false": QuestionKind.true_false,
    "判断": QuestionKind.true_false,
    "判断题": QuestionKind.true_false,
}
TRUE_FALSE_OPTIONS = ["正确", "错误"]
_TRUE_FALSE = {
    "T": "T",
    "F": "F",
    "对": "T",
    "错": "F",
    "正确": "T",
    "错误": "F",
    "√": "T",
    "×": "F",
}
LETTERS = "ABCDEFGH"
MAX_TAG = 32


@dataclass(frozen=True)
class QuestionRow:
    row: int
    kind: QuestionKind
    tags: tuple[str, ...]
    text: str
    options: tuple[str, ...]
    answer: str
    explanation: str


@dataclass(frozen=True)
class ImportSummary:
    created: int
    skipped: int


def normalise_answer(kind: str, option_count: int, raw: str) -> str | None:
    """The answer in its one stored shape ("AC", "T"), or None when it does not fit the
    question: a letter beyond its options, two letters for a single choice, T/F elsewhere."""
    value = raw.strip().upper().replace(",", "").replace("，", "").replace(" ", "")
    if kind == QuestionKind.true_false:
        return _TRUE_FALSE.get(value)
    letters = sorted(set(value))
    if not letters or len(letters) != len(value):
        return None
    if any(letter not in LETTERS[:option_count] for letter in letters):
        return None
    if kind == QuestionKind.single and len(letters) != 1:
        return None
    return "".join(letters)


def text_hash(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\n{' '.join(text.split())}".encode()).hexdigest()


# --- reading ----------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text, _ = decode(data)
    if "\x00" in text:
        raise BankFileInvalid("文件中有空字符（NUL），不是文本格式的 CSV。")
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error:
        raise BankFileInvalid(
            f"第 {reader.line_num} 行不是有效的 CSV（例如引号没有成对）。"
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise BankFileInvalid(
            "无法读取这个 Excel 文件，请另存为 .xlsx 或 CSV UTF-8 后再上传。"
        ) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise BankFileInvalid("Excel 文件里没有工作表。")
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, ["" if v is None else str(v) for v in values]
    book.close()


def read_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, cells by column) for each row under the header, blank rows left out."""
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    first = next(rows, None)
    if first is None:
        raise BankFileInvalid(f"文件是空的。第一行应为表头：{','.join(COLUMNS)}")
    names = [_ALIASES.get(h.strip(), h.strip().lower()) for h in first[1]]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise BankFileInvalid(
            f"表头缺少 {'、'.join(missing)} 列。第一行应为表头：{','.join(COLUMNS)}"
        )
    where = {c: names.index(c) for c in COLUMNS}
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        yield number, {c: cells[i].strip() if i < len(cells) else "" for c, i in where.items()}


def _check_text(
    value: str, name: str, limit: int, problems: list[tuple[int, str]], row: int
) -> bool:
    if not value:
        problems.append((row, f"{name}不能为空"))
        return False
    if len(value) > limit:
        problems.append((row, f"{name}最多 {limit} 个字"))
        return False
    try:
        multiline(value)
    except ValueError as error:
        problems.append((row, f"{name}{error}"))
        return False
    return True


def _check_row(
    number: int, cells: dict[str, str], problems: list[tuple[int, str]]
) -> QuestionRow | None:
    before = len(problems)
    kind = _KINDS.get(cells["kind"].lower())
    if kind is None:
        problems.append((number, "题型应为 single（单选）、multiple（多选）或 true_false（判断）"))
    tags = tuple(dict.fromkeys(t.strip() for t in cells["tag"].split("|") if t.strip()))
    if not tags:
        problems.append((number, "标签不能为空"))
    elif len(tags) > 5 or any(len(t) > MAX_TAG for t in tags):
        problems.append((number, f"标签最多 5 个，每个最多 {MAX_TAG} 个字"))
    _check_text(cells["text"], "题目", 1000, problems, number)
    _check_text(cells["explanation"], "解析", 2000, problems, number)
    options: tuple[str, ...] = ()
    if kind == QuestionKind.true_false:
        if cells["options"] and cells["options"].replace(" ", "") != "|".join(TRUE_FALSE_OPTIONS):
            problems.append((number, "判断题的选项应留空"))
        options = tuple(TRUE_FALSE_OPTIONS)
    elif kind is not None:
        options = tuple(o.strip() for o in cells["options"].split("|"))
        if not 2 <= len(options) <= len(LETTERS) or not all(options):
            problems.append((number, f"选项应为 2 至 {len(LETTERS)} 个，用 | 分隔，不能有空选项"))
        elif any(len(o) > 300 for o in options):
            problems.append((number, "每个选项最多 300 个字"))
        elif len(set(options)) != len(options):
            problems.append((number, "有两个选项完全相同"))
    answer = None
    if kind is not None and len(problems) == before:
        answer = normalise_answer(kind, len(options), cells["answer"])
        if answer is None or (kind == QuestionKind.multiple and len(answer) < 2):
            problems.append((number, _answer_hint(kind, len(options))))
            answer = None
    if len(problems) != before or kind is None or answer is None:
        return None
    return QuestionRow(number, kind, tags, cells["text"], options, answer, cells["explanation"])


def _answer_hint(kind: QuestionKind, option_count: int) -> str:
    last = LETTERS[option_count - 1]
    if kind == QuestionKind.true_false:
        return "判断题的答案应为 T（正确）或 F（错误）"
    if kind == QuestionKind.single:
        return f"单选题的答案应为 A 至 {last} 中的一个字母"
    return f"多选题的答案应为 A 至 {last} 中的两个或更多字母，如 AC"


def check_file(data: bytes) -> list[QuestionRow]:
    """Every question of the file, or BankFileInvalid naming each bad row."""
    problems: list[tuple[int, str]] = []
    questions: list[QuestionRow] = []
    seen: dict[str, int] = {}
    for count, (number, cells) in enumerate(read_rows(data), start=1):
        if count > MAX_ROWS:
            raise BankFileInvalid(f"一次最多导入 {MAX_ROWS} 道题，请分成几个文件。")
        question = _check_row(number, cells, problems)
        if question is None:
            continue
        key = text_hash(question.kind, question.text)
        if key in seen:
            problems.append((number, f"与第 {seen[key]} 行的题目相同"))
            continue
        seen[key] = number
        questions.append(question)
    if problems:
        problems.sort()
        shown = problems[:MAX_REPORTED_ROWS]
        more = f"，下面列出前 {len(shown)} 处" if len(problems) > len(shown) else ""
        raise BankFileInvalid(
            f"题库文件有 {len(problems)} 处问题{more}（按行号，表头是第 1 行）。"
            "改正后请重新上传整个文件；在此之前，一道题也没有导入。",
            rows=[{"row": row, "message": message} for row, message in shown],
            rows_total=len(problems),
        )
    if not questions:
        raise BankFileInvalid("文件里没有题目：表头下面至少要有一行。")
    return questions


# --- storing ----------------------------------------------------------------------------------


def store_questions(session: Session, questions: list[QuestionRow]) -> ImportSummary:
    hashes = {text_hash(q.kind, q.text): q for q in questions}
    existing = set(
        session.scalars(select(ExamQuestion.text_hash).where(ExamQuestion.text_hash.in_(hashes)))
    )
    created = 0
    for key, q in hashes.items():
        if key in existing:
            continue
        question = ExamQuestion(
            kind=q.kind,
            text=q.text,
            text_hash=key,
            options=list(q.options),
            answer=q.answer,
            explanation=q.explanation,
            tags=[ExamQuestionTag(tag=tag) for tag in q.tags],
        )
        session.add(question)
        created += 1
    session.flush()
    return ImportSummary(created=created, skipped=len(hashes) - created)


def load_starter_bank(session: Session) -> ImportSummary:
    """The bank shipped with the project (app/exams/data/starter_bank.csv); idempotent."""
    return store_questions(session, check_file(STARTER_BANK.read_bytes()))


def bank_counts(session: Session) -> dict[str, int]:
    """How many active questions each tag has."""
    rows = session.execute(
        select(ExamQuestionTag.tag, func.count())
        .join(ExamQuestion, ExamQuestion.id == ExamQuestionTag.question_id)
        .where(ExamQuestion.active.is_(True))
        .group_by(ExamQuestionTag.tag)
        .order_by(ExamQuestionTag.tag)
    )
    return {tag: count for tag, count in rows}
