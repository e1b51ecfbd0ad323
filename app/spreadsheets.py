"""Spreadsheets staff download (openpyxl): a row's text written as text, whatever it holds."""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def append_row(sheet: Any, values: Iterable[object]) -> tuple[Any, ...]:
    """Append the values as the sheet's next row and return its cells: control characters a
    workbook cannot hold replaced, and text kept as text even when it starts with "="."""
    sheet.append([_clean(value) for value in values])
    cells: tuple[Any, ...] = sheet[sheet.max_row]
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    return cells


def _clean(value: object) -> object:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value
