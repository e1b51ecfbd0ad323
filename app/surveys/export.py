"""Survey results as files for the commission: CSV (UTF-8 with a BOM, so that Excel shows the
Chinese) and XLSX (numbers as numbers, with a percent format for 满意率). Both hold the same
rows; a text such as `=1+1` is never taken for a formula. XLSX cannot hold most control
characters: any that older surveys stored are written as U+FFFD (�)."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from app.spreadsheets import append_row
from app.surveys.models import QuestionKind
from app.surveys.schemas import SurveyResults

HEADER: list[object] = [
    "题号",
    "题目",
    "项目",
    "人数",
    "平均分",
    "满意率",
    "1分",
    "2分",
    "3分",
    "4分",
    "5分",
]
MEAN_COLUMN, RATE_COLUMN = 4, 5  # 0-based, in HEADER

Row = list[object]


def rows(results: SurveyResults) -> list[Row]:
    """The table: a title block, the header, then one row per option, target and text question.
    Means and rates stay numbers (None when no one answered)."""
    table: list[Row] = [["测评", results.title], ["参与人数", results.response_count], [], HEADER]
    for q in results.questions:
        head: Row = [q.position, q.text]
        for option in q.options:
            table.append([*head, option.text, option.count])
        for r in q.ratings:
            distribution = [r.distribution[str(s)] for s in range(1, 6)]
            rate = r.satisfaction_rate
            table.append([*head, r.target_name or "评分", r.count, r.mean, rate, *distribution])
        if q.kind == QuestionKind.text:
            table.append([*head, "文字回答（另行查看）", q.answer_count])
    return table


def _text_cell(value: object) -> object:
    """Keep Excel from reading a title such as `=1+1` as a formula in a CSV."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _csv_cell(column: int, value: object, in_body: bool) -> object:
    if value is None:
        return ""
    if in_body and column == MEAN_COLUMN and isinstance(value, float):
        return f"{value:.2f}"
    if in_body and column == RATE_COLUMN and isinstance(value, float):
        return f"{value * 100:.1f}%"
    return _text_cell(value)


def to_csv(results: SurveyResults) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    table = rows(results)
    body_from = table.index(HEADER) + 1
    for n, row in enumerate(table):
        writer.writerow([_csv_cell(c, v, n >= body_from) for c, v in enumerate(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(results: SurveyResults) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has one sheet)
    sheet.title = "测评结果"
    table = rows(results)
    body_from = table.index(HEADER) + 1
    for n, row in enumerate(table, start=1):
        for column, cell in enumerate(append_row(sheet, row)):
            if isinstance(cell.value, str):
                continue
            if n > body_from and column == MEAN_COLUMN:
                cell.number_format = "0.00"
            elif n > body_from and column == RATE_COLUMN:
                cell.number_format = "0.0%"
    for cell in sheet[body_from]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABC", (6, 40, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
