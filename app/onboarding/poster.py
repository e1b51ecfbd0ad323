"""The printable poster: A4 portrait at 300 dpi, drawn with Pillow in a CJK font.

Each piece of text is drawn centred in a box of its own, shrunk until it fits the box's width,
so that a long village name never runs off the page. The boxes are named so that tests can look
at what was drawn where.
"""

from io import BytesIO

from PIL import Image, ImageDraw

from app.onboarding import qr
from app.onboarding.fonts import FontFace

DPI = 300
WIDTH, HEIGHT = 2480, 3508  # A4 (210 × 297 mm) at 300 dpi
MARGIN = 160
RED, INK, GREY, WHITE = "#b8232f", "#1f1f1f", "#5c5c5c", "#ffffff"
Box = tuple[int, int, int, int]  # left, top, right, bottom

HEADER: Box = (0, 0, WIDTH, 720)
APP_NAME_BOX: Box = (MARGIN, 110, WIDTH - MARGIN, 420)
SLOGAN_BOX: Box = (MARGIN, 460, WIDTH - MARGIN, 600)
VILLAGE_NAME_BOX: Box = (MARGIN, 800, WIDTH - MARGIN, 1000)
FEATURE_BOXES: tuple[Box, ...] = tuple(
    (MARGIN, top, WIDTH - MARGIN, top + 120) for top in (1080, 1220, 1360)
)
QR_BOX: Box = (590, 1560, 1890, 2860)
SCAN_HINT_BOX: Box = (MARGIN, 2900, WIDTH - MARGIN, 3020)
URL_BOX: Box = (MARGIN, 3040, WIDTH - MARGIN, 3120)
FOOTER: Box = (0, 3220, WIDTH, HEIGHT)
FOOTER_TEXT_BOX: Box = (MARGIN, 3290, WIDTH - MARGIN, 3440)

FEATURES = (  # what the app does: a red label, then a line in plain words
    ("查补贴", "　社保卡里的每一笔补贴，一查就清楚"),
    ("看政策", "　11 类惠民惠农政策，谁能领、领多少"),
    ("去举报", "　优亲厚友、吃拿卡要，可以匿名举报"),
)


def _text(
    draw: ImageDraw.ImageDraw, face: FontFace, text: str, box: Box, *, size: int, fill: str
) -> None:
    """`text` centred in `box`, at `size` pixels or smaller until it fits the box's width."""
    left, top, right, bottom = box
    font = face.at(size)
    while size > 24 and draw.textlength(text, font=font) > right - left:
        size -= 4
        font = face.at(size)
    draw.text(((left + right) / 2, (top + bottom) / 2), text, font=font, fill=fill, anchor="mm")


def _features(draw: ImageDraw.ImageDraw, face: FontFace) -> None:
    """The three lines, left-aligned on one another and centred as a block."""
    left, _, right, _ = FEATURE_BOXES[0]
    size = 92
    font = face.at(size)
    while max(draw.textlength(a + b, font=font) for a, b in FEATURES) > right - left:
        size -= 4
        font = face.at(size)
    x = (WIDTH - max(draw.textlength(a + b, font=font) for a, b in FEATURES)) / 2
    for (label, text), (_, top, _, bottom) in zip(FEATURES, FEATURE_BOXES, strict=True):
        y = (top + bottom) / 2
        draw.text((x, y), label, font=font, fill=RED, anchor="lm")
        draw.text(
            (x + draw.textlength(label, font=font), y), text, font=font, fill=INK, anchor="lm"
        )


def _qr(page: Image.Image, url: str) -> None:
    left, top, right, _ = QR_BOX
    modules = len(qr.matrix(url))
    code = qr.image(url, module_px=(right - left) // modules)
    offset = ((right - left) - code.width) // 2
    page.paste(code, (left + offset, top + offset))


def draw(
    face: FontFace, *, app_name: str, village_name: str, channel: str, footer: str, url: str
) -> bytes:
    """The poster as PNG bytes, with its 300 dpi recorded so that it prints at A4."""
    page = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(page)
    draw.rectangle(HEADER, fill=RED)
    draw.rectangle(FOOTER, fill=RED)
    _text(draw, face, app_name, APP_NAME_BOX, size=260, fill=WHITE)
    _text(draw, face, "手机上查补贴 · 看政策 · 去监督", SLOGAN_BOX, size=96, fill=WHITE)
    _text(draw, face, village_name, VILLAGE_NAME_BOX, size=170, fill=INK)
    _features(draw, face)
    _qr(page, url)
    _text(draw, face, f"用手机扫一扫，安装「{app_name}」", SCAN_HINT_BOX, size=96, fill=RED)
    _text(draw, face, f"{url}　（{channel}）", URL_BOX, size=56, fill=GREY)
    _text(draw, face, footer, FOOTER_TEXT_BOX, size=96, fill=WHITE)
    out = BytesIO()
    page.save(out, "PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()
