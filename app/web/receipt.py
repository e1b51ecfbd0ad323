"""The receipt code as a picture to keep in the phone's album ("保存为图片"): drawn with Pillow
in the posters' CJK font and put into the page itself as a data: URL, so that the code never
travels in a URL and no second request (nor any copy on the server) exists."""

import base64
from datetime import date
from io import BytesIO

from PIL import Image, ImageDraw

from app.config import Settings
from app.errors import LianyunError
from app.onboarding import fonts

WIDTH, HEIGHT = 720, 440
TIP_LOOK_UP = "首页 → 查回执"


def png(code: str, *, title: str, submitted_on: date, look_up: str, settings: Settings) -> bytes:
    """`look_up`: where the code is typed in, as the reader finds it ("首页 → 查回执")."""
    face = fonts.find_cjk_font(settings.poster_font)
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, WIDTH - 7, HEIGHT - 7), outline=0, width=4)
    draw.text(
        (WIDTH // 2, 60), f"{settings.app_name} · {title}", font=face.at(40), fill=0, anchor="mm"
    )
    draw.text((WIDTH // 2, 170), code, font=face.at(64), fill=0, anchor="mm")
    draw.text(
        (WIDTH // 2, 260),
        f"提交日期：{submitted_on.isoformat()}",
        font=face.at(32),
        fill=40,
        anchor="mm",
    )
    draw.text(
        (WIDTH // 2, 330),
        f"凭这个码查看办理情况：{look_up}",
        font=face.at(30),
        fill=40,
        anchor="mm",
    )
    draw.text(
        (WIDTH // 2, 385),
        "只有您知道这个码，请不要给别人看",
        font=face.at(30),
        fill=40,
        anchor="mm",
    )
    out = BytesIO()
    image.convert("1", dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
    return out.getvalue()


def data_url(
    code: str, *, title: str, submitted_on: date, look_up: str, settings: Settings
) -> str | None:
    """The picture as a data: URL; None when the server has no Chinese font (the page still
    shows the code in large text)."""
    try:
        body = png(code, title=title, submitted_on=submitted_on, look_up=look_up, settings=settings)
    except LianyunError:
        return None
    return "data:image/png;base64," + base64.b64encode(body).decode()
