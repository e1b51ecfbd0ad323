"""A4 pages for the village notice board (村务公开栏), drawn with Pillow in the posters' CJK font
(app.onboarding.fonts) and saved as one PDF: the 阳光问廉 问题清单 (app.inquiries.pdf) and the
month's 晒账 notice (app.disclosures.notice). What they share lives here: the page, wrapped
text, QR codes sized to be read from a metre away, the footer with page numbers, the file."""

from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from app.config import Settings
from app.onboarding import fonts, qr

DPI = 200
WIDTH, HEIGHT = 1654, 2339  # A4 (210 × 297 mm) at 200 dpi
MARGIN = 110
FOOTER_TOP = HEIGHT - 150
INK, GREY, RED, RULE = 0, 90, 60, 170


def face(settings: Settings) -> fonts.FontFace:
    """The posters' CJK face; PosterFontMissing (503) without one."""
    return fonts.find_cjk_font(settings.poster_font)


def new_page() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    page = Image.new("L", (WIDTH, HEIGHT), 255)
    return page, ImageDraw.Draw(page)


def wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, lines: int
) -> list[str]:
    """`text` cut into at most `lines` lines of at most `width` pixels, "…" where cut short."""
    out: list[str] = []
    line = ""
    for char in text.replace("\n", " "):
        if draw.textlength(line + char, font=font) > width:
            out.append(line)
            line = ""
            if len(out) == lines:
                out[-1] = out[-1][:-1] + "…"
                return out
        line += char
    if line:
        out.append(line)
    return out


def qr_code(url: str, side: int) -> Image.Image:
    """The QR code of `url`, at most `side` pixels square, whole modules only (sharp)."""
    modules = len(qr.matrix(url))
    return qr.image(url, module_px=max(side // modules, 1)).convert("L")


def footer(
    draw: ImageDraw.ImageDraw, font_face: fonts.FontFace, hint: str, number: int, count: int
) -> None:
    draw.text((MARGIN, FOOTER_TOP), hint, font=font_face.at(36), fill=INK)
    draw.text(
        (WIDTH - MARGIN, FOOTER_TOP + 60),
        f"第 {number}/{count} 页",
        font=font_face.at(30),
        fill=GREY,
        anchor="ra",
    )


def pdf(pages: list[Image.Image], *, title: str) -> bytes:
    out = BytesIO()
    pages[0].save(
        out,
        "PDF",
        resolution=DPI,
        save_all=True,
        append_images=pages[1:],
        title=title,
        creator="廉韵",
    )
    return out.getvalue()
