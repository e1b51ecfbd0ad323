from html.parser import HTMLParser

import pytest

from app.policies import rendering

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">点我</a>',
    "[点我](javascript:alert(1))",
    "[点我](JaVaScRiPt:alert(1))",
    "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[点我](vbscript:msgbox(1))",
    '<iframe src="https://evil.example"></iframe>',
    "![图](javascript:alert(1))",
    '<div onclick="alert(1)">点</div>',
    "<svg onload=alert(1)>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    "<<script>script>alert(1)<</script>/script>",
    '[点我](https://ok.example "标题" onmouseover="alert(1)")',
    "<!-- <script>alert(1)</script> -->",
    '<a href="https://ok.example" onclick="alert(1)">好</a>',
    "[a](<javascript:alert(1)>)",
    "[a](&#106;avascript:alert(1))",
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)


def _elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markdown_cannot_reach_a_client_as_markup(hostile: str) -> None:
    html = rendering.to_html(f"## 标题\n\n{hostile}\n\n正文 {hostile} 结尾\n")
    found = _elements(html)

    assert set(found.tags) <= rendering.ALLOWED_TAGS
    assert not {"script", "iframe", "img", "svg", "style", "div"} & set(found.tags)
    for name, value in found.attributes:
        assert name in {"href", "title", "rel", "start"}, html
        if name == "href":
            assert (value or "").startswith(("https://", "http://", "mailto:", "tel:")), html
    assert "<script" not in html.lower() and "<iframe" not in html.lower()


def test_ordinary_markdown_keeps_its_formatting() -> None:
    html = rendering.to_html(
        "## 怎么申请\n\n1. 带上**身份证**\n2. 到[县政府网站](https://www.example.gov.cn)\n\n"
        "> 演示数据\n\n| 年龄 | 金额 |\n| --- | --- |\n| 80 岁 | 50.00 元 |\n"
    )
    assert "<h2>怎么申请</h2>" in html
    assert "<strong>身份证</strong>" in html
    assert '<a href="https://www.example.gov.cn" rel="noopener noreferrer nofollow">' in html
    assert "<blockquote>" in html and "<td>50.00 元</td>" in html


def test_plain_text_drops_the_markdown_syntax() -> None:
    text = rendering.to_text("## 标题\n\n- 一条 **重点**\n- [链接](https://a.example)\n")
    assert text.splitlines() == ["标题", "一条 重点", "链接"]
