"""Markdown bodies → safe HTML for the clients, and plain text for search.

Two walls: markdown-it renders raw HTML in the Markdown as text (`html=False`) and refuses
`javascript:`-like links; nh3 then keeps only an allowlist of formatting tags, `href`/`title` on
links with safe schemes, and adds `rel`. Whatever slips past one is stopped by the other.

Articles may show pictures: `to_html(..., image_src=...)` keeps `<img>` whose `src` is one of
ours (the pattern), and drops the `src` of any other. `unsafe_parts` names what a writer should
be told about instead of having it silently removed (scripts, frames, `javascript:` links).
"""

import re

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


_IMAGE_ATTRIBUTES = {"src", "alt", "title"}


def _image_cleaner(image_src: re.Pattern[str]) -> nh3.Cleaner:
    def only_ours(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not image_src.fullmatch(value):
            return None
        return value

    return nh3.Cleaner(
        tags=ALLOWED_TAGS | {"img"},
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template"},
        attributes={**ALLOWED_ATTRIBUTES, "img": _IMAGE_ATTRIBUTES},
        attribute_filter=only_ours,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_image_cleaners: dict[str, nh3.Cleaner] = {}


def to_html(body_md: str, *, image_src: re.Pattern[str] | None = None) -> str:
    """Safe HTML; with `image_src`, pictures whose address matches it are kept."""
    if image_src is None:
        return _cleaner.clean(_markdown.render(body_md))
    cleaner = _image_cleaners.get(image_src.pattern)
    if cleaner is None:
        cleaner = _image_cleaners[image_src.pattern] = _image_cleaner(image_src)
    return cleaner.clean(_markdown.render(body_md))


_UNSAFE_TAG = re.compile(
    r"<\s*/?\s*(script|iframe|frame|object|embed|style|form|svg|math|link|meta|base)\b", re.I
)
_UNSAFE_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|file)\s*:", re.I)
# where a link or a picture points: [text](target), ![alt](target), <scheme:target>
_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]*)>", re.I)


def unsafe_parts(body_md: str) -> list[str]:
    """What in the Markdown would be removed as unsafe, in words: HTML tags that run or embed
    something, and links or pictures to a `javascript:`-like address."""
    found: list[str] = []
    for tag in _UNSAFE_TAG.findall(body_md):
        name = f"<{tag.lower()}> 标签"
        if name not in found:
            found.append(name)
    for link in _LINK_TARGET.findall(body_md) + _AUTOLINK.findall(body_md):
        words = f"不安全的链接 {link[:40]}"
        if _UNSAFE_SCHEME.match(link) and words not in found:
            found.append(words)
    return found


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
