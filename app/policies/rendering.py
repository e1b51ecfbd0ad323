"""Markdown bodies → safe HTML for the clients, and plain text for search.

Two walls: markdown-it renders raw HTML in the Markdown as text (`html=False`) and refuses
`javascript:`-like links; nh3 then keeps only an allowlist of formatting tags, `href`/`title` on
links with safe schemes, and adds `rel`. Whatever slips past one is stopped by the other.
"""

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def to_html(body_md: str) -> str:
    return _cleaner.clean(_markdown.render(body_md))


def to_text(body_md: str) -> str:
    """The words of the body, one block per line, without Markdown syntax."""
    blocks: list[str] = []
    for token in _markdown.parse(body_md):
        if token.type == "inline":
            parts = [
                child.content if child.type in {"text", "code_inline"} else " "
                for child in token.children or []
                if child.type in {"text", "code_inline", "softbreak", "hardbreak"}
            ]
            blocks.append("".join(parts).strip())
        elif token.type in {"code_block", "fence"}:
            blocks.append(token.content.strip())
    return "\n".join(b for b in blocks if b)
