"""Valid ID numbers made up for the tests, and CSV files of the reference lists."""

from stdnum.cn import ric

from app.config import get_settings
from app.subsidies.identity import keyed_hash


def id_number(n: int, born: str = "19600101", area: str = "511923") -> str:
    """The n-th valid ID number (GB 11643 check character) of people born on `born`."""
    body = f"{area}{born}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def with_bad_check(number: str) -> str:
    """The same number with a wrong check character."""
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def id_hash(number: str) -> bytes:
    return keyed_hash(get_settings().secret("id_pepper").encode(), number)


def csv_bytes(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def deceased_csv(rows: list[tuple[str, str]], encoding: str = "utf-8") -> bytes:
    return csv_bytes("id_number,died_on", [f"{i},{d}" for i, d in rows], encoding)


def employees_csv(numbers: list[str], encoding: str = "utf-8") -> bytes:
    return csv_bytes("id_number", numbers, encoding)


def roster_csv(rows: list[tuple[str, str, str, str, str]], encoding: str = "utf-8") -> bytes:
    return csv_bytes(
        "id_number,cadre_id_number,village_code,post,relation",
        [",".join(row) for row in rows],
        encoding,
    )
