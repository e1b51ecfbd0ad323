"""The CJK font the posters are drawn in: found at run time, and checked to draw Chinese.

Debian's fonts-noto-cjk (installed by `scripts/system_packages` and the Dockerfile) is looked
for first, then WenQuanYi; `LIANYUN_POSTER_FONT` names another file. A font that draws Chinese
as its .notdef glyph (tofu boxes) is refused, so a poster is never printed with boxes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.onboarding.errors import PosterFontMissing

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Bold first: poster text is read from metres away. Noto's .ttc holds JP, KR, SC, TC…; the
# Simplified Chinese face is picked by its family name.
FONT_FILES = (
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Bold.otf",
    "NotoSansCJKsc-Regular.otf",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
)
PREFERRED_FAMILY = "Noto Sans CJK SC"
PROBE_TEXT = "廉韵平昌村镇查补贴"
# A code point no font draws (plane 15 private use): what the font's .notdef glyph looks like.
NOTDEF_PROBE = "\U000f0000"


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int

    def at(self, size: int) -> ImageFont.FreeTypeFont:
        return _load(self.path, self.index, size)


@lru_cache(maxsize=32)
def _load(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    size = int(font.size) * 2
    image = Image.new("L", (size, size))
    ImageDraw.Draw(image).text((0, 0), char, font=font, fill=255)
    return image.tobytes()


def draws_chinese(font: ImageFont.FreeTypeFont, text: str = PROBE_TEXT) -> bool:
    """Every character of `text` has a glyph of its own: drawn, and unlike the .notdef box."""
    notdef = _glyph(font, NOTDEF_PROBE)
    for char in text:
        glyph = _glyph(font, char)
        if glyph == notdef or not any(glyph):
            return False
    return True


def _faces(path: Path) -> Iterable[FontFace]:
    """The faces of a font file, the Simplified Chinese one first."""
    faces = []
    for index in range(16):  # a .ttc holds a few faces; a plain .otf/.ttf just one
        try:
            family = _load(path, index, 24).getname()[0] or ""
        except OSError:
            break
        faces.append((family != PREFERRED_FAMILY, index))
    return [FontFace(path, index) for _, index in sorted(faces)]


def _usable(path: Path) -> FontFace | None:
    if not path.is_file():
        return None
    return next((face for face in _faces(path) if draws_chinese(face.at(24))), None)


def _candidates(font_dirs: Iterable[Path]) -> Iterable[Path]:
    for name in FONT_FILES:
        for directory in font_dirs:
            if directory.is_dir():
                yield from sorted(directory.rglob(name))


@lru_cache(maxsize=4)
def find_cjk_font(explicit: Path | None, font_dirs: tuple[Path, ...] = FONT_DIRS) -> FontFace:
    """The face to draw posters in; `PosterFontMissing` (503) when there is none."""
    paths = [explicit] if explicit is not None else _candidates(font_dirs)
    for path in paths:
        face = _usable(path)
        if face is not None:
            return face
    if explicit is not None:
        raise PosterFontMissing("LIANYUN_POSTER_FONT 指定的字体文件不存在或不能显示汉字。")
    raise PosterFontMissing("服务器上没有能显示汉字的字体，请管理员安装 fonts-noto-cjk。")
