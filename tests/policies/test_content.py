"""Every shipped policy page keeps the page format of app/policies/content/README.md, so an
elderly reader finds the same plain sections on every page and a number to call."""

import re
from pathlib import Path

import pytest

from app.policies import service
from app.subsidies.items import COUNTY_ITEMS

SECTIONS = ("谁能领", "能领多少", "怎么申请", "要多久", "不批怎么办", "找谁问", "政策依据")
# Words a villager may not know: each must be followed at once by its plain explanation in
# full-width brackets, "代缴（政府直接交给医保）".
JARGON = (
    "确权承包",
    "一站式结算",
    "返贫致贫",
    "监测对象",
    "C级",
    "D级",
    "兜底",
    "应保尽保",
    "动态管理",
    "建档立卡",
    "一事一议",
    "代缴",
    "户籍地",
    "核定",
    "审核确认",
    "统筹",
)
SUMMARY_MAX = 60
_BOOK_TITLE = re.compile(r"《[^》\n]*》")  # a notice's own title may use its own words
_HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
_CENTS = re.compile(r"\d\.00(?!\d)")

PAGES = sorted(p for p in service.CONTENT_DIR.glob("*.md") if p.name != "README.md")


def _jargon(word: str) -> re.Pattern[str]:
    """The word as written, "C级" also as "C 级", "c级" or "Ｃ级"."""
    letters = [
        f"[{c}{c.lower()}{chr(ord(c) + 0xFEE0)}{chr(ord(c.lower()) + 0xFEE0)}]"
        if c.isascii()
        else re.escape(c)
        for c in word
    ]
    return re.compile(r"\s*".join(letters))


def _around(text: str, start: int, end: int) -> str:
    return text[max(start - 10, 0) : end + 10].replace("\n", " ")


def problems(path: Path) -> list[str]:
    """What breaks the page format in one page, each naming the file and the offending text."""
    page = service.read_file(path).content
    raw = path.read_text(encoding="utf-8")
    found: list[str] = []

    plain = _BOOK_TITLE.sub(lambda m: "《" + "＿" * (len(m.group()) - 2) + "》", raw)
    for word in JARGON:
        for hit in _jargon(word).finditer(plain):
            if not plain.startswith("（", hit.end()):
                found.append(f"难懂的词“{word}”后面没有紧跟（解释）：…{_around(raw, *hit.span())}…")
    for hit in _CENTS.finditer(raw):
        found.append(f"金额不要写“.00”：…{_around(raw, *hit.span())}…")
    for hit in re.finditer("演示县", raw):
        found.append(f"不要写“演示县”：…{_around(raw, *hit.span())}…")
    if "12345" not in raw:
        found.append("没有写 12345（政务服务便民热线）")
    headings = _HEADING.findall(page.body_md)
    if "怎么申请" not in headings:
        found.append("没有“## 怎么申请”一节")
    if tuple(headings) != SECTIONS:
        actual = "、".join(headings) or "（无）"
        found.append(f"小标题应依次为 {'、'.join(SECTIONS)}；实际是 {actual}")
    if len(page.summary) > SUMMARY_MAX:
        found.append(f"摘要 {len(page.summary)} 字，超过 {SUMMARY_MAX} 字：{page.summary}")
    return [f"{path.name}：{problem}" for problem in found]


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_the_page_keeps_the_page_format(path: Path) -> None:
    found = problems(path)
    assert not found, "\n".join(found)


GOOD_BODY = "\n".join(f"## {s}\n\n正文。\n" for s in SECTIONS).replace(
    "## 找谁问\n\n正文。", "## 找谁问\n\n钱没到，打 12345。"
)


def _page(tmp_path: Path, name: str, *, summary: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f'---\ncategory: "01"\ntitle: 测试\nitems: []\ndepartment: 平昌县民政局\n'
        f'summary: "{summary}"\ndemo_figures: true\n---\n{body}',
        encoding="utf-8",
    )
    return path


def test_a_page_in_the_format_passes(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("正文。", "由政府代缴（直接交给医保）。", 1)
    body += "\n- 民政部《最低生活保障审核确认办法》（2021年）\n- 每月540元。\n"
    assert problems(_page(tmp_path, "01-good.md", summary="短摘要。", body=body)) == []


def test_each_fault_is_named_with_the_file_and_the_offending_text(tmp_path: Path) -> None:
    body = (
        "> 本页金额为演示县的数据。\n\n## 谁能享受\n\n由政府兜底，按确权承包面积，"
        "每月 540.00 元；县里审核确认后发放。\n\n## 政策依据\n\n有疑问打 12388。"
        "C 级危房修，ｄ级危房拆。\n"
    )
    path = _page(tmp_path, "01-bad.md", summary="长" * 61, body=body)

    found = problems(path)

    # each fault once, with the words around it so an editor can find it
    assert sorted(found) == sorted(
        f"01-bad.md：{problem}"
        for problem in (
            "难懂的词“兜底”后面没有紧跟（解释）：… 谁能享受  由政府兜底，按确权承包面积，每…",
            "难懂的词“确权承包”后面没有紧跟（解释）：…受  由政府兜底，按确权承包面积，每月 540.…",
            "难懂的词“审核确认”后面没有紧跟（解释）：…40.00 元；县里审核确认后发放。  ## 政…",
            "金额不要写“.00”：…承包面积，每月 540.00 元；县里审核确认后…",
            "不要写“演示县”：…-- > 本页金额为演示县的数据。  ## 谁…",
            "难懂的词“C级”后面没有紧跟（解释）：…疑问打 12388。C 级危房修，ｄ级危房拆。…",
            "难懂的词“D级”后面没有紧跟（解释）：…88。C 级危房修，ｄ级危房拆。 …",
            "没有写 12345（政务服务便民热线）",
            "没有“## 怎么申请”一节",
            "小标题应依次为 谁能领、能领多少、怎么申请、要多久、不批怎么办、找谁问、政策依据；"
            "实际是 谁能享受、政策依据",
            f"摘要 61 字，超过 60 字：{'长' * 61}",
        )
    )

    with pytest.raises(AssertionError, match=r"01-bad\.md：难懂的词“兜底”"):
        test_the_page_keeps_the_page_format(path)


def test_sections_out_of_order_fail_even_when_all_are_there(tmp_path: Path) -> None:
    swapped = GOOD_BODY.replace("## 谁能领", "## 甲").replace("## 政策依据", "## 谁能领")
    swapped = swapped.replace("## 甲", "## 政策依据")
    found = problems(_page(tmp_path, "01-order.md", summary="短。", body=swapped))
    assert found == [
        "01-order.md：小标题应依次为 谁能领、能领多少、怎么申请、要多久、不批怎么办、找谁问、"
        "政策依据；实际是 政策依据、能领多少、怎么申请、要多久、不批怎么办、找谁问、谁能领"
    ]


def test_every_item_of_the_county_has_a_page_and_every_page_names_real_items() -> None:
    """A villager's lookup links each line to the page of its item: a page naming an item the
    card does not know, or an item without a page, leaves a line without its explanation."""
    on_pages = {item for file in service.read_content() for item in file.content.items}
    county = {item.item_name for item in COUNTY_ITEMS}
    assert on_pages - county == set(), "pages name items that are not in app/subsidies/items.py"
    assert county - on_pages == set(), "items of the county without a page"
    departments = {item.item_name: item.department for item in COUNTY_ITEMS}
    for file in service.read_content():
        for item in file.content.items:
            assert file.content.department == departments[item], (file.slug, item)
