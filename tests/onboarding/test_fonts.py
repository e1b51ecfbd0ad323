from pathlib import Path

import pytest
from PIL import ImageFont

from app.onboarding import fonts, poster
from app.onboarding.errors import PosterFontMissing

POSTER_TEXT = "廉韵平昌佛楼镇三官寨村西兴镇黄柳村查补贴看政策去举报用手机扫一扫安装纪委监委"


def test_the_installed_cjk_font_draws_every_character_of_the_poster() -> None:
    face = fonts.find_cjk_font(None)
    font = face.at(96)
    assert font.getname()[0] == "Noto Sans CJK SC"  # from fonts-noto-cjk
    notdef = fonts._glyph(font, fonts.NOTDEF_PROBE)
    text = POSTER_TEXT + "".join(label + line for label, line in poster.FEATURES)
    for char in set(text) - {" ", "　"}:
        glyph = fonts._glyph(font, char)
        assert glyph != notdef and any(glyph), f"{char} is drawn as tofu"
    assert fonts.draws_chinese(font, text.replace(" ", "").replace("　", ""))


def test_a_font_without_chinese_is_recognised_as_drawing_tofu() -> None:
    latin_only = ImageFont.load_default(48)  # Pillow's own font: Latin only
    assert fonts.draws_chinese(latin_only, "ABC")
    assert not fonts.draws_chinese(latin_only, "三官寨村")


def test_no_font_at_all_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PosterFontMissing, match="fonts-noto-cjk"):
        fonts.find_cjk_font(None, (tmp_path,))
    with pytest.raises(PosterFontMissing, match="LIANYUN_POSTER_FONT"):
        fonts.find_cjk_font(tmp_path / "missing.otf")


def test_an_explicit_font_file_is_used() -> None:
    found = fonts.find_cjk_font(None)
    assert fonts.find_cjk_font(found.path) == found
